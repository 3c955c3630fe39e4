"""``privacy-pipeline export``: hand a published table to marketing as CSV or Parquet."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb

from privacy_pipeline.errors import UnusableInput
from privacy_pipeline.publish import PUBLISHED_SCHEMAS, quote


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
