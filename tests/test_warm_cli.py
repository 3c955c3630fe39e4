"""The tests' warm process (tests/support/warm_cli.py) answers as a fresh process does.

``run_pipeline`` sends most of the suite's runs to it: a run there must end with the exit
code, stdout and stderr a fresh ``privacy-pipeline`` process gives, and leave the process
ready for the next run with the test's environment, not the last run's.
"""

from __future__ import annotations

from tests.support.landing import RUN_DATE
from tests.support.pipeline import WARM_CLI, cli_environment, run_cli


def failing_run(tmp_path, name: str) -> list[str]:
    landing, warehouse = tmp_path / f"{name}-missing", tmp_path / f"{name}-wh"
    return ["run", "--landing", str(landing), "--warehouse", str(warehouse), "--date", RUN_DATE]


def test_a_run_in_the_warm_process_answers_as_a_fresh_process(tmp_path):
    args = failing_run(tmp_path, "one")
    fresh = run_cli(*args)
    warm = WARM_CLI.run(args, cli_environment(), timeout=300)
    assert warm is not None, "the warm process was busy or refused the environment"
    assert fresh.returncode == warm.returncode == 2
    assert (warm.stdout, warm.stderr) == (fresh.stdout, fresh.stderr)
    assert "is not a folder" in warm.stderr


def test_the_warm_process_serves_the_next_run_with_that_runs_environment(tmp_path):
    first = WARM_CLI.run(failing_run(tmp_path, "a"), cli_environment(), timeout=300)
    pid = WARM_CLI.process.pid
    (tmp_path / "landing").mkdir()
    low_k = ["run", "--landing", str(tmp_path / "landing"), "--warehouse", str(tmp_path / "wh")]
    low_k += ["--date", RUN_DATE, "--k", "14"]
    # another configuration file for this run only (read at run time): it does not exist
    missing = tmp_path / "missing.yml"
    elsewhere = WARM_CLI.run(
        low_k, cli_environment({"PRIVACY_PIPELINE_CONFIG": str(missing)}), timeout=300
    )
    # the next run has the test's environment again: the shipped configuration, whose k
    # refuses --k 14
    shipped = WARM_CLI.run(low_k, cli_environment(), timeout=300)
    assert WARM_CLI.process.pid == pid
    assert first.returncode == elsewhere.returncode == shipped.returncode == 2
    assert f"configuration file not found: {missing}" in elsewhere.stderr, elsewhere.stderr
    assert "error: --k: k=14 is below the floor" in shipped.stderr, shipped.stderr
