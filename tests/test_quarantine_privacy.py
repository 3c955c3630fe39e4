"""A bad row never leaks and never blocks the night (issue #9, items 1 and 4).

One real DAG run on the baseline landing zone plus deliberately bad rows:

- event rows that are quarantined (an unknown number moving between cells, traffic of an
  unknown customer to a telling site, a call with an impossible interval, an unknown
  device kind): none of their content may appear in warehouse.duckdb, under exports/,
  in the reports, or in the DPO's restricted store, which keeps file, row number and reason;
- a survey answer holding a customer's phone number and e-mail inside a sentence, and an
  area name holding a phone number: the run still publishes, the numbers appear nowhere,
  the DPO's store keeps the sentence with the number masked.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import duckdb
import pytest
from privacy_pipeline.config import ENV_PSEUDONYM_KEY
from privacy_pipeline.contract import EVENT_TABLES
from privacy_pipeline.pseudonyms import pseudonym
from privacy_pipeline.restricted import RESTRICTED_TABLES, restricted_db

from tests.support.landing import (
    C_PROXIMUS,
    CELL_A1,
    CELL_A2,
    Q_MUSIC_COUNT,
    RUN_DATE,
    consent_event,
    landing_tables,
    ts,
    write_landing_zone,
)
from tests.support.pipeline import query, run_pipeline

KEY = "test-quarantine-privacy-key"
TRAIL_MSISDN = "+32471234599"  # a number of no customer, seen at two cells
CALLED = "+32 475 55 66 77"
TRAIL_SITE = "fertility-clinic.example"
DEVICE_MODEL = "SecretPhone-X1"
# C001's own number (+32470000001) and e-mail
FREE_TEXT = "Please call me on +32 470 00 00 01 or write to c001@example.be"
MUNICIPALITY_WITH_NUMBER = "Antwerpen 0470 12 34 56"
# Customer numbers that ARE a phone number of the landing zone (attack, session 5): the
# personal-data gate refused them in marketing.segment_members every night (exit 1).
OWN_NUMBER_ID = "32480000077"  # the customer's own msisdn without its '+'
NETWORK_ONLY = "+32480000088"  # a number seen on the network only (no customer's)
NETWORK_NUMBER_ID = "32-480-000088"  # a customer number that is that number
# A customer number holding its own msisdn between separators (session 11's attack):
# staging read its digits as one number (3248000009901), the gate read each span.
EMBEDDED_NUMBER_ID = "SC-32480000099-01"

BAD_ROWS = {
    "+customers": [
        {"customer_id": OWN_NUMBER_ID, "brand": "proximus", "msisdn": "+32480000077",
         "postal_code": "2000", "created_at": "2020-01-15T10:00:00+01:00"},
        {"customer_id": NETWORK_NUMBER_ID, "brand": "proximus", "postal_code": "2000",
         "created_at": "2020-01-15T10:00:00+01:00"},
        {"customer_id": EMBEDDED_NUMBER_ID, "brand": "proximus", "msisdn": "+32480000099",
         "postal_code": "2000", "created_at": "2020-01-15T10:00:00+01:00"},
    ],
    "+network_events": [
        {"msisdn": NETWORK_ONLY, "cell_id": CELL_A1, "event_at": "2026-06-20T12:00:00+02:00"},
        {"msisdn": TRAIL_MSISDN, "cell_id": CELL_A1, "event_at": "2026-06-20T15:37:41+02:00"},
        {"msisdn": TRAIL_MSISDN, "cell_id": CELL_A2, "event_at": "2026-06-20T16:52:19+02:00"},
    ],
    "+traffic_events": [
        {"customer_id": "C_TRAIL", "observed_at": "2026-06-20T11:23:29+02:00",
         "network": "mobile", "app_or_site": TRAIL_SITE, "bytes": "4242"},
    ],
    "+call_records": [
        {"customer_id": C_PROXIMUS, "started_at": "2026-06-20T17:11:53+02:00",
         "ended_at": "2026-06-20T16:11:53+02:00", "called_number": CALLED,
         "direction": "outgoing"},
    ],
    "+device_observations": [
        {"customer_id": C_PROXIMUS, "observed_at": "2026-06-20T08:44:07+02:00",
         "kind": "tablet", "model": DEVICE_MODEL, "wifi_state": "on"},
    ],
    "+survey_responses": [
        {"response_id": "R_TEXT", "customer_id": C_PROXIMUS, "question_id": Q_MUSIC_COUNT,
         "answer": FREE_TEXT, "answered_at": ts(9)},
    ],
    "+privacy_preferences": [
        consent_event("PP_FAX", C_PROXIMUS, "partner_offers", "opt_out", channel="fax"),
    ],
    "+cells": [
        {"cell_id": "CELL-X9", "postal_code": "2000", "municipality": MUNICIPALITY_WITH_NUMBER,
         "province": "Antwerpen", "lat": "51.2", "lon": "4.4"},
    ],
}  # fmt: skip


def digit_forms(number: str) -> set[str]:
    """The ways a Belgian number can be written, as digits only."""
    digits = re.sub(r"[^0-9]", "", number)
    national = "0" + digits[2:] if digits.startswith("32") else digits
    return {digits, national, digits[2:]}


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    root = tmp_path_factory.mktemp("quarantine_privacy")
    landing = write_landing_zone(root / "landing", BAD_ROWS)
    previous = os.environ.get(ENV_PSEUDONYM_KEY)
    os.environ[ENV_PSEUDONYM_KEY] = KEY
    try:
        result = run_pipeline(landing, root / "warehouse", RUN_DATE)
    finally:
        if previous is None:
            os.environ.pop(ENV_PSEUDONYM_KEY, None)
        else:
            os.environ[ENV_PSEUDONYM_KEY] = previous
    return {"warehouse": root / "warehouse", "result": result, "tables": landing_tables(BAD_ROWS)}


# Instants of the bad event rows, in any offset: the date and minute:second are theirs only.
INSTANTS = re.compile(r"2026-06-20[T ][0-9]{2}:(37:41|52:19|23:29|11:53|44:07)")
NUMBER_RUN = re.compile(r"[0-9][0-9\s./()+-]*[0-9]")


def leaks(values: list[str]) -> list[tuple[str, str]]:
    """(what, value) for every value holding content of a bad event row."""
    numbers = digit_forms(TRAIL_MSISDN) | digit_forms(CALLED)
    texts = {
        pseudonym(TRAIL_MSISDN, KEY),
        pseudonym(re.sub(r"[\s./()-]", "", CALLED), KEY),
        pseudonym(CALLED, KEY),
        TRAIL_SITE,
        DEVICE_MODEL,
        "C_TRAIL",
    }
    found = []
    for value in values:
        runs = {re.sub(r"[^0-9]", "", run) for run in NUMBER_RUN.findall(value)}
        found += [("number", value[:120]) for n in numbers if any(n in run for run in runs)]
        found += [(text, value[:120]) for text in texts if text in value]
        found += [("instant", value[:120])] if INSTANTS.search(value) else []
    return found


def every_value(db: Path) -> list[str]:
    """Every value of every table of a DuckDB file, as text, with its table and column."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where table_catalog = current_database()"
        ).fetchall()
        values = []
        for schema, table, column in columns:
            rows = con.execute(
                f'select distinct cast("{column}" as varchar) from "{schema}"."{table}" '
                f'where "{column}" is not null'
            ).fetchall()
            values += [f"{schema}.{table}.{column}={value}" for (value,) in rows]
        return values
    finally:
        con.close()


