-- Distinct people per area and hour of D at the three nested levels, before any
-- suppression. Candidate database only: the release decides what is published.

with

person_areas as (
    select distinct
        person_hours.customer_id,
        person_hours.hour_index,
        person_hours.postal_code,
        postal_codes.parent_id as municipality,
        municipalities.parent_id as province
    from {{ ref('int_location__dp_bounded_person_hours') }} as person_hours
    inner join {{ ref('int_location__area_tree') }} as postal_codes
        on
            postal_codes.area_level = 'postal_code'
            and person_hours.postal_code = postal_codes.area_id
    inner join {{ ref('int_location__area_tree') }} as municipalities
        on
            municipalities.area_level = 'municipality'
            and postal_codes.parent_id = municipalities.area_id
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
