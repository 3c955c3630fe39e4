"""Retention of the person-level marketing tables: ``retention.marketing_days``.

Run dates of ``marketing.*`` older than that many days before the run's date are deleted
from ``warehouse.duckdb`` and from ``exports/``: the date's export is rewritten without
the marketing files in every recipient's folder (marketing's ``run_date=D`` goes, as it
receives nothing else), through the publication log and the atomic link swap (the same
path as the withdrawal of objectors, ``privacy_pipeline.withdrawal``); the location and
DPO tables of that date stay. The warehouse file is then rewritten so the deleted rows
do not stay in its free blocks. Every retention period: docs/dpo.md.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

import duckdb

from privacy_pipeline.publish import PUBLICATION_LOG, export_version, table_columns, while_locked
from privacy_pipeline.run_context import RunContext
from privacy_pipeline.sql import qualified
from privacy_pipeline.transaction import transaction

log = logging.getLogger(__name__)


def prune_marketing(ctx: RunContext) -> dict[str, dict[str, int]]:
    """Delete marketing run dates past retention; rows removed per date and table."""
    from privacy_pipeline.rights import rewrite_database
    from privacy_pipeline.withdrawal import MARKETING_TABLES, latest_logged, rewrite_exports

    if not ctx.warehouse_db.exists():
        return {}
    keep_days = int(ctx.config["retention"]["marketing_days"])
    oldest_kept = (ctx.run_date - dt.timedelta(days=keep_days)).isoformat()
    removed: dict[str, dict[str, int]] = {}
    con = while_locked(lambda: duckdb.connect(str(ctx.warehouse_db)), ctx.warehouse_db)
    try:
        tables = [t for t in MARKETING_TABLES if table_columns(con, t)]
        with transaction(con):
            for table in tables:
                for run_date, rows in con.execute(
                    f"select run_date, count(*) from {qualified(table)} "
                    "where run_date < cast(? as date) group by all",
                    [oldest_kept],
                ).fetchall():
                    removed.setdefault(run_date.isoformat(), {})[table] = rows
                con.execute(
                    f"delete from {qualified(table)} where run_date < cast(? as date)",
                    [oldest_kept],
                )
            log_exports_without_marketing(con, ctx, sorted(removed), latest_logged)
    finally:
        con.close()
    rewrite_exports(ctx, sorted(removed))
    if removed:
        rewrite_database(ctx.warehouse_db)
        log.info("retention: deleted marketing run dates before %s: %s", oldest_kept, removed)
    return removed


def log_exports_without_marketing(con, ctx: RunContext, dates: list[str], latest_logged) -> None:
    """Each pruned date's next export version lists its tables without the marketing ones."""
    now = dt.datetime.now(dt.UTC)
    for day in dates:
        latest = latest_logged(con, day)
        if latest is None:
            continue
        tables = {t: n for t, n in json.loads(latest).items() if not t.startswith("marketing.")}
        con.execute(
            f"insert into {PUBLICATION_LOG} (run_date, run_id, export_version, published_at, "
            "tables) values (cast(? as date), ?, ?, ?, ?)",
            [day, ctx.run_id, f"{export_version(ctx, now)}-retention", now, json.dumps(tables)],
        )
