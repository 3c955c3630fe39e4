"""Run the real pipeline from tests: the CLI in a subprocess, as a user or Airflow would."""

from __future__ import annotations

import atexit
import json
import os
import select
import subprocess
import sys
import tempfile
import textwrap
import threading
from pathlib import Path

import duckdb

from tests.support.landing import C_SCARLET_MIGRATED, RUN_DATE
from tests.support.warm_cli import READ_AT_IMPORT

REPO = Path(__file__).resolve().parents[2]


def cli_environment(env: dict[str, str | None] | None = None) -> dict[str, str]:
    """The test's environment without Airflow's, with ``env`` set (None: removed)."""
    env_vars = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    for name, value in (env or {}).items():
        if value is None:
            env_vars.pop(name, None)
        else:
            env_vars[name] = value
    return env_vars


def run_cli(
    *args: str, timeout: int = 600, env: dict[str, str | None] | None = None
) -> subprocess.CompletedProcess:
    """``privacy-pipeline ARGS`` in a fresh process with its own Airflow home.

    ``env``: variables to set (or, with None, to remove) for that process."""
    return subprocess.run(
        [sys.executable, "-m", "privacy_pipeline.cli", *args],
        capture_output=True,
        text=True,
        env=cli_environment(env),
        timeout=timeout,
        check=False,
    )


def request_reply(process: subprocess.Popen, request: dict, timeout: float) -> dict:
    """Send ``request`` to a request/reply process (one JSON line each way, as
    tests/support/warm_cli.py and the mutation tests' stage runner speak) and return its
    reply. Raises ``subprocess.TimeoutExpired`` after ``timeout`` seconds without one, and
    ``EOFError`` when the process stopped before replying."""
    process.stdin.write(json.dumps(request) + "\n")
    process.stdin.flush()
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    if not ready:
        raise subprocess.TimeoutExpired(process.args, timeout)
    reply = process.stdout.readline()
    if not reply:
        raise EOFError("the process stopped before replying")
    return json.loads(reply)


class WarmCli:
    """The process of tests/support/warm_cli.py: ``privacy-pipeline`` commands run by the
    CLI's ``main()`` in one process per pytest worker, started at its first request.

    One request at a time: ``run`` returns None when the process is busy (another thread's
    run) or the environment differs in what the pipeline reads at import; the caller then
    runs a fresh process.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.process: subprocess.Popen | None = None
        self.folder = Path(tempfile.mkdtemp(prefix="pytest-warm-cli-"))
        self.started_env: dict[str, str] = {}
        self.requests = 0

    def start(self, env: dict[str, str]) -> subprocess.Popen:
        if self.process is None or self.process.poll() is not None:
            env = dict(env, AIRFLOW_HOME=str(self.folder / "airflow"))
            with (self.folder / "process.log").open("a") as log:
                self.process = subprocess.Popen(
                    [sys.executable, "-m", "tests.support.warm_cli"],
                    cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                    stderr=log, text=True,
                )  # fmt: skip
            self.started_env = env
        return self.process

    def run(
        self, args: list[str], env: dict[str, str], timeout: int
    ) -> subprocess.CompletedProcess | None:
        started = self.process is not None
        if started and any(env.get(n) != self.started_env.get(n) for n in READ_AT_IMPORT):
            return None
        if not self.lock.acquire(blocking=False):
            return None
        try:
            process = self.start(env)
            self.requests += 1
            out = self.folder / f"{self.requests}.stdout"
            err = self.folder / f"{self.requests}.stderr"
            request = {"args": args, "env": env, "stdout": str(out), "stderr": str(err)}
            try:
                reply = request_reply(process, request, timeout)
            except EOFError as stopped:
                self.stop()
                log = self.folder / "process.log"
                raise RuntimeError(f"the warm CLI process stopped; see {log}") from stopped
            except subprocess.TimeoutExpired:
                self.stop()
                raise
            result = subprocess.CompletedProcess(
                args,
                reply["returncode"],
                out.read_text(encoding="utf-8", errors="replace"),
                err.read_text(encoding="utf-8", errors="replace"),
            )
            out.unlink()
            err.unlink()
            return result
        finally:
            self.lock.release()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


WARM_CLI = WarmCli()
atexit.register(WARM_CLI.stop)


def run_pipeline(
    landing: Path,
    warehouse: Path,
    date: str,
    k: int | None = None,
    config: Path | None = None,
    env: dict[str, str | None] | None = None,
    engine: str | None = None,
    timeout: int = 600,
    fresh_process: bool = False,
):
    """Run the nightly DAG for ``date``; returns the completed process (check .returncode).

    ``config``: another configuration file (tests/support/config.py), e.g. a lower k.
    ``engine``: duckdb (default) or spark (docs/spark.md).
    The run is ``privacy-pipeline run`` through the CLI's ``main()`` in the worker's warm
    process (WarmCli), or in a fresh one with ``fresh_process`` (what a process boundary
    shows: asset events in the warehouse's own Airflow database, two runs at once), for
    Spark, or when the warm process is busy."""
    args = ["run", "--landing", str(landing), "--warehouse", str(warehouse), "--date", date]
    if k is not None:
        args += ["--k", str(k)]
    if engine is not None:
        args += ["--engine", engine]
    env = dict(env or {})
    if config is not None:
        env["PRIVACY_PIPELINE_CONFIG"] = str(config)
    if not fresh_process and engine in (None, "duckdb"):
        result = WARM_CLI.run(args, cli_environment(env), timeout)
        if result is not None:
            return result
    return run_cli(*args, env=env, timeout=timeout)


def query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    """Rows of ``sql`` on the published warehouse, read-only."""
    con = duckdb.connect(str(Path(warehouse) / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def query_restricted(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    """Rows of ``sql`` on the DPO's restricted store (restricted/dpo.duckdb), read-only."""
    con = duckdb.connect(str(Path(warehouse) / "restricted" / "dpo.duckdb"), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


# A "model bug": ``privacy-pipeline run`` with a wrapper that, right after the marts are
# built (and their dbt tests passed), changes the candidate output the way a faulty model
# would. The gates must catch it.
RUN_WITH_A_MODEL_BUG = """
import sys
import duckdb
from privacy_pipeline import stages
from privacy_pipeline.cli import main

bug = sys.argv[1]
build = stages.transform

def transform_with_a_bug(ctx):
    layers = build(ctx)
    if bug:
        con = duckdb.connect(str(ctx.candidate_db))
        try:
            con.execute(bug)
        finally:
            con.close()
    return layers

stages.transform = transform_with_a_bug
sys.exit(main(sys.argv[2:]))
"""
MARKETING_BUG = (
    "insert into marketing.segment_members values "
    f"('standard_offers', '{C_SCARLET_MIGRATED}', date '{RUN_DATE}')"
)
LOCATION_BUG = (
    "insert into location.presence_hourly values "
    f"('postal_code', '2000', timestamptz '{RUN_DATE} 09:00:00+02', 3, date '{RUN_DATE}')"
)


def run_with_bug(landing, warehouse, bug: str = "") -> subprocess.CompletedProcess:
    """``privacy-pipeline run`` of RUN_DATE with ``bug`` (SQL) applied to the candidate."""
    env = cli_environment()
    args = ["run", "--landing", str(landing), "--warehouse", str(warehouse), "--date", RUN_DATE]
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(RUN_WITH_A_MODEL_BUG), bug, *args],
        capture_output=True, text=True, env=env, timeout=900, check=False,
    )  # fmt: skip
