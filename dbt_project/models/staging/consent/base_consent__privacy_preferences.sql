-- Every delivered consent-ledger row, typed and checked; rejection_reason null = accepted.
-- Rejected rows reach the DPO through dpo.quarantined_rows and dpo.rejected_privacy_events.
{{ checked_landing_rows(
    'consent', 'privacy_preferences',
    references=[
        {'column': 'customer_id', 'parent': ref('stg_crm__customers'), 'parent_column': 'customer_id', 'reason': 'unknown_customer'},
    ],
) }}
