"""Retention of the person-level marketing tables (issue #14 item 4), on a small warehouse
built by hand (no DAG run): run dates older than retention.marketing_days leave
warehouse.duckdb and exports/, the location and DPO tables of those dates stay."""

from __future__ import annotations

import copy
import datetime as dt
import json

import duckdb
import pytest
from privacy_pipeline.config import load_config
from privacy_pipeline.publish import export_link, write_exports
from privacy_pipeline.retention import prune_marketing
from privacy_pipeline.run_context import RunContext

DATES = ("2026-03-01", "2026-05-30", "2026-06-20")
TABLES = ("marketing.customer_interests", "location.presence_hourly")


@pytest.fixture
def warehouse(tmp_path):
    root = tmp_path / "warehouse"
    root.mkdir()
    con = duckdb.connect(str(root / "warehouse.duckdb"))
    con.execute("create schema marketing; create schema location; create schema publication")
    con.execute(
        "create table marketing.customer_interests "
        "(customer_id varchar, interest varchar, score int, run_date date)"
    )
    con.execute("create table location.presence_hourly (area varchar, people int, run_date date)")
    con.execute(
        "create table publication.log (run_date date, run_id varchar, export_version varchar, "
        "published_at timestamptz, tables varchar)"
    )
    for day in DATES:
        con.execute(
            "insert into marketing.customer_interests values ('C-OLD-1', 'music', 70, ?), "
            "('C-OLD-2', 'sport', 40, ?)",
            [day, day],
        )
        con.execute("insert into location.presence_hourly values ('2000', 31, ?)", [day])
        con.execute(
            "insert into publication.log values (?, 'night', ?, now(), ?)",
            [day, f"v-{day}", json.dumps({t: 1 for t in TABLES})],
        )
    con.close()
    for day in DATES:
        run_date = dt.date.fromisoformat(day)
        write_exports(root, run_date, list(TABLES), f"v-{day}")
    return root


def context(warehouse, days: int) -> RunContext:
    config = copy.deepcopy(load_config())
    config["retention"]["marketing_days"] = days
    return RunContext.create(
        warehouse / "landing", warehouse, "2026-06-21", run_id="retention", config=config,
        reads_data=False,
    )  # fmt: skip


def test_marketing_run_dates_past_retention_leave_warehouse_and_exports(warehouse):
    assert load_config()["retention"]["marketing_days"] == 90  # the shipped default
    removed = prune_marketing(context(warehouse, 30))
    assert removed == {"2026-03-01": {"marketing.customer_interests": 2}}
    con = duckdb.connect(str(warehouse / "warehouse.duckdb"), read_only=True)
    try:
        kept = con.execute(
            "select distinct run_date::varchar from marketing.customer_interests order by 1"
        ).fetchall()
        location = con.execute("select count(*) from location.presence_hourly").fetchone()[0]
    finally:
        con.close()
    assert kept == [("2026-05-30",), ("2026-06-20",)]
    assert location == 3  # anonymous counts are not person-level: kept
    old = dt.date(2026, 3, 1)
    # marketing's folder no longer has the date, the location buyers' one still does
    assert not export_link(warehouse, old, "marketing").exists()
    assert sorted(p.name for p in export_link(warehouse, old, "location_buyers").iterdir()) == [
        "_MANIFEST.json",
        "location.presence_hourly.parquet",
    ]
    recent = export_link(warehouse, dt.date(2026, 5, 30), "marketing")
    assert (recent / "marketing.customer_interests.parquet").exists()
    # no export version of that date, in any recipient's folder, holds the rows
    assert not (warehouse / "exports" / "marketing" / ".versions" / "run_date=2026-03-01").exists()
    assert [p for p in (warehouse / "exports").rglob("*2026-03-01*/**/marketing.*")] == []


def test_nothing_changes_within_retention(warehouse):
    assert prune_marketing(context(warehouse, 200)) == {}
    assert (
        export_link(warehouse, dt.date(2026, 3, 1), "marketing")
        / "marketing.customer_interests.parquet"
    ).exists()
