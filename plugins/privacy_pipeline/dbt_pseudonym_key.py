"""dbt-duckdb plugin: hands the pseudonymisation key to DuckDB without writing it anywhere.

The key (``PRIVACY_PIPELINE_PSEUDONYM_KEY``, see ``config.pseudonym_key``) is set, as the
two padded keys of HMAC-SHA256 (``privacy_pipeline.pseudonyms``), in the DuckDB variables
``pseudonym_inner_key`` and ``pseudonym_outer_key`` on every connection and cursor dbt
opens, with bound parameters. Models read them with ``getvariable(...)`` (macro
``pseudonym``), so the key never appears in compiled SQL, in ``target/`` or in dbt's logs.
"""

from __future__ import annotations

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection

from privacy_pipeline.pseudonyms import padded_keys

INNER_KEY_VARIABLE = "pseudonym_inner_key"
OUTER_KEY_VARIABLE = "pseudonym_outer_key"


def set_pseudonym_key(conn: DuckDBPyConnection) -> None:
    inner_key, outer_key = padded_keys()
    conn.execute(f"set variable {INNER_KEY_VARIABLE} = ?", [inner_key])
    conn.execute(f"set variable {OUTER_KEY_VARIABLE} = ?", [outer_key])


class Plugin(BasePlugin):
    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        set_pseudonym_key(conn)

    def configure_cursor(self, cursor: DuckDBPyConnection) -> None:
        # DuckDB variables belong to one connection; every cursor dbt uses needs its own.
        set_pseudonym_key(cursor)
