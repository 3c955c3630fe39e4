-- Who stands behind each candidate figure: one row per figure and person, both integers:
-- the figure as its code (macro location_figure_code, decoded by the release model), the
-- person as a small integer (int_location__people, meaningful only inside this query).
-- The disclosure auditor (int_location__release) decides containment between figures from
-- these sets.
-- A view: the rows exist only while the release model reads them, in memory; no
-- per-person table is ever written. Figures: per area and hour of D, per event and hour,
-- per event over its whole window on D; and the whole-day figures of the visits and moves
-- tables (int_location__visit_members), which the auditor relates to all the others by
-- their people like any figure.
-- With differential privacy on, the visits and moves tables have no candidate figures:
-- their contributions are not bounded, so no noise could be calibrated for them.
{{ config(materialized='view') }}

with

person_hours as (
    select
        person_id,
        hour_index,
        postal_code,
        municipality,
        province,
        event_code
    from {{ ref('int_location__dp_bounded_person_hours') }}
),

-- A presence row is unique per person, hour and postal code; coarser levels need distinct.
-- The hour goes in a code as hour_index + 1 (0 is no hour).
memberships as (
    select
        {{ location_figure_code('presence_hourly', 'postal_code', '0', 'hour_index + 1') }} as figure_code,
        person_id
    from person_hours
    where event_code is null

    union all

    select
        {{ location_figure_code('presence_hourly', 'municipality', '0', 'hour_index + 1') }} as figure_code,
        person_id
    from (
        select distinct
            municipality,
            hour_index,
            person_id
        from person_hours
        where event_code is null
    ) as municipal

    union all

    select
        {{ location_figure_code('presence_hourly', 'province', '0', 'hour_index + 1') }} as figure_code,
        person_id
    from (
        select distinct
            province,
            hour_index,
            person_id
        from person_hours
        where event_code is null
    ) as provincial

    union all

    select
        {{ location_figure_code('event_attendance', 'event_code', '0', 'hour_index + 1') }} as figure_code,
        person_id
    from person_hours
    where event_code is not null

    union all

    select
        {{ location_figure_code('event_attendance_total', 'event_code') }} as figure_code,
        person_id
    from (
        select distinct
            event_code,
            person_id
        from person_hours
        where event_code is not null
    ) as attendees
    {%- if not var('location')['dp']['enabled'] %}

        union all

        select
            figure_code,
            person_id
        from {{ ref('int_location__visit_members') }}
    {%- endif %}
)

select
    figure_code,
    person_id
from memberships
