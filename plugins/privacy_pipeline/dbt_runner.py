"""Runs dbt in-process against a run's candidate database, with the config as vars.

dbt is always invoked through here (DAG tasks, CLI, tests) so the profile, the
database path, the vars and the target folder are set in one place. A DuckDB file
allows one writer, so one dbt invocation at a time uses threads, never processes.

Parsing the project takes dbt 5-15 s. The vars are the same for every run of a
configuration (the run date and k come from the environment), so the parsed project
(dbt's ``partial_parse.msgpack``) is kept in a cache shared by the runs and handed to
each new run's target folder: dbt then re-parses only what changed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from privacy_pipeline.config import (
    DBT_PROJECT_DIR,
    DUCKDB_MEMORY_LIMIT_VARIABLE,
    duckdb_memory_limit,
)
from privacy_pipeline.errors import GateFailed, PipelineError
from privacy_pipeline.run_context import RunContext

log = logging.getLogger(__name__)

ENV_CANDIDATE_DB = "PRIVACY_PIPELINE_CANDIDATE_DB"
# Read by the models through the macro run_date() and env_var() in the yml files.
ENV_RUN_DATE = "PRIVACY_PIPELINE_DBT_RUN_DATE"
ENV_K = "PRIVACY_PIPELINE_DBT_K"
# Where parsed projects are kept (default: <warehouse>/dbt-parse-cache).
ENV_PARSE_CACHE = "PRIVACY_PIPELINE_DBT_PARSE_CACHE"
PARTIAL_PARSE_FILE = "partial_parse.msgpack"
PARSE_CACHE_DAYS = 7


class DbtFailed(PipelineError):
    """A dbt command failed: a model could not be built (exit 3)."""


class DbtChecksFailed(GateFailed):
    """Only dbt's data or unit tests failed: every model built, but the candidate breaks a
    rule the project checks (a model bug, say). Like a failed gate: exit 1, nothing new is
    published, and the message names the tests."""


# dbt node statuses of a test that ran and found violations (not one that errored).
FAILED_TEST_STATUSES = ("fail",)
CHECK_RESOURCE_TYPES = ("test", "unit_test")


def dbt_environment(ctx: RunContext) -> dict[str, str]:
    """The environment of a dbt command. Not the pseudonym key: the dbt plugin reads it
    where the operator put it, and a demo run must not leave the public key behind in the
    process environment (a later run on real data would take it for a configured key)."""
    return {
        # Relative to the run folder, dbt's working directory (see run_dbt): the database
        # path is part of dbt's profile, and a profile that changed forces a full parse.
        ENV_CANDIDATE_DB: ctx.candidate_db.name,
        ENV_RUN_DATE: ctx.run_date.isoformat(),
        ENV_K: str(ctx.k),
        # The one default of the cap is config's; profiles.yml reads the variable only.
        DUCKDB_MEMORY_LIMIT_VARIABLE: duckdb_memory_limit(),
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        # No network at run time: no usage tracking, no version check.
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_VERSION_CHECK": "false",
    }


def target_dir(ctx: RunContext) -> Path:
    return ctx.run_dir / "dbt" / "target"


# The profile target of each engine (dbt_project/profiles.yml).
ENGINE_TARGETS = {"duckdb": "candidate", "spark": "spark"}


def dbt_args(ctx: RunContext, command: Sequence[str]) -> list[str]:
    """The full argument list for ``command`` (e.g. ``["build", "--select", "staging"]``)."""
    engine = [] if ctx.engine == "duckdb" else ["--target", ENGINE_TARGETS[ctx.engine]]
    return [
        *command,
        *engine,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(target_dir(ctx)),
        "--log-path",
        str(ctx.run_dir / "dbt" / "logs"),
        "--vars",
        json.dumps(ctx.dbt_vars(), default=str),
    ]


def run_dbt(ctx: RunContext, command: Sequence[str]) -> list:
    """Run one dbt command; raise DbtFailed naming the failed nodes. Returns dbt's node
    results (empty for a command without any, such as parse)."""
    from dbt.cli.main import dbtRunner

    from privacy_pipeline.console import dbt_progress

    ctx.run_dir.mkdir(parents=True, exist_ok=True)
    os.environ.update(dbt_environment(ctx))
    if ctx.engine == "spark":
        from privacy_pipeline.spark_engine import spark_session

        spark_session(ctx)  # dbt-spark's session method uses this one
    args = dbt_args(ctx, command)
    log.info("dbt %s (run_date=%s)", " ".join(command), ctx.run_date)
    cached_parse = parse_cache_file(ctx)
    restore_parsed_project(cached_parse, target_dir(ctx) / PARTIAL_PARSE_FILE)
    try:
        with working_directory(ctx.run_dir):
            result = dbtRunner(callbacks=[dbt_progress]).invoke(args)
    finally:
        if ctx.engine == "duckdb":
            release_candidate_db()
    keep_parsed_project(target_dir(ctx) / PARTIAL_PARSE_FILE, cached_parse)
    if result.success:
        return list(getattr(result.result, "results", None) or [])
    failed, only_checks = [], True
    for node_result in getattr(result.result, "results", None) or []:
        status = str(node_result.status)
        if status not in ("success", "pass", "skipped", "warn"):
            failed.append(f"{node_result.node.unique_id}: {status}: {node_result.message}")
            resource_type = str(getattr(node_result.node, "resource_type", ""))
            only_checks &= status in FAILED_TEST_STATUSES and resource_type in CHECK_RESOURCE_TYPES
    detail = "\n  ".join(failed) or str(result.exception)
    if failed and only_checks:
        raise DbtChecksFailed(
            f"dbt {' '.join(command)}: {len(failed)} data test(s) of the candidate failed; "
            f"nothing is published:\n  {detail}"
        )
    raise DbtFailed(f"dbt {' '.join(command)} failed:\n  {detail}")


def layer_timings(results: Sequence, layers: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Per layer (a model folder: staging, ...) of one dbt command: its wall time, from its
    first node's start to its last node's end (layers overlap a little: dbt starts a model
    as soon as its parents are built), and its models and tests.

    A model belongs to its folder; a test to the last layer of the models it reads (as
    ``--indirect-selection cautious`` ran it with that layer's own command).
    """
    layer_of = {}
    for node_result in results:
        node = node_result.node
        fqn = list(getattr(node, "fqn", []) or [])
        if len(fqn) > 1 and fqn[1] in layers:
            layer_of[node.unique_id] = fqn[1]
    order = {layer: index for index, layer in enumerate(layers)}
    timings = {layer: {"seconds": 0.0, "models": 0, "tests": 0} for layer in layers}
    spans: dict[str, list] = {layer: [] for layer in layers}
    for node_result in results:
        node = node_result.node
        layer = layer_of.get(node.unique_id)
        if str(node.resource_type) in CHECK_RESOURCE_TYPES:  # its fqn is its yml's folder
            parents = [layer_of[p] for p in node.depends_on.nodes if p in layer_of]
            layer = max(parents, key=order.__getitem__) if parents else layer
        if layer is None:
            continue
        is_check = str(node.resource_type) in CHECK_RESOURCE_TYPES
        timings[layer]["tests" if is_check else "models"] += 1
        for timing in getattr(node_result, "timing", None) or []:
            if timing.started_at and timing.completed_at:
                spans[layer] += [timing.started_at, timing.completed_at]
    for layer, instants in spans.items():
        if instants:
            timings[layer]["seconds"] = (max(instants) - min(instants)).total_seconds()
    return timings


