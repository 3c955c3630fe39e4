-- Every delivered call record, typed and checked; rejection_reason null = accepted.
-- The called number is kept only as its pseudonym (separators removed first).
-- A call longer than the plausible limit (24 h) is quarantined as out_of_range:ended_at.
{{ checked_landing_rows(
    'network', 'call_records',
    checks=[
        ('ended_at < started_at', 'invalid_interval:ended_at'),
        (epoch_seconds('ended_at') ~ ' - ' ~ epoch_seconds('started_at') ~ ' > ' ~ plausible_limit('call_duration_seconds'), 'out_of_range:ended_at'),
    ],
    references=[
        {'column': 'customer_id', 'parent': ref('stg_crm__customers'), 'parent_column': 'customer_id', 'reason': 'unknown_customer'},
    ],
    extra_columns=[
        rounded_bigint(epoch_seconds('ended_at') ~ ' - ' ~ epoch_seconds('started_at')) ~ ' as duration_seconds',
        pseudonym(normalised_phone_number('called_number')) ~ ' as called_number_pseudonym',
    ],
) }}
