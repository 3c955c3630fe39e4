"""The suppression algorithm on hand-made and random populations (pure Python, fast).

The checker below recomputes, by brute force, every difference an attacker can form
from the published figures, independently of how the algorithm works.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from privacy_pipeline.location.suppression import (
    PUBLISHED,
    SUPPRESSED_BELOW_K,
    SUPPRESSED_COMPLEMENTARY,
    AreaRef,
    FigureKey,
    ReleaseStructure,
    apply_k_anonymity,
    area_figure,
    event_hour_figure,
    event_total_figure,
)

K = 5


def tree(postal_codes: dict[str, str], municipalities: dict[str, str]) -> dict[AreaRef, AreaRef]:
    parent = {
        AreaRef("postal_code", pc): AreaRef("municipality", m) for pc, m in postal_codes.items()
    }
    parent |= {
        AreaRef("municipality", m): AreaRef("province", p) for m, p in municipalities.items()
    }
    return parent


# --- hand-made cases -------------------------------------------------------------


def test_exactly_k_is_published_and_k_minus_one_is_not():
    structure = ReleaseStructure(tree({"1000": "M"}, {"M": "P"}))
    status = apply_k_anonymity({area_figure("postal_code", "1000", 0): K}, structure, K)
    assert status[area_figure("postal_code", "1000", 0)] == PUBLISHED
    status = apply_k_anonymity({area_figure("postal_code", "1000", 0): K - 1}, structure, K)
    assert status[area_figure("postal_code", "1000", 0)] == SUPPRESSED_BELOW_K


def test_municipality_with_one_small_postal_code_suppresses_its_big_sibling():
    structure = ReleaseStructure(tree({"1000": "M", "1001": "M"}, {"M": "P"}))
    values = {
        area_figure("province", "P", 0): 3 * K,
        area_figure("municipality", "M", 0): 3 * K,
        area_figure("postal_code", "1000", 0): 3 * K - 2,
        area_figure("postal_code", "1001", 0): 2,
    }
    status = apply_k_anonymity(values, structure, K)
    assert status[area_figure("postal_code", "1001", 0)] == SUPPRESSED_BELOW_K
    assert status[area_figure("postal_code", "1000", 0)] == SUPPRESSED_COMPLEMENTARY
    assert status[area_figure("municipality", "M", 0)] == PUBLISHED
    assert status[area_figure("province", "P", 0)] == PUBLISHED


def test_smallest_published_sibling_is_the_complementary_choice():
    structure = ReleaseStructure(tree({"a": "M", "b": "M", "c": "M", "d": "M"}, {"M": "P"}))
    values = {
        area_figure("province", "P", 0): 40,
        area_figure("municipality", "M", 0): 40,
        area_figure("postal_code", "a", 0): 15,
        area_figure("postal_code", "b", 0): 12,
        area_figure("postal_code", "c", 0): 11,
        area_figure("postal_code", "d", 0): 2,
    }
    status = apply_k_anonymity(values, structure, K)
    assert status[area_figure("postal_code", "c", 0)] == SUPPRESSED_COMPLEMENTARY
    assert status[area_figure("postal_code", "a", 0)] == PUBLISHED
    assert status[area_figure("postal_code", "b", 0)] == PUBLISHED


def test_people_seen_in_two_children_make_a_negative_difference_that_is_repaired():
    structure = ReleaseStructure(tree({"a": "M", "b": "M"}, {"M": "P"}))
    values = {
        area_figure("province", "P", 0): 12,
        area_figure("municipality", "M", 0): 12,
        area_figure("postal_code", "a", 0): 8,
        area_figure("postal_code", "b", 0): 7,
    }
    status = apply_k_anonymity(values, structure, K)
    published = [key for key, s in status.items() if s == PUBLISHED]
    assert area_figure("municipality", "M", 0) in published
    assert_release_is_safe(values, structure, status, K)


def test_event_filling_its_postal_code_but_for_a_few_is_suppressed():
    structure = ReleaseStructure(
        tree({"1000": "M", "1001": "M"}, {"M": "P"}),
        event_postal_codes={"fest": frozenset({"1000"})},
    )
    values = {
        area_figure("province", "P", 0): 40,
        area_figure("municipality", "M", 0): 40,
        area_figure("postal_code", "1000", 0): 20,
        area_figure("postal_code", "1001", 0): 20,
        event_hour_figure("fest", 0): 18,
        event_hour_figure("fest", 1): 15,
        event_total_figure("fest"): 30,
    }
    status = apply_k_anonymity(values, structure, K)
    assert status[event_hour_figure("fest", 0)] == SUPPRESSED_COMPLEMENTARY
    assert status[area_figure("postal_code", "1000", 0)] == PUBLISHED
    assert status[event_total_figure("fest")] == PUBLISHED


def test_event_over_two_postal_codes_is_checked_against_the_rest_of_its_municipality():
    # 1000 and 1001 are too small alone, the event spans both; municipality minus
    # 1002 minus the event would be the 2 people of 1000/1001 not at the event.
    structure = ReleaseStructure(
        tree({"1000": "M", "1001": "M", "1002": "M"}, {"M": "P"}),
        event_postal_codes={"fest": frozenset({"1000", "1001"})},
    )
    values = {
        area_figure("province", "P", 0): 30,
        area_figure("municipality", "M", 0): 30,
        area_figure("postal_code", "1000", 0): 4,
        area_figure("postal_code", "1001", 0): 4,
        area_figure("postal_code", "1002", 0): 22,
        event_hour_figure("fest", 0): 6,
    }
    status = apply_k_anonymity(values, structure, K)
    assert status[event_hour_figure("fest", 0)] == SUPPRESSED_COMPLEMENTARY
    assert_release_is_safe(values, structure, status, K)


def test_event_total_of_a_one_hour_window_is_related_to_the_areas_of_that_hour():
    structure = ReleaseStructure(
        tree({"1000": "M"}, {"M": "P"}),
        event_postal_codes={"gig": frozenset({"1000"})},
    )
    values = {
        area_figure("province", "P", 3): 20,
        area_figure("municipality", "M", 3): 20,
        area_figure("postal_code", "1000", 3): 20,
        event_hour_figure("gig", 3): 18,
        event_total_figure("gig"): 18,
    }
    status = apply_k_anonymity(values, structure, K)
    assert status[event_hour_figure("gig", 3)] == SUPPRESSED_COMPLEMENTARY
    assert status[event_total_figure("gig")] == SUPPRESSED_COMPLEMENTARY


def test_event_hour_close_to_its_total_is_suppressed():
    structure = ReleaseStructure(
        tree({"1000": "M"}, {"M": "P"}), event_postal_codes={"e": frozenset({"1000"})}
    )
    values = {
        event_hour_figure("e", 1): 20,
        event_hour_figure("e", 2): 10,
        event_total_figure("e"): 22,
    }
    status = apply_k_anonymity(values, structure, K)
    assert status[event_hour_figure("e", 1)] == SUPPRESSED_COMPLEMENTARY
    assert status[event_hour_figure("e", 2)] == PUBLISHED
    assert status[event_total_figure("e")] == PUBLISHED


def test_every_value_map_must_be_safe():
    structure = ReleaseStructure(tree({"a": "M", "b": "M"}, {"M": "P"}))
    true = {
        area_figure("municipality", "M", 0): 20,
        area_figure("postal_code", "a", 0): 10,
        area_figure("postal_code", "b", 0): 10,
    }
    noisy = {
        area_figure("municipality", "M", 0): 21,
        area_figure("postal_code", "a", 0): 10,
        area_figure("postal_code", "b", 0): 9,
    }
    status = apply_k_anonymity([true, noisy], structure, K)
    # true counts are safe (20 - 10 - 10 = 0), noisy ones are not (21 - 10 - 9 = 2):
    # the tie on true counts is broken by id.
    assert status[area_figure("municipality", "M", 0)] == PUBLISHED
    assert status[area_figure("postal_code", "a", 0)] == SUPPRESSED_COMPLEMENTARY
    assert status[area_figure("postal_code", "b", 0)] == PUBLISHED


def test_result_is_deterministic_whatever_the_input_order():
    structure = ReleaseStructure(tree({"a": "M", "b": "M", "c": "N"}, {"M": "P", "N": "P"}))
    values = {
        area_figure("province", "P", 0): 33,
        area_figure("municipality", "M", 0): 27,
        area_figure("municipality", "N", 0): 6,
        area_figure("postal_code", "a", 0): 14,
        area_figure("postal_code", "b", 0): 13,
        area_figure("postal_code", "c", 0): 6,
    }
    first = apply_k_anonymity(values, structure, K)
    again = apply_k_anonymity(dict(reversed(list(values.items()))), structure, K)
    assert first == again


# --- independent checker ------------------------------------------------------------
# Written from the promise, not from the implementation: it never calls the module's own
# rule (is_safe_difference) nor its view of the tree (postal_codes_under).


def reveals_no_small_group(difference: int, k: int) -> bool:
    """What an attacker gets by subtracting published figures: nobody, or at least k
    people. A negative difference counts movers seen twice: a small group too."""
    return difference == 0 or difference >= k


def postal_codes_below(structure: ReleaseStructure) -> dict[AreaRef, frozenset[str]]:
    """Every area's postal codes, by walking up from each postal code of the tree."""
    below: dict[AreaRef, set[str]] = defaultdict(set)
    postal_codes = {a for a in structure.area_parent if a.level == "postal_code"}
    for postal_code in postal_codes:
        area = postal_code
        while area is not None:
            below[area].add(postal_code.id)
            area = structure.area_parent.get(area)
    return {area: frozenset(codes) for area, codes in below.items()}


