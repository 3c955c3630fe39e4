-- The person hours that are counted. Without differential privacy: all of them. With it
-- (location.dp.enabled), each person's contribution is bounded so OpenDP can calibrate
-- the noise: at most max_hours_per_person hours, max_postal_codes_per_person_hour postal
-- codes in each, max_events_per_person events and max_event_hours_per_person hours at
-- each. Which ones are kept is decided by a hash (not by time of day, which would bias
-- the counts towards the morning).
{%- set dp = var('location')['dp'] %}
{%- for bound in ['max_hours_per_person', 'max_postal_codes_per_person_hour', 'max_events_per_person', 'max_event_hours_per_person'] %}
    {%- if dp['enabled'] and not (dp[bound] is integer and dp[bound] >= 1) %}
        {{ exceptions.raise_compiler_error('config location.dp.' ~ bound ~ ' must be an integer >= 1 when dp is enabled') }}
    {%- endif %}
{%- endfor %}
{{ config(materialized='table' if dp['enabled'] else 'view') }}

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

    person_hours as (
        select
            customer_id,
            hour_index,
            postal_code,
            municipality,
            province,
            event_id,
            md5(customer_id || '|' || cast(hour_index as varchar)) as hour_draw,
            md5(customer_id || '|' || cast(hour_index as varchar) || '|' || postal_code) as area_draw,
            md5(customer_id || '|' || coalesce(event_id, '')) as event_draw
        from {{ ref('int_location__person_hours') }}
    ),

    distinct_hours as (
        select distinct
            customer_id,
            hour_index,
            hour_draw
        from person_hours
    ),

    distinct_areas as (
        select distinct
            customer_id,
            hour_index,
            postal_code,
            area_draw
        from person_hours
    ),

    distinct_events as (
        select distinct
            customer_id,
            event_id,
            event_draw
        from person_hours
        where event_id is not null
    ),

    distinct_event_hours as (
        select distinct
            customer_id,
            event_id,
            hour_index,
            hour_draw
        from person_hours
        where event_id is not null
    ),

    ranked_hours as (
        select
            customer_id,
            hour_index,
            dense_rank() over (partition by customer_id order by hour_draw) as hour_rank
        from distinct_hours
    ),

    ranked_areas as (
        select
            customer_id,
            hour_index,
            postal_code,
            dense_rank() over (partition by customer_id, hour_index order by area_draw) as area_rank
        from distinct_areas
    ),

    ranked_events as (
        select
            customer_id,
            event_id,
            dense_rank() over (partition by customer_id order by event_draw) as event_rank
        from distinct_events
    ),

    ranked_event_hours as (
        select
            customer_id,
            event_id,
            hour_index,
            dense_rank() over (partition by customer_id, event_id order by hour_draw) as event_hour_rank
        from distinct_event_hours
    ),

    kept_presence as (
        select distinct
            person_hours.customer_id,
            person_hours.hour_index,
            person_hours.postal_code,
            person_hours.municipality,
            person_hours.province,
            cast(null as varchar) as event_id
        from person_hours
        inner join ranked_hours
            on
                person_hours.customer_id = ranked_hours.customer_id
                and person_hours.hour_index = ranked_hours.hour_index
        inner join ranked_areas
            on
                person_hours.customer_id = ranked_areas.customer_id
                and person_hours.hour_index = ranked_areas.hour_index
                and person_hours.postal_code = ranked_areas.postal_code
        where
            ranked_hours.hour_rank <= {{ dp['max_hours_per_person'] }}
            and ranked_areas.area_rank <= {{ dp['max_postal_codes_per_person_hour'] }}
    ),

    kept_event_hours as (
        select distinct
            person_hours.customer_id,
            person_hours.hour_index,
            -- An event figure never reads the postal code: the presence rows carry it.
            cast(null as varchar) as postal_code,
            cast(null as varchar) as municipality,
            cast(null as varchar) as province,
            person_hours.event_id
        from person_hours
        inner join ranked_events
            on
                person_hours.customer_id = ranked_events.customer_id
                and person_hours.event_id = ranked_events.event_id
        inner join ranked_event_hours
            on
                person_hours.customer_id = ranked_event_hours.customer_id
                and person_hours.event_id = ranked_event_hours.event_id
                and person_hours.hour_index = ranked_event_hours.hour_index
        where
            ranked_events.event_rank <= {{ dp['max_events_per_person'] }}
            and ranked_event_hours.event_hour_rank <= {{ dp['max_event_hours_per_person'] }}
    )

    select * from kept_presence
    union all
    select * from kept_event_hours

{%- endif %}
