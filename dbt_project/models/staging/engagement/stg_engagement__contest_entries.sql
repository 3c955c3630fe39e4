-- Accepted contest entries, one row per entry_id.
{{ config(materialized='view') }}

select
    entry_id,
    customer_id,
    contest_id,
    entered_at
from {{ ref('base_engagement__contest_entries') }}
where rejection_reason is null
