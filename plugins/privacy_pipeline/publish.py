"""Publication: the gated candidate tables become the published ones, all or nothing.

Two things are published for run date D, and a reader of either sees the previous
publication or the new one, never a mix, even if the process dies half-way:

* ``warehouse.duckdb``: one DuckDB transaction replaces the rows of D in every table of
  ``PUBLISHED_TABLES``, appends the run's gate results to ``dpo.gate_results`` and
  records the publication in ``publication.log``. A crash before the commit leaves the
  previous state (DuckDB's write-ahead log replays committed transactions only).
  Person-level DPO tables are not published: once the warehouse has committed, they go to
  the restricted store (``privacy_pipeline.restricted``, ``RESTRICTED_TABLES``).
* ``exports/<recipient>/run_date=D``, one per recipient (the dbt exposures,
  ``privacy_pipeline.recipients``) holding only that recipient's tables: a symbolic link
  to a complete, immutable version folder ``exports/<recipient>/.versions/run_date=D/
  <version>/``. A new version is written from the committed warehouse into a
  ``.building`` folder, renamed when complete, then the link is replaced atomically
  (``rename(2)`` of a new link over the old one).

The warehouse is the source of truth: ``publication.log`` names the export version of
the latest publication of D. If a crash falls between the commit and the link swap,
``sync_exports`` (run at the start of every publication and by the ``reports`` task)
builds that version from the warehouse and swaps the links. See docs/gates.md.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from privacy_pipeline.errors import PipelineError
from privacy_pipeline.run_context import RunContext
from privacy_pipeline.sql import qualified
from privacy_pipeline.sql import quote_identifier as quote
from privacy_pipeline.transaction import transaction

log = logging.getLogger(__name__)
T = TypeVar("T")
LOCK_WAIT_SECONDS = 600

PUBLISHED_SCHEMAS = ("marketing", "location", "dpo")
GATE_RESULTS = "dpo.gate_results"
# Every published table; all but the audit log come from the run's candidate database.
PUBLISHED_TABLES = (
    "marketing.customer_interests",
    "marketing.interest_evidence",
    "marketing.segment_members",
    "marketing.partner_audiences",
    "location.presence_hourly",
    "location.event_attendance",
    "location.event_attendance_total",
    "location.visitors_daily",
    "location.visitor_origin",
    "location.od_flows",
    "location.suppression_summary",
    "dpo.load_reconciliation",
    "dpo.quarantine_summary",
    GATE_RESULTS,
)
CANDIDATE_TABLES = tuple(t for t in PUBLISHED_TABLES if t != GATE_RESULTS)
PUBLICATION_LOG = "publication.log"
WAREHOUSE = "published"  # the warehouse's name while attached to the candidate
VERSIONS_DIR = ".versions"
MANIFEST = "_MANIFEST.json"
# Export versions kept per run date: only the current one. A superseded version may hold
# figures the new release withholds (re-publication, docs/location-privacy.md), so it is
# deleted once the link points at the new one (a reader with a file already open keeps
# reading it: POSIX unlink).
KEPT_VERSIONS = 1


class PublicationFailed(PipelineError):
    """The candidate cannot be published as it is (a table missing, a foreign run date)."""


def while_locked(action: Callable[[], T], what: Path) -> T:
    """Run ``action``, waiting while another process holds the warehouse's lock.

    A reader (an export, the DPO's query tool) holds the file for seconds; publishing or
    recording the audit log waits for it rather than failing the night's run.
    """
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            return action()
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            log.warning("%s is locked by another process; waiting", what)
            time.sleep(2)


def require_every_gate_passed(ctx: RunContext) -> dict[str, dict[str, Any]]:
    """Nothing is published unless every privacy gate ran in this run and passed; returns
    the results, whose candidate fingerprints ``publish_tables`` checks (gate_binding)."""
    from privacy_pipeline.gate_binding import gate_results_for_publication

    return gate_results_for_publication(ctx)


def export_version(ctx: RunContext, published_at: dt.datetime) -> str:
    run = re.sub(r"[^A-Za-z0-9_.-]+", "_", ctx.run_id)[:80]
    return f"{published_at:%Y%m%dT%H%M%S%fZ}-{run}"


def publish_run(ctx: RunContext) -> dict[str, Any]:
    """Publish the run's candidate marts; returns rows published per table."""
    from privacy_pipeline.gate_binding import hold_run_date

    gate_results = require_every_gate_passed(ctx)
    ctx.warehouse_db.parent.mkdir(parents=True, exist_ok=True)
    with hold_run_date(ctx.warehouse_dir, ctx.run_date, ctx.run_id):
        sync_exports(ctx.warehouse_dir, ctx.run_date)  # finish an earlier, interrupted one first
        migrate_flat_exports(ctx.warehouse_dir)
        published_at = dt.datetime.now(dt.UTC)
        version = export_version(ctx, published_at)
        check_restricted_candidate(ctx)  # before anything changes: all or nothing
        check_recipients_candidate(ctx)
        record_location_release(ctx, version)
        published = publish_tables(ctx, version, published_at, gate_results)
        write_restricted_tables(ctx)
        export_published_tables(ctx, list(published), version)
    log.info(
        "published %d tables for %s (export version %s)", len(published), ctx.run_date, version
    )
    return published


def record_location_release(ctx: RunContext, version: str) -> None:
    """Remember, before it can reach anyone, what this release of D publishes: later
    releases of D are audited against it (privacy_pipeline.location.ledger)."""
    from privacy_pipeline.gates.candidate import run_window
    from privacy_pipeline.location.ledger import record_release

    run_start, _ = run_window(ctx.run_date, ctx.config["timezone"])
    record_release(ctx.candidate_db, ctx.warehouse_dir, ctx.run_date, version, run_start)


def check_restricted_candidate(ctx: RunContext) -> None:
    from privacy_pipeline.gates.candidate import connect_candidate
    from privacy_pipeline.restricted import RESTRICTED_TABLES, candidate_table

    con = connect_candidate(ctx.candidate_db)
    try:
        for table in RESTRICTED_TABLES:
            checked_candidate_columns(con, ctx, candidate_table(table))
    finally:
        con.close()


def check_recipients_candidate(ctx: RunContext) -> None:
    """Refuse before the warehouse changes when an export would hand a person-level table
    to a recipient not declared for one (checked again as each version is written)."""
    from privacy_pipeline.gates.candidate import connect_candidate
    from privacy_pipeline.recipients import check_person_level, person_level_recipients

    allowed = person_level_recipients()
    con = connect_candidate(ctx.candidate_db)
    try:
        for recipient, tables in export_plan(list(PUBLISHED_TABLES)).items():
            for table in tables:
                check_person_level(recipient, table, list(table_columns(con, table)), allowed)
    finally:
        con.close()


def write_restricted_tables(ctx: RunContext) -> dict[str, int]:
    """The DPO's person-level tables go to the restricted store, never to the warehouse."""
    from privacy_pipeline.restricted import purge_restricted_exports, write_restricted_store

    written = write_restricted_store(ctx)
    purge_restricted_exports(exports_root(ctx.warehouse_dir))
    return written


def publish_tables(
    ctx: RunContext,
    version: str,
    published_at: dt.datetime,
    gate_results: dict[str, dict[str, Any]],
) -> dict[str, int]:
    """The warehouse transaction: rows of D replaced, gate results appended, publication logged.

    Runs on a connection to the candidate (see ``connect_candidate``) with the warehouse
    attached as ``published``: the only database the transaction writes to. The candidate
    is first checked against the gates' fingerprints in the same transaction, so what is
    copied is the snapshot that was checked.
    """
    from privacy_pipeline.gate_binding import gated_tables, verify_candidate_unchanged
    from privacy_pipeline.gates.candidate import connect_candidate
    from privacy_pipeline.gates.results import append_gate_results
    from privacy_pipeline.restricted import purge_restricted_from_published

    con = connect_candidate(ctx.candidate_db)
    try:
        while_locked(
            lambda: con.execute(f"attach ? as {WAREHOUSE} (read_write)", [str(ctx.warehouse_db)]),
            ctx.warehouse_db,
        )
        with transaction(con):
            verify_candidate_unchanged(con, gate_results, gated_tables())
            published = {table: replace_run_rows(con, ctx, table) for table in CANDIDATE_TABLES}
            purge_restricted_from_published(con, WAREHOUSE)
            append_gate_results(con, ctx, catalog=WAREHOUSE)
            published[GATE_RESULTS] = rows_of_run_date(con, GATE_RESULTS, ctx.run_date)
            log_publication(con, ctx, version, published_at, published)
    finally:
        with contextlib.suppress(duckdb.Error):
            con.execute(f"detach {WAREHOUSE}")
        con.close()
    return published


def replace_run_rows(
    con: duckdb.DuckDBPyConnection,
    ctx: RunContext,
    table: str,
    source: str | None = None,
    catalog: str = WAREHOUSE,
) -> int:
    """Replace the rows of the run date in ``table`` of the attached ``catalog`` (the
    warehouse) with the candidate's ``source`` table (by default the same name)."""
    columns = checked_candidate_columns(con, ctx, source or table)
    source, target = qualified(source or table), f"{catalog}.{qualified(table)}"
    con.execute(f"create schema if not exists {catalog}.{quote(table.split('.')[0])}")
    con.execute(f"create table if not exists {target} as select * from {source} limit 0")
    add_new_columns(con, table, columns, catalog)
    con.execute(
        f"delete from {target} where run_date = cast(? as date)", [ctx.run_date.isoformat()]
    )
    con.execute(f"insert into {target} by name select * from {source}")
    return rows_of_run_date(con, table, ctx.run_date, catalog)


def checked_candidate_columns(
    con: duckdb.DuckDBPyConnection, ctx: RunContext, table: str
) -> dict[str, str]:
    """The columns of a candidate table that may be published for the run date; else
    PublicationFailed (missing, no run_date, rows of another date)."""
    columns = table_columns(con, table)
    if not columns:
        raise PublicationFailed(
            f"candidate table {table} is missing: refusing a partial publication"
        )
    if "run_date" not in columns:
        raise PublicationFailed(f"candidate table {table} has no run_date column")
    foreign = con.execute(
        f"select count(*) from {qualified(table)} where run_date is distinct from cast(? as date)",
        [ctx.run_date.isoformat()],
    ).fetchone()[0]
    if foreign:
        raise PublicationFailed(
            f"candidate table {table} has {foreign} rows of another run date than {ctx.run_date}"
        )
    return columns


def table_columns(
    con: duckdb.DuckDBPyConnection, table: str, catalog: str | None = None
) -> dict[str, str]:
    """Column -> type of ``table`` in ``catalog`` (default: the connection's own database)."""
    schema, name = table.split(".")
    rows = con.execute(
        """
        select column_name, data_type from information_schema.columns
        where table_catalog = coalesce(?, current_database())
          and table_schema = ? and table_name = ?
        order by ordinal_position
        """,
        [catalog, schema, name],
    ).fetchall()
    return dict(rows)


def add_new_columns(
    con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, str], catalog: str = WAREHOUSE
) -> None:
    """A model that gained a column publishes it; earlier dates get nulls there."""
    existing = table_columns(con, table, catalog)
    for column, data_type in columns.items():
        if column not in existing:
            con.execute(
                f"alter table {catalog}.{qualified(table)} add column {quote(column)} {data_type}"
            )


