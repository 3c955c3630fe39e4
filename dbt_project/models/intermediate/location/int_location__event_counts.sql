-- Distinct people at each event per hour of D (hour_index) and over its whole window on
-- D (hour_index null), before any suppression. Candidate database only.

with

attendance as (
    select
        customer_id,
        hour_index,
        event_id
    from {{ ref('int_location__dp_bounded_person_hours') }}
    where event_id is not null
),

hourly_counts as (
    select
        event_id,
        hour_index,
        count(distinct customer_id) as people
    from attendance
    group by event_id, hour_index
),

window_counts as (
    select
        event_id,
        cast(null as integer) as hour_index,
        count(distinct customer_id) as people
    from attendance
    group by event_id
)

select * from hourly_counts
union all
select * from window_counts
