"""The location gate's recount: who stands behind every location figure of the run date,
recomputed from the landing zone by the gate's own code, never from the location models.

Shaped like the landing floor (``privacy_pipeline.bench.LANDING_FLOOR_QUERY``): one scan
of the landing network events keeps the sightings of the people who may be counted, with
the person, the cell and the areas as small integers (``counted_sightings``); every
figure is then a count over small integer rows:

- presence and events from the distinct person hours (``person_hours``, ``event_hours``);
- visits and moves (docs/location-privacy.md, "Visitors and moves") from the sightings in
  each person's time order, read once, sorted, as arrays (``visits``): a stay and a move
  are defined on consecutive events, which no hourly summary keeps;
- the people behind a set of figures (the published ones for the disclosure rule, those
  of an earlier release for the re-publication rule) read once as integer arrays grouped
  per figure (``members_of``).

Figures are keyed by integer codes (``figure_rows_sql``: table_name, level, a, b, c,
hour_index); ``recount`` gives each its published key (area joined with its extra key
columns by chr(31), hour) and its number of people.
"""

from __future__ import annotations

import numpy as np

from privacy_pipeline.contract import TRUE_INSTANT_PATTERN, instant_sql
from privacy_pipeline.gates.candidate import Candidate, quote, sql_literal
from privacy_pipeline.gates.landing_facts import (
    area_name,
    customer_lines,
    customers,
    location_counted_customers,
    text,
    timestamp,
)

AREA_LEVELS = ("postal_code", "municipality", "province")
# Codes of the whole-day figures' extra key columns (the names are the tables' values).
VISITOR_CLASSES = ("resident", "visitor", "transit")
ORIGIN_LEVELS = ("municipality", "province")
# (first local clock hour after the band, band) of a move's arrival.
TIME_BANDS = ((6, "night"), (10, "morning"), (16, "midday"), (20, "evening"), (24, "late"))
# hour_index of a figure over the whole run date (event totals, visits and moves).
WHOLE_DAY = -1
# An area code for a sighting whose cell names no area at that level.
NO_AREA = -1


def landing_type(candidate: Candidate, table: str, column: str) -> str:
    return candidate.columns("landing", table).get(column, "VARCHAR").upper()


def delivered_text(candidate: Candidate, table: str, column: str) -> str:
    """A text value of the largest landing table as delivered: trimmed text for CSV, the
    typed value of Parquet as it is (no cast and trim of 100M typed values)."""
    if landing_type(candidate, table, column) == "VARCHAR":
        return text(column)
    return f"cast({quote(column)} as varchar)"


def delivered_instant(candidate: Candidate, table: str, column: str) -> str:
    """An instant of the largest landing table: typed Parquet values as they are, text only
    when it is a true ISO 8601 instant with an offset (the contract's reading, as staging's:
    a local time without offset is malformed and places nobody)."""
    if landing_type(candidate, table, column) == "TIMESTAMP WITH TIME ZONE":
        return quote(column)
    value = f"upper({text(column)})"
    return (
        f"case when regexp_full_match({value}, {sql_literal(TRUE_INSTANT_PATTERN)}) "
        f"then {instant_sql(value)} end"
    )


def counted_people(candidate: Candidate) -> str:
    """customer_id, person: the customers the gate may count, numbered from 1 (the number
    means nothing outside this suite's connection)."""
    return candidate.materialise(
        "gate_counted_people",
        f"""
        select customer_id, cast(row_number() over (order by customer_id) as integer) as person
        from (select distinct customer_id from {location_counted_customers(candidate)})
             as counted
        """,
    )


