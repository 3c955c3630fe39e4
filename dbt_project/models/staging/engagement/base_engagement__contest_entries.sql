-- Every delivered contest entry, typed and checked; rejection_reason null = accepted.
{{ checked_landing_rows(
    'engagement', 'contest_entries',
    references=[
        {'column': 'customer_id', 'parent': ref('stg_crm__customers'), 'parent_column': 'customer_id', 'reason': 'unknown_customer'},
        {'column': 'contest_id', 'parent': ref('stg_engagement__contests'), 'parent_column': 'contest_id', 'reason': 'unknown_contest'},
    ],
) }}
