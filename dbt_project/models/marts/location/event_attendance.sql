-- People present in an event's cells during its window, per hour of the run date
-- (the part of the window inside that hour): published figures only.

with

published_event_hours as (
    select
        area_id as event_id,
        hour_index,
        released_people
    from {{ ref('int_location__release') }}
    where table_name = 'event_attendance' and status = 'published'
)

select
    published_event_hours.event_id,
    run_hours.hour_start,
    cast(published_event_hours.released_people as bigint) as people,
    cast('{{ run_date() }}' as date) as run_date
from published_event_hours
inner join {{ ref('int_location__run_hours') }} as run_hours
    on published_event_hours.hour_index = run_hours.hour_index
