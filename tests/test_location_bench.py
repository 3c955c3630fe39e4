"""The benchmark's measuring machinery (the benchmark itself is `make bench`, never a test)."""

from __future__ import annotations

import sys

from privacy_pipeline.bench import (
    add_ratios,
    marginal_costs,
    markdown_table,
    measure,
    measure_python,
)


def test_each_stage_reports_its_own_peak_memory_and_exit_code():
    big = measure_python(
        "allocates 300 MB", "x = bytearray(300 * 1024 * 1024); x[::4096] = b'1' * len(x[::4096])"
    )
    small = measure("prints", [sys.executable, "-c", "print('hello')"])
    failing = measure_python("fails", "raise SystemExit('broken stage')")
    assert big["ok"] and big["peak_rss_mb"] >= 300
    assert small["ok"] and small["peak_rss_mb"] < 200  # not the previous child's peak
    assert not failing["ok"] and failing["exit_code"] == 1 and "broken stage" in failing["error"]
    assert big["wall_seconds"] >= 0 and big["cpu_seconds"] >= 0


def stage(name: str, wall: float, **extra) -> dict:
    return {"stage": name, "ok": True, "wall_seconds": wall, "cpu_seconds": 1.0,
            "peak_rss_mb": 100, **extra}  # fmt: skip


def test_ratios_and_table():
    results = {
        "customers": 10,
        "network_events": 100,
        "run_date": "2026-06-20",
        "cpus": 2,
        "started_at": "now",
        "measurements": [
            stage("network events staging", 10.0),
            stage("location stage (dbt build)", 30.0),
            stage("floor from the staged tables", 20.0, differences_from_the_run=0),
            stage("floor from the landing files", 25.0, differences_from_the_run=3),
            stage("whole nightly run", 50.0),
        ],
        "location_dbt_nodes": {
            "model.p.int_location__person_hours": 12.0,
            "model.p.presence_hourly": 1.0,
            "test.p.unique_x": 4.0,
        },
    }
    add_ratios(results)
    assert results["location_stage_vs_staged_floor"] == 1.5
    assert results["location_models_vs_staged_floor"] == 0.65
    assert results["location_path_vs_landing_floor"] == 1.6
    assert results["whole_run_vs_landing_floor"] == 2.0
    assert results["whole_run_vs_staged_floor"] == 2.5
    table = markdown_table(results)
    assert "| floor from the staged tables | 20.0 | 1.0 | 100 | yes |" in table
    assert "int_location__person_hours 12.0 s" in table and "tests 4.0 s" in table
    assert "floor from the landing files: 3 figures differ" in table


def test_a_failed_floor_gives_no_ratio():
    results = {
        "measurements": [
            stage("location stage (dbt build)", 30.0),
            {**stage("floor from the staged tables", 20.0), "ok": False},
            stage("whole nightly run", 50.0),
        ],
    }
    add_ratios(results)
    assert "location_stage_vs_staged_floor" not in results
    assert "whole_run_vs_staged_floor" not in results


def test_marginal_cost_per_event_between_two_sizes():
    def run(events: int, whole: float, floor: float) -> dict:
        return {"network_events": events, "measurements": [
            stage("whole nightly run", whole), stage("floor from the landing files", floor),
            {**stage("location stage (dbt build)", 9.0), "ok": False},
        ]}  # fmt: skip

    costs = marginal_costs(run(30_000_000, 90.0, 12.0), run(10_000_000, 50.0, 8.0))
    assert costs["network_events"] == [10_000_000, 30_000_000]
    whole = costs["stages"]["whole nightly run"]
    assert whole["wall_seconds"] == 2.0 and whole["wall_seconds_vs_floor"] == 10.0
    assert costs["stages"]["floor from the landing files"]["wall_seconds"] == 0.2
    assert "location stage (dbt build)" not in costs["stages"]  # failed: no figure
    table = markdown_table({**run(30_000_000, 90.0, 12.0), "customers": 1, "run_date": "D",
                            "cpus": 2, "started_at": "now", "marginal": costs,
                            "location_models_seconds": 0, "location_tests_seconds": 0})  # fmt: skip
    assert "| whole nightly run | 2.0 | 10.0 |" in table
    assert "between 10,000,000 and 30,000,000 network events" in table
