"""Location counts through the real DAG on a hand-made landing zone (one run, k = 15).

Each scenario lives in its own province, so the subtraction rule of one cannot change
the figures of another; every scenario happens at 10:00-11:00 Brussels time unless said.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.support.config import config_with_k
from tests.support.landing import (
    RUN_DATE,
    consent_events_for,
    customer,
    make_customers,
    network_events_for,
    ts,
    write_landing_zone,
)
from tests.support.pipeline import query, query_restricted, run_pipeline

K = 15
LIEGE, LIEGE_DECOMPOSED = "Li\u00e8ge", "Lie\u0300ge"
BRUSSELS_SUMMER = dt.timezone(dt.timedelta(hours=2))


def cell(cell_id: str, postal_code: str, municipality: str, province: str) -> dict:
    return {
        "cell_id": cell_id,
        "postal_code": postal_code,
        "municipality": municipality,
        "province": province,
        "lat": 50.8,
        "lon": 4.3,
    }


def hour_start(hour: int) -> dt.datetime:
    return dt.datetime.fromisoformat(ts(hour)).astimezone(dt.UTC)


class Population:
    """Customers in distinct msisdn ranges (make_customers numbers them from ``start``)."""

    def __init__(self) -> None:
        self.next_number = 10_000
        self.customers: list[dict] = []

    def people(self, n: int, **overrides) -> list[dict]:
        rows = make_customers(n, start=self.next_number, prefix="L", **overrides)
        self.next_number += n
        self.customers += rows
        return rows


def scenario_tables() -> dict[str, list[dict]]:
    pop = Population()
    cells, events, preferences = [], [], []

    def seen(people, cell_id, hour, minute=10):
        events.extend(network_events_for(people, cell_id, ts(hour, minute)))

    # exactly k / k - 1
    cells += [cell("CX-EXACT", "3001", "Exactville", "Prov Exact")]
    seen(pop.people(K), "CX-EXACT", 10)
    cells += [cell("CX-BELOW", "3002", "Belowville", "Prov Below")]
    seen(pop.people(K - 1), "CX-BELOW", 10)

    # k - 1 allowed people plus one who must not count: each tips the area below k
    cells += [cell("CX-OBJ", "3011", "Objectville", "Prov Objector")]
    seen(pop.people(K - 1), "CX-OBJ", 10)
    objector = pop.people(1)
    preferences += consent_events_for(objector, "location_analytics", "opt_out", prefix="LOC")
    seen(objector, "CX-OBJ", 10)
    cells += [cell("CX-LEG", "3012", "Legacyville", "Prov Legacy")]
    seen(pop.people(K - 1), "CX-LEG", 10)
    seen(pop.people(1, brand="scarlet", migrated_at=None), "CX-LEG", 10)
    cells += [cell("CX-CLO", "3013", "Closedville", "Prov Closed")]
    seen(pop.people(K - 1), "CX-CLO", 10)
    seen(pop.people(1, closed_at="2026-06-01T09:00:00+02:00"), "CX-CLO", 10)
    # k allowed + all of the excluded kinds + an msisdn of no customer: exactly k
    cells += [cell("CX-MIX", "3014", "Mixville", "Prov Mixed")]
    seen(pop.people(K), "CX-MIX", 10)
    late_objector = pop.people(1)
    preferences += consent_events_for(
        late_objector,
        "location_analytics",
        "opt_out",
        prefix="LOC",
        recorded_at="2026-06-22T08:00:00+02:00",
    )
    seen(late_objector, "CX-MIX", 10)
    seen(pop.people(1, brand="scarlet", migrated_at=None), "CX-MIX", 10)
    seen(pop.people(1, closed_at="2026-06-01T09:00:00+02:00"), "CX-MIX", 10)
    events.append({"msisdn": "+32499999999", "cell_id": "CX-MIX", "event_at": ts(10, 20)})

    # many events of one person count once; the same people an hour later count again
    cells += [
        cell("CX-MANY-1", "3021", "Manyville", "Prov Many"),
        cell("CX-MANY-2", "3021", "Manyville", "Prov Many"),
    ]
    crowd = pop.people(K)
    seen(crowd, "CX-MANY-1", 10)
    for minute in range(0, 60, 2):
        seen(crowd[:1], "CX-MANY-1", 10, minute)
        seen(crowd[:1], "CX-MANY-2", 10, minute)
    seen(crowd, "CX-MANY-2", 11, 59)

    # a municipality with one small postal code
    cells += [
        cell("CX-SUB-BIG", "3031", "Subville", "Prov Sub"),
        cell("CX-SUB-SMALL", "3032", "Subville", "Prov Sub"),
    ]
    seen(pop.people(K + 5), "CX-SUB-BIG", 10)
    seen(pop.people(3), "CX-SUB-SMALL", 10)

    # an event at one cell of a postal code, 18:00 to 20:30
    cells += [
        cell("CX-EV-SITE", "3041", "Eventville", "Prov Event"),
        cell("CX-EV-TOWN", "3041", "Eventville", "Prov Event"),
    ]
    attendees = pop.people(20)
    for hour in (18, 19, 20):
        seen(attendees, "CX-EV-SITE", hour, 10)
        seen(pop.people(K + 1), "CX-EV-TOWN", hour, 10)
    seen(attendees[:5], "CX-EV-SITE", 20, 45)  # after the window: not at the event
    seen(pop.people(3), "CX-EV-SITE", 12, 0)  # before the window

    # customer_lines: a person with two phones counts once; an objector's two lines are
    # both excluded; a number reassigned at 10:30 counts for whoever held it at the instant.
    lines = []

    def phones(person, *numbers, since="2020-01-01T00:00:00Z", until=None):
        person["msisdn"] = None
        for number in numbers:
            lines.append({"customer_id": person["customer_id"], "msisdn": number,
                          "valid_from": since, "valid_to": until})  # fmt: skip

    def seen_on(number, cell_id, hour, minute=10):
        events.append({"msisdn": number, "cell_id": cell_id, "event_at": ts(hour, minute)})

    cells += [cell("CX-TWO", "3051", "Twoville", "Prov Two")]
    seen(pop.people(K - 1), "CX-TWO", 10)
    (two_phones,) = pop.people(1)
    phones(two_phones, "+32460000001", "+32460000002")
    seen_on("+32460000001", "CX-TWO", 10, 5)
    seen_on("+32460000002", "CX-TWO", 10, 35)
    cells += [cell("CX-TWO-OBJ", "3052", "Twoobjectville", "Prov Two Objector")]
    seen(pop.people(K - 1), "CX-TWO-OBJ", 10)
    (objector_two_phones,) = pop.people(1)
    phones(objector_two_phones, "+32460000003", "+32460000004")
    preferences += consent_events_for([objector_two_phones], "location_analytics", "opt_out",
                                      prefix="LOC")  # fmt: skip
    seen_on("+32460000003", "CX-TWO-OBJ", 10, 5)
    seen_on("+32460000004", "CX-TWO-OBJ", 10, 35)
    cells += [cell("CX-REASSIGNED", "3053", "Reassignville", "Prov Reassigned")]
    others = pop.people(K - 1)
    seen(others, "CX-REASSIGNED", 10)
    seen(others, "CX-REASSIGNED", 11)
    (first_holder,) = pop.people(1)
    (second_holder,) = pop.people(1)
    preferences += consent_events_for([first_holder], "location_analytics", "opt_out",
                                      prefix="LOC")  # fmt: skip
    phones(first_holder, "+32460000005", until=ts(10, 30))
    phones(second_holder, "+32460000005", since=ts(10, 30))
    seen_on("+32460000005", "CX-REASSIGNED", 10, 10)  # the objector's: not counted
    seen_on("+32460000005", "CX-REASSIGNED", 11, 10)  # the new holder's: counted
    # A number listed for a new holder while an account without listed lines still carries
    # it in customers.msisdn: by the contract both hold it (the account's line is for its
    # whole life), so its events are ambiguous and count for nobody, in the models and in
    # the gate's recount alike (the gate once gave the number to the listed holder alone
    # and failed a correct release).
    cells += [cell("CX-STALE", "3054", "Staleville", "Prov Stale")]
    seen(pop.people(K), "CX-STALE", 10)
    (stale_holder,) = pop.people(1)
    stale_holder["msisdn"] = "+32460000006"
    (listed_holder,) = pop.people(1)
    phones(listed_holder, "+32460000006", since="2026-01-01T00:00:00Z")
    seen_on("+32460000006", "CX-STALE", 10, 20)
    # An account created at noon: its number seen in the morning was not yet this
    # customer's (a recycled number, a SIM before its contract) and counts for nobody.
    cells += [cell("CX-NEW", "3055", "Newville", "Prov New")]
    seen(pop.people(K), "CX-NEW", 10)
    seen(pop.people(K), "CX-NEW", 13)  # other people: no hour holds the other
    newcomer = pop.people(1, created_at=ts(12))
    seen(newcomer, "CX-NEW", 10, 20)
    seen(newcomer, "CX-NEW", 13, 20)
    # After the migration the legacy platform can only refuse: a legacy opt_in recorded
    # after it lifts no location objection, at the end of D nor later (attack, session 5:
    # the gate's recount let it lift one and refused every correct night). The second
    # person also opted in on Proximus after D, which is never back-dated.
    cells += [cell("CX-LIFT", "3056", "Liftville", "Prov Lift")]
    seen(pop.people(K), "CX-LIFT", 10)
    migrated = "2026-03-01T09:00:00+01:00"
    lifted = pop.people(2, brand="scarlet", migrated_at=migrated)
    for platform_events in (
        consent_events_for(lifted, "location_analytics", "opt_out", prefix="LIFT-OUT",
                           recorded_at="2025-11-01T10:00:00+01:00", platform="scarlet_legacy"),
        consent_events_for(lifted, "location_analytics", "opt_in", prefix="LIFT-IN",
                           recorded_at="2026-05-01T10:00:00+02:00", platform="scarlet_legacy"),
        consent_events_for(lifted[1:], "location_analytics", "opt_in", prefix="LIFT-LATE",
                           recorded_at="2026-06-22T10:00:00+02:00"),
    ):  # fmt: skip
        preferences += platform_events
    seen(lifted, "CX-LIFT", 10, 20)
    # Attack 11, finding 2: the gate's recount read quarantined CRM rows and dropped lines
    # that overlapped another holder's at any time, and refused these correct nights.
    # (2c) A recycled number: its old holder, a closed account, held it 2015-2018 (a
    # listed line); the new holder carries it in customers.msisdn for good. On D only the
    # new holder holds it: the periods meet at no instant of D.
    cells += [cell("CX-RECYCLED", "3057", "Recycleville", "Prov Recycled")]
    seen(pop.people(K - 1), "CX-RECYCLED", 10)
    (new_holder,) = pop.people(1)
    (old_holder,) = pop.people(1, created_at="2015-01-01T00:00:00Z",
                               closed_at="2018-01-01T00:00:00Z")  # fmt: skip
    phones(old_holder, new_holder["msisdn"], since="2015-01-01T00:00:00Z",
           until="2018-01-01T00:00:00Z")  # fmt: skip
    old_holder["msisdn"] = new_holder["msisdn"]
    seen([new_holder], "CX-RECYCLED", 10, 20)
    # (2a) Two versions of one line (a corrected valid_to): both are quarantined
    # (duplicate_key_conflict), so the customer has no accepted line and keeps
    # customers.msisdn all day; seen at 13:20, after both versions' ends.
    cells += [cell("CX-CONFLICT", "3058", "Conflictville", "Prov Conflict")]
    seen(pop.people(K - 1), "CX-CONFLICT", 13)
    (conflicted,) = pop.people(1)
    for until in (ts(10), ts(12)):
        lines.append({"customer_id": conflicted["customer_id"], "msisdn": conflicted["msisdn"],
                      "valid_from": "2021-03-14T09:38:30Z", "valid_to": until})  # fmt: skip
    seen([conflicted], "CX-CONFLICT", 13, 20)
    # (2b) A line of a customer the CRM does not know (unknown_customer) on someone's
    # number, and (2d) an account delivered twice with a different birth year
    # (duplicate_key_conflict, in no staging model) carrying another customer's number:
    # neither is a holder, so the number stays its customer's.
    cells += [cell("CX-QUARANTINED", "3059", "Quarantineville", "Prov Quarantined")]
    seen(pop.people(K - 2), "CX-QUARANTINED", 10)
    (unknown_holders_number, crm_conflicts_number) = pop.people(2)
    lines.append({"customer_id": "LUNKNOWN1", "msisdn": unknown_holders_number["msisdn"],
                  "valid_from": "2026-01-01T00:00:00Z", "valid_to": None})  # fmt: skip
    twice = customer("LTWICE1", msisdn=crm_conflicts_number["msisdn"], birth_year=1990)
    pop.customers += [twice, {**twice, "birth_year": 1991}]
    seen([unknown_holders_number, crm_conflicts_number], "CX-QUARANTINED", 10, 20)
    # Under the old Scarlet policy until the migration (attack, session 13): people whose
    # account moved to Proximus at noon on D, seen only in the morning, are not counted;
    # nor are Scarlet customers whose legacy objection was "lifted" on the Proximus
    # platform before their migration (the account was not on it yet).
    cells += [cell("CX-MIG", "3060", "Migrationville", "Prov Migration")]
    seen(pop.people(K - 1), "CX-MIG", 10)
    seen(pop.people(1, brand="scarlet", migrated_at=ts(12)), "CX-MIG", 10, 20)
    cells += [cell("CX-EARLY", "3061", "Earlyville", "Prov Early")]
    seen(pop.people(K - 1), "CX-EARLY", 10)
    early = pop.people(1, brand="scarlet", migrated_at="2026-03-01T09:00:00+01:00")
    preferences += consent_events_for(early, "location_analytics", "opt_out", prefix="EARLY-OUT",
                                      recorded_at="2025-11-01T10:00:00+01:00",
                                      platform="scarlet_legacy")  # fmt: skip
    preferences += consent_events_for(early, "location_analytics", "opt_in", prefix="EARLY-IN",
                                      recorded_at="2026-01-10T10:00:00+01:00")  # fmt: skip
    seen(early, "CX-EARLY", 10, 20)
    # One municipality and province in two Unicode spellings of "Liège" (composed, and
    # e + combining grave accent): published as one area, in the composed form (NFC).
    cells += [cell("CX-NFC", "4000", LIEGE, LIEGE),
              cell("CX-NFD", "4020", LIEGE_DECOMPOSED, LIEGE_DECOMPOSED)]  # fmt: skip
    seen(pop.people(K), "CX-NFC", 10)
    seen(pop.people(K), "CX-NFD", 10)
    return {
        "+customer_lines": lines,
        "+customers": pop.customers,
        "+cells": cells,
        "+network_events": events,
        "+privacy_preferences": preferences,
        "+events": [
            {"event_id": "EV-T", "name": "Concert", "starts_at": ts(18), "ends_at": ts(20, 30)},
            # Years of past events may be delivered: they get no figure code
            # (tests/test_location_dp.py reads the candidate these tables make).
            {
                "event_id": "EV-PAST",
                "name": "Last year's concert",
                "starts_at": "2025-06-20T18:00:00+02:00",
                "ends_at": "2025-06-20T23:00:00+02:00",
            },
        ],
        "+event_cells": [
            {"event_id": "EV-T", "cell_id": "CX-EV-SITE"},
            {"event_id": "EV-PAST", "cell_id": "CX-EV-SITE"},
        ],
    }


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    root = tmp_path_factory.mktemp("location")
    landing = write_landing_zone(root / "landing", scenario_tables())
    result = run_pipeline(landing, root / "warehouse", RUN_DATE, config=config_with_k(root, K))
    assert result.returncode == 0, (result.stdout[-3000:], result.stderr[-5000:])
    return root / "warehouse"


def presence(warehouse, level: str, area: str) -> dict[dt.datetime, int]:
    rows = query(
        warehouse,
        "select hour_start, people from location.presence_hourly "
        "where area_level = ? and area_id = ? and run_date = ?",
        [level, area, RUN_DATE],
    )
    return {start.astimezone(dt.UTC): people for start, people in rows}


def test_an_area_with_exactly_k_people_is_published_with_k(warehouse):
    for level, area in [
        ("postal_code", "3001"),
        ("municipality", "Exactville"),
        ("province", "Prov Exact"),
    ]:
        assert presence(warehouse, level, area) == {hour_start(10): K}


def test_an_area_name_in_two_unicode_spellings_is_one_area(warehouse):
    for level, area, people in [
        ("postal_code", "4000", K),
        ("postal_code", "4020", K),
        ("municipality", LIEGE, 2 * K),
        ("province", LIEGE, 2 * K),
    ]:
        assert presence(warehouse, level, area) == {hour_start(10): people}, (level, area)
    decomposed = query(
        warehouse,
        "select count(*) from location.presence_hourly where area_id = ?",
        [LIEGE_DECOMPOSED],
    )
    assert decomposed == [(0,)]


def test_an_area_with_k_minus_one_people_is_not_published(warehouse):
    for level, area in [
        ("postal_code", "3002"),
        ("municipality", "Belowville"),
        ("province", "Prov Below"),
    ]:
        assert presence(warehouse, level, area) == {}


@pytest.mark.parametrize(
    "postal_code",
    ["3011", "3012", "3013"],
    ids=["objector", "unmigrated_scarlet", "closed_account"],
)
def test_an_excluded_person_who_tips_an_area_to_k_minus_one_suppresses_it(warehouse, postal_code):
    assert presence(warehouse, "postal_code", postal_code) == {}


@pytest.mark.parametrize("postal_code", ["3060", "3061"])
def test_a_scarlet_account_is_counted_only_under_the_new_policy(warehouse, postal_code):
    assert presence(warehouse, "postal_code", postal_code) == {}


def test_excluded_people_and_unknown_msisdns_are_never_counted(warehouse):
    # k allowed people + an objector (refusal recorded after D) + an unmigrated Scarlet
    # customer + a closed account + a number of no customer: exactly k.
    assert presence(warehouse, "postal_code", "3014") == {hour_start(10): K}


def test_many_events_of_one_person_count_once(warehouse):
    assert presence(warehouse, "postal_code", "3021") == {hour_start(10): K, hour_start(11): K}


def test_a_person_with_two_lines_counts_once_and_their_choices_apply_to_both(warehouse):
    assert presence(warehouse, "postal_code", "3051") == {hour_start(10): K}
    assert presence(warehouse, "postal_code", "3052") == {}


def test_a_reassigned_number_counts_for_whoever_held_it_at_the_instant(warehouse):
    assert presence(warehouse, "postal_code", "3053") == {hour_start(11): K}


def test_a_number_held_by_a_listed_line_and_an_unlisted_account_counts_for_nobody(warehouse):
    assert presence(warehouse, "postal_code", "3054") == {hour_start(10): K}


def test_a_sighting_from_before_the_account_was_created_counts_for_nobody(warehouse):
    assert presence(warehouse, "postal_code", "3055") == {hour_start(10): K, hour_start(13): K + 1}


def test_a_legacy_opt_in_after_the_migration_lifts_no_location_objection(warehouse):
    assert presence(warehouse, "postal_code", "3056") == {hour_start(10): K}


def test_a_recycled_number_counts_for_its_holder_at_the_instant(warehouse):
    """Attack 11, finding 2c: the old holder's closed 2015-2018 line does not make the new
    holder's number ambiguous on D (the location gate refused this night, exit 1)."""
    assert presence(warehouse, "postal_code", "3057") == {hour_start(10): K}