def test_the_night_publishes_despite_the_bad_rows(night):
    assert night["result"].returncode == 0, (
        night["result"].stdout[-3000:],
        night["result"].stderr[-5000:],
    )


def test_no_event_row_content_in_the_published_warehouse(night):
    values = every_value(night["warehouse"] / "warehouse.duckdb")
    assert values and leaks(values) == []


def test_no_event_row_content_in_the_restricted_store(night):
    values = every_value(restricted_db(night["warehouse"]))
    assert values and leaks(values) == []


def test_no_event_row_content_under_exports_or_in_the_reports(night):
    warehouse = night["warehouse"]
    files = [p for p in (warehouse / "exports").rglob("*") if p.is_file()]
    assert any(p.suffix == ".parquet" for p in files)
    values = []
    for path in files:
        if path.suffix == ".parquet":
            values += [str(row) for row in duckdb.sql(f"select * from '{path}'").fetchall()]
        values.append(path.read_bytes().decode("latin-1"))
    reports = [p for p in (warehouse / "reports").rglob("*") if p.is_file()]
    assert any(p.name == f"{RUN_DATE}.html" for p in reports)
    values += [p.read_bytes().decode("latin-1") for p in reports]
    assert leaks(values) == []


def test_restricted_tables_are_in_the_restricted_store_only(night):
    warehouse = night["warehouse"]
    published = {
        f"{schema}.{table}"
        for schema, table in query(
            warehouse, "select table_schema, table_name from information_schema.tables"
        )
    }
    assert not published & set(RESTRICTED_TABLES)
    exported = {p.name for p in (warehouse / "exports").rglob("*.parquet")}
    assert not {f"{t}.parquet" for t in RESTRICTED_TABLES} & exported
    con = duckdb.connect(str(restricted_db(warehouse)), read_only=True)
    try:
        for table in RESTRICTED_TABLES:  # the names the DPO types
            assert con.execute(f"select count(*) from {table}").fetchone()[0] > 0, table
    finally:
        con.close()


