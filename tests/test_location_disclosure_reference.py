"""The production disclosure auditor against the frozen reference.

tests/support/reference_disclosure.py is the auditor as it was before it was made to
scale (commit 05353e8): an exact family search that keeps a witness family for every
reachable value. The production search keeps sets of values as bitsets and traces one
family back only for the difference it reports, so the figure a repair suppresses may
differ from the reference's. What must hold on any input (random worlds of presence,
events, visits and moves; random unions of blocks of people, with ties, nesting,
overlaps, noisy released values and held figures; k from 2 to 30; cut searches):

- the same primary suppressions, and the same answer to "is there an unsafe family";
- every family the production search reports is one: figures inside A, a forest
  antichain, whose difference with A is the unsafe value it names;
- the release it decides is safe by the reference's own search (no family of published
  figures reveals fewer than k);
- it suppresses about as much as the reference (seeded worlds, totals compared).
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from privacy_pipeline.location import disclosure
from privacy_pipeline.location.disclosure import (
    PUBLISHED,
    SUPPRESSED_BELOW_K,
    SUPPRESSED_COMPLEMENTARY,
    Figure,
    FigureKey,
    audit,
    people_array,
)

from tests.support import reference_disclosure
from tests.test_location_visits_disclosure import every_figure, worlds_with_homes

TABLES = ("presence_hourly", "event_attendance", "visitors_daily", "od_flows")
LEVELS = ("province", "municipality", "postal_code", "event")


@st.composite
def world_figures(draw) -> list[Figure]:
    world, homes, min_stay = draw(worlds_with_homes())
    people = every_figure(world, homes, min_stay)
    return [decorate(draw, key, who) for key, who in sorted(people.items(), key=repr)]


@st.composite
def block_figures(draw) -> list[Figure]:
    """Figures as unions of blocks of people: many nest, many overlap, some are equal."""
    population = draw(st.integers(1, 90))
    blocks = draw(
        st.lists(
            st.sets(st.integers(0, population - 1), min_size=1, max_size=30),
            min_size=1,
            max_size=8,
        )
    )
    figures = []
    for n in range(draw(st.integers(1, 25))):
        chosen = draw(st.sets(st.integers(0, len(blocks) - 1), min_size=1))
        who = frozenset().union(*(blocks[i] for i in chosen))
        key = FigureKey(
            draw(st.sampled_from(TABLES)),
            draw(st.sampled_from(LEVELS)),
            f"f{n % draw(st.integers(1, 25))}",
            draw(st.sampled_from([None, 0, 1])),
        )
        figures.append(decorate(draw, key, who))
    unique = {}
    for figure in figures:  # one figure per key, as in a release
        unique.setdefault(figure.key, figure)
    return list(unique.values())


@st.composite
def interval_figures(draw) -> list[Figure]:
    """A large figure over many intervals of people that nest, overlap and tie: many
    families reach the same difference, so the witness a search keeps decides the repair."""
    population = draw(st.integers(20, 160))
    figures = [
        decorate(draw, FigureKey("visitors_daily", "province", "all", None), range(population))
    ]
    for n in range(draw(st.integers(1, 30))):
        start = draw(st.integers(0, population - 1))
        length = draw(st.integers(1, min(60, population - start)))
        key = FigureKey(
            draw(st.sampled_from(TABLES)), draw(st.sampled_from(LEVELS)), f"i{n}", n % 3
        )
        figures.append(decorate(draw, key, range(start, start + length)))
    return figures


def decorate(draw, key, who) -> Figure:
    noise = draw(st.sampled_from([0, 0, 0, -2, -1, 1, 3]))
    held = draw(st.sampled_from([False, False, False, False, True]))
    released = None if noise == 0 else max(0, len(who) + noise)
    return Figure(key, people_array(who), released, held)


def forest(figures: list[Figure]):
    order = sorted(range(len(figures)), key=lambda i: reference_disclosure._rank(figures[i]))
    rank = {i: r for r, i in enumerate(order)}
    return order, rank, reference_disclosure.containment(figures, order)


def members_of(figures, rank, supersets, order, a, status) -> list[int]:
    return [
        b
        for b in order
        if status[b] == PUBLISHED
        and a in supersets[b]
        and reference_disclosure._above(figures, rank, a, b)
    ]


def unsafe_families_left(figures: list[Figure], decided: dict, k: int) -> list:
    """Families of the release that the reference's exact search still finds unsafe
    (a family held entirely by recipients under a held figure was audited before)."""
    order, rank, supersets = forest(figures)
    status = {
        i: PUBLISHED if figure.held or decided[figure.key] == PUBLISHED else "withheld"
        for i, figure in enumerate(figures)
    }
    left = []
    for a in order:
        if status[a] != PUBLISHED:
            continue
        members = members_of(figures, rank, supersets, order, a, status)
        for which in range(2):
            witness = reference_disclosure._unsafe_family(
                figures, rank, supersets, status, a, members, which, k
            )
            if witness and not (figures[a].held and all(figures[b].held for b in witness)):
                left.append((figures[a].key, [figures[b].key for b in witness]))
    return left


def assert_safe(figures: list[Figure], k: int) -> dict:
    decided = audit(figures, k)
    expected = reference_disclosure.audit(figures, k)
    below = {key for key, status in decided.items() if status == SUPPRESSED_BELOW_K}
    assert below == {key for key, status in expected.items() if status == SUPPRESSED_BELOW_K}
    assert unsafe_families_left(figures, decided, k) == []
    return decided


SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))


@SETTINGS
@given(figures=world_figures(), k=st.integers(2, 30))
def test_safe_releases_of_random_worlds(figures, k):
    assert_safe(figures, k)


@SETTINGS
@given(figures=block_figures(), k=st.integers(2, 30))
def test_safe_releases_of_random_unions_of_blocks(figures, k):
    assert_safe(figures, k)


@SETTINGS
@given(figures=interval_figures(), k=st.integers(2, 30))
def test_safe_releases_of_many_nested_intervals(figures, k):
    assert_safe(figures, k)


@pytest.mark.parametrize("limit", [3, 12])
def test_a_cut_search_suppresses_more_never_less(limit, monkeypatch):
    """Searches cut early (tiny SEARCH_LIMIT) are deemed unsafe: the release stays safe by
    the reference's uncut search."""
    monkeypatch.setattr(disclosure, "SEARCH_LIMIT", limit)

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(figures=st.one_of(block_figures(), interval_figures()), k=st.integers(2, 30))
    def check(figures, k):
        decided = audit(figures, k)
        assert unsafe_families_left(figures, decided, k) == []

    check()


