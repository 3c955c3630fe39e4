"""The disclosure auditor over the visits and moves tables together with presence and
events (pure Python, fast).

The random worlds of test_location_disclosure get homes; the figures of visitors_daily,
visitor_origin and od_flows are computed here from the definitions of
docs/location-privacy.md (stays, classes, moves), independently of the SQL, and the
brute-force checker of the rule runs over old and new figures at once.
"""

from __future__ import annotations

from collections import defaultdict

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from privacy_pipeline.location.disclosure import (
    OD_FLOWS_TABLE,
    PUBLISHED,
    SUPPRESSED_BELOW_K,
    SUPPRESSED_COMPLEMENTARY,
    VISITOR_ORIGIN_TABLE,
    VISITORS_TABLE,
    FigureKey,
    area_figure,
    day_figure,
)

from tests.test_location_disclosure import (
    GATE,
    World,
    published_view,
    release,
    violations,
    worlds,
)

LEVELS = ("postal_code", "municipality", "province")
# The worlds span three hours of minutes; each hour stands for a band of the day.
BANDS = ("night", "morning", "midday")
UNKNOWN_HOME = "9999"  # a CRM postal code in no cell: no municipality, no province


def visit_people(
    world: World, homes: dict[int, str], min_stay: int, without: frozenset = frozenset()
) -> dict[FigureKey, frozenset]:
    """The people behind every figure of the three whole-day tables, by the definitions."""
    rollup = {postal: (postal, m, p) for postal, m, p in world.cell_area.values()}
    events = defaultdict(list)
    for person, cell, minute in world.sightings:
        if person not in without:
            events[person].append((minute, cell))
    who: dict[FigureKey, set[int]] = defaultdict(set)
    for person, seen in events.items():
        seen.sort()  # by time, ties by cell
        home = rollup.get(homes.get(person, UNKNOWN_HOME), (homes.get(person), None, None))
        for depth, level in enumerate(LEVELS):
            areas = [world.cell_area[cell][depth] for _, cell in seen]
            longest: dict[str, int] = {}
            start = 0
            for i in range(1, len(seen) + 1):
                if i == len(seen) or areas[i] != areas[start]:
                    length = seen[i - 1][0] - seen[start][0]
                    longest[areas[start]] = max(longest.get(areas[start], 0), length)
                    start = i
            for area, length in longest.items():
                if home[depth] == area:
                    kind = "resident"
                elif length >= min_stay:
                    kind = "visitor"
                else:
                    kind = "transit"
                who[day_figure(VISITORS_TABLE, level, area, kind)].add(person)
                if kind == "visitor":
                    for origin_level, origin in (("municipality", home[1]), ("province", home[2])):
                        if origin is not None:
                            key = day_figure(
                                VISITOR_ORIGIN_TABLE, level, area, origin_level, origin
                            )
                            who[key].add(person)
            if level != "postal_code":
                for i in range(1, len(seen)):
                    if areas[i] != areas[i - 1]:
                        band = BANDS[seen[i][0] // 60]
                        who[day_figure(OD_FLOWS_TABLE, level, areas[i - 1], areas[i], band)].add(
                            person
                        )
    return {key: frozenset(p) for key, p in who.items()}


@st.composite
def worlds_with_homes(draw):
    world = draw(worlds())
    postal_codes = sorted({postal for postal, _, _ in world.cell_area.values()})
    people = sorted({person for person, _, _ in world.sightings})
    homes = {p: draw(st.sampled_from([*postal_codes, UNKNOWN_HOME])) for p in people}
    return world, homes, draw(st.sampled_from([0, 30, 60]))


def every_figure(world, homes, min_stay, without=frozenset()) -> dict[FigureKey, frozenset]:
    return {**world.people(without), **visit_people(world, homes, min_stay, without)}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=worlds_with_homes(), k=st.integers(2, 7))
def test_random_worlds_with_visits_never_publish_what_the_rule_forbids(case, k):
    world, homes, min_stay = case
    people = every_figure(world, homes, min_stay)
    decided = release(people, k)
    assert set(decided) == set(people)
    assert violations(published_view(people, decided), k) == []
    for key, (_, status) in decided.items():
        if len(people[key]) < k:
            assert status == SUPPRESSED_BELOW_K
        else:
            assert status in (PUBLISHED, SUPPRESSED_COMPLEMENTARY)
    # the gate's own reading of the rule finds nothing either
    labelled = [(str(key), who, value) for key, who, value in published_view(people, decided)]
    assert GATE.disclosure_violations(labelled, k) == ([], [])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=worlds_with_homes(), k=st.integers(2, 7), data=st.data())
