"""DST: a run date has 23 or 25 Brussels hours, through the real DAG (two runs, k = 15)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

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
            "+network_events": hourly_sightings(people, SPRING_FORWARD)
            + hourly_sightings(people, FALL_BACK),
        },
    )
    for day in (SPRING_FORWARD, FALL_BACK):
        result = run_pipeline(landing, root / "warehouse", day, k=K)
        assert result.returncode == 0, (day, result.stdout[-3000:], result.stderr[-5000:])
    return root / "warehouse"


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


@pytest.mark.parametrize(("day", "hours"), [(SPRING_FORWARD, 23), (FALL_BACK, 25)])
def test_dst_day_has_the_right_number_of_hours(warehouse, day, hours):
    starts = published_hours(warehouse, day)
    first, end = local_day_bounds(day)
    assert starts == [first + dt.timedelta(hours=i) for i in range(hours)]
    assert starts[-1] + dt.timedelta(hours=1) == end


def test_the_repeated_hour_of_fall_back_is_published_twice(warehouse):
    local = [start.astimezone(BRUSSELS) for start in published_hours(warehouse, FALL_BACK)]
    two_am = [start for start in local if start.hour == 2]
    assert len(two_am) == 2
    assert {start.utcoffset() for start in two_am} == {dt.timedelta(hours=2), dt.timedelta(hours=1)}


def test_the_skipped_hour_of_spring_forward_does_not_exist(warehouse):
    local = [start.astimezone(BRUSSELS) for start in published_hours(warehouse, SPRING_FORWARD)]
    assert [start.hour for start in local] == [0, 1, *range(3, 24)]