def assert_release_is_safe(values, structure: ReleaseStructure, status, k: int) -> None:
    published = {key for key, s in status.items() if s == PUBLISHED}
    for key in published:
        assert values[key] >= k, f"{key} published with {values[key]} < k"
    children = defaultdict(list)
    for child, parent in structure.area_parent.items():
        children[parent].append(child)
    hours = {key.hour for key in values if key.hour is not None}
    for hour in hours:
        for key in published:
            if key.table != "presence_hourly" or key.hour != hour:
                continue
            area = AreaRef(key.level, key.id)
            direct = [area_figure(c.level, c.id, hour) for c in children[area]]
            direct_sum = sum(values[c] for c in direct if c in published)
            assert reveals_no_small_group(values[key] - direct_sum, k), (key, "direct children")
            for covered in achievable_sums(area, hour, published, values, children, frozenset()):
                assert reveals_no_small_group(values[key] - covered, k), (key, covered)
        check_events_in_hour(values, structure, published, children, hour, k)
    for key in published:
        if key.table == "event_attendance":
            total = event_total_figure(key.id)
            if total in published:
                assert reveals_no_small_group(values[total] - values[key], k), (total, key)


def check_events_in_hour(values, structure, published, children, hour, k) -> None:
    under = postal_codes_below(structure)
    events = [key for key in published if key.table == "event_attendance" and key.hour == hour]
    event_hours = defaultdict(set)
    for key in values:
        if key.table == "event_attendance":
            event_hours[key.id].add(key.hour)
    events += [
        event_total_figure(e)
        for e, hours in event_hours.items()
        if hours == {hour} and event_total_figure(e) in published
    ]
    for event in events:
        footprint = structure.event_postal_codes[event.id]
        for area in [a for a, codes in under.items() if footprint <= codes]:
            area_key = area_figure(area.level, area.id, hour)
            if area_key not in published:
                continue
            for covered in achievable_sums(
                area, hour, published, values, children, footprint, under
            ):
                difference = values[area_key] - values[event] - covered
                assert reveals_no_small_group(difference, k), (area_key, event, covered)