def test_quarantined_lines_and_accounts_hold_no_number(warehouse):
    """Attack 11, finding 2a, 2b, 2d: two conflicting versions of a line leave its customer
    with customers.msisdn; a line of an unknown customer and an account delivered as two
    conflicting rows hold nothing (the location gate counted them as holders)."""
    assert presence(warehouse, "postal_code", "3058") == {hour_start(13): K}
    assert presence(warehouse, "postal_code", "3059") == {hour_start(10): K}
    reasons = query_restricted(
        warehouse,
        "select source_table, reason, count(*) from dpo.quarantined_rows "
        "where run_date = cast(? as date) and source_table in ('customers', 'customer_lines') "
        "group by all order by all",
        [RUN_DATE],
    )
    assert reasons == [
        ("customer_lines", "duplicate_key_conflict", 2),
        ("customer_lines", "unknown_customer", 1),
        ("customers", "duplicate_key_conflict", 2),
    ]


def test_subtraction_rule_on_a_municipality_with_one_small_postal_code(warehouse):
    assert presence(warehouse, "municipality", "Subville") == {hour_start(10): K + 8}
    assert presence(warehouse, "province", "Prov Sub") == {hour_start(10): K + 8}
    # 3032 (3 people) is below k; publishing 3031 would reveal it as 23 - 20.
    assert presence(warehouse, "postal_code", "3032") == {}
    assert presence(warehouse, "postal_code", "3031") == {}


