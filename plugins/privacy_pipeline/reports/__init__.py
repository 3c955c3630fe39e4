"""The DPO's reports of every run, passed or failed: Data Docs, gate history, run report.

``write_run_reports(ctx)`` is the body of the DAG's ``reports`` task (trigger rule
all_done). See docs/gates.md, "For the DPO".
"""

from privacy_pipeline.reports.run_report import write_run_reports

__all__ = ["write_run_reports"]
