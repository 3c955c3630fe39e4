-- Every delivered contest, typed and checked; rejection_reason null = accepted.
-- A contest themed on a sensitive category is rejected (never a profile signal).
{{ checked_landing_rows(
    'engagement', 'contests',
    checks=[
        ('lower(theme) in (' ~ sensitive_category_list() ~ ')', 'sensitive_interest:theme'),
        ('ends_at < starts_at', 'invalid_interval:ends_at'),
    ],
    references=[
        {'column': 'partner_id', 'parent': ref('stg_reference__partners'), 'parent_column': 'partner_id', 'reason': 'unknown_partner'},
    ],
) }}
