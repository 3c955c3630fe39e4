-- Every delivered survey question, typed and checked; rejection_reason null = accepted.
-- A question about a sensitive category (config: sensitive_categories) is rejected: it
-- must never feed a profile.
{{ checked_landing_rows(
    'engagement', 'survey_questions',
    checks=[
        ('lower(interest) in (' ~ sensitive_category_list() ~ ')', 'sensitive_interest:interest'),
    ],
    references=[
        {'column': 'survey_id', 'parent': ref('stg_engagement__surveys'), 'parent_column': 'survey_id', 'reason': 'unknown_survey'},
    ],
) }}
