"""Run one privacy gate: check every promise of a suite on the candidate output of the run."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import duckdb

from privacy_pipeline.errors import GateFailed
from privacy_pipeline.gate_binding import candidate_fingerprints
from privacy_pipeline.gates.candidate import Candidate
from privacy_pipeline.gates.promises import CannotCheck, Check, Finding, Promise
from privacy_pipeline.gates.results import write_suite_result
from privacy_pipeline.gates.suites import load_suite
from privacy_pipeline.gates.validation import MAX_EXAMPLES, validate_findings
from privacy_pipeline.run_context import RunContext

log = logging.getLogger(__name__)


def check_promise(
    candidate: Candidate | None, promise: Promise, unavailable: str | None
) -> Finding:
    """Count the violations of one promise and keep the first examples."""
    if candidate is None:
        return Finding(promise, 0, [], "", cannot_check=unavailable)
    try:
        check = promise.check(candidate)
        found = candidate.materialise(f"gate_violations_{promise.name}", check.violations_sql)
        violations = candidate.rows(f"select count(*) from {found}")[0][0]
        examples = candidate.rows(
            f"select violation from {found} order by violation limit {MAX_EXAMPLES}"
        )
        tables = candidate.tables_read_by(check.violations_sql)
        rows_checked = check.rows_checked
        if rows_checked is None:
            rows_checked = candidate.rows_of(tables)
        values = built_in_values(candidate, check)
    except CannotCheck as exc:
        return Finding(promise, 0, [], "", cannot_check=str(exc))
    except duckdb.Error as exc:
        # A model whose output no longer has the expected shape: the promise is unchecked.
        reason = f"query failed ({str(exc).splitlines()[0][:300]})"
        log.error("privacy gate expectation %s: %s", promise.name, exc)
        return Finding(promise, 0, [], "", cannot_check=reason)
    return Finding(
        promise,
        violations,
        [row[0] for row in examples],
        check.scope,
        rows_checked=rows_checked,
        checked_unit=check.checked_unit,
        tables=tuple(f"{schema}.{table}" for schema, table in tables),
        built_in=check.built_in,
        values=values,
        column_sets=check.column_sets,
    )


# Above this many distinct values, Data Docs show the promise with the relational
# expectation instead of its built-in one (the pandas frame stays small).
MAX_BUILT_IN_VALUES = 20_000


def built_in_values(candidate: Candidate, check: Check) -> list | None:
    """The distinct values a promise's built-in expectation checks, or None when there
    are none or too many (the promise is then shown with the relational expectation)."""
    if check.built_in is None:
        return None
    rows = candidate.rows(
        f"select distinct value from ({check.built_in.values_sql}) as read_values "
        f"where value is not null limit {MAX_BUILT_IN_VALUES + 1}"
    )
    if not rows or len(rows) > MAX_BUILT_IN_VALUES:
        return None
    return [row[0] for row in rows]


# Not a promise of a suite: added to a suite's result when the candidate changed while
# the suite was checking it (what it checked is then no longer what would be published).
UNCHANGED_WHILE_CHECKED = Promise(
    "candidate_unchanged_while_checked",
    "The candidate tables were not changed while the gate checked them.",
    lambda candidate: None,
)


def find_violations(
    ctx: RunContext, promises: tuple[Promise, ...]
) -> tuple[list[Finding], dict[str, str] | None]:
    """The findings of every promise, and the fingerprint of the candidate tables they
    checked (None when there is no candidate), taken before and after the checks."""
    try:
        candidate = Candidate.open(ctx)
        unavailable = None
    except CannotCheck as exc:
        candidate, unavailable = None, str(exc)
    if candidate is None:
        return [check_promise(None, promise, unavailable) for promise in promises], None
    try:
        before = candidate_fingerprints(candidate.con)
        findings = [check_promise(candidate, promise, unavailable) for promise in promises]
        after = candidate_fingerprints(candidate.con)
    finally:
        candidate.close()
    if after != before:
        changed = sorted(table for table in after if after[table] != before.get(table))
        findings.append(
            Finding(
                UNCHANGED_WHILE_CHECKED,
                len(changed),
                [f"{table} changed while the gate ran" for table in changed],
                "candidate tables",
            )
        )
    return findings, before


def suite_result(
    ctx: RunContext,
    suite: str,
    findings: list[Finding],
    success_by_promise: dict[str, bool],
    run_at: dt.datetime,
    data_docs_page: str | None,
    fingerprint: dict[str, str] | None = None,
) -> dict[str, Any]:
    expectations = [
        {
            "expectation": finding.promise.name,
            "description": finding.promise.description,
            # GE is the judge; a finding with violations can never pass, whatever GE says.
            "success": success_by_promise.get(finding.promise.name, False) and finding.success,
            "observed": finding.observed,
            "violations": finding.violations,
            "examples": finding.examples,
            "cannot_check": finding.cannot_check,
        }
        for finding in findings
    ]
    return {
        "run_id": ctx.run_id,
        "run_date": ctx.run_date.isoformat(),
        "suite": suite,
        "run_at": run_at.isoformat(),
        # What publication must find unchanged (privacy_pipeline.gate_binding).
        "candidate_fingerprint": fingerprint,
        "success": all(expectation["success"] for expectation in expectations),
        "data_docs_page": data_docs_page,
        "expectations": expectations,
    }


def failure_message(result: dict[str, Any]) -> str:
    failed = [e for e in result["expectations"] if not e["success"]]
    lines = [
        f"privacy gate {result['suite']!r} failed: {len(failed)} of "
        f"{len(result['expectations'])} expectations failed; nothing is published"
    ]
    lines += [f"  - {e['expectation']}: {e['observed']}" for e in failed]
    return "\n".join(lines)


def run_suite(ctx: RunContext, suite: str) -> dict[str, Any]:
    """Check ``suite`` on the run's candidate DB; raise GateFailed listing what failed.

    Returns the suite result (also written to ``<run_dir>/gates/<suite>.json``).
    """
    definition = load_suite(suite)
    run_at = dt.datetime.now(dt.UTC)
    findings, fingerprint = find_violations(ctx, definition.promises)
    outcome = validate_findings(ctx, suite, definition.description, findings)
    result = suite_result(
        ctx,
        suite,
        findings,
        outcome.success_by_promise,
        run_at,
        outcome.data_docs_page,
        fingerprint,
    )
    write_suite_result(ctx, result)
    if not result["success"]:
        raise GateFailed(failure_message(result))
    log.info("privacy gate %s passed: %d expectations", suite, len(findings))
    return {
        "suite": suite,
        "success": True,
        "expectations": {e["expectation"]: e["observed"] for e in result["expectations"]},
    }
