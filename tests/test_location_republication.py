"""A date published, then published again after one more objection: everything a
recipient could hold from both releases (the published tables and every file under
exports/) is compared by brute force with the true sets of people of each release.

The landing zone carries the attack classes of the disclosure issue: an event whose
cells lie in two provinces, two nested events in one cell, and an event whose total
minus its published hours would count the few people of a suppressed hour.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest
from privacy_pipeline.location.disclosure import PUBLISHED

from tests.support.config import config_with_k
from tests.support.landing import (
    RUN_DATE,
    consent_events_for,
    make_customers,
    network_events_for,
    ts,
    write_landing_zone,
)
from tests.support.pipeline import run_pipeline
from tests.test_location_disclosure import union_of_releases, violations

K = 15
CELLS = {  # cell -> postal code, municipality, province
    "R-A1": ("5000", "Repville", "Prov Rep"),
    "R-A2": ("5001", "Repville", "Prov Rep"),
    "R-B1": ("6000", "Farville", "Prov Far"),
}
EVENTS = {  # event -> cells, first instant, last instant (inclusive)
    "SPAN": (("R-A1", "R-B1"), (14, 30), (15, 0)),
    "WHOLE": (("R-A2",), (14, 0), (14, 59)),
    "HALF": (("R-A2",), (14, 30), (14, 59)),
    "LONG": (("R-A2",), (10, 0), (12, 59)),
}


def scenario() -> tuple[list[dict], list[tuple[str, str, int, int]]]:
    """Customers, and sightings (customer id, cell, hour, minute)."""
    customers = make_customers(20 + 17 + 16 + 16 + 2, start=50_000, prefix="R")
    g1, g2 = customers[:20], customers[20:37]
    g3, g4, g5 = customers[37:53], customers[53:69], customers[69:71]
    sightings = []

    def seen(group, cell, hour, minute):
        sightings.extend((c["customer_id"], cell, hour, minute) for c in group)

    seen(g1, "R-A1", 14, 10)
    seen(g1[:18], "R-A1", 14, 40)  # SPAN: 18 of the 20 people of 5000 at 14:00
    seen(g2, "R-A2", 14, 20)
    seen(g2[:16], "R-A2", 14, 45)  # WHOLE 17, HALF 16
    seen(g3, "R-A2", 10, 10)
    seen(g4, "R-A2", 11, 10)
    seen(g5, "R-A2", 12, 10)  # LONG: 34 in total, 16 + 16 in its big hours
    return customers, sightings


def landing_changes(customers, sightings, objectors=()) -> dict:
    msisdn = {c["customer_id"]: c for c in customers}
    events = []
    for customer_id, cell, hour, minute in sightings:
        events += network_events_for([msisdn[customer_id]], cell, ts(hour, minute))
    return {
        "+customers": customers,
        "+cells": [
            {
                "cell_id": c,
                "postal_code": p,
                "municipality": m,
                "province": v,
                "lat": 50.9,
                "lon": 4.4,
            }
            for c, (p, m, v) in CELLS.items()
        ],
        "+network_events": events,
        "+events": [
            {
                "event_id": e,
                "name": f"Event {e}",
                "starts_at": ts(*first),
                "ends_at": ts(*last),
            }
            for e, (_, first, last) in EVENTS.items()
        ],
        "+event_cells": [
            {"event_id": e, "cell_id": c} for e, (cells, _, _) in EVENTS.items() for c in cells
        ],
        "+privacy_preferences": consent_events_for(
            [msisdn[o] for o in objectors],
            "location_analytics",
            "opt_out",
            prefix="REP",
            recorded_at="2026-06-21T08:00:00+02:00",
        ),
    }


def true_people(sightings, without=()) -> dict[tuple, frozenset]:
    """Figure (table, level, id, hour_start or None) -> people, as the rule defines them."""
    who = defaultdict(set)
    for person, cell, hour, minute in sightings:
        if person in without:
            continue
        start = dt.datetime.fromisoformat(ts(hour)).astimezone(dt.UTC)
        for level, area in zip(
            ("postal_code", "municipality", "province"), CELLS[cell], strict=True
        ):
            who[("presence_hourly", level, area, start)].add(person)
        for event, (cells, first, last) in EVENTS.items():
            if cell in cells and first <= (hour, minute) <= last:
                who[("event_attendance", "event", event, start)].add(person)
                who[("event_attendance_total", "event", event, None)].add(person)
    return {key: frozenset(p) for key, p in who.items()}


def recipient_view(warehouse: Path) -> dict[str, dict[tuple, int]]:
    """What a recipient holds now: the published rows of D, and every export file."""
    held = {
        "warehouse": read_figures(
            duckdb.connect(str(warehouse / "warehouse.duckdb"), read_only=True), ""
        )
    }
    for path in sorted((warehouse / "exports").rglob("location.*.parquet")):
        table = path.stem.split(".")[1]
        con = duckdb.connect()
        con.execute(f"create schema location; create view location.{table} as from '{path}'")
        held[str(path.relative_to(warehouse))] = read_figures(con, table)
    return held


def read_figures(con, only: str) -> dict[tuple, int]:
    columns = {
        "presence_hourly": "area_level, area_id, hour_start",
        "event_attendance": "'event', event_id, hour_start",
        "event_attendance_total": "'event', event_id, null",
    }
    figures = {}
    try:
        for table, key in columns.items():
            if only and table != only:
                continue
            sql = f"select '{table}', {key}, people from location.{table}"
            for t, level, area, start, people in con.execute(
                f"{sql} where run_date = '{RUN_DATE}'"
            ).fetchall():
                key = (t, level, area, None if start is None else start.astimezone(dt.UTC))
                figures[key] = people
    finally:
        con.close()
    return figures


@pytest.fixture(scope="module")
def releases(tmp_path_factory):
    root = tmp_path_factory.mktemp("republication")
    customers, sightings = scenario()
    objector = sightings[0][0]  # one of the 20 of postal code 5000, also at SPAN
    config = config_with_k(root, K)  # a test configuration: --k may only raise k
    first = write_landing_zone(root / "landing-1", landing_changes(customers, sightings))
    result = run_pipeline(first, root / "warehouse", RUN_DATE, config=config)
    assert result.returncode == 0, (result.stdout[-3000:], result.stderr[-5000:])
    held_first = recipient_view(root / "warehouse")
    second = write_landing_zone(
        root / "landing-2", landing_changes(customers, sightings, [objector])
    )
    result = run_pipeline(second, root / "warehouse", RUN_DATE, config=config)
    assert result.returncode == 0, (result.stdout[-3000:], result.stderr[-5000:])
    return {
        "warehouse": root / "warehouse",
        "first": held_first,
        "second": recipient_view(root / "warehouse"),
        "people_first": true_people(sightings),
        "people_second": true_people(sightings, without={objector}),
    }


def published(view: dict[tuple, int], people: dict[tuple, frozenset]):
    return [(key, people.get(key, frozenset()), value) for key, value in view.items()]


def test_each_release_keeps_the_rule_on_the_true_sets_of_people(releases):
    for release, people in (("first", "people_first"), ("second", "people_second")):
        view = releases[release]["warehouse"]
        assert view, f"the {release} release publishes something"
        assert violations(published(view, releases[people]), K) == [], release


def test_the_attack_figures_are_withheld(releases):
    view = releases["first"]["warehouse"]
    at_14 = dt.datetime.fromisoformat(ts(14)).astimezone(dt.UTC)
    # SPAN (18) and postal code 5000 (20) are never both published.
    assert not (
        ("event_attendance", "event", "SPAN", at_14) in view
        and ("presence_hourly", "postal_code", "5000", at_14) in view
    )
    # WHOLE (17) and HALF (16) are never both published.
    assert not (
        ("event_attendance", "event", "WHOLE", at_14) in view
        and ("event_attendance", "event", "HALF", at_14) in view
    )
    long_hours = [v for k, v in view.items() if k[:3] == ("event_attendance", "event", "LONG")]
    total = view.get(("event_attendance_total", "event", "LONG", None))
    if total is not None and len(long_hours) == 2:
        assert total - sum(long_hours) == 0 or total - sum(long_hours) >= K


def test_no_figure_differs_between_the_releases_by_less_than_k(releases):
    first, second = releases["first"]["warehouse"], releases["second"]["warehouse"]
    changed = {
        key: (first[key], second[key])
        for key in first.keys() & second.keys()
        if 0 < abs(first[key] - second[key]) < K
    }
    assert changed == {}
    # the objector's figures did change: the second release withheld them
    assert first.keys() - second.keys()


def test_both_releases_together_reveal_no_group_smaller_than_k(releases):
    union = union_of_releases(
        releases["people_first"],
        {key: (v, PUBLISHED) for key, v in releases["first"]["warehouse"].items()},
        releases["people_second"],
        {key: (v, PUBLISHED) for key, v in releases["second"]["warehouse"].items()},
    )
    assert violations(union, K) == []


def test_the_superseded_export_version_is_gone(releases):
    warehouse = releases["warehouse"]
    exports = {name: figures for name, figures in releases["second"].items() if name != "warehouse"}
    assert exports, "the second release is exported"
    for name, figures in exports.items():
        table = name.rsplit("location.", 1)[1].removesuffix(".parquet")
        expected = {k: v for k, v in releases["second"]["warehouse"].items() if k[0] == table}
        assert figures == expected, name
    for recipient in ("location_buyers", "dpo"):
        folder = warehouse / "exports" / recipient / ".versions" / f"run_date={RUN_DATE}"
        versions = list(folder.iterdir())
        assert len(versions) == 1, versions


def test_the_release_ledger_is_private_and_holds_both_releases(releases):
    warehouse = releases["warehouse"]
    ledger = warehouse / "private" / "release_ledger.duckdb"
    con = duckdb.connect(str(ledger), read_only=True)
    try:
        releases_recorded = con.execute(
            "select count(distinct release_id) from location_release_ledger where run_date = ?",
            [RUN_DATE],
        ).fetchone()[0]
    finally:
        con.close()
    assert releases_recorded == 2
    assert not [p for p in (warehouse / "exports").rglob("*") if "ledger" in p.name]