def rows_of_run_date(
    con: duckdb.DuckDBPyConnection, table: str, run_date: dt.date, catalog: str = WAREHOUSE
) -> int:
    return con.execute(
        f"select count(*) from {catalog}.{qualified(table)} where run_date = cast(? as date)",
        [run_date.isoformat()],
    ).fetchone()[0]


def log_publication(
    con: duckdb.DuckDBPyConnection,
    ctx: RunContext,
    version: str,
    published_at: dt.datetime,
    published: dict[str, int],
) -> None:
    con.execute(f"create schema if not exists {WAREHOUSE}.publication")
    con.execute(
        f"""create table if not exists {WAREHOUSE}.{PUBLICATION_LOG} (
            run_date date, run_id varchar, export_version varchar,
            published_at timestamptz, tables varchar)"""
    )
    con.execute(
        f"insert into {WAREHOUSE}.{PUBLICATION_LOG} values (?, ?, ?, ?, ?)",
        [ctx.run_date.isoformat(), ctx.run_id, version, published_at, json.dumps(published)],
    )


# ------------------------------------------------------------------------------ exports
#
# exports/<recipient>/run_date=D -> .versions/run_date=D/<version>/  (relative link, so a
# recipient's folder is whole on its own: it can be shared alone). One version is written
# per recipient with only its tables (privacy_pipeline.recipients), all recipients' versions
# first, then their links swapped, then the older versions deleted.


