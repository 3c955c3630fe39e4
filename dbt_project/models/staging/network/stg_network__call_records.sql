-- Accepted call records. Called numbers never leave staging, and only as pseudonyms.
{{ config(materialized='view') }}

select
    customer_id,
    started_at,
    ended_at,
    duration_seconds,
    called_number_pseudonym,
    direction
from {{ ref('base_network__call_records') }}
where rejection_reason is null