def test_no_published_figure_is_below_k_and_subtraction_never_reveals_fewer(warehouse):
    assert query(
        warehouse, "select count(*) from location.presence_hourly where people < ?", [K]
    ) == [(0,)]
    residuals = query(
        warehouse,
        """
        with published as (select * from location.presence_hourly where run_date = ?),
        tree as (
            select distinct 'postal_code' as child_level, postal_code as child,
                   'municipality' as parent_level, municipality as parent
            from read_csv(?, all_varchar = true)
            union
            select distinct 'municipality', municipality, 'province', province
            from read_csv(?, all_varchar = true)
        )
        select parent.area_level, parent.area_id, parent.hour_start,
               parent.people - coalesce(sum(child.people), 0) as residual
        from published as parent
        left join tree on tree.parent_level = parent.area_level and tree.parent = parent.area_id
        left join published as child
          on child.area_level = tree.child_level and child.area_id = tree.child
         and child.hour_start = parent.hour_start
        where parent.area_level <> 'postal_code'
        group by parent.area_level, parent.area_id, parent.hour_start, parent.people
        """,
        [RUN_DATE, *[str(warehouse.parent / "landing" / "cells.csv")] * 2],
    )
    assert residuals, "expected published parents"
    unsafe = [row for row in residuals if row[3] != 0 and row[3] < K]
    assert unsafe == []


