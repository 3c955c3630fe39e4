"""Privacy gates: Great Expectations suites that must all pass before anything is published.

``SUITES`` names the suites (``expectations/<suite>.py``); the DAG runs
``run_suite(ctx, suite)`` for each, which raises ``GateFailed`` listing the failed
expectations and their counts. See docs/gates.md.
"""

from privacy_pipeline.gates.promises import CannotCheck, Check, Finding, Promise
from privacy_pipeline.gates.runner import run_suite
from privacy_pipeline.gates.suites import SUITES, load_suite

__all__ = ["SUITES", "CannotCheck", "Check", "Finding", "Promise", "load_suite", "run_suite"]
