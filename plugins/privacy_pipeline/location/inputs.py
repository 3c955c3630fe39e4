"""A digest of everything that places people in location figures, to compare re-runs.

A date can be published again. When only objections and erasures changed since an
earlier release, people can only have *left* figures, and the auditor relates the
earlier figures to today's exactly (release.py: stand-ins and possible movers). When
anything else changed (late network events, a corrected cell reference, customers or
lines, a consent lifting an objection, the location settings), people may
have joined figures and moved between them at once, and the values alone no longer tell
how many left each figure. Such a re-publication is *frozen*: only figures whose value
recipients already hold are published again (docs/location-privacy.md, Re-publication).

The digest covers, order-independently (a sum of row hashes): the landing tables that
place people (network events, cells, events, event cells, customers, customer lines);
the consent events for location analytics that are not a readable refusal (an opt-in
can add a person; a refusal only removes one: a refusal deleted or re-dated in a later
delivery keeps applying, because the durable consent ledger keeps the first version of
every event it has received, consent_ledger.py); and the location settings. Not the
models: a deployment is not a change of the date's data, and a re-run under a changed
model must keep being judged by the auditor and the gates (their mutation tests re-run a
published date with a broken model); a model change that moves people is bounded by the
possible movers (release.py), and one that both adds and moves people on a date already
published is a known limit (docs/location-privacy.md). The loader records it in the candidate
(``landing.location_inputs``); the publication records it in the release ledger; the
location gate recomputes it with this function and compares it with the ledger's.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import duckdb

from privacy_pipeline.contract import CHOICES, PURPOSES
from privacy_pipeline.contract import table as contract_table
from privacy_pipeline.sql import quote_identifier
from privacy_pipeline.vocabulary import enum_term_sql, register_sql_functions

PLACING_TABLES = ("network_events", "cells", "events", "event_cells", "customers", "customer_lines")
LOCATION_PURPOSE = "location_analytics"
RECORD_TABLE = "landing.location_inputs"


def landing_relations(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "select table_name from information_schema.tables where table_schema = 'landing'"
    ).fetchall()
    return {name for (name,) in rows}


def table_digest_sql(name: str, where: str = "true") -> str:
    columns = ", ".join(quote_identifier(c.name) for c in contract_table(name).columns)
    return f"""select count(*), coalesce(sum(hash({columns})), 0)
               from landing.{quote_identifier(name)} where {where}"""


def location_inputs_digest(
    con: duckdb.DuckDBPyConnection, location_config: Mapping[str, Any]
) -> str:
    """The digest of the landing views of ``con`` (a candidate) and the settings (see the
    module's docstring), as a hex string."""
    con = con.cursor()  # its own SQL functions and results, whatever the caller left open
    register_sql_functions(con)
    present = landing_relations(con)
    digest = hashlib.sha256()
    for name in PLACING_TABLES:
        if name in present:
            count, total = con.execute(table_digest_sql(name)).fetchone()
            digest.update(f"{name}:{count}:{total};".encode())
    if "privacy_preferences" in present:
        purpose = enum_term_sql("cast(purpose as varchar)", PURPOSES)
        choice = enum_term_sql("cast(choice as varchar)", CHOICES)
        lifting = f"{purpose} = '{LOCATION_PURPOSE}' and {choice} is distinct from 'opt_out'"
        count, total = con.execute(table_digest_sql("privacy_preferences", lifting)).fetchone()
        digest.update(f"location_consents:{count}:{total};".encode())
    digest.update(json.dumps(location_config, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def record_location_inputs(con: duckdb.DuckDBPyConnection, digest: str) -> None:
    con.execute(f"create or replace table {RECORD_TABLE} (inputs_digest varchar)")
    con.execute(f"insert into {RECORD_TABLE} values (?)", [digest])
