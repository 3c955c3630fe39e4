"""From the people behind every candidate figure to the release decision of each one.

Called by the dbt Python model ``int_location__release``: builds one
:class:`~privacy_pipeline.location.disclosure.Figure` per candidate count from its
people, adds differential-privacy noise when enabled, applies the re-publication rule
against what earlier releases of the date published (the release ledger), and lets the
disclosure auditor decide the rest. Returns one row per figure with its status.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import duckdb
import numpy as np

from privacy_pipeline.location.disclosure import (
    DAY_TABLES,
    EVENT_HOUR_TABLE,
    EVENT_TOTAL_TABLE,
    OD_FLOWS_TABLE,
    PRESENCE_TABLE,
    PUBLISHED,
    SUPPRESSED_BELOW_K,
    SUPPRESSED_REPUBLICATION,
    VISITOR_ORIGIN_TABLE,
    VISITORS_TABLE,
    Figure,
    FigureKey,
    area_figure,
    audit,
    day_figure,
    event_hour_figure,
    event_total_figure,
    is_below_k,
)
from privacy_pipeline.location.noise import dp_settings, ledger_path, noisy_counts
from privacy_pipeline.memberships import MembershipIndex

log = logging.getLogger(__name__)

# Below this share of people-hours published, the release log warns (information loss).
LOW_SHARE_WARNING = 0.5

# (column, SQL type) of the release table, in order.
RELEASE_SCHEMA = (
    ("table_name", "varchar"),
    ("area_level", "varchar"),
    ("area_id", "varchar"),
    ("hour_index", "integer"),
    ("people", "bigint"),
    ("released_people", "bigint"),
    ("status", "varchar"),
)


def figure_key(table_name: str, level: str, area: str, hour: int | None) -> FigureKey:
    if table_name == EVENT_TOTAL_TABLE:
        return event_total_figure(str(area))
    if table_name in DAY_TABLES:
        return FigureKey(table_name, level, str(area), None)
    if table_name == EVENT_HOUR_TABLE:
        return event_hour_figure(str(area), int(hour))
    return area_figure(level, str(area), int(hour))


# The tables of the figures in the order of their index in a figure code, and the width of
# each of a code's three fields: the other half of dbt macro location_figure_code (its
# comment says what each field holds, per table).
FIGURE_TABLES = (
    PRESENCE_TABLE,
    EVENT_HOUR_TABLE,
    EVENT_TOTAL_TABLE,
    VISITORS_TABLE,
    VISITOR_ORIGIN_TABLE,
    OD_FLOWS_TABLE,
)
FIELD_BITS = 20
HOURLY_TABLES = (PRESENCE_TABLE, EVENT_HOUR_TABLE)


class FigureCodes:
    """The key of a figure from its integer code (int_location__figure_members).

    ``key_rows``: (key_code, key_level, key_id) of int_location__key_codes: the areas,
    events and labels a code's fields name."""

    def __init__(self, key_rows: Iterable[tuple[int, str, str]]) -> None:
        self.parts = {int(code): (str(level), str(key_id)) for code, level, key_id in key_rows}

    def key(self, code: int) -> FigureKey:
        mask = (1 << FIELD_BITS) - 1
        table = FIGURE_TABLES[code >> (3 * FIELD_BITS)]
        first = self.parts[(code >> (2 * FIELD_BITS)) & mask]
        second, third = (code >> FIELD_BITS) & mask, code & mask
        if table in HOURLY_TABLES:
            return figure_key(table, first[0], first[1], third - 1)
        if table == EVENT_TOTAL_TABLE:
            return event_total_figure(first[1])
        if table == VISITOR_ORIGIN_TABLE:
            home_level, home = self.parts[second]
            return day_figure(table, first[0], first[1], home_level, home)
        labels = [self.parts[field][1] for field in (second, third) if field]
        return day_figure(table, first[0], first[1], *labels)


class CandidateFigures(NamedTuple):
    """What the release reads of the candidate figures (:func:`read_figure_people`)."""

    people: dict[FigureKey, np.ndarray]  # the figures the auditor relates, with their people
    counts: dict[FigureKey, int]  # the true count of every candidate figure


