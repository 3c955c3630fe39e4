"""Location: k-anonymous counts of people per area and hour, and per event, nothing finer.

The area tree (postal code < municipality < province) and the events' footprints are
read from the landing reference tables (cells, event_cells), not from the models, and
k from the run's configuration.
"""

from __future__ import annotations

import numpy as np
from privacy_pipeline.gates import BuiltIn, CannotCheck, Check, Promise, location_recount
from privacy_pipeline.gates.candidate import (
    Candidate,
    pick_column,
    quote,
    sql_literal,
    union_all,
    union_values,
)
from privacy_pipeline.gates.landing_facts import area_name, customers, text, timestamp
from privacy_pipeline.gates.location_recount import members_of
from privacy_pipeline.memberships import MembershipIndex

DESCRIPTION = """
Location (location.presence_hourly, event_attendance, event_attendance_total,
visitors_daily, visitor_origin, od_flows, suppression_summary): every published people
count is the number of people who may be counted, recounted from the landing events,
and is at least k; no published figure can be subtracted from another to reveal fewer
than k people, only postal code, municipality and province areas, only hours of the run
date, nothing identifying a person.
"""

SCHEMA = "location"
# Whole-day tables of visits and moves (docs/location-privacy.md, "Visitors and moves").
DAY_TABLES = ("visitors_daily", "visitor_origin", "od_flows")
TABLES = (
    "presence_hourly", "event_attendance", "event_attendance_total", *DAY_TABLES,
    "suppression_summary",
)  # fmt: skip
COUNT_TABLES = ("presence_hourly", "event_attendance", "event_attendance_total", *DAY_TABLES)
HOURLY_TABLES = ("presence_hourly", "event_attendance")
AREA_LEVELS = ("postal_code", "municipality", "province")
PEOPLE_COLUMNS = ("people", "people_count", "visitors", "attendees")
HOUR_COLUMNS = ("hour", "hour_start", "hour_starting_at", "starts_at")
LEVEL_COLUMNS = ("area_level", "level")
AREA_COLUMNS = ("area_id", "area", "area_code", "area_name")
# Finer than a postal code, or about one person: never in a location table.
FORBIDDEN_COLUMN_WORDS = (
    "customer", "msisdn", "pseudonym", "subscriber", "person", "user", "device", "imei",
    "imsi", "email", "phone", "cell", "lat", "lon", "latitude", "longitude", "ip",
)  # fmt: skip


def hour_of(instant: str) -> str:
    """The start of the hour holding ``instant``, computed in UTC: truncating in local time
    is ambiguous in the repeated hour of the autumn DST change (Brussels' offsets are whole
    hours, so UTC hours are its local hours)."""
    return f"(date_trunc('hour', {instant} at time zone 'UTC') at time zone 'UTC')"


def people_column(candidate: Candidate, table: str) -> str:
    columns = candidate.require_table(SCHEMA, table)
    return pick_column(columns, f"{SCHEMA}.{table}", *PEOPLE_COLUMNS)


def hour_column(candidate: Candidate, table: str) -> str:
    columns = candidate.require_table(SCHEMA, table)
    column = pick_column(columns, f"{SCHEMA}.{table}", *HOUR_COLUMNS)
    if not columns[column].upper().startswith("TIMESTAMP"):
        raise CannotCheck(f"{SCHEMA}.{table}.{column} is {columns[column]}, not a timestamp")
    return column


def presence_sql(candidate: Candidate) -> str:
    """Published area figures: level, area, hour, people."""
    columns = candidate.require_table(SCHEMA, "presence_hourly")
    table = f"{SCHEMA}.presence_hourly"
    level = pick_column(columns, table, *LEVEL_COLUMNS)
    area = pick_column(columns, table, *AREA_COLUMNS)
    return f"""
        select lower(cast({quote(level)} as varchar)) as level,
               cast({quote(area)} as varchar) as area,
               {quote(hour_column(candidate, "presence_hourly"))} as hour,
               {quote(people_column(candidate, "presence_hourly"))} as people
        from {SCHEMA}.presence_hourly
    """


def event_hours_sql(candidate: Candidate) -> str:
    candidate.require_columns(SCHEMA, "event_attendance", "event_id")
    return f"""
        select cast(event_id as varchar) as event_id,
               {quote(hour_column(candidate, "event_attendance"))} as hour,
               {quote(people_column(candidate, "event_attendance"))} as people
        from {SCHEMA}.event_attendance
    """


def cells_sql(candidate: Candidate) -> str:
    """The landing cells that staging accepted (all of them in a candidate without staging).

    A quarantined cell row is no area: its events are quarantined too (unknown_cell). Read
    in the tree, its municipality (say one holding a phone number) would become a second
    parent of a real postal code, and that one row would fail this gate every night."""
    if not candidate.has_table("staging", "stg_reference__cells"):
        return "landing.cells"
    return f"""(select * from landing.cells where {text("cell_id")} in
                (select cast(cell_id as varchar) from staging.stg_reference__cells))"""


def area_tree_sql(candidate: Candidate) -> str:
    """child level, child area, parent level, parent area, from the landing cells."""
    cells = cells_sql(candidate)
    return f"""
        select distinct 'postal_code' as child_level, {text("postal_code")} as child,
               'municipality' as parent_level, {area_name("municipality")} as parent
        from {cells} as cells
        union
        select distinct 'municipality', {area_name("municipality")},
               'province', {area_name("province")}
        from {cells} as cells
    """


def event_footprints_sql(candidate: Candidate) -> str:
    """event_id, postal_code of every cell of the event."""
    return f"""
        select distinct {text("ec.event_id")} as event_id, {text("c.postal_code")} as postal_code
        from landing.event_cells as ec
        join {cells_sql(candidate)} as c on {text("c.cell_id")} = {text("ec.cell_id")}
    """


def every_table_built(candidate: Candidate) -> Check:
    return candidate.every_table_built(SCHEMA, TABLES)


def counts_at_least_k(candidate: Candidate) -> Check:
    selects, values = [], []
    for table in COUNT_TABLES:
        column = people_column(candidate, table)
        values.append(f"select {quote(column)} as value from {SCHEMA}.{quote(table)}")
        selects.append(
            f"""select '{SCHEMA}.{table}: ' || {row_description(candidate, table, column)}
                       || ' has ' || coalesce(cast({quote(column)} as varchar), 'null')
                       || ' people (k = {candidate.k})' as violation
                from {SCHEMA}.{quote(table)}
                where {quote(column)} is null or {quote(column)} < {candidate.k}"""
        )
    scope = f"people counts of {len(COUNT_TABLES)} tables, k = {candidate.k}"
    if candidate.has_table("intermediate", "int_location__release"):
        # The release's own decision, suppressed figures included: a figure of fewer than
        # k people must be withheld as such, whatever else the release then withholds (a
        # k compared off by one can stay hidden in the output behind other suppressions).
        selects.append(
            f"""select 'candidate ' || table_name || ': ' || area_level || ' ' || area_id
                       || coalesce(' hour ' || cast(hour_index as varchar), '')
                       || ' counts ' || cast(people as varchar) || ' people (k = {candidate.k})'
                       || ' but the release marked it ' || status as violation
                from intermediate.int_location__release
                where people < {candidate.k}
                  and status not in ('suppressed_below_k', 'suppressed_republication')"""
        )
        scope += "; the release's decision on every candidate figure below k"
    built_in = BuiltIn(
        "ExpectColumnMinToBeBetween",
        "people counts of the location tables",
        union_values(values),
        (("min_value", candidate.k),),
    )
    return Check(union_all(selects), scope, built_in)


