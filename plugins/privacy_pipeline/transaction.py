"""The one way the pipeline writes in a DuckDB transaction: all of it or none of it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import duckdb


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Begin a transaction on ``con``; commit it when the block ends, roll it back if the
    block (or the commit) raises. A failed rollback (the connection already lost its
    transaction) is passed over so that the block's own error is the one raised."""
    con.execute("begin transaction")
    try:
        yield con
        con.execute("commit")
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            con.execute("rollback")
        raise
