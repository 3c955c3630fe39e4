-- The areas of the accepted cells as a tree: postal code -> municipality -> province.
-- One row per area: the areas a reader sees must nest (the disclosure auditor relates
-- figures by their people). Staging quarantines a cell that puts its postal code in a
-- second municipality (or a municipality in a second province) as area_conflict, so
-- the unique test only fails if that check is broken.

with

cell_areas as (
    select distinct
        postal_code,
        municipality,
        province
    from {{ ref('stg_reference__cells') }}
    where postal_code is not null
)

select distinct
    'postal_code' as area_level,
    postal_code as area_id,
    'municipality' as parent_level,
    municipality as parent_id
from cell_areas

union all

select distinct
    'municipality' as area_level,
    municipality as area_id,
    'province' as parent_level,
    province as parent_id
from cell_areas

union all

select distinct
    'province' as area_level,
    province as area_id,
    cast(null as {{ dbt.type_string() }}) as parent_level,
    cast(null as {{ dbt.type_string() }}) as parent_id
from cell_areas
