"""The gates' read-only view of a run's candidate database."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pandas as pd

from privacy_pipeline.config import duckdb_memory_limit
from privacy_pipeline.gates.promises import CannotCheck, Check
from privacy_pipeline.publish import PUBLISHED_SCHEMAS
from privacy_pipeline.run_context import RunContext, run_window
from privacy_pipeline.sql import quote_identifier as quote
from privacy_pipeline.sql import quote_literal as sql_literal

__all__ = ["PUBLISHED_SCHEMAS", "Candidate", "quote", "run_window", "sql_literal"]


# "schema.table" in a promise's SQL, either part possibly quoted.
TABLE_REFERENCE = re.compile(
    rf'(?<![\w."])"?({"|".join(PUBLISHED_SCHEMAS)})"?\s*\.\s*"?([A-Za-z_][A-Za-z0-9_]*)"?'
)


def connect_candidate(path: Path) -> duckdb.DuckDBPyConnection:
    """A connection to a candidate database that never takes the writer's lock.

    Read-only, so gate tasks in parallel processes can all read it. When this process
    already holds the file read-write (dbt in the same process, as under ``dag.test``),
    DuckDB refuses a second configuration of the same file: then the connection joins
    that open database instead.
    """
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.ConnectionException as exc:
        if "different configuration" not in str(exc):
            raise
        return duckdb.connect(str(path))


class Candidate:
    """A read-only connection to the candidate DB plus what the promises need to know."""

    def __init__(self, ctx: RunContext, con: duckdb.DuckDBPyConnection):
        self.ctx = ctx
        self.con = con
        self.run_start, self.run_end = run_window(ctx.run_date, ctx.config["timezone"])
        # Work shared by the promises of a suite (e.g. the scanned published values).
        self.cache: dict[str, object] = {}
        self.materialised_from: dict[str, str] = {}
        # Hours are truncated and shown in the run's calendar, whatever the machine's zone.
        con.execute(f"set session TimeZone = {sql_literal(ctx.config['timezone'])}")
        # The landing recounts materialise the day's sightings: capped like dbt (DuckDB's
        # default is 80% of the machine), spilling to <candidate>.tmp beyond it.
        con.execute(f"set memory_limit = {sql_literal(duckdb_memory_limit())}")

    @classmethod
    def open(cls, ctx: RunContext) -> Candidate:
        if not ctx.candidate_db.exists():
            raise CannotCheck(f"no candidate database at {ctx.candidate_db}")
        return cls(ctx, connect_candidate(ctx.candidate_db))

    def close(self) -> None:
        self.con.close()

    @property
    def k(self) -> int:
        return self.ctx.k

    @property
    def run_start_sql(self) -> str:
        return f"cast({sql_literal(self.run_start.isoformat())} as timestamptz)"

    @property
    def run_end_sql(self) -> str:
        return f"cast({sql_literal(self.run_end.isoformat())} as timestamptz)"

    def materialise(self, name: str, sql: str, params: list | None = None) -> str:
        """A temp table of ``sql``, created once per suite run; returns its name."""
        if name not in self.cache:
            self.con.execute(f"create or replace temp table {quote(name)} as {sql}", params)
            self.cache[name] = name
            self.materialised_from[name] = sql
        return quote(name)

    def tables_read_by(self, sql: str) -> list[tuple[str, str]]:
        """The candidate's published tables ``sql`` reads, directly or through the temp
        tables it was materialised from."""
        tables: set[tuple[str, str]] = set()
        pending, seen = [sql], set()
        known = set(self.tables())
        while pending:
            text = pending.pop()
            for schema, table in TABLE_REFERENCE.findall(text):
                if (schema, table) in known:
                    tables.add((schema, table))
            for name, source in self.materialised_from.items():
                if name not in seen and re.search(rf'\b"?{re.escape(name)}"?\b', text):
                    seen.add(name)
                    pending.append(source)
        return sorted(tables)

    def rows_of(self, tables: list[tuple[str, str]]) -> int | None:
        """Rows of ``tables``, the "of 12,345 rows" of Data Docs; None for no table."""
        if not tables:
            return None
        counts = " union all ".join(
            f"select count(*) as n from {quote(schema)}.{quote(table)}" for schema, table in tables
        )
        return int(self.rows(f"select sum(n) from ({counts}) as table_rows")[0][0])

    def df(self, sql: str) -> pd.DataFrame:
        return self.con.execute(sql).df()

    def rows(self, sql: str) -> list[tuple]:
        return self.con.execute(sql).fetchall()

    def tables(self, schemas: tuple[str, ...] = PUBLISHED_SCHEMAS) -> list[tuple[str, str]]:
        """(schema, table) of every table and view of ``schemas``."""
        placeholders = ", ".join("?" for _ in schemas)
        return self.con.execute(
            f"""
            select table_schema, table_name from information_schema.tables
            where table_schema in ({placeholders})
            order by table_schema, table_name
            """,
            list(schemas),
        ).fetchall()

    def columns(self, schema: str, table: str) -> dict[str, str]:
        """Column name -> DuckDB type, in table order."""
        rows = self.con.execute(
            """
            select column_name, data_type from information_schema.columns
            where table_schema = ? and table_name = ? order by ordinal_position
            """,
            [schema, table],
        ).fetchall()
        return dict(rows)

    def has_table(self, schema: str, table: str) -> bool:
        return (schema, table) in self.tables((schema,))

    def every_table_built(self, schema: str, tables: tuple[str, ...]) -> Check:
        """A check that fails (cannot check) when a table of the family is missing."""
        missing = [table for table in tables if not self.has_table(schema, table)]
        if missing:
            raise CannotCheck(f"{schema} tables missing: {', '.join(missing)}")
        return Check(no_violations_sql(), f"{len(tables)} {schema} tables present")

    def require_table(self, schema: str, table: str) -> dict[str, str]:
        columns = self.columns(schema, table)
        if not columns:
            raise CannotCheck(f"table {schema}.{table} is missing from the candidate output")
        return columns

    def require_columns(self, schema: str, table: str, *names: str) -> dict[str, str]:
        columns = self.require_table(schema, table)
        missing = [name for name in names if name not in columns]
        if missing:
            raise CannotCheck(f"{schema}.{table} has no column {', '.join(missing)}")
        return columns


def pick_column(columns: dict[str, str], table: str, *names: str) -> str:
    """The first of ``names`` the table has (models may name a column one of a few ways)."""
    for name in names:
        if name in columns:
            return name
    raise CannotCheck(f"{table} has none of the columns {', '.join(names)}")


def no_violations_sql() -> str:
    return "select null::varchar as violation where false"


def union_all(selects: list[str]) -> str:
    return " union all ".join(selects) if selects else no_violations_sql()


def union_values(selects: list[str]) -> str:
    """The values a built-in expectation checks (column ``value``), from several selects."""
    return " union all ".join(selects) if selects else "select null as value where false"
