-- Accepted contests, one row per contest_id; theme: an allowed interest, normalised.
{{ config(materialized='view') }}

select
    contest_id,
    name,
    partner_id,
    starts_at,
    ends_at,
    theme
from {{ ref('base_engagement__contests') }}
where rejection_reason is null
