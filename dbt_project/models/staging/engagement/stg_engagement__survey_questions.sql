-- Accepted survey questions, one row per question_id; interest: an allowed interest, normalised.
{{ config(materialized='view') }}

select
    question_id,
    survey_id,
    text,
    answer_kind,
    interest
from {{ ref('base_engagement__survey_questions') }}
where rejection_reason is null