def row_description(candidate: Candidate, table: str, people: str) -> str:
    """'area_level=postal_code, area_id=2000, ...': which figure, for the DPO."""
    columns = [c for c in candidate.require_table(SCHEMA, table) if c not in (people, "run_date")]
    parts = [f"'{c}=' || coalesce(cast({quote(c)} as varchar), 'null')" for c in columns]
    return f"concat_ws(', ', {', '.join(parts)})" if parts else "'a row'"


def area_residuals_sql(candidate: Candidate) -> str:
    """Each published parent area hour, minus its published cover (children, descending
    through unpublished ones): what an attacker learns by subtraction."""
    return f"""
        with published as ({presence_sql(candidate)}),
             tree as ({area_tree_sql(candidate)}),
             postal_cover as (
                 select t.parent_level as level, t.parent as area, p.hour, sum(p.people) as people
                 from tree as t join published as p
                   on p.level = t.child_level and p.area = t.child
                 where t.child_level = 'postal_code'
                 group by all
             ),
             municipality_cover as (
                 select m.parent as province, hours.hour,
                        sum(coalesce(pm.people, pc.people, 0)) as people
                 from tree as m
                 cross join (select distinct hour from published) as hours
                 left join published as pm
                   on pm.level = 'municipality' and pm.area = m.child and pm.hour = hours.hour
                 left join postal_cover as pc
                   on pc.area = m.child and pc.hour = hours.hour
                 where m.child_level = 'municipality'
                 group by all
             ),
             covers as (
                 select level, area, hour, people from postal_cover
                 where level = 'municipality'
                 union all
                 select 'province', province, hour, people from municipality_cover
             )
        select p.level, p.area, p.hour, p.people,
               p.people - coalesce(c.people, 0) as residual
        from published as p
        left join covers as c on c.level = p.level and c.area = p.area and c.hour = p.hour
        where p.level in ('municipality', 'province')
    """


def area_subtraction_rule(candidate: Candidate) -> Check:
    k = candidate.k
    sql = f"""
        select 'location.presence_hourly: ' || level || ' ' || area || ' at '
               || strftime(hour, '%Y-%m-%d %H:%M%z') || ' has ' || cast(people as varchar)
               || ' people and its published children ' || cast(people - residual as varchar)
               || ': difference ' || cast(residual as varchar) || ' (k = {k})' as violation
        from ({area_residuals_sql(candidate)}) as r
        where {reveals("residual", k)}
    """
    return Check(sql, "every published municipality and province hour")


def event_area_residuals_sql(candidate: Candidate) -> str:
    """For every published event hour and published area hour containing the whole event:
    area - event, and area - event - the published cover of the area outside the event."""
    return f"""
        with published as ({presence_sql(candidate)}),
             tree as ({area_tree_sql(candidate)}),
             events as ({event_figures_sql(candidate)}),
             footprints as ({event_footprints_sql(candidate)}),
             postal_parents as (
                 select child as postal_code, parent as municipality from tree
                 where child_level = 'postal_code'
             ),
             ancestry as (
                 select pp.postal_code, 'postal_code' as level, pp.postal_code as area
                 from postal_parents as pp
                 union
                 select pp.postal_code, 'municipality', pp.municipality from postal_parents as pp
                 union
                 select pp.postal_code, 'province', t.parent
                 from postal_parents as pp join tree as t
                   on t.child_level = 'municipality' and t.child = pp.municipality
             ),
             containing as (
                 select f.event_id, a.level, a.area
                 from footprints as f join ancestry as a on a.postal_code = f.postal_code
                 group by all
                 having count(distinct f.postal_code) = (
                     select count(distinct postal_code) from footprints as all_f
                     where all_f.event_id = f.event_id
                 )
             ),
             outside_postal as (
                 select c.event_id, c.level, c.area, p.hour, p.area as postal_code,
                        p.people, a.area as municipality
                 from containing as c
                 join ancestry as a on a.level = c.level and a.area = c.area
                 join published as p on p.level = 'postal_code' and p.area = a.postal_code
                 join postal_parents as pp on pp.postal_code = a.postal_code
                 left join ancestry as am
                   on am.postal_code = a.postal_code and am.level = 'municipality'
                 where a.postal_code not in (
                     select postal_code from footprints as f where f.event_id = c.event_id
                 )
             ),
             outside_cover as (
                 select event_id, level, area, hour, sum(people) as people
                 from outside_postal group by all
             )
        select e.event_id, c.level, c.area, e.hour, a.people as area_people,
               e.people as event_people, a.people - e.people as difference,
               a.people - e.people - coalesce(o.people, 0) as residual
        from events as e
        join containing as c on c.event_id = e.event_id
        join published as a on a.level = c.level and a.area = c.area and a.hour = e.hour
        left join outside_cover as o
          on o.event_id = e.event_id and o.level = c.level and o.area = c.area
         and o.hour = e.hour
    """


def event_subtraction_rule(candidate: Candidate) -> Check:
    k = candidate.k
    sql = f"""
        select 'location.event_attendance: event ' || event_id || ' at '
               || strftime(hour, '%Y-%m-%d %H:%M%z') || ' (' || cast(event_people as varchar)
               || ' people) inside ' || level || ' ' || area || ' ('
               || cast(area_people as varchar) || '): difference '
               || cast(case when {reveals("difference", k)} then difference else residual end
                       as varchar) || ' (k = {k})' as violation
        from ({event_area_residuals_sql(candidate)}) as r
        where {reveals("difference", k)} or {reveals("residual", k)}
        union all
        select 'location.event_attendance_total: event ' || t.event_id || ' total '
               || cast(t.people as varchar) || ' minus its hour '
               || strftime(h.hour, '%H:%M%z') || ' (' || cast(h.people as varchar) || ') = '
               || cast(t.people - h.people as varchar) || ' (k = {k})'
        from ({event_totals_sql(candidate)}) as t
        join ({event_hours_sql(candidate)}) as h on h.event_id = t.event_id
        where {reveals("t.people - h.people", k)}
    """
    return Check(sql, "every published event hour against its areas and its event total")


