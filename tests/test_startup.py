"""The fixed-cost helpers of a run (privacy_pipeline.startup; figures in docs/benchmarks.md)."""

from __future__ import annotations

import gc
import sys

from privacy_pipeline import startup


def test_stages_keep_the_collector_off_long_lived_objects_and_a_backfill_frees_them():
    thresholds = gc.get_threshold()
    try:
        startup.settle_long_lived_objects()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == startup.GC_THRESHOLDS
        startup.collect_run_garbage()
        assert gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def test_the_gates_modules_are_imported_ahead_only_when_the_gates_run_in_this_process():
    startup.stages_share_this_process(False)
    assert startup.import_ahead_for_gates() is None  # a scheduler's worker: nothing ahead
    startup.stages_share_this_process(True)
    try:
        thread = startup.import_ahead_for_gates()
        if thread is not None:  # None: another test imported them already
            thread.join(timeout=300)
        assert all(name in sys.modules for name in startup.GATE_MODULES)
        assert startup.import_ahead_for_gates() is None  # nothing left to import
    finally:
        startup.stages_share_this_process(False)


def test_a_module_that_cannot_be_imported_ahead_is_left_to_the_stage_that_needs_it():
    thread = startup.import_in_background(("privacy_pipeline.no_such_module",))
    assert thread is not None
    thread.join(timeout=30)
    assert "privacy_pipeline.no_such_module" not in sys.modules