def exports_root(warehouse_dir: Path) -> Path:
    return Path(warehouse_dir) / "exports"


def recipient_root(warehouse_dir: Path, recipient: str) -> Path:
    return exports_root(warehouse_dir) / recipient


def export_link(warehouse_dir: Path, run_date: dt.date, recipient: str) -> Path:
    return recipient_root(warehouse_dir, recipient) / f"run_date={run_date.isoformat()}"


def versions_dir(warehouse_dir: Path, run_date: dt.date, recipient: str) -> Path:
    return (
        recipient_root(warehouse_dir, recipient) / VERSIONS_DIR / f"run_date={run_date.isoformat()}"
    )


def flat_export_paths(warehouse_dir: Path, run_date: dt.date) -> list[Path]:
    """D's link and versions of the layout before per-recipient exports (one folder for
    every consumer): removed once D is exported per recipient (docs/architecture.md)."""
    root = exports_root(warehouse_dir)
    name = f"run_date={run_date.isoformat()}"
    return [p for p in (root / name, root / VERSIONS_DIR / name) if p.is_symlink() or p.exists()]


def flat_export_dates(warehouse_dir: Path) -> list[dt.date]:
    root = exports_root(warehouse_dir)
    found = set()
    for folder in (root, root / VERSIONS_DIR):
        for path in folder.glob("run_date=*") if folder.is_dir() else []:
            with contextlib.suppress(ValueError):
                found.add(dt.date.fromisoformat(path.name.removeprefix("run_date=")))
    return sorted(found)