def event_figures_sql(candidate: Candidate) -> str:
    """Published event figures tied to one hour: the hourly ones, and the totals of events
    whose window on the run date lies inside one hour (the same people as that hour)."""
    start, end = candidate.run_start_sql, candidate.run_end_sql
    window_start = f"greatest({timestamp('e.starts_at')}, {start})"
    window_end = f"least({timestamp('e.ends_at')}, {end} - interval 1 microsecond)"
    return f"""
        select event_id, hour, people from ({event_hours_sql(candidate)}) as hours
        union all
        select t.event_id, {hour_of(window_start)}, t.people
        from ({event_totals_sql(candidate)}) as t
        join landing.events as e on {text("e.event_id")} = t.event_id
        where {hour_of(window_start)} = {hour_of(window_end)}
    """


def event_totals_sql(candidate: Candidate) -> str:
    candidate.require_columns(SCHEMA, "event_attendance_total", "event_id")
    return f"""
        select cast(event_id as varchar) as event_id,
               {quote(people_column(candidate, "event_attendance_total"))} as people
        from {SCHEMA}.event_attendance_total
    """


# Closed vocabularies of the whole-day tables: (table, column, allowed values).
DAY_TABLE_VALUES = (
    ("visitors_daily", "area_level", AREA_LEVELS),
    ("visitors_daily", "visitor_class", ("resident", "visitor", "transit")),
    ("visitor_origin", "area_level", AREA_LEVELS),
    ("visitor_origin", "origin_level", ("municipality", "province")),
    ("od_flows", "area_level", ("municipality", "province")),
    ("od_flows", "time_band", ("night", "morning", "midday", "evening", "late")),
)


def allowed_area_levels(candidate: Candidate) -> Check:
    allowed = ", ".join(f"'{level}'" for level in AREA_LEVELS)
    selects = [
        f"""
        select distinct 'location.presence_hourly: area level ' || coalesce(level, 'null')
               as violation
        from ({presence_sql(candidate)}) as p
        where level is null or level not in ({allowed})
        """
    ]
    for table, column, values in DAY_TABLE_VALUES:
        candidate.require_columns(SCHEMA, table, column)
        listed = ", ".join(sql_literal(value) for value in values)
        selects.append(
            f"""select distinct 'location.{table}: {column} '
                       || coalesce(cast({quote(column)} as varchar), 'null') as violation
                from {SCHEMA}.{table}
                where {quote(column)} is null
                   or cast({quote(column)} as varchar) not in ({listed})"""
        )
    selects.append(
        """select 'location.od_flows: a move from ' || origin_area_id || ' to itself'
           from location.od_flows where origin_area_id = destination_area_id"""
    )
    return Check(
        union_all(selects),
        "area levels of every location table, classes, origin levels and time bands",
    )


def hours_inside_run_date(candidate: Candidate) -> Check:
    selects = []
    for table in HOURLY_TABLES:
        column = quote(hour_column(candidate, table))
        selects.append(
            f"""select distinct 'location.{table}: hour '
                       || coalesce(strftime({column}, '%Y-%m-%d %H:%M:%S%z'), 'null')
                       || ' is not a whole hour of the run date' as violation
                from {SCHEMA}.{table}
                where {column} is null
                   or {column} < {candidate.run_start_sql} or {column} >= {candidate.run_end_sql}
                   or {hour_of(column)} <> {column}"""
        )
    window = f"{candidate.run_start.isoformat()} to {candidate.run_end.isoformat()} (UTC)"
    return Check(union_all(selects), f"hours of {', '.join(HOURLY_TABLES)}, {window}")


def no_person_identifying_column(candidate: Candidate) -> Check:
    selects = []
    for table in TABLES:
        for column, data_type in candidate.require_table(SCHEMA, table).items():
            words = column.lower().split("_")
            if any(word in FORBIDDEN_COLUMN_WORDS for word in words):
                selects.append(
                    f"select 'location.{table}.{column}: column that could identify a person'"
                )
            elif data_type.upper() == "VARCHAR":
                selects.append(customer_id_values(candidate, table, column))
    return Check(union_all(selects), f"columns of {len(TABLES)} location tables")


def customer_id_values(candidate: Candidate, table: str, column: str) -> str:
    """Values of a text column that are customer ids (and not also an area or event id)."""
    return f"""
        select distinct 'location.{table}.{column}: holds customer ids' as violation
        from {SCHEMA}.{quote(table)} as t
        where cast(t.{quote(column)} as varchar) in (
            select customer_id from {customers(candidate)}
            except (
                select {text("postal_code")} from landing.cells
                union select {area_name("municipality")} from landing.cells
                union select {area_name("province")} from landing.cells
                union select {text("event_id")} from landing.events
            )
        )
    """


# ------------------------------------------------------------------------------------------
# Who is counted: every published figure recounted from the landing events (independent of
# the location models). Kept apart from the disclosure rules above and below.


def published_figures_sql(candidate: Candidate) -> str:
    """Every published count: table_name, level, area, hour (null for totals), people."""
    return f"""
        select 'presence_hourly' as table_name, level, area, hour, people
        from ({presence_sql(candidate)}) as p
        union all
        select 'event_attendance', 'event', event_id, hour, people
        from ({event_hours_sql(candidate)}) as h
        union all
        select 'event_attendance_total', 'event', event_id, cast(null as timestamptz), people
        from ({event_totals_sql(candidate)}) as t
        union all
        select kind, level, area, cast(null as timestamptz), people
        from ({day_figures_sql(candidate)}) as d
    """


def noise_of_published_figures(candidate: Candidate) -> str | None:
    """With differential privacy on: the noise recorded for each figure of the run date
    (table_name, level, area, hour_index, noise), from the noise ledger; None when DP is off.

    A published noisy figure minus its noise is the true count the release decided on.
    """
    from privacy_pipeline.location.noise import dp_settings, ledger_path

    settings = dp_settings(candidate.ctx.config["location"])
    if not settings.enabled:
        return None
    path = ledger_path(settings, candidate.ctx.warehouse_dir)
    if not path.exists():
        return candidate.materialise(
            "gate_location_noise",
            "select null::varchar as table_name, null::varchar as level, null::varchar as area,"
            " null::integer as hour_index, null::bigint as noise where false",
        )
    candidate.con.execute(f"attach if not exists {sql_literal(path)} as gate_noise (read_only)")
    try:
        return candidate.materialise(
            "gate_location_noise",
            f"""
            select split_part(figure, '|', 1) as table_name, split_part(figure, '|', 2) as level,
                   split_part(figure, '|', 3) as area,
                   try_cast(nullif(split_part(figure, '|', 4), '') as integer) as hour_index,
                   noise
            from gate_noise.location_noise
            where run_date = cast({sql_literal(candidate.ctx.run_date.isoformat())} as date)
              and settings = {sql_literal(settings.ledger_key)}
            """,
        )
    finally:
        candidate.con.execute("detach gate_noise")


