-- Accepted mobile network cells, one row per cell_id, with their area.
{{ config(materialized='view') }}

select
    cell_id,
    postal_code,
    municipality,
    province,
    lat,
    lon
from {{ ref('base_reference__cells') }}
where rejection_reason is null
