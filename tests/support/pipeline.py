"""Run the real pipeline from tests: the CLI in a subprocess, as a user or Airflow would."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb

from tests.support.landing import C_SCARLET_MIGRATED, RUN_DATE


def run_cli(
    *args: str, timeout: int = 600, env: dict[str, str | None] | None = None
) -> subprocess.CompletedProcess:
    """``privacy-pipeline ARGS`` in a fresh process with its own Airflow home.

    ``env``: variables to set (or, with None, to remove) for that process."""
    env_vars = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    for name, value in (env or {}).items():
        if value is None:
            env_vars.pop(name, None)
        else:
            env_vars[name] = value
    return subprocess.run(
        [sys.executable, "-m", "privacy_pipeline.cli", *args],
        capture_output=True,
        text=True,
        env=env_vars,
        timeout=timeout,
        check=False,
    )


def run_pipeline(
    landing: Path,
    warehouse: Path,
    date: str,
    k: int | None = None,
    config: Path | None = None,
    env: dict[str, str | None] | None = None,
    engine: str | None = None,
    timeout: int = 600,
):
    """Run the nightly DAG for ``date``; returns the completed process (check .returncode).

    ``config``: another configuration file (tests/support/config.py), e.g. a lower k.
    ``engine``: duckdb (default) or spark (docs/spark.md)."""
    args = ["run", "--landing", str(landing), "--warehouse", str(warehouse), "--date", date]
    if k is not None:
        args += ["--k", str(k)]
    if engine is not None:
        args += ["--engine", engine]
    env = dict(env or {})
    if config is not None:
        env["PRIVACY_PIPELINE_CONFIG"] = str(config)
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
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    args = ["run", "--landing", str(landing), "--warehouse", str(warehouse), "--date", RUN_DATE]
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(RUN_WITH_A_MODEL_BUG), bug, *args],
        capture_output=True, text=True, env=env, timeout=900, check=False,
    )  # fmt: skip
