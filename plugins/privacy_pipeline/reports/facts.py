"""What the run report shows, read from the run's candidate DB and the published warehouse.

The candidate DB holds what this run computed (also when it was not published); the
warehouse holds the history of published runs, for the trends. Anything missing (a run
that stopped before its marts were built) is shown as not available, never guessed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from privacy_pipeline.gates.candidate import connect_candidate, run_window
from privacy_pipeline.gates.landing_facts import ledger_sql
from privacy_pipeline.gates.suites import SUITES
from privacy_pipeline.publish import publication_in_force
from privacy_pipeline.restricted import CANDIDATE_SCHEMA
from privacy_pipeline.rights import safe_name
from privacy_pipeline.run_context import RunContext
from privacy_pipeline.sql import quote_identifier
from privacy_pipeline.sql import quote_literal as sql_literal
from privacy_pipeline.stages import read_failures
from privacy_pipeline.vocabulary import register_sql_functions

TREND_DAYS = 30
TREND_PURPOSES = ("direct_marketing", "location_analytics")


@dataclass
class Table:
    """A small table for the report: column names and rows, or why it is not available."""

    columns: list[str] = field(default_factory=list)
    rows: list[tuple] = field(default_factory=list)
    missing: str | None = None


@dataclass
class Series:
    name: str
    points: list[tuple[dt.date, float]]


@dataclass
class RunFacts:
    outcome: str
    published: bool
    failures: list[dict[str, Any]]
    gate_results: dict[str, dict[str, Any]]
    consent_by_purpose_platform: Table
    consent_events_of_the_day: Table
    rejected_privacy_events: Table
    quarantine: Table
    reconciliation: Table
    suppression_summary: Table
    trends: dict[str, list[Series]]
    consent_ledger: Table = field(default_factory=Table)
    ledger_omissions: Table = field(default_factory=Table)
    ledger_conflicts: Table = field(default_factory=Table)
    withdrawals: Table = field(default_factory=Table)
    requests: Table = field(default_factory=Table)
    erasures: Table = field(default_factory=Table)


@contextlib.contextmanager
def read_only(db: Path) -> Iterator[duckdb.DuckDBPyConnection | None]:
    if not db.exists():
        yield None
        return
    try:
        con = connect_candidate(db)
    except duckdb.Error:
        yield None
        return
    try:
        yield con
    finally:
        con.close()


def query_table(con: duckdb.DuckDBPyConnection | None, sql: str, params=None) -> Table:
    if con is None:
        return Table(missing="the run's working database is not available")
    try:
        cursor = con.execute(sql, params or [])
        rows = cursor.fetchall()
        return Table([d[0] for d in cursor.description], rows)
    except duckdb.Error as exc:
        return Table(missing=f"not available ({str(exc).splitlines()[0][:160]})")


def has_table(con: duckdb.DuckDBPyConnection | None, schema: str, table: str) -> bool:
    if con is None:
        return False
    return bool(
        con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )


def run_outcome(
    ctx: RunContext, failures: list[dict[str, Any]], gates: dict[str, dict[str, Any]]
) -> tuple[str, bool]:
    gates_passed = all(gates.get(s, {}).get("success") for s in SUITES)
    if not failures and gates_passed:
        return "PUBLISHED: every privacy gate passed", True
    failed_gates = [s for s in SUITES if s in gates and not gates[s]["success"]]
    if failed_gates:
        outcome = f"NOT PUBLISHED: privacy gate failed ({', '.join(failed_gates)})"
    elif failures:
        outcome = f"NOT PUBLISHED: stage {failures[0]['stage']} failed"
    else:
        outcome = "NOT PUBLISHED: the privacy gates did not run"
    # A refused re-run withdraws nothing: say which publication recipients still hold.
    in_force = publication_in_force(ctx.warehouse_dir, ctx.run_date, ctx.run_id)
    return (f"{outcome}; {in_force}" if in_force else outcome), False


def choice_counts(con, rows_sql: str, params: list) -> Table:
    """Opt-ins and opt-outs per purpose and platform among ``rows_sql`` (ledger rows)."""
    return query_table(
        con,
        f"""
        select purpose, platform,
               count(*) filter (where choice = 'opt_in') as opt_in,
               count(*) filter (where choice = 'opt_out') as opt_out
        from ({rows_sql}) as choices
        group by purpose, platform
        order by purpose, platform
        """,
        params,
    )


def consent_by_purpose_platform(con, ctx: RunContext) -> Table:
    """Each customer's latest choice per purpose at the end of the run date, counted."""
    _, end = run_window(ctx.run_date, ctx.config["timezone"])
    latest = f"""
        select * from ({ledger_sql()}) as ledger
        where recorded_at < cast(? as timestamptz)
        qualify row_number() over (
            partition by customer_id, purpose
            order by recorded_at desc, case when choice = 'opt_out' then 0 else 1 end
        ) = 1
    """
    return choice_counts(con, latest, [end.isoformat()])


