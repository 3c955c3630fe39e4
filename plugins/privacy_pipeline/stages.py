"""The body of every DAG task, one function per stage, so the DAG file stays a thin wiring.

Each stage takes the run context as a plain dict (what Airflow passes between tasks
through XCom) and records a failure in ``<run_dir>/failure.json`` before re-raising, so
``privacy-pipeline run`` can return the documented exit code and message.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import json
import logging
import shutil
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from privacy_pipeline.config import default_landing_dir, default_warehouse_dir
from privacy_pipeline.errors import PipelineError, UnusableInput
from privacy_pipeline.run_context import RunContext

log = logging.getLogger(__name__)

FAILURE_FILE = "failures.jsonl"

# The transform layers, in order; each is also the dbt selector of its model folder. One
# `dbt build` builds all three (one start-up and one parse per run, not one per layer;
# dbt still builds and tests a model before its children and skips those of a failure);
# the console and the task log show each layer's time from dbt's run results.
DBT_STAGES = ("staging", "intermediate", "marts")
TRANSFORM_STAGE = "dbt_build"


def context_to_dict(ctx: RunContext) -> dict[str, Any]:
    return {
        "landing_dir": str(ctx.landing_dir),
        "warehouse_dir": str(ctx.warehouse_dir),
        "run_date": ctx.run_date.isoformat(),
        "k": ctx.k,
        "run_id": ctx.run_id,
        "processed_at": ctx.processed_at.isoformat(),
        "engine": ctx.engine,
    }


def context_from_dict(data: dict[str, Any]) -> RunContext:
    return RunContext.create(**data)


def failure_path(ctx: RunContext) -> Path:
    return ctx.run_dir / FAILURE_FILE


def read_failures(ctx: RunContext) -> list[dict[str, Any]]:
    """Failures recorded by the stages of the run, first one first."""
    path = failure_path(ctx)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@contextmanager
def recording_failure(ctx: RunContext, stage: str):
    try:
        yield
    except Exception as exc:
        exit_code = exc.exit_code if isinstance(exc, PipelineError) else 3
        ctx.run_dir.mkdir(parents=True, exist_ok=True)
        record = {"stage": stage, "exit_code": exit_code, "message": str(exc)}
        with failure_path(ctx).open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")
        raise


def record_refusal(run_dir: Path, exc: PipelineError) -> None:
    """A run refused before it started (unsafe k, no pseudonym key): its only failure."""
    run_dir.mkdir(parents=True, exist_ok=True)
    record = {"stage": "resolve_run_context", "exit_code": exc.exit_code, "message": str(exc)}
    (run_dir / FAILURE_FILE).write_text(json.dumps(record) + "\n", encoding="utf-8")


def run_stage(stage: str, ctx_dict: dict[str, Any], body: Callable[[RunContext], Any]) -> Any:
    from privacy_pipeline.startup import settle_long_lived_objects

    settle_long_lived_objects()
    ctx = context_from_dict(ctx_dict)
    with recording_failure(ctx, stage):
        return body(ctx)


def brussels_run_date(data_interval_start: dt.datetime | None, timezone: str) -> dt.date:
    """The calendar day a scheduled run covers: the start of its data interval, in local time."""
    import pendulum

    if data_interval_start is None:
        return pendulum.now(timezone).subtract(days=1).date()
    return pendulum.instance(data_interval_start).in_timezone(timezone).date()


def resolve_context(
    params: dict[str, Any], data_interval_start: dt.datetime | None, run_id: str
) -> dict[str, Any]:
    """Turn DAG params (defaults from the environment) into the run context."""
    from privacy_pipeline.config import load_config

    config = load_config()
    run_date = (
        params.get("run_date")
        or brussels_run_date(data_interval_start, config["timezone"]).isoformat()
    )
    warehouse_dir = Path(params.get("warehouse_dir") or default_warehouse_dir()).resolve()
    try:
        ctx = RunContext.create(
            landing_dir=params.get("landing_dir") or default_landing_dir(),
            warehouse_dir=warehouse_dir,
            run_date=run_date,
            k=params.get("k"),
            run_id=run_id,
            config=config,
            k_from="the DAG param k",
            engine=params.get("engine") or "duckdb",
        )
    except PipelineError as exc:
        # No context, so no run folder yet: record the refusal where the CLI looks for it.
        with contextlib.suppress(ValueError, OSError):
            day = dt.date.fromisoformat(str(run_date)).isoformat()
            record_refusal(warehouse_dir / "runs" / day, exc)
        raise
    # A run starts from a clean working folder: nothing of an earlier attempt is reused;
    # never the folder of another run of the same date still in progress (its lock).
    from privacy_pipeline.gate_binding import hold_run_date

    with hold_run_date(ctx.warehouse_dir, ctx.run_date, run_id):
        if ctx.run_dir.exists():
            shutil.rmtree(ctx.run_dir)
        ctx.run_dir.mkdir(parents=True)
    with recording_failure(ctx, "resolve_run_context"):
        refuse_unfinished_run_date(ctx)
    log.info(
        "run %s: run_date=%s landing=%s warehouse=%s k=%s engine=%s",
        run_id,
        ctx.run_date,
        ctx.landing_dir,
        ctx.warehouse_dir,
        ctx.k,
        ctx.engine,
    )
    return context_to_dict(ctx)


def refuse_unfinished_run_date(ctx: RunContext) -> None:
    """A day that has not ended cannot be processed: whether a purpose is allowed at its
    end is not known yet (exit 2, before anything is built or published)."""
    from privacy_pipeline.run_context import run_window

    _, end = run_window(ctx.run_date, ctx.config["timezone"])
    if end > ctx.processed_at:
        raise UnusableInput(
            f"run date {ctx.run_date} has not ended yet: it ends at {end.isoformat()} "
            f"({ctx.config['timezone']}), after the run's start {ctx.processed_at.isoformat()}; "
            "the consent state at the end of a day that has not ended cannot be known"
        )


def load_landing(ctx: RunContext) -> dict[str, Any]:
    from privacy_pipeline.landing import load_landing_zone

    rows_read = load_landing_zone(ctx)
    if ctx.engine == "spark":
        from privacy_pipeline.spark_engine import load_landing_into_spark

        load_landing_into_spark(ctx)
    return rows_read


def transform(ctx: RunContext) -> dict[str, dict[str, Any]]:
    """Build and test every layer in one dbt command; returns each layer's time and counts."""
    from privacy_pipeline.console import stage_details
    from privacy_pipeline.dbt_runner import layer_lines, layer_timings, run_dbt
    from privacy_pipeline.startup import import_ahead_for_gates

    import_ahead_for_gates()  # while dbt waits for DuckDB
    try:
        # cautious: a test runs only when every model it reads is selected
        selection = ["--select", *DBT_STAGES, "--indirect-selection", "cautious"]
        # dbt's unit tests check the models' logic on fixed inputs: in CI (make test,
        # tests/test_dbt_unit_tests.py), not every night, as dbt advises.
        selection += ["--exclude-resource-type", "unit_test"]
        results = run_dbt(ctx, ["build", *selection])
        if ctx.engine == "spark":
            from privacy_pipeline.spark_engine import publish_candidate_to_duckdb

            publish_candidate_to_duckdb(ctx)
    finally:
        # What dbt left in reference cycles (its manifest, the location models' arrays) is
        # freed now, before the next stage freezes what is alive (startup.py).
        gc.collect()
    layers = layer_timings(results, DBT_STAGES)
    lines = layer_lines(layers)
    for line in lines:
        log.info("dbt layer %s", line.strip())
    stage_details(lines)
    return layers


