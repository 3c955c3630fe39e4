-- Accepted public events (festivals, ...), one row per event_id.
{{ config(materialized='view') }}

select
    event_id,
    name,
    starts_at,
    ends_at
from {{ ref('base_reference__events') }}
where rejection_reason is null
