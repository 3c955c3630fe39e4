"""dbt's unit tests (the models' logic on fixed inputs), run once in CI.

The nightly run leaves them out (``stages.transform``: dbt advises running unit tests in
development and CI only, their inputs being static); here they run against the empty
models of a tiny landing zone (``--empty``: the unit tests need the relations of the
models they test to exist, not their rows)."""

from __future__ import annotations

import json

from privacy_pipeline.dbt_runner import run_dbt, target_dir
from privacy_pipeline.landing import load_landing_zone
from privacy_pipeline.run_context import RunContext

from tests.support.landing import RUN_DATE, write_landing_zone


def test_every_dbt_unit_test_passes(tmp_path):
    landing = write_landing_zone(tmp_path / "landing", {})
    ctx = RunContext.create(landing, tmp_path / "warehouse", RUN_DATE)
    load_landing_zone(ctx)
    # run_dbt raises naming any unit test that fails or errors
    results = run_dbt(ctx, ["build", "--empty", "--exclude-resource-type", "test"])
    unit_tests = [r for r in results if str(r.node.resource_type) == "unit_test"]
    manifest = json.loads((target_dir(ctx) / "manifest.json").read_text())
    assert manifest["unit_tests"], "the project has no dbt unit test"
    assert sorted(r.node.unique_id for r in unit_tests) == sorted(manifest["unit_tests"])
    assert {str(r.status) for r in unit_tests} == {"pass"}
