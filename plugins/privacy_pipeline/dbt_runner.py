"""Runs dbt in-process against a run's candidate database, with the config as vars.

dbt is always invoked through here (DAG tasks, CLI, tests) so the profile, the
database path, the vars and the target folder are set in one place. A DuckDB file
allows one writer, so one dbt invocation at a time uses threads, never processes.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence

from privacy_pipeline.config import DBT_PROJECT_DIR, ENV_PSEUDONYM_KEY, pseudonym_key
from privacy_pipeline.errors import PipelineError
from privacy_pipeline.run_context import RunContext

log = logging.getLogger(__name__)

ENV_CANDIDATE_DB = "PRIVACY_PIPELINE_CANDIDATE_DB"


class DbtFailed(PipelineError):
    """A dbt command failed (a model error or a failing dbt test)."""


def dbt_environment(ctx: RunContext) -> dict[str, str]:
    return {
        ENV_CANDIDATE_DB: str(ctx.candidate_db),
        ENV_PSEUDONYM_KEY: pseudonym_key(),
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        # No network at run time: no usage tracking, no version check.
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_VERSION_CHECK": "false",
    }


def dbt_args(ctx: RunContext, command: Sequence[str]) -> list[str]:
    """The full argument list for ``command`` (e.g. ``["build", "--select", "staging"]``)."""
    return [
        *command,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(ctx.run_dir / "dbt" / "target"),
        "--log-path",
        str(ctx.run_dir / "dbt" / "logs"),
        "--vars",
        json.dumps(ctx.dbt_vars(), default=str),
    ]


def run_dbt(ctx: RunContext, command: Sequence[str]) -> None:
    """Run one dbt command; raise DbtFailed naming the failed nodes."""
    from dbt.cli.main import dbtRunner

    ctx.run_dir.mkdir(parents=True, exist_ok=True)
    os.environ.update(dbt_environment(ctx))
    args = dbt_args(ctx, command)
    log.info("dbt %s (run_date=%s)", " ".join(command), ctx.run_date)
    try:
        result = dbtRunner().invoke(args)
    finally:
        release_candidate_db()
    if result.success:
        return
    failed = []
    for node_result in getattr(result.result, "results", None) or []:
        if str(node_result.status) not in ("success", "pass", "skipped", "warn"):
            failed.append(
                f"{node_result.node.unique_id}: {node_result.status}: {node_result.message}"
            )
    detail = "\n  ".join(failed) or str(result.exception)
    raise DbtFailed(f"dbt {' '.join(command)} failed:\n  {detail}")


def release_candidate_db() -> None:
    """Close the database dbt-duckdb keeps open after a command.

    dbt-duckdb holds its DuckDB connection in a class attribute for the life of the
    process, so a later reader in the same process (gates, the run summary, tests) could
    not open the candidate database read-only ("different configuration").
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        if DuckDBConnectionManager._ENV is not None:
            DuckDBConnectionManager._ENV.close()
            DuckDBConnectionManager._ENV = None