def test_event_attendance_per_hour_and_whole_window(warehouse):
    hours = query(
        warehouse,
        "select hour_start, people from location.event_attendance "
        "where event_id = 'EV-T' and run_date = ?",
        [RUN_DATE],
    )
    assert {start.astimezone(dt.UTC): people for start, people in hours} == {
        hour_start(18): 20,
        hour_start(19): 20,
        hour_start(20): 20,
    }
    assert query(
        warehouse,
        "select people from location.event_attendance_total "
        "where event_id = 'EV-T' and run_date = ?",
        [RUN_DATE],
    ) == [(20,)]
    # the event's postal code: attendees and town people in the same hour
    assert presence(warehouse, "postal_code", "3041")[hour_start(18)] == 20 + K + 1


def test_suppression_summary_for_the_dpo(warehouse):
    rows = query(
        warehouse,
        "select table_name, area_level, published, suppressed_below_k, "
        "suppressed_complementary from location.suppression_summary "
        "where run_date = ?",
        [RUN_DATE],
    )
    summary = {(table, level): counts for table, level, *counts in rows}
    assert set(summary) == {
        ("presence_hourly", "postal_code"),
        ("presence_hourly", "municipality"),
        ("presence_hourly", "province"),
        ("event_attendance", "event"),
        ("event_attendance_total", "event"),
        *(("visitors_daily", level) for level in ("postal_code", "municipality", "province")),
        *(("visitor_origin", level) for level in ("postal_code", "municipality", "province")),
        ("od_flows", "municipality"),
        ("od_flows", "province"),
    }
    published, below_k, complementary = summary[("presence_hourly", "postal_code")]
    assert (
        published
        == query(
            warehouse,
            "select count(*) from location.presence_hourly "
            "where area_level = 'postal_code' and run_date = ?",
            [RUN_DATE],
        )[0][0]
    )
    assert below_k >= 6  # 3002, 3011, 3012, 3013, 3032 and the 12:00 event cell
    assert complementary >= 1  # 3031


