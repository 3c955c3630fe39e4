"""The real DAG, end to end through Airflow, on a small generated landing zone."""

from __future__ import annotations

import duckdb
import pytest

from tests.support.pipeline import query, run_cli, run_pipeline

RUN_DATE = "2026-06-20"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    landing, warehouse = root / "landing", root / "warehouse"
    generated = run_cli(
        "demo-data",
        "--landing",
        str(landing),
        "--customers",
        "1500",
        "--events-per-customer",
        "30",
        "--end-date",
        RUN_DATE,
    )
    assert generated.returncode == 0, generated.stderr[-3000:]
    # As `make run` does: demo data is marked as such and runs without a pseudonym key.
    add_a_cell_whose_area_name_holds_a_phone_number(landing)
    first = run_pipeline(landing, warehouse, RUN_DATE, env={"PRIVACY_PIPELINE_PSEUDONYM_KEY": None})
    assert first.returncode == 0, (first.stdout[-3000:], first.stderr[-5000:])
    counts_after_first = published_counts(warehouse)
    second = run_pipeline(landing, warehouse, RUN_DATE)
    assert second.returncode == 0, (second.stdout[-3000:], second.stderr[-5000:])
    return {
        "landing": landing,
        "warehouse": warehouse,
        "first": first,
        "counts_after_first": counts_after_first,
    }


BAD_AREA_SUFFIX = " 0470 12 34 56"


def add_a_cell_whose_area_name_holds_a_phone_number(landing) -> None:
    """One more cell row, of a real postal code, whose municipality holds a phone number:
    quarantined, and the night must still publish (issue #9, a bad row never blocks it)."""
    cells = landing / "cells.parquet"
    with_bad = landing / "cells.with_bad.parquet"
    duckdb.sql(
        f"""copy (
            select * from '{cells}'
            union all
            (select 'CELL-BAD-NAME', postal_code, municipality || '{BAD_AREA_SUFFIX}',
                    province, lat, lon
             from '{cells}' order by cell_id limit 1)
        ) to '{with_bad}' (format parquet)"""
    )
    with_bad.replace(cells)


def published_tables(warehouse) -> list[str]:
    rows = query(
        warehouse,
        "select table_schema || '.' || table_name from information_schema.tables "
        "where table_schema in ('marketing', 'location', 'dpo') order by 1",
    )
    return [name for (name,) in rows]


def published_counts(warehouse) -> dict[str, int]:
    return {
        name: query(warehouse, f"select count(*) from {name}")[0][0]
        for name in published_tables(warehouse)
    }


def test_every_family_is_published(demo):
    tables = published_tables(demo["warehouse"])
    for expected in [
        "marketing.customer_interests",
        "marketing.interest_evidence",
        "marketing.segment_members",
        "marketing.partner_audiences",
        "location.presence_hourly",
        "location.event_attendance",
        "location.event_attendance_total",
        "location.visitors_daily",
        "location.visitor_origin",
        "location.od_flows",
        "location.suppression_summary",
        "dpo.load_reconciliation",
        "dpo.quarantine_summary",
        "dpo.gate_results",
    ]:
        assert expected in tables
    # person-level DPO material is in the restricted store only
    assert "dpo.quarantined_rows" not in tables and "dpo.rejected_privacy_events" not in tables
    store = duckdb.connect(str(demo["warehouse"] / "restricted" / "dpo.duckdb"), read_only=True)
    try:
        for table in ("dpo.quarantined_rows", "dpo.rejected_privacy_events"):
            store.execute(f"select run_date, reason from {table}").fetchall()
    finally:
        store.close()


def test_segments_and_location_counts_are_published_for_the_run_date(demo):
    warehouse = demo["warehouse"]
    segments = dict(
        query(
            warehouse,
            "select segment, count(*) from marketing.segment_members "
            "where run_date = ? group by segment",
            [RUN_DATE],
        )
    )
    assert segments.get("standard_offers", 0) > 0
    smallest, areas = query(
        warehouse,
        "select min(people), count(*) from location.presence_hourly where run_date = ?",
        [RUN_DATE],
    )[0]
    assert areas > 0
    assert smallest >= 30


