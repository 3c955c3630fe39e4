-- Accepted device observations: handset models and home device types (game_console,
-- printer, smart_tv, ...) seen on the customer's lines.
{{ config(materialized='view') }}

select
    customer_id,
    observed_at,
    kind,
    model,
    wifi_state
from {{ ref('base_network__device_observations') }}
where rejection_reason is null
