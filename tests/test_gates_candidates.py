"""Prepared candidate databases for the gate tests, and tests of what the gates derive.

The gates read only the landing views and the candidate marts, so a candidate here is
the real loader's landing views plus hand-made marts that keep every promise. A gate
test copies the clean candidate, injects exactly one violation and runs the suite.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest
from privacy_pipeline.errors import GateFailed
from privacy_pipeline.gates import load_suite, run_suite
from privacy_pipeline.gates.candidate import Candidate, run_window
from privacy_pipeline.gates.landing_facts import (
    consented_customers,
    marketable_customers,
    opted_out_customers,
)
from privacy_pipeline.landing import load_landing_zone
from privacy_pipeline.run_context import RunContext

from tests.support.landing import (
    C_CLOSED,
    C_PROXIMUS,
    C_SCARLET_LEGACY,
    C_SCARLET_MIGRATED,
    CELL_A1,
    CELL_B1,
    EVENT_ID,
    MUNICIPALITY,
    PARTNER_BELFIUS,
    POSTAL_A,
    POSTAL_B,
    PROVINCE,
    RUN_DATE,
    consent_event,
    make_customers,
    network_events_for,
    ts,
    write_landing_zone,
)

K = 30
# A customer with no consent beyond the defaults, open, on the Proximus platform.
C_PLAIN = "N00001"

# A talk of 45 minutes in postal code 2018: its total counts the people of one hour.
SHORT_EVENT_ID = "E002"
CROWD = make_customers(75)

LANDING_CHANGES = {
    "+events": [
        {
            "event_id": SHORT_EVENT_ID,
            "name": "Morning talk",
            "starts_at": f"{RUN_DATE}T10:00:00+02:00",
            "ends_at": f"{RUN_DATE}T10:45:00+02:00",
        }
    ],
    "+event_cells": [{"event_id": SHORT_EVENT_ID, "cell_id": "CELL-B1"}],
    # The people behind the clean location figures: 40 in postal code 2000 (at the
    # festival's cell) and 35 in 2018, at 14:00; the gate recounts them from these events.
    "+customers": CROWD,
    "+network_events": network_events_for(CROWD[:40], CELL_A1, ts(14, 10))
    + network_events_for(CROWD[40:], CELL_B1, ts(14, 20)),
    "+privacy_preferences": [
        consent_event("G001", C_PROXIMUS, "partner_offers", "opt_in"),
        consent_event("G002", C_PROXIMUS, "personalisation_usage", "opt_in"),
    ],
    # The console behind C_PROXIMUS's gaming usage evidence (scoring.usage.device_rules),
    # seen during the usage consent: the gate checks usage evidence per interest.
    "+device_observations": [
        {
            "customer_id": C_PROXIMUS,
            "observed_at": ts(19),
            "kind": "home_device",
            "model": "Game console",
            "wifi_state": "connected",
        }
    ],
}

# Marts that keep every promise for the landing zone above: only C_PROXIMUS may be
# profiled (C_SCARLET_MIGRATED objected on the Scarlet platform, C_SCARLET_LEGACY is not
# migrated, C_CLOSED is closed); location counts are additive and at least k.
CLEAN_MARTS = f"""
create schema marketing;
create table marketing.customer_interests as
select '{C_PROXIMUS}' as customer_id, interest, score, date '{RUN_DATE}' as run_date
from (values ('music', 50), ('gaming', 10)) as t(interest, score);
create table marketing.interest_evidence as
select '{C_PROXIMUS}' as customer_id, interest, basis, contribution, date '{RUN_DATE}' as run_date
from (values ('music', 'declared', 45.0::double), ('music', 'browsing', 5.0::double),
             ('gaming', 'usage', 10.0::double)) as t(interest, basis, contribution);
create table marketing.segment_members as
select segment, '{C_PROXIMUS}' as customer_id, date '{RUN_DATE}' as run_date
from (values ('standard_offers'), ('music_lovers')) as t(segment);
create table marketing.partner_audiences as
select '{PARTNER_BELFIUS}' as partner_id, '{C_PROXIMUS}' as customer_id,
       date '{RUN_DATE}' as run_date;

create schema location;
create table location.presence_hourly as
select area_level, area_id, timestamptz '{RUN_DATE} 14:00:00+02' as hour_start,
       cast(people as bigint) as people, date '{RUN_DATE}' as run_date
