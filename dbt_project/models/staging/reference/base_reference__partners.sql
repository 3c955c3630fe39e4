-- Every delivered partner, typed and checked; rejection_reason null = accepted.
-- A partner targeting a sensitive category (any spelling) is rejected: no audience is ever
-- built on one; so is a partner whose target interest is not in config allowed_interests.
{{ checked_landing_rows(
    'reference', 'partners',
    checks=[
        (is_sensitive_term('target_interest'), 'sensitive_interest:target_interest'),
        ('target_interest not in (' ~ allowed_interest_list() ~ ')', 'unknown_interest:target_interest'),
    ],
) }}