def achievable_sums(area, hour, published, values, children, footprint, under=None) -> set[int]:
    """Sums of every family of published, non-nested descendants of ``area`` avoiding
    ``footprint``: what an attacker may subtract from the area's count."""
    totals = {0}
    for child in children[area]:
        key = area_figure(child.level, child.id, hour)
        options = achievable_sums(child, hour, published, values, children, footprint, under)
        overlaps = footprint and (under or {}).get(child, frozenset()) & footprint
        if key in published and not overlaps:
            options = options | {values[key]}
        totals = {a + b for a, b in itertools.product(totals, options)}
    return totals


# --- random populations ------------------------------------------------------------


@dataclass
class Population:
    cell_postal_code: dict[str, str]
    postal_code_municipality: dict[str, str]
    municipality_province: dict[str, str]
    visits: list[tuple[int, str, int]]  # person, cell, hour
    event_cells: dict[str, frozenset[str]]
    event_hours: dict[str, tuple[int, int]]  # first hour, last hour (inclusive)

    def structure(self) -> ReleaseStructure:
        return ReleaseStructure(
            tree(self.postal_code_municipality, self.municipality_province),
            event_postal_codes={
                e: frozenset(self.cell_postal_code[c] for c in cells)
                for e, cells in self.event_cells.items()
            },
        )

    def counts(self) -> dict[FigureKey, int]:
        people: dict[FigureKey, set[int]] = defaultdict(set)
        for person, cell, hour in self.visits:
            postal_code = self.cell_postal_code[cell]
            municipality = self.postal_code_municipality[postal_code]
            province = self.municipality_province[municipality]
            for level, area in (
                ("postal_code", postal_code),
                ("municipality", municipality),
                ("province", province),
            ):
                people[area_figure(level, area, hour)].add(person)
            for event, cells in self.event_cells.items():
                first, last = self.event_hours[event]
                if cell in cells and first <= hour <= last:
                    people[event_hour_figure(event, hour)].add(person)
                    people[event_total_figure(event)].add(person)
        return {key: len(who) for key, who in people.items()}


