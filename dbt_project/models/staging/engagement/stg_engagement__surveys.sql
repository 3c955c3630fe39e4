-- Accepted surveys, one row per survey_id.
{{ config(materialized='view') }}

select
    survey_id,
    name
from {{ ref('base_engagement__surveys') }}
where rejection_reason is null
