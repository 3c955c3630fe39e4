"""Runs the real ``nightly_privacy_pipeline`` DAG for one date through Airflow (``dag.test``).

Used by ``privacy-pipeline run``: the same DAG file the scheduler runs, executed
in-process with an embedded SQLite metadata database, nothing to start by hand.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from privacy_pipeline.config import REPO_ROOT
from privacy_pipeline.run_context import RunContext
from privacy_pipeline.stages import read_failures

log = logging.getLogger(__name__)

DAG_ID = "nightly_privacy_pipeline"
DAGS_DIR = REPO_ROOT / "dags"
DAG_FILE = DAGS_DIR / f"{DAG_ID}.py"


def configure_airflow_environment(warehouse_dir: Path) -> Path:
    """Point Airflow at our DAG folder and an embedded metadata DB, unless already configured.

    Must run before ``airflow`` is imported: Airflow reads its configuration at import.
    """
    airflow_home = Path(os.environ.setdefault("AIRFLOW_HOME", str(warehouse_dir / "airflow")))
    os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(DAGS_DIR))
    os.environ.setdefault("AIRFLOW__CORE__PLUGINS_FOLDER", str(REPO_ROOT / "plugins"))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "False")
    airflow_home.mkdir(parents=True, exist_ok=True)
    return airflow_home


def migrate_metadata_db(airflow_home: Path) -> None:
    """Create or upgrade the metadata DB (a few seconds; a no-op when up to date)."""
    result = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"airflow db migrate failed in {airflow_home}:\n{result.stdout}\n{result.stderr}"
        )


def prepare_metadata_db(airflow_home: Path) -> None:
    """Give the embedded SQLite metadata DB its schema, from a cached migrated copy if possible.

    A migration takes ~10 s; every warehouse gets its own Airflow home, so the freshly
    migrated (empty) database is kept once per Airflow version and copied.
    """
    if "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN" in os.environ:
        migrate_metadata_db(airflow_home)  # a real metadata DB: always let Airflow decide
        return
    from importlib.metadata import version

    airflow_version = version("apache-airflow-core")
    database = airflow_home / "airflow.db"
    marker = airflow_home / "airflow.db.version"
    if database.exists():
        if not marker.exists() or marker.read_text() != airflow_version:
            migrate_metadata_db(airflow_home)  # keeps the run history, upgrades the schema
            marker.write_text(airflow_version)
        return
    template = Path(tempfile.gettempdir()) / f"privacy-pipeline-airflow-{airflow_version}.db"
    if not template.exists():
        migrate_metadata_db(airflow_home)
        partial = template.with_name(f"{template.name}.{os.getpid()}.partial")
        shutil.copyfile(database, partial)
        os.replace(partial, template)
    else:
        shutil.copyfile(template, database)
    marker.write_text(airflow_version)


def load_dag():
    spec = importlib.util.spec_from_file_location(f"{DAG_ID}_dag", DAG_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    from airflow.sdk import DAG

    dags = [value for value in vars(module).values() if isinstance(value, DAG)]
    if not dags:
        raise RuntimeError(f"{DAG_FILE} defines no DAG")
    return dags[0]


def logical_date_for(run_date: dt.date, timezone: str):
    """The logical date Airflow gives the scheduled run covering ``run_date``.

    With a daily data-interval timetable, the run for day D starts its data interval
    at D 00:00 local time; a manual run at D+1 00:00 infers that same interval.
    """
    import pendulum

    next_day = run_date + dt.timedelta(days=1)
    return pendulum.datetime(next_day.year, next_day.month, next_day.day, tz=timezone)


def run_pipeline(ctx: RunContext, verbose: bool = False, show_stages: bool = True) -> int:
    """Run the DAG for ``ctx.run_date``; returns the exit code (0, 1 gate failed, 2 bad input).

    Holds the run date's lock for the whole run: a concurrent run of the same date into
    the same warehouse is refused (``PublicationRefused``, exit 1) before it starts. Then one
    run at a time per warehouse (``run_lock``): a run of another date waits, saying so.
    The console gets one line per stage; the logs go to ``<warehouse>/logs/<D>.log``.
    """
    from privacy_pipeline.gate_binding import hold_run_date_for_run
    from privacy_pipeline.run_lock import exclusive_warehouse

    ctx.warehouse_dir.mkdir(parents=True, exist_ok=True)
    with (
        hold_run_date_for_run(ctx.warehouse_dir, ctx.run_date, owner="privacy-pipeline run"),
        exclusive_warehouse(ctx.warehouse_dir, ctx.run_date),
    ):
        return run_dag_quietly(ctx, verbose, show_stages)


def run_dag_quietly(ctx: RunContext, verbose: bool, show_stages: bool) -> int:
    """``dag.test`` with its output in the run date's log file and stage lines on the console."""
    from privacy_pipeline.console import captured_output, log_path, stage_lines

    airflow_home = configure_airflow_environment(ctx.warehouse_dir)
    log_file = log_path(ctx.warehouse_dir, ctx.run_date)
    dag_run, stages_seen = None, []
    with captured_output(log_file, verbose) as console:
        try:
            prepare_metadata_db(airflow_home)
            with stage_lines(console, show_lines=show_stages) as stages_console:
                stages_seen = stages_console.finished
                dag_run = run_dag(ctx)
        except Exception:
            log.exception("the run of %s stopped: Airflow could not run the DAG", ctx.run_date)
    return run_outcome(ctx, dag_run, log_file, list(stages_seen))


def run_dag(ctx: RunContext):
    from privacy_pipeline.startup import stages_share_this_process

    stages_share_this_process()  # dag.test runs every task here
    dag = load_dag()
    return dag.test(
        logical_date=logical_date_for(ctx.run_date, ctx.config["timezone"]),
        run_conf={
            "landing_dir": str(ctx.landing_dir),
            "warehouse_dir": str(ctx.warehouse_dir),
            "k": ctx.k,
            "run_date": ctx.run_date.isoformat(),
            "engine": ctx.engine,
        },
    )


def run_outcome(ctx: RunContext, dag_run, log_file: Path, task_ids: Sequence[str] = ()) -> int:
    """The exit code of a finished run; on failure, what failed, why and where to look."""
    from privacy_pipeline.console import failure_lines, with_task_ids

    state = str(getattr(dag_run, "state", "unknown"))
    if state == "success":
        return 0
    failures = with_task_ids(read_failures(ctx), task_ids)
    where = {
        "full log": log_file,
        "run report": ctx.reports_dir / "runs" / f"{ctx.run_date}.html",
        "validation report": ctx.reports_dir / "validation" / "index.html",
    }
    lines = failure_lines(failures, broken_promises(ctx), where)
    if not failures:
        failed = not_run = []
        if dag_run is not None:
            instances = dag_run.get_task_instances()
            failed = [ti.task_id for ti in instances if ti.state == "failed"]
            not_run = [ti.task_id for ti in instances if ti.state == "upstream_failed"]
        lines.insert(0, f"run failed (state {state}); failed tasks: {failed}; not run: {not_run}")
    print("\n".join(lines), file=sys.stderr)
    return failures[0]["exit_code"] if failures else 3


def broken_promises(ctx: RunContext) -> list[tuple[str, str]]:
    """(promise in the DPO's words, what the gate saw) for every failed expectation."""
    from privacy_pipeline.gates.results import read_suite_results

    try:
        results = read_suite_results(ctx)
    except (OSError, ValueError):
        return []
    return [
        (expectation.get("description") or expectation["expectation"], expectation["observed"])
        for result in results.values()
        if not result.get("success")
        for expectation in result.get("expectations", [])
        if not expectation.get("success")
    ]
