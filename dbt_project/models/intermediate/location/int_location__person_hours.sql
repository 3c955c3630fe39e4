-- Presence and attendance, from the run date's sightings (int_location__sightings, the
-- one pass over the network events), in two kinds of distinct rows:
-- presence (who was seen in which postal code in which hour of D; event_code null) and
-- attendance (who was at which event in which hour; areas null).
-- Only customers allowed for location_analytics on D are there, before anything else.
-- People, areas and events are integer codes (int_location__people,
-- int_location__key_codes): the distincts below group every sighting of the day.
-- The areas come along (the tree is nested, tested in int_location__area_tree), and a
-- presence row is unique per person, hour and postal code, so counting needs no join and
-- no distinct at postal-code level. Ephemeral: these per-person rows exist only inside
-- the query of int_location__figure_members, read in memory by the release model, and are
-- never written to a table.
{{ config(materialized='ephemeral') }}

with

run_day as (
    select
        starts_at,
        ends_at
    from {{ ref('int_consent__run_day') }}
),

event_sites as (
    select
        event_codes.key_code as event_code,
        cells.cell_code,
        events.starts_at,
        events.ends_at
    from {{ ref('stg_reference__event_cells') }} as event_cells
    inner join {{ ref('stg_reference__events') }} as events
        on event_cells.event_id = events.event_id
    inner join {{ ref('int_location__key_codes') }} as event_codes
        on event_codes.key_level = 'event' and events.event_id = event_codes.key_id
    inner join {{ ref('int_location__cells') }} as cells
        on event_cells.cell_id = cells.cell_id
    cross join run_day
    where events.starts_at < run_day.ends_at and events.ends_at >= run_day.starts_at
),

located_sightings as (
    select
        sightings.person_id,
        sightings.hour_index,
        sightings.postal_code,
        sightings.municipality,
        sightings.province,
        event_sites.event_code
    from {{ ref('int_location__sightings') }} as sightings
    left join event_sites
        on
            sightings.cell_code = event_sites.cell_code
            and sightings.event_at >= event_sites.starts_at
            and sightings.event_at <= event_sites.ends_at
),

presence as (
    select distinct
        person_id,
        hour_index,
        postal_code,
        municipality,
        province,
        cast(null as integer) as event_code
    from located_sightings
),

attendance as (
    select distinct
        person_id,
        hour_index,
        cast(null as integer) as postal_code,
        cast(null as integer) as municipality,
        cast(null as integer) as province,
        event_code
    from located_sightings
    where event_code is not null
)

select * from presence
union all
select * from attendance
