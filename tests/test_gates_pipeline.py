"""Through the real DAG and CLI: a gate failure stops the run with exit 1, publishes nothing.

A "model bug" is simulated by a wrapper around ``privacy-pipeline run`` that, right after
the marts are built (and their dbt tests passed), changes the candidate output the way a
faulty model would. The gates must catch it, the run must exit 1 with the failed
expectations and counts, and the previous publication must stay exactly as it was.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from privacy_pipeline.gates import load_suite

from tests.support.landing import C_SCARLET_MIGRATED, RUN_DATE, write_landing_zone
from tests.test_gates_candidates import published_state

RUN_WITH_A_MODEL_BUG = """
import sys
import duckdb
from privacy_pipeline import stages
from privacy_pipeline.cli import main

bug = sys.argv[1]
build = stages.transform

def transform_with_a_bug(ctx):
    layers = build(ctx)
    if bug:
        con = duckdb.connect(str(ctx.candidate_db))
        try:
            con.execute(bug)
        finally:
            con.close()
    return layers

stages.transform = transform_with_a_bug
sys.exit(main(sys.argv[2:]))
"""


def run_with_bug(landing, warehouse, bug: str = "") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    args = ["run", "--landing", str(landing), "--warehouse", str(warehouse), "--date", RUN_DATE]
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(RUN_WITH_A_MODEL_BUG), bug, *args],
        capture_output=True, text=True, env=env, timeout=900, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """A warehouse with one clean publication of the baseline landing zone."""
    root = tmp_path_factory.mktemp("pipeline")
    write_landing_zone(root / "landing", {})
    first = run_with_bug(root / "landing", root / "warehouse")
    assert first.returncode == 0, first.stderr[-5000:]
    return root


MARKETING_BUG = (
    "insert into marketing.segment_members values "
    f"('standard_offers', '{C_SCARLET_MIGRATED}', date '{RUN_DATE}')"
)
LOCATION_BUG = (
    "insert into location.presence_hourly values "
    f"('postal_code', '2000', timestamptz '{RUN_DATE} 09:00:00+02', 3, date '{RUN_DATE}')"
)


@pytest.mark.airflow
def test_model_bugs_fail_the_run_with_exit_1_and_keep_the_publication(published):
    warehouse = published / "warehouse"
    before = published_state(warehouse)
    result = run_with_bug(published / "landing", warehouse, f"{MARKETING_BUG}; {LOCATION_BUG}")
    assert result.returncode == 1, result.stderr[-5000:]
    # every failed gate is listed with its failed expectations and counts
    marketing_promises = len(load_suite("marketing").promises)
    assert (
        f"privacy gate 'marketing' failed: 1 of {marketing_promises} expectations failed"
        in result.stderr
    )
    assert "no_direct_marketing_objection_in_marketing: 1 of " in result.stderr
    assert "privacy gate 'location' failed" in result.stderr
    assert "every_people_count_is_at_least_k: 1 of " in result.stderr
    assert "NOT PUBLISHED: a privacy gate failed" in result.stdout
    assert published_state(warehouse) == before
    report = (warehouse / "reports" / "runs" / f"{RUN_DATE}.html").read_text(encoding="utf-8")
    assert "NOT PUBLISHED: privacy gate failed (marketing, location)" in report
