"""Every exit code of ``privacy-pipeline run`` means what the README says, through the CLI.

0 published, 1 a privacy gate failed, 2 unusable input or an unsafe setting, 3 any other
failure. The refusals (2) happen before the DAG starts, so these tests are cheap; the runs
that publish (0) and that fail a gate (1) are in tests/test_hostile_inputs.py (a hostile
night publishes), tests/test_end_to_end.py and tests/test_operations.py.
"""

from __future__ import annotations

import pytest
from privacy_pipeline.cli import main
from privacy_pipeline.config import (
    DEMO_DATA_MARKER,
    DEMO_PSEUDONYM_KEY,
    ENV_CONFIG,
    ENV_K,
    ENV_PSEUDONYM_KEY,
    load_config,
)
from privacy_pipeline.errors import ConfigError
from privacy_pipeline.run_context import RunContext
from privacy_pipeline.stages import resolve_context

from tests.support.config import config_with_k
from tests.support.landing import RUN_DATE, write_landing_zone
from tests.support.pipeline import run_cli


def run_args(tmp_path, *extra: str) -> list[str]:
    landing = tmp_path / "landing"
    landing.mkdir(exist_ok=True)
    return ["run", "--landing", str(landing), "--warehouse", str(tmp_path / "wh"),
            "--date", RUN_DATE, *extra]  # fmt: skip


# ------------------------------------------------------------------ 2: a real pseudonym key


def test_a_run_without_a_pseudonym_key_is_refused_with_exit_2(tmp_path):
    write_landing_zone(tmp_path / "landing", {})
    result = run_cli(*run_args(tmp_path), env={ENV_PSEUDONYM_KEY: None})
    assert result.returncode == 2, result.stderr[-3000:]
    assert ENV_PSEUDONYM_KEY in result.stderr
    assert not (tmp_path / "wh" / "warehouse.duckdb").exists()


@pytest.mark.parametrize("key", ["", DEMO_PSEUDONYM_KEY])
def test_an_empty_or_public_key_is_no_key(tmp_path, monkeypatch, capsys, key):
    monkeypatch.setenv(ENV_PSEUDONYM_KEY, key)
    assert main(run_args(tmp_path)) == 2
    assert ENV_PSEUDONYM_KEY in capsys.readouterr().err


def test_the_dag_refuses_too_and_records_why(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_PSEUDONYM_KEY)
    (tmp_path / "landing").mkdir()
    params = {"landing_dir": str(tmp_path / "landing"), "warehouse_dir": str(tmp_path / "wh"),
              "run_date": RUN_DATE, "k": None}  # fmt: skip
    with pytest.raises(ConfigError, match=ENV_PSEUDONYM_KEY):
        resolve_context(params, None, "manual__test")
    failures = (tmp_path / "wh" / "runs" / RUN_DATE / "failures.jsonl").read_text()
    assert '"exit_code": 2' in failures and ENV_PSEUDONYM_KEY in failures


def test_demo_data_is_marked_and_runs_without_a_key(tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    generated = run_cli("demo-data", "--landing", str(landing), "--customers", "30",
                        "--events-per-customer", "2")  # fmt: skip
    assert generated.returncode == 0, generated.stderr[-3000:]
    assert (landing / DEMO_DATA_MARKER).is_file()
    monkeypatch.delenv(ENV_PSEUDONYM_KEY)
    ctx = RunContext.create(landing, tmp_path / "wh", RUN_DATE)
    assert ctx.landing_dir == landing.resolve()
    # The marker is not a landing table: the loader skips files starting with "_".
    from privacy_pipeline.landing import load_landing_zone

    ctx.run_dir.mkdir(parents=True)
    assert DEMO_DATA_MARKER.lstrip("_") not in load_landing_zone(ctx)


# ------------------------------------------------------------------ 2: k is the DPO's


def test_a_lower_k_than_the_configured_one_is_refused_naming_the_file(tmp_path, capsys):
    assert main(run_args(tmp_path, "--k", "20")) == 2
    err = capsys.readouterr().err
    assert "location.k in" in err and "pipeline.yml" in err and "k=20" in err


def test_pipeline_k_from_the_environment_may_not_lower_k_either(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(ENV_K, "16")
    assert main(run_args(tmp_path)) == 2
    assert ENV_K in capsys.readouterr().err


def test_k_may_be_raised(tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    landing.mkdir()
    assert RunContext.create(landing, tmp_path / "wh", RUN_DATE, k=45).k == 45
    monkeypatch.setenv(ENV_K, "40")
    assert RunContext.create(landing, tmp_path / "wh", RUN_DATE).k == 40
    assert RunContext.create(landing, tmp_path / "wh", RUN_DATE, k=35).k == 35


def test_the_configured_k_is_the_floor_whatever_it_is(tmp_path, monkeypatch, capsys):
    config = config_with_k(tmp_path / "config", 20)
    monkeypatch.setenv(ENV_CONFIG, str(config))
    landing = tmp_path / "landing"
    landing.mkdir()
    assert RunContext.create(landing, tmp_path / "wh", RUN_DATE).k == 20
    assert main(run_args(tmp_path, "--k", "15")) == 2
    assert str(config) in capsys.readouterr().err


def test_the_dag_param_k_may_not_lower_k(tmp_path):
    (tmp_path / "landing").mkdir()
    params = {"landing_dir": str(tmp_path / "landing"), "warehouse_dir": str(tmp_path / "wh"),
              "run_date": RUN_DATE, "k": 15}  # fmt: skip
    with pytest.raises(ConfigError, match="the DAG param k"):
        resolve_context(params, None, "manual__test")


def test_no_context_holds_a_k_below_the_configured_one(tmp_path):
    with pytest.raises(ConfigError, match="location.k"):
        RunContext(tmp_path, tmp_path / "wh", RUN_DATE, k=15, config=load_config())


# ------------------------------------------------------------------ 3
# (2 for a broken landing contract: tests/test_landing_contract.py, through the CLI)


def test_any_other_failure_is_exit_3_never_1(tmp_path):
    write_landing_zone(tmp_path / "landing", {})
    warehouse = tmp_path / "wh"
    warehouse.write_text("a file where the warehouse folder should be")
    result = run_cli(*run_args(tmp_path))
    assert result.returncode == 3, result.stderr[-3000:]