from (values ('postal_code', '{POSTAL_A}', 40), ('postal_code', '{POSTAL_B}', 35),
             ('municipality', '{MUNICIPALITY}', 75), ('province', '{PROVINCE}', 75))
     as t(area_level, area_id, people);
create table location.event_attendance as
select '{EVENT_ID}' as event_id, timestamptz '{RUN_DATE} 14:00:00+02' as hour_start,
       cast(40 as bigint) as people, date '{RUN_DATE}' as run_date;
create table location.event_attendance_total as
select '{EVENT_ID}' as event_id, cast(40 as bigint) as people, date '{RUN_DATE}' as run_date;
create table location.visitors_daily as
select 'postal_code' as area_level, '{POSTAL_A}' as area_id, 'resident' as visitor_class,
       cast(40 as bigint) as people, date '{RUN_DATE}' as run_date where false;
create table location.visitor_origin as
select 'postal_code' as area_level, '{POSTAL_A}' as area_id, 'municipality' as origin_level,
       '{MUNICIPALITY}' as origin_area_id, cast(40 as bigint) as people,
       date '{RUN_DATE}' as run_date where false;
create table location.od_flows as
select 'municipality' as area_level, '{MUNICIPALITY}' as origin_area_id,
       '{MUNICIPALITY}' as destination_area_id, 'midday' as time_band,
       cast(40 as bigint) as people, date '{RUN_DATE}' as run_date where false;
create table location.suppression_summary as
select date '{RUN_DATE}' as run_date, 'presence_hourly' as table_name,
       'postal_code' as area_level, 2 as published, 0 as suppressed_below_k,
       0 as suppressed_complementary, 0 as suppressed_republication, 2 as candidate_figures,
       75 as people_hours, 75 as published_people_hours, 1.0 as published_figures_share,
       1.0 as published_people_hours_share, 1.0 as total_published_figures_share,
       1.0 as total_published_people_hours_share;

create schema dpo_restricted;
create table dpo_restricted.rejected_privacy_events as
select date '{RUN_DATE}' as run_date, 'PP999' as event_id, 'unknown purpose' as reason;
create table dpo_restricted.quarantined_rows as
select date '{RUN_DATE}' as run_date, 'customers' as source_table,
       'customers.csv' as source_file, 'unknown_enum:brand' as reason,
       '{{"customer_id":"X1","msisdn_pseudonym":"d00fc6010a3b92dafb4af3ac47881"}}' as row_data;

create schema dpo;
create table dpo.load_reconciliation as
select date '{RUN_DATE}' as run_date, 'customers' as source_table,
       6 as rows_read, 5 as rows_accepted, 1 as rows_quarantined, 0 as rows_erased;
create table dpo.quarantine_summary as
select date '{RUN_DATE}' as run_date, 'customers' as source_table,
       'unknown_enum:brand' as reason, cast(1 as bigint) as rows;
"""


def build_clean_candidate(root: Path) -> RunContext:
    """The landing zone, the real loader's views and marts that keep every promise."""
    write_landing_zone(root / "landing", LANDING_CHANGES)
    ctx = context_for(root / "landing", root / "warehouse")
    ctx.run_dir.mkdir(parents=True)
    load_landing_zone(ctx)
    inject(ctx, CLEAN_MARTS)
    return ctx


def context_for(landing: Path, warehouse: Path, run_id: str = "gate-test") -> RunContext:
    return RunContext.create(landing, warehouse, RUN_DATE, k=K, run_id=run_id)


def copy_candidate(clean: RunContext, warehouse: Path) -> RunContext:
    """A private copy of the clean candidate, in its own warehouse."""
    ctx = context_for(clean.landing_dir, warehouse)
    ctx.run_dir.mkdir(parents=True)
    shutil.copy(clean.candidate_db, ctx.candidate_db)
    return ctx


def inject(ctx: RunContext, sql: str) -> None:
    con = duckdb.connect(str(ctx.candidate_db))
    try:
        con.execute(sql)
    finally:
        con.close()


def publish_clean_run(root: Path) -> RunContext:
    """A warehouse with the clean candidate published: the state a failed gate must keep."""
    from privacy_pipeline.gates import SUITES
    from privacy_pipeline.publish import publish_run

    ctx = build_clean_candidate(root)
    for suite in SUITES:
        run_suite(ctx, suite)
    publish_run(ctx)
    return ctx


