"""The durable consent ledger: every privacy event ever received, never forgotten.

The consent state must not depend on which ledger files happen to be in tonight's landing
zone: a shortened delivery would switch old objections back on. So every night's delivery
of ``privacy_preferences`` is merged into ``<warehouse>/restricted/consent_ledger.duckdb``
(restricted: person-level, never in ``warehouse.duckdb``, never under ``exports/``), and
what staging and the gates read as ``landing.privacy_preferences`` is the whole ledger.

Tables of the ledger database (append-only; a DPO may only set ``conflicts.resolved_at``):

- ``events``: one row per ``ledger_key`` (the trimmed ``event_id``; an event without one
  is keyed by its content), the contract's columns as delivered (trimmed text), the file
  and row it came in (``source_file``, ``source_row``), and when (``first_received_at``,
  the run's processing instant) and by which run it was first received.
- ``conflicts``: a later (or simultaneous) delivery of a known key with different content.
  Nothing is resolved silently: every unresolved version is shown to staging next to the
  ledger's, so the rule ``duplicate_key_conflict`` applies (a readable refusal among them is
  still honoured) until the DPO sets ``resolved_at``.
- ``deliveries``: one row per merged delivery: rows delivered, new events, conflicts, and
  the ledger's events the delivery lacked (how many, per purpose).

The merge is one transaction, committed in ``load_landing`` before anything is built, and
kept whatever happens later in the run: a refusal received is a refusal received. A
delivery that cannot be this ledger (no event at all, or none of the events the ledger
holds, while the ledger holds some) is refused as unusable input and not merged.
See docs/data-contract.md ("The consent ledger").
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from privacy_pipeline.contract import ENUM, TIMESTAMP
from privacy_pipeline.contract import table as contract_table
from privacy_pipeline.errors import UnusableInput
from privacy_pipeline.run_context import RunContext
from privacy_pipeline.transaction import transaction
from privacy_pipeline.vocabulary import enum_term_sql, register_sql_functions

log = logging.getLogger(__name__)

TABLE = "privacy_preferences"
DELIVERY_VIEW = f"landing.{TABLE}_delivery"
LEDGER = "consent_ledger"  # the ledger database's name while attached
REPORT_FILE = "consent_ledger.json"
COLUMNS = tuple(contract_table(TABLE).column_names)
# The landing table staging and the gates read: the ledger's columns plus these three.
SOURCE_FILE = "_source_file"
SOURCE_ROW = "_source_row"  # the event's row number in the file of its first delivery
FIRST_RECEIVED = "_first_received_at"
# Columns added to the ledger after its first release (ledger files already written lack
# them until their next merge adds them; old events keep a null there).
ADDED_COLUMNS = {"events": {"source_row": "bigint"}, "conflicts": {"source_row": "bigint"}}


@dataclass
class MergeReport:
    """What one delivery brought, for the run report (no person-level data)."""

    ledger_events_before: int = 0
    delivered_rows: int = 0
    new_events: int = 0
    known_events: int = 0
    new_conflicts: int = 0
    open_conflicts: int = 0
    missing_events: int = 0
    missing_by_purpose: dict[str, int] = field(default_factory=dict)
    ledger_events_after: int = 0


def trimmed(column: str) -> str:
    return f"nullif(trim(cast({column} as varchar)), '')"


def canonical(column: str) -> str:
    """A delivered value as compared between deliveries: enums as staging reads them
    (``privacy_pipeline.vocabulary``: case, accents, look-alike letters and separators do
    not matter), instants as the instant they name (``+02:00`` and ``Z`` forms agree), so a
    re-export that only reformats an event is not a conflict. Needs
    ``register_sql_functions`` on the connection."""
    spec = contract_table(TABLE).column(column)
    if spec.kind == ENUM:
        return enum_term_sql(column, spec.values)
    if spec.kind == TIMESTAMP:
        instant = f"try_cast(upper({column}) as timestamptz)"
        return f"coalesce(cast(epoch_us({instant}) as varchar), {column})"
    return column


def content_fingerprint(columns: tuple[str, ...] = COLUMNS) -> str:
    """md5 of the canonical delivered values; '~' marks an empty value."""
    parts = ", chr(31), ".join(f"coalesce({canonical(c)}, '~')" for c in columns)
    return f"md5(concat({parts}))"


def keyed_delivery_sql() -> str:
    """The delivery row by row: values trimmed as text, its ledger key, fingerprint, file
    and row number; without the events of customers erased earlier
    (``landing.erased_customers``, written by the loader just before the merge): their
    erasure must not be undone by a re-delivery (docs/dpo.md)."""
    values = ", ".join(f"{trimmed(c)} as {c}" for c in COLUMNS)
    return f"""
        with rows as (
            select {values}, {SOURCE_FILE} as source_file, {SOURCE_ROW} as source_row
            from {DELIVERY_VIEW} as delivery
            where not exists (
                select 1 from landing.erased_customers as erased
                where erased.customer_id = {trimmed("delivery.customer_id")}
            )
        ), keyed as (
            select *, {content_fingerprint()} as fingerprint from rows
        )
        select coalesce(event_id, 'content:' || fingerprint) as ledger_key, *
        from keyed
    """


def delivered_rows_sql() -> str:
    """The delivery, one row per distinct (key, content), with the file and row number of
    its first copy (in file order, the copy staging accepts)."""
    return f"""
        select ledger_key, {", ".join(COLUMNS)}, fingerprint,
               min(source_file) as source_file,
               arg_min(source_row, (source_file, source_row)) as source_row,
               count(*) as copies
        from ({keyed_delivery_sql()}) as keyed
        group by all
    """


def create_ledger_tables(con: duckdb.DuckDBPyConnection) -> None:
    text_columns = ", ".join(f"{c} varchar" for c in COLUMNS)
    con.execute(
        f"""create table if not exists {LEDGER}.events (
            ledger_key varchar primary key, {text_columns}, fingerprint varchar,
            source_file varchar, source_row bigint, first_received_at timestamptz,
            first_run_id varchar, first_run_date date)"""
    )
    con.execute(
        f"""create table if not exists {LEDGER}.conflicts (
            ledger_key varchar, {text_columns}, fingerprint varchar, source_file varchar,
            source_row bigint, received_at timestamptz, run_id varchar, run_date date,
            resolved_at timestamptz)"""
    )
    # A ledger written before a column existed gets it (at the end: inserts name columns).
    for table_name, columns in ADDED_COLUMNS.items():
        for column, kind in columns.items():
            con.execute(
                f"alter table {LEDGER}.{table_name} add column if not exists {column} {kind}"
            )
    con.execute(
        f"""create table if not exists {LEDGER}.deliveries (
            run_id varchar, run_date date, received_at timestamptz, delivered_rows bigint,
            new_events bigint, known_events bigint, new_conflicts bigint,
            missing_events bigint, missing_by_purpose varchar)"""
    )


def attach_ledger(con: duckdb.DuckDBPyConnection, ctx: RunContext) -> None:
    from privacy_pipeline.publish import while_locked

    ctx.restricted_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    while_locked(
        lambda: con.execute(f"attach ? as {LEDGER} (read_write)", [str(ctx.consent_ledger_db)]),
        ctx.consent_ledger_db,
    )


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> Any:
    return con.execute(sql, params or []).fetchone()[0]


def refuse_unusable_delivery(ctx: RunContext, known: int, delivered: int, overlap: int) -> None:
    """A delivery that cannot be this ledger is refused rather than merged or trusted."""
    if not known:
        return  # first run: nothing known yet, even an empty ledger is plausible
    where = f"landing zone {ctx.landing_dir}: table '{TABLE}'"
    if not delivered:
        raise UnusableInput(
            f"{where} delivers no event, but the durable consent ledger "
            f"({ctx.consent_ledger_db}) holds {known}: refusing an empty ledger delivery"
        )
    if not overlap:
        raise UnusableInput(
            f"{where} delivers {delivered} events and none of the {known} events the durable "
            f"consent ledger ({ctx.consent_ledger_db}) holds: it cannot be this ledger "
            "(a delivery must be the whole ledger export, or at least overlap it)"
        )


def forget_previous_ledger_load(con: duckdb.DuckDBPyConnection) -> None:
    """A candidate loaded again (a test, a manual reload, the consent merge of a zone
    refused after its views were made) gets its landing views afresh: the consent table
    and the delivery's view go, whichever kind of relation the earlier load left."""
    relations = con.execute(
        """select table_name, table_type from information_schema.tables
           where table_catalog = current_database() and table_schema = 'landing'
             and table_name in (?, ?)""",
        [TABLE, DELIVERY_VIEW.split(".", 1)[1]],
    ).fetchall()
    for name, kind in relations:
        con.execute(f"drop {'view' if kind == 'VIEW' else 'table'} landing.{name}")


