-- For the DPO: per location table and area level, how many figures were published, how
-- many were below k, and how many were suppressed only to protect a smaller one
-- (complementary suppression). One row per table and level every run, zeros included.

with

table_levels as (
    select
        published_levels.table_name,
        published_levels.area_level
    from (
        values
        ('presence_hourly', 'postal_code'),
        ('presence_hourly', 'municipality'),
        ('presence_hourly', 'province'),
        ('event_attendance', 'event'),
        ('event_attendance_total', 'event')
    ) as published_levels (table_name, area_level)
),

decisions as (
    select
        table_name,
        area_level,
        status
    from {{ ref('int_location__release') }}
)

select
    cast('{{ run_date() }}' as date) as run_date,
    table_levels.table_name,
    table_levels.area_level,
    count(case when decisions.status = 'published' then 1 end) as published,
    count(case when decisions.status = 'suppressed_below_k' then 1 end) as suppressed_below_k,
    count(case when decisions.status = 'suppressed_complementary' then 1 end)
        as suppressed_complementary
from table_levels
left join decisions
    on
        table_levels.table_name = decisions.table_name
        and table_levels.area_level = decisions.area_level
group by table_levels.table_name, table_levels.area_level
