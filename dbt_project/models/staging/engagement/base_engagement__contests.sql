-- Every delivered contest, typed and checked; rejection_reason null = accepted.
-- A contest themed on a sensitive category (any spelling) is rejected (never a profile
-- signal), and so is one whose theme is not in config allowed_interests.
{{ checked_landing_rows(
    'engagement', 'contests',
    checks=[
        (is_sensitive_term('theme'), 'sensitive_interest:theme'),
        ('theme not in (' ~ allowed_interest_list() ~ ')', 'unknown_interest:theme'),
        ('ends_at < starts_at', 'invalid_interval:ends_at'),
    ],
    references=[
        {'column': 'partner_id', 'parent': ref('stg_reference__partners'), 'parent_column': 'partner_id', 'reason': 'unknown_partner'},
    ],
) }}