def merge_delivery(con: duckdb.DuckDBPyConnection, ctx: RunContext) -> MergeReport:
    """Merge the delivery (``landing.privacy_preferences``, renamed to ``..._delivery``)
    into the durable ledger in one transaction, then expose the ledger as the landing
    table. ``con`` is the loader's connection to the candidate database."""
    con.execute("set TimeZone = 'UTC'")  # typed Parquet instants become text in UTC
    con.execute(f"alter view landing.{TABLE} rename to {TABLE}_delivery")
    attach_ledger(con, ctx)
    try:
        register_sql_functions(con)
        create_ledger_tables(con)
        con.execute(f"create or replace temp table delivered as {delivered_rows_sql()}")
        report = MergeReport(
            ledger_events_before=scalar(con, f"select count(*) from {LEDGER}.events"),
            delivered_rows=scalar(con, f"select count(*) from {DELIVERY_VIEW}"),
        )
        report.known_events = scalar(
            con,
            f"""select count(distinct ledger_key) from delivered
                where ledger_key in (select ledger_key from {LEDGER}.events)""",
        )
        refuse_unusable_delivery(
            ctx, report.ledger_events_before, report.delivered_rows, report.known_events
        )
        missing = con.execute(
            f"""select coalesce({canonical("purpose")}, '(none)'), count(*)
                from {LEDGER}.events
                where ledger_key not in (select ledger_key from delivered)
                group by all order by 1"""
        ).fetchall()
        report.missing_by_purpose = {purpose: n for purpose, n in missing}
        report.missing_events = sum(report.missing_by_purpose.values())
        with transaction(con):
            report.new_events, report.new_conflicts = apply_delivery(con, ctx)
            con.execute(
                f"insert into {LEDGER}.deliveries values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    ctx.run_id,
                    ctx.run_date.isoformat(),
                    ctx.processed_at,
                    report.delivered_rows,
                    report.new_events,
                    report.known_events,
                    report.new_conflicts,
                    report.missing_events,
                    json.dumps(report.missing_by_purpose),
                ],
            )
        report.ledger_events_after = scalar(con, f"select count(*) from {LEDGER}.events")
        report.open_conflicts = scalar(
            con, f"select count(*) from {LEDGER}.conflicts where resolved_at is null"
        )
        expose_ledger(con)
    finally:
        con.execute(f"detach {LEDGER}")
    write_report(ctx, report)
    if report.missing_events:
        log.warning(
            "consent ledger: the delivery lacks %d known events (%s); they stay in force",
            report.missing_events,
            ", ".join(f"{p}: {n}" for p, n in report.missing_by_purpose.items()),
        )
    return report


