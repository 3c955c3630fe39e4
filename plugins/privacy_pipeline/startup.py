"""The fixed cost of a run: what every run pays whatever its data size (docs/benchmarks.md).

Two things here, both measured on a tiny landing zone where this cost is the whole run:

- Python's cyclic garbage collector. After Airflow, dbt and Great Expectations are
  imported, millions of objects live until the process ends; every full collection walked
  all of them (~14 of ~1 s each in a run of ``dag.test``, plus one more at exit, ~10 s).
  ``settle_long_lived_objects`` moves what exists when a stage starts out of the
  collector's sight (``gc.freeze``: still freed by reference counting) and collects young
  objects less often. What a stage left in reference cycles is then collected at the end
  of the run (``collect_run_garbage``, backfill) or not at all (the process ends).
- Imports for a later stage of the same process. Under ``privacy-pipeline run`` every
  task runs in one process; Great Expectations (~5-10 s to import) is only needed by the
  gates, and while dbt runs the process mostly waits for DuckDB (which releases the GIL),
  so the gates' modules are imported by a background thread meanwhile.
"""

from __future__ import annotations

import gc
import importlib
import logging
import sys
import threading

log = logging.getLogger(__name__)

# Young objects are collected every 50,000 allocations (default 700); a full collection
# waits for 100 middle ones (default 10) on top of Python's own 25%-growth rule.
GC_THRESHOLDS = (50_000, 20, 100)

# What the privacy gates import; gates.validation first: it turns GE's analytics off
# before GE is imported.
GATE_MODULES = (
    "privacy_pipeline.gates.runner",
    "great_expectations",
    "great_expectations.expectations",
)

# Set by the in-process runner (privacy_pipeline.airflow_runner): the stages of this run
# all run in this process, so a stage may import what a later one needs. A scheduler's
# worker runs each task in its own process: nothing is imported ahead there.
_stages_share_this_process = False


def settle_long_lived_objects() -> None:
    """Keep the garbage collector off the objects that live as long as the process."""
    gc.freeze()
    if gc.get_threshold() != GC_THRESHOLDS:
        gc.set_threshold(*GC_THRESHOLDS)


def collect_run_garbage() -> None:
    """Collect what a finished run left in cycles, frozen with the rest at its stages'
    starts (one full collection, ~1 s): for a process that runs another date next."""
    gc.unfreeze()
    gc.collect()


def stages_share_this_process(shared: bool = True) -> None:
    global _stages_share_this_process
    _stages_share_this_process = shared


def import_ahead_for_gates() -> threading.Thread | None:
    """Import the gates' modules in a background thread, if the gates run in this process."""
    if not _stages_share_this_process:
        return None
    return import_in_background(GATE_MODULES)


def import_in_background(modules: tuple[str, ...]) -> threading.Thread | None:
    """Start importing ``modules`` in a daemon thread (None if all are imported already).

    A module another thread imports meanwhile waits for this import (Python's per-module
    import locks); an import that fails here is only logged: the stage that needs the
    module imports it again and reports the error where it belongs.
    """
    missing = tuple(name for name in modules if name not in sys.modules)
    if not missing:
        return None
    thread = threading.Thread(target=_import_all, args=(missing,), name="import-ahead", daemon=True)
    thread.start()
    return thread


def _import_all(modules: tuple[str, ...]) -> None:
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - reported by the stage that needs it
            log.debug("importing %s ahead failed: %s", name, exc)
            return
