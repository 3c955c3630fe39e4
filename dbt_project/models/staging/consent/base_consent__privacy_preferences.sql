-- Every consent-ledger row (the durable ledger the loader merged tonight's delivery into),
-- typed and checked; rejection_reason null = accepted. Rejected rows reach the DPO through
-- dpo.quarantined_rows and dpo.rejected_privacy_events. first_received_at: when the ledger
-- first received the event id (a refusal with an impossible time counts from then on).
{{ checked_landing_rows(
    'consent', 'privacy_preferences',
    references=[
        {'column': 'customer_id', 'parent': ref('stg_crm__customers'), 'parent_column': 'customer_id', 'reason': 'unknown_customer'},
    ],
    lookups=[
        {'name': 'receipt',
         'sql': 'select nullif(trim(cast(event_id as varchar)), \'\') as received_event_id, min(_first_received_at) as first_received_at from ' ~ source('consent', 'privacy_preferences') ~ ' group by 1',
         'on': 'typed_rows.event_id = receipt.received_event_id',
         'columns': ['first_received_at']},
    ],
    extra_columns=['receipt__first_received_at as first_received_at'],
) }}
