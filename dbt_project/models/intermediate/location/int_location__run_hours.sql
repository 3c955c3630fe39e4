-- The hours of the run date D: one row per hour of the local calendar day, so 23, 24
-- or 25 rows (DST). Generated from the day's instant range, never from the data: an hour
-- nobody was seen in still exists. hour_index 0 is local midnight.

with

run_day as (
    select
        starts_at,
        ends_at
    from {{ ref('int_consent__run_day') }}
),

digits as (
    select decimal_digits.digit
    from (values (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)) as decimal_digits (digit)
),

hour_offsets as (
    select tens.digit * 10 + units.digit as hour_index
    from digits as tens
    cross join digits as units
    where tens.digit < 3
),

candidate_hours as (
    select
        hour_offsets.hour_index,
        run_day.ends_at,
        run_day.starts_at + hour_offsets.hour_index * interval '1 hour' as hour_start
    from hour_offsets
    cross join run_day
)

select
    hour_index,
    hour_start,
    hour_start + interval '1 hour' as hour_end
from candidate_hours
where hour_start < ends_at