def exported_recipients(warehouse_dir: Path) -> list[str]:
    """Recipient folders on disk (including ones no exposure declares any more)."""
    from privacy_pipeline.recipients import RECIPIENT_SLUG

    root = exports_root(warehouse_dir)
    return sorted(
        p.name
        for p in (root.iterdir() if root.is_dir() else [])
        if p.is_dir() and not p.is_symlink() and RECIPIENT_SLUG.fullmatch(p.name)
    )


def export_plan(tables: list[str]) -> dict[str, list[str]]:
    """Recipient -> the tables of ``tables`` it receives (its exposures' tables)."""
    from privacy_pipeline.recipients import recipient_tables

    plan = {r: [t for t in tables if t in mine] for r, mine in recipient_tables().items()}
    unsent = sorted(set(tables) - {t for mine in plan.values() for t in mine})
    if unsent:
        log.warning("no recipient declared for %s: not exported", ", ".join(unsent))
    return {r: mine for r, mine in plan.items() if mine}


def export_published_tables(ctx: RunContext, tables: list[str], version: str) -> dict[str, Path]:
    """Write every recipient's version of D from the committed warehouse, swap the links."""
    return write_exports(ctx.warehouse_dir, ctx.run_date, tables, version)


def write_exports(
    warehouse_dir: Path, run_date: dt.date, tables: list[str], version: str
) -> dict[str, Path]:
    """Export ``version`` of D per recipient: build every recipient's version folder, then
    swap every link, then delete older versions, recipients' folders that no longer receive
    anything of D, and D's folders of the flat layout. Returns recipient -> version folder."""
    plan = export_plan(tables)
    folders = {
        recipient: build_export_version(warehouse_dir, run_date, recipient, mine, version)
        for recipient, mine in plan.items()
    }
    for recipient, folder in folders.items():
        swap_export_link(warehouse_dir, run_date, recipient, folder)
    for recipient, folder in folders.items():
        prune_export_versions(warehouse_dir, run_date, recipient, keep=folder.name)
    for recipient in exported_recipients(warehouse_dir):
        if recipient not in folders:
            remove_export(warehouse_dir, run_date, recipient)
    remove_flat_export(warehouse_dir, run_date)
    return folders