def run_gate(ctx: RunContext, suite: str) -> dict[str, Any]:
    from privacy_pipeline.gates import run_suite

    try:
        return run_suite(ctx, suite)
    except SystemExit as exc:
        # A library that exits while a gate runs has checked nothing: never a pass.
        raise RuntimeError(
            f"privacy gate {suite!r} was interrupted by a library calling sys.exit({exc.code}); "
            "nothing is published"
        ) from exc


def publish(ctx: RunContext) -> dict[str, Any]:
    from privacy_pipeline.publish import publish_run

    return publish_run(ctx)


def withdraw_objections(ctx: RunContext) -> dict[str, Any]:
    from privacy_pipeline.withdrawal import withdraw_objections as withdraw

    return withdraw(ctx)


def honour_requests(ctx: RunContext) -> dict[str, Any]:
    from privacy_pipeline.rights import honour_requests as honour

    return honour(ctx)


def write_reports(ctx: RunContext) -> dict[str, str]:
    from privacy_pipeline.reports import write_run_reports

    return write_run_reports(ctx)


def prune_working_data(ctx: RunContext) -> dict[str, Any]:
    """Apply the retention of per-person data, on every run whatever its outcome.

    Candidate databases (staged per-person rows, location trails) are deleted
    ``retention.candidate_days`` days after their run date, or
    ``retention.failed_candidate_days`` for a run that failed (kept a little longer so an
    engineer can see why); rows of the DPO's restricted store older than
    ``retention.restricted_store_days`` days are deleted; run dates of the person-level
    marketing tables older than ``retention.marketing_days`` leave the warehouse and the
    exports (docs/dpo.md lists every retention period).
    """
    from privacy_pipeline.restricted import prune_restricted_store
    from privacy_pipeline.retention import prune_marketing

    return {
        "candidates_removed": prune_candidates(ctx),
        "restricted_rows_deleted": prune_restricted_store(ctx),
        "marketing_dates_deleted": sorted(prune_marketing(ctx)),
    }


def prune_candidates(ctx: RunContext) -> list[str]:
    from privacy_pipeline.gate_binding import run_date_is_held
    from privacy_pipeline.landing import NORMALISED_COPIES

    retention = ctx.config["retention"]
    removed = []
    runs_root = ctx.warehouse_dir / "runs"
    for run_dir in sorted(runs_root.glob("*")) if runs_root.exists() else []:
        try:
            run_day = dt.date.fromisoformat(run_dir.name)
        except ValueError:
            continue
        failed = (run_dir / FAILURE_FILE).exists()
        keep_days = int(retention["failed_candidate_days" if failed else "candidate_days"])
        db_files = list(run_dir.glob("*.duckdb*"))
        # A run of that date holding its lock (``privacy-pipeline run``) is still using it.
        held = run_day != ctx.run_date and run_date_is_held(ctx.warehouse_dir, run_day)
        if db_files and (ctx.run_date - run_day).days >= keep_days and not held:
            for db_file in db_files:
                db_file.unlink()
            # Normalised copies of landing files (landing.normalise_line_endings).
            shutil.rmtree(run_dir / NORMALISED_COPIES, ignore_errors=True)
            # A Spark run's tables and Parquet candidate (spark_engine.spark_folder).
            shutil.rmtree(run_dir / "spark", ignore_errors=True)
            removed.append(run_dir.name)
    return removed
