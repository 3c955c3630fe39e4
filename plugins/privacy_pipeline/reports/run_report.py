"""Write the reports of a run: gate history, Data Docs index and the one-page run report."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from privacy_pipeline.gates.results import read_suite_results, record_gate_results
from privacy_pipeline.gates.validation import build_data_docs, validation_dir
from privacy_pipeline.publish import sync_exports
from privacy_pipeline.reports.facts import collect_facts
from privacy_pipeline.reports.html import render_run_report
from privacy_pipeline.run_context import RunContext

log = logging.getLogger(__name__)


def run_report_path(ctx: RunContext) -> Path:
    return ctx.reports_dir / "runs" / f"{ctx.run_date.isoformat()}.html"


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def write_recipients_register(ctx: RunContext) -> None:
    from privacy_pipeline.recipients import write_recipients_register as write

    write(ctx)


def write_run_reports(ctx: RunContext) -> dict[str, str]:
    """Record the gate results (also of failed runs), then write the DPO's pages."""
    record_gate_results(ctx)
    # A publication interrupted after its commit is completed here, in the same DAG run.
    sync_exports(ctx.warehouse_dir, ctx.run_date)
    data_docs = validation_dir(ctx) / "index.html"
    if not data_docs.exists():
        build_data_docs(ctx)
    facts = collect_facts(ctx, read_suite_results(ctx))
    report = run_report_path(ctx)
    write_atomically(report, render_run_report(ctx, facts, data_docs))
    write_recipients_register(ctx)
    log.info("run report: %s; Data Docs: %s", report, data_docs)
    return {"run_report": str(report), "data_docs": str(data_docs)}