def accepted_cells_sql(candidate: Candidate) -> str:
    """The landing cells with an id and a postal code, as trimmed text, that staging accepted
    (all of them in a candidate without staging: a quarantined cell row is no area)."""
    accepted = (
        f"and {text('cell_id')} in (select cast(cell_id as varchar) "
        "from staging.stg_reference__cells)"
        if candidate.has_table("staging", "stg_reference__cells")
        else ""
    )
    return f"""
        select distinct {text("cell_id")} as cell_id, {text("postal_code")} as postal_code,
               {area_name("municipality")} as municipality,
               {area_name("province")} as province
        from landing.cells
        where {text("cell_id")} is not null and {text("postal_code")} is not null {accepted}
    """


def areas(candidate: Candidate) -> str:
    """level, area, code: every area of the accepted cells, numbered per level from 1."""
    return candidate.materialise(
        "gate_location_areas",
        f"""
        with cells as ({accepted_cells_sql(candidate)}),
        named as (
            select 'postal_code' as level, postal_code as area from cells
            union select 'municipality', municipality from cells where municipality is not null
            union select 'province', province from cells where province is not null
        )
        select level, area,
               cast(row_number() over (partition by level order by area) as integer) as code
        from named
        """,
    )


def area_code(areas_table: str, level: str, column: str, alias: str) -> str:
    """A left join giving ``{alias}.code``, the code of ``column`` at ``level``."""
    return (
        f"left join {areas_table} as {alias} "
        f"on {alias}.level = '{level}' and {alias}.area = {column}"
    )


def cells(candidate: Candidate) -> str:
    """cell_id, cell (an integer in cell_id order: ordering by it orders by cell_id), and
    the codes of its postal code, municipality and province (NO_AREA when it names none)."""
    named = areas(candidate)
    return candidate.materialise(
        "gate_location_cells",
        f"""
        select c.cell_id,
               cast(dense_rank() over (order by c.cell_id) as integer) as cell,
               pc.code as postal_code,
               coalesce(mu.code, {NO_AREA}) as municipality,
               coalesce(pr.code, {NO_AREA}) as province
        from ({accepted_cells_sql(candidate)}) as c
        {area_code(named, "postal_code", "c.postal_code", "pc")}
        {area_code(named, "municipality", "c.municipality", "mu")}
        {area_code(named, "province", "c.province", "pr")}
        """,
    )


def counted_sightings(candidate: Candidate) -> str:
    """person, cell, event_at, hour_index, postal_code, municipality, province (codes): one
    row per sighting of the run date of a person the gate may count.

    The one scan of the landing network events, joined to the lines of the counted
    customers (a small table) and to the accepted cells. A sighting from before the
    account was created, or before its migration from Scarlet (the old policy applied),
    is nobody's; a number is nobody's at the instants two accepted
    customers hold it (``customer_lines``). The hour of D is
    ``floor((event_at - start of D) / 1 hour)``.
    """
    start, end = candidate.run_start_sql, candidate.run_end_sql
    return candidate.materialise(
        "gate_counted_sightings",
        f"""
        with accounts as (
            select customer_id,
                   greatest(max(created_at), coalesce(max(migrated_at), max(created_at)))
                       as counted_from
            from {customers(candidate)}
            group by customer_id
        ),
        counted_lines as (
            select l.msisdn, p.person,
                   greatest(coalesce(l.valid_from, '-infinity'::timestamptz), a.counted_from)
                       as valid_from,
                   l.valid_to
            from {customer_lines(candidate)} as l
            join {counted_people(candidate)} as p using (customer_id)
            join accounts as a using (customer_id)
        ),
        sightings as (
            select {delivered_text(candidate, "network_events", "msisdn")} as msisdn,
                   {delivered_text(candidate, "network_events", "cell_id")} as cell_id,
                   {delivered_instant(candidate, "network_events", "event_at")} as event_at
            from landing.network_events
        )
        select l.person, c.cell, s.event_at,
               cast(floor((epoch(s.event_at) - epoch({start})) / 3600) as integer)
                   as hour_index,
               c.postal_code, c.municipality, c.province
        from sightings as s
        join counted_lines as l
          on l.msisdn = s.msisdn
         and (l.valid_from is null or l.valid_from <= s.event_at)
         and (l.valid_to is null or s.event_at < l.valid_to)
        join {cells(candidate)} as c on c.cell_id = s.cell_id
        where s.event_at >= {start} and s.event_at < {end}
        """,
    )


