"""``privacy-pipeline backfill``: run a range of dates, in order, resuming where it stopped.

A date is done when ``publication.log`` in the warehouse has a publication of it and its
run report was written after that publication. Done dates are skipped (``--force``
reruns them); their exports are brought in line with the warehouse first, which
finishes a publication interrupted between its commit and its export link swap. A date
that a killed backfill left half-done has no publication (the warehouse transaction
commits all or nothing) or no report yet: it is run again. So restarting the same
command after a crash runs exactly the dates that are not done.

Each date prints one line: date, outcome, exit code, time (and the log on failure).
The backfill goes on after a failed date (the dates are independent nights) and exits
with the worst exit code of its dates: 3 (other failure) > 2 (unusable input) >
1 (gate failed, not published) > 0 (published or skipped). See docs/operations.md.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import duckdb

from privacy_pipeline.config import validate_k
from privacy_pipeline.console import format_seconds, log_path
from privacy_pipeline.errors import PipelineError, UnusableInput
from privacy_pipeline.run_context import RunContext

OUTCOMES = {
    0: "published",
    1: "NOT PUBLISHED: a privacy gate failed",
    2: "NOT PUBLISHED: unusable input",
    3: "FAILED",
}
SKIPPED = "skipped: already published"


def dates_between(first: dt.date, last: dt.date) -> list[dt.date]:
    if last < first:
        raise UnusableInput(f"--from {first} is after --to {last}: no date to run")
    return [first + dt.timedelta(days=offset) for offset in range((last - first).days + 1)]


def worst_exit_code(codes: list[int]) -> int:
    """3 > 2 > 1 > 0: the code of the most serious outcome (0 when there is none)."""
    return max(codes, default=0)


def last_publication(warehouse_dir: Path, run_date: dt.date) -> dt.datetime | None:
    """When run date D was last published into the warehouse, per ``publication.log``."""
    from privacy_pipeline.publish import PUBLICATION_LOG, while_locked

    db = Path(warehouse_dir) / "warehouse.duckdb"
    if not db.exists():
        return None

    def read() -> dt.datetime | None:
        con = duckdb.connect(str(db), read_only=True)
        try:
            schema, table = PUBLICATION_LOG.split(".")
            exists = con.execute(
                "select count(*) from information_schema.tables "
                "where table_schema = ? and table_name = ?",
                [schema, table],
            ).fetchone()[0]
            if not exists:
                return None
            return con.execute(
                f"select max(published_at) from {PUBLICATION_LOG} where run_date = cast(? as date)",
                [run_date.isoformat()],
            ).fetchone()[0]
        finally:
            con.close()

    return while_locked(read, db)


def is_done(warehouse_dir: Path, run_date: dt.date) -> bool:
    """Published, and the DPO's run report written after that publication."""
    published_at = last_publication(warehouse_dir, run_date)
    if published_at is None:
        return False
    report = Path(warehouse_dir) / "reports" / "runs" / f"{run_date.isoformat()}.html"
    return report.exists() and report.stat().st_mtime >= published_at.timestamp()


def run_one_date(
    landing_dir: Path, warehouse_dir: Path, run_date: dt.date, k: int | None, verbose: bool
) -> int:
    from privacy_pipeline.airflow_runner import run_pipeline
    from privacy_pipeline.startup import collect_run_garbage

    try:
        ctx = RunContext.create(landing_dir, warehouse_dir, run_date, k=k)
        return run_pipeline(ctx, verbose=verbose, show_stages=False)
    except PipelineError as exc:
        print(f"[{run_date}] {exc}", file=sys.stderr)
        return exc.exit_code
    finally:
        collect_run_garbage()  # the next date runs in this process too


def backfill(
    landing_dir: Path,
    warehouse_dir: Path,
    first: dt.date,
    last: dt.date,
    k: int | None = None,
    force: bool = False,
    verbose: bool = False,
    out: TextIO | None = None,
    run_date_fn: Callable[[Path, Path, dt.date, int | None, bool], int] = run_one_date,
) -> int:
    """Run every date from ``first`` to ``last`` in order; returns the worst exit code."""
    from privacy_pipeline.publish import sync_exports

    out = out or sys.stdout
    dates = dates_between(first, last)
    if k is not None:
        validate_k(k)  # an unsafe k refuses the whole backfill, not each date
    codes = []
    counts = {"published": 0, "skipped": 0, "not published": 0}
    for run_date in dates:
        started = time.monotonic()
        if not force and is_done(warehouse_dir, run_date):
            sync_exports(warehouse_dir, run_date)
            outcome, code = SKIPPED, 0
            counts["skipped"] += 1
        else:
            code = run_date_fn(landing_dir, warehouse_dir, run_date, k, verbose)
            outcome = OUTCOMES.get(code, OUTCOMES[3])
            counts["published" if code == 0 else "not published"] += 1
        codes.append(code)
        line = (
            f"{run_date}  {outcome:<38} exit {code}  {format_seconds(time.monotonic() - started)}"
        )
        if code:
            line += f"  log: {log_path(warehouse_dir, run_date)}"
        print(line, file=out, flush=True)
    worst = worst_exit_code(codes)
    print(
        f"backfill {first}..{last}: {counts['published']} published, {counts['skipped']} skipped, "
        f"{counts['not published']} not published; exit {worst}",
        file=out,
        flush=True,
    )
    return worst
