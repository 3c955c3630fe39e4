-- Every delivered device observation, typed and checked; rejection_reason null = accepted.
{{ checked_landing_rows(
    'network', 'device_observations',
    references=[
        {'column': 'customer_id', 'parent': ref('stg_crm__customers'), 'parent_column': 'customer_id', 'reason': 'unknown_customer'},
    ],
) }}
