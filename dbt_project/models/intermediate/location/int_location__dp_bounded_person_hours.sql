-- The person hours that are counted. Without differential privacy: all of them. With it
-- (location.dp.enabled), each person's contribution is bounded so OpenDP can calibrate
-- the noise: at most max_hours_per_person hours, max_postal_codes_per_person_hour postal
-- codes in each, max_events_per_person events and max_event_hours_per_person hours at
-- each. Which ones are kept is decided by a hash (not by time of day, which would bias
-- the counts towards the morning). Ephemeral, like its input.
{{ config(materialized='ephemeral') }}
{%- set dp = var('location')['dp'] %}
{%- for bound in ['max_hours_per_person', 'max_postal_codes_per_person_hour', 'max_events_per_person', 'max_event_hours_per_person'] %}
    {%- if dp['enabled'] and not (dp[bound] is integer and dp[bound] >= 1) %}
        {{ exceptions.raise_compiler_error('config location.dp.' ~ bound ~ ' must be an integer >= 1 when dp is enabled') }}
    {%- endif %}
{%- endfor %}

{%- if not dp['enabled'] %}

    select
        person_id,
        hour_index,
        postal_code,
        municipality,
        province,
        event_code
    from {{ ref('int_location__person_hours') }}

{%- else %}

    with

    -- The draws hash the customer, area and event ids, not their codes, which depend on
    -- the whole day's reference data: the same person hours are kept on every run.
    person_hours as (
        select
            person_hours.person_id,
            people.customer_id,
            person_hours.hour_index,
            person_hours.postal_code,
            person_hours.municipality,
            person_hours.province,
            person_hours.event_code,
            coalesce(postal.key_id, events.key_id) as key_id
        from {{ ref('int_location__person_hours') }} as person_hours
        inner join {{ ref('int_location__people') }} as people
            on person_hours.person_id = people.person_id
        left join {{ ref('int_location__key_codes') }} as postal
            on person_hours.postal_code = postal.key_code
        left join {{ ref('int_location__key_codes') }} as events
            on person_hours.event_code = events.key_code
    ),

    presence as (
        select
            person_id,
            hour_index,
            postal_code,
            municipality,
            province,
            md5(customer_id || '|' || cast(hour_index as {{ dbt.type_string() }})) as hour_draw,
            md5(customer_id || '|' || cast(hour_index as {{ dbt.type_string() }}) || '|' || key_id) as area_draw
        from person_hours
        where event_code is null
    ),

    attendance as (
        select
            person_id,
            hour_index,
            event_code,
            md5(customer_id || '|' || cast(hour_index as {{ dbt.type_string() }})) as hour_draw,
            md5(customer_id || '|' || key_id) as event_draw
        from person_hours
        where event_code is not null
    ),

    ranked_presence as (
        select
            person_id,
            hour_index,
            postal_code,
            municipality,
            province,
            dense_rank() over (partition by person_id order by hour_draw) as hour_rank,
            row_number() over (partition by person_id, hour_index order by area_draw) as area_rank
        from presence
    ),

    ranked_attendance as (
        select
            person_id,
            hour_index,
            event_code,
            dense_rank() over (partition by person_id order by event_draw) as event_rank,
            row_number() over (partition by person_id, event_code order by hour_draw) as event_hour_rank
        from attendance
    ),

    kept_presence as (
        select
            person_id,
            hour_index,
            postal_code,
            municipality,
            province,
            cast(null as integer) as event_code
        from ranked_presence
        where
            hour_rank <= {{ dp['max_hours_per_person'] }}
            and area_rank <= {{ dp['max_postal_codes_per_person_hour'] }}
    ),

    kept_attendance as (
        select
            person_id,
            hour_index,
            cast(null as integer) as postal_code,
            cast(null as integer) as municipality,
            cast(null as integer) as province,
            event_code
        from ranked_attendance
        where
            event_rank <= {{ dp['max_events_per_person'] }}
            and event_hour_rank <= {{ dp['max_event_hours_per_person'] }}
    )

    select * from kept_presence
    union all
    select * from kept_attendance

{%- endif %}
