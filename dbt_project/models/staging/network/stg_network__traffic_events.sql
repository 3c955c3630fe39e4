-- Accepted traffic observations (every date delivered; consumers pick the run date).
{{ config(materialized='view') }}

select
    customer_id,
    observed_at,
    network,
    app_or_site,
    bytes
from {{ ref('base_network__traffic_events') }}
where rejection_reason is null
