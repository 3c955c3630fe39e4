"""Publication publishes exactly what was gated, by this run, and by one run at a time.

* Every gate result names its run (``run_id``, ``run_date``) and the **fingerprint** of
  every candidate table publication reads, taken before and after its checks (row count,
  a sum of row hashes, and the column names and types). ``publish`` recomputes the
  fingerprints inside its own transaction (the same snapshot it copies) and refuses a
  candidate that changed after a gate ran, results left by another run, or a suite whose
  result is missing or failed.
* A **lock file per run date** in the warehouse (``locks/run_date=D.lock``, an exclusive
  ``flock``) keeps a second run of the same date from running or publishing while one
  holds it. ``privacy-pipeline run`` holds it for the whole run; ``publish`` holds it while
  publishing. The kernel releases a ``flock`` when its process dies, so a crashed run
  never leaves a stale lock behind.

Every refusal is a ``PublicationRefused`` (exit code 1: nothing new was published).
See docs/gates.md.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import socket
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb

from privacy_pipeline.errors import GateFailed
from privacy_pipeline.run_context import RunContext

LOCKS_DIR = "locks"
# Set by the process that holds a run date's lock for a whole run (``privacy-pipeline
# run``); the DAG's stages run in it or in its children and are then the lock's owner.
ENV_LOCK_TOKEN = "PRIVACY_PIPELINE_RUN_LOCK_TOKEN"


class PublicationRefused(GateFailed):
    """The gate results do not vouch for this candidate, or another run holds the date."""


# ------------------------------------------------------------------------ fingerprints


def table_fingerprint(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """``rows:hash-sum:schema-digest`` of one table of the connection's own database, or
    ``missing``. One scan; the sum of row hashes does not depend on row order."""
    from privacy_pipeline.publish import qualified, table_columns

    columns = table_columns(con, table)
    if not columns:
        return "missing"
    rows, hashes = con.execute(
        f"select count(*), cast(coalesce(sum(hash(t)), 0) as varchar) from {qualified(table)} as t"
    ).fetchone()
    schema = hashlib.sha256(json.dumps(list(columns.items())).encode()).hexdigest()[:16]
    return f"{rows}:{hashes}:{schema}"


def gated_tables() -> tuple[str, ...]:
    """Every candidate table publication reads: the published ones and the restricted store's."""
    from privacy_pipeline.publish import CANDIDATE_TABLES
    from privacy_pipeline.restricted import RESTRICTED_TABLES, candidate_table

    return CANDIDATE_TABLES + tuple(candidate_table(t) for t in RESTRICTED_TABLES)


def candidate_fingerprints(
    con: duckdb.DuckDBPyConnection, tables: Sequence[str] | None = None
) -> dict[str, str]:
    """The fingerprint of every candidate table publication reads (default: all of them)."""
    return {table: table_fingerprint(con, table) for table in tables or gated_tables()}


# ------------------------------------------------------------------- gate results' binding


def gate_results_for_publication(ctx: RunContext) -> dict[str, dict[str, Any]]:
    """Every suite's result, from this run, passed, with fingerprints; else refuse."""
    from privacy_pipeline.gates.results import read_suite_results
    from privacy_pipeline.gates.suites import SUITES

    results = read_suite_results(ctx)
    missing = [s for s in SUITES if s not in results]
    if missing:
        raise PublicationRefused(
            f"refusing to publish {ctx.run_date}: privacy gates not passed: "
            f"{', '.join(missing)} (no result)"
        )
    foreign = [
        f"{suite} (run {result.get('run_id')!r}, date {result.get('run_date')})"
        for suite, result in results.items()
        if suite in SUITES
        and (result.get("run_id") != ctx.run_id or result.get("run_date") != str(ctx.run_date))
    ]
    if foreign:
        raise PublicationRefused(
            f"refusing to publish {ctx.run_date}: gate results left by another run than "
            f"{ctx.run_id!r}: {', '.join(foreign)}"
        )
    failed = [s for s in SUITES if not results[s].get("success")]
    if failed:
        raise PublicationRefused(
            f"refusing to publish {ctx.run_date}: privacy gates not passed: {', '.join(failed)}"
        )
    unbound = [s for s in SUITES if not results[s].get("candidate_fingerprint")]
    if unbound:
        raise PublicationRefused(
            f"refusing to publish {ctx.run_date}: gate results without a candidate "
            f"fingerprint: {', '.join(unbound)}"
        )
    return {suite: results[suite] for suite in SUITES}


