-- Accepted contests, one row per contest_id; theme (an interest) in lower case.
{{ config(materialized='view') }}

select
    contest_id,
    name,
    lower(theme) as theme,
    partner_id,
    starts_at,
    ends_at
from {{ ref('base_engagement__contests') }}
where rejection_reason is null
