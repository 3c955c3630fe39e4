-- Every delivered public event, typed and checked; rejection_reason null = accepted.
{{ checked_landing_rows(
    'reference', 'events',
    checks=[('ends_at < starts_at', 'invalid_interval:ends_at')],
) }}
