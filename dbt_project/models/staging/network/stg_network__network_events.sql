-- Accepted network events: the customer (resolved through the msisdn), the cell and the
-- instant. The raw msisdn is not here. Every delivered date; consumers pick the run date.
-- A view running the checks (macro checked_network_events) as it reads the landing files:
-- no typed copy of the day's events is written (its rejected rows are in
-- base_network__network_events, from the same macro).
{{ config(materialized='view') }}

select
    customer_id,
    cell_id,
    event_at
from ({{ checked_network_events() }}) as network_events
where rejection_reason is null