def candidate_figures(
    figure_rows: Sequence[tuple[int, FigureKey]],
    figure_ids: np.ndarray,
    person_ids: np.ndarray,
    k: int,
    held: Iterable[FigureKey] = (),
) -> CandidateFigures:
    """``figure_rows``: (figure id, its key), one per figure;
    ``figure_ids``/``person_ids``: one membership per position, sorted by figure then
    person (int_location__figure_members). Every figure's count of distinct people; the
    people of those of at least k and of the held ones (slices of one array)."""
    ids, people = np.asarray(figure_ids), np.asarray(person_ids)
    # Sorted, so a repeated (figure, person) follows its twin: keep the first of each.
    first = np.ones(len(ids), dtype=bool)
    first[1:] = (ids[1:] != ids[:-1]) | (people[1:] != people[:-1])
    if not first.all():
        ids, people = ids[first], people[first]
    del first
    # In the type of the ids: numpy would otherwise cast (copy) them to search.
    wanted = np.array([row[0] for row in figure_rows], dtype=ids.dtype)
    starts = np.searchsorted(ids, wanted, side="left")
    ends = np.searchsorted(ids, wanted, side="right")
    held_keys = set(held)
    related, counts = {}, {}
    for (_, key), start, end in zip(figure_rows, starts.tolist(), ends.tolist(), strict=True):
        counts[key] = end - start
        if end - start >= k or key in held_keys:
            related[key] = people[start:end]
    return CandidateFigures(people=related, counts=counts)


def republication(
    people: Mapping[FigureKey, np.ndarray],
    released: Mapping[FigureKey, int],
    held: Mapping[FigureKey, set[int]],
    k: int,
    counts: Mapping[FigureKey, int] | None = None,
) -> tuple[list[Figure], dict[FigureKey, str]]:
    """The figures the auditor sees, and the candidates refused for re-publication.

    A candidate whose value differs from one published earlier for the same date by 1 to
    k-1 is suppressed (``suppressed_republication``). One equal to a value recipients
    hold is held already: published, never suppressed. Every other held value stays in
    recipients' hands, so it joins the audit as a held figure: its people are today's
    people of the same figure, plus stand-ins for the people who have left it since
    (objectors), as many as it exceeded today's value by. The stand-ins are the first d
    of one shared pool: a held figure that lost d people is then inside another held
    figure that lost at least d, whenever today's people nest too. That never misses a
    true containment (the leavers of a figure inside another are among the other's
    leavers, so no more of them), at the price of some that are not; and today's figures
    are inside a held one exactly when they are inside its today's people.

    The people who left a held figure need not have left the data: a changed cell
    reference or late data can move them to another area (session 11's attack: one cell
    row moved a postal code of 30 people from Arlon to Wavre, and Arlon's earlier 35 minus
    today's postal code revealed the 5 others). So every figure of today with at most as
    many people outside the held figure's people of today as it lost
    (:meth:`MoverSearch.possible_movers`) may hold its leavers, and its people join the held figure:
    the auditor then relates them, conservatively (their union may nest more than any
    one release could).

    ``counts``: candidate figures known by their true count only, whose people were not
    read (see :func:`read_figure_people`): below k, and not held, so suppressed below k
    whatever the rest of the release holds; the auditor never relates them.
    """
    refused = {}
    figures = []
    first_stand_in = 1 + max((int(p[-1]) for p in people.values() if len(p)), default=0)
    # Only figures that may be published (k or more people) or are held can be
    # subtracted from a held figure: a figure below k is suppressed whatever it holds, and
    # the release reads the people of those only (read_figure_people).
    movers = MoverSearch({key: p for key, p in people.items() if len(p) >= k or key in held})
    for key in set(counts or ()) - set(people):
        if key in held or not any(is_below_k(v, k) for v in (counts[key], released[key])):
            raise ValueError(f"the people of candidate figure {key} were not read")
        refused[key] = SUPPRESSED_BELOW_K
    for key in sorted(set(people) | set(held), key=_row_order):
        current = people.get(key, np.empty(0, dtype=np.int64))
        earlier = held.get(key, set())
        value = released.get(key, 0)
        if key in people:
            if any(1 <= abs(value - before) <= k - 1 for before in earlier):
                refused[key] = SUPPRESSED_REPUBLICATION
            else:
                figures.append(Figure(key, current, released=value, held=value in earlier))
        for before in sorted(earlier - ({value} if key in people else set())):
            left = max(before - value, 0)
            stand_ins = np.arange(first_stand_in, first_stand_in + left, dtype=np.int64)
            moved = movers.possible_movers(key, current, left)
            together = np.unique(np.concatenate([current, moved, stand_ins]))
            figures.append(Figure(key, together, released=before, held=True))
    return figures, refused


