"""The location gate: each promise fails on exactly the violation it guards against.

The clean candidate publishes, at 14:00 on the run date: postal codes 2000 (40) and 2018
(35), municipality and province Antwerpen (75 each), and the festival E001 in postal
code 2000 (40 that hour, 40 in total), with k = 30.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re

import pytest
from privacy_pipeline.gates.promises import CannotCheck
from privacy_pipeline.gates.suites import suite_module

from tests.support.landing import (
    CELL_A1,
    EVENT_ID,
    MUNICIPALITY,
    POSTAL_A,
    POSTAL_B,
    PROVINCE,
    RUN_DATE,
    make_customers,
    network_events_for,
)
from tests.test_gates_candidates import (
    SHORT_EVENT_ID,
    failed_expectations,
    publish_clean_run,
)
from tests.test_gates_candidates import assert_gate_blocks as gate_blocks
from tests.test_gates_candidates import violating_copy as copy_with

SUITE = "location"
RECOUNT = "counts_are_the_people_who_may_be_counted"
DISCLOSURE = "no_difference_of_published_figures_reveals_fewer_than_k"


def assert_gate_blocks(ctx, suite: str, expectation: str) -> str:
    """The disclosure rules' tests inject figures no landing event backs: the recount of
    who is counted fails with them, and is tested on its own below; the general rule on
    the people behind every figure catches what the pair rules catch, too."""
    return gate_blocks(ctx, suite, expectation, also=frozenset({RECOUNT, DISCLOSURE}))


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """The clean run, published; its release forgotten, so that each altered copy below is
    judged as a first release of the date (re-publication has tests of its own)."""
    from privacy_pipeline.location.ledger import ledger_file

    ctx = publish_clean_run(tmp_path_factory.mktemp("location"))
    ledger_file(ctx.warehouse_dir).unlink()
    return ctx


def add_area(level: str, area: str, people: int, hour: str = f"{RUN_DATE} 14:00:00+02") -> str:
    return (
        "insert into location.presence_hourly by name select "
        f"'{level}' as area_level, '{area}' as area_id, timestamptz '{hour}' as hour_start, "
        f"{people} as people, date '{RUN_DATE}' as run_date"
    )


@pytest.mark.parametrize(
    "sql",
    [
        add_area("postal_code", "9999", 29),
        "insert into location.event_attendance_total by name "
        f"select 'E999' as event_id, 29 as people, date '{RUN_DATE}' as run_date",
    ],
    ids=["area hour", "event total"],
)
def test_a_count_below_k_blocks(published, tmp_path, sql):
    ctx = copy_with(published, tmp_path, sql)
    observed = assert_gate_blocks(ctx, SUITE, "every_people_count_is_at_least_k")
    assert "29 people" in observed


AT_15 = f"{RUN_DATE} 15:00:00+02"  # an hour without event, so only the area rule applies


def test_a_municipality_that_reveals_a_small_group_by_subtraction_blocks(published, tmp_path):
    sql = "; ".join(
        [
            add_area("postal_code", POSTAL_A, 40, AT_15),
            add_area("postal_code", POSTAL_B, 35, AT_15),
            add_area("municipality", MUNICIPALITY, 80, AT_15),
        ]
    )
    observed = assert_gate_blocks(
        copy_with(published, tmp_path, sql),
        SUITE,
        "area_minus_published_children_is_0_or_at_least_k",
    )
    assert MUNICIPALITY in observed and "difference 5" in observed


def test_subtraction_descends_through_an_unpublished_municipality(published, tmp_path):
    """Province 80 - (postal codes 40 + 35, their municipality withheld) = 5 people."""
    sql = "; ".join(
        [
            add_area("postal_code", POSTAL_A, 40, AT_15),
            add_area("postal_code", POSTAL_B, 35, AT_15),
            add_area("province", PROVINCE, 80, AT_15),
        ]
    )
    observed = assert_gate_blocks(
        copy_with(published, tmp_path, sql),
        SUITE,
        "area_minus_published_children_is_0_or_at_least_k",
    )
    assert "province" in observed and "difference 5" in observed


def test_an_event_hour_close_to_its_postal_code_blocks(published, tmp_path):
    sql = "update location.event_attendance set people = 36; "
    sql += "update location.event_attendance_total set people = 36"
    observed = assert_gate_blocks(
        copy_with(published, tmp_path, sql), SUITE, "event_minus_containing_area_is_0_or_at_least_k"
    )
    assert EVENT_ID in observed and POSTAL_A in observed


def test_the_total_of_an_event_held_within_one_hour_counts_as_that_hour(published, tmp_path):
    """E002 (10:00-10:45 in 2018): postal code 35 - event total 30 = 5 people outside it."""
    sql = add_area("postal_code", POSTAL_B, 35, f"{RUN_DATE} 10:00:00+02")
    sql += "; insert into location.event_attendance_total by name "
    sql += f"select '{SHORT_EVENT_ID}' as event_id, 30 as people, date '{RUN_DATE}' as run_date"
    observed = assert_gate_blocks(
        copy_with(published, tmp_path, sql), SUITE, "event_minus_containing_area_is_0_or_at_least_k"
    )
    assert SHORT_EVENT_ID in observed


def test_an_event_total_close_to_one_of_its_hours_blocks(published, tmp_path):
    sql = "update location.event_attendance_total set people = 45"
    assert_gate_blocks(
        copy_with(published, tmp_path, sql), SUITE, "event_minus_containing_area_is_0_or_at_least_k"
    )


def test_a_cell_level_area_blocks(published, tmp_path):
    ctx = copy_with(published, tmp_path, add_area("cell", "CELL-A1", 40))
    observed = assert_gate_blocks(ctx, SUITE, "only_postal_code_municipality_or_province_areas")
    assert "cell" in observed


@pytest.mark.parametrize(
    "hour",
    ["2026-06-21 00:00:00+02", "2026-06-19 23:00:00+02", f"{RUN_DATE} 14:30:00+02"],
    ids=["next day", "day before", "not a whole hour"],
)
def test_an_hour_outside_the_run_date_blocks(published, tmp_path, hour):
    ctx = copy_with(published, tmp_path, add_area("postal_code", "9999", 40, hour))
    assert_gate_blocks(ctx, SUITE, "hours_inside_the_run_date")


@pytest.mark.parametrize(
    "sql",
    [
        "alter table location.presence_hourly add column customer_id varchar",
        "alter table location.event_attendance add column cell_id varchar",
        "alter table location.event_attendance_total add column note varchar default 'C001'",
    ],
    ids=["customer column", "cell column", "customer ids as values"],
)
def test_a_column_that_could_identify_a_person_blocks(published, tmp_path, sql):
    ctx = copy_with(published, tmp_path, sql)
    assert_gate_blocks(ctx, SUITE, "no_column_identifying_a_person")


def test_a_missing_location_table_blocks(published, tmp_path):
    ctx = copy_with(published, tmp_path, "drop table location.event_attendance")
    failed = failed_expectations(ctx, SUITE)
    assert "every_location_table_is_built" in failed


def test_a_25_hour_dst_day_is_covered_and_nothing_beyond_it(tmp_path):
    """2026-10-25 in Brussels: 00:00+02 .. 02:00+02, 02:00+01 .. 23:00+01 (25 hours)."""
    from privacy_pipeline.landing import load_landing_zone
    from privacy_pipeline.run_context import RunContext

    from tests.support.landing import write_landing_zone
    from tests.test_gates_candidates import K, inject

    crowd = make_customers(40)
    events = []
    for utc_hour in range(25):  # 40 people in postal code 2000 every hour of the day
        instant = dt.datetime(2026, 10, 24, 22, 10, tzinfo=dt.UTC) + dt.timedelta(hours=utc_hour)
        events += network_events_for(crowd, CELL_A1, instant.isoformat())
    write_landing_zone(tmp_path / "landing", {"+customers": crowd, "+network_events": events})
    ctx = RunContext.create(tmp_path / "landing", tmp_path / "wh", "2026-10-25", k=K)
    ctx.run_dir.mkdir(parents=True)
    load_landing_zone(ctx)
    hours = "select range as hour_start from range(timestamptz '2026-10-24 22:00:00+00', "
    hours += "timestamptz '2026-10-25 23:00:00+00', interval 1 hour)"
    inject(
        ctx,
        f"""
        create schema location;
        create table location.presence_hourly as select 'postal_code' as area_level,
            '{POSTAL_A}' as area_id, hour_start, 40::bigint as people,
            date '2026-10-25' as run_date from ({hours});
        create table location.event_attendance as select * from (
            select 'E' as event_id, now() as hour_start, 40::bigint as people,
                   date '2026-10-25' as run_date) where false;
        create table location.event_attendance_total as
            select event_id, people, run_date from location.event_attendance;
        create table location.visitors_daily as select 'postal_code' as area_level,
            'x' as area_id, 'visitor' as visitor_class, 1::bigint as people,
            date '2026-10-25' as run_date where false;
        create table location.visitor_origin as select 'postal_code' as area_level,
            'x' as area_id, 'municipality' as origin_level, 'y' as origin_area_id,
            1::bigint as people, date '2026-10-25' as run_date where false;
        create table location.od_flows as select 'municipality' as area_level,
            'x' as origin_area_id, 'y' as destination_area_id, 'night' as time_band,
            1::bigint as people, date '2026-10-25' as run_date where false;
        create table location.suppression_summary as select date '2026-10-25' as run_date;
        """,
    )
    from privacy_pipeline.gates import run_suite

    assert run_suite(ctx, SUITE)["success"]
    inject(ctx, add_area("postal_code", POSTAL_B, 40, "2026-10-26 00:00:00+01"))
    failed = failed_expectations(ctx, SUITE)
    assert set(failed) - {RECOUNT} == {"hours_inside_the_run_date"}
    assert "2026-10-26 00:00:00+01" in failed["hours_inside_the_run_date"]


def test_a_figure_that_counts_one_person_too_many_blocks(published, tmp_path):
    """Consistent for the disclosure rules (every level and the event +1), wrong for the
    landing: only the recount sees it."""
    sql = (
        "update location.presence_hourly set people = people + 1 where area_level <> 'postal_code'"
    )
    sql += f" or area_id = '{POSTAL_A}'; update location.event_attendance set people = 41; "
    sql += "update location.event_attendance_total set people = 41"
    observed = gate_blocks(copy_with(published, tmp_path, sql), SUITE, RECOUNT)
    assert "published 41 people" in observed and "finds 40" in observed


def test_the_recount_counts_only_people_who_may_be_counted(tmp_path):
    """At one cell and hour: 30 plain customers, and one of each kind that must not count."""
    from privacy_pipeline.gates.candidate import Candidate
    from privacy_pipeline.landing import load_landing_zone
    from privacy_pipeline.run_context import RunContext

    from tests.support.landing import (
        C_CLOSED,
        C_SCARLET_LEGACY,
        MSISDNS,
        consent_event,
        customer,
        ts,
        write_landing_zone,
    )
    from tests.test_gates_candidates import K

    plain = make_customers(30)
    others = make_customers(6, start=100)
    ids = [row["customer_id"] for row in others]
    shared = customer("N00200", msisdn=plain[0]["msisdn"])  # a number of two customers
    events = network_events_for(plain + others + [{"msisdn": "+32499999999"}], CELL_A1, ts(9, 5))
    events += network_events_for(
        [{"msisdn": MSISDNS[C_SCARLET_LEGACY]}, {"msisdn": MSISDNS[C_CLOSED]}], CELL_A1, ts(9, 6)
    )
    after = "2026-06-25T10:00:00+02:00"
    write_landing_zone(
        tmp_path / "landing",
        {
            "+customers": plain + others + [shared],
            "+network_events": events,
            "+privacy_preferences": [
                consent_event("L1", ids[0], "location_analytics", "opt_out"),
                consent_event("L2", ids[1], "location_analytics", "opt_out", after),
                consent_event(  # a legacy refusal carries over
                    "L3", ids[2], "location_analytics", "opt_out", platform="scarlet_legacy"
                ),
                # objected before the run date, withdrew after it: not back-dated
                consent_event("L4", ids[3], "location_analytics", "opt_out"),
                consent_event("L5", ids[3], "location_analytics", "opt_in", after),
                # an opt-in that breaks the contract withdraws nothing
                consent_event("L6", ids[4], "location_analytics", "opt_out"),
                consent_event("L7", ids[4], "location_analytics", "opt_in", channel="pigeon"),
                # objected, then withdrew before the run date: counted
                consent_event("L8", ids[5], "location_analytics", "opt_out", "2026-04-01T10:00Z"),
                consent_event("L9", ids[5], "location_analytics", "opt_in"),
            ],
        },
    )
    ctx = RunContext.create(tmp_path / "landing", tmp_path / "wh", RUN_DATE, k=K)
    ctx.run_dir.mkdir(parents=True)
    load_landing_zone(ctx)
    candidate = Candidate.open(ctx)
    try:
        from privacy_pipeline.gates.suites import load_suite

        promise = next(p for p in load_suite("location").promises if p.name == RECOUNT)
        with contextlib.suppress(CannotCheck):  # no marts here; the recount is made first
            promise.check(candidate)
        rows = candidate.rows(
            "select level, area, people from gate_location_recount "
            f"where table_name = 'presence_hourly' and hour = timestamptz '{RUN_DATE} 09:00:00+02'"
        )
    finally:
        candidate.close()
    # plain[0] shares its number with N00200: nobody's; ids[5] withdrew in time: 29 + 1;
    # the baseline's C002 (objected to direct marketing only) is in 2018 at 09:00.
    assert sorted(rows) == [
        ("municipality", MUNICIPALITY, 31),
        ("postal_code", POSTAL_A, 30),
        ("postal_code", POSTAL_B, 1),
        ("province", PROVINCE, 31),
    ]


def test_a_republished_figure_that_changed_by_less_than_k_blocks(published, tmp_path):
    from privacy_pipeline.gates.candidate import run_window
    from privacy_pipeline.location.ledger import record_release

    # The clean release was received; the new candidate has one more person in 2018.
    sql = "; ".join(
        [
            f"update location.presence_hourly set people = people + 1 where area_id in "
            f"('{POSTAL_B}', '{MUNICIPALITY}', '{PROVINCE}')",
        ]
    )
    ctx = copy_with(published, tmp_path, sql)
    start, _ = run_window(published.run_date, published.config["timezone"])
    record_release(published.candidate_db, ctx.warehouse_dir, published.run_date, "first", start)
    observed = assert_gate_blocks(ctx, SUITE, "no_republished_figure_differs_by_less_than_k")
    changed = re.search(r"(\d+) now, (\d+) in an earlier release", observed)
    assert changed and int(changed[1]) - int(changed[2]) == 1, observed


def test_the_gate_reads_the_disclosure_rule_on_true_sets_of_people():
    disclosure_violations = suite_module("location").disclosure_violations

    people = frozenset(range(40))
    fine = [("A", people, 40), ("B", frozenset(range(10)), 10), ("C", frozenset(range(10, 40)), 30)]
    assert disclosure_violations(fine, 10) == ([], [])
    # B and C disjoint inside A: 40 - 10 - 28 = 2 (C counts 28 of A's people).
    unsafe = [
        ("A", people, 40),
        ("B", frozenset(range(10)), 10),
        ("C", frozenset(range(12, 40)), 28),
    ]
    found, _ = disclosure_violations(unsafe, 10)
    assert found and "= 2" in found[0]
    # one figure inside another, 3 apart
    found, _ = disclosure_violations([("A", people, 40), ("E", frozenset(range(37)), 37)], 10)
    assert found == ["A (40) minus E (37) = 3"]


def test_the_suite_finds_every_figure_inside_another():
    # The batched subset test against the definition, on random sets with many overlaps,
    # equal sets, empty ones and figures of one person.
    import random

    import numpy as np

    suite = suite_module("location")
    draw = random.Random(15)
    for _ in range(30):
        sets = [
            frozenset(draw.sample(range(3, 40), draw.choice([0, 1, 2, 5, 12, 30])))
            for _ in range(draw.randint(1, 25))
        ]
        sets += [draw.choice(sets)]  # an equal twin
        arrays = [np.array(sorted(s), dtype=np.int64) for s in sets]
        expected = [
            [b for b, inner in enumerate(sets) if b != a and inner and inner <= outer]
            for a, outer in enumerate(sets)
        ]
        assert suite.figures_inside(arrays) == expected


# --- the visits and moves tables (the clean landing zone, recounted by the gate: postal
# code 2000 has 41 residents on the day, 2018 has 35 in transit and 1 resident, Antwerpen
# 77 residents; at 14:00 the municipality has 75 people).


def add_visitors(level: str, area: str, visitor_class: str, people: int) -> str:
    return (
        "insert into location.visitors_daily by name select "
        f"'{level}' as area_level, '{area}' as area_id, '{visitor_class}' as visitor_class, "
        f"{people} as people, date '{RUN_DATE}' as run_date"
    )


def test_a_visitors_figure_that_counts_people_who_are_not_there_blocks(published, tmp_path):
    ctx = copy_with(published, tmp_path, add_visitors("postal_code", POSTAL_B, "visitor", 35))
    observed = gate_blocks(ctx, SUITE, RECOUNT)
    assert "visitors_daily" in observed and "finds 0" in observed


def test_a_flow_nobody_made_blocks(published, tmp_path):
    sql = (
        "insert into location.od_flows by name select 'municipality' as area_level, "
        f"'{MUNICIPALITY}' as origin_area_id, 'Elsewhere' as destination_area_id, "
        f"'midday' as time_band, 40 as people, date '{RUN_DATE}' as run_date"
    )
    observed = gate_blocks(copy_with(published, tmp_path, sql), SUITE, RECOUNT)
    assert "od_flows" in observed


def test_an_exact_daily_figure_that_reveals_a_small_group_against_an_hour_blocks(
    published, tmp_path
):
    """Antwerpen's 77 residents of the day hold the municipality's 75 people of 14:00:
    77 - 75 = 2 people, both figures exact. The rule relates them by their people."""
    sql = add_visitors("municipality", MUNICIPALITY, "resident", 77)
    ctx = copy_with(published, tmp_path, sql)
    observed = gate_blocks(ctx, SUITE, "no_difference_of_published_figures_reveals_fewer_than_k")
    assert "visitors_daily" in observed and "= 2" in observed


def test_exact_visitors_figures_that_reveal_nothing_pass(published, tmp_path):
    from privacy_pipeline.gates import run_suite

    sql = add_visitors("postal_code", POSTAL_B, "transit", 35)
    assert run_suite(copy_with(published, tmp_path, sql), SUITE)["success"]


def test_a_flow_from_an_area_to_itself_or_an_unknown_band_blocks(published, tmp_path):
    sql = (
        "insert into location.od_flows by name select 'municipality' as area_level, "
        f"'{MUNICIPALITY}' as origin_area_id, '{MUNICIPALITY}' as destination_area_id, "
        f"'noon' as time_band, 40 as people, date '{RUN_DATE}' as run_date"
    )
    ctx = copy_with(published, tmp_path, sql)
    observed = assert_gate_blocks(ctx, SUITE, "only_postal_code_municipality_or_province_areas")
    assert "od_flows" in observed


def test_parts_overlapping_by_k_or_more_reveal_nothing_and_by_fewer_block(published, tmp_path):
    """People seen in two postal codes in one hour make an area's parts add up to more
    than the area: Antwerpen 75 - event 40 - postal code 2018 gives -k or less (at least
    k people counted twice: nothing revealed), or within k of 0 (a few people: refused)."""
    overlapping = f"update location.presence_hourly set people = 105 where area_id = '{POSTAL_B}'"
    failed = failed_expectations(copy_with(published, tmp_path / "far", overlapping), SUITE)
    assert "event_minus_containing_area_is_0_or_at_least_k" not in failed
    close = f"update location.presence_hourly set people = 40 where area_id = '{POSTAL_B}'"
    observed = gate_blocks(
        copy_with(published, tmp_path / "close", close),
        SUITE,
        "event_minus_containing_area_is_0_or_at_least_k",
        also=frozenset({RECOUNT, DISCLOSURE, "area_minus_published_children_is_0_or_at_least_k"}),
    )
    assert "difference -5" in observed