def person_hours(candidate: Candidate) -> str:
    """Distinct person, hour_index and place (the three area codes): presence."""
    return candidate.materialise(
        "gate_person_hours",
        f"""select distinct person, hour_index, postal_code, municipality, province
            from {counted_sightings(candidate)}""",
    )


def events(candidate: Candidate) -> str:
    """event, event_id, cell, starts_at, ends_at: the landing events' cells (an event is
    numbered from 1 in event_id order)."""
    return candidate.materialise(
        "gate_location_events",
        f"""
        select cast(dense_rank() over (order by sites.event_id) as integer) as event,
               sites.event_id, c.cell, sites.starts_at, sites.ends_at
        from (
            select distinct {text("ec.event_id")} as event_id, {text("ec.cell_id")} as cell_id,
                   {timestamp("e.starts_at")} as starts_at, {timestamp("e.ends_at")} as ends_at
            from landing.event_cells as ec
            join landing.events as e on {text("e.event_id")} = {text("ec.event_id")}
        ) as sites
        join {cells(candidate)} as c on c.cell_id = sites.cell_id
        """,
    )


def event_hours(candidate: Candidate) -> str:
    """Distinct person, hour_index and event: a person is at an event in an hour when seen
    at one of its cells between its start and its end (both included) in that hour."""
    return candidate.materialise(
        "gate_event_hours",
        f"""
        select distinct s.person, s.hour_index, e.event
        from {counted_sightings(candidate)} as s
        join {events(candidate)} as e
          on e.cell = s.cell and s.event_at between e.starts_at and e.ends_at
        """,
    )


def homes_sql(candidate: Candidate) -> str:
    """person and the codes of the home postal code, municipality and province of every
    counted customer: the CRM postal code, rolled up through the accepted cells (none
    if it is in no cell). A customer delivered with two different postal codes has no
    home."""
    named = areas(candidate)
    return f"""
        with delivered as (
            select {text("customer_id")} as customer_id, min({text("postal_code")}) as postal_code
            from landing.customers
            where {text("customer_id")} is not null
            group by {text("customer_id")}
            having count(distinct {text("postal_code")}) <= 1
        ),
        rolled_up as (
            select distinct postal_code, municipality, province
            from ({accepted_cells_sql(candidate)}) as cells
        )
        select p.person, pc.code as postal_code, mu.code as municipality, pr.code as province
        from delivered as d
        join {counted_people(candidate)} as p using (customer_id)
        left join rolled_up as r on r.postal_code = d.postal_code
        {area_code(named, "postal_code", "d.postal_code", "pc")}
        {area_code(named, "municipality", "r.municipality", "mu")}
        {area_code(named, "province", "r.province", "pr")}
    """


def local_clock_hours(candidate: Candidate) -> np.ndarray:
    """The Europe/Brussels clock hour (the run's time zone) of each hour_index of D: a
    lookup table, as D's hours are whole hours of that clock (23 or 25 on DST days)."""
    timezone = candidate.ctx.config.get("timezone", "Europe/Brussels")
    rows = candidate.rows(f"""
        select hour((({candidate.run_start_sql}) + to_hours(index))
                    at time zone {sql_literal(timezone)})
        from range(0, 26) as hours(index) order by index
    """)
    return np.array([row[0] for row in rows], dtype=np.int8)


def time_band_codes(clock_hours: np.ndarray) -> np.ndarray:
    """The time band code (index into TIME_BANDS) of each clock hour."""
    return np.searchsorted([end for end, _ in TIME_BANDS], clock_hours, side="right").astype(
        np.int8
    )


