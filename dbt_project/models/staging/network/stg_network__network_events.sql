-- Accepted network events: the customer (resolved through the msisdn), the cell and the
-- instant. The raw msisdn is not here. Every delivered date; consumers pick the run date.
{{ config(materialized='view') }}

select
    customer_id,
    cell_id,
    event_at
from {{ ref('base_network__network_events') }}
where rejection_reason is null
