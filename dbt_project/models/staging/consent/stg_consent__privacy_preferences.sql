-- Accepted consent-ledger events, one row per event_id. Whether an event may change a
-- customer's state is decided by the consent rules (intermediate/consent), not here.
{{ config(materialized='view') }}

select
    event_id,
    customer_id,
    purpose,
    choice,
    channel,
    platform,
    recorded_at
from {{ ref('base_consent__privacy_preferences') }}
where rejection_reason is null
