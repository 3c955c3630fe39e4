-- Accepted survey questions, one row per question_id; interest in lower case.
{{ config(materialized='view') }}

select
    question_id,
    survey_id,
    text,
    lower(interest) as interest,
    answer_kind
from {{ ref('base_engagement__survey_questions') }}
where rejection_reason is null