def test_no_column_or_value_identifies_a_person(warehouse):
    columns = query(
        warehouse,
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'location'",
    )
    names = {column for _, column in columns}
    assert names <= {
        "area_level",
        "area_id",
        "hour_start",
        "people",
        "run_date",
        "event_id",
        "table_name",
        "published",
        "suppressed_below_k",
        "suppressed_complementary",
        "suppressed_republication",
        "candidate_figures",
        "people_hours",
        "published_people_hours",
        "published_figures_share",
        "published_people_hours_share",
        "total_published_figures_share",
        "total_published_people_hours_share",
        "visitor_class",
        "origin_level",
        "origin_area_id",
        "destination_area_id",
        "time_band",
    }
    values = query(
        warehouse,
        "select area_id from location.presence_hourly "
        "union select event_id from location.event_attendance "
        "union select area_id from location.visitors_daily "
        "union select origin_area_id from location.visitor_origin "
        "union select origin_area_id from location.od_flows "
        "union select destination_area_id from location.od_flows",
    )
    assert not [v for (v,) in values if re.fullmatch(r"L\d{5}|C\d{3}|\+\d+", v)]


def test_no_per_person_location_trail_outlives_the_run(warehouse):
    # retention.candidate_days = 0: the candidate database (staging and
    # int_location__person_hours) is deleted once the run has published.
    assert not list((warehouse / "runs").glob("*/*.duckdb*"))