def test_the_reference_is_not_the_production_module():
    assert reference_disclosure.audit is not audit
    assert reference_disclosure.containment is not disclosure.containment


def assert_reported_families_are_unsafe(figures: list[Figure], k: int) -> None:
    """Before any repair, for every A: the production search finds an unsafe family
    exactly when the reference does (where nothing is held: under a held A, a family
    recipients hold whole was audited before and is not reported), and the family it
    names is made of A's members, each once, with an unsafe difference."""
    order, rank, supersets = forest(figures)
    status = {i: PUBLISHED for i in range(len(figures))}
    for a in order:
        members = members_of(figures, rank, supersets, order, a, status)
        for which in range(2):
            args = (figures, rank, supersets, status, a, members, which, k)
            found = disclosure._unsafe_family(*args)
            if not any(figures[m].held for m in [a, *members]):
                assert bool(found) == bool(reference_disclosure._unsafe_family(*args))
            if not found or len(found) == 1 and found[0] not in members:
                continue
            assert len(set(found)) == len(found) and set(found) <= set(members)
            assert any(not figures[b].held for b in found) or not figures[a].held
            difference = figures[a].values[which] - sum(figures[b].values[which] for b in found)
            # A cut search blames one figure without naming a family.
            assert not disclosure.is_safe_difference(difference, k) or len(found) == 1


def test_reported_families_are_unsafe_families():
    @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        figures=st.one_of(interval_figures(), block_figures(), world_figures()),
        k=st.integers(2, 30),
    )
    def check(figures, k):
        assert_reported_families_are_unsafe(figures, k)

    check()


def test_suppresses_about_as_much_as_the_reference():
    """On seeded random inputs the repairs of the fast search, which pick their family
    differently, withhold about as many figures as the reference's."""
    rng = random.Random(20261201)
    ours = reference = 0
    for _ in range(150):
        population = rng.randint(20, 160)
        figures = [Figure(FigureKey("visitors_daily", "province", "all", None),
                          people_array(range(population)))]  # fmt: skip
        for n in range(rng.randint(1, 30)):
            start = rng.randint(0, population - 1)
            length = rng.randint(1, min(60, population - start))
            key = FigureKey(rng.choice(TABLES), rng.choice(LEVELS), f"i{n}", n % 3)
            figures.append(Figure(key, people_array(range(start, start + length))))
        k = rng.randint(2, 30)
        ours += sum(s == SUPPRESSED_COMPLEMENTARY for s in audit(figures, k).values())
        reference += sum(
            s == SUPPRESSED_COMPLEMENTARY for s in reference_disclosure.audit(figures, k).values()
        )
    assert reference > 50  # the inputs do call for repairs
    assert ours <= 1.1 * reference
