"""The dbt parse cache shared by runs, and the per-layer times of the one dbt build of a
run (the dbt runs themselves are in the DAG tests)."""

from __future__ import annotations

import datetime as dt
import os
import time
from types import SimpleNamespace

import pytest
from privacy_pipeline.config import load_config
from privacy_pipeline.dbt_runner import (
    dbt_environment,
    keep_parsed_project,
    layer_lines,
    layer_timings,
    parse_cache_file,
    restore_parsed_project,
)
from privacy_pipeline.run_context import RunContext

from tests.support.config import config_with_k


def test_a_new_run_starts_from_the_cached_parse_and_leaves_its_own(tmp_path):
    cached, saved = tmp_path / "cache" / "partial_parse-x.msgpack", tmp_path / "run" / "p.msgpack"
    restore_parsed_project(cached, saved)  # nothing cached yet: nothing to do
    assert not saved.exists()
    saved.parent.mkdir()
    saved.write_bytes(b"first parse")
    keep_parsed_project(saved, cached)
    assert cached.read_bytes() == b"first parse"

    next_run = tmp_path / "next" / "p.msgpack"
    restore_parsed_project(cached, next_run)
    assert next_run.read_bytes() == b"first parse"
    next_run.write_bytes(b"re-parsed")  # dbt writes a newer parse
    os.utime(next_run, (time.time() + 5, time.time() + 5))
    keep_parsed_project(next_run, cached)
    assert cached.read_bytes() == b"re-parsed"
    assert [p.name for p in cached.parent.iterdir()] == [cached.name]  # no partial file left


def test_parses_of_old_configurations_are_dropped(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    stale = cache / "partial_parse-old.msgpack"
    stale.write_bytes(b"old")
    os.utime(stale, (time.time() - 8 * 86400, time.time() - 8 * 86400))
    saved = tmp_path / "p.msgpack"
    saved.write_bytes(b"new")
    keep_parsed_project(saved, cache / "partial_parse-new.msgpack")
    assert sorted(p.name for p in cache.iterdir()) == ["partial_parse-new.msgpack"]


def test_runs_share_vars_and_cache_whatever_their_date_and_k(tmp_path, monkeypatch):
    monkeypatch.delenv("PRIVACY_PIPELINE_DBT_PARSE_CACHE", raising=False)
    one = RunContext.create(tmp_path, tmp_path / "wh", "2026-06-20", k=30)
    low_k = load_config(config_with_k(tmp_path / "config", 15))
    other = RunContext.create(tmp_path, tmp_path / "wh", "2026-06-21", k=15, config=low_k)
    assert one.dbt_vars() == other.dbt_vars()
    assert parse_cache_file(one) == parse_cache_file(other)
    assert parse_cache_file(one).parent == tmp_path / "wh" / "dbt-parse-cache"
    environment = dbt_environment(other)
    assert environment["PRIVACY_PIPELINE_DBT_RUN_DATE"] == "2026-06-21"
    assert environment["PRIVACY_PIPELINE_DBT_K"] == "15"


def test_dbt_gets_the_memory_cap_from_config_or_the_operator(tmp_path, monkeypatch):
    """profiles.yml has no default of its own: the cap is config's, like the gates'."""
    ctx = RunContext.create(tmp_path, tmp_path / "wh", "2026-06-20", k=30)
    monkeypatch.delenv("PRIVACY_PIPELINE_DUCKDB_MEMORY_LIMIT", raising=False)
    assert dbt_environment(ctx)["PRIVACY_PIPELINE_DUCKDB_MEMORY_LIMIT"] == "4GB"
    monkeypatch.setenv("PRIVACY_PIPELINE_DUCKDB_MEMORY_LIMIT", "1500MB")
    assert dbt_environment(ctx)["PRIVACY_PIPELINE_DUCKDB_MEMORY_LIMIT"] == "1500MB"


def test_failing_data_tests_alone_are_a_failed_check_exit_1(monkeypatch, tmp_path):
    """A model bug caught by a dbt data test must not read as a crash (exit 3): nothing is
    published, as when a gate fails (exit 1). A model that cannot build stays exit 3."""
    from types import SimpleNamespace

    from privacy_pipeline import dbt_runner

    def fake_runner(results):
        class Runner:
            def __init__(self, callbacks=None):
                pass

            def invoke(self, args):
                return SimpleNamespace(success=False, exception=None,
                                       result=SimpleNamespace(results=results))  # fmt: skip

        return Runner

    def node(status, resource_type):
        dbt_node = SimpleNamespace(unique_id=f"{resource_type}.x", resource_type=resource_type)
        return SimpleNamespace(status=status, message="m", node=dbt_node)

    ctx = RunContext.create(tmp_path, tmp_path / "wh", "2026-06-20")
    import dbt.cli.main

    monkeypatch.setattr(
        dbt.cli.main, "dbtRunner", fake_runner([node("fail", "test"), node("skipped", "model")])
    )
    with pytest.raises(dbt_runner.DbtChecksFailed) as failed:
        dbt_runner.run_dbt(ctx, ["build"])
    assert failed.value.exit_code == 1
    monkeypatch.setattr(
        dbt.cli.main, "dbtRunner", fake_runner([node("fail", "test"), node("error", "model")])
    )
    with pytest.raises(dbt_runner.DbtFailed) as crashed:
        dbt_runner.run_dbt(ctx, ["build"])
    assert crashed.value.exit_code == 3


def node_result(unique_id, fqn, resource_type, start, end, parents=()):
    at = dt.datetime(2026, 6, 21, 2, 0, tzinfo=dt.UTC)
    timing = SimpleNamespace(
        started_at=at + dt.timedelta(seconds=start), completed_at=at + dt.timedelta(seconds=end)
    )
    node = SimpleNamespace(
        unique_id=unique_id,
        fqn=fqn,
        resource_type=resource_type,
        depends_on=SimpleNamespace(nodes=list(parents)),
    )
    return SimpleNamespace(node=node, timing=[timing])


def test_each_layer_of_one_dbt_build_gets_its_time_models_and_tests():
    results = [
        node_result("model.p.stg_a", ["p", "staging", "crm", "stg_a"], "model", 0, 4),
        node_result("model.p.stg_b", ["p", "staging", "network", "stg_b"], "model", 1, 6),
        # a test of a staging model whose yml is in the staging folder
        node_result("test.p.not_null_a", ["p", "staging", "crm", "t"], "test", 6, 7,
                    ["model.p.stg_a"]),
        node_result("model.p.int_c", ["p", "intermediate", "int_c"], "model", 7, 10,
                    ["model.p.stg_a"]),
        # a singular test reading a staging and a marts model runs with the marts
        node_result("test.p.reconcile", ["p", "reconcile"], "test", 12, 13,
                    ["model.p.stg_b", "model.p.mart_d"]),
        node_result("model.p.mart_d", ["p", "marts", "dpo", "mart_d"], "model", 10, 12),
        node_result("unit_test.p.int_c.u", ["p", "intermediate", "u"], "unit_test", 6.5, 7,
                    ["model.p.int_c"]),
    ]  # fmt: skip
    timings = layer_timings(results, ("staging", "intermediate", "marts"))
    assert timings == {
        "staging": {"seconds": 7.0, "models": 2, "tests": 1},
        "intermediate": {"seconds": 3.5, "models": 1, "tests": 1},
        "marts": {"seconds": 3.0, "models": 1, "tests": 1},
    }
    lines = layer_lines(timings)
    assert [line.split()[0] for line in lines] == ["staging", "intermediate", "marts"]
    assert lines[0].endswith("7.0 s  (2 models, 1 tests)")