class MoverSearch:
    """Which figures of today may hold the people who left a held figure since its earlier
    release: every figure with at most ``left`` people outside that figure's people of
    today (its leavers could be those). Indexed by person once, on first use."""

    def __init__(self, people: Mapping[FigureKey, np.ndarray]) -> None:
        self.keys = list(people)
        self.people = [np.asarray(people[key]) for key in self.keys]
        self.sizes = np.array([len(p) for p in self.people], dtype=np.int64)
        self.index: MembershipIndex | None = None

    def possible_movers(self, key: FigureKey, current: np.ndarray, left: int) -> np.ndarray:
        """The people of every other figure of today that may hold ``key``'s ``left``
        leavers (sorted, unique; empty when nobody left)."""
        if left <= 0 or not self.keys:
            return np.empty(0, dtype=np.int64)
        if self.index is None:
            self.index = MembershipIndex(self.people)
        outside = self.sizes - self.index.overlaps(current, len(self.keys))
        chosen = [
            self.people[i]
            for i in np.flatnonzero(outside <= left).tolist()
            if self.keys[i] != key and outside[i] > 0
        ]
        return np.unique(np.concatenate(chosen)) if chosen else np.empty(0, dtype=np.int64)


def decide_release(
    people: Mapping[FigureKey, np.ndarray],
    location_config: Mapping[str, Any],
    k: int,
    run_date: str,
    warehouse_dir: Path,
    held: Mapping[FigureKey, set[int]] | None = None,
    counts: Mapping[FigureKey, int] | None = None,
    frozen: bool = False,
) -> list[tuple]:
    """One row per candidate figure (see RELEASE_SCHEMA): its true count, the count that
    would be published (noisy when DP is on), and its status.

    ``frozen``: a re-publication whose inputs changed otherwise than by removals
    (location/inputs.py): only a figure whose value recipients already hold is published
    again, every other is ``suppressed_republication`` (or below k): what they hold
    already tells nothing new, and nothing else can be related to it soundly.

    ``people``: the people of each figure the auditor relates; ``counts``: the true count
    of every candidate figure, with those read by their count only (default: the sizes of
    ``people``)."""
    true_counts = {key: len(who) for key, who in people.items()}
    true_counts.update(counts or {})
    settings = dp_settings(location_config)
    if settings.enabled:
        # Noise fixed per figure (the noise ledger): a rerun cannot be averaged, and a
        # changed figure differs from its earlier release by exactly its true change,
        # which the re-publication rule then judges like an exact count.
        released = noisy_counts(
            true_counts, settings, run_date, ledger_path(settings, warehouse_dir)
        )
    else:
        released = true_counts
    if frozen:
        figures, status = [], frozen_release(released, held or {}, k)
    else:
        figures, status = republication(people, released, held or {}, k, counts=true_counts)
        status.update(audit(figures, k))
        for figure in figures:
            if figure.held and figure.key in people and figure.released == released[figure.key]:
                status[figure.key] = PUBLISHED
    candidate_people = sum(true_counts.values())
    kept = sum(true_counts[key] for key, outcome in status.items() if outcome == PUBLISHED)
    if candidate_people and kept < LOW_SHARE_WARNING * candidate_people:
        log.warning(
            "location release for %s publishes only %.0f%% of the people-hours of its "
            "candidate figures: see location.suppression_summary",
            run_date,
            100 * kept / candidate_people,
        )
    log.info(
        "location release for %s: %d figures, %d published, %d held from earlier releases "
        "(dp %s%s)",
        run_date,
        len(status),
        sum(1 for outcome in status.values() if outcome == PUBLISHED),
        sum(1 for figure in figures if figure.held),
        "on" if settings.enabled else "off",
        "; frozen: inputs changed since an earlier release of the date" if frozen else "",
    )
    return [
        (key.table, key.level, key.id, key.hour, true_counts[key], released[key], status[key])
        for key in sorted(true_counts, key=_row_order)
    ]


def frozen_release(
    released: Mapping[FigureKey, int], held: Mapping[FigureKey, set[int]], k: int
) -> dict[FigureKey, str]:
    """The status of every candidate figure of a frozen re-publication."""
    status = {}
    for key, value in released.items():
        if value in held.get(key, ()):
            status[key] = PUBLISHED
        elif is_below_k(value, k):
            status[key] = SUPPRESSED_BELOW_K
        else:
            status[key] = SUPPRESSED_REPUBLICATION
    return status