def test_a_republication_with_visits_after_objections_reveals_nothing_new(case, k, data):
    world, homes, min_stay = case
    first_people = every_figure(world, homes, min_stay)
    first = release(first_people, k)
    everyone = sorted({person for person, _, _ in world.sightings})
    objectors = frozenset(
        data.draw(st.sets(st.sampled_from(everyone), max_size=3)) if everyone else ()
    )
    second_people = every_figure(world, homes, min_stay, without=objectors)
    held = defaultdict(set)
    for key, (value, status) in first.items():
        if status == PUBLISHED:
            held[key].add(value)
    second = release(second_people, k, held=dict(held))
    assert violations(published_view(second_people, second), k) == []
    for key, (value, status) in second.items():
        if status == PUBLISHED and key in held:
            assert all(value == before or abs(value - before) >= k for before in held[key])


def test_every_person_seen_in_an_area_has_exactly_one_class_there():
    world = World(
        cell_area={"a": ("1000", "m0", "p0"), "b": ("1001", "m0", "p0"), "c": ("1002", "m1", "p1")},
        event_cells={},
        event_window={},
        sightings=[(1, "a", 0), (1, "b", 10), (1, "a", 50), (1, "c", 100), (2, "a", 0)],
    )
    figures = visit_people(world, {1: "1000", 2: "1001"}, 30)
    for level, areas in (("postal_code", ("1000", "1001", "1002")), ("province", ("p0", "p1"))):
        for area in areas:
            seen = {p for p, cell, _ in world.sightings if area in world.cell_area[cell]}
            classes = [
                figures.get(day_figure(VISITORS_TABLE, level, area, kind), frozenset())
                for kind in ("resident", "visitor", "transit")
            ]
            assert sum(len(c) for c in classes) == len(seen)
            assert frozenset().union(*classes) == seen
    # person 1: resident of 1000; A -> B -> A interrupts the stay in 1000 (0 and 0
    # minutes), yet p0 holds 0..50 as one stay: resident there (home province p0).
    assert 1 in figures[day_figure(VISITORS_TABLE, "postal_code", "1000", "resident")]
    assert 1 in figures[day_figure(VISITORS_TABLE, "postal_code", "1001", "transit")]
    assert 1 in figures[day_figure(VISITORS_TABLE, "province", "p1", "transit")]
    assert 1 in figures[day_figure(OD_FLOWS_TABLE, "province", "p0", "p1", "morning")]
    assert 2 in figures[day_figure(VISITORS_TABLE, "municipality", "m0", "resident")]


def test_an_origin_below_k_cannot_be_learnt_from_the_visitors_minus_the_other_origin():
    k = 15
    near, far = frozenset(range(20)), frozenset(range(20, 23))
    visitors = day_figure(VISITORS_TABLE, "postal_code", "4501", "visitor")
    from_near = day_figure(VISITOR_ORIGIN_TABLE, "postal_code", "4501", "municipality", "Near")
    from_far = day_figure(VISITOR_ORIGIN_TABLE, "postal_code", "4501", "municipality", "Far")
    hour = area_figure("postal_code", "4501", 10)
    people = {visitors: near | far, from_near: near, from_far: far, hour: near | far}
    decided = release(people, k)
    assert decided[visitors] == (23, PUBLISHED)
    assert decided[hour] == (23, PUBLISHED)
    assert decided[from_far] == (3, SUPPRESSED_BELOW_K)
    assert decided[from_near] == (20, SUPPRESSED_COMPLEMENTARY)  # 23 - 20 = 3
    assert violations(published_view(people, decided), k) == []


def test_min_stay_minutes_defaults_to_30_and_refuses_what_is_not_whole_minutes(tmp_path):
    import pytest
    import yaml
    from privacy_pipeline.config import load_config
    from privacy_pipeline.errors import ConfigError

    path = tmp_path / "pipeline.yml"
    path.write_text(yaml.safe_dump({"location": {"k": 30}}), encoding="utf-8")
    assert load_config(path)["location"]["min_stay_minutes"] == 30
    for number, value in enumerate((-1, 1.5, "30", True)):
        path = tmp_path / f"pipeline-{number}.yml"  # the loader caches a file by its path
        path.write_text(
            yaml.safe_dump({"location": {"k": 30, "min_stay_minutes": value}}), encoding="utf-8"
        )
        with pytest.raises(ConfigError, match="min_stay_minutes"):
            load_config(path)