def consent_events_of_the_day(con, ctx: RunContext) -> Table:
    start, end = run_window(ctx.run_date, ctx.config["timezone"])
    of_the_day = f"""
        select * from ({ledger_sql()}) as ledger
        where recorded_at >= cast(? as timestamptz) and recorded_at < cast(? as timestamptz)
    """
    return choice_counts(con, of_the_day, [start.isoformat(), end.isoformat()])


def grouped_counts(con, schema: str, table: str, preferred: tuple[str, ...]) -> Table:
    """Rows per the first of ``preferred`` columns the table has (or in total)."""
    if not has_table(con, schema, table):
        return Table(missing=f"{schema}.{table} was not built in this run")
    source = f"{quote_identifier(schema)}.{quote_identifier(table)}"
    columns = [r[0] for r in con.execute(f"describe {source}").fetchall()]
    keys = [c for c in preferred if c in columns]
    select = ", ".join(keys + ["count(*) as rows"])
    group = f"group by {', '.join(keys)} order by {', '.join(keys)}" if keys else ""
    return query_table(con, f"select {select} from {source} {group}")


def opt_out_trend(con, ctx: RunContext) -> list[Series]:
    """Customers whose latest choice is an opt-out, at the end of each of the last days."""
    if con is None:
        return []
    zone = ctx.config["timezone"]
    days = [ctx.run_date - dt.timedelta(days=n) for n in range(TREND_DAYS - 1, -1, -1)]
    ends = ", ".join(
        f"({sql_literal(run_window(d, zone)[1].isoformat())}, cast({sql_literal(d)} as date))"
        for d in days
    )
    purposes = ", ".join(sql_literal(p) for p in TREND_PURPOSES)
    try:
        rows = con.execute(
            f"""
            with ledger as (select * from ({ledger_sql()}) where purpose in ({purposes})),
                 intervals as (
                     select customer_id, purpose, choice, recorded_at as valid_from,
                            lead(recorded_at) over (
                                partition by customer_id, purpose
                                order by recorded_at,
                                         case when choice = 'opt_out' then 1 else 0 end
                            ) as valid_to
                     from ledger
                 ),
                 days(day_end, day) as (values {ends})
            select purpose, day, count(*) filter (where choice = 'opt_out') as opted_out
            from days join intervals
              on valid_from < cast(day_end as timestamptz)
             and (valid_to is null or valid_to >= cast(day_end as timestamptz))
            group by purpose, day order by purpose, day
            """
        ).fetchall()
    except duckdb.Error:
        return []
    series = []
    for purpose in TREND_PURPOSES:
        by_day = {day: count for p, day, count in rows if p == purpose}
        series.append(Series(purpose, [(d, by_day.get(d, 0)) for d in days]))
    return series