def layer_lines(timings: dict[str, dict[str, Any]]) -> list[str]:
    """One console line per layer, under the dbt stage's line."""
    from privacy_pipeline.console import STAGE_WIDTH, format_seconds

    return [
        f"    {layer:<{STAGE_WIDTH - 2}} {'':<8} {format_seconds(figures['seconds'])}"
        f"  ({figures['models']} models, {figures['tests']} tests)"
        for layer, figures in timings.items()
    ]


@contextmanager
def working_directory(folder: Path):
    previous = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(previous)


def parse_cache_file(ctx: RunContext) -> Path:
    """The cached parsed project for this configuration (one file per vars)."""
    folder = Path(os.environ.get(ENV_PARSE_CACHE) or ctx.warehouse_dir / "dbt-parse-cache")
    # Another project folder (DBT_PROJECT_DIR) is another project: its own parse.
    vars_digest = hashlib.sha256(
        json.dumps([ctx.dbt_vars(), str(DBT_PROJECT_DIR)], sort_keys=True, default=str).encode()
    ).hexdigest()[:16]
    return folder / f"partial_parse-{vars_digest}.msgpack"


def restore_parsed_project(cached: Path, saved: Path) -> None:
    """Give a new run's target folder the cached parse (dbt validates it and re-parses
    whatever changed: files, vars, dbt version)."""
    if saved.exists() or not cached.exists():
        return
    saved.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(cached, saved)  # keeps its time: an unchanged parse is not copied back


def keep_parsed_project(saved: Path, cached: Path) -> None:
    """Replace the cached parse with the run's, atomically (runs may share the cache)."""
    if not saved.exists():
        return
    if cached.exists() and cached.stat().st_mtime >= saved.stat().st_mtime:
        return
    cached.parent.mkdir(parents=True, exist_ok=True)
    partial = cached.with_name(f"{cached.name}.{os.getpid()}.partial")
    shutil.copyfile(saved, partial)
    os.replace(partial, cached)
    # Parses of earlier configurations are not needed for long.
    cutoff = time.time() - PARSE_CACHE_DAYS * 86400
    for old in cached.parent.glob("partial_parse-*.msgpack"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except FileNotFoundError:
            pass  # another run pruned it first


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
