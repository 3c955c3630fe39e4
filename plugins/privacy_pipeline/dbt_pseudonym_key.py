"""dbt-duckdb plugin: hands the pseudonymisation key to DuckDB without writing it anywhere.

The key (``PRIVACY_PIPELINE_PSEUDONYM_KEY``, see ``config.pseudonym_key``) is set as the
DuckDB variable ``pseudonym_key`` on every connection and cursor dbt opens, with a bound
parameter. Models read it with ``getvariable('pseudonym_key')`` (macro ``pseudonym``), so
the key never appears in compiled SQL, in ``target/`` or in dbt's logs.
"""

from __future__ import annotations

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection

from privacy_pipeline.config import pseudonym_key

VARIABLE = "pseudonym_key"


def set_pseudonym_key(conn: DuckDBPyConnection) -> None:
    key = pseudonym_key()
    if not key:
        raise ValueError("PRIVACY_PIPELINE_PSEUDONYM_KEY is empty: refusing to pseudonymise")
    conn.execute(f"set variable {VARIABLE} = ?", [key])


class Plugin(BasePlugin):
    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        set_pseudonym_key(conn)

    def configure_cursor(self, cursor: DuckDBPyConnection) -> None:
        # DuckDB variables belong to one connection; every cursor dbt uses needs its own.
        set_pseudonym_key(cursor)