def figure_label() -> str:
    return """f.table_name || ': ' || f.level || ' ' || replace(f.area, chr(31), ' / ')
              || coalesce(' at ' || strftime(f.hour, '%Y-%m-%d %H:%M%z'), ' (whole window)')"""


def counts_match_landing_recount(candidate: Candidate) -> Check:
    """Exact: every published figure equals the recount of the people who may be counted.

    With differential privacy on, the published figure is noisy: the figure minus its
    recorded noise (the true count the release decided on, after contribution bounding)
    must be at least k and at most the recount.
    """
    recount = location_recount.recount(candidate)
    noise = noise_of_published_figures(candidate)
    k = candidate.k
    joined = f"""
        from ({published_figures_sql(candidate)}) as f
        left join {recount} as r
          on r.table_name = f.table_name and r.level = f.level and r.area = f.area
         and r.hour is not distinct from f.hour
    """
    if noise is None:
        sql = f"""
            select {figure_label()} || ': published ' || coalesce(cast(f.people as varchar), 'null')
                   || ' people, the landing recount of the people who may be counted finds '
                   || cast(coalesce(r.people, 0) as varchar) as violation
            {joined}
            where f.people is distinct from coalesce(r.people, 0)
        """
        scope = "every published figure against the landing recount (exact, DP off)"
    else:
        hour_index = (
            f"cast(floor((epoch(f.hour) - epoch({candidate.run_start_sql})) / 3600) as integer)"
        )
        sql = f"""
            select {figure_label()} || ': published ' || coalesce(cast(f.people as varchar), 'null')
                   || case when n.noise is null then ', no noise recorded for it'
                      else ', true count ' || cast(f.people - n.noise as varchar)
                           || ' (k = {k}), landing recount '
                           || cast(coalesce(r.people, 0) as varchar) end as violation
            {joined}
            left join {noise} as n
              on n.table_name = f.table_name and n.level = f.level and n.area = f.area
             and n.hour_index is not distinct from {hour_index}
            where n.noise is null or f.people is null or f.people - n.noise < {k}
               or f.people - n.noise > coalesce(r.people, 0)
        """
        scope = "every published figure's true count (noise removed) against k and the recount"
    release = candidate_release_against_recount(candidate, recount, exact=noise is None)
    if release is not None:
        sql = f"{sql}\nunion all\n{release}"
        scope += "; every candidate figure, published or suppressed, against the recount"
    return Check(sql, scope)


def candidate_release_against_recount(
    candidate: Candidate, recount: str, exact: bool
) -> str | None:
    """Violations of the release's true counts, suppressed figures included, against the
    recount: a model that counts the wrong people is caught even where the release then
    suppresses the figures it changed (a re-publication suppresses a figure that moved by
    less than k). With DP's contribution bounding a true count may be below the recount,
    never above it."""
    if not candidate.has_table("intermediate", "int_location__release"):
        return None
    differs = (
        "c.people is distinct from r.people"
        if exact
        else "c.people is not null and (r.people is null or c.people > r.people)"
    )
    return f"""
        select 'candidate ' || coalesce(c.table_name, r.table_name) || ': '
               || coalesce(c.area_level, r.level) || ' ' || coalesce(c.area_id, r.area)
               || coalesce(' hour ' || cast(coalesce(c.hour_index, r.hour_index) as varchar), '')
               || ' (' || coalesce(c.status, 'not in the release') || ') counts '
               || coalesce(cast(c.people as varchar), 'nobody')
               || ' people, the landing recount finds '
               || coalesce(cast(r.people as varchar), 'nobody') as violation
        from intermediate.int_location__release as c
        full outer join {recount} as r
          on c.table_name = r.table_name and c.area_level = r.level and c.area_id = r.area
         and c.hour_index is not distinct from r.hour_index
        where {differs}
    """


PROMISES = (
    Promise(
        "every_location_table_is_built",
        "The seven location tables exist in the candidate output (a missing table cannot be "
        "checked, so it cannot be published).",
        every_table_built,
    ),
    Promise(
        "counts_are_the_people_who_may_be_counted",
        "Every published count (area hours at every level, event hours, event totals, "
        "visitors by class, visitor origins, origin-destination flows) equals the number of "
        "distinct people, recounted by the gate from the landing "
        "network events, CRM and consent ledger, who may be counted: open accounts on the "
        "Proximus platform (not unmigrated Scarlet, closed or unknown) that did not object "
        "to location analytics at the end of the run date or since. With differential "
        "privacy on, the true count behind each noisy figure is at least k and at most the "
        "recount.",
        counts_match_landing_recount,
    ),
    Promise(
        "every_people_count_is_at_least_k",
        "Every published count of people (area hours, event hours, event totals, visitors, "
        "visitor origins, flows) is at least k.",
        counts_at_least_k,
    ),
    Promise(
        "area_minus_published_children_is_0_or_at_least_k",
        "For every published municipality or province hour, its count minus the sum of its "
        "published children (descending through unpublished ones) is 0 or at least k.",
        area_subtraction_rule,
    ),
    Promise(
        "event_minus_containing_area_is_0_or_at_least_k",
        "For every published event hour (or total of an event held within one hour) and "
        "every published area hour containing the event, the difference (also after "
        "subtracting the area's other published parts) is 0 or at least k; so is an "
        "event's total minus any of its published hours.",
        event_subtraction_rule,
    ),
    Promise(
        "only_postal_code_municipality_or_province_areas",
        "Areas are only postal codes, municipalities or provinces (nothing finer, no cell); "
        "flows only between two different municipalities or provinces; visitor classes, "
        "origin levels and time bands only those of the definitions.",
        allowed_area_levels,
    ),
    Promise(
        "hours_inside_the_run_date",
        "Every published hour is a whole hour of the run date in Europe/Brussels (23 or 25 "
        "hours on DST days).",
        hours_inside_run_date,
    ),
    Promise(
        "no_column_identifying_a_person",
        "No location table has a column that could identify a person (customer, msisdn, "
        "pseudonym, device, cell or coordinates) or holds customer ids.",
        no_person_identifying_column,
    ),
)


# ------------------------------------------------------------- visits and moves
# The whole-day tables, read by this suite from the definitions (docs/location-privacy.md),
# not from the models: per (person, level) the events in time order (ties by cell), a
# stay is a run of consecutive events in one area, a move two consecutive events in
# different areas. Their figures are keyed like the release's: the key columns beyond the
# area joined by chr(31) in ``area``.