def verify_candidate_unchanged(
    con: duckdb.DuckDBPyConnection, results: dict[str, dict[str, Any]], tables: Sequence[str]
) -> None:
    """Refuse unless every table about to be published is exactly what every gate read.

    Runs on the publication's connection to the candidate, inside its transaction.
    """
    current = candidate_fingerprints(con, tables)
    changes = []
    for suite, result in results.items():
        gated = result["candidate_fingerprint"]
        for table in tables:
            if gated.get(table) != current[table]:
                changes.append(
                    f"{table} (gate {suite} read {describe(gated.get(table))}, "
                    f"now {describe(current[table])})"
                )
    if changes:
        raise PublicationRefused(
            "refusing to publish: the candidate is not what the privacy gates checked; "
            "changed after the gates ran: " + "; ".join(changes[:10])
        )


def describe(fingerprint: str | None) -> str:
    if fingerprint is None:
        return "nothing"
    if fingerprint == "missing":
        return "no table"
    return f"{fingerprint.split(':')[0]} rows, fingerprint {fingerprint}"


# ------------------------------------------------------------------------- run date lock


def lock_path(warehouse_dir: Path, run_date: dt.date) -> Path:
    return Path(warehouse_dir) / LOCKS_DIR / f"run_date={run_date.isoformat()}.lock"


def new_lock_token() -> str:
    return uuid.uuid4().hex


@contextlib.contextmanager
def hold_run_date(warehouse_dir: Path, run_date: dt.date, owner: str) -> Iterator[Path]:
    """Hold the run date's lock; raise ``PublicationRefused`` if another run holds it.

    Re-entrant for the run that holds it: a stage of a ``privacy-pipeline run`` (same
    ``PRIVACY_PIPELINE_RUN_LOCK_TOKEN``) passes through.
    """
    path = lock_path(warehouse_dir, run_date)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = read_holder(path)
            token = os.environ.get(ENV_LOCK_TOKEN)
            if token and holder.get("token") == token:
                yield path  # our own run holds it
                return
            raise PublicationRefused(
                f"refusing to run {run_date}: another run of the same date is in progress "
                f"(run {holder.get('owner', '?')!r}, pid {holder.get('pid', '?')} on "
                f"{holder.get('host', '?')}, since {holder.get('since', '?')}); lock file "
                f"{path}. Nothing was published by this run; the other run's outcome stands."
            ) from None
        holder = {
            "owner": owner,
            "token": os.environ.get(ENV_LOCK_TOKEN) or new_lock_token(),
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, json.dumps(holder).encode(), 0)
        try:
            yield path
        finally:
            os.ftruncate(descriptor, 0)
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


def run_date_is_held(warehouse_dir: Path, run_date: dt.date) -> bool:
    """True while another process holds D's lock (a run of D is loading or publishing)."""
    path = lock_path(warehouse_dir, run_date)
    if not path.exists():
        return False
    descriptor = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        token = os.environ.get(ENV_LOCK_TOKEN)
        return not (token and read_holder(path).get("token") == token)
    else:
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        return False
    finally:
        os.close(descriptor)


def read_holder(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}


@contextlib.contextmanager
def hold_run_date_for_run(warehouse_dir: Path, run_date: dt.date, owner: str) -> Iterator[Path]:
    """For a whole ``privacy-pipeline run``: hold the lock, and let the run's stages (this
    process and its children) recognise it as theirs."""
    token = new_lock_token()
    previous = os.environ.get(ENV_LOCK_TOKEN)
    os.environ[ENV_LOCK_TOKEN] = token
    try:
        with hold_run_date(warehouse_dir, run_date, owner) as path:
            yield path
    finally:
        if previous is None:
            os.environ.pop(ENV_LOCK_TOKEN, None)
        else:
            os.environ[ENV_LOCK_TOKEN] = previous