def build_export_version(
    warehouse_dir: Path, run_date: dt.date, recipient: str, tables: list[str], version: str
) -> Path:
    """One Parquet file per table of the recipient (rows of D), then the manifest, then the
    rename. A person-level table for a recipient not allowed one stops here, before any
    file of it is written (RecipientsInvalid)."""
    from privacy_pipeline.recipients import check_person_level, person_level_recipients

    final = versions_dir(warehouse_dir, run_date, recipient) / version
    if (final / MANIFEST).exists():
        return final
    building = final.with_name(f"{version}.building")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    rows = {}
    allowed = person_level_recipients()
    con = duckdb.connect(str(Path(warehouse_dir) / "warehouse.duckdb"), read_only=True)
    try:
        for table in tables:
            check_person_level(recipient, table, list(table_columns(con, table)), allowed)
        for table in tables:
            target = building / f"{table}.parquet"
            query = f"select * from {qualified(table)} where run_date = cast(? as date)"
            con.execute(
                f"copy ({query}) to ? (format parquet)", [run_date.isoformat(), str(target)]
            )
            rows[table] = con.execute(
                f"select count(*) from ({query})", [run_date.isoformat()]
            ).fetchone()[0]
    except Exception:
        shutil.rmtree(building, ignore_errors=True)
        raise
    finally:
        con.close()
    manifest = {
        "run_date": run_date.isoformat(),
        "recipient": recipient,
        "version": version,
        "rows": rows,
    }
    for written in building.iterdir():
        fsync_file(written)
    write_durably(building / MANIFEST, json.dumps(manifest, indent=2))
    fsync_folder(building)
    os.replace(building, final)
    fsync_folder(final.parent)
    return final


def write_durably(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def swap_export_link(warehouse_dir: Path, run_date: dt.date, recipient: str, folder: Path) -> None:
    """Point exports/<recipient>/run_date=D at ``folder`` in one atomic rename."""
    link = export_link(warehouse_dir, run_date, recipient)
    if link.exists() and not link.is_symlink():
        shutil.rmtree(link)  # not something publication wrote: D's link is ours
    staged = link.with_name(f".{link.name}.link")
    with contextlib.suppress(FileNotFoundError):
        staged.unlink()
    staged.symlink_to(os.path.relpath(folder, link.parent))
    os.replace(staged, link)
    fsync_folder(link.parent)


def remove_export(warehouse_dir: Path, run_date: dt.date, recipient: str) -> None:
    """The recipient receives nothing of D (any more): its link, then its versions."""
    link = export_link(warehouse_dir, run_date, recipient)
    if link.is_symlink():
        link.unlink()
    elif link.exists():
        shutil.rmtree(link)
    shutil.rmtree(versions_dir(warehouse_dir, run_date, recipient), ignore_errors=True)
    for empty in (versions_dir(warehouse_dir, run_date, recipient).parent, link.parent):
        with contextlib.suppress(OSError):
            empty.rmdir()  # only when empty


def remove_flat_export(warehouse_dir: Path, run_date: dt.date) -> None:
    for path in flat_export_paths(warehouse_dir, run_date):
        log.warning("removing %s (flat export layout, replaced by one folder per recipient)", path)
        if path.is_symlink():
            path.unlink()
        else:
            shutil.rmtree(path, ignore_errors=True)
    with contextlib.suppress(OSError):
        (exports_root(warehouse_dir) / VERSIONS_DIR).rmdir()


def current_export_version(warehouse_dir: Path, run_date: dt.date, recipient: str) -> str | None:
    link = export_link(warehouse_dir, run_date, recipient)
    return Path(os.readlink(link)).name if link.is_symlink() else None


def exported_tables(warehouse_dir: Path, run_date: dt.date, recipient: str) -> list[str] | None:
    """Tables of the recipient's current version of D (from its manifest), None if none."""
    manifest = export_link(warehouse_dir, run_date, recipient) / MANIFEST
    if not manifest.exists():
        return None
    return sorted(json.loads(manifest.read_text(encoding="utf-8"))["rows"])


def prune_export_versions(
    warehouse_dir: Path, run_date: dt.date, recipient: str, keep: str
) -> None:
    folder = versions_dir(warehouse_dir, run_date, recipient)
    versions = sorted(p for p in folder.iterdir() if p.name != keep)
    complete = [p for p in versions if not p.name.endswith(".building")]
    for stale in complete[: max(len(complete) - (KEPT_VERSIONS - 1), 0)]:
        shutil.rmtree(stale, ignore_errors=True)
    for partial in versions:
        if partial.name.endswith(".building"):
            shutil.rmtree(partial, ignore_errors=True)


def latest_publication_row(warehouse_dir: Path, run_date: dt.date) -> tuple | None:
    """(run_id, export_version, published_at, tables JSON) of D's latest publication."""
    db = Path(warehouse_dir) / "warehouse.duckdb"
    if not db.exists():
        return None
    con = duckdb.connect(str(db), read_only=True)
    try:
        exists = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'publication' and table_name = 'log'"
        ).fetchone()[0]
        if not exists:
            return None
        return con.execute(
            f"select run_id, export_version, published_at, tables from {PUBLICATION_LOG} "
            "where run_date = cast(? as date) order by published_at desc limit 1",
            [run_date.isoformat()],
        ).fetchone()
    finally:
        con.close()