def stays(person: np.ndarray, seen_at: np.ndarray, area: np.ndarray, min_stay: int):
    """From sightings in each person's time order: (person, area, visit) once per person and
    area seen, ``visit`` when one of the person's stays there lasted at least ``min_stay``
    (same unit as ``seen_at``). A stay is a run of consecutive sightings of the person in
    the area; a sighting in no area (NO_AREA) is a stay of its own."""
    if not len(person):
        return person, area, np.zeros(0, dtype=bool)
    begins = np.ones(len(person), dtype=bool)
    begins[1:] = (person[1:] != person[:-1]) | (area[1:] != area[:-1]) | (area[1:] == NO_AREA)
    firsts = np.flatnonzero(begins)
    lasts = np.append(firsts[1:], len(person)) - 1
    long_enough = seen_at[lasts] - seen_at[firsts] >= min_stay
    who, where = person[firsts], area[firsts]
    # One row per (person, area): sort the stays by it, then any stay long enough.
    key = (who.astype(np.int64) << 32) | (where.astype(np.int64) & 0xFFFFFFFF)
    order = np.argsort(key, kind="stable")
    key = key[order]
    groups = np.flatnonzero(np.append(True, key[1:] != key[:-1]))
    return (
        who[order][groups],
        where[order][groups],
        np.logical_or.reduceat(long_enough[order], groups),
    )


def moves(person: np.ndarray, area: np.ndarray, band: np.ndarray):
    """(person, origin, destination, band of the arrival) of every two consecutive sightings
    of a person in two different areas (never in or out of no area)."""
    arrivals = (
        np.flatnonzero(
            (person[1:] == person[:-1])
            & (area[1:] != area[:-1])
            & (area[1:] != NO_AREA)
            & (area[:-1] != NO_AREA)
        )
        + 1
    )
    return person[arrivals], area[arrivals - 1], area[arrivals], band[arrivals]


# Sightings read per batch in each person's time order (bounded memory at any scale).
BATCH_ROWS = 2_000_000


def sightings_in_time_order(candidate: Candidate, batch_rows: int = BATCH_ROWS):
    """The counted sightings ordered by person, instant and cell id, as batches of numpy
    arrays (person, seen_at in microseconds, hour_index, the three area codes), each
    holding every sighting of its people (``whole_persons``)."""
    reader = candidate.con.sql(f"""
        select person, epoch_us(event_at) as seen_at, cast(hour_index as tinyint) as hour_index,
               postal_code, municipality, province
        from {counted_sightings(candidate)}
        order by person, event_at, cell
    """).to_arrow_reader(batch_rows)
    empty = {field.name: np.empty(0, dtype=field.type.to_pandas_dtype()) for field in reader.schema}
    batches = (
        {name: batch.column(name).to_numpy() for name in batch.schema.names} for batch in reader
    )
    yield from whole_persons(batches, empty)


def whole_persons(batches, empty: dict[str, np.ndarray]):
    """Re-cut batches of rows ordered by ``person`` so that each holds all the rows of its
    people: a batch's last person is carried to the next one. Yields ``empty`` when there
    are no rows at all."""
    carried = empty
    for read in batches:
        read = {name: np.concatenate([carried[name], column]) for name, column in read.items()}
        person = read["person"]
        if not len(person):
            continue
        last_person_starts = int(np.searchsorted(person, person[-1], side="left"))
        carried = {name: column[last_person_starts:] for name, column in read.items()}
        if last_person_starts:
            yield {name: column[:last_person_starts] for name, column in read.items()}
            empty = None
    if len(carried["person"]) or empty is not None:
        yield carried


