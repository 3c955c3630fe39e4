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

-- Every code is an integer (int_location__sightings, int_location__key_codes): the windows
-- below sort every sighting of the day, and rows of integers sort and spill a fraction of
-- what strings do (3x faster at 100M events, docs/benchmarks.md). An area code is unique
-- across levels.
sightings as (
    select
        person_id,
        cell_code,
        event_at,
        postal_code,
        municipality,
        province
    from {{ ref('int_location__sightings') }}
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

-- The home: the CRM postal code, rolled up through the cells' area codes (a nested tree).
postal_areas as (
    select distinct
        postal_code,
        municipality,
        province
    from {{ ref('int_location__cells') }}
    where postal_code is not null
),

homes as (
    select
        people.person_id,
        postal_areas.postal_code as home_postal_code,
        postal_areas.municipality as home_municipality,
        postal_areas.province as home_province
    from {{ ref('stg_crm__customers') }} as customers
    inner join {{ ref('int_location__people') }} as people
        on customers.customer_id = people.customer_id
    left join {{ ref('int_location__key_codes') }} as home_postal
        on home_postal.key_level = 'postal_code' and customers.postal_code = home_postal.key_id
    left join postal_areas
        on home_postal.key_code = postal_areas.postal_code
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
        person_id,
        area_code,
        home_municipality,
        home_province,
        case
            when area_code = home_area_code then {{ location_label_code('visitor_class', 'resident') }}
            when longest_stay_seconds >= {{ min_stay_minutes * 60 }} then {{ location_label_code('visitor_class', 'visitor') }}
            else {{ location_label_code('visitor_class', 'transit') }}
        end as visitor_class
    from seen_from_home
    -- An unknown area (a cell without one) is nobody's figure.
    where area_code is not null
),

moves as (
    {%- for level in origin_levels %}
        select
            person_id,
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
        origin_area_code,
        destination_area_code,
        case
            when arrival_hour < 6 then {{ location_label_code('time_band', 'night') }}
            when arrival_hour < 10 then {{ location_label_code('time_band', 'morning') }}
            when arrival_hour < 16 then {{ location_label_code('time_band', 'midday') }}
            when arrival_hour < 20 then {{ location_label_code('time_band', 'evening') }}
            else {{ location_label_code('time_band', 'late') }}
        end as time_band
    from moves
)

select
    {{ location_figure_code('visitors_daily', 'area_code', 'visitor_class') }} as figure_code,
    person_id
from classified

union all

-- A visitor's home area, at the level of the origin.
{%- for level in origin_levels %}
    select
        {{ location_figure_code('visitor_origin', 'area_code', 'home_' ~ level) }} as figure_code,
        person_id
    from classified
    where visitor_class = {{ location_label_code('visitor_class', 'visitor') }} and home_{{ level }} is not null

    union all
{%- endfor %}

select
    {{ location_figure_code('od_flows', 'origin_area_code', 'destination_area_code', 'time_band') }} as figure_code,
    person_id
from banded_moves
