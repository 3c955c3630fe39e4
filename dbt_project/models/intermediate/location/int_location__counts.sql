-- Distinct people per figure before any suppression: per area (postal code, municipality,
-- province) and hour of D, per event and hour, and per event over its whole window on D.
-- One query: the per-person rows (ephemeral int_location__person_hours, optionally
-- DP-bounded) are computed in memory from the single scan of the network events and
-- reduced here to counts; no per-person table is ever written.

with

person_hours as (
    select
        customer_id,
        hour_index,
        postal_code,
        municipality,
        province,
        event_id
    from {{ ref('int_location__dp_bounded_person_hours') }}
),

presence as (
    select
        customer_id,
        hour_index,
        postal_code,
        municipality,
        province
    from person_hours
    where event_id is null
),

attendance as (
    select
        customer_id,
        hour_index,
        event_id
    from person_hours
    where event_id is not null
),

-- A presence row is unique per person, hour and postal code: a row count is a people count.
postal_code_counts as (
    select
        'presence_hourly' as table_name,
        'postal_code' as area_level,
        postal_code as area_id,
        hour_index,
        count(*) as people
    from presence
    group by postal_code, hour_index
),

municipality_counts as (
    select
        'presence_hourly' as table_name,
        'municipality' as area_level,
        municipality as area_id,
        hour_index,
        count(distinct customer_id) as people
    from presence
    group by municipality, hour_index
),

province_counts as (
    select
        'presence_hourly' as table_name,
        'province' as area_level,
        province as area_id,
        hour_index,
        count(distinct customer_id) as people
    from presence
    group by province, hour_index
),

-- An attendance row is unique per person, hour and event.
event_hour_counts as (
    select
        'event_attendance' as table_name,
        'event' as area_level,
        event_id as area_id,
        hour_index,
        count(*) as people
    from attendance
    group by event_id, hour_index
),

event_window_counts as (
    select
        'event_attendance_total' as table_name,
        'event' as area_level,
        event_id as area_id,
        cast(null as integer) as hour_index,
        count(distinct customer_id) as people
    from attendance
    group by event_id
)

select * from postal_code_counts
union all
select * from municipality_counts
union all
select * from province_counts
union all
select * from event_hour_counts
union all
select * from event_window_counts
