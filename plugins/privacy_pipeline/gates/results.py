"""What each gate saw, kept per run (JSON in the run folder) and in ``dpo.gate_results``.

The gate tasks only write JSON files: several gates may run at once, and the warehouse
allows one writer. ``publish`` appends them to ``dpo.gate_results`` in its transaction;
``reports`` appends them for runs that did not publish. The table is an audit log: rows
are only ever appended, a repeated append of the same gate execution is a no-op.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import duckdb

from privacy_pipeline.run_context import RunContext
from privacy_pipeline.transaction import transaction

GATE_RESULTS_TABLE = "dpo.gate_results"
GATE_RESULTS_COLUMNS = """
    run_id varchar,
    run_date date,
    suite varchar,
    expectation varchar,
    success boolean,
    observed varchar,
    run_at timestamptz,
    candidate_fingerprint varchar
"""


def results_dir(ctx: RunContext) -> Path:
    return ctx.run_dir / "gates"


def write_suite_result(ctx: RunContext, result: dict[str, Any]) -> Path:
    """Write atomically, so a reader never sees half a result."""
    folder = results_dir(ctx)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{result['suite']}.json"
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    os.replace(partial, path)
    return path


def read_suite_results(ctx: RunContext) -> dict[str, dict[str, Any]]:
    """Suite name -> result of the gates that ran in this run."""
    folder = results_dir(ctx)
    if not folder.exists():
        return {}
    results = {}
    for path in sorted(folder.glob("*.json")):
        result = json.loads(path.read_text(encoding="utf-8"))
        results[result["suite"]] = result
    return results


def fingerprint_digest(fingerprint: dict[str, str] | None) -> str | None:
    """One short digest of a suite's candidate fingerprints, for the audit log."""
    if not fingerprint:
        return None
    return hashlib.sha256(json.dumps(fingerprint, sort_keys=True).encode()).hexdigest()[:32]


def gate_result_rows(results: dict[str, dict[str, Any]]) -> list[tuple]:
    return [
        (
            result["run_id"],
            result["run_date"],
            result["suite"],
            expectation["expectation"],
            expectation["success"],
            expectation["observed"],
            result["run_at"],
            fingerprint_digest(result.get("candidate_fingerprint")),
        )
        for result in results.values()
        for expectation in result["expectations"]
    ]


def append_gate_results(
    con: duckdb.DuckDBPyConnection, ctx: RunContext, catalog: str | None = None
) -> int:
    """Append this run's gate results to dpo.gate_results; returns rows added.

    Runs on the caller's connection (and transaction, if one is open); ``catalog`` names
    the attached warehouse when it is not the connection's own database.
    """
    prefix = f"{catalog}." if catalog else ""
    table = f"{prefix}{GATE_RESULTS_TABLE}"
    con.execute(f"create schema if not exists {prefix}dpo")
    con.execute(f"create table if not exists {table} ({GATE_RESULTS_COLUMNS})")
    # Audit logs written before gate results were bound to a candidate fingerprint.
    con.execute(f"alter table {table} add column if not exists candidate_fingerprint varchar")
    rows = gate_result_rows(read_suite_results(ctx))
    if not rows:
        return 0
    placeholders = ", ".join(
        "(?, cast(? as date), ?, ?, ?, ?, cast(? as timestamptz), ?)" for _ in rows
    )
    added = con.execute(
        f"""
        insert into {table} by name
        select * from (values {placeholders})
            as new(run_id, run_date, suite, expectation, success, observed, run_at,
                   candidate_fingerprint)
        where not exists (
            select 1 from {table} as old
            where old.run_id = new.run_id and old.suite = new.suite
              and old.expectation = new.expectation and old.run_at = new.run_at
        )
        """,
        [value for row in rows for value in row],
    ).fetchone()
    return int(added[0]) if added else 0


def record_gate_results(ctx: RunContext) -> int:
    """Append the run's gate results in their own transaction (for runs that did not publish)."""
    from privacy_pipeline.publish import while_locked

    ctx.warehouse_db.parent.mkdir(parents=True, exist_ok=True)
    con = while_locked(lambda: duckdb.connect(str(ctx.warehouse_db)), ctx.warehouse_db)
    try:
        with transaction(con):
            return append_gate_results(con, ctx)
    finally:
        con.close()
