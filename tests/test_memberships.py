"""The shared index of memberships by person (privacy_pipeline.memberships)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from privacy_pipeline.memberships import (
    LARGEST_ID,
    MembershipIndex,
    memberships_by_person,
    runs,
)

people_lists = st.lists(
    st.lists(st.integers(0, LARGEST_ID), max_size=12, unique=True).map(
        lambda ids: np.array(ids, dtype=np.int64)
    ),
    max_size=10,
)


@given(people_lists, st.randoms())
def test_memberships_are_every_pair_sorted_by_person_then_figure(people, random):
    figures = random.sample(range(LARGEST_ID), len(people))
    persons, owners = memberships_by_person(people, figures)
    expected = sorted(
        (int(person), figure) for who, figure in zip(people, figures, strict=True) for person in who
    )
    assert list(zip(persons.tolist(), owners.tolist(), strict=True)) == expected
    assert persons.dtype == owners.dtype == np.int32


def test_figures_default_to_their_position():
    persons, owners = memberships_by_person([np.array([5, 1]), np.array([], dtype=np.int64)])
    assert persons.tolist() == [1, 5] and owners.tolist() == [0, 0]


@pytest.mark.parametrize(
    ("people", "figures", "what"),
    [
        ([np.array([-1])], None, "person"),
        ([np.array([LARGEST_ID + 1])], None, "person"),
        ([np.array([1])], [LARGEST_ID + 1], "figure"),
    ],
)
def test_an_id_that_cannot_be_packed_is_refused(people, figures, what):
    with pytest.raises(ValueError, match=f"a {what} id is outside"):
        memberships_by_person(people, figures)


@given(st.lists(st.integers(-5, 5)).map(sorted))
def test_runs_are_what_unique_finds(values):
    values = np.array(values, dtype=np.int64)
    distinct, starts, ends = runs(values)
    expected, expected_starts, counts = np.unique(values, return_index=True, return_counts=True)
    assert distinct.tolist() == expected.tolist()
    assert starts.tolist() == expected_starts.tolist()
    assert (ends - starts).tolist() == counts.tolist()


@given(people_lists, st.integers(0, LARGEST_ID))
def test_the_index_finds_the_figures_counting_a_person(people, stranger):
    index = MembershipIndex(people)
    for person in {int(p) for who in people for p in who} | {stranger}:
        expected = sorted({f for f, who in enumerate(people) if person in who.tolist()})
        assert index.holders(person).tolist() == expected


small_people_lists = st.lists(
    st.lists(st.integers(0, 40), max_size=12, unique=True).map(
        lambda ids: np.array(sorted(ids), dtype=np.int64)
    ),
    max_size=8,
)


@given(small_people_lists, st.lists(st.integers(0, 45), max_size=20, unique=True))
def test_overlaps_count_the_people_each_figure_shares_with_a_set(people, wanted):
    index = MembershipIndex(people)
    wanted = np.array(sorted(wanted), dtype=np.int64)
    expected = [len(np.intersect1d(who, wanted)) for who in people]
    assert index.overlaps(wanted, len(people)).tolist() == expected