def suppression_numbers(con, where: str = "") -> dict[dt.date, float]:
    """Suppressed figures per run date: the sum of the summary's 'suppressed' columns."""
    if not has_table(con, "location", "suppression_summary"):
        return {}
    columns = con.execute("describe location.suppression_summary").fetchall()
    numeric = [
        name
        for name, data_type, *_ in columns
        if "suppressed" in name and data_type.upper() in ("BIGINT", "INTEGER", "HUGEINT")
    ]
    if not numeric:
        return {}
    total = " + ".join(f"coalesce(sum({c}), 0)" for c in numeric)
    rows = con.execute(
        f"select run_date, {total} from location.suppression_summary {where} group by run_date"
    ).fetchall()
    return {day: float(value) for day, value in rows}


def suppression_trend(candidate, warehouse, ctx: RunContext) -> list[Series]:
    history: dict[dt.date, float] = {}
    with contextlib.suppress(duckdb.Error):
        history.update(suppression_numbers(warehouse))
    with contextlib.suppress(duckdb.Error):
        history.update(suppression_numbers(candidate))
    points = sorted(
        (day, value)
        for day, value in history.items()
        if ctx.run_date - dt.timedelta(days=TREND_DAYS) < day <= ctx.run_date
    )
    return [Series("suppressed figures", points)] if points else []


def landing_customer_ids(candidate: duckdb.DuckDBPyConnection | None) -> Any:
    """The run's delivered customer numbers (Arrow), which ``ledger_sql`` matches refusals
    against; none when the run's landing zone was not loaded."""
    if candidate is not None:
        with contextlib.suppress(duckdb.Error):
            return candidate.sql(
                "select distinct cast(customer_id as varchar) as customer_id from landing.customers"
            ).to_arrow_table()
    return None


@contextlib.contextmanager
def durable_ledger(
    ctx: RunContext, candidate: duckdb.DuckDBPyConnection | None
) -> Iterator[duckdb.DuckDBPyConnection | None]:
    """A connection where ``landing.privacy_preferences`` is the durable consent ledger
    (not tonight's delivery), so the consent figures and the opt-out trend survive a
    shortened delivery, and ``landing.customers`` the run's delivered customer numbers (a
    refusal is read as the gates read it); None before the first ledger exists."""
    from privacy_pipeline.consent_ledger import LEDGER, ledger_rows_sql

    if not ctx.consent_ledger_db.exists():
        yield None
        return
    customer_ids = landing_customer_ids(candidate)
    con = duckdb.connect()
    try:
        con.execute(f"attach ? as {LEDGER} (read_only)", [str(ctx.consent_ledger_db)])
        con.execute("create schema landing")
        con.execute(f"create view landing.privacy_preferences as {ledger_rows_sql(LEDGER)}")
        if customer_ids is None:
            con.execute("create table landing.customers (customer_id varchar)")
        else:
            con.register("delivered_customer_ids", customer_ids)
            con.execute("create table landing.customers as select * from delivered_customer_ids")
            con.unregister("delivered_customer_ids")
        con.execute(
            "create table landing.run_context as select cast(? as timestamptz) as processed_at",
            [ctx.processed_at],
        )
    except duckdb.Error:
        con.close()
        yield None
        return
    try:
        yield con
    finally:
        con.close()


def consent_ledger_tables(ctx: RunContext) -> tuple[Table, Table, Table]:
    """Tonight's merge into the durable ledger, the events it lacked, open conflicts."""
    from privacy_pipeline.consent_ledger import open_conflicts, read_report

    merged = read_report(ctx)
    if merged is None:
        missing = Table(missing="the delivery was not merged into the consent ledger this run")
        return missing, missing, Table(rows=[], columns=["event"])
    labels = {
        "ledger_events_before": "events in the ledger before this delivery",
        "delivered_rows": "rows delivered",
        "new_events": "new events appended",
        "known_events": "events already in the ledger, delivered again",
        "new_conflicts": "new conflicting versions (same event_id, other content)",
        "open_conflicts": "unresolved conflicts (all runs)",
        "missing_events": "ledger events this delivery lacks (kept in force)",
        "ledger_events_after": "events in the ledger after this delivery",
    }
    summary = Table(["", "events"], [(label, merged[key]) for key, label in labels.items()])
    omissions = Table(
        ["purpose", "events lacking from the delivery"],
        sorted(merged["missing_by_purpose"].items()),
    )
    conflicts = Table(
        ["event_id", "purpose", "first conflicting version received", "versions"],
        open_conflicts(ctx.consent_ledger_db),
    )
    return summary, omissions, conflicts


