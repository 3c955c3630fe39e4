"""Visitors, origins and movements through the real DAG on one hand-made landing zone
(one run, k = 15, several assertions).

Each scenario has its own province (and its own people), so the figures of one cannot
change those of another. Homes are in Homeville (postal code 4900), where nobody is seen,
unless said. Times are Brussels summer time (+02:00) on the run date.
"""

from __future__ import annotations

import pytest
from privacy_pipeline.location.disclosure import is_safe_difference

from tests.support.config import config_with_k
from tests.support.landing import (
    RUN_DATE,
    consent_events_for,
    make_customers,
    network_events_for,
    write_landing_zone,
)
from tests.support.pipeline import query, run_pipeline

K = 15
HOME = "4900"  # Homeville, Prov Home
FAR_HOME = "4950"  # Farville, Prov Far


def cell(cell_id: str, postal_code: str, municipality: str, province: str) -> dict:
    return {
        "cell_id": cell_id,
        "postal_code": postal_code,
        "municipality": municipality,
        "province": province,
        "lat": 50.8,
        "lon": 4.3,
    }


def at(hour: int, minute: int = 0, second: int = 0) -> str:
    return f"{RUN_DATE}T{hour:02d}:{minute:02d}:{second:02d}+02:00"


def scenario_tables() -> dict[str, list[dict]]:
    customers, events, preferences = [], [], []
    next_number = [20_000]

    def people(n: int, home: str = HOME) -> list[dict]:
        rows = make_customers(n, start=next_number[0], prefix="V", postal_code=home)
        next_number[0] += n
        customers.extend(rows)
        return rows

    def seen(group, cell_id, instant):
        events.extend(network_events_for(group, cell_id, instant))

    cells = [
        cell("CV-HOME", HOME, "Homeville", "Prov Home"),
        cell("CV-FAR", FAR_HOME, "Farville", "Prov Far"),
    ]

    # A stay just under (29:59) and just over (30:00) the minimum, in one postal code.
    cells += [cell("CV-STAY", "4001", "Stayville", "Prov Stay")]
    under, over = people(K), people(K)
    seen(under, "CV-STAY", at(10))
    seen(under, "CV-STAY", at(10, 29, 59))
    seen(over, "CV-STAY", at(10))
    seen(over, "CV-STAY", at(10, 30))

    # Residents of Resville also seen an hour in Awayville (same province).
    cells += [
        cell("CV-RES", "4101", "Resville", "Prov Res"),
        cell("CV-AWAY", "4102", "Awayville", "Prov Res"),
    ]
    residents = people(K, home="4101")
    seen(residents, "CV-RES", at(8))
    seen(residents, "CV-AWAY", at(12))
    seen(residents, "CV-AWAY", at(13))

    # Seen in two municipalities within one hour (10:05 and 10:35), one province.
    cells += [
        cell("CV-HOP-A", "4201", "Hopville", "Prov Hop"),
        cell("CV-HOP-B", "4202", "Hopburg", "Prov Hop"),
    ]
    hoppers = people(K)
    seen(hoppers, "CV-HOP-A", at(10, 5))
    seen(hoppers, "CV-HOP-B", at(10, 35))

    # A -> B -> A: Loopville (05:30), Backville in another province (06:00), Loopville
    # again (20:00). The return interrupts nothing: Loopville has two stays of 0 minutes.
    cells += [
        cell("CV-LOOP-A", "4301", "Loopville", "Prov Loop"),
        cell("CV-LOOP-B", "4302", "Backville", "Prov Loop B"),
    ]
    loopers = people(K)
    seen(loopers, "CV-LOOP-A", at(5, 30))
    seen(loopers, "CV-LOOP-B", at(6))
    seen(loopers, "CV-LOOP-A", at(20))

    # k - 1 visitors and one objector: the objector tips every figure below k.
    cells += [cell("CV-OBJ", "4401", "Objville", "Prov Obj")]
    stayers = people(K - 1)
    objector = people(1)
    preferences += consent_events_for(objector, "location_analytics", "opt_out", prefix="VOB")
    for group in (stayers, objector):
        seen(group, "CV-OBJ", at(10))
        seen(group, "CV-OBJ", at(11))

    # 23 visitors: 20 from Homeville, 3 from Farville. The Farville origin (3) is below
    # k, and 23 - 20 would reveal it: the Homeville origin must go too.
    cells += [cell("CV-ORIG", "4501", "Origville", "Prov Orig")]
    near, far = people(20), people(3, home=FAR_HOME)
    for group in (near, far):
        seen(group, "CV-ORIG", at(10))
        seen(group, "CV-ORIG", at(11))

    return {
        "+customers": customers,
        "+cells": cells,
        "+network_events": events,
        "+privacy_preferences": preferences,
    }


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    root = tmp_path_factory.mktemp("visitors")
    landing = write_landing_zone(root / "landing", scenario_tables())
    result = run_pipeline(landing, root / "warehouse", RUN_DATE, config=config_with_k(root, K))
    assert result.returncode == 0, (result.stdout[-3000:], result.stderr[-5000:])
    return root / "warehouse"