def test_every_landing_row_is_accepted_or_quarantined(demo):
    rows = query(
        demo["warehouse"],
        "select source_table, rows_read, rows_accepted, rows_quarantined "
        "from dpo.load_reconciliation where run_date = ?",
        [RUN_DATE],
    )
    assert {table for table, *_ in rows} >= {"customers", "privacy_preferences", "network_events"}
    for table, read, accepted, quarantined in rows:
        assert read == accepted + quarantined, table
    assert "network_events" in demo["first"].stdout


def test_a_bad_area_name_is_quarantined_and_its_postal_code_still_counted(demo):
    warehouse = demo["warehouse"]
    summary = query(
        warehouse,
        "select rows from dpo.quarantine_summary "
        "where run_date = ? and source_table = 'cells' and reason = 'contact_details:municipality'",
        [RUN_DATE],
    )
    assert summary == [(1,)]
    areas = {
        area
        for (area,) in query(warehouse, "select distinct area_id from location.presence_hourly")
    }
    assert areas and not [a for a in areas if BAD_AREA_SUFFIX.strip() in a]


def test_rerun_of_the_same_date_replaces_its_rows(demo):
    counts = published_counts(demo["warehouse"])
    for table, count in demo["counts_after_first"].items():
        if table == "dpo.gate_results":  # an audit log: every run appends
            assert counts[table] > count
        else:
            assert counts[table] == count, table


def test_exports_hold_each_published_table_of_the_run_date(demo):
    from privacy_pipeline.recipients import recipient_tables

    warehouse = demo["warehouse"]
    plan = recipient_tables()
    for table in published_tables(warehouse):
        receivers = [r for r, tables in plan.items() if table in tables]
        assert receivers, f"{table} goes to no recipient"
        for recipient in receivers:
            parquet = (
                warehouse / "exports" / recipient / f"run_date={RUN_DATE}" / f"{table}.parquet"
            )
            assert parquet.exists(), parquet
            exported = duckdb.sql(f"select count(*) from read_parquet('{parquet}')").fetchall()[0][
                0
            ]
            published = query(
                warehouse, f"select count(*) from {table} where run_date = ?", [RUN_DATE]
            )
            assert exported == published[0][0], parquet


def test_each_recipient_folder_holds_exactly_its_tables_and_no_person_for_location_buyers(demo):
    from privacy_pipeline.recipients import PERSON_LEVEL_COLUMN, recipient_tables

    exports = demo["warehouse"] / "exports"
    plan = recipient_tables()
    assert {"marketing", "location_buyers", "dpo"} <= set(plan)
    # only recipients' folders at the top: the flat layout (exports/run_date=D) is gone
    assert sorted(p.name for p in exports.iterdir()) == sorted(plan)
    for recipient, tables in plan.items():
        folder = exports / recipient / f"run_date={RUN_DATE}"
        files = sorted(p.name for p in folder.iterdir())
        assert files == sorted(["_MANIFEST.json", *(f"{t}.parquet" for t in tables)]), recipient
    buyers = exports / "location_buyers"
    every_file = [p for p in buyers.rglob("*.parquet")]
    assert every_file and all(p.name.startswith("location.") for p in every_file)
    for path in every_file:
        columns = [
            c for (c,) in duckdb.sql(f"select name from parquet_schema('{path}')").fetchall()
        ]
        person = [c for c in columns if PERSON_LEVEL_COLUMN.fullmatch(c) or "customer" in c]
        assert not person, (path, person)
    marketing = sorted(p.name for p in (exports / "marketing").rglob("*.parquet"))
    assert marketing and all(name.startswith("marketing.") for name in marketing)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_marketing_can_export_a_table(demo, tmp_path, fmt):
    output = tmp_path / f"segments.{fmt}"
    result = run_cli(
        "export",
        "--warehouse",
        str(demo["warehouse"]),
        "--table",
        "marketing.segment_members",
        "--format",
        fmt,
        "--output",
        str(output),
    )
    assert result.returncode == 0, result.stderr
    reader = "read_csv_auto" if fmt == "csv" else "read_parquet"
    rows = duckdb.sql(f"select count(*) from {reader}('{output}')").fetchall()[0][0]
    assert rows == query(demo["warehouse"], "select count(*) from marketing.segment_members")[0][0]


def test_reports_are_written(demo):
    reports = demo["warehouse"] / "reports"
    assert (reports / "validation" / "index.html").exists()
    assert (reports / "runs" / f"{RUN_DATE}.html").exists()


def test_per_person_working_data_is_deleted_after_publication(demo):
    assert not list((demo["warehouse"] / "runs").glob("*/*.duckdb"))
