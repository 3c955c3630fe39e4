"""The DAG file imports cleanly and has the documented shape."""

from __future__ import annotations

import pytest
from privacy_pipeline.airflow_runner import DAG_FILE, DAG_ID


@pytest.fixture(scope="module")
def dag_bag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAG_FILE))


def test_dag_file_imports_without_errors(dag_bag):
    assert dag_bag.import_errors == {}
    assert DAG_ID in dag_bag.dag_ids


def test_one_run_per_brussels_day(dag_bag):
    dag = dag_bag.dags[DAG_ID]
    timetable = dag.timetable
    assert str(timetable._timezone.name) == "Europe/Brussels"
    assert timetable._expression == "0 0 * * *"
    assert dag.catchup is False
    assert dag.max_active_runs == 1


def test_tasks_visible_per_stage_in_order(dag_bag):
    dag = dag_bag.dags[DAG_ID]
    task_ids = set(dag.task_ids)
    for expected in [
        "load_landing",
        "transform.dbt_build",
        "privacy_gates.gate_personal_data",
        "publish",
        "reports",
    ]:
        assert expected in task_ids
    publish = dag.get_task("publish")
    assert {t for t in publish.upstream_task_ids if t.startswith("privacy_gates.")} == {
        t for t in task_ids if t.startswith("privacy_gates.")
    }
    assert (
        "transform.dbt_build" in dag.get_task("privacy_gates.gate_personal_data").upstream_task_ids
    )
    assert dag.get_task("reports").trigger_rule == "all_done"


def test_params_have_environment_defaults_and_a_safe_k(dag_bag):
    dag = dag_bag.dags[DAG_ID]
    params = dag.params
    assert {"landing_dir", "warehouse_dir", "k", "run_date"} <= set(params.keys())
    assert params.get_param("k").schema["minimum"] == 15
