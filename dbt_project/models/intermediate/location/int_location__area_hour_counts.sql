-- Distinct people per area and hour of D at the three nested levels, before any
-- suppression. Candidate database only: the release decides what is published.
-- (Event rows of the DP-bounded input carry no area: they are not presence.)

with

person_areas as (
    select
        customer_id,
        hour_index,
        postal_code,
        municipality,
        province
    from {{ ref('int_location__dp_bounded_person_hours') }}
    where postal_code is not null
),

postal_code_counts as (
    select
        'postal_code' as area_level,
        postal_code as area_id,
        hour_index,
        count(distinct customer_id) as people
    from person_areas
    group by postal_code, hour_index
),

municipality_counts as (
    select
        'municipality' as area_level,
        municipality as area_id,
        hour_index,
        count(distinct customer_id) as people
    from person_areas
    group by municipality, hour_index
),

province_counts as (
    select
        'province' as area_level,
        province as area_id,
        hour_index,
        count(distinct customer_id) as people
    from person_areas
    group by province, hour_index
)

select * from postal_code_counts
union all
select * from municipality_counts
union all
select * from province_counts