def classes(warehouse, level: str, area: str) -> dict[str, int]:
    rows = query(
        warehouse,
        "select visitor_class, people from location.visitors_daily "
        "where area_level = ? and area_id = ? and run_date = ?",
        [level, area, RUN_DATE],
    )
    return dict(rows)


def origins(warehouse, level: str, area: str) -> dict[tuple[str, str], int]:
    rows = query(
        warehouse,
        "select origin_level, origin_area_id, people from location.visitor_origin "
        "where area_level = ? and area_id = ? and run_date = ?",
        [level, area, RUN_DATE],
    )
    return {(origin_level, origin): people for origin_level, origin, people in rows}


def flows(warehouse, level: str) -> dict[tuple[str, str, str], int]:
    rows = query(
        warehouse,
        "select origin_area_id, destination_area_id, time_band, people from location.od_flows "
        "where area_level = ? and run_date = ?",
        [level, RUN_DATE],
    )
    return {(origin, destination, band): people for origin, destination, band, people in rows}


def test_a_stay_just_under_the_minimum_is_transit_and_just_over_is_a_visit(warehouse):
    for level, area in (("postal_code", "4001"), ("municipality", "Stayville")):
        assert classes(warehouse, level, area) == {"transit": K, "visitor": K}
    assert origins(warehouse, "postal_code", "4001") == {
        ("municipality", "Homeville"): K,
        ("province", "Prov Home"): K,
    }


def test_a_resident_seen_elsewhere_is_resident_at_home_and_a_visitor_there(warehouse):
    assert classes(warehouse, "postal_code", "4101") == {"resident": K}
    assert classes(warehouse, "postal_code", "4102") == {"visitor": K}
    assert classes(warehouse, "municipality", "Awayville") == {"visitor": K}
    # the province holds both: they live in it
    assert classes(warehouse, "province", "Prov Res") == {"resident": K}
    assert origins(warehouse, "municipality", "Awayville") == {
        ("municipality", "Resville"): K,
        ("province", "Prov Res"): K,
    }
    assert origins(warehouse, "postal_code", "4101") == {}  # residents have no origin row
    assert flows(warehouse, "municipality")[("Resville", "Awayville", "midday")] == K
    assert not any(origin == "Prov Res" for origin, _, _ in flows(warehouse, "province"))


def test_two_areas_within_one_hour(warehouse):
    hour_10 = query(
        warehouse,
        "select area_id, people from location.presence_hourly where run_date = ? "
        "and area_id in ('4201', '4202') and extract(hour from hour_start at time zone "
        "'Europe/Brussels') = 10",
        [RUN_DATE],
    )
    assert dict(hour_10) == {"4201": K, "4202": K}
    assert classes(warehouse, "municipality", "Hopville") == {"transit": K}
    assert classes(warehouse, "municipality", "Hopburg") == {"transit": K}
    # 10:05 to 10:35 in one province: a stay of 30 minutes there
    assert classes(warehouse, "province", "Prov Hop") == {"visitor": K}
    assert flows(warehouse, "municipality")[("Hopville", "Hopburg", "midday")] == K


