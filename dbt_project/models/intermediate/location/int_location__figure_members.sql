-- Who stands behind each candidate figure: one row per figure and person, the person as
-- a small integer (int_location__people, meaningful only inside this query). The
-- disclosure auditor (int_location__release) decides containment between figures from
-- these sets.
-- A view: the rows exist only while the release model reads them, in memory; no
-- per-person table is ever written. Figures: per area and hour of D, per event and hour,
-- per event over its whole window on D (hour_index null); and the whole-day figures of
-- the visits and moves tables (int_location__visit_members, hour_index null), which the
-- auditor relates to all the others by their people like any figure.
-- With differential privacy on, the visits and moves tables have no candidate figures:
-- their contributions are not bounded, so no noise could be calibrated for them.
{{ config(materialized='view') }}

with

person_hours as (
    select
        people.person_id,
        person_hours.hour_index,
        person_hours.postal_code,
        person_hours.municipality,
        person_hours.province,
        person_hours.event_id
    from {{ ref('int_location__dp_bounded_person_hours') }} as person_hours
    inner join {{ ref('int_location__people') }} as people
        on person_hours.customer_id = people.customer_id
),

-- A presence row is unique per person, hour and postal code; coarser levels need distinct.
memberships as (
    select
        'presence_hourly' as table_name,
        'postal_code' as area_level,
        postal_code as area_id,
        hour_index,
        person_id
    from person_hours
    where event_id is null

    union all

    select distinct
        'presence_hourly' as table_name,
        'municipality' as area_level,
        municipality as area_id,
        hour_index,
        person_id
    from person_hours
    where event_id is null

    union all

    select distinct
        'presence_hourly' as table_name,
        'province' as area_level,
        province as area_id,
        hour_index,
        person_id
    from person_hours
    where event_id is null

    union all

    select
        'event_attendance' as table_name,
        'event' as area_level,
        event_id as area_id,
        hour_index,
        person_id
    from person_hours
    where event_id is not null

    union all

    select distinct
        'event_attendance_total' as table_name,
        'event' as area_level,
        event_id as area_id,
        cast(null as integer) as hour_index,
        person_id
    from person_hours
    where event_id is not null
    {%- if not var('location')['dp']['enabled'] %}

        union all

        select
            table_name,
            area_level,
            area_id,
            hour_index,
            person_id
        from {{ ref('int_location__visit_members') }}
    {%- endif %}
)

select
    table_name,
    area_level,
    area_id,
    hour_index,
    person_id
from memberships