def withdrawals_table(ctx: RunContext) -> Table:
    from privacy_pipeline.withdrawal import read_report

    report = read_report(ctx)
    if report is None:
        return Table(missing="the withdrawal of objectors did not run")
    return Table(
        ["published run date", "table", "rows removed"],
        [
            (day, table, rows)
            for day, tables in sorted(report["by_date"].items())
            for table, rows in sorted(tables.items())
        ],
    )


def requests_tables(ctx: RunContext) -> tuple[Table, Table]:
    """Tonight's data-subject requests (unmatched ones with the id as written, so the DPO
    can find whom they mean; no other person-level value) and the erasures applied."""
    from privacy_pipeline.rights import read_report

    report = read_report(ctx)
    if report is None:
        missing = "the data-subject requests step did not run"
        return Table(missing=missing), Table(missing=missing)
    requests = Table(
        ["request", "kind", "received at", "status", "reached", "applicable address",
         "customer id (unmatched only)"],
        [
            (
                r["request_id"],
                r["kind"],
                r["received_at"],
                "unmatched" if not r["matched"] else "forwarded" if r["forwarded"] else "direct",
                r["addressed_to"],
                r["applicable_address"],
                r["customer_id_as_written"],
            )
            for r in report["requests"]
        ],
    )  # fmt: skip
    erasures = Table(
        ["erasure request applied", "receipt"],
        [(rid, f"restricted/erasure/{safe_name(rid)}.json") for rid in report["erasures_applied"]],
    )
    return requests, erasures


def collect_facts(ctx: RunContext, gate_results: dict[str, dict[str, Any]]) -> RunFacts:
    failures = read_failures(ctx)
    outcome, published = run_outcome(ctx, failures, gate_results)
    ledger_summary, omissions, conflicts = consent_ledger_tables(ctx)
    requests, erasures = requests_tables(ctx)
    with (
        read_only(ctx.candidate_db) as candidate,
        read_only(ctx.warehouse_db) as warehouse,
        durable_ledger(ctx, candidate) as ledger,
    ):
        consents = ledger or candidate
        if consents is not None:
            register_sql_functions(consents)  # the ledger is read normalised
        return RunFacts(
            outcome=outcome,
            published=published,
            failures=failures,
            gate_results=gate_results,
            consent_by_purpose_platform=consent_by_purpose_platform(consents, ctx),
            consent_events_of_the_day=consent_events_of_the_day(consents, ctx),
            # Counts only: the rows are person-level (the restricted store).
            rejected_privacy_events=grouped_counts(
                candidate, CANDIDATE_SCHEMA, "rejected_privacy_events", ("reason",)
            ),
            quarantine=query_table(
                candidate,
                "select source_table, reason, rows from dpo.quarantine_summary "
                "order by source_table, reason",
            ),
            reconciliation=query_table(
                candidate,
                "select source_table, rows_read, rows_accepted, rows_quarantined "
                "from dpo.load_reconciliation order by source_table",
            ),
            suppression_summary=query_table(
                candidate, "select * exclude (run_date) from location.suppression_summary"
            ),
            trends={
                "Customers whose latest choice is an opt-out": opt_out_trend(consents, ctx),
                "Suppressed location figures per run": suppression_trend(candidate, warehouse, ctx),
            },
            consent_ledger=ledger_summary,
            ledger_omissions=omissions,
            ledger_conflicts=conflicts,
            withdrawals=withdrawals_table(ctx),
            requests=requests,
            erasures=erasures,
        )