def test_an_a_b_a_day_makes_two_moves_and_no_stay(warehouse):
    municipality, province = flows(warehouse, "municipality"), flows(warehouse, "province")
    assert municipality[("Loopville", "Backville", "morning")] == K  # arrival 06:00
    assert municipality[("Backville", "Loopville", "late")] == K  # arrival 20:00
    assert province[("Prov Loop", "Prov Loop B", "morning")] == K
    assert province[("Prov Loop B", "Prov Loop", "late")] == K
    assert classes(warehouse, "municipality", "Loopville") == {"transit": K}
    assert classes(warehouse, "municipality", "Backville") == {"transit": K}
    # no move inside an area, no move from night (05:30 is the first event of the day)
    every_flow = query(
        warehouse,
        "select count(*) from location.od_flows where origin_area_id = destination_area_id",
    )
    assert every_flow == [(0,)]


def test_an_objector_tips_the_visitors_below_k(warehouse):
    assert classes(warehouse, "postal_code", "4401") == {}
    assert classes(warehouse, "province", "Prov Obj") == {}
    summary = dict(
        query(
            warehouse,
            "select area_level, suppressed_below_k from location.suppression_summary "
            "where table_name = 'visitors_daily' and run_date = ?",
            [RUN_DATE],
        )
    )
    assert summary["postal_code"] >= 1 and summary["province"] >= 1


def test_an_origin_is_protected_against_subtraction_from_the_visitors(warehouse):
    assert classes(warehouse, "postal_code", "4501") == {"visitor": 23}
    assert origins(warehouse, "postal_code", "4501") == {}  # 20 would reveal 23 - 20 = 3
    assert origins(warehouse, "municipality", "Origville") == {}
    complementary = query(
        warehouse,
        "select suppressed_complementary from location.suppression_summary "
        "where table_name = 'visitor_origin' and area_level = 'postal_code' and run_date = ?",
        [RUN_DATE],
    )
    assert complementary[0][0] >= 2  # Homeville and Prov Home


def test_no_area_s_visitors_minus_its_published_origins_reveals_fewer_than_k(warehouse):
    visitors = query(
        warehouse,
        "select area_level, area_id, people from location.visitors_daily "
        "where visitor_class = 'visitor' and run_date = ?",
        [RUN_DATE],
    )
    for level, area, total in visitors:
        for origin_level in ("municipality", "province"):
            published = sum(
                people
                for (o_level, _), people in origins(warehouse, level, area).items()
                if o_level == origin_level
            )
            assert is_safe_difference(total - published, K) or published == 0, (level, area)
    smallest = query(
        warehouse,
        "select min(people) from (select people from location.visitors_daily "
        "union all select people from location.visitor_origin "
        "union all select people from location.od_flows)",
    )
    assert smallest[0][0] >= K


def test_the_gate_recounts_and_audits_the_new_tables(warehouse):
    rows = query(
        warehouse,
        "select expectation, success from dpo.gate_results where suite = 'location' "
        "and run_date = ?",
        [RUN_DATE],
    )
    results = dict(rows)
    assert results["counts_are_the_people_who_may_be_counted"] is True
    assert results["no_difference_of_published_figures_reveals_fewer_than_k"] is True
    assert results["every_people_count_is_at_least_k"] is True


def test_the_release_ledger_holds_the_new_figures_as_published(warehouse):
    import duckdb
    from privacy_pipeline.location.ledger import ledger_file

    con = duckdb.connect(str(ledger_file(warehouse)), read_only=True)
    try:
        recorded = dict(
            con.execute(
                "select table_name, count(*) from location_release_ledger "
                "where run_date = ? group by table_name",
                [RUN_DATE],
            ).fetchall()
        )
    finally:
        con.close()
    for table in ("visitors_daily", "visitor_origin", "od_flows"):
        published = query(warehouse, f"select count(*) from location.{table}")[0][0]
        assert recorded[table] == published > 0
