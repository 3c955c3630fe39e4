"""An objection reaches every published date: withdraw objectors from earlier publications.

Publishing date D replaces the rows of D only, so without this step the marketing tables
(and export files) of dates published before an objection keep handing out the customer.
Every run, after publication and whether or not the night's gates passed (an objection
must not wait for a green night; removing rows never publishes anything new), the latest
state of the durable consent ledger is applied to every published date:

- a customer whose latest direct_marketing choice is a refusal leaves the four marketing
  tables of every date;
- a customer whose direct_marketing choice in force at the end of a published date D
  (every choice counting from before D+1 00:00 local time, including those delivered
  since) was a refusal leaves the four marketing tables of D, even after a later
  consent: D is allowed only if it was allowed at the end of D and now
  (docs/privacy-rules.md sections 3 and 14); the same for the consents below;
- a customer whose latest partner_offers choice is not a valid Proximus opt-in (a refusal,
  or a consent that does not count) leaves ``marketing.partner_audiences``;
- a customer whose latest personalisation_browsing (or personalisation_usage) choice is
  not a valid Proximus opt-in loses, on every date, the evidence of that basis, the scores
  of the interests that evidence fed, the segments built on those interests or requiring
  that purpose, and their partner audiences (a partner may target those interests).

The ledger is read here directly, not through the models, so this also works on a night
whose models failed. Only a sound opt-in (its own event id, contract channel and
platform, a time that can be true) lifts an objection or keeps a consent; a
legacy-platform opt-in lifts an objection only when tonight's CRM delivery shows it was
recorded before the account's migration: where this step cannot tell, it errs on the
side of removal. Rows are deleted and the withdrawal logged in one warehouse
transaction; each changed date then gets a new export version (the atomic
version/link mechanism of ``publish``), and its older versions, which still hold the
customer, are deleted. See docs/gates.md ("Objections reach every published date").
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
from typing import Any

import duckdb

from privacy_pipeline.consent_ledger import LEDGER, ledger_rows_sql
from privacy_pipeline.contract import (
    CHANNELS,
    CHOICES,
    PLATFORMS,
    PURPOSES,
    TRUE_INSTANT_PATTERN,
    instant_sql,
)
from privacy_pipeline.publish import (
    PUBLICATION_LOG,
    export_version,
    latest_publication,
    sync_exports,
    while_locked,
    write_exports,
)
from privacy_pipeline.run_context import RunContext
from privacy_pipeline.transaction import transaction
from privacy_pipeline.vocabulary import (
    customer_key_sql,
    enum_term_sql,
    register_sql_functions,
)

log = logging.getLogger(__name__)

REPORT_FILE = "withdrawals.json"
WITHDRAWALS_TABLE = "publication.withdrawals"
MARKETING_TABLES = (
    "marketing.customer_interests",
    "marketing.interest_evidence",
    "marketing.segment_members",
    "marketing.partner_audiences",
)
CONSENTED_BASES = {"browsing": "personalisation_browsing", "usage": "personalisation_usage"}


def vocabulary(column: str, values: tuple[str, ...]) -> str:
    """An enum value of the closed list ``values`` read as staging and the gates read it
    (privacy_pipeline.vocabulary: case, accents, look-alike letters and everything but
    letters and digits do not matter)."""
    return enum_term_sql(f"cast({column} as varchar)", values)


def customer_key(column: str) -> str:
    """A customer number matched generously (case, accents, separators and punctuation
    ignored): a refusal matches generously here, since removing a row never harms anyone."""
    return customer_key_sql(f"cast({column} as varchar)")


def ledger_choices_sql(processed_at_param: str = "?") -> str:
    """Every readable choice of the ledger with the instant it counts from (its recorded
    time when that can be true, else when the ledger first received it) and whether its
    row is sound: an event id of its own (no conflicting version), a contract channel and
    platform, a time that can be true. Only a sound opt-in can grant or lift anything."""
    raw = "upper(trim(recorded_at))"
    plausible = (
        f"case when regexp_full_match({raw}, '{TRUE_INSTANT_PATTERN}') then {instant_sql(raw)} end"
    )
    processed_at = f"cast({processed_at_param} as timestamptz)"
    return f"""
        with rows as (select * from ({ledger_rows_sql(LEDGER)}) as ledger),
        parsed as (
            select nullif(trim(cast(customer_id as varchar)), '') as customer_id,
                   {customer_key("customer_id")} as customer_key,
                   {vocabulary("purpose", PURPOSES)} as purpose,
                   {vocabulary("choice", CHOICES)} as choice,
                   {vocabulary("platform", PLATFORMS)} as platform,
                   {vocabulary("channel", CHANNELS)} as channel,
                   nullif(trim(event_id), '') as event_id,
                   {plausible} as recorded, _first_received_at as received,
                   trim(recorded_at) as recorded_text
            from rows
        ),
        versioned as (
            -- identical copies of one event are that event; two contents are none
            select *,
                   concat_ws(chr(31), coalesce(customer_key, '~'), coalesce(purpose, '~'),
                             coalesce(choice, '~'), coalesce(platform, '~'),
                             coalesce(channel, '~'),
                             coalesce(cast(recorded as varchar), '~' || recorded_text, '~'))
                       as content
            from parsed
        ),
        counted as (
            select *,
                   min(content) over (partition by event_id)
                       = max(content) over (partition by event_id) as one_version
            from versioned
        )
        select customer_id, customer_key, purpose, choice, platform,
               case when recorded <= {processed_at} then recorded else received end
                   as counts_from,
               coalesce(recorded <= {processed_at}, false)
                   and event_id is not null and one_version
                   and channel in ({", ".join(f"'{c}'" for c in CHANNELS)})
                   and platform in ({", ".join(f"'{p}'" for p in PLATFORMS)}) as is_sound
        from counted
        where customer_key <> '' and choice in ('opt_in', 'opt_out')
    """


def latest_choice_sql(where: str, per_published_date: bool = False) -> str:
    """Each customer's latest choice per purpose among ``choices`` rows matching ``where``;
    at the same instant the refusal wins. Each row has a run_date: null for the choice in
    force now (it applies to every date), or, with ``per_published_date``, a published
    date for the choice in force at its end (``published_days``)."""
    if per_published_date:
        # Only a customer with a choice other than a sound Proximus opt-in can have been
        # refused at the end of some date: the others do not meet every published date.
        source = """choices join published_days as day
                    on choices.counts_from < day.ends_at
                    and choices.customer_id in (
                        select customer_id from choices
                        where not (choice = 'opt_in' and platform = 'proximus' and is_sound))"""
        run_date, per_date = "day.run_date", "day.run_date, "
    else:
        source, run_date, per_date = "choices", "cast(null as date)", ""
    return f"""
        select customer_id, purpose, choice, platform, is_sound, {run_date} as run_date
        from {source} where {where}
        qualify row_number() over (
            partition by {per_date}customer_id, purpose
            order by counts_from desc nulls first,
                     case when choice = 'opt_out' then 0 else 1 end
        ) = 1
    """


def record_published_days(con: duckdb.DuckDBPyConnection, ctx: RunContext, tables) -> None:
    """Temp table ``published_days(run_date, ends_at)``: every date in ``tables`` and the
    instant its local day ends (D+1 00:00 in the configured time zone)."""
    dates = " union ".join(f"select distinct run_date from {table}" for table in tables)
    con.execute(
        f"""create temp table published_days as
            select run_date, timezone(?, cast(run_date + 1 as timestamp)) as ends_at
            from ({dates}) as published""",
        [ctx.config["timezone"]],
    )


def choices_in_force_sql(where: str) -> str:
    """The choices matching ``where`` in force now (run_date null: every date) and at the
    end of each published date (run_date: that date only)."""
    return f"""
        select * from ({latest_choice_sql(where)}) as in_force_now
        union all
        select * from ({latest_choice_sql(where, per_published_date=True)}) as in_force_at_day_end
    """


def build_withdrawal_sets(con: duckdb.DuckDBPyConnection, ctx: RunContext, tables) -> None:
    """Temp tables ``objectors(customer_id, run_date)`` and ``lost_consents(customer_id,
    purpose, run_date)``; run_date null means every published date."""
    record_choices(con, ctx, tables)
    record_migrations(con, ctx)
    record_published_days(con, ctx, tables)
    # An objection is lifted only by a sound opt-in on the Proximus platform, or on the
    # legacy platform before the account's migration (when the CRM delivery says so).
    lifting = """choice = 'opt_out' or (is_sound and (platform = 'proximus' or exists (
        select 1 from migrations m
        where m.customer_id = choices.customer_id and choices.counts_from < m.migrated_at)))"""
    con.execute(
        f"""create temp table objectors as
            select distinct customer_id, run_date from ({choices_in_force_sql(lifting)})
            where purpose = 'direct_marketing' and choice = 'opt_out'"""
    )
    consent_purposes = ", ".join(f"'{p}'" for p in ("partner_offers", *CONSENTED_BASES.values()))
    con.execute(
        f"""create temp table lost_consents as
            select distinct customer_id, purpose, run_date from ({choices_in_force_sql("true")})
            where purpose in ({consent_purposes})
              and not (choice = 'opt_in' and platform = 'proximus' and is_sound)"""
    )


def record_choices(con: duckdb.DuckDBPyConnection, ctx: RunContext, tables) -> None:
    """Temp table ``choices``: every readable ledger choice (``ledger_choices_sql``) with
    the published customer it names. A choice names the customer whose number it carries
    exactly; a refusal that names no published customer exactly names every one its
    number's key matches (removal errs on the side of removal). So the consent of C-001
    never outranks the refusal of C001, whose numbers share the key c001."""
    published = " union ".join(f"select distinct customer_id from {table}" for table in tables)
    con.execute(
        f"""create temp table published_customers as
            select customer_id, {customer_key("customer_id")} as customer_key
            from ({published}) as published where customer_id is not null"""
    )
    con.execute(
        f"create temp table ledger_choices as {ledger_choices_sql()}",
        [ctx.processed_at, ctx.processed_at],
    )
    # Two equi-joins, not one join on "id or key": an "or" in a join condition is a
    # nested loop over choices x customers (20 GB at 200k customers, docs/benchmarks.md).
    columns = "named.customer_id, c.purpose, c.choice, c.platform, c.counts_from, c.is_sound"
    con.execute(
        f"""create temp table choices as
            select {columns}
            from ledger_choices as c
            join published_customers as named on named.customer_id = c.customer_id
            union all
            select {columns}
            from ledger_choices as c
            join published_customers as named on named.customer_key = c.customer_key
            where c.choice = 'opt_out'
              and c.customer_id not in (select customer_id from published_customers)"""
    )


def record_migrations(con: duckdb.DuckDBPyConnection, ctx: RunContext) -> None:
    """Temp table ``migrations(customer_id, migrated_at)`` from tonight's CRM delivery (the
    candidate's landing view), for customers whose every row gives a readable migration.
    Empty when the run did not get that far: then no legacy opt-in lifts an objection."""
    con.execute("create temp table migrations (customer_id varchar, migrated_at timestamptz)")
    if not ctx.candidate_db.exists():
        return
    try:
        con.execute("attach ? as tonight (read_only)", [str(ctx.candidate_db)])
    except duckdb.Error:
        return
    migrated = "try_cast(upper(trim(cast(migrated_at as varchar))) as timestamptz)"
    try:
        con.execute(
            f"""insert into migrations
                select trim(cast(customer_id as varchar)), max({migrated})
                from tonight.landing.customers
                group by 1
                having bool_and({migrated} is not null)"""
        )
    except duckdb.Error as exc:
        log.warning("withdrawal: tonight's CRM delivery cannot be read (%s)", exc)
    finally:
        con.execute("detach tonight")


def segment_definitions(ctx: RunContext) -> list[tuple[str, str | None, str | None]]:
    """(segment, interest, required purpose) rows of the configured segments."""
    rows = []
    for name, definition in (ctx.config.get("segments") or {}).items():
        definition = definition or {}
        interest = (definition.get("interest") or "").lower() or None
        purposes = definition.get("requires_consent") or [None]
        rows.extend((name, interest, purpose) for purpose in purposes)
    return rows


def doomed_rows_sql(table: str) -> str:
    """The predicate selecting the rows of ``table`` (aliased by its name) to withdraw."""
    name = table.split(".")[1]
    customer = f"{name}.customer_id"
    on_this_date = f"(o.run_date is null or o.run_date = {name}.run_date)"
    objector = (
        f"exists (select 1 from objectors o where o.customer_id = {customer} and {on_this_date})"
    )
    if table == "marketing.customer_interests":
        return f"""{objector} or exists (select 1 from affected_interests a
                    where a.customer_id = customer_interests.customer_id
                      and a.run_date = customer_interests.run_date
                      and a.interest = customer_interests.interest)"""
    if table == "marketing.interest_evidence":
        return f"""{objector} or exists (select 1 from lost_bases o
                    where o.customer_id = {customer} and o.basis = interest_evidence.basis
                      and {on_this_date})"""
    if table == "marketing.segment_members":
        return f"""{objector} or exists (
                    select 1 from segment_defs s
                    where s.segment = segment_members.segment
                      and (exists (select 1 from affected_interests a
                                   where a.customer_id = segment_members.customer_id
                                     and a.run_date = segment_members.run_date
                                     and a.interest = s.interest)
                           or exists (select 1 from lost_consents o
                                      where o.customer_id = {customer}
                                        and o.purpose = s.purpose and {on_this_date})))"""
    if table == "marketing.partner_audiences":
        return f"""{objector}
                or exists (select 1 from lost_consents o
                           where o.customer_id = {customer} and o.purpose = 'partner_offers'
                             and {on_this_date})
                or exists (select 1 from affected_interests a
                           where a.customer_id = partner_audiences.customer_id
                             and a.run_date = partner_audiences.run_date)"""
    raise ValueError(table)


def existing_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "select table_schema || '.' || table_name from information_schema.tables "
        "where table_catalog = current_database()"
    ).fetchall()
    present = {name for (name,) in rows}
    return [t for t in MARKETING_TABLES if t in present]


def withdraw_in_warehouse(ctx: RunContext) -> dict[str, dict[str, int]]:
    """Delete the withdrawn rows of every date in one transaction; rows removed per date
    and table. Logs a publication of each changed date (its new export version)."""
    con = while_locked(lambda: duckdb.connect(str(ctx.warehouse_db)), ctx.warehouse_db)
    try:
        tables = existing_tables(con)
        if not tables:
            return {}
        register_sql_functions(con)
        con.execute(f"attach ? as {LEDGER} (read_only)", [str(ctx.consent_ledger_db)])
        build_withdrawal_sets(con, ctx, tables)
        con.execute(
            "create temp table lost_bases as select customer_id, basis, run_date "
            "from lost_consents "
            "join (values "
            + ", ".join(f"('{b}', '{p}')" for b, p in CONSENTED_BASES.items())
            + ") as bases(basis, purpose) using (purpose)"  # fmt: skip
        )
        con.execute(
            "create temp table segment_defs (segment varchar, interest varchar, purpose varchar)"
        )
        if definitions := segment_definitions(ctx):
            con.executemany("insert into segment_defs values (?, ?, ?)", definitions)
        with transaction(con):
            affected = "marketing.interest_evidence" in tables
            con.execute(
                "create temp table affected_interests as "
                + (
                    """select distinct customer_id, run_date, interest
                        from marketing.interest_evidence as interest_evidence
                        where exists (select 1 from lost_bases l
                                      where l.customer_id = interest_evidence.customer_id
                                        and l.basis = interest_evidence.basis
                                        and (l.run_date is null
                                             or l.run_date = interest_evidence.run_date))"""
                    if affected
                    else "select null::varchar as customer_id, null::date as run_date, "
                    "null::varchar as interest where false"
                )
            )
            removed: dict[str, dict[str, int]] = {}
            for table in tables:
                schema, name = table.split(".")
                predicate = doomed_rows_sql(table)
                source = f"{schema}.{name} as {name}"
                for run_date, rows in con.execute(
                    f"select run_date, count(*) from {source} where {predicate} group by all"
                ).fetchall():
                    removed.setdefault(run_date.isoformat(), {})[table] = rows
                con.execute(f"delete from {source} where {predicate}")
            record_withdrawals(con, ctx, removed)
    finally:
        con.close()
    return removed


def record_withdrawals(
    con: duckdb.DuckDBPyConnection, ctx: RunContext, removed: dict[str, dict[str, int]]
) -> None:
    """Counts for the DPO (no person) and, per changed date, a publication log entry naming
    the export version about to be written (so sync_exports can finish it after a crash)."""
    con.execute("create schema if not exists publication")
    con.execute(
        f"""create table if not exists {WITHDRAWALS_TABLE} (
            withdrawn_at timestamptz, run_id varchar, run_date date,
            published_run_date date, table_name varchar, rows_removed bigint)"""
    )
    now = dt.datetime.now(dt.UTC)
    for published_date, tables in removed.items():
        for table, rows in tables.items():
            con.execute(
                f"insert into {WITHDRAWALS_TABLE} values (?, ?, cast(? as date), "
                "cast(? as date), ?, ?)",
                [now, ctx.run_id, ctx.run_date.isoformat(), published_date, table, rows],
            )
        latest = latest_logged(con, published_date)
        if latest is None:
            continue  # rows without a logged publication have no export to rewrite
        version = f"{export_version(ctx, now)}-withdrawal"
        con.execute(
            f"insert into {PUBLICATION_LOG} (run_date, run_id, export_version, published_at, "
            "tables) values (cast(? as date), ?, ?, ?, ?)",
            [published_date, ctx.run_id, version, now, latest],
        )


def latest_logged(con: duckdb.DuckDBPyConnection, run_date: str) -> str | None:
    with contextlib.suppress(duckdb.Error):
        row = con.execute(
            f"select tables from {PUBLICATION_LOG} where run_date = cast(? as date) "
            "order by published_at desc limit 1",
            [run_date],
        ).fetchone()
        return row[0] if row else None
    return None


def rewrite_exports(ctx: RunContext, dates: list[str]) -> None:
    """Each changed date gets its logged export version in every recipient's folder; older
    versions (which still hold the withdrawn rows) are deleted rather than kept for slow
    readers (publish.KEPT_VERSIONS is 1)."""
    for day in dates:
        run_date = dt.date.fromisoformat(day)
        latest = latest_publication(ctx.warehouse_dir, run_date)
        if latest is None:
            continue
        version, tables = latest
        write_exports(ctx.warehouse_dir, run_date, tables, version)


def published_dates(ctx: RunContext) -> list[dt.date]:
    if not ctx.warehouse_db.exists():
        return []
    con = duckdb.connect(str(ctx.warehouse_db), read_only=True)
    try:
        rows = con.execute(f"select distinct run_date from {PUBLICATION_LOG}").fetchall()
    except duckdb.Error:
        return []
    finally:
        con.close()
    return sorted(day for (day,) in rows)


def withdraw_objections(ctx: RunContext) -> dict[str, Any]:
    """Apply the ledger's latest state to every published date; returns what was removed."""
    report: dict[str, Any] = {"rows_removed": 0, "by_date": {}}
    if ctx.warehouse_db.exists() and ctx.consent_ledger_db.exists():
        for run_date in published_dates(ctx):
            sync_exports(ctx.warehouse_dir, run_date)  # an earlier rewrite cut short
        removed = withdraw_in_warehouse(ctx)
        rewrite_exports(ctx, sorted(removed))
        report = {
            "rows_removed": sum(sum(t.values()) for t in removed.values()),
            "by_date": removed,
        }
        if report["rows_removed"]:
            log.info(
                "withdrew %d published rows of objectors from %d date(s)",
                report["rows_removed"],
                len(removed),
            )
    ctx.run_dir.mkdir(parents=True, exist_ok=True)
    (ctx.run_dir / REPORT_FILE).write_text(json.dumps(report, indent=2))
    return report


def read_report(ctx: RunContext) -> dict[str, Any] | None:
    path = ctx.run_dir / REPORT_FILE
    return json.loads(path.read_text()) if path.exists() else None
