"""The production disclosure auditor decides exactly what the frozen reference decides.

tests/support/reference_disclosure.py is the auditor as it was before it was made to
scale; the fast one must give every figure the same status on any input (random worlds
of presence, events, visits and moves; random unions of blocks of people, with ties,
nesting, overlaps, noisy released values and held figures; k from 2 to 30; a small
search limit so that cut searches are compared too).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from privacy_pipeline.location import disclosure
from privacy_pipeline.location.disclosure import Figure, FigureKey, audit, people_array

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


def assert_same(figures: list[Figure], k: int) -> None:
    expected = reference_disclosure.audit(figures, k)
    assert audit(figures, k) == expected


SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))


@SETTINGS
@given(figures=world_figures(), k=st.integers(2, 30))
def test_same_decisions_on_random_worlds(figures, k):
    assert_same(figures, k)


@SETTINGS
@given(figures=block_figures(), k=st.integers(2, 30))
def test_same_decisions_on_random_unions_of_blocks(figures, k):
    assert_same(figures, k)


@SETTINGS
@given(figures=interval_figures(), k=st.integers(2, 30))
def test_same_decisions_on_many_nested_intervals(figures, k):
    assert_same(figures, k)


@pytest.mark.parametrize(("limit", "options"), [(3, 0), (12, 10**9), (4096, 0), (4096, 10**9)])
def test_same_decisions_when_searches_are_cut_and_every_merge_is_vectorised(
    limit, options, monkeypatch
):
    monkeypatch.setattr(disclosure, "_SMALL_MERGE", 0)
    monkeypatch.setattr(disclosure, "_SMALL_OPTIONS", options)
    monkeypatch.setattr(disclosure, "SEARCH_LIMIT", limit)
    monkeypatch.setattr(reference_disclosure, "SEARCH_LIMIT", limit)

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(figures=block_figures(), k=st.integers(2, 30))
    def check(figures, k):
        assert_same(figures, k)

    check()

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(figures=interval_figures(), k=st.integers(2, 30))
    def check_intervals(figures, k):
        assert_same(figures, k)

    check_intervals()


def test_the_reference_is_not_the_production_module():
    assert reference_disclosure.audit is not audit
    assert reference_disclosure.containment is not disclosure.containment


def assert_same_witnesses(figures: list[Figure], k: int) -> None:
    """Every family search (before any repair) names the same witness, figure for figure
    and in the same order: the witness decides which figure a repair suppresses."""
    order = sorted(range(len(figures)), key=lambda i: reference_disclosure._rank(figures[i]))
    rank = {i: r for r, i in enumerate(order)}
    status = {i: disclosure.PUBLISHED for i in range(len(figures))}
    supersets = reference_disclosure.containment(figures, order)
    assert disclosure.containment(figures, order) == supersets
    for a in order:
        members = [
            b
            for b in order
            if a in supersets[b] and reference_disclosure._above(figures, rank, a, b)
        ]
        for which in range(2):
            args = (figures, rank, supersets, status, a, members, which, k)
            assert disclosure._unsafe_family(*args) == reference_disclosure._unsafe_family(*args)


@pytest.mark.parametrize("options", [0, 10**9])
def test_same_witnesses_in_every_family_search(options, monkeypatch):
    monkeypatch.setattr(disclosure, "_SMALL_MERGE", 0)
    monkeypatch.setattr(disclosure, "_SMALL_OPTIONS", options)

    @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        figures=st.one_of(interval_figures(), block_figures(), world_figures()),
        k=st.integers(2, 30),
    )
    def check(figures, k):
        assert_same_witnesses(figures, k)

    check()