def restricted_rows(night, sql: str, params=None) -> list[tuple]:
    con = duckdb.connect(str(restricted_db(night["warehouse"])), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_the_restricted_store_keeps_file_row_number_and_reason_of_event_rows(night):
    rows = restricted_rows(
        night,
        "select source_table, source_file, reason, row_data from dpo.quarantined_rows "
        f"where source_table in ({', '.join('?' for _ in EVENT_TABLES)}) order by all",
        list(EVENT_TABLES),
    )
    delivered = night["tables"]
    expected = {
        ("call_records", "invalid_interval:ended_at", len(delivered["call_records"])),
        ("device_observations", "unknown_enum:kind", len(delivered["device_observations"])),
        ("network_events", "unknown_msisdn", len(delivered["network_events"]) - 2),
        ("network_events", "unknown_msisdn", len(delivered["network_events"]) - 1),
        ("network_events", "unknown_msisdn", len(delivered["network_events"])),
        ("traffic_events", "unknown_customer", len(delivered["traffic_events"])),
    }
    found = {(t, r, json.loads(data)["row_number"]) for t, f, r, data in rows}
    assert found == expected
    assert all(
        f == f"{t}.csv" and set(json.loads(data)) == {"row_number"} for t, f, _, data in rows
    )


def test_free_text_is_kept_with_its_contact_details_masked(night):
    (row_data,) = restricted_rows(
        night,
        "select row_data from dpo.quarantined_rows "
        "where source_table = 'survey_responses' and reason = 'invalid_answer:answer'",
    )[0]
    answer = json.loads(row_data)["answer"]
    assert answer == "Please call me on [phone] or write to [e-mail]"
    everything = every_value(night["warehouse"] / "warehouse.duckdb") + every_value(
        restricted_db(night["warehouse"])
    )
    assert not [v for v in everything if re.search(r"470[ ./-]?00[ ./-]?00[ ./-]?01", v)]
    assert not [v for v in everything if "c001@example.be" in v.lower()]


def test_an_area_name_holding_a_phone_number_is_quarantined_not_published(night):
    reasons = restricted_rows(
        night, "select reason from dpo.quarantined_rows where source_table = 'cells'"
    )
    assert reasons == [("contact_details:municipality",)]
    published = every_value(night["warehouse"] / "warehouse.duckdb")
    assert not [v for v in published if "0470 12 34 56" in v or "470123456" in v]


def test_a_customer_number_that_is_a_phone_number_is_quarantined_not_published(night):
    reasons = restricted_rows(
        night,
        "select json_extract_string(row_data, '$.customer_id'), reason "
        "from dpo.quarantined_rows where source_table = 'customers'",
    )
    assert sorted(reasons) == sorted(
        [(OWN_NUMBER_ID, "contact_details:customer_id"),
         (NETWORK_NUMBER_ID, "contact_details:customer_id"),
         (EMBEDDED_NUMBER_ID, "contact_details:customer_id")]
    )  # fmt: skip
    published = every_value(night["warehouse"] / "warehouse.duckdb")
    assert not [v for v in published if "480000077" in v or "480000088" in v.replace("-", "")]
    assert not [v for v in published if "480000099" in v]


def test_quarantine_summary_counts_the_restricted_rows(night):
    summary = query(
        night["warehouse"],
        "select source_table, reason, rows from dpo.quarantine_summary where run_date = ?",
        [RUN_DATE],
    )
    detail = restricted_rows(
        night,
        "select source_table, reason, count(*) from dpo.quarantined_rows "
        "where run_date = ? group by all",
        [RUN_DATE],
    )
    assert sorted(summary) == sorted(detail) and len(summary) >= 7
    reconciled = dict(
        query(
            night["warehouse"],
            "select source_table, rows_quarantined from dpo.load_reconciliation where run_date = ?",
            [RUN_DATE],
        )
    )
    for table, quarantined in reconciled.items():
        assert quarantined == sum(n for t, _, n in summary if t == table), table
