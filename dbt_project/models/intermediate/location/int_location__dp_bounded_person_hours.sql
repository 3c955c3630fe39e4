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
        customer_id,
        hour_index,
        postal_code,
        municipality,
        province,
        event_id
    from {{ ref('int_location__person_hours') }}

{%- else %}

    with

    presence as (
        select
            customer_id,
            hour_index,
            postal_code,
            municipality,
            province,
            md5(customer_id || '|' || cast(hour_index as {{ dbt.type_string() }})) as hour_draw,
            md5(customer_id || '|' || cast(hour_index as {{ dbt.type_string() }}) || '|' || postal_code) as area_draw
        from {{ ref('int_location__person_hours') }}
        where event_id is null
    ),

    attendance as (
        select
            customer_id,
            hour_index,
            event_id,
            md5(customer_id || '|' || cast(hour_index as {{ dbt.type_string() }})) as hour_draw,
            md5(customer_id || '|' || event_id) as event_draw
        from {{ ref('int_location__person_hours') }}
        where event_id is not null
    ),

    ranked_presence as (
        select
            customer_id,
            hour_index,
            postal_code,
            municipality,
            province,
            dense_rank() over (partition by customer_id order by hour_draw) as hour_rank,
            row_number() over (partition by customer_id, hour_index order by area_draw) as area_rank
        from presence
    ),

    ranked_attendance as (
        select
            customer_id,
            hour_index,
            event_id,
            dense_rank() over (partition by customer_id order by event_draw) as event_rank,
            row_number() over (partition by customer_id, event_id order by hour_draw) as event_hour_rank
        from attendance
    ),

    kept_presence as (
        select
            customer_id,
            hour_index,
            postal_code,
            municipality,
            province,
            cast(null as {{ dbt.type_string() }}) as event_id
        from ranked_presence
        where
            hour_rank <= {{ dp['max_hours_per_person'] }}
            and area_rank <= {{ dp['max_postal_codes_per_person_hour'] }}
    ),

    kept_attendance as (
        select
            customer_id,
            hour_index,
            cast(null as {{ dbt.type_string() }}) as postal_code,
            cast(null as {{ dbt.type_string() }}) as municipality,
            cast(null as {{ dbt.type_string() }}) as province,
            event_id
        from ranked_attendance
        where
            event_rank <= {{ dp['max_events_per_person'] }}
            and event_hour_rank <= {{ dp['max_event_hours_per_person'] }}
    )

    select * from kept_presence
    union all
    select * from kept_attendance

{%- endif %}