DAY_TABLE_KEYS = {
    "visitors_daily": ("area_id", "visitor_class"),
    "visitor_origin": ("area_id", "origin_level", "origin_area_id"),
    "od_flows": ("origin_area_id", "destination_area_id", "time_band"),
}


def day_figures_sql(candidate: Candidate) -> str:
    """kind, level, area (the key joined by chr(31)), people of every published figure of
    the whole-day tables."""
    selects = []
    for table, columns in DAY_TABLE_KEYS.items():
        candidate.require_columns(SCHEMA, table, "area_level", *columns)
        key = " || chr(31) || ".join(f"cast({quote(column)} as varchar)" for column in columns)
        selects.append(
            f"""select '{table}' as kind, lower(cast(area_level as varchar)) as level,
                       {key} as area, {quote(people_column(candidate, table))} as people
                from {SCHEMA}.{table}"""
        )
    return union_all(selects)


# ------------------------------------------------------------- the disclosure rule
# Checked on the people behind each published figure, recomputed here from the landing
# zone (cells, events, event_cells, network_events, customers, consent ledger), never
# from the models, and against the earlier releases of the date (the release ledger).
# The population below is this suite's own reading of "allowed for location_analytics
# on D"; it is meant to be replaced by the shared recompute of the gates suite.

# Disjoint families searched per published figure, and over all of them, before the
# check gives up (the figures left are checked pairwise only, and named in the scope).
FAMILY_SEARCH_BUDGET = 2_000
GATE_SEARCH_TOTAL_BUDGET = 200_000


def hour_index_of(candidate: Candidate, column: str) -> str:
    return f"cast(round((epoch({column}) - epoch({candidate.run_start_sql})) / 3600) as integer)"


def published_figure_keys_sql(candidate: Candidate) -> str:
    """kind, level, area, hour_index (null for totals), people of every published figure."""
    return f"""
        select 'presence_hourly' as kind, level, area, {hour_index_of(candidate, "hour")}
               as hour_index, people
        from ({presence_sql(candidate)}) as p
        union all
        select 'event_attendance', 'event', event_id, {hour_index_of(candidate, "hour")}, people
        from ({event_hours_sql(candidate)}) as h
        union all
        select 'event_attendance_total', 'event', event_id, null, people
        from ({event_totals_sql(candidate)}) as t
        union all
        select kind, level, area, null, people from ({day_figures_sql(candidate)}) as d
    """


def published_people(candidate: Candidate) -> list[tuple[str, np.ndarray, int]]:
    """(label, people recomputed from landing as sorted integers, published value) of
    every published figure (location_recount.members_of: read once, as arrays; at scale
    the memberships are tens of millions, too many for Python sets)."""
    if "published_people" not in candidate.cache:
        published = candidate.materialise(
            "gate_published_figures",
            f"""select row_number() over (order by kind, level, area, hour_index) - 1 as figure,
                       kind as table_name, level, area, hour_index, people
                from ({published_figure_keys_sql(candidate)}) as p""",
        )
        figures = candidate.rows(
            f"""select figure, table_name, level, area, hour_index, people
                from {published} order by figure"""
        )
        people = members_of(candidate, published, len(figures))
        candidate.cache["published_groups"] = [
            (kind, level, hour) for _, kind, level, _, hour, _ in figures
        ]
        candidate.cache["published_people"] = [
            (
                f"{kind} {level} {readable(area)}" + ("" if hour is None else f" hour {hour}"),
                people[figure],
                int(value),
            )
            for figure, kind, level, area, hour, value in figures
        ]
    return candidate.cache["published_people"]


def reveals(difference_sql: str, k: int) -> str:
    """SQL of :func:`reveals_fewer_than_k`: a difference that is not 0 and within k of 0
    (a negative one of -k or less counts at least k people in two figures at once)."""
    return f"({difference_sql} <> 0 and {difference_sql} > -{k} and {difference_sql} < {k})"


def reveals_fewer_than_k(difference: int, k: int) -> bool:
    """This suite's own reading of the rule: a difference of published figures that is
    not 0 counts fewer than k people (negative: the few people in two figures at once)."""
    return difference != 0 and -k < difference < k


def disclosure_violations(figures: list[tuple], k: int) -> tuple[list[str], list[str]]:
    """Every published figure A, minus one published figure inside it (by its people), or
    minus a family of published figures inside it that count disjoint groups.

    Families: each figure's *cover* is the published figures directly inside it (inside
    no other figure inside it). When the figures of every cover are disjoint, A minus
    any family is a sum of covers' residuals (figure minus its cover, each checked as its
    own A) and of whole figures (at least k): checking every residual checks every
    family. Where a cover's figures overlap, the families of A are searched depth-first
    (within a budget; beyond it A is checked pairwise and by residual only).

    ``figures``: (label, people as a set or sorted integer array, published value).
    Returns (violations, figures whose families were not all searched)."""
    labels = [label for label, _, _ in figures]
    values = [int(value) for _, _, value in figures]
    people = [sorted_people(p) for _, p, _ in figures]
    inside = figures_inside(people)
    holders: list[list[int]] = [[] for _ in figures]  # the figures each one is inside
    for a, held_inside in enumerate(inside):
        for b in held_inside:
            holders[b].append(a)
    found, unsearched = [], []
    total_budget = [GATE_SEARCH_TOTAL_BUDGET]
    overlap_cache: dict[tuple[int, int], bool] = {}

    def overlap(i: int, j: int) -> bool:
        pair = (min(i, j), max(i, j))
        if pair not in overlap_cache:
            overlap_cache[pair] = share_someone(people[i], people[j])
        return overlap_cache[pair]

    def bigger(i: int, j: int) -> bool:  # a strict order, so equal sets are not circular
        return (len(people[i]), labels[i]) > (len(people[j]), labels[j])

    for a in range(len(figures)):
        members = [b for b in inside[a] if bigger(a, b)]
        member_set = set(members)
        for b in members:
            if reveals_fewer_than_k(values[a] - values[b], k):
                found.append(
                    f"{labels[a]} ({values[a]}) minus {labels[b]} ({values[b]}) = "
                    f"{values[a] - values[b]}"
                )
        cover = [
            b
            for b in members
            if not any(m in member_set and m != b and bigger(m, b) for m in holders[b])
        ]
        residual = values[a] - sum(values[b] for b in cover)
        if len(cover) >= 2 and reveals_fewer_than_k(residual, k):  # one: pairwise above
            names = ", ".join(labels[b] for b in cover)
            found.append(f"{labels[a]} ({values[a]}) minus {names} = {residual}")
        covered = np.concatenate([people[b] for b in cover]) if cover else np.empty(0)
        if is_sorted_unique(np.sort(covered)):
            continue  # a disjoint cover: the residuals decide (see above)
        ordered = sorted(members, key=lambda b: (-values[b], labels[b]))
        try:
            family = disjoint_family(values[a], ordered, values, overlap, k, total_budget)
        except _BudgetExceeded:
            unsearched.append(labels[a])
            continue
        if family:
            names = ", ".join(labels[b] for b in family)
            difference = values[a] - sum(values[b] for b in family)
            found.append(f"{labels[a]} ({values[a]}) minus {names} = {difference}")
    return found, unsearched


