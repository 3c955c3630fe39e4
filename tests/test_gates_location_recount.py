"""The location gate's stays and moves, read as arrays (privacy_pipeline.gates.location_recount),
against the definitions of docs/location-privacy.md written out event by event."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from privacy_pipeline.gates.location_recount import (
    NO_AREA,
    TIME_BANDS,
    moves,
    stays,
    time_band_codes,
    whole_persons,
)


def stays_by_definition(sightings, min_stay):
    """{(person, area): visit}: a stay is a run of a person's consecutive sightings in one
    area (a sighting in no area stands alone); a visit is a stay of at least min_stay."""
    found = {}
    run = None  # (person, area, first seen, last seen)
    for person, seen_at, area in [*sightings, (None, None, None)]:
        if run and (person, area) == run[:2] and area != NO_AREA:
            run = (*run[:3], seen_at)
            continue
        if run:
            key = run[:2]
            found[key] = found.get(key, False) or run[3] - run[2] >= min_stay
        run = (person, area, seen_at, seen_at)
    return found


def moves_by_definition(sightings, bands):
    """{(person, origin, destination, band)}: two consecutive sightings of a person in two
    different areas, with the band of the arrival."""
    found = set()
    for before, after, band in zip(sightings, sightings[1:], bands[1:], strict=False):
        same_person, areas = before[0] == after[0], (before[2], after[2])
        if same_person and NO_AREA not in areas and areas[0] != areas[1]:
            found.add((after[0], *areas, band))
    return found


def random_day(seed: int, people: int = 20, sightings: int = 400):
    """Sightings in each person's time order: (person, seen_at in minutes, area)."""
    rng = np.random.default_rng(seed)
    person = np.sort(rng.integers(1, people + 1, sightings)).astype(np.int32)
    seen_at = np.zeros(sightings, dtype=np.int64)
    for who in np.unique(person):
        mine = person == who
        seen_at[mine] = np.sort(rng.integers(0, 24 * 60, mine.sum()))
    area = rng.choice([1, 2, 3, NO_AREA], size=sightings, p=[0.4, 0.3, 0.2, 0.1])
    band = rng.integers(0, len(TIME_BANDS), sightings).astype(np.int8)
    return person, seen_at, area.astype(np.int32), band


@pytest.mark.parametrize("seed", range(8))
def test_stays_and_moves_follow_the_definitions(seed):
    person, seen_at, area, band = random_day(seed)
    sightings = list(zip(person.tolist(), seen_at.tolist(), area.tolist(), strict=True))

    who, where, visit = stays(person, seen_at, area, 30)
    found = dict(zip(zip(who.tolist(), where.tolist(), strict=True), visit.tolist(), strict=True))
    assert len(found) == len(who)  # one row per person and area
    assert found == stays_by_definition(sightings, 30)

    moved = set(zip(*(column.tolist() for column in moves(person, area, band)), strict=True))
    assert moved == moves_by_definition(sightings, band.tolist())


def test_a_stay_of_exactly_the_minimum_is_a_visit_and_one_unit_less_is_not():
    person = np.array([1, 1, 1, 2, 2], dtype=np.int32)
    seen_at = np.array([0, 10, 30, 0, 29], dtype=np.int64)
    area = np.array([5, 5, 5, 5, 5], dtype=np.int32)
    who, where, visit = stays(person, seen_at, area, 30)
    assert list(zip(who.tolist(), where.tolist(), visit.tolist(), strict=True)) == [
        (1, 5, True),
        (2, 5, False),
    ]


def test_an_a_b_a_day_is_two_moves_and_two_short_stays_in_a():
    person = np.array([1, 1, 1, 1], dtype=np.int32)
    seen_at = np.array([0, 20, 40, 60], dtype=np.int64)
    area = np.array([1, 1, 2, 1], dtype=np.int32)
    band = np.zeros(4, dtype=np.int8)
    who, where, visit = stays(person, seen_at, area, 30)
    assert dict(zip(where.tolist(), visit.tolist(), strict=True)) == {1: False, 2: False}
    moved = set(zip(*(column.tolist() for column in moves(person, area, band)), strict=True))
    assert moved == {(1, 1, 2, 0), (1, 2, 1, 0)}


def test_time_bands_follow_the_local_clock_hour():
    names = [band for _, band in TIME_BANDS]
    codes = time_band_codes(np.arange(24, dtype=np.int8))
    assert [names[code] for code in codes] == (
        ["night"] * 6 + ["morning"] * 4 + ["midday"] * 6 + ["evening"] * 4 + ["late"] * 4
    )


@pytest.mark.parametrize("batch_rows", [1, 2, 3, 5, 100])
def test_batches_are_recut_to_hold_whole_persons(batch_rows):
    person = np.array([1, 1, 1, 2, 3, 3, 3, 3, 4], dtype=np.int32)
    order = np.arange(len(person), dtype=np.int64)
    batches = (
        {"person": person[i : i + batch_rows], "row": order[i : i + batch_rows]}
        for i in range(0, len(person), batch_rows)
    )
    empty = {"person": person[:0], "row": order[:0]}
    recut = list(whole_persons(batches, empty))
    assert np.concatenate([batch["row"] for batch in recut]).tolist() == order.tolist()
    for batch in recut:
        others = np.concatenate([b["person"] for b in recut if b is not batch])
        assert not np.isin(batch["person"], others).any()  # nobody split over two batches


def test_no_rows_give_one_empty_batch():
    empty = {"person": np.empty(0, dtype=np.int32)}
    assert [len(batch["person"]) for batch in whole_persons(iter(()), empty)] == [0]
    batches = iter([{"person": np.empty(0, dtype=np.int32)}])
    assert [len(batch["person"]) for batch in whole_persons(batches, empty)] == [0]


@pytest.mark.parametrize(
    ("delivered", "read_as"),
    [
        ("2026-06-20T10:15:30.5+02:00", "2026-06-20 08:15:30.5+00"),
        ("2026-06-20T10:15:30,5+02:00", "2026-06-20 08:15:30.5+00"),  # ISO 8601's decimal comma
        ("2026-06-20t08:15:30z", "2026-06-20 08:15:30+00"),
        ("2026-06-20T10:15:30", None),  # no offset: places nobody
        ("2026-06-20T10:15:30+15:00", None),  # no such offset
    ],
)
def test_the_recount_reads_a_text_instant_as_the_contract_does(delivered, read_as):
    """Staging reads network_events.event_at with the contract's pattern and reading
    (contract.TRUE_INSTANT_PATTERN, instant_sql): the gate reads the same instants."""
    import duckdb
    from privacy_pipeline.gates.location_recount import delivered_instant

    candidate = SimpleNamespace(columns=lambda schema, table: {"event_at": "VARCHAR"})
    with duckdb.connect() as con:
        con.execute("set timezone = 'UTC'")
        got, expected = con.execute(
            f"select {delivered_instant(candidate, 'network_events', 'event_at')}, "
            "cast(? as timestamptz) from (select ? as event_at)",
            [read_as, delivered],
        ).fetchone()
    assert got == expected
