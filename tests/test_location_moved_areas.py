"""A date published again after one cell row moved a postal code to another municipality.

Session 11's attack: two cells place postal code 6700 in Arlon and one in Wavre, so the
most accepted cells (Arlon) win and the third is quarantined (area_conflict). Release 1
publishes Arlon (group A in 6700 and group B in 6706) and withholds 6700, whose
difference with Arlon would count B, fewer than k. Then one of the Arlon rows is
re-delivered naming Wavre: Wavre wins, and group A now counts in Wavre; and late
events bring group C (as many as A) into 6706, so Arlon keeps its value (B and C).
Publishing 6700 (or Wavre) in release 2 would let a recipient holding both releases
compute Arlon (release 1) - 6700 (release 2) = |B|, and no value shows that anyone left
Arlon.

The inputs changed otherwise than by removals, so the re-publication is frozen
(privacy_pipeline.location.inputs): only values recipients hold are published again.
The republication gate, from its own digest of the inputs, stops a release model that
is not frozen (a mutated copy of the dbt project: exit 1, nothing new published).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.config import config_with_k
from tests.support.landing import (
    RUN_DATE,
    make_customers,
    network_events_for,
    ts,
    write_landing_zone,
)
from tests.support.pipeline import query, run_pipeline

REPO = Path(__file__).resolve().parents[1]
K = 15
GROUP_A, GROUP_B = 15, 3  # in 6700, in 6706 (fewer than k); group C: as many as A
AREAS = ("6700", "6706", "Arlon", "Wavre", "Luxembourg", "Brabant wallon")
RELEASE_MODEL = "models/intermediate/location/int_location__release.py"


def landing(root: Path, second_cell_in: tuple[str, str], late_events: bool) -> Path:
    customers = make_customers(2 * GROUP_A + GROUP_B, start=70_000, prefix="MV")
    group_a, group_b = customers[:GROUP_A], customers[GROUP_A : GROUP_A + GROUP_B]
    group_c = customers[GROUP_A + GROUP_B :] if late_events else []
    cell = {"lat": 49.68, "lon": 5.81}
    return write_landing_zone(
        root,
        {
            "+customers": customers,
            "+cells": [
                {"cell_id": "MV-1", "postal_code": "6700", "municipality": "Arlon",
                 "province": "Luxembourg", **cell},
                {"cell_id": "MV-2", "postal_code": "6700", "municipality": second_cell_in[0],
                 "province": second_cell_in[1], **cell},
                {"cell_id": "MV-3", "postal_code": "6700", "municipality": "Wavre",
                 "province": "Brabant wallon", **cell},
                {"cell_id": "MV-4", "postal_code": "6706", "municipality": "Arlon",
                 "province": "Luxembourg", **cell},
            ],
            "+network_events": [
                *network_events_for(group_a, "MV-2", ts(10, 15)),
                *network_events_for(group_b, "MV-4", ts(10, 20)),
                *network_events_for(group_c, "MV-4", ts(10, 25)),
            ],
        },
    )  # fmt: skip


def published(warehouse: Path) -> dict[tuple, int]:
    """(table, area key, hour) -> people, for the figures naming the areas of the attack."""
    figures = {}
    for table, area_column in (("presence_hourly", "area_id"), ("visitors_daily", "area_id")):
        hour = "hour_start" if table == "presence_hourly" else "null"
        rows = query(
            warehouse,
            f"select {area_column}, cast({hour} as varchar), people from location.{table} "
            "where run_date = cast(? as date)",
            [RUN_DATE],
        )
        for area, at, people in rows:
            if area in AREAS:
                figures[(table, area, at)] = people
    return figures


@pytest.fixture(scope="module")
def releases(tmp_path_factory):
    root = tmp_path_factory.mktemp("moved-areas")
    config = config_with_k(root / "config", K)
    first = landing(root / "L1", ("Arlon", "Luxembourg"), late_events=False)
    second = landing(root / "L2", ("Wavre", "Brabant wallon"), late_events=True)
    warehouse = root / "warehouse"
    result = run_pipeline(first, warehouse, RUN_DATE, config=config)
    assert result.returncode == 0, result.stdout[-3000:]
    release_1 = published(warehouse)
    # The mutated model gets its own copy of the warehouse holding release 1.
    mutated_warehouse = root / "warehouse-mutated"
    shutil.copytree(warehouse, mutated_warehouse, symlinks=True)
    result_2 = run_pipeline(second, warehouse, RUN_DATE, config=config)
    return {
        "root": root,
        "config": config,
        "second": second,
        "release_1": release_1,
        "result_2": result_2,
        "release_2": published(warehouse),
        "mutated_warehouse": mutated_warehouse,
    }


def test_release_1_publishes_arlon_and_withholds_6700(releases):
    arlon = [v for (t, area, _), v in releases["release_1"].items() if area == "Arlon"]
    assert GROUP_A + GROUP_B in arlon
    assert not any(area == "6700" for (_, area, _) in releases["release_1"])


def test_release_2_publishes_nothing_that_subtracts_to_the_people_of_6706(releases):
    assert releases["result_2"].returncode == 0, releases["result_2"].stdout[-3000:]
    held = set(releases["release_1"].values())
    for figure, value in releases["release_2"].items():
        for before in held:
            assert before - value == 0 or abs(before - value) >= K, (figure, value, before)


def test_the_republication_gate_stops_a_release_model_that_is_not_frozen(releases):
    root = releases["root"]
    project = root / "dbt-project-mutated"
    shutil.copytree(REPO / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs"))
    model = project / RELEASE_MODEL
    source = model.read_text()
    frozen = "frozen = bool(held) and inputs not in earlier_inputs(warehouse_dir, run_date)"
    assert frozen in source
    model.write_text(source.replace(frozen, "frozen = False"))
    warehouse = releases["mutated_warehouse"]
    result = run_pipeline(
        releases["second"],
        warehouse,
        RUN_DATE,
        config=releases["config"],
        env={"DBT_PROJECT_DIR": str(project)},
    )
    assert result.returncode == 1, result.stderr[-3000:]
    assert "no_republished_figure_differs_by_less_than_k" in result.stderr, result.stderr[-3000:]
    assert published(warehouse) == releases["release_1"]
