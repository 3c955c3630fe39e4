-- Accepted partners (Belfius, Odoo, ...), one row per partner_id; target_interest: an
-- allowed interest, normalised; null = no interest targeting.
{{ config(materialized='view') }}

select
    partner_id,
    name,
    target_interest
from {{ ref('base_reference__partners') }}
where rejection_reason is null
