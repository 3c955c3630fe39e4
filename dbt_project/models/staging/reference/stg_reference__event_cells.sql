-- Accepted links between an event and the cells covering its site, one row per pair.
{{ config(materialized='view') }}

select
    event_id,
    cell_id
from {{ ref('base_reference__event_cells') }}
where rejection_reason is null
