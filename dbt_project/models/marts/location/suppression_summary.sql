-- For the DPO: per location table and area level, how many figures were published, how
-- many were below k, suppressed only to protect a smaller one (complementary), or
-- withheld because they changed too little since an earlier release of the date; and
-- the information kept: the share of figures and of people-hours (the sum of the true
-- counts) published, per row and over all the release (the total_ columns, the same on
-- every row). One row per table and level every run, zeros included. people_hours sums
-- the true counts: people-hours for hourly tables, people-days for the whole-day ones.

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
        ('event_attendance_total', 'event'),
        ('visitors_daily', 'postal_code'),
        ('visitors_daily', 'municipality'),
        ('visitors_daily', 'province'),
        ('visitor_origin', 'postal_code'),
        ('visitor_origin', 'municipality'),
        ('visitor_origin', 'province'),
        ('od_flows', 'municipality'),
        ('od_flows', 'province')
    ) as published_levels (table_name, area_level)
),

decisions as (
    select
        table_name,
        area_level,
        status,
        people
    from {{ ref('int_location__release') }}
),

per_level as (
    select
        table_levels.table_name,
        table_levels.area_level,
        count(case when decisions.status = 'published' then 1 end) as published,
        count(case when decisions.status = 'suppressed_below_k' then 1 end) as suppressed_below_k,
        count(case when decisions.status = 'suppressed_complementary' then 1 end)
            as suppressed_complementary,
        count(case when decisions.status = 'suppressed_republication' then 1 end)
            as suppressed_republication,
        count(decisions.status) as candidate_figures,
        coalesce(sum(decisions.people), 0) as people_hours,
        coalesce(sum(case when decisions.status = 'published' then decisions.people end), 0)
            as published_people_hours
    from table_levels
    left join decisions
        on
            table_levels.table_name = decisions.table_name
            and table_levels.area_level = decisions.area_level
    group by table_levels.table_name, table_levels.area_level
)

select
    cast('{{ run_date() }}' as date) as run_date,
    table_name,
    area_level,
    published,
    suppressed_below_k,
    suppressed_complementary,
    suppressed_republication,
    candidate_figures,
    people_hours,
    published_people_hours,
    cast(published as double) / nullif(candidate_figures, 0) as published_figures_share,
    cast(published_people_hours as double) / nullif(people_hours, 0)
        as published_people_hours_share,
    cast(sum(published) over () as double) / nullif(sum(candidate_figures) over (), 0)
        as total_published_figures_share,
    cast(sum(published_people_hours) over () as double) / nullif(sum(people_hours) over (), 0)
        as total_published_people_hours_share
from per_level