def violating_copy(published: RunContext, root: Path, sql: str) -> RunContext:
    """A copy of the published warehouse (its candidate too) with ``sql`` run on the candidate."""
    warehouse = root / "warehouse"
    shutil.copytree(published.warehouse_dir, warehouse, symlinks=True)
    ctx = context_for(published.landing_dir, warehouse)
    shutil.rmtree(ctx.run_dir / "gates")
    inject(ctx, sql)
    return ctx


def published_state(warehouse: Path) -> dict[str, object]:
    """Every published row (the audit log aside), every exported file and every row of the
    DPO's restricted store, to compare."""
    from privacy_pipeline.publish import CANDIDATE_TABLES
    from privacy_pipeline.restricted import RESTRICTED_TABLES, restricted_db

    state: dict[str, object] = {}
    for db, tables in [
        (warehouse / "warehouse.duckdb", CANDIDATE_TABLES),
        (restricted_db(warehouse), RESTRICTED_TABLES),
    ]:
        con = duckdb.connect(str(db), read_only=True)
        try:
            for table in tables:
                state[table] = sorted(map(repr, con.execute(f"select * from {table}").fetchall()))
        finally:
            con.close()
    exports = warehouse / "exports"
    state["exports"] = sorted(
        (str(path.relative_to(exports)), path.resolve().name, path.read_bytes())
        for path in exports.glob("*/run_date=*/*")
    )
    return state


def assert_gate_blocks(
    ctx: RunContext, suite: str, expectation: str, also: frozenset[str] = frozenset()
) -> str:
    """Exactly ``expectation`` fails (and perhaps ``also``), publication is refused, the
    publication is unchanged."""
    from privacy_pipeline.publish import publish_run

    before = published_state(ctx.warehouse_dir)
    failed = failed_expectations(ctx, suite)
    assert set(failed) - also == {expectation}, failed
    with pytest.raises(GateFailed) as refused:
        publish_run(ctx)
    assert refused.value.exit_code == 1
    assert published_state(ctx.warehouse_dir) == before
    return failed[expectation]


def failed_expectations(ctx: RunContext, suite: str) -> dict[str, str]:
    """Run the suite, which must fail; return expectation -> observed of the failed ones."""
    with pytest.raises(GateFailed) as failure:
        run_suite(ctx, suite)
    from privacy_pipeline.gates.results import read_suite_results

    result = read_suite_results(ctx)[suite]
    failed = {e["expectation"]: e["observed"] for e in result["expectations"] if not e["success"]}
    for name in failed:
        assert name in str(failure.value)
    return failed


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> RunContext:
    return build_clean_candidate(tmp_path_factory.mktemp("clean"))


def customer_ids(candidate: Candidate, table: str) -> set[str]:
    return {row[0] for row in candidate.rows(f"select customer_id from {table}")}


def test_run_window_is_the_brussels_day_with_23_or_25_hours_on_dst_days():
    for day, hours in [("2026-06-20", 24), ("2026-03-29", 23), ("2026-10-25", 25)]:
        start, end = run_window(dt.date.fromisoformat(day), "Europe/Brussels")
        assert (end - start) == dt.timedelta(hours=hours)
    start, _ = run_window(dt.date(2026, 6, 20), "Europe/Brussels")
    assert start == dt.datetime(2026, 6, 19, 22, tzinfo=dt.UTC)


