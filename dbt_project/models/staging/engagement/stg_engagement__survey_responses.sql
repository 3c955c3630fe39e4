-- Accepted survey responses, one row per response_id. answer as delivered (yes/no in
-- lower case); answer_value: the count, the rating, or 1 = yes / 0 = no.
{{ config(materialized='view') }}

select
    response_id,
    customer_id,
    question_id,
    answer_value,
    answered_at,
    lower(answer) as answer
from {{ ref('base_engagement__survey_responses') }}
where rejection_reason is null
