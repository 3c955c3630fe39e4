"""Publication: copy the gated candidate tables into the warehouse, all or nothing.

Every table of the candidate schemas below is published; publishing run date D
replaces the rows of D and keeps every other date. The copy is one DuckDB
transaction, so a reader sees the previous publication or the new one, and a crash
mid-way rolls back to the previous one.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
from typing import Any

import duckdb

from privacy_pipeline.errors import GateFailed
from privacy_pipeline.gates.results import append_gate_results, read_suite_results
from privacy_pipeline.gates.suites import SUITES
from privacy_pipeline.run_context import RunContext

log = logging.getLogger(__name__)

PUBLISHED_SCHEMAS = ("marketing", "location", "dpo")


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def candidate_tables(con: duckdb.DuckDBPyConnection, catalog: str) -> list[tuple[str, str]]:
    """(schema, table) of every candidate table to publish, in a stable order."""
    placeholders = ", ".join("?" for _ in PUBLISHED_SCHEMAS)
    return con.execute(
        f"""
        select table_schema, table_name from information_schema.tables
        where table_catalog = ? and table_schema in ({placeholders}) and table_type = 'BASE TABLE'
        order by table_schema, table_name
        """,
        [catalog, *PUBLISHED_SCHEMAS],
    ).fetchall()


def require_every_gate_passed(ctx: RunContext) -> None:
    """Nothing is published unless every privacy gate ran on this candidate and passed."""
    results = read_suite_results(ctx)
    not_passed = [s for s in SUITES if not results.get(s, {}).get("success")]
    if not_passed:
        raise GateFailed(
            f"refusing to publish {ctx.run_date}: privacy gates not passed: {', '.join(not_passed)}"
        )


def publish_run(ctx: RunContext) -> dict[str, Any]:
    """Publish the run's candidate marts; returns rows published per table."""
    require_every_gate_passed(ctx)
    ctx.warehouse_db.parent.mkdir(parents=True, exist_ok=True)
    run_date = ctx.run_date.isoformat()
    published: dict[str, int] = {}
    con = duckdb.connect(str(ctx.warehouse_db))
    try:
        con.execute(f"attach '{ctx.candidate_db}' as candidate (read_only)")
        tables = candidate_tables(con, "candidate")
        con.execute("begin transaction")
        for schema, table in tables:
            source = f"candidate.{quote(schema)}.{quote(table)}"
            target = f"{quote(schema)}.{quote(table)}"
            columns = [row[0] for row in con.execute(f"describe {source}").fetchall()]
            if "run_date" not in columns:
                raise ValueError(f"candidate table {schema}.{table} has no run_date column")
            con.execute(f"create schema if not exists {quote(schema)}")
            con.execute(f"create table if not exists {target} as select * from {source} limit 0")
            con.execute(f"delete from {target} where run_date = cast(? as date)", [run_date])
            con.execute(f"insert into {target} by name select * from {source}")
            published[f"{schema}.{table}"] = con.execute(
                f"select count(*) from {target} where run_date = cast(? as date)", [run_date]
            ).fetchone()[0]
        append_gate_results(con, ctx)
        published["dpo.gate_results"] = con.execute(
            "select count(*) from dpo.gate_results where run_date = cast(? as date)", [run_date]
        ).fetchone()[0]
        con.execute("commit")
    except Exception:
        with contextlib.suppress(duckdb.Error):
            con.execute("rollback")
        raise
    finally:
        con.close()
    export_published_tables(ctx, list(published))
    log.info("published %d tables for %s", len(published), run_date)
    return published


def export_published_tables(ctx: RunContext, tables: list[str]) -> None:
    """Write one Parquet file per published table for the run date, then swap the folder in."""
    final_dir = ctx.exports_dir
    building_dir = final_dir.with_name(f".{final_dir.name}.building")
    shutil.rmtree(building_dir, ignore_errors=True)
    building_dir.mkdir(parents=True)
    con = duckdb.connect(str(ctx.warehouse_db), read_only=True)
    try:
        for name in tables:
            schema, table = name.split(".")
            target = building_dir / f"{schema}.{table}.parquet"
            con.execute(
                f"copy (select * from {quote(schema)}.{quote(table)} "
                f"where run_date = cast(? as date)) to '{target}' (format parquet)",
                [ctx.run_date.isoformat()],
            )
    finally:
        con.close()
    old_dir = final_dir.with_name(f".{final_dir.name}.old")
    shutil.rmtree(old_dir, ignore_errors=True)
    if final_dir.exists():
        final_dir.rename(old_dir)
    building_dir.rename(final_dir)
    shutil.rmtree(old_dir, ignore_errors=True)
