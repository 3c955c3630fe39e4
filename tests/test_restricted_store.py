"""The DPO's restricted store: person-level material goes to restricted/dpo.duckdb at
publication, never to warehouse.duckdb or exports/, and is pruned by its retention.

Publication tests use the gated clean candidate of the publication tests; the retention
tests build tiny warehouses by hand.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys

import duckdb
import pytest
from privacy_pipeline.config import load_config, validate_retention
from privacy_pipeline.errors import ConfigError
from privacy_pipeline.gate_binding import lock_path
from privacy_pipeline.publish import PUBLISHED_TABLES, export_link, publish_run
from privacy_pipeline.restricted import CANDIDATE_SCHEMA, RESTRICTED_TABLES, restricted_db
from privacy_pipeline.run_context import RunContext
from privacy_pipeline.stages import FAILURE_FILE, prune_working_data

from tests.support.landing import RUN_DATE
from tests.test_publish import REPO, clean_root, gated_copy  # noqa: F401 (fixture)


def store_rows(warehouse, table: str) -> list[tuple]:
    con = duckdb.connect(str(restricted_db(warehouse)), read_only=True)
    try:
        return con.execute(f"select * from {table} order by all").fetchall()
    finally:
        con.close()


def warehouse_tables(warehouse) -> set[str]:
    con = duckdb.connect(str(warehouse / "warehouse.duckdb"), read_only=True)
    try:
        rows = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables"
        ).fetchall()
    finally:
        con.close()
    return {name for (name,) in rows}


def test_restricted_tables_are_one_list_apart_from_the_published_ones():
    assert set(RESTRICTED_TABLES) == {"dpo.quarantined_rows", "dpo.rejected_privacy_events"}
    assert not set(RESTRICTED_TABLES) & set(PUBLISHED_TABLES)
    assert "dpo.quarantine_summary" in PUBLISHED_TABLES
    # every model of the restricted folder is listed (else it would silently stay behind),
    # and no published DPO model is restricted
    marts = REPO / "dbt_project" / "models" / "marts"
    restricted_models = {f"dpo.{p.stem}" for p in (marts / CANDIDATE_SCHEMA).glob("*.sql")}
    assert restricted_models == set(RESTRICTED_TABLES)
    published_models = {f"dpo.{p.stem}" for p in (marts / "dpo").glob("*.sql")}
    assert published_models == {t for t in PUBLISHED_TABLES if t.startswith("dpo.")} - {
        "dpo.gate_results"
    }


def test_publication_writes_the_restricted_store_and_never_the_warehouse_or_exports(
    clean_root,  # noqa: F811
    tmp_path,
):
    ctx = gated_copy(clean_root, tmp_path / "wh")
    publish_run(ctx)
    store = restricted_db(ctx.warehouse_dir)
    assert store == ctx.warehouse_dir / "restricted" / "dpo.duckdb"
    assert store.parent.stat().st_mode & 0o077 == 0, "the folder is private"
    quarantined = store_rows(ctx.warehouse_dir, "dpo.quarantined_rows")
    assert [row[:4] for row in quarantined] == [
        (dt.date.fromisoformat(RUN_DATE), "customers", "customers.csv", "unknown_enum:brand")
    ]
    assert len(store_rows(ctx.warehouse_dir, "dpo.rejected_privacy_events")) == 1
    assert not set(RESTRICTED_TABLES) & warehouse_tables(ctx.warehouse_dir)
    exported = {p.name for p in (ctx.warehouse_dir / "exports").rglob("*.parquet")}
    assert exported and not any(name.startswith(RESTRICTED_TABLES) for name in exported)


def test_a_rerun_replaces_the_dates_rows_and_keeps_other_dates(clean_root, tmp_path):  # noqa: F811
    ctx = gated_copy(clean_root, tmp_path / "wh")
    publish_run(ctx)
    con = duckdb.connect(str(restricted_db(ctx.warehouse_dir)))
    con.execute(
        "insert into quarantined_rows values "
        "(date '2026-06-19', 'cells', 'cells.csv', 'unknown_cell', '{}')"
    )
    con.close()
    publish_run(ctx)
    by_date = store_rows(
        ctx.warehouse_dir,
        "(select cast(run_date as varchar), count(*) from dpo.quarantined_rows group by 1)",
    )
    assert by_date == [("2026-06-19", 1), (RUN_DATE, 1)]


def test_publication_removes_restricted_tables_published_before_they_moved(
    clean_root,  # noqa: F811
    tmp_path,
):
    ctx = gated_copy(clean_root, tmp_path / "wh")
    publish_run(ctx)
    # The layout before the restricted store: the tables in the warehouse and the exports.
    con = duckdb.connect(str(ctx.warehouse_db))
    con.execute("create table dpo.quarantined_rows as select date '2026-06-19' as run_date")
    con.close()
    version = export_link(ctx.warehouse_dir, ctx.run_date, "dpo").resolve()
    shutil.copy(
        version / "dpo.load_reconciliation.parquet", version / "dpo.quarantined_rows.parquet"
    )
    manifest = json.loads((version / "_MANIFEST.json").read_text())
    manifest["rows"]["dpo.quarantined_rows"] = 1
    (version / "_MANIFEST.json").write_text(json.dumps(manifest))

    publish_run(ctx)
    assert "dpo.quarantined_rows" not in warehouse_tables(ctx.warehouse_dir)
    # No export version keeps it (the superseded one is deleted: publish.KEPT_VERSIONS).
    leftovers = list((ctx.warehouse_dir / "exports").rglob("dpo.quarantined_rows*"))
    assert leftovers == []
    live = export_link(ctx.warehouse_dir, ctx.run_date, "dpo").resolve()
    assert live != version
    manifest = json.loads((live / "_MANIFEST.json").read_text())
    assert "dpo.load_reconciliation" in manifest["rows"]
    assert "dpo.quarantined_rows" not in manifest["rows"]


# ------------------------------------------------------------------ retention


def context(warehouse, run_date: str, **retention) -> RunContext:
    config = load_config()
    config["retention"].update(retention)
    return RunContext.create(warehouse / "landing", warehouse, run_date, config=config)


def fake_run(warehouse, run_date: str, failed: bool) -> None:
    run_dir = warehouse / "runs" / run_date
    run_dir.mkdir(parents=True)
    (run_dir / "candidate.duckdb").write_bytes(b"per-person rows")
    if failed:
        (run_dir / FAILURE_FILE).write_text('{"stage": "gate_location", "exit_code": 1}\n')


def test_candidates_of_failed_and_published_runs_are_pruned_by_their_retention(tmp_path):
    runs = {
        "2026-06-10": True,  # failed 10 days before: past failed_candidate_days
        "2026-06-15": True,  # failed 5 days before: kept
        "2026-06-18": False,  # published 2 days before: past candidate_days
        "2026-06-20": True,  # this run failed: kept
    }
    for run_date, failed in runs.items():
        fake_run(tmp_path, run_date, failed)
    ctx = context(tmp_path, "2026-06-20", candidate_days=1, failed_candidate_days=7)
    pruned = prune_working_data(ctx)
    assert sorted(pruned["candidates_removed"]) == ["2026-06-10", "2026-06-18"]
    kept = sorted(p.parent.name for p in (tmp_path / "runs").glob("*/candidate.duckdb"))
    assert kept == ["2026-06-15", "2026-06-20"]

    zero = context(tmp_path, "2026-06-20", candidate_days=0, failed_candidate_days=0)
    assert sorted(prune_working_data(zero)["candidates_removed"]) == ["2026-06-15", "2026-06-20"]


def test_the_candidate_of_a_run_in_progress_is_not_pruned(tmp_path):
    fake_run(tmp_path, "2026-06-01", failed=False)
    lock = lock_path(tmp_path, dt.date(2026, 6, 1))
    lock.parent.mkdir(parents=True)
    lock.touch()
    # Another process (a run of 2026-06-01) holds the date's lock until we close its stdin.
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl,sys; f=open(sys.argv[1]); "
         "fcntl.flock(f, fcntl.LOCK_EX); print('held', flush=True); sys.stdin.read()", str(lock)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        ctx = context(tmp_path, "2026-06-20", candidate_days=1, failed_candidate_days=1)
        assert prune_working_data(ctx)["candidates_removed"] == []
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert prune_working_data(ctx)["candidates_removed"] == ["2026-06-01"]


def test_the_restricted_store_keeps_only_its_retention_of_run_dates(tmp_path):
    store = restricted_db(tmp_path)
    store.parent.mkdir(parents=True)
    con = duckdb.connect(str(store))
    for table in ("quarantined_rows", "rejected_privacy_events"):
        con.execute(
            f"create table {table} as select cast(d as date) as run_date "
            "from (values ('2026-05-20'), ('2026-05-21'), ('2026-06-20')) as t(d)"
        )
    con.close()
    pruned = prune_working_data(context(tmp_path, "2026-06-20", restricted_store_days=30))
    assert pruned["restricted_rows_deleted"] == {table: 1 for table in RESTRICTED_TABLES}
    for table in RESTRICTED_TABLES:
        dates = [str(d) for (d,) in store_rows(tmp_path, f"(select run_date from {table})")]
        assert dates == ["2026-05-21", RUN_DATE]


def test_retention_defaults_and_validation():
    retention = load_config()["retention"]
    assert retention["failed_candidate_days"] >= 0 and retention["restricted_store_days"] >= 1
    assert validate_retention({}) == {
        "candidate_days": 0,
        "failed_candidate_days": 3,
        "restricted_store_days": 30,
        "marketing_days": 90,
    }
    for bad in ({"restricted_store_days": -1}, {"failed_candidate_days": "7"}):
        with pytest.raises(ConfigError, match="retention"):
            validate_retention(bad)