def apply_delivery(con: duckdb.DuckDBPyConnection, ctx: RunContext) -> tuple[int, int]:
    """New keys appended (one content each); every other content recorded as a conflict."""
    columns = ", ".join(COLUMNS)
    run = [ctx.processed_at, ctx.run_id, ctx.run_date.isoformat()]
    con.execute(
        """create or replace temp table delivered_ranked as
            select *, row_number() over (
                partition by ledger_key order by source_file, fingerprint) as version
            from delivered"""
    )
    new_events = scalar(
        con,
        f"""select count(*) from delivered_ranked
            where version = 1 and ledger_key not in (select ledger_key from {LEDGER}.events)""",
    )
    con.execute(
        f"""insert into {LEDGER}.events (ledger_key, {columns}, fingerprint, source_file,
                source_row, first_received_at, first_run_id, first_run_date)
            select ledger_key, {columns}, fingerprint, source_file, source_row, ?, ?,
                   cast(? as date)
            from delivered_ranked
            where version = 1 and ledger_key not in (select ledger_key from {LEDGER}.events)""",
        run,
    )
    # Now every delivered key is in events: any other content is a conflict (once). Stored
    # contents are compared by their fingerprint under tonight's rule (recomputed from the
    # stored values), so a wider reading of vocabularies never makes an old event conflict.
    before = scalar(con, f"select count(*) from {LEDGER}.conflicts")
    con.execute(
        f"""insert into {LEDGER}.conflicts (ledger_key, {columns}, fingerprint, source_file,
                source_row, received_at, run_id, run_date, resolved_at)
            select d.ledger_key, {", ".join(f"d.{c}" for c in COLUMNS)}, d.fingerprint,
                   d.source_file, d.source_row, ?, ?, cast(? as date), null
            from delivered as d
            join {refingerprinted("events")} as e on e.ledger_key = d.ledger_key
            where d.fingerprint <> e.fingerprint
              and not exists (
                  select 1 from {refingerprinted("conflicts")} as c
                  where c.ledger_key = d.ledger_key and c.fingerprint = d.fingerprint
                    and c.resolved_at is null)""",
        run,
    )
    return new_events, scalar(con, f"select count(*) from {LEDGER}.conflicts") - before


