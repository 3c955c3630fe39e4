"""Staging on dbt: every kind of malformed row is quarantined with its reason, nothing is
lost (read = accepted + quarantined), and direct identifiers never leave staging in clear.

One landing zone holds the baseline plus one row per malformed case; it is loaded and built
once for the module (dbt build of staging and the DPO quarantine models, with their tests).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import re
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from privacy_pipeline.config import ENV_PSEUDONYM_KEY
from privacy_pipeline.contract import TABLE_NAMES
from privacy_pipeline.dbt_runner import run_dbt
from privacy_pipeline.landing import load_landing_zone
from privacy_pipeline.run_context import RunContext

from tests.support.landing import (
    C_PROXIMUS,
    C_SCARLET_MIGRATED,
    CELL_A1,
    EVENT_ID,
    MSISDNS,
    MUNICIPALITY,
    PARTNER_BELFIUS,
    POSTAL_A,
    PROVINCE,
    Q_GAMING_YES_NO,
    Q_MUSIC_COUNT,
    Q_SPORT_RATING,
    RUN_DATE,
    SITE_MUSIC,
    SURVEY_ID,
    consent_event,
    customer,
    landing_tables,
    ts,
    write_landing_zone,
)

KEY = "test-staging-pseudonym-key"
DBT_SELECTION = [
    "build", "--select", "staging", "quarantined_rows", "load_reconciliation",
    "--indirect-selection", "cautious",
]  # fmt: skip


def pseudonym(value: str) -> str:
    return hmac.new(KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


def traffic(customer_id=C_PROXIMUS, app=SITE_MUSIC, bytes_="100", network="mobile", at=None):
    return {"customer_id": customer_id, "observed_at": at or ts(12), "network": network,
            "app_or_site": app, "bytes": bytes_}  # fmt: skip


def call(started=None, ended=None, direction="outgoing", number="+32470999999"):
    return {"customer_id": C_PROXIMUS, "started_at": started or ts(10),
            "ended_at": ended or ts(10, 2), "called_number": number,
            "direction": direction}  # fmt: skip


def response(response_id, question_id, answer, customer_id=C_PROXIMUS):
    return {"response_id": response_id, "customer_id": customer_id, "question_id": question_id,
            "answer": answer, "answered_at": ts(9)}  # fmt: skip


def question(question_id, interest, answer_kind="yes_no"):
    return {"question_id": question_id, "survey_id": SURVEY_ID, "text": "?", "interest": interest,
            "answer_kind": answer_kind}  # fmt: skip


def contest(contest_id, theme):
    return {"contest_id": contest_id, "name": "?", "theme": theme, "partner_id": None,
            "starts_at": ts(0), "ends_at": ts(23)}  # fmt: skip


def line(customer_id, msisdn, valid_from, valid_to=None):
    return {"customer_id": customer_id, "msisdn": msisdn, "valid_from": valid_from,
            "valid_to": valid_to}  # fmt: skip


CONFLICT_MSISDN = "+32470777777"
# A customer's number and e-mail inside a sentence (+32470000001, c001@example.be).
FREE_TEXT_ANSWER = "Call me on +32 470 00 00 01 or at c001@example.be, after 6 pm please"
MASKED_ANSWER = "Call me on [phone] or at [e-mail] after 6 pm please"
SHARED_MSISDN = "+32470555555"
# customer_lines: L_TWO has two phones; REASSIGNED goes from L_OLD to L_NEW on D at 12:00;
# RETURNED was L_OLD's until 2026-01-01 and nobody's since; OVERLAPPING is listed for both.
L_TWO, L_OLD, L_NEW = "L_TWO", "L_OLD", "L_NEW"
LINE_1, LINE_2 = "+32470100001", "+32470100002"
REASSIGNED, RETURNED, OVERLAPPING = "+32470100003", "+32470100004", "+32470100005"
REASSIGNED_AT = ts(12)
L_OLD_CRM_NUMBER = "+32470100009"
L_CRM_TWO, CRM_LINE_1, CRM_LINE_2 = "L_CRM_TWO", "+32470100021", "+32470100022"

# (table, rows appended to the baseline, {reason: count} expected in the quarantine)
CASES: list[tuple[str, list[dict], dict[str, int]]] = [
    ("customers", [customer("X_NO_OFFSET", created_at="2026-06-01T10:00:00")],
     {"unparseable_timestamp:created_at": 1}),
    ("customers", [customer("X_BAD_TS", closed_at="31/05/2026")],
     {"unparseable_timestamp:closed_at": 1}),
    ("customers", [customer("X_BRAND", brand="orange")], {"unknown_enum:brand": 1}),
    ("customers", [customer("X_MSISDN", msisdn="0470 12 34 56")], {"invalid_msisdn:msisdn": 1}),
    ("customers", [customer("", postal_code="9999")], {"missing_value:customer_id": 1}),
    ("customers", [customer("X_POSTAL", postal_code="10000")],
     {"invalid_postal_code:postal_code": 1}),
    ("customers", [customer("X_BIRTH", birth_year="nineteen")], {"invalid_integer:birth_year": 1}),
    ("customers", [customer("X_OLD", birth_year=1850)], {"out_of_range:birth_year": 1}),
    ("customers", [customer("X_CLOSED", closed_at="2019-01-01T00:00:00Z")],
     {"invalid_interval:closed_at": 1}),
    ("customers", [customer("X_CONFLICT", msisdn=CONFLICT_MSISDN, postal_code="2000"),
                   customer("X_CONFLICT", msisdn=CONFLICT_MSISDN, postal_code="2018")],
     {"duplicate_key_conflict": 2}),
    ("customers", [customer("X_EXACT", msisdn="+32470666666")] * 2, {"exact_duplicate": 1}),
    ("customers", [customer("X_CASE", brand=" Scarlet ")], {}),
    # the same instant written with another offset is the same content
    ("customers", [customer("X_TZ", created_at="2020-01-15T10:00:00+01:00"),
                   customer("X_TZ", created_at="2020-01-15T09:00:00Z")], {"exact_duplicate": 1}),
    # ISO 8601's decimal comma reads like the point
    ("customers", [customer("X_COMMA", created_at="2020-01-15T10:00:00,5+01:00"),
                   customer("X_COMMA", created_at="2020-01-15T09:00:00.5Z")],
     {"exact_duplicate": 1}),
    # a malformed version of a key makes the valid one doubtful too
    ("customers", [customer("X_HALF"), customer("X_HALF", birth_year="abc")],
     {"invalid_integer:birth_year": 1, "duplicate_key_conflict": 1}),
    ("customers", [customer("X_SHARED1", msisdn=SHARED_MSISDN),
                   customer("X_SHARED2", msisdn=SHARED_MSISDN)], {}),
    ("privacy_preferences", [consent_event("PX1", "NOBODY", "direct_marketing", "opt_out")],
     {"unknown_customer": 1}),
    ("privacy_preferences", [consent_event("PX2", C_PROXIMUS, "newsletter", "opt_out")],
     {"unknown_enum:purpose": 1}),
    ("privacy_preferences", [consent_event("PX3", C_PROXIMUS, "direct_marketing", "maybe")],
     {"unknown_enum:choice": 1}),
    ("privacy_preferences",
     [consent_event("PX4", C_PROXIMUS, "direct_marketing", "opt_out", channel="fax")],
     {"unknown_enum:channel": 1}),
    ("privacy_preferences",
     [consent_event("PX5", C_PROXIMUS, "direct_marketing", "opt_out", platform="orange")],
     {"unknown_enum:platform": 1}),
    ("privacy_preferences",
     [consent_event("PX6", C_PROXIMUS, "direct_marketing", "opt_out",
                    recorded_at="2026-06-20 10:00")],
     {"unparseable_timestamp:recorded_at": 1}),
    ("privacy_preferences", [consent_event("PX7", "X_CONFLICT", "partner_offers", "opt_out")],
     {"unknown_customer": 1}),
    ("privacy_preferences", [consent_event("PX8", C_PROXIMUS, "partner_offers", "opt_in"),
                             consent_event("PX8", C_PROXIMUS, "partner_offers", "opt_out")],
     {"duplicate_key_conflict": 2}),
    ("privacy_preferences", [consent_event("PX9", C_PROXIMUS, "location_analytics", "opt_in")] * 2,
     {"exact_duplicate": 1}),
    ("privacy_preferences",
     [consent_event("PX10", C_SCARLET_MIGRATED, "partner_offers", "OPT_OUT")], {}),
    ("survey_questions",
     [{"question_id": "QX1", "survey_id": SURVEY_ID, "text": "Vote?", "interest": "Political",
       "answer_kind": "yes_no"}], {"sensitive_interest:interest": 1}),
    ("survey_questions",
     [{"question_id": "QX2", "survey_id": "S999", "text": "?", "interest": "music",
       "answer_kind": "yes_no"}], {"unknown_survey": 1}),
    ("survey_questions",
     [{"question_id": "QX3", "survey_id": SURVEY_ID, "text": "?", "interest": "music",
       "answer_kind": "free_text"}], {"unknown_enum:answer_kind": 1}),
    ("survey_responses", [response("RX1", Q_GAMING_YES_NO, "perhaps")],
     {"invalid_answer:answer": 1}),
    ("survey_responses", [response("RX2", "QX1", "yes")], {"unknown_question": 1}),
    ("survey_responses", [response("RX3", Q_MUSIC_COUNT, "-1")], {"invalid_answer:answer": 1}),
    ("survey_responses", [response("RX4", Q_SPORT_RATING, "6")], {"invalid_answer:answer": 1}),
    ("survey_responses", [response("RX5", Q_GAMING_YES_NO, "no", customer_id="NOBODY")],
     {"unknown_customer": 1}),
    ("survey_responses", [response("RX6", Q_GAMING_YES_NO, "YES")], {}),
    ("survey_responses", [response("RX7", Q_MUSIC_COUNT, FREE_TEXT_ANSWER)],
     {"invalid_answer:answer": 1}),
    ("survey_responses", [response("RX8", Q_MUSIC_COUNT, "32 470 00 00 02, not 470000003")],
     {"invalid_answer:answer": 1}),
    # a long numeric customer number is an id, not a phone number: kept for the DPO
    ("customers", [customer("1234567890", brand="orange")], {"unknown_enum:brand": 1}),
    ("contests",
     [{"contest_id": "KX1", "name": "Pilgrimage", "theme": "religious", "partner_id": None,
       "starts_at": ts(0), "ends_at": ts(23)}], {"sensitive_interest:theme": 1}),
    ("contests",
     [{"contest_id": "KX2", "name": "?", "theme": "music", "partner_id": "P999",
       "starts_at": ts(0), "ends_at": ts(23)}], {"unknown_partner": 1}),
    ("contests",
     [{"contest_id": "KX3", "name": "?", "theme": "music", "partner_id": PARTNER_BELFIUS,
       "starts_at": ts(23), "ends_at": ts(0)}], {"invalid_interval:ends_at": 1}),
    ("contest_entries",
     [{"entry_id": "NX1", "customer_id": C_PROXIMUS, "contest_id": "KX1", "entered_at": ts(9)}],
     {"unknown_contest": 1}),
    ("partners", [{"partner_id": "PX_SENS", "name": "Party", "target_interest": "political"}],
     {"sensitive_interest:target_interest": 1}),
    ("site_catalogue", [{"app_or_site": "conflict.example", "category": "music"},
                        {"app_or_site": "conflict.example", "category": "sexual"}],
     {"duplicate_key_conflict": 2}),
    ("traffic_events", [traffic(app="dup.example")] * 2, {"exact_duplicate": 1}),
    ("traffic_events", [traffic(app="neg.example", bytes_="-5")], {"out_of_range:bytes": 1}),
    ("traffic_events", [traffic(app="dec.example", bytes_="12.5")], {"invalid_integer:bytes": 1}),
    ("traffic_events", [traffic(network="satellite")], {"unknown_enum:network": 1}),
    ("traffic_events", [traffic(customer_id="NOBODY")], {"unknown_customer": 1}),
    ("traffic_events", [traffic(app="not-in-catalogue.example")], {}),
    ("call_records", [call(started=ts(11), ended=ts(10), number="+32 470 99 99 99")],
     {"invalid_interval:ended_at": 1}),
    ("call_records", [call(direction="sideways")], {"unknown_enum:direction": 1}),
    ("device_observations",
     [{"customer_id": C_PROXIMUS, "observed_at": ts(9), "kind": "tablet", "model": "iPad"}],
     {"unknown_enum:kind": 1}),
    ("network_events", [{"msisdn": "+32499999999", "cell_id": CELL_A1, "event_at": ts(9)}],
     {"unknown_msisdn": 1}),
    ("network_events", [{"msisdn": "0470000001", "cell_id": CELL_A1, "event_at": ts(9)}],
     {"invalid_msisdn:msisdn": 1}),
    ("network_events",
     [{"msisdn": MSISDNS[C_PROXIMUS], "cell_id": "CELL-ZZ", "event_at": ts(9)}],
     {"unknown_cell": 1}),
    ("network_events",
     [{"msisdn": MSISDNS[C_PROXIMUS], "cell_id": CELL_A1, "event_at": "2026-06-20T09:00:00"}],
     {"unparseable_timestamp:event_at": 1}),
    ("network_events", [{"msisdn": CONFLICT_MSISDN, "cell_id": CELL_A1, "event_at": ts(9)}],
     {"unknown_msisdn": 1}),
    ("network_events", [{"msisdn": SHARED_MSISDN, "cell_id": CELL_A1, "event_at": ts(9)}],
     {"ambiguous_msisdn": 1}),
    ("cells",
     [{"cell_id": "CX1", "postal_code": "2000", "municipality": "A", "province": "A", "lat": "abc",
       "lon": "4.4"}], {"invalid_number:lat": 1}),
    ("cells",
     [{"cell_id": "CX2", "postal_code": "2000", "municipality": "A", "province": "A", "lat": "95",
       "lon": "4.4"}], {"out_of_range:lat": 1}),
    ("cells",
     [{"cell_id": "CX3", "postal_code": "ABCD", "municipality": "A", "province": "A", "lat": "51",
       "lon": "4.4"}], {"invalid_postal_code:postal_code": 1}),
    # an area name is published as delivered: one holding a phone number is quarantined
    ("cells",
     [{"cell_id": "CX4", "postal_code": "2000", "municipality": "Antwerpen 0470 12 34 56",
       "province": "A", "lat": "51", "lon": "4.4"}], {"contact_details:municipality": 1}),
    # a control character in an area name (chr(31) joins a figure's key parts, a newline
    # breaks a CSV) is quarantined, in any published text column
    ("cells",
     [{"cell_id": "CX9", "postal_code": "2000", "municipality": "Antwerpen\x1fNoord",
       "province": "A", "lat": "51", "lon": "4.4"},
      {"cell_id": "CX10", "postal_code": "2000", "municipality": "A",
       "province": "Antwerpen\nWest", "lat": "51", "lon": "4.4"}],
     {"control_character:municipality": 1, "control_character:province": 1}),
    # areas must nest: the parent named by most of a child's cells wins, a tie trusts none
    ("cells",
     [{"cell_id": "CX5", "postal_code": POSTAL_A, "municipality": "Berchem",
       "province": PROVINCE, "lat": "51.2", "lon": "4.4"}], {"area_conflict:municipality": 1}),
    ("network_events", [{"msisdn": MSISDNS[C_PROXIMUS], "cell_id": "CX5", "event_at": ts(9)}],
     {"unknown_cell": 1}),
    ("cells",
     [{"cell_id": "CX6", "postal_code": "9000", "municipality": "Gent",
       "province": "Oost-Vlaanderen", "lat": "51.05", "lon": "3.72"},
      {"cell_id": "CX7", "postal_code": "9000", "municipality": "Gentbrugge",
       "province": "Oost-Vlaanderen", "lat": "51.04", "lon": "3.75"}],
     {"area_conflict:municipality": 2}),
    ("cells",
     [{"cell_id": "CX8", "postal_code": "2060", "municipality": MUNICIPALITY,
       "province": "Limburg", "lat": "51.22", "lon": "4.43"}], {"area_conflict:province": 1}),
    ("events", [{"event_id": "EX1", "name": "?", "starts_at": ts(23), "ends_at": ts(1)}],
     {"invalid_interval:ends_at": 1}),
    ("event_cells", [{"event_id": "E999", "cell_id": CELL_A1}], {"unknown_event": 1}),
    ("event_cells", [{"event_id": EVENT_ID, "cell_id": "CELL-ZZ"}], {"unknown_cell": 1}),
    ("event_cells", [{"event_id": EVENT_ID, "cell_id": CELL_A1}], {"exact_duplicate": 1}),
    # --- closed vocabularies read generously (docs/data-contract.md, normalisation)
    ("survey_questions", [question("QV1", "politics"), question("QV2", "Religion"),
                          question("QV3", "pol\u200bitical"), question("QV4", " ADULT\t"),
                          question("QV5", "Political-News")],
     {"sensitive_interest:interest": 5}),
    ("survey_questions", [question("QV6", "astrology")], {"unknown_interest:interest": 1}),
    ("survey_questions", [question("QV7", "=2+3")], {"invalid_interest:interest": 1}),
    ("survey_questions", [question("QV8", "Ｇａｍｉｎｇ\u00a0"),
                          question("QV9", "home office", answer_kind="Yes-No")], {}),
    ("contests", [contest("KV1", "porn"), contest("KV2", "Sex\u200b")],
     {"sensitive_interest:theme": 2}),
    ("partners", [{"partner_id": "PV1", "name": "Tab", "target_interest": "religious\t"},
                  {"partner_id": "PV2", "name": "Case", "target_interest": "POLITICS"}],
     {"sensitive_interest:target_interest": 2}),
    ("partners", [{"partner_id": "PV3", "name": "Stars", "target_interest": "horoscopes"}],
     {"unknown_interest:target_interest": 1}),
    ("site_catalogue", [{"app_or_site": "adult-2.example", "category": " Adult\t"},
                        {"app_or_site": "zw.example", "category": "reli\u200bgion"},
                        {"app_or_site": "politics.example", "category": "POLITICS"},
                        {"app_or_site": "tunes.example", "category": "MUSIC"}], {}),
    ("site_catalogue", [{"app_or_site": "weather.example", "category": "weather"}],
     {"unknown_interest:category": 1}),
    ("privacy_preferences",
     [consent_event("PV1", C_PROXIMUS, "direct_marketing", "opt-out"),
      consent_event("PV2", C_PROXIMUS, "direct_marketing", "OPT OUT"),
      consent_event("PV3", C_PROXIMUS, "direct_marketing", "opt_out\t"),
      consent_event("PV4", C_PROXIMUS, "direct_marketing", "opt\u200b_out"),
      consent_event("PV5", C_PROXIMUS, "Direct Marketing", "Opt Out", channel="MyScarlet-Web",
                    platform="PROXIMUS\u00a0"),
      # a refusal's customer number as the customer wrote it: matched generously
      consent_event("PV6", "c001", "partner_offers", "opt_out"),
      consent_event("PV7", "C-001 ", "location_analytics", "opt_out"),
      consent_event("PV8", "c 0 0 1", "direct_marketing", "OPT-OUT"),
      # accents and a look-alike letter of another script (Cyrillic о): still refusals
      consent_event("PVA1", C_PROXIMUS, "direct_marketing", "Öpt-Oüt"),
      consent_event("PVA2", C_PROXIMUS, "Dir\u0435ct Marketing", "\u043ept_out")], {}),
    # a consent must name its customer exactly
    ("privacy_preferences", [consent_event("PV9", "c001", "partner_offers", "opt_in")],
     {"unknown_customer": 1}),
    # a generous match must point to exactly one customer: AB-1 and AB_1 both read ab1
    ("customers",
     [customer("AB-1", msisdn="+32470100011"), customer("AB_1", msisdn="+32470100012")], {}),
    ("privacy_preferences", [consent_event("PV10", "ab 1", "direct_marketing", "opt_out")],
     {"ambiguous_customer": 1}),
    # --- identifiers in a safe format (no formula, no control character)
    ("customers", [customer('=HYPERLINK("http://x.example","x")')],
     {"invalid_identifier:customer_id": 1}),
    ("privacy_preferences",
     [consent_event("PV11", "=HYPERLINK(1)", "direct_marketing", "opt_out"),
      consent_event("+cmd|' /C calc'!A0", C_PROXIMUS, "direct_marketing", "opt_out")],
     {"invalid_identifier:customer_id": 1, "invalid_identifier:event_id": 1}),
    ("partners", [{"partner_id": "+cmd|' /C calc'!A0", "name": "Evil", "target_interest": None}],
     {"invalid_identifier:partner_id": 1}),
    ("survey_questions", [question("@SUM(1+1)", "music")], {"invalid_identifier:question_id": 1}),
    ("traffic_events", [traffic(customer_id="-2+3")], {"invalid_identifier:customer_id": 1}),
    ("network_events", [{"msisdn": MSISDNS[C_PROXIMUS], "cell_id": "CELL\tA1",
                         "event_at": ts(9)}], {"invalid_identifier:cell_id": 1}),
    # --- several lines per customer, numbers reassigned (customer_lines)
    ("customers", [customer(L_TWO), customer(L_OLD, msisdn=L_OLD_CRM_NUMBER), customer(L_NEW)],
     {}),
    ("customer_lines",
     [line(L_TWO, LINE_1, "2020-01-01T00:00:00Z"), line(L_TWO, LINE_2, "2024-05-01T00:00:00Z"),
      line(L_OLD, REASSIGNED, "2020-01-01T00:00:00Z", REASSIGNED_AT),
      line(L_NEW, REASSIGNED, REASSIGNED_AT),
      line(L_OLD, RETURNED, "2020-01-01T00:00:00Z", "2026-01-01T00:00:00Z"),
      line(L_OLD, OVERLAPPING, "2020-01-01T00:00:00Z"),
      line(L_NEW, OVERLAPPING, "2026-01-01T00:00:00Z")], {}),
    ("customer_lines", [line(L_TWO, "+32470100099", "2026-01-01T00:00:00Z",
                             "2025-01-01T00:00:00Z"),
                        line("NOBODY", "+32470100098", "2020-01-01T00:00:00Z")],
     {"invalid_interval:valid_to": 1, "unknown_customer": 1}),
    ("network_events",
     [{"msisdn": LINE_1, "cell_id": CELL_A1, "event_at": ts(9)},
      {"msisdn": LINE_2, "cell_id": CELL_A1, "event_at": ts(9, 30)},
      {"msisdn": REASSIGNED, "cell_id": CELL_A1, "event_at": ts(11, 59)},
      {"msisdn": REASSIGNED, "cell_id": CELL_A1, "event_at": ts(12)},
      {"msisdn": REASSIGNED, "cell_id": CELL_A1, "event_at": ts(13)}], {}),
    ("network_events", [{"msisdn": RETURNED, "cell_id": CELL_A1, "event_at": ts(9)}],
     {"msisdn_not_held_at_event_time": 1}),
    ("network_events", [{"msisdn": OVERLAPPING, "cell_id": CELL_A1, "event_at": ts(9)}],
     {"ambiguous_msisdn": 1}),
    # two CRM rows of one customer that differ only by the number: one customer, two lines
    ("customers", [customer(L_CRM_TWO, msisdn=CRM_LINE_1), customer(L_CRM_TWO, msisdn=CRM_LINE_2)],
     {"additional_line": 1}),
    ("network_events", [{"msisdn": CRM_LINE_1, "cell_id": CELL_A1, "event_at": ts(9)},
                        {"msisdn": CRM_LINE_2, "cell_id": CELL_A1, "event_at": ts(10)}], {}),
    # a customer with listed lines holds those only: its CRM number is not one of them
    ("network_events", [{"msisdn": L_OLD_CRM_NUMBER, "cell_id": CELL_A1, "event_at": ts(9)}],
     {"unknown_msisdn": 1}),
]  # fmt: skip

UNREADABLE_LINE = "C001,2026-06-20T10:00:00+02:00,mobile,spotify.com,12,one,too,many\n"


def malformed_tables() -> dict[str, list[dict]]:
    tables: dict[str, list[dict]] = {}
    for table_name, rows, _ in CASES:
        tables.setdefault(f"+{table_name}", []).extend(rows)
    return tables


def expected_quarantine() -> Counter:
    expected: Counter = Counter()
    for table_name, _, reasons in CASES:
        for reason, count in reasons.items():
            expected[(table_name, reason)] += count
    expected[("traffic_events", "unreadable_csv_line")] += 1
    return expected


def build(landing: Path, warehouse: Path) -> tuple[RunContext, duckdb.DuckDBPyConnection]:
    previous_key = os.environ.get(ENV_PSEUDONYM_KEY)
    os.environ[ENV_PSEUDONYM_KEY] = KEY
    try:
        ctx = RunContext.create(landing, warehouse, RUN_DATE)
        load_landing_zone(ctx)
        run_dbt(ctx, DBT_SELECTION)
    finally:
        if previous_key is None:
            os.environ.pop(ENV_PSEUDONYM_KEY, None)
        else:
            os.environ[ENV_PSEUDONYM_KEY] = previous_key
    return ctx, duckdb.connect(str(ctx.candidate_db), read_only=True)


@pytest.fixture(scope="module")
def staged(tmp_path_factory):
    root = tmp_path_factory.mktemp("staging")
    landing = write_landing_zone(root / "landing", malformed_tables())
    with (landing / "traffic_events.csv").open("a") as fh:
        fh.write(UNREADABLE_LINE)
    ctx, con = build(landing, root / "warehouse")
    yield {"ctx": ctx, "con": con, "tables": landing_tables(malformed_tables())}
    con.close()


FRACTIONAL_BYTES_SITE = "fraction.example"


@pytest.fixture(scope="module")
def staged_parquet(tmp_path_factory):
    root = tmp_path_factory.mktemp("staging-parquet")
    landing = write_landing_zone(root / "landing", fmt="parquet-folder")
    # bytes as a float column, as pandas writes integers with nulls
    part = landing / "traffic_events" / "part-1.parquet"
    floats = root / "floats.parquet"
    delivered = f"read_parquet('{part}')"
    duckdb.execute(
        f"""
        copy (
            select customer_id, observed_at, network, app_or_site, cast(bytes as double) as bytes
            from {delivered}
            union all
            (select customer_id, observed_at, network, '{FRACTIONAL_BYTES_SITE}', 12.5
             from {delivered} limit 1)
        ) to '{floats}' (format parquet)
        """
    )
    floats.replace(part)
    ctx, con = build(landing, root / "warehouse")
    yield con
    con.close()


def rows(con, sql, params=None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


# ------------------------------------------------------------------ quarantine and counts


def test_every_malformed_row_is_quarantined_with_its_reason_and_nothing_else(staged):
    found = Counter(
        {
            (t, r): n
            for t, r, n in rows(
                staged["con"],
                "select source_table, reason, count(*) from dpo_restricted.quarantined_rows "
                "group by all",
            )
        }  # fmt: skip
    )
    assert found == expected_quarantine()


def test_rows_read_equal_rows_accepted_plus_rows_quarantined_for_every_table(staged):
    reconciliation = {
        table: (read, accepted, quarantined)
        for table, read, accepted, quarantined in rows(
            staged["con"],
            "select source_table, rows_read, rows_accepted, rows_quarantined "
            "from dpo.load_reconciliation",
        )
    }
    assert set(reconciliation) == set(TABLE_NAMES)
    expected = expected_quarantine()
    for table_name, delivered in staged["tables"].items():
        read, accepted, quarantined = reconciliation[table_name]
        unreadable = 1 if table_name == "traffic_events" else 0
        assert read == len(delivered) + unreadable, table_name
        assert quarantined == sum(n for (t, _), n in expected.items() if t == table_name)
        assert read == accepted + quarantined, table_name


def position(rows_of_table: list[dict], wanted: dict) -> int:
    """1-based row number of the first delivered row with the ``wanted`` values."""
    return 1 + next(
        i for i, row in enumerate(rows_of_table) if all(row.get(k) == v for k, v in wanted.items())
    )


def test_quarantine_keeps_source_file_run_date_row_number_and_the_row(staged):
    con = staged["con"]
    run_dates = rows(con, "select distinct run_date from dpo_restricted.quarantined_rows")
    assert run_dates == [(dt.date.fromisoformat(RUN_DATE),)]
    (row_data, source_file) = rows(
        con, "select row_data, source_file from dpo_restricted.quarantined_rows "
        "where reason = 'unknown_enum:purpose'")[0]  # fmt: skip
    assert source_file == "privacy_preferences.csv"
    ledger = staged["tables"]["privacy_preferences"]
    assert json.loads(row_data) == {
        "row_number": position(ledger, {"event_id": "PX2"}),
        "event_id": "PX2", "customer_id": C_PROXIMUS, "purpose": "newsletter",
        "choice": "opt_out", "channel": "myscarlet_web", "platform": "proximus",
        "recorded_at": "2026-05-01T12:00:00+02:00",
    }  # fmt: skip
    line = json.loads(rows(con, "select row_data from dpo_restricted.quarantined_rows "
                                "where reason = 'unreadable_csv_line'")[0][0])  # fmt: skip
    assert line == {"line": len(staged["tables"]["traffic_events"]) + 2,
                    "error_type": "TOO MANY COLUMNS"}  # fmt: skip


def test_free_text_is_masked_span_by_span_and_the_rest_is_kept(staged):
    (row_data,) = rows(staged["con"], "select row_data from dpo_restricted.quarantined_rows "
                                      "where row_data like '%RX7%'")[0]  # fmt: skip
    assert json.loads(row_data)["answer"] == MASKED_ANSWER.replace(" after", ", after")
    # numbers written without their prefix, in free text only
    (row_data,) = rows(staged["con"], "select row_data from dpo_restricted.quarantined_rows "
                                      "where row_data like '%RX8%'")[0]  # fmt: skip
    assert json.loads(row_data)["answer"] == "[phone], not [phone]"
    (row_data,) = rows(staged["con"], "select row_data from dpo_restricted.quarantined_rows "
                                      "where row_data like '%1234567890%'")[0]  # fmt: skip
    assert json.loads(row_data)["customer_id"] == "1234567890"


def quarantined_values(con) -> list[str]:
    values = []
    for (row_data,) in rows(con, "select row_data from dpo_restricted.quarantined_rows"):
        values += [str(v) for v in json.loads(row_data).values() if v is not None]
    return values


def test_no_direct_identifier_in_the_quarantine(staged):
    values = quarantined_values(staged["con"])
    customers = staged["tables"]["customers"]
    names = {row["full_name"] for row in customers} | {row["email"] for row in customers}
    numbers = {row["msisdn"] for row in customers if row.get("msisdn")}
    numbers |= {row["msisdn"] for row in staged["tables"]["network_events"]}
    numbers |= {row["called_number"] for row in staged["tables"]["call_records"]}
    forms = set()
    for number in numbers:
        compact = re.sub(r"[\s./()-]", "", number)
        forms |= {compact, "0" + compact[3:] if compact.startswith("+32") else compact}
    for value in values:
        assert "@" not in value and not any(name in value for name in names), value
        compact = re.sub(r"[\s./()-]", "", value)
        assert not any(form in compact for form in forms), value


# (table, reason, the delivered values that identify the row among the table's rows)
EVENT_ROWS = [
    ("network_events", "unknown_msisdn", {"msisdn": "+32499999999"}),
    ("network_events", "unknown_msisdn", {"msisdn": CONFLICT_MSISDN}),
    ("network_events", "invalid_msisdn:msisdn", {"msisdn": "0470000001"}),
    ("network_events", "unknown_cell", {"cell_id": "CELL-ZZ"}),
    ("network_events", "unparseable_timestamp:event_at", {"event_at": "2026-06-20T09:00:00"}),
    ("traffic_events", "out_of_range:bytes", {"app_or_site": "neg.example"}),
    ("traffic_events", "unknown_customer", {"customer_id": "NOBODY"}),
    ("call_records", "invalid_interval:ended_at", {"called_number": "+32 470 99 99 99"}),
    ("device_observations", "unknown_enum:kind", {"kind": "tablet"}),
]


@pytest.mark.parametrize(("table_name", "reason", "wanted"), EVENT_ROWS)
def test_quarantined_event_rows_are_only_a_file_and_a_row_number(staged, table_name, reason,
                                                                 wanted):  # fmt: skip
    found = rows(staged["con"], "select source_file, row_data from dpo_restricted.quarantined_rows "
                                "where source_table = ? and reason = ?",
                 [table_name, reason])  # fmt: skip
    expected = {"row_number": position(staged["tables"][table_name], wanted)}
    assert (f"{table_name}.csv", expected) in [(f, json.loads(data)) for f, data in found]


def test_every_quarantined_event_row_holds_no_content(staged):
    contents = rows(staged["con"], "select distinct row_data from dpo_restricted.quarantined_rows "
                                   "where source_table in ('network_events', 'traffic_events', "
                                   "'call_records', 'device_observations')")  # fmt: skip
    for (row_data,) in contents:
        assert set(json.loads(row_data)) <= {"row_number", "line", "error_type"}, row_data


def test_quarantined_identifiers_are_pseudonymised_not_dropped(staged):
    con = staged["con"]
    customer_row = json.loads(rows(con, "select row_data from dpo_restricted.quarantined_rows "
                                        "where reason = 'unknown_enum:brand'")[0][0])  # fmt: skip
    assert "full_name" not in customer_row and "email" not in customer_row
    assert customer_row["msisdn_pseudonym"] is None  # the baseline helper gives no msisdn
    wrong_number = json.loads(rows(con, "select row_data from dpo_restricted.quarantined_rows "
                                        "where reason = 'invalid_msisdn:msisdn' "
                                        "and source_table = 'customers'")[0][0])  # fmt: skip
    assert wrong_number["msisdn_pseudonym"] == pseudonym("0470 12 34 56")


# ------------------------------------------------------------------ accepted rows


def test_customers_are_typed_deduplicated_and_without_clear_identifiers(staged):
    con = staged["con"]
    columns = [c for c, *_ in rows(con, "describe staging.stg_crm__customers")]
    assert columns == ["customer_id", "brand", "msisdn_pseudonym", "postal_code", "birth_year",
                       "created_at", "closed_at", "migrated_at"]  # fmt: skip
    by_id = {r[0]: r for r in rows(con, "select * from staging.stg_crm__customers")}
    assert set(by_id) == {"C001", "C002", "C003", "C004", "X_EXACT", "X_CASE", "X_SHARED1",
                          "X_SHARED2", "X_TZ", "X_COMMA", L_TWO, L_OLD, L_NEW, "AB-1", "AB_1",
                          L_CRM_TWO}  # fmt: skip
    assert by_id["X_CASE"][1] == "scarlet"
    assert by_id[C_PROXIMUS][2] == pseudonym(MSISDNS[C_PROXIMUS])
    types = dict(rows(con, "select column_name, data_type from information_schema.columns "
                           "where table_name = 'stg_crm__customers'"))  # fmt: skip
    assert types["created_at"] == "TIMESTAMP WITH TIME ZONE" and types["birth_year"] == "BIGINT"
    migrated = rows(con, "select migrated_at = timestamptz '2026-03-01 08:00:00+00' "
                         "from staging.stg_crm__customers where customer_id = 'C002'")  # fmt: skip
    assert migrated == [(True,)]
    comma = rows(con, "select created_at = timestamptz '2020-01-15 09:00:00.5+00' "
                      "from staging.stg_crm__customers where customer_id = 'X_COMMA'")  # fmt: skip
    assert comma == [(True,)]


def test_consent_enum_values_are_normalised(staged):
    assert rows(staged["con"], "select choice from staging.stg_consent__privacy_preferences "
                               "where event_id = 'PX10'") == [("opt_out",)]  # fmt: skip


def test_refusals_in_any_spelling_are_read_and_their_customer_number_matched_generously(staged):
    read = rows(staged["con"], "select event_id, customer_id, purpose, choice, channel, platform "
                               "from staging.stg_consent__privacy_preferences "
                               "where event_id like 'PV%' order by event_id")  # fmt: skip
    assert read == [
        ("PV1", C_PROXIMUS, "direct_marketing", "opt_out", "myscarlet_web", "proximus"),
        ("PV2", C_PROXIMUS, "direct_marketing", "opt_out", "myscarlet_web", "proximus"),
        ("PV3", C_PROXIMUS, "direct_marketing", "opt_out", "myscarlet_web", "proximus"),
        ("PV4", C_PROXIMUS, "direct_marketing", "opt_out", "myscarlet_web", "proximus"),
        ("PV5", C_PROXIMUS, "direct_marketing", "opt_out", "myscarlet_web", "proximus"),
        ("PV6", C_PROXIMUS, "partner_offers", "opt_out", "myscarlet_web", "proximus"),
        ("PV7", C_PROXIMUS, "location_analytics", "opt_out", "myscarlet_web", "proximus"),
        ("PV8", C_PROXIMUS, "direct_marketing", "opt_out", "myscarlet_web", "proximus"),
        ("PVA1", C_PROXIMUS, "direct_marketing", "opt_out", "myscarlet_web", "proximus"),
        ("PVA2", C_PROXIMUS, "direct_marketing", "opt_out", "myscarlet_web", "proximus"),
    ]


def test_interests_are_read_normalised_and_only_from_the_allow_list(staged):
    sql = "select question_id, interest from staging.stg_engagement__survey_questions"
    interests = dict(rows(staged["con"], sql))
    assert interests["QV8"] == "gaming" and interests["QV9"] == "home_office"
    assert not {"QV1", "QV2", "QV3", "QV4", "QV5", "QV6", "QV7"} & set(interests)


def test_network_events_resolve_the_customer_and_drop_the_number(staged):
    con = staged["con"]
    columns = [c for c, *_ in rows(con, "describe staging.stg_network__network_events")]
    assert columns == ["customer_id", "cell_id", "event_at"]
    resolved = rows(con, "select customer_id, count(*) from staging.stg_network__network_events "
                         "group by 1 order by 1")  # fmt: skip
    assert resolved == [("C001", 2), ("C002", 1), ("C003", 1), (L_CRM_TWO, 2), (L_NEW, 2),
                        (L_OLD, 1), (L_TWO, 2)]  # fmt: skip


def test_a_network_event_maps_to_whoever_held_its_number_at_its_instant(staged):
    sql = ("select customer_id, event_at from staging.stg_network__network_events "
           "where customer_id in (?, ?) order by event_at")  # fmt: skip
    held = rows(staged["con"], sql, [L_OLD, L_NEW])
    at = {event_at: customer_id for customer_id, event_at in held}
    assert [at[dt.datetime.fromisoformat(ts(h, m))] for h, m in [(11, 59), (12, 0), (13, 0)]] == [
        L_OLD,
        L_NEW,
        L_NEW,
    ]
    lines = rows(staged["con"], "select customer_id, msisdn_pseudonym, valid_to is null "
                                "from staging.stg_crm__customer_lines order by all")  # fmt: skip
    assert (L_TWO, pseudonym(LINE_1), True) in lines and (L_TWO, pseudonym(LINE_2), True) in lines
    assert (L_OLD, pseudonym(REASSIGNED), False) in lines
    assert not any(LINE_1 in str(row) for row in lines)


def test_call_records_pseudonymise_the_called_number_and_compute_the_duration(staged):
    con = staged["con"]
    columns = [c for c, *_ in rows(con, "describe staging.stg_network__call_records")]
    assert columns == ["customer_id", "started_at", "ended_at", "duration_seconds",
                       "called_number_pseudonym", "direction"]  # fmt: skip
    first = rows(con, "select duration_seconds, called_number_pseudonym "
                      "from staging.stg_network__call_records "
                      "where customer_id = 'C001' and direction = 'outgoing' "
                      "order by started_at limit 1")  # fmt: skip
    assert first == [(300, pseudonym("+32470000099"))]


def test_site_catalogue_flags_sensitive_categories_from_config(staged):
    flags = dict(rows(staged["con"], "select category, is_sensitive "
                                     "from staging.stg_reference__site_catalogue"))  # fmt: skip
    assert flags == {"music": False, "gaming": False, "sport": False, "sexual": True,
                     "religious": True, "political": True, "adult": True, "religion": True,
                     "politics": True}  # fmt: skip
    sites = dict(rows(staged["con"], "select app_or_site, is_sensitive "
                                     "from staging.stg_reference__site_catalogue"))  # fmt: skip
    assert sites["adult-2.example"] and sites["zw.example"] and sites["politics.example"]
    assert sites["tunes.example"] is False


def test_traffic_outside_the_catalogue_is_kept_and_duplicates_count_once(staged):
    sql = "select app_or_site, count(*) from staging.stg_network__traffic_events group by 1"
    counts = dict(rows(staged["con"], sql))
    assert counts["not-in-catalogue.example"] == 1
    assert counts["dup.example"] == 1


def test_survey_answers_fit_their_kind_and_get_a_value(staged):
    values = dict(rows(staged["con"], "select response_id, answer_value "
                                      "from staging.stg_engagement__survey_responses"))  # fmt: skip
    assert values == {"R001": 4, "R002": 1, "R003": 5, "RX6": 1}


def test_pseudonym_key_is_never_written_to_disk(staged):
    run_dir = staged["ctx"].run_dir
    for path in run_dir.rglob("*"):
        if path.is_file() and not path.name.endswith((".duckdb", ".wal")):
            assert KEY.encode() not in path.read_bytes(), path


# ------------------------------------------------------------------ Parquet


def test_typed_parquet_stages_like_csv(staged, staged_parquet):
    for model in ["stg_crm__customers", "stg_network__network_events", "stg_network__call_records",
                  "stg_reference__cells", "stg_engagement__survey_responses"]:  # fmt: skip
        from_parquet = set(rows(staged_parquet, f"select * from staging.{model}"))
        from_csv = set(rows(staged["con"], f"select * from staging.{model}"))
        assert from_parquet and from_parquet <= from_csv, model
    quarantined = rows(staged_parquet, "select source_table, source_file, reason, row_data "
                                       "from dpo_restricted.quarantined_rows")  # fmt: skip
    assert [(t, f, r) for t, f, r, _ in quarantined] == [
        ("traffic_events", "traffic_events/part-1.parquet", "invalid_integer:bytes")
    ]
    # the fractional row is the last of part-1 (file_row_number counts from 0)
    (last_row,) = rows(staged_parquet,
                       "select count(*) from staging.base_network__traffic_events "
                       "where _source_file = 'traffic_events/part-1.parquet'")[0]  # fmt: skip
    assert json.loads(quarantined[0][3]) == {"row_number": last_row}
    sources = rows(staged_parquet, "select distinct _source_file from staging.base_crm__customers "
                                   "order by 1")  # fmt: skip
    assert sources == [("customers/part-0.parquet",), ("customers/part-1.parquet",)]