def visits(candidate: Candidate) -> tuple[str, str]:
    """(areas seen, moves): ``gate_location_areas_seen`` (person, level, area, class,
    home_municipality, home_province: each person seen in an area on D with exactly one
    class, resident / visitor / transit as codes of VISITOR_CLASSES) and
    ``gate_location_moves`` (person, level, origin, destination, band), per the
    definitions of docs/location-privacy.md.

    The sightings are read once in each person's time order (ties by cell id, so the same
    data always give the same stays and moves) as integer arrays, a batch of whole
    persons at a time; stays and moves are runs and changes along those arrays, at the
    three levels from the one read."""
    if "gate_location_areas_seen" in candidate.cache:
        return quote("gate_location_areas_seen"), quote("gate_location_moves")
    import pyarrow as pa

    location = candidate.ctx.config["location"]
    min_stay_us = 60_000_000 * int(location.get("min_stay_minutes", 30))
    bands = time_band_codes(local_clock_hours(candidate))
    seen, moved = [], []
    for read in sightings_in_time_order(candidate):
        person, seen_at = read["person"], read["seen_at"]
        band = bands[read["hour_index"]]
        for number, level in enumerate(AREA_LEVELS):
            who, where, visit = stays(person, seen_at, read[level], min_stay_us)
            level_column = np.full(len(who), number, dtype=np.int8)
            seen.append(pa.table({"person": who, "level": level_column, "area": where,
                                  "visit": visit}))  # fmt: skip
            if level in ORIGIN_LEVELS:
                who, origin, destination, arrival_band = moves(person, read[level], band)
                level_column = np.full(len(who), number, dtype=np.int8)
                moved.append(pa.table({"person": who, "level": level_column, "origin": origin,
                                       "destination": destination,
                                       "band": arrival_band}))  # fmt: skip
    levels = f"[{', '.join(sql_literal(level) for level in AREA_LEVELS)}]"
    con = candidate.con
    con.register("gate_visit_stays", pa.concat_tables(seen))
    con.register("gate_visit_moves", pa.concat_tables(moved))
    try:
        home = """case s.level when 0 then h.postal_code when 1 then h.municipality
                  else h.province end"""
        seen_table = candidate.materialise(
            "gate_location_areas_seen",
            f"""
            select s.person, {levels}[s.level + 1] as level, s.area,
                   case when s.area = {home} then 0 when s.visit then 1 else 2 end as class,
                   h.municipality as home_municipality, h.province as home_province
            from gate_visit_stays as s
            left join ({homes_sql(candidate)}) as h on h.person = s.person
            """,
        )
        moves_table = candidate.materialise(
            "gate_location_moves",
            f"""select distinct person, {levels}[level + 1] as level, origin, destination, band
                from gate_visit_moves""",
        )
    finally:
        con.unregister("gate_visit_stays")
        con.unregister("gate_visit_moves")
    return seen_table, moves_table


def figure_rows_sql(candidate: Candidate) -> str:
    """table_name, level, a, b, c, hour_index, person: one row per figure of the run date
    and person behind it (distinct), the figure keyed by integer codes:

    - presence_hourly: a = area, hour_index;
    - event_attendance: level 'event', a = event, hour_index; event_attendance_total the
      same over the whole window (hour_index WHOLE_DAY);
    - visitors_daily: a = area, b = class (VISITOR_CLASSES);
    - visitor_origin: a = area, b = origin level (1 municipality, 2 province), c = home
      area at that level, for visitors only;
    - od_flows: a = origin, b = destination, c = time band of the arrival (TIME_BANDS).

    Unused codes are -1."""
    hours, attended = person_hours(candidate), event_hours(candidate)
    seen, moved = visits(candidate)
    presence = " union all ".join(
        f"""select distinct 'presence_hourly' as table_name, '{level}' as level, {level} as a,
                   -1 as b, -1 as c, hour_index, person
            from {hours}"""
        for level in AREA_LEVELS
    )
    origins = " union all ".join(
        f"""select 'visitor_origin', level, area, {number}, home_{level}, {WHOLE_DAY}, person
            from {seen} where class = 1 and home_{level} is not null"""
        for number, level in enumerate(ORIGIN_LEVELS, start=1)
    )
    return f"""
        {presence}
        union all
        select 'event_attendance', 'event', event, -1, -1, hour_index, person from {attended}
        union all
        select distinct 'event_attendance_total', 'event', event, -1, -1, {WHOLE_DAY}, person
        from {attended}
        union all
        select 'visitors_daily', level, area, class, -1, {WHOLE_DAY}, person from {seen}
        union all
        {origins}
        union all
        select 'od_flows', level, origin, destination, band, {WHOLE_DAY}, person from {moved}
    """


