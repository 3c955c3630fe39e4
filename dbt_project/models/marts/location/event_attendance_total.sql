-- People present in an event's cells during its whole window on the run date (each
-- person once): published figures only.

select
    area_id as event_id,
    cast(released_people as bigint) as people,
    cast('{{ run_date() }}' as date) as run_date
from {{ ref('int_location__release') }}
where table_name = 'event_attendance_total' and status = 'published'
