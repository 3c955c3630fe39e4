"""The one place where a value or a name is put into SQL text.

Values (paths, dates, ids) are passed as bound parameters wherever DuckDB accepts one,
``copy ... to ?`` and ``attach ? as ...`` included. Where SQL text cannot take a
parameter (a view's definition, a table function's file list), values go through
``quote_literal`` and names through ``quote_identifier``: nothing else formats a
value or a name into SQL, so a path or a name holding a quote stays one token and never
ends a statement (docs/threat-model.md).
"""

from __future__ import annotations

from pathlib import Path


def quote_identifier(name: str) -> str:
    """A SQL identifier: ``"name"`` with inner double quotes doubled."""
    if "\0" in name:
        raise ValueError(f"a SQL name cannot hold a NUL character: {name!r}")
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: object) -> str:
    """A SQL string literal: ``'value'`` with inner single quotes doubled.

    Standard SQL strings have no backslash escapes (DuckDB, Trino, Spark with ANSI
    quoting), so doubling the quote is the whole escaping.
    """
    text = str(value)
    if "\0" in text:
        raise ValueError(f"a SQL string cannot hold a NUL character: {text!r}")
    return "'" + text.replace("'", "''") + "'"


def qualified(table: str) -> str:
    """``"schema"."table"`` for ``schema.table`` (exactly one dot)."""
    schema, name = table.split(".")
    return f"{quote_identifier(schema)}.{quote_identifier(name)}"


def path_list(paths: list[Path]) -> str:
    """A SQL list of file paths, for the table functions (read_csv, read_parquet)."""
    return "[" + ", ".join(quote_literal(p) for p in paths) + "]"