def names_sql(values: tuple[str, ...], code: str, first: int = 0) -> str:
    """The name of a code of ``values`` (``first``: the code of the first value)."""
    listed = ", ".join(sql_literal(value) for value in values)
    return f"[{listed}][{code} + {1 - first}]"


def recount(candidate: Candidate) -> str:
    """table_name, level, area, hour, hour_index, people, and the figure's codes a, b, c:
    the true number of distinct people of every figure of the run date, keyed like the
    published tables (a daily figure's extra key columns joined to its area by chr(31);
    hour and hour_index null for whole-day figures)."""
    named = areas(candidate)
    start = candidate.run_start_sql
    bands = tuple(band for _, band in TIME_BANDS)
    sep = "chr(31)"
    return candidate.materialise(
        "gate_location_recount",
        f"""
        with counts as (
            select table_name, level, a, b, c, hour_index, count(*) as people
            from ({figure_rows_sql(candidate)}) as figure_rows
            group by all
        ),
        event_names as (select distinct event, event_id from {events(candidate)})
        select f.table_name, f.level,
               case f.table_name
                   when 'presence_hourly' then first.area
                   when 'event_attendance' then e.event_id
                   when 'event_attendance_total' then e.event_id
                   when 'visitors_daily'
                       then first.area || {sep} || {names_sql(VISITOR_CLASSES, "f.b")}
                   when 'visitor_origin'
                       then first.area || {sep} || {names_sql(ORIGIN_LEVELS, "f.b", 1)}
                            || {sep} || home.area
                   else first.area || {sep} || second.area || {sep} || {names_sql(bands, "f.c")}
               end as area,
               case when f.hour_index <> {WHOLE_DAY}
                    then {start} + to_hours(f.hour_index) end as hour,
               nullif(f.hour_index, {WHOLE_DAY}) as hour_index,
               f.people, f.a, f.b, f.c
        from counts as f
        left join {named} as first on first.level = f.level and first.code = f.a
        left join {named} as second
          on f.table_name = 'od_flows' and second.level = f.level and second.code = f.b
        left join {named} as home
          on f.table_name = 'visitor_origin'
         and home.level = {names_sql(ORIGIN_LEVELS, "f.b", 1)} and home.code = f.c
        left join event_names as e on f.level = 'event' and e.event = f.a
        """,
    )


def members_of(candidate: Candidate, wanted: str, count: int) -> list[np.ndarray]:
    """The people behind each figure of ``wanted`` (a table of figure, table_name, level,
    area, hour_index; figure numbered 0 .. count - 1), as sorted integer arrays; a figure
    nobody stands behind (none in the recount) has an empty array."""
    read = candidate.con.execute(f"""
        with keys as (
            select w.figure, r.table_name, r.level, r.a, r.b, r.c,
                   coalesce(r.hour_index, {WHOLE_DAY}) as hour_index
            from {wanted} as w
            join {recount(candidate)} as r
              on r.table_name = w.table_name and r.level = w.level and r.area = w.area
             and r.hour_index is not distinct from w.hour_index
        )
        select k.figure, m.person
        from keys as k
        join ({figure_rows_sql(candidate)}) as m
          using (table_name, level, a, b, c, hour_index)
        order by k.figure, m.person
    """).fetchnumpy()
    owners = np.asarray(read["figure"])
    persons = np.asarray(read["person"])  # 32-bit, as numbered by the recount
    bounds = np.searchsorted(owners, np.arange(count + 1, dtype=owners.dtype))
    return [persons[bounds[i] : bounds[i + 1]] for i in range(count)]