def _row_order(key: FigureKey) -> tuple:
    return (key.table, key.level, key.id, -1 if key.hour is None else key.hour)


def read_figure_people(
    con: duckdb.DuckDBPyConnection,
    members_sql: str,
    codes: FigureCodes,
    k: int,
    held: Iterable[FigureKey] = (),
) -> CandidateFigures:
    """The candidate figures, from the rows of ``members_sql`` (figure_code, person_id),
    read once, sorted, as two integer arrays; ``codes`` decodes the figures' keys.

    Every figure's true count; the people only of the figures of at least k people and of
    those recipients hold from earlier releases of the date. A figure below k is
    suppressed whatever else the release holds and the auditor never relates it, so the
    rest of the release never sees its people: most candidate figures are below k (88%
    at 100M events, the visitor-origin and origin-destination combinations), though few
    of the pairs are.
    """
    # 32-bit people: half the memory of the read (a person id past 2^31 fails loudly).
    arrays = con.execute(
        f"""
        select cast(figure_code as bigint) as figure_code,
               cast(person_id as integer) as person_id
        from ({members_sql}) as members
        order by figure_code, person_id
        """
    ).fetchnumpy()
    figure_codes, person_ids = arrays["figure_code"], arrays["person_id"]
    del arrays
    starts_a_figure = np.ones(len(figure_codes), dtype=bool)
    starts_a_figure[1:] = figure_codes[1:] != figure_codes[:-1]
    figure_rows = [(code, codes.key(code)) for code in figure_codes[starts_a_figure].tolist()]
    return candidate_figures(figure_rows, figure_codes, person_ids, k, held)


def as_relation(con: duckdb.DuckDBPyConnection, rows: list[tuple]) -> duckdb.DuckDBPyRelation:
    """The release rows as a typed DuckDB relation (what the dbt Python model returns).

    DuckDB scans a dict of NumPy arrays in place (found by its variable name): 0.05 s for
    40,000 figures, where an Arrow table made pyarrow import pandas and typed lists bound
    as parameters took 2.5 s.
    """
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in RELEASE_SCHEMA]
    release_columns = {  # noqa: F841 (read by the query below, by name)
        name: np.array(values, dtype=object)
        for (name, _), values in zip(RELEASE_SCHEMA, columns, strict=True)
    }
    select_list = ", ".join(
        f"cast({name} as {sql_type}) as {name}" for name, sql_type in RELEASE_SCHEMA
    )
    return con.sql(f"select {select_list} from release_columns")


# The release on Spark (docs/spark.md): the members are collected from Spark as Arrow and
# read by the same DuckDB code; the rows go back as a Spark DataFrame of the same schema.
SPARK_TYPES = {"varchar": "string", "integer": "int", "bigint": "bigint"}


def read_figure_people_from_spark(
    members, codes: FigureCodes, k: int, held: Iterable[FigureKey] = ()
) -> CandidateFigures:
    """``read_figure_people`` of a Spark DataFrame of figure members (collected once)."""
    columns = members.select("figure_code", "person_id")
    with duckdb.connect() as con:
        con.register("members_arrow", columns.toArrow())
        return read_figure_people(con, "select * from members_arrow", codes, k, held)


ARROW_TYPES = {"varchar": "string", "integer": "int32", "bigint": "int64"}


def as_spark_dataframe(spark, rows: list[tuple]):
    """The release rows as a typed Spark DataFrame (what the dbt Python model returns).

    Handed over as an Arrow table: from a list of Python rows Spark makes an RDD of
    pickled rows, which its executors read back through Python worker processes (a minute
    of worker start-up for a few rows in local mode); an Arrow stream is read by the JVM.
    """
    import pyarrow as pa

    columns = list(zip(*rows, strict=True)) if rows else [() for _ in RELEASE_SCHEMA]
    table = pa.table(
        {
            name: pa.array(values, type=getattr(pa, ARROW_TYPES[sql_type])())
            for (name, sql_type), values in zip(RELEASE_SCHEMA, columns, strict=True)
        }
    )
    schema = ", ".join(f"{name} {SPARK_TYPES[sql_type]}" for name, sql_type in RELEASE_SCHEMA)
    return spark.createDataFrame(table, schema=schema)
