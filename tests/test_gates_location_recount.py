"""The location gate's stays and moves, read as arrays (privacy_pipeline.gates.location_recount),
against the definitions of docs/location-privacy.md written out event by event."""

from __future__ import annotations

import datetime as dt
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


# ------------------------------------------------------------------ who held which number when

RECYCLED, REASSIGNED, SHARED = "+32498416600", "+32498416601", "+32498416602"
LINE_ROWS = [  # customer_id, msisdn, valid_from, valid_to (file customer_lines.csv, row n)
    ("OLD", RECYCLED, "2015-01-01T00:00:00Z", "2018-01-01T00:00:00Z"),  # 1: recycled since
    ("A", REASSIGNED, "2020-01-01T00:00:00Z", "2026-06-20T10:30:00+02:00"),  # 2
    ("B", REASSIGNED, "2026-06-20T10:30:00+02:00", None),  # 3: reassigned at 10:30
    ("C", SHARED, "2026-06-20T09:00:00+02:00", "2026-06-20T11:00:00+02:00"),  # 4: overlaps D
    ("TWICE", "+32498416603", "2021-03-14T09:38:30Z", "2026-06-20T10:00:00+02:00"),  # 5, 6:
    ("TWICE", "+32498416603", "2021-03-14T09:38:30Z", "2026-06-20T12:00:00+02:00"),  # conflict
    ("GHOST", "+32498416604", "2015-01-01T00:00:00Z", None),  # 7: unknown customer
    ("HEIR", "+32498416606", "2026-01-01T00:00:00Z", None),  # 8: shared with ERASED
]
CUSTOMER_ROWS = [  # customer_id, msisdn (of landing.customers)
    ("NEW", RECYCLED), ("OLD", RECYCLED), ("A", None), ("B", None), ("D", SHARED),
    ("C", None), ("TWICE", "+32498416603"), ("HOLDER", "+32498416604"),
    ("DUP", "+32498416605"), ("DUP", "+32498416605"), ("KEEPER", "+32498416605"),
    ("ERASED", "+32498416606"), ("HEIR", None),
]  # fmt: skip
# What staging decided: rows 5, 6 are a key conflict and row 7 an unknown customer; the two
# rows of DUP a key conflict (so DUP is no accepted customer).
REJECTED_LINE_ROWS = {5: "duplicate_key_conflict", 6: "duplicate_key_conflict",
                      7: "unknown_customer"}  # fmt: skip


def line_candidate(con, with_staging: bool):
    from privacy_pipeline.gates.candidate import Candidate

    con.execute("create schema landing")
    con.execute("create table landing.customers (customer_id varchar, msisdn varchar)")
    con.executemany("insert into landing.customers values (?, ?)", CUSTOMER_ROWS)
    con.execute(
        "create table landing.customer_lines (customer_id varchar, msisdn varchar, "
        "valid_from varchar, valid_to varchar, _source_file varchar, _source_row bigint)"
    )
    con.executemany(
        "insert into landing.customer_lines values (?, ?, ?, ?, 'customer_lines.csv', ?)",
        [(*row, n) for n, row in enumerate(LINE_ROWS, start=1)],
    )
    # ERASED asked for erasure: in no staging model, but their number is still theirs
    con.execute(
        "create table landing.data_subject_requests as select 'ERASED' as customer_id, "
        "'erasure' as kind, '2026-06-19T10:00:00+02:00' as received_at"
    )
    if with_staging:
        con.execute("create schema staging")
        con.execute(
            "create table staging.base_crm__customer_lines as select _source_file, "
            "_source_row as source_row, cast(null as varchar) as rejection_reason "
            "from landing.customer_lines"
        )
        for row, reason in REJECTED_LINE_ROWS.items():
            con.execute(
                "update staging.base_crm__customer_lines set rejection_reason = ? "
                "where source_row = ?",
                [reason, row],
            )
        con.execute(
            "create table staging.stg_crm__customers as select distinct customer_id "
            "from landing.customers where customer_id not in ('DUP', 'ERASED')"
        )
    ctx = SimpleNamespace(run_date=dt.date(2026, 6, 20), config={"timezone": "Europe/Brussels"})
    return Candidate(ctx, con)


def holders_at(con, table: str, msisdn: str, instant: str) -> list[str]:
    return [
        customer_id
        for (customer_id,) in con.execute(
            f"select customer_id from {table} where msisdn = ? "
            "and (valid_from is null or valid_from <= cast(? as timestamptz)) "
            "and (valid_to is null or cast(? as timestamptz) < valid_to) order by 1",
            [msisdn, instant, instant],
        ).fetchall()
    ]


@pytest.mark.parametrize("with_staging", [True, False], ids=["staging", "no_staging"])
def test_a_number_is_nobodys_only_at_the_instants_two_holders_share_it(with_staging):
    """Attack 11, finding 2c: a recycled number's old line (2015-2018) made the new holder's
    number nobody's for good, and the gate refused a correct night. Per the contract a
    number is ambiguous only at the instants two customers hold it."""
    import duckdb
    from privacy_pipeline.gates.landing_facts import customer_lines

    with duckdb.connect() as con:
        lines = customer_lines(line_candidate(con, with_staging))
        assert holders_at(con, lines, RECYCLED, "2026-06-20T10:00:00+02:00") == ["NEW"]
        assert holders_at(con, lines, RECYCLED, "2016-06-20T10:00:00+02:00") == []
        assert holders_at(con, lines, RECYCLED, "2014-06-20T10:00:00+02:00") == ["NEW"]
        assert holders_at(con, lines, REASSIGNED, "2026-06-20T10:29:59+02:00") == ["A"]
        assert holders_at(con, lines, REASSIGNED, "2026-06-20T10:30:00+02:00") == ["B"]
        # C's line and D's customers.msisdn overlap on D from 9:00 to 11:00 only
        assert holders_at(con, lines, SHARED, "2026-06-20T10:00:00+02:00") == []
        assert holders_at(con, lines, SHARED, "2026-06-20T11:00:00+02:00") == ["D"]
        # an erased customer (in no staging model) still holds customers.msisdn for good:
        # HEIR's line of it is shared, so its events are nobody's, as the models decide
        assert holders_at(con, lines, "+32498416606", "2026-06-20T10:00:00+02:00") == []


def test_the_holders_are_the_crm_rows_staging_accepted():
    """Attack 11, finding 2a, 2b, 2d: two conflicting versions of a line are no line (their
    customer keeps customers.msisdn all day), and neither a line of an unknown customer
    nor an account quarantined as a key conflict holds a number."""
    import duckdb
    from privacy_pipeline.gates.landing_facts import customer_lines

    with duckdb.connect() as con:
        lines = customer_lines(line_candidate(con, with_staging=True))
        for instant in ("2026-06-20T09:00:00+02:00", "2026-06-20T13:00:00+02:00"):
            assert holders_at(con, lines, "+32498416603", instant) == ["TWICE"]
        assert holders_at(con, lines, "+32498416604", "2026-06-20T10:00:00+02:00") == ["HOLDER"]
        assert holders_at(con, lines, "+32498416605", "2026-06-20T10:00:00+02:00") == ["KEEPER"]
