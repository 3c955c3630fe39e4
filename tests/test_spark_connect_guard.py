"""pyspark never ends a gate's process with exit 0 (privacy_pipeline._spark_connect_guard)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from privacy_pipeline import stages


def test_great_expectations_imports_in_a_process_without_a_main_module():
    # ``python -c`` has no main file: the case in which pyspark calls sys.exit(0).
    script = (
        "import privacy_pipeline\n"
        "import great_expectations\n"
        "from great_expectations.compatibility import pyspark\n"
        "print('still running')\n"
        "raise SystemExit(7)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 7, result.stderr[-3000:]
    assert "still running" in result.stdout


def test_a_gate_interrupted_by_sys_exit_is_not_a_pass(monkeypatch):
    import privacy_pipeline.gates as gates

    def exits(ctx, suite):
        raise SystemExit(0)

    monkeypatch.setattr(gates, "run_suite", exits)
    with pytest.raises(RuntimeError, match="interrupted by a library calling sys.exit"):
        stages.run_gate(None, "location")