def sums_covering_a_figure(figures: list[tuple], groups: list[tuple], k: int) -> list[tuple]:
    """The sums a reader can form that cover another published figure, as figures
    (label, people, value) for :func:`disclosure_violations`: for a published figure B
    of an event or whole-day table and a group of published figures of one table, level
    and hour (``groups``: that triple per figure) of another table than B's, the group's
    figures that count someone of B, when they count all of B's people, are two or more,
    not all inside B, and add up to less than B + k. The sum's people are theirs
    together; its value, their values added.

    A group is only looked at in full when it counts three, then 64 people spread over
    B in figures adding up to less than B + k (a cover holds them all): at scale the big
    whole-day groups count most people."""
    people = [sorted_people(p) for _, p, _ in figures]
    values = np.array([int(value) for _, _, value in figures] or [0], dtype=np.int64)
    group_names = sorted(set(groups), key=repr)
    group_number = {group: number for number, group in enumerate(group_names)}
    group_of = np.array([group_number[group] for group in groups] or [0], dtype=np.int64)
    group_tables = np.array([table for table, _, _ in group_names])
    index = MembershipIndex(people)
    sums: dict[tuple[int, ...], tuple] = {}
    for b, (b_table, _, _) in enumerate(groups):
        if not len(people[b]) or b_table == "presence_hourly":
            continue
        candidates = None
        for count in (3, 64):
            picked = np.linspace(0, len(people[b]) - 1, min(count, len(people[b])))
            probes = np.unique(people[b][picked.astype(np.int64)])
            candidates = groups_counting_probes(
                index, probes, b, group_of, group_tables, values, k, candidates
            )
            if not candidates:
                break
        if not candidates:
            continue
        shared = index.overlaps(people[b], len(figures))
        for group in candidates:
            touching = np.flatnonzero((group_of == group) & (shared > 0)).tolist()
            if len(touching) < 2 or tuple(touching) in sums:
                continue
            if int(shared[touching].sum()) < len(people[b]):
                # fewer memberships than people: someone of B is not in the group
                continue
            if all(shared[f] == len(people[f]) for f in touching):
                continue  # all inside B
            total = int(values[touching].sum())
            if total - int(values[b]) >= k:
                continue
            together = np.unique(np.concatenate([people[f] for f in touching]))
            if not np.isin(people[b], together, assume_unique=True).all():
                continue
            label = "sum of " + " + ".join(figures[f][0] for f in touching)
            sums[tuple(touching)] = (label, together, total)
    for cover in tight_covers(people, values, groups, index, k):
        if cover not in sums:
            together = np.unique(np.concatenate([people[f] for f in cover]))
            label = "sum of " + " + ".join(figures[f][0] for f in cover)
            sums[cover] = (label, together, int(values[list(cover)].sum()))
    return list(sums.values())


def tight_covers(people, values, groups, index, k) -> set[tuple[int, ...]]:
    """Sums mixing the levels of one table and hour (helper-41: postal code 1000 plus
    municipality Beta minus event E9 revealed Beta's withheld 3001): for a published B of
    an event or whole-day table and the published figures of one table and hour (of
    another table, with more than one level), B's *tight cover*: for each person of B
    the figures with the fewest people counting them, without those inside another one
    of them (of figures with the same people, one), when they are two or more, count all
    of B's people, are not all inside B and add up to less than B + k.

    Looked at in full only when the probes' (three, then 64 people of B) smallest figures
    hold disjoint ones adding up to less than B + k: each lies in a figure of the cover,
    and disjoint figures inside one add up to at most its count."""
    levels: dict[tuple, set] = {}
    for table, level, hour in groups:
        levels.setdefault((table, hour), set()).add(level)
    mixed = {name for name, found in levels.items() if len(found) > 1}
    if not mixed:
        return set()
    names = sorted(mixed, key=repr)
    number = {name: n for n, name in enumerate(names)}
    hour_group = np.array([number.get((t, h), -1) for t, _, h in groups], dtype=np.int64)
    sizes = np.array([len(p) for p in people], dtype=np.int64)
    covers: set[tuple[int, ...]] = set()
    for b, (b_table, _, _) in enumerate(groups):
        if not len(people[b]) or b_table == "presence_hourly":
            continue
        near = np.array([table != b_table for table, _ in names])
        for count in (3, 64):
            picked = np.linspace(0, len(people[b]) - 1, min(count, len(people[b])))
            probes = np.unique(people[b][picked.astype(np.int64)])
            near = probed_hour_groups(index, probes, hour_group, near, sizes, values, b, k)
            positions, owners = index.memberships_of(probes)
            for n in np.flatnonzero(near).tolist():
                chosen = smallest_counting_each(
                    positions, owners, hour_group[owners] == n, sizes, len(probes)
                )
                near[n] = disjoint_total(chosen, people, values) - int(values[b]) < k
            if not near.any():
                break
        if not near.any():
            continue
        positions, owners = index.memberships_of(people[b])
        for n in np.flatnonzero(near).tolist():
            chosen = smallest_counting_each(
                positions, owners, hour_group[owners] == n, sizes, len(people[b])
            )
            if chosen is None:
                continue
            chosen = sorted(chosen, key=lambda f: (-sizes[f], f))
            if int(values[chosen[0]]) - int(values[b]) >= k:
                continue  # the cover holds that figure: it cannot be within k of B
            # People of each chosen figure outside B (all of them are in the cover's union):
            # k of them in one figure, and the sum is k above B; none at all, all inside B.
            counted = np.bincount(
                np.searchsorted(
                    chosen_sorted := np.array(sorted(chosen)),
                    owners[np.isin(owners, chosen_sorted)],
                ),
                minlength=len(chosen),
            )
            outside = sizes[chosen_sorted] - counted
            if outside.max() >= k or not outside.any():
                continue
            cover: list[int] = []
            for f in chosen:
                if not any(counts_only_people_of(people[f], people[g]) for g in cover):
                    cover.append(f)
            if len(cover) < 2:
                continue
            if all(counts_only_people_of(people[f], people[b]) for f in cover):
                continue  # all inside B
            if int(values[cover].sum()) - int(values[b]) >= k:
                continue
            covers.add(tuple(sorted(cover)))
    return covers


