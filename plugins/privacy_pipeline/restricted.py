"""The DPO's restricted store: person-level material, never published.

``<warehouse>/restricted/dpo.duckdb`` holds, per run date, the rows the DPO may need to
act on one person or one delivered row: ``dpo.quarantined_rows`` and
``dpo.rejected_privacy_events`` (``RESTRICTED_TABLES``; any later per-person table joins
the list here). The tables are in the file's default schema, so the catalog, named after
the file, gives them their names: ``select * from dpo.quarantined_rows`` works on a
connection to the file and after a plain ``attach 'restricted/dpo.duckdb'``. (A schema
``dpo`` inside a catalog ``dpo`` would make every ``dpo.x`` ambiguous in DuckDB.)

They are built by dbt in the candidate's schema ``dpo_restricted`` and copied at
publication, after the warehouse transaction committed:

* only a run whose gates all passed writes it (``publish_run`` checks the candidate's
  restricted tables before anything changes and writes them once the warehouse has
  committed), so a failed gate never changes it;
* one DuckDB transaction replaces the rows of the run date in every table, so a re-run of
  the same date replaces that date's rows and a reader never sees half a run;
* these tables are never in ``warehouse.duckdb`` nor under ``exports/``: publication drops
  them from a warehouse written before they moved (``purge_restricted_from_published``).

Retention: ``retention.restricted_store_days`` of ``config/pipeline.yml``; rows of older
run dates are deleted on every run (``prune_restricted_store``). See docs/gates.md.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
from pathlib import Path

import duckdb

from privacy_pipeline.gates.candidate import connect_candidate
from privacy_pipeline.publish import qualified, replace_run_rows, rows_of_run_date, while_locked
from privacy_pipeline.run_context import RunContext
from privacy_pipeline.transaction import transaction

log = logging.getLogger(__name__)

RESTRICTED_DIR = "restricted"
RESTRICTED_DB = "dpo.duckdb"
# The candidate schema dbt builds them in (marts/dpo_restricted/).
CANDIDATE_SCHEMA = "dpo_restricted"
# Every person-level DPO table, as named in the restricted store. The one list: publication,
# exports, reports and tests import it.
RESTRICTED_TABLES = (
    "dpo.quarantined_rows",
    "dpo.rejected_privacy_events",
)
STORE = "restricted"  # the store's name while attached to the candidate
STORE_SCHEMA = "main"  # DuckDB's default schema: see the module's docstring


def restricted_db(warehouse_dir: Path) -> Path:
    return Path(warehouse_dir) / RESTRICTED_DIR / RESTRICTED_DB


def candidate_table(table: str) -> str:
    """The candidate's name of a restricted table: dpo.X -> dpo_restricted.X."""
    return f"{CANDIDATE_SCHEMA}.{table.split('.')[1]}"


def store_table(table: str) -> str:
    """The table's schema-qualified name inside the store file: dpo.X -> main.X."""
    return f"{STORE_SCHEMA}.{table.split('.')[1]}"


def write_restricted_store(ctx: RunContext) -> dict[str, int]:
    """Replace the run date's rows of every restricted table with the candidate's."""
    target = restricted_db(ctx.warehouse_dir)
    # Created private to the pipeline's account; operations may then grant the DPO access
    # (group, ACL): that is not undone here.
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    con = connect_candidate(ctx.candidate_db)
    try:
        while_locked(
            lambda: con.execute(f"attach ? as {STORE} (read_write)", [str(target)]), target
        )
        written = {}
        with transaction(con):
            for table in RESTRICTED_TABLES:
                stored = store_table(table)
                replace_run_rows(con, ctx, stored, source=candidate_table(table), catalog=STORE)
                written[table] = rows_of_run_date(con, stored, ctx.run_date, catalog=STORE)
    finally:
        with contextlib.suppress(duckdb.Error):
            con.execute(f"detach {STORE}")
        con.close()
    log.info("restricted store %s: %s", target, json.dumps(written))
    return written


def purge_restricted_from_published(con: duckdb.DuckDBPyConnection, catalog: str) -> list[str]:
    """Drop restricted tables from the published warehouse (attached as ``catalog``).

    Before the restricted store existed they were published; their rows (event content
    included) must not stay readable there. Runs inside the publication's transaction."""
    dropped = []
    for table in RESTRICTED_TABLES:
        schema, name = table.split(".")
        exists = con.execute(
            "select count(*) from information_schema.tables "
            "where table_catalog = ? and table_schema = ? and table_name = ?",
            [catalog, schema, name],
        ).fetchone()[0]
        if exists:
            con.execute(f"drop table {catalog}.{qualified(table)}")
            dropped.append(table)
    if dropped:
        log.warning("dropped %s from the published warehouse (restricted)", ", ".join(dropped))
    return dropped


def purge_restricted_exports(exports_root: Path) -> list[Path]:
    """Delete restricted tables' files from every export version and legacy export folder
    (written before they moved), and from the versions' manifests."""
    removed = []
    for table in RESTRICTED_TABLES:
        for path in sorted(Path(exports_root).rglob(f"{table}.parquet")):
            path.unlink()
            removed.append(path)
            manifest = path.parent / "_MANIFEST.json"
            if manifest.exists():
                content = json.loads(manifest.read_text(encoding="utf-8"))
                content.get("rows", {}).pop(table, None)
                manifest.write_text(json.dumps(content, indent=2), encoding="utf-8")
    if removed:
        log.warning("removed %d restricted export files", len(removed))
    return removed


def prune_restricted_store(ctx: RunContext) -> dict[str, int]:
    """Delete rows of run dates older than ``retention.restricted_store_days`` before the
    run's date; returns rows deleted per table."""
    target = restricted_db(ctx.warehouse_dir)
    if not target.exists():
        return {}
    keep_days = int(ctx.config["retention"]["restricted_store_days"])
    oldest_kept = ctx.run_date - dt.timedelta(days=keep_days)
    con = while_locked(lambda: duckdb.connect(str(target)), target)
    deleted = {}
    try:
        present = {
            f"{schema}.{name}"
            for schema, name in con.execute(
                "select table_schema, table_name from information_schema.tables"
            ).fetchall()
        }
        with transaction(con):
            for table in RESTRICTED_TABLES:
                if store_table(table) in present:
                    deleted[table] = con.execute(
                        f"delete from {qualified(store_table(table))} "
                        "where run_date < cast(? as date)",
                        [oldest_kept.isoformat()],
                    ).fetchone()[0]
    finally:
        con.close()
    if any(deleted.values()):
        log.info("restricted store: deleted rows before %s: %s", oldest_kept, deleted)
    return deleted
