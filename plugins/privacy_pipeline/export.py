"""``privacy-pipeline export``: hand a published table to marketing as CSV or Parquet.

Only the published tables (``publish.PUBLISHED_TABLES``) of the published warehouse can
be exported, never a candidate or a working table. The output path is a bound parameter,
never SQL text. In CSV, every text cell that a spreadsheet would run as a formula is
neutralised (``neutralised_text``); Parquet keeps the values as they are (typed columns
are not interpreted by spreadsheets). See docs/threat-model.md. With ``--recipient`` the
table must be one that recipient receives (its dbt exposures, as for the nightly
``exports/<recipient>/`` folders): a location buyer is never handed a person-level table.

Exit codes: 0 exported, 2 unusable input (unknown table, bad output path, no warehouse),
3 any other failure; never 1, which means a failed privacy gate.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from pathlib import Path

import duckdb

from privacy_pipeline.errors import UnusableInput
from privacy_pipeline.publish import PUBLISHED_TABLES, while_locked
from privacy_pipeline.sql import quote_identifier, quote_literal

# OWASP (CSV injection): a cell starting with one of these is a formula (or becomes one
# after the spreadsheet trims it) in Excel, LibreOffice and Google Sheets.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Prefixed to such a cell: the spreadsheet shows it as text, the value stays readable.
NEUTRALISING_PREFIX = "'"
# Column types written as text in CSV. Numbers, dates, timestamps and booleans keep their
# type: a negative number in a numeric column is a number, not a formula.
TEXT_TYPES = ("VARCHAR", "JSON", "ENUM")


def neutralised_text(expression: str) -> str:
    """SQL: the text value of ``expression`` with a quote in front when it could be a formula."""
    triggers = ", ".join(quote_literal(c) for c in FORMULA_TRIGGERS)
    return (
        f"case when left(cast({expression} as varchar), 1) in ({triggers}) "
        f"then {quote_literal(NEUTRALISING_PREFIX)} || cast({expression} as varchar) "
        f"else cast({expression} as varchar) end"
    )


def is_text_type(data_type: str) -> bool:
    return data_type.upper().startswith(TEXT_TYPES)


def published_table(table: str) -> tuple[str, str]:
    """(schema, name) of a published table; UnusableInput for anything else."""
    if table not in PUBLISHED_TABLES:
        raise UnusableInput(
            f"--table {table!r} is not a published table: only published tables can be "
            f"exported ({', '.join(PUBLISHED_TABLES)})"
        )
    schema, name = table.split(".")
    return schema, name


def recipient_may_receive(recipient: str, table: str) -> None:
    """UnusableInput unless ``recipient`` is declared and receives ``table``."""
    from privacy_pipeline.recipients import recipient_tables

    declared = recipient_tables()
    if recipient not in declared:
        raise UnusableInput(
            f"--recipient {recipient!r} is not a declared recipient ({', '.join(declared)})"
        )
    if table not in declared[recipient]:
        raise UnusableInput(
            f"--table {table} is not exported to {recipient}: it receives only "
            f"{', '.join(declared[recipient])}"
        )


def checked_output(output: Path, warehouse_dir: Path) -> Path:
    """The output file; UnusableInput when it is a folder or would overwrite the warehouse."""
    output = Path(output)
    if output.is_dir():
        raise UnusableInput(f"--output {output} is a folder: give a file name")
    resolved = output.resolve()
    published = (Path(warehouse_dir) / "warehouse.duckdb").resolve()
    if resolved in (published, published.with_name(published.name + ".wal")):
        raise UnusableInput(f"--output {output} would overwrite the published warehouse")
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UnusableInput(f"--output {output}: its folder cannot be created: {exc}") from exc
    return output


def select_sql(con: duckdb.DuckDBPyConnection, schema: str, name: str, fmt: str) -> str:
    """The export's select list: every column, text cells neutralised in CSV."""
    columns = con.execute(
        "select column_name, data_type from information_schema.columns"
        " where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, name],
    ).fetchall()
    selected = []
    for column, data_type in columns:
        quoted = quote_identifier(column)
        if fmt == "csv" and is_text_type(data_type):
            selected.append(f"{neutralised_text(quoted)} as {quoted}")
        else:
            selected.append(quoted)
    return f"select {', '.join(selected)} from {quote_identifier(schema)}.{quote_identifier(name)}"


def latest_published_date(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> dt.date | None:
    """The run date an export without ``--run-date`` hands out: the latest published one
    (older dates are history, not what marketing should act on)."""
    from privacy_pipeline.publish import PUBLICATION_LOG

    with contextlib.suppress(duckdb.Error):
        logged = con.execute(f"select max(run_date) from {PUBLICATION_LOG}").fetchone()[0]
        if logged is not None:
            return logged
    table = f"{quote_identifier(schema)}.{quote_identifier(name)}"
    return con.execute(f"select max(run_date) from {table}").fetchone()[0]


def export_table(
    warehouse_dir: Path,
    table: str,
    fmt: str,
    output: Path,
    run_date: dt.date | None = None,
    recipient: str | None = None,
) -> int:
    """Write ``SCHEMA.TABLE`` of the published warehouse to ``output``; returns the row count."""
    schema, name = published_table(table)
    if recipient is not None:
        recipient_may_receive(recipient, table)
    warehouse_db = Path(warehouse_dir) / "warehouse.duckdb"
    if not warehouse_db.exists():
        raise UnusableInput(f"no published warehouse at {warehouse_db}: run the pipeline first")
    output = checked_output(output, warehouse_dir)
    con = while_locked(lambda: duckdb.connect(str(warehouse_db), read_only=True), warehouse_db)
    partial = output.with_name(f".{output.name}.partial")
    try:
        exists = con.execute(
            "select count(*) from information_schema.tables"
            " where table_schema = ? and table_name = ?",
            [schema, name],
        ).fetchone()[0]
        if not exists:
            raise UnusableInput(f"{table} has not been published yet in {warehouse_db}")
        query = select_sql(con, schema, name, fmt)
        params: list = []
        run_date = run_date or latest_published_date(con, schema, name)
        if run_date is not None:
            query += " where run_date = cast(? as date)"
            params.append(run_date.isoformat())
        options = "format parquet" if fmt == "parquet" else "format csv, header true"
        try:
            con.execute(f"copy ({query}) to ? ({options})", [*params, str(partial)])
        except duckdb.IOException as exc:
            raise UnusableInput(f"--output {output} cannot be written: {exc}") from exc
        rows = con.execute(f"select count(*) from ({query})", params).fetchone()[0]
        os.replace(partial, output)
    finally:
        con.close()
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return rows
