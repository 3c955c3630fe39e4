"""Privacy gates: Great Expectations suites that must all pass before anything is published.

``SUITES`` names the suites (``expectations/<suite>.py``); the DAG runs
``run_suite(ctx, suite)`` for each, which raises ``GateFailed`` listing the failed
expectations and their counts. See docs/gates.md.

The DAG file imports ``SUITES`` at parse time, so this package imports Great
Expectations (several seconds) only when a gate actually runs.
"""

from __future__ import annotations

import importlib
from typing import Any

from privacy_pipeline.gates.suites import SUITES

_LAZY = {
    "BuiltIn": "privacy_pipeline.gates.promises",
    "CannotCheck": "privacy_pipeline.gates.promises",
    "ColumnSet": "privacy_pipeline.gates.promises",
    "Check": "privacy_pipeline.gates.promises",
    "Finding": "privacy_pipeline.gates.promises",
    "Promise": "privacy_pipeline.gates.promises",
    "load_suite": "privacy_pipeline.gates.suites",
    "run_suite": "privacy_pipeline.gates.runner",
}

__all__ = ["SUITES", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
