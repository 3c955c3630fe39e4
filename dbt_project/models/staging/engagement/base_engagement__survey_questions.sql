-- Every delivered survey question, typed and checked; rejection_reason null = accepted.
-- The interest is read normalised (docs/data-contract.md). A question about a sensitive
-- category (config: sensitive_categories, in any spelling) is rejected: it must never
-- feed a profile; so is one whose interest is not in config allowed_interests.
{{ checked_landing_rows(
    'engagement', 'survey_questions',
    checks=[
        (is_sensitive_term('interest'), 'sensitive_interest:interest'),
        ('interest not in (' ~ allowed_interest_list() ~ ')', 'unknown_interest:interest'),
    ],
    references=[
        {'column': 'survey_id', 'parent': ref('stg_engagement__surveys'), 'parent_column': 'survey_id', 'reason': 'unknown_survey'},
    ],
) }}