@st.composite
def populations(draw) -> Population:
    municipality_province = {
        f"m{i}": f"p{draw(st.integers(0, 1))}" for i in range(draw(st.integers(1, 3)))
    }
    postal_code_municipality = {
        f"{1000 + i}": draw(st.sampled_from(sorted(municipality_province)))
        for i in range(draw(st.integers(1, 5)))
    }
    cell_postal_code = {
        f"c{i}": draw(st.sampled_from(sorted(postal_code_municipality)))
        for i in range(draw(st.integers(1, 8)))
    }
    cells = sorted(cell_postal_code)
    # Crowds: each person has a favourite cell, plus a few random moves.
    people = draw(st.integers(0, 40))
    visits = []
    for person in range(people):
        home = draw(st.sampled_from(cells))
        for hour in draw(st.sets(st.integers(0, 2), min_size=1)):
            visits.append((person, home, hour))
        for _ in range(draw(st.integers(0, 2))):
            visits.append((person, draw(st.sampled_from(cells)), draw(st.integers(0, 2))))
    event_cells, event_hours = {}, {}
    for i in range(draw(st.integers(0, 2))):
        event_cells[f"e{i}"] = frozenset(draw(st.sets(st.sampled_from(cells), min_size=1)))
        first = draw(st.integers(0, 2))
        event_hours[f"e{i}"] = (first, draw(st.integers(first, 2)))
    return Population(
        cell_postal_code,
        postal_code_municipality,
        municipality_province,
        visits,
        event_cells,
        event_hours,
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(population=populations(), k=st.integers(2, 8))
def test_random_populations_never_publish_an_unsafe_figure(population, k):
    values = population.counts()
    structure = population.structure()
    status = apply_k_anonymity(values, structure, k)
    assert set(status) == set(values)
    assert_release_is_safe(values, structure, status, k)


@settings(max_examples=100, deadline=None)
@given(population=populations(), k=st.integers(2, 8))
def test_only_primary_or_complementary_reasons_suppress(population, k):
    values = population.counts()
    status = apply_k_anonymity(values, population.structure(), k)
    for key, outcome in status.items():
        if values[key] < k:
            assert outcome == SUPPRESSED_BELOW_K
        else:
            assert outcome in (PUBLISHED, SUPPRESSED_COMPLEMENTARY)