def probed_hour_groups(index, probes, hour_group, among, sizes, values, b, k) -> np.ndarray:
    """Of the hour groups ``among`` (a mask), those counting every probe whose largest
    smallest figure (one per probe) is not already k or more above B: the cover holds a
    figure with that one's people."""
    positions, owners = index.memberships_of(probes)
    groups = hour_group[owners]
    keep = groups >= 0
    keep[keep] = among[groups[keep]]
    positions, owners, groups = positions[keep], owners[keep], groups[keep]
    empty = np.iinfo(np.int64).max
    fewest = np.full((len(among), len(probes)), empty, dtype=np.int64)
    np.minimum.at(fewest, (groups, positions), sizes[owners])
    chosen = sizes[owners] == fewest[groups, positions]
    largest = np.zeros(len(among), dtype=np.int64)
    np.maximum.at(largest, groups[chosen], values[owners[chosen]])
    return among & (fewest < empty).all(axis=1) & (largest - int(values[b]) < k)


def smallest_counting_each(positions, owners, in_group, sizes, wanted: int) -> list[int] | None:
    """The figures of a group with the fewest people counting each of ``wanted`` people
    (``positions``, ``owners``: their memberships; ``in_group``: which of those owners are
    of the group; ties kept); None if one of them is counted by no figure of the group."""
    positions, owners = positions[in_group], owners[in_group]
    fewest = np.full(wanted, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(fewest, positions, sizes[owners])
    if (fewest == np.iinfo(np.int64).max).any():
        return None
    return sorted(set(owners[sizes[owners] == fewest[positions]].tolist()))


def counts_only_people_of(inner: np.ndarray, outer: np.ndarray) -> bool:
    """Whether the sorted unique ``inner`` holds no one ``outer`` does not (binary search)."""
    if len(inner) > len(outer) or not len(outer):
        return not len(inner)
    found = np.searchsorted(outer, inner)
    return bool(
        (found < len(outer)).all() and (outer[found.clip(max=len(outer) - 1)] == inner).all()
    )


def disjoint_total(chosen: list[int], people, values) -> int:
    """The values of pairwise disjoint figures among ``chosen``, taken largest first."""
    taken: list[int] = []
    for f in sorted(chosen, key=lambda f: (-len(people[f]), f)):
        if not any(share_someone(people[f], people[g]) for g in taken):
            taken.append(f)
    return int(values[taken].sum())


def groups_counting_probes(index, probes, b, group_of, group_tables, values, k, among) -> set:
    """The groups (numbers; of ``among`` if given) of another table than figure b's
    whose figures count every one of ``probes`` and add up to less than b's value + k:
    the only groups that may hold a sum covering b within k of it (a cover holds these
    figures, and values are never negative)."""
    positions, owners = index.memberships_of(probes)
    groups = group_of[owners]
    other = group_tables[groups] != group_tables[group_of[b]]
    positions, owners, groups = positions[other], owners[other], groups[other]
    if not len(owners):
        return set()
    width = len(group_tables)
    pairs = np.sort(groups * len(probes) + positions)
    pairs = pairs[np.concatenate(([True], pairs[1:] != pairs[:-1]))]
    probed_people = np.bincount(pairs // len(probes), minlength=width)
    holders = np.sort(owners)
    holders = holders[np.concatenate(([True], holders[1:] != holders[:-1]))]
    added = np.bincount(group_of[holders], weights=values[holders], minlength=width)
    found = np.flatnonzero((probed_people == len(probes)) & (added - values[b] < k)).tolist()
    return {group for group in found if among is None or group in among}


def sorted_people(people) -> np.ndarray:
    """People as a sorted array of unique integers (the recount's arrays already are: then
    a linear check instead of a sort)."""
    if not isinstance(people, np.ndarray):
        people = np.fromiter(people, dtype=np.int64)
    return people if is_sorted_unique(people) else np.unique(people)


def is_sorted_unique(people: np.ndarray) -> bool:
    return bool((people[1:] > people[:-1]).all())


def share_someone(first: np.ndarray, second: np.ndarray) -> bool:
    """Whether two sorted arrays of unique people have one in common (a binary search of
    the smaller one's people in the larger)."""
    if len(first) > len(second):
        first, second = second, first
    if not len(first):
        return False
    at = np.minimum(np.searchsorted(second, first), len(second) - 1)
    return bool((second[at] == first).any())


def figures_inside(people: list[np.ndarray]) -> list[list[int]]:
    """For each figure, the other figures whose people are a subset of its people. An
    inverted index (memberships sorted by person, in little memory) narrows the
    candidates to the figures holding the first, the middle and the last person of the
    smaller one; each candidate outer figure then marks its people once in a boolean
    array, and all the figures that may be inside it are tested by one gather of that
    array and one sum per figure."""
    inside: list[list[int]] = [[] for _ in people]
    if not any(len(p) for p in people):
        return inside
    index = MembershipIndex(people)
    holders, lowest, highest = index.holders, int(index.persons[0]), int(index.persons[-1])

    candidates: list[list[int]] = [[] for _ in people]  # outer figure -> possible inner ones
    for b, p in enumerate(people):
        if not len(p):
            continue
        # Three people probed (first, middle, last): fewer candidates to test in full.
        found = np.intersect1d(holders(int(p[0])), holders(int(p[-1])), assume_unique=True)
        if len(p) > 2:
            found = np.intersect1d(found, holders(int(p[len(p) // 2])), assume_unique=True)
        for a in found.tolist():
            if a != b and len(people[a]) >= len(p):
                candidates[a].append(b)
    marked = np.zeros(highest - lowest + 1, dtype=bool)
    for a, inner in enumerate(candidates):
        if not inner:
            continue
        marked[people[a] - lowest] = True
        gathered = marked[np.concatenate([people[b] for b in inner]) - lowest]
        sizes = np.fromiter((len(people[b]) for b in inner), dtype=np.int64, count=len(inner))
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        # Every inner figure has someone, so each sum covers exactly its own people.
        absent = np.add.reduceat(~gathered, starts)
        inside[a].extend(b for b, n in zip(inner, absent.tolist(), strict=True) if n == 0)
        marked[people[a] - lowest] = False
    return inside


class _BudgetExceeded(Exception):
    pass


def disjoint_family(a_value, members, values, overlap, k, total_budget) -> tuple | None:
    """A family of pairwise disjoint figures among ``members`` (two or more) whose sum is
    within k of A's value, by depth-first search; a branch whose sum can no longer come
    within k of A is cut."""
    budget = [FAMILY_SEARCH_BUDGET]
    suffix_total = [0] * (len(members) + 1)
    for i in range(len(members) - 1, -1, -1):
        suffix_total[i] = suffix_total[i + 1] + values[members[i]]

    def search(start: int, taken: tuple, total: int) -> tuple | None:
        budget[0] -= 1
        total_budget[0] -= 1
        if budget[0] < 0 or total_budget[0] < 0:
            raise _BudgetExceeded
        if len(taken) >= 2 and reveals_fewer_than_k(a_value - total, k):
            return taken
        if total + suffix_total[start] <= a_value - k:
            return None  # even taking everything left cannot come within k of A
        for i in range(start, len(members)):
            b = members[i]
            if total + values[b] >= a_value + k or any(overlap(b, t) for t in taken):
                continue
            found = search(i + 1, (*taken, b), total + values[b])
            if found:
                return found
        return None

    return search(0, (), 0)


def violations_check(violations: list[str], scope: str) -> Check:
    from privacy_pipeline.gates.candidate import no_violations_sql

    if not violations:
        return Check(no_violations_sql(), scope)
    rows = ", ".join("(" + "'" + v.replace("'", "''") + "')" for v in violations)
    return Check(f"select violation from (values {rows}) as found (violation)", scope)


def disclosure_rule(candidate: Candidate) -> Check:
    from privacy_pipeline.gates.candidate import no_violations_sql
    from privacy_pipeline.location.noise import dp_settings

    if dp_settings(candidate.ctx.config["location"]).enabled:
        # Noisy figures are not exact, and contribution bounding drops some of a person's
        # hours, so the landing's sets of people are not the figures' sets: the auditor
        # applies the rule to the true and the noisy values; the gate checks k and the
        # true counts (counts_are_the_people_who_may_be_counted). docs/gates.md.
        return Check(no_violations_sql(), "not re-checked with differential privacy on")
    figures = published_people(candidate)
    sums = sums_covering_a_figure(figures, candidate.cache["published_groups"], candidate.k)
    violations, unsearched = disclosure_violations(figures + sums, candidate.k)
    scope = f"{len(figures)} published figures and the people behind them, from landing"
    if sums:
        scope += f", {len(sums)} sums of figures covering another one"
    if unsearched:
        scope += f"; {len(unsearched)} with too many families checked pairwise only"
    return violations_check(violations, scope)


def republication_rule(candidate: Candidate) -> Check:
    """No published figure differs from an earlier release of the date by 1 to k-1; and no
    figure recipients still hold from an earlier release, with a value that differs from
    today's, can be subtracted from a published figure that may be inside it to reveal
    fewer than k. A figure may be inside it when its people are today's people of the held
    figure, except at most as many as the held figure lost since: those who left need not
    have left the data (objectors did; people moved by a changed cell reference did not)."""
    from privacy_pipeline.location.ledger import held_values
    from privacy_pipeline.location.release import figure_key

    held = held_values(candidate.ctx.warehouse_dir, candidate.ctx.run_date)
    k = candidate.k
    violations = []
    now = {}
    for kind, level, area, hour, people in candidate.rows(published_figure_keys_sql(candidate)):
        key = figure_key(kind, level, area, hour)
        now[key] = int(people)
        for before in sorted(held.get(key, ())):
            if reveals_fewer_than_k(int(people) - before, k):
                violations.append(
                    f"{figure_key_label(key)}: {people} now, {before} in an earlier release "
                    "of the date"
                )
    if held and inputs_changed(candidate):
        # A frozen re-publication (privacy_pipeline.location.inputs): people may have
        # joined and moved at once, so only values recipients hold may be published.
        for key, value in sorted(now.items(), key=lambda item: figure_key_label(item[0])):
            if value not in held.get(key, ()):
                violations.append(
                    f"{figure_key_label(key)}: {value} published again after the inputs "
                    "of the date changed (not a value of an earlier release)"
                )
    changed = {key: values - {now.get(key)} for key, values in held.items()}
    changed = {key: values for key, values in changed.items() if values}
    if changed:
        people_then = landing_people_of(candidate, list(changed))
        published = published_people(candidate)
        for key, values in sorted(changed.items(), key=lambda item: figure_key_label(item[0])):
            then = people_then.get(key, np.empty(0, dtype=np.int64))
            for label, people, value in published:
                if not len(people):
                    continue
                outside = int(np.count_nonzero(~np.isin(people, then)))
                for before in sorted(values):
                    if outside > max(before - len(then), 0):
                        continue
                    if reveals_fewer_than_k(before - value, k):
                        violations.append(
                            f"{figure_key_label(key)} ({before}, an earlier release) minus "
                            f"{label} ({value}) = {before - value}"
                        )
    return violations_check(violations, f"{len(held)} figures of earlier releases of the date")


def inputs_changed(candidate: Candidate) -> bool:
    """Whether what places people in figures (landing, consents lifting an objection,
    settings) differs from every earlier release of the date, recomputed here
    from the candidate's landing views, not read from the loader's record."""
    from privacy_pipeline.location.inputs import location_inputs_digest
    from privacy_pipeline.location.ledger import earlier_inputs

    digest = location_inputs_digest(candidate.con, candidate.ctx.config["location"])
    return digest not in earlier_inputs(candidate.ctx.warehouse_dir, candidate.ctx.run_date)


def figure_key_label(key) -> str:
    label = f"{key.table} {key.level} {readable(key.id)}"
    return label + ("" if key.hour is None else f" hour {key.hour}")


def readable(area: str) -> str:
    """A figure's area for the DPO: the key columns of a daily figure split by ' / '."""
    return str(area).replace(chr(31), " / ")


def landing_people_of(candidate: Candidate, keys: list) -> dict:
    """Today's people (from landing) of the figures ``keys``, published or not."""
    from privacy_pipeline.location.release import figure_key

    candidate.con.execute(
        "create or replace temp table gate_held_figures (figure integer, table_name varchar, "
        "level varchar, area varchar, hour_index integer)"
    )
    candidate.con.executemany(
        "insert into gate_held_figures values (?, ?, ?, ?, ?)",
        [(i, key.table, key.level, key.id, key.hour) for i, key in enumerate(keys)],
    )
    people = members_of(candidate, "gate_held_figures", len(keys))
    return {
        figure_key(key.table, key.level, key.id, key.hour): people[i] for i, key in enumerate(keys)
    }


PROMISES = (
    *PROMISES,
    Promise(
        "no_difference_of_published_figures_reveals_fewer_than_k",
        "For every published figure A (area hour, event hour, event total, visitors of a "
        "class, visitor origin, flow) and the people "
        "behind it, recomputed from the landing zone: A minus any published figure counting "
        "a subset of A's people, and A minus any family of published figures counting "
        "disjoint subsets of them, is 0 or at least k; so is a sum of published figures of "
        "one table, level and hour that covers a published figure of another table, minus "
        "that figure.",
        disclosure_rule,
    ),
    Promise(
        "no_republished_figure_differs_by_less_than_k",
        "No published figure differs from the same figure in an earlier release of the same "
        "run date (the release ledger) by 1 to k-1.",
        republication_rule,
    ),
)