def test_latest_choice_comes_from_the_whole_ledger_and_an_opt_out_wins_a_tie(tmp_path):
    at = "2026-06-10T10:00:00+02:00"
    write_landing_zone(
        tmp_path / "landing",
        {
            "+customers": make_customers(5),
            "+privacy_preferences": [
                # opted out, then back in: not opted out
                consent_event("T1", "N00001", "direct_marketing", "opt_out", at),
                consent_event("T2", "N00001", "direct_marketing", "opt_in", "2026-06-11T10:00Z"),
                # opt-in and opt-out at the same instant: the opt-out wins
                consent_event("T3", "N00002", "direct_marketing", "opt_in", at),
                consent_event("T4", "N00002", "direct_marketing", "opt_out", at),
                # an opt-out after the run date still counts (the whole ledger)
                consent_event("T5", "N00003", "direct_marketing", "opt_out", "2026-07-01T10:00Z"),
                # readable refusals with an unreadable time or channel are honoured
                consent_event("T6", "N00004", "direct_marketing", "opt_out", "yesterday"),
                consent_event("T7", "N00005", "direct_marketing", "opt_out", channel="pigeon"),
            ],
        },
    )
    ctx = context_for(tmp_path / "landing", tmp_path / "warehouse")
    ctx.run_dir.mkdir(parents=True)
    load_landing_zone(ctx)
    candidate = Candidate.open(ctx)
    try:
        opted_out = customer_ids(candidate, opted_out_customers(candidate, "direct_marketing"))
        marketable = customer_ids(candidate, marketable_customers(candidate))
    finally:
        candidate.close()
    assert opted_out == {C_SCARLET_MIGRATED, "N00002", "N00003", "N00004", "N00005"}
    assert C_PROXIMUS in marketable and C_SCARLET_MIGRATED in marketable
    assert C_SCARLET_LEGACY not in marketable and C_CLOSED not in marketable


def test_the_clean_candidate_passes_every_gate_quietly(clean, tmp_path, capfd, caplog):
    from privacy_pipeline.gates import SUITES

    ctx = copy_candidate(clean, tmp_path / "warehouse")
    caplog.set_level("DEBUG")
    for suite in SUITES:
        result = run_suite(ctx, suite)
        assert result["success"], result
    # Great Expectations' progress bars and chatter stay out of the Airflow task log.
    out, err = capfd.readouterr()
    assert "Calculating Metrics" not in out + err and "%|" not in out + err
    assert not [r for r in caplog.records if r.name.startswith("great_expectations")]
    assert [r.message for r in caplog.records if r.name == "privacy_pipeline.gates.runner"] == [
        f"privacy gate {suite} passed: {len(load_suite(suite).promises)} expectations"
        for suite in SUITES
    ]


def test_consent_based_purposes_need_a_valid_proximus_opt_in_after_migration(tmp_path):
    purpose, before, after = "partner_offers", "2026-06-01T10:00Z", "2026-06-25T10:00Z"
    scarlet = make_customers(2, start=10, brand="scarlet", migrated_at="2026-05-01T00:00Z")
    write_landing_zone(
        tmp_path / "landing",
        {
            "+customers": make_customers(5) + scarlet,
            "+privacy_preferences": [
                consent_event("U1", "N00001", purpose, "opt_in", before),  # allowed
                consent_event("U2", "N00002", purpose, "opt_in", before, platform="scarlet_legacy"),
                consent_event("U3", "N00003", purpose, "opt_in", before, channel="pigeon"),
                consent_event("U4", "N00004", purpose, "opt_in", before),
                consent_event("U5", "N00004", purpose, "opt_out", after),  # withdrawn after D
                consent_event("U6", "N00005", purpose, "opt_in", after),  # not back-dated
                consent_event("U7", "N00010", purpose, "opt_in", before),  # after migration
                consent_event("U8", "N00011", purpose, "opt_in", "2026-04-01T10:00Z"),
            ],
        },
    )
    ctx = context_for(tmp_path / "landing", tmp_path / "warehouse")
    ctx.run_dir.mkdir(parents=True)
    load_landing_zone(ctx)
    candidate = Candidate.open(ctx)
    try:
        allowed = customer_ids(candidate, consented_customers(candidate, purpose))
    finally:
        candidate.close()
    assert allowed == {"N00001", "N00010"}


def test_the_gates_duckdb_memory_is_capped_like_dbts(tmp_path, monkeypatch):
    """The landing recounts materialise the day's sightings: DuckDB's own default (80% of
    the machine) took 12.9 GB at 20M events; the gates follow dbt's cap."""
    import duckdb

    ctx = context_for(tmp_path / "landing", tmp_path / "warehouse")
    ctx.run_dir.mkdir(parents=True)
    duckdb.connect(str(ctx.candidate_db)).close()
    for limit, shown in (("1GB", "953.6 MiB"), ("", "3.7 GiB")):  # "" = the 4GB default
        monkeypatch.setenv("PRIVACY_PIPELINE_DUCKDB_MEMORY_LIMIT", limit)
        candidate = Candidate.open(ctx)
        try:
            assert candidate.con.execute("select current_setting('memory_limit')").fetchone() == (
                shown,
            )
        finally:
            candidate.close()
