"""The run summary printed by ``privacy-pipeline run``: outcome, counts, where to look."""

from __future__ import annotations

import duckdb

from privacy_pipeline.console import log_path
from privacy_pipeline.publish import publication_in_force
from privacy_pipeline.restricted import restricted_db
from privacy_pipeline.run_context import RunContext

OUTCOMES = {
    0: "PUBLISHED",
    1: "NOT PUBLISHED: a privacy gate failed",
    2: "NOT PUBLISHED: unusable input",
}


def reconciliation_rows(ctx: RunContext) -> list[tuple]:
    """Rows read / accepted / quarantined per landing table, from the published or candidate DB."""
    query = (
        "select source_table, rows_read, rows_accepted, rows_quarantined "
        "from dpo.load_reconciliation where run_date = cast(? as date) order by source_table"
    )
    for db in (ctx.candidate_db, ctx.warehouse_db):
        if not db.exists():
            continue
        try:
            con = duckdb.connect(str(db), read_only=True)
        except duckdb.Error:
            continue
        try:
            return con.execute(query, [ctx.run_date.isoformat()]).fetchall()
        except duckdb.Error:
            continue
        finally:
            con.close()
    return []


def run_summary_lines(ctx: RunContext, exit_code: int) -> list[str]:
    lines = ["", f"Run {ctx.run_date}: {OUTCOMES.get(exit_code, 'FAILED')} (exit {exit_code})"]
    if exit_code != 0 and (
        in_force := publication_in_force(ctx.warehouse_dir, ctx.run_date, ctx.run_id)
    ):
        lines.append(f"  Nothing withdrawn: {in_force}.")
    rows = reconciliation_rows(ctx)
    if rows:
        lines.append(f"  {'landing table':<22}{'read':>12}{'accepted':>12}{'quarantined':>13}")
        lines += [f"  {t:<22}{r:>12,}{a:>12,}{q:>13,}" for t, r, a, q in rows]
    lines += ledger_lines(ctx)
    lines += [
        f"  published tables : {ctx.warehouse_db}",
        f"  exports          : {ctx.exports_dir}/<recipient>/run_date={ctx.run_date}",
        f"  DPO restricted   : {restricted_db(ctx.warehouse_dir)}",
        f"  validation report: {ctx.reports_dir / 'validation' / 'index.html'}",
        f"  run report       : {ctx.reports_dir / 'runs' / f'{ctx.run_date}.html'}",
        f"  full log         : {log_path(ctx.warehouse_dir, ctx.run_date)}",
    ]
    return lines


def ledger_lines(ctx: RunContext) -> list[str]:
    """What tonight's consent-ledger delivery lacked, and what objections withdrew."""
    from privacy_pipeline import consent_ledger, withdrawal

    lines = []
    merged = consent_ledger.read_report(ctx)
    if merged and merged["missing_events"]:
        purposes = ", ".join(f"{p}: {n}" for p, n in merged["missing_by_purpose"].items())
        lines.append(
            f"  consent ledger   : the delivery lacks {merged['missing_events']} known events "
            f"({purposes}); they stay in force"
        )
    if merged and merged["open_conflicts"]:
        lines.append(f"  consent ledger   : {merged['open_conflicts']} unresolved conflict(s)")
    withdrawn = withdrawal.read_report(ctx)
    if withdrawn and withdrawn["rows_removed"]:
        lines.append(
            f"  withdrawn        : {withdrawn['rows_removed']} published rows of objectors "
            f"removed from {len(withdrawn['by_date'])} run date(s)"
        )
    return lines