def refingerprinted(table: str) -> str:
    """A ledger table with each row's fingerprint as tonight's delivery would get it."""
    return f"(select * replace ({content_fingerprint()} as fingerprint) from {LEDGER}.{table})"


def ledger_rows_sql(catalog: str = LEDGER) -> str:
    """The ledger as staging reads it: every event, plus each unresolved conflicting version."""
    columns = ", ".join(COLUMNS)
    return f"""
        select {columns}, source_file as {SOURCE_FILE}, first_received_at as {FIRST_RECEIVED},
               source_row as {SOURCE_ROW}
        from {catalog}.events
        union all
        select {columns}, source_file, min(received_at), min(source_row)
        from {catalog}.conflicts
        where resolved_at is null
        group by {columns}, source_file
    """


def expose_ledger(con: duckdb.DuckDBPyConnection) -> None:
    """The landing table staging reads: the ledger, plus tonight's further identical copies
    of an event, each with its own row number (staging quarantines them as exact_duplicate,
    so the DPO sees a doubled delivery; the ledger itself keeps one)."""
    con.execute(f"create or replace table landing.{TABLE} as {ledger_rows_sql()}")
    if not scalar(con, "select coalesce(max(copies), 1) > 1 from delivered"):
        return
    columns = ", ".join(f"d.{c}" for c in COLUMNS)
    con.execute(
        f"""insert into landing.{TABLE}
            select {columns}, d.source_file, e.first_received_at, d.source_row
            from (
                select *, row_number() over (
                    partition by ledger_key, fingerprint order by source_file, source_row
                ) as copy
                from ({keyed_delivery_sql()}) as keyed
            ) as d
            join {LEDGER}.events as e using (ledger_key)
            where d.copy > 1"""
    )


def write_report(ctx: RunContext, report: MergeReport) -> None:
    ctx.run_dir.mkdir(parents=True, exist_ok=True)
    (ctx.run_dir / REPORT_FILE).write_text(json.dumps(asdict(report), indent=2))


def read_report(ctx: RunContext) -> dict[str, Any] | None:
    path = ctx.run_dir / REPORT_FILE
    return json.loads(path.read_text()) if path.exists() else None


def open_conflicts(ledger_db: Path) -> list[tuple]:
    """Unresolved conflicts (event id, purpose, first seen), for the run report."""
    if not ledger_db.exists():
        return []
    con = duckdb.connect(str(ledger_db), read_only=True)
    try:
        return con.execute(
            """select ledger_key, lower(purpose), min(received_at)::varchar, count(*)
               from conflicts where resolved_at is null group by all order by 1"""
        ).fetchall()
    except duckdb.Error:
        return []
    finally:
        con.close()
