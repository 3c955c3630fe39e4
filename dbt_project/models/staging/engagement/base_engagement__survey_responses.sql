-- Every delivered survey response, typed and checked; rejection_reason null = accepted.
-- The answer must fit its question's answer_kind: count = a whole number >= 0,
-- yes_no = yes or no (any case), rating_1_5 = 1 to 5. A count above the plausible limit
-- (macro plausible_limit) is quarantined as out_of_range:answer.
{{ checked_landing_rows(
    'engagement', 'survey_responses',
    lookups=[
        {'name': 'question', 'columns': ['answer_kind'], 'on': 'typed_rows.question_id = question.question_id',
         'sql': 'select question_id, answer_kind from ' ~ ref('stg_engagement__survey_questions')},
    ],
    checks=[
        ("question.answer_kind = 'count' and not " ~ matches_pattern('answer', '^[0-9]{1,9}$'), 'invalid_answer:answer'),
        ("question.answer_kind = 'count' and " ~ text_to_bigint('answer') ~ " > " ~ plausible_limit('survey_count_answer'), 'out_of_range:answer'),
        ("question.answer_kind = 'yes_no' and lower(answer) not in ('yes', 'no')", 'invalid_answer:answer'),
        ("question.answer_kind = 'rating_1_5' and answer not in ('1', '2', '3', '4', '5')", 'invalid_answer:answer'),
    ],
    references=[
        {'column': 'customer_id', 'parent': ref('stg_crm__customers'), 'parent_column': 'customer_id', 'reason': 'unknown_customer'},
        {'column': 'question_id', 'parent': ref('stg_engagement__survey_questions'), 'parent_column': 'question_id', 'reason': 'unknown_question'},
    ],
    extra_columns=[
        "case question__answer_kind when 'yes_no' then case when lower(answer) = 'yes' then 1 else 0 end else " ~ text_to_bigint('answer') ~ " end as answer_value",
    ],
) }}
