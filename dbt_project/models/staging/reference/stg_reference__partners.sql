-- Accepted partners (Belfius, Odoo, ...), one row per partner_id; target_interest in
-- lower case, null = no interest targeting.
{{ config(materialized='view') }}

select
    partner_id,
    name,
    lower(target_interest) as target_interest
from {{ ref('base_reference__partners') }}
where rejection_reason is null
