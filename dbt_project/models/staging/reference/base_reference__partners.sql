-- Every delivered partner, typed and checked; rejection_reason null = accepted.
-- A partner targeting a sensitive category is rejected: no audience is ever built on one.
{{ checked_landing_rows(
    'reference', 'partners',
    checks=[
        ('lower(target_interest) in (' ~ sensitive_category_list() ~ ')', 'sensitive_interest:target_interest'),
    ],
) }}
