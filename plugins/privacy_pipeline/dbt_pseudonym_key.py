"""dbt-duckdb plugin: hands the pseudonymisation key to DuckDB without writing it anywhere.

The key (``PRIVACY_PIPELINE_PSEUDONYM_KEY``, see ``config.pseudonym_key``) is set, as the
two padded keys of HMAC-SHA256 (``privacy_pipeline.pseudonyms``), in the DuckDB variables
``pseudonym_inner_key`` and ``pseudonym_outer_key`` on every connection and cursor dbt
opens, with bound parameters. Models read them with ``getvariable(...)`` (macro
``pseudonym``), so the key never appears in compiled SQL, in ``target/`` or in dbt's logs.

It also registers the SQL functions ``nfkc_casefold(varchar)`` (Unicode NFKC and case
folding, ``privacy_pipeline.vocabulary``): DuckDB has NFC but no NFKC. The macro
``normalised_term`` calls it for non-ASCII values only, in the base staging tables; and
``decoded_site_spelling(varchar)`` (a site name's percent-escapes and punycode labels
decoded, as browsers read a host), which the macro ``site_key`` calls for the names
holding a % or an xn-- only, and ``ip_address_host(varchar)`` (an IP address however it is
spelled, in one spelling), for the hosts that end in a number or are bracketed.
"""

from __future__ import annotations

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection

from privacy_pipeline.pseudonyms import padded_keys
from privacy_pipeline.vocabulary import decoded_site_spelling, ip_address_host, nfkc_casefold

# The Python functions the models call by these names (once per database: cursors share
# their connection's functions).
MODEL_FUNCTIONS = {
    "nfkc_casefold": nfkc_casefold,
    "decoded_site_spelling": decoded_site_spelling,
    "ip_address_host": ip_address_host,
}

INNER_KEY_VARIABLE = "pseudonym_inner_key"
OUTER_KEY_VARIABLE = "pseudonym_outer_key"


def set_pseudonym_key(conn: DuckDBPyConnection) -> None:
    inner_key, outer_key = padded_keys()
    conn.execute(f"set variable {INNER_KEY_VARIABLE} = ?", [inner_key])
    conn.execute(f"set variable {OUTER_KEY_VARIABLE} = ?", [outer_key])


def register_model_functions(conn: DuckDBPyConnection) -> None:
    """Register MODEL_FUNCTIONS not yet known to the database."""
    known = {
        row[0]
        for row in conn.execute(
            "select function_name from duckdb_functions() where function_name in ?",
            [list(MODEL_FUNCTIONS)],
        ).fetchall()
    }
    for name, function in MODEL_FUNCTIONS.items():
        if name not in known:
            conn.create_function(name, function, ["VARCHAR"], "VARCHAR", side_effects=False)


class Plugin(BasePlugin):
    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        set_pseudonym_key(conn)
        register_model_functions(conn)

    def configure_cursor(self, cursor: DuckDBPyConnection) -> None:
        # DuckDB variables belong to one connection; every cursor dbt uses needs its own.
        set_pseudonym_key(cursor)
