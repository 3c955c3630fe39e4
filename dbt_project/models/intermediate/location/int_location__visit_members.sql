-- Who stands behind each candidate figure of the visits and moves tables, one row per
-- figure and person (same shape as the memberships of int_location__figure_members):
--   visitors_daily: per area (3 levels) and class, the people seen there on D, each with
--     exactly one class: resident (home there), visitor (a stay of at least
--     location.min_stay_minutes), transit;
--   visitor_origin: per area and home municipality / province, its visitors;
--   od_flows: per municipality / province move (origin <> destination) and time band of
--     the arrival (Europe/Brussels clock), the people who made it.
-- One sort of each person's sightings serves every level: lag and lead over the person's
-- events in time order find the moves and the first and last events of each stay (an
-- island of consecutive events in one area); a second, small sort pairs them.
-- Ephemeral: per-person rows exist only inside the release model's query.
-- Definitions and choices: docs/location-privacy.md.
{{ config(materialized='ephemeral') }}
{%- set min_stay_minutes = var('location').get('min_stay_minutes', 30) %}
{%- if not (min_stay_minutes is integer and min_stay_minutes >= 0) %}
    {{ exceptions.raise_compiler_error('config location.min_stay_minutes must be a whole number of minutes >= 0') }}
{%- endif %}
{#- The area levels, finest first; moves and home origins are counted at the two coarser. -#}
{%- set area_levels = ['postal_code', 'municipality', 'province'] %}
{%- set origin_levels = ['municipality', 'province'] %}

with

-- Small integer codes, decoded once on the figures' rows: the windows below sort every
-- sighting of the day, and rows of integers sort and spill a fraction of what strings do
-- (3x faster at 100M events, docs/benchmarks.md). An area code is unique across levels.
areas as (
    select
        area_level,
        area_id,
        cast(row_number() over (order by area_level, area_id) as integer) as area_code
    from (
        select distinct
            area_level,
            area_id
        from {{ ref('int_location__area_tree') }}
    ) as tree
),

-- A cell's code keeps the order of its id (ties of one instant are ordered by cell).
cells as (
    select
        cells.cell_id,
        cast(row_number() over (order by cells.cell_id) as integer) as cell_code,
        postal.area_code as postal_code,
        municipal.area_code as municipality,
        provincial.area_code as province
    from {{ ref('stg_reference__cells') }} as cells
    left join areas as postal
        on postal.area_level = 'postal_code' and cells.postal_code = postal.area_id
    left join areas as municipal
        on municipal.area_level = 'municipality' and cells.municipality = municipal.area_id
    left join areas as provincial
        on provincial.area_level = 'province' and cells.province = provincial.area_id
),

people as (
    select
        customer_id,
        person_id
    from {{ ref('int_location__people') }}
),

sightings as (
    select
        people.person_id,
        cells.cell_code,
        sightings.event_at,
        cells.postal_code,
        cells.municipality,
        cells.province
    from {{ ref('int_location__sightings') }} as sightings
    inner join people
        on sightings.customer_id = people.customer_id
    inner join cells
        on sightings.cell_id = cells.cell_id
),

-- One sort of each person's sightings: the area before and after each event, at every
-- level. Ties of one instant are ordered by cell, so the same events always give the same
-- moves and stays.
ordered as (
    select
        person_id,
        cell_code,
        event_at,
        postal_code,
        municipality,
        province,
        lag(postal_code) over by_time as previous_postal_code,
        lead(postal_code) over by_time as next_postal_code,
        lag(municipality) over by_time as previous_municipality,
        lead(municipality) over by_time as next_municipality,
        lag(province) over by_time as previous_province,
        lead(province) over by_time as next_province
    from sightings
    window by_time as (partition by person_id order by event_at, cell_code)
),

-- Gaps and islands without a running count: a stay (an island of consecutive events in one
-- area) is bounded by its first event (the area before differs) and its last (the area
-- after differs); a lone event is both. Only these boundary events go on: in time order the
-- last event of a stay is the boundary right after its first. An unknown area (null) is a
-- stay of its own at each event.
stay_bounds as (
    {%- for level in area_levels %}
        select
            person_id,
            {{ loop.index0 }} as level_index,
            {{ level }} as area_code,
            event_at,
            cell_code,
            {{ epoch_seconds("event_at") }} as seen_at_seconds,
            coalesce(previous_{{ level }} = {{ level }}, false) as continues_a_stay,
            coalesce(next_{{ level }} = {{ level }}, false) as stay_goes_on
        from ordered
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

stay_ends as (
    select
        person_id,
        level_index,
        area_code,
        continues_a_stay,
        seen_at_seconds,
        case
            when stay_goes_on then lead(seen_at_seconds) over next_bound
            else seen_at_seconds
        end as left_at_seconds
    from stay_bounds
    -- The filter runs before the window: lead() sees the boundary events only.
    where not continues_a_stay or not stay_goes_on
    -- Events of one instant and cell are one area: the first event of a stay goes first.
    window next_bound as (
        partition by person_id, level_index order by event_at, cell_code, continues_a_stay
    )
),

stays as (
    select
        person_id,
        level_index,
        area_code,
        left_at_seconds - seen_at_seconds as stay_seconds
    from stay_ends
    where not continues_a_stay
),

areas_seen as (
    select
        person_id,
        level_index,
        area_code,
        max(stay_seconds) as longest_stay_seconds
    from stays
    group by person_id, level_index, area_code
),

-- The home: the CRM postal code, rolled up through the cells reference (a nested tree).
postal_areas as (
    select distinct
        postal_code,
        municipality,
        province
    from {{ ref('stg_reference__cells') }}
    where postal_code is not null
),

homes as (
    select
        people.person_id,
        home_postal.area_code as home_postal_code,
        home_municipal.area_code as home_municipality,
        home_provincial.area_code as home_province
    from {{ ref('stg_crm__customers') }} as customers
    inner join people
        on customers.customer_id = people.customer_id
    left join postal_areas
        on customers.postal_code = postal_areas.postal_code
    left join areas as home_postal
        on home_postal.area_level = 'postal_code' and customers.postal_code = home_postal.area_id
    left join areas as home_municipal
        on
            home_municipal.area_level = 'municipality'
            and postal_areas.municipality = home_municipal.area_id
    left join areas as home_provincial
        on
            home_provincial.area_level = 'province'
            and postal_areas.province = home_provincial.area_id
),

seen_from_home as (
    select
        areas_seen.person_id,
        areas_seen.area_code,
        areas_seen.longest_stay_seconds,
        homes.home_municipality,
        homes.home_province,
        case areas_seen.level_index
            {%- for level in area_levels %}
                when {{ loop.index0 }} then homes.home_{{ level }}
            {%- endfor %}
        end as home_area_code
    from areas_seen
    left join homes
        on areas_seen.person_id = homes.person_id
),

classified as (
    select
        seen_from_home.person_id,
        areas.area_level,
        areas.area_id,
        seen_from_home.home_municipality,
        seen_from_home.home_province,
        case
            when seen_from_home.area_code = seen_from_home.home_area_code then 'resident'
            when seen_from_home.longest_stay_seconds >= {{ min_stay_minutes * 60 }} then 'visitor'
            else 'transit'
        end as visitor_class
    from seen_from_home
    inner join areas
        on seen_from_home.area_code = areas.area_code
),

moves as (
    {%- for level in origin_levels %}
        select
            person_id,
            '{{ level }}' as area_level,
            previous_{{ level }} as origin_area_code,
            {{ level }} as destination_area_code,
            {{ local_clock_hour('event_at') }} as arrival_hour
        from ordered
        where previous_{{ level }} <> {{ level }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

banded_moves as (
    select distinct
        person_id,
        area_level,
        origin_area_code,
        destination_area_code,
        case
            when arrival_hour < 6 then 'night'
            when arrival_hour < 10 then 'morning'
            when arrival_hour < 16 then 'midday'
            when arrival_hour < 20 then 'evening'
            else 'late'
        end as time_band
    from moves
)

select
    'visitors_daily' as table_name,
    area_level,
    {{ location_figure_key(['area_id', 'visitor_class']) }} as area_id,
    cast(null as integer) as hour_index,
    person_id
from classified

union all

{%- for level in origin_levels %}
    select
        'visitor_origin' as table_name,
        classified.area_level,
        {{ location_figure_key(['classified.area_id', "'" ~ level ~ "'", 'home.area_id']) }} as area_id,
        cast(null as integer) as hour_index,
        classified.person_id
    from classified
    inner join areas as home
        on classified.home_{{ level }} = home.area_code
    where classified.visitor_class = 'visitor'

    union all
{%- endfor %}

select
    'od_flows' as table_name,
    banded_moves.area_level,
    {{ location_figure_key(['origin.area_id', 'destination.area_id', 'banded_moves.time_band']) }} as area_id,
    cast(null as integer) as hour_index,
    banded_moves.person_id
from banded_moves
inner join areas as origin
    on banded_moves.origin_area_code = origin.area_code
inner join areas as destination
    on banded_moves.destination_area_code = destination.area_code