def latest_publication(warehouse_dir: Path, run_date: dt.date) -> tuple[str, list[str]] | None:
    """(export version, tables) of the latest committed publication of D, if any."""
    row = latest_publication_row(warehouse_dir, run_date)
    # Only what is published today: a table that left the list (a restricted one) is not
    # exported again from an older log entry.
    return (row[1], [t for t in json.loads(row[3]) if t in PUBLISHED_TABLES]) if row else None


def publication_in_force(warehouse_dir: Path, run_date: dt.date, run_id: str) -> str | None:
    """A sentence naming D's publication by an earlier run, which a failed run leaves in force."""
    row = latest_publication_row(warehouse_dir, run_date)
    if row is None or row[0] == run_id:
        return None
    published_at = row[2].astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"the publication of {run_date} made at {published_at} (run {row[0]}) stays in force"


def exports_current(
    warehouse_dir: Path, run_date: dt.date, version: str, tables: list[str]
) -> bool:
    """Every recipient shows ``version`` of D with exactly its tables, no other recipient
    folder has D, and no flat-layout folder of D is left."""
    plan = export_plan(tables)
    for recipient in set(plan) | set(exported_recipients(warehouse_dir)):
        mine = plan.get(recipient)
        if mine is None:
            if export_link(warehouse_dir, run_date, recipient).is_symlink():
                return False
        elif current_export_version(warehouse_dir, run_date, recipient) != version or (
            exported_tables(warehouse_dir, run_date, recipient) != sorted(mine)
        ):
            return False
    return not flat_export_paths(warehouse_dir, run_date)


def sync_exports(warehouse_dir: Path, run_date: dt.date) -> bool:
    """Make every recipient's exports of D show the latest committed publication (after an
    interrupted publication, a change of recipients, or the flat layout); True if changed."""
    latest = latest_publication(warehouse_dir, run_date)
    if latest is None:
        return False
    version, tables = latest
    if exports_current(warehouse_dir, run_date, version, tables):
        return False
    log.warning("exports of %s lag the warehouse: writing %s per recipient", run_date, version)
    write_exports(warehouse_dir, run_date, tables, version)
    return True


def migrate_flat_exports(warehouse_dir: Path) -> list[dt.date]:
    """Every date still in the flat layout is exported per recipient from the warehouse
    (the source of truth) and its flat folders removed; a flat date the publication log
    does not know cannot be rebuilt nor reached by an erasure: it is removed."""
    dates = flat_export_dates(warehouse_dir)
    for run_date in dates:
        if not sync_exports(warehouse_dir, run_date):
            remove_flat_export(warehouse_dir, run_date)
    return dates
