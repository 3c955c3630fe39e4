"""``privacy-pipeline export``: hand a published table to marketing as CSV or Parquet."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from pathlib import Path

import duckdb

from privacy_pipeline.errors import UnusableInput
from privacy_pipeline.publish import PUBLISHED_SCHEMAS, quote


def latest_published_date(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> dt.date | None:
    """The run date an export without ``--run-date`` hands out: the latest published one
    (older dates are history, not what marketing should act on)."""
    from privacy_pipeline.publish import PUBLICATION_LOG

    with contextlib.suppress(duckdb.Error):
        logged = con.execute(f"select max(run_date) from {PUBLICATION_LOG}").fetchone()[0]
        if logged is not None:
            return logged
    return con.execute(f"select max(run_date) from {quote(schema)}.{quote(name)}").fetchone()[0]


def export_table(
    warehouse_dir: Path, table: str, fmt: str, output: Path, run_date: dt.date | None = None
) -> int:
    """Write ``SCHEMA.TABLE`` of the published warehouse to ``output``; returns the row count."""
    warehouse_db = Path(warehouse_dir) / "warehouse.duckdb"
    if not warehouse_db.exists():
        raise UnusableInput(f"no published warehouse at {warehouse_db}: run the pipeline first")
    schema, _, name = table.partition(".")
    if not name or schema not in PUBLISHED_SCHEMAS:
        raise UnusableInput(
            f"--table must be SCHEMA.TABLE with SCHEMA one of {', '.join(PUBLISHED_SCHEMAS)}; "
            f"got {table!r}"
        )
    con = duckdb.connect(str(warehouse_db), read_only=True)
    try:
        exists = con.execute(
            "select count(*) from information_schema.tables"
            " where table_schema = ? and table_name = ?",
            [schema, name],
        ).fetchone()[0]
        if not exists:
            raise UnusableInput(f"{table} is not a published table in {warehouse_db}")
        query = f"select * from {quote(schema)}.{quote(name)}"
        params: list = []
        run_date = run_date or latest_published_date(con, schema, name)
        if run_date is not None:
            query += " where run_date = cast(? as date)"
            params.append(run_date.isoformat())
        output = Path(output)
        output.parent.mkdir(parents=True, exist_ok=True)
        partial = output.with_name(f".{output.name}.partial")
        options = "format parquet" if fmt == "parquet" else "format csv, header true"
        con.execute(f"copy ({query}) to '{partial}' ({options})", params)
        rows = con.execute(f"select count(*) from ({query})", params).fetchone()[0]
    finally:
        con.close()
    os.replace(partial, output)
    return rows
