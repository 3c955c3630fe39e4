"""DST: a run date has 23 or 25 Brussels hours.

The autumn day (25 hours, one local hour twice) goes through the real DAG (k = 15); the
spring day's 23 hours are checked on the hour grid the location models count on
(int_location__run_hours, built by dbt), which saves a second DAG run.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tests.support.config import config_with_k
from tests.support.landing import make_customers, write_landing_zone
from tests.support.pipeline import query, run_pipeline

K = 15
BRUSSELS = ZoneInfo("Europe/Brussels")
SPRING_FORWARD = "2026-03-29"  # 02:00 -> 03:00: 23 hours
FALL_BACK = "2026-10-25"  # 03:00 -> 02:00: 25 hours, 02:00-03:00 twice


def local_day_bounds(day: str) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(), BRUSSELS)
    return start.astimezone(dt.UTC), (start + dt.timedelta(days=1)).astimezone(dt.UTC)


def hourly_sightings(people: list[dict], day: str) -> list[dict]:
    """Each person once every UTC hour from an hour before the local day to an hour after."""
    start, end = local_day_bounds(day)
    rows, moment = [], start - dt.timedelta(minutes=30)
    while moment < end + dt.timedelta(hours=1):
        rows += [
            {
                "msisdn": p["msisdn"],
                "cell_id": "CX-DST",
                "event_at": moment.isoformat().replace("+00:00", "Z"),
            }
            for p in people
        ]
        moment += dt.timedelta(hours=1)
    return rows


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    root = tmp_path_factory.mktemp("location-dst")
    people = make_customers(K, start=20_000, prefix="D")
    landing = write_landing_zone(
        root / "landing",
        {
            "+customers": people,
            "+cells": [
                {
                    "cell_id": "CX-DST",
                    "postal_code": "4001",
                    "municipality": "Dstville",
                    "province": "Prov Dst",
                    "lat": 50.6,
                    "lon": 5.6,
                }
            ],
            "+network_events": hourly_sightings(people, FALL_BACK),
        },
    )
    result = run_pipeline(landing, root / "warehouse", FALL_BACK, config=config_with_k(root, K))
    assert result.returncode == 0, (result.stdout[-3000:], result.stderr[-5000:])
    return root / "warehouse"


@pytest.fixture(scope="module")
def spring_hours(tmp_path_factory) -> list[tuple[int, dt.datetime]]:
    """(hour_index, hour_start) of int_location__run_hours for the spring-forward day."""
    import duckdb
    from privacy_pipeline.dbt_runner import run_dbt
    from privacy_pipeline.run_context import RunContext

    root = tmp_path_factory.mktemp("location-dst-spring")
    ctx = RunContext.create(root, root / "warehouse", SPRING_FORWARD)
    run_dbt(ctx, ["run", "--select", "+int_location__run_hours"])
    # dbt-duckdb keeps its (read-write) connection open in this process: share it.
    con = duckdb.connect(str(ctx.candidate_db))
    try:
        return con.execute(
            "select hour_index, hour_start from intermediate.int_location__run_hours "
            "order by hour_index"
        ).fetchall()
    finally:
        con.close()


def published_hours(warehouse, day: str) -> list[dt.datetime]:
    rows = query(
        warehouse,
        "select hour_start, people from location.presence_hourly "
        "where area_level = 'postal_code' and area_id = '4001' and run_date = ? "
        "order by hour_start",
        [day],
    )
    assert all(people == K for _, people in rows)
    return [start.astimezone(dt.UTC) for start, _ in rows]


def test_fall_back_day_has_25_hours(warehouse):
    starts = published_hours(warehouse, FALL_BACK)
    first, end = local_day_bounds(FALL_BACK)
    assert starts == [first + dt.timedelta(hours=i) for i in range(25)]
    assert starts[-1] + dt.timedelta(hours=1) == end


def test_the_repeated_hour_of_fall_back_is_published_twice(warehouse):
    local = [start.astimezone(BRUSSELS) for start in published_hours(warehouse, FALL_BACK)]
    two_am = [start for start in local if start.hour == 2]
    assert len(two_am) == 2
    assert {start.utcoffset() for start in two_am} == {
        dt.timedelta(hours=2),
        dt.timedelta(hours=1),
    }


def test_spring_forward_day_has_23_hours_without_2_am(spring_hours):
    first, end = local_day_bounds(SPRING_FORWARD)
    assert [index for index, _ in spring_hours] == list(range(23))
    starts = [start.astimezone(dt.UTC) for _, start in spring_hours]
    assert starts == [first + dt.timedelta(hours=i) for i in range(23)]
    assert starts[-1] + dt.timedelta(hours=1) == end
    local_hours = [start.astimezone(BRUSSELS).hour for start in starts]
    assert local_hours == [0, 1, *range(3, 24)]
