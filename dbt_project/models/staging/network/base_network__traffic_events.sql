-- Every delivered traffic observation, typed and checked; rejection_reason null = accepted.
-- Sites outside the catalogue are accepted here (they are not malformed); consumers only
-- ever join the catalogue. Identical copies of a row count once (exact_duplicate).
{{ checked_landing_rows(
    'network', 'traffic_events',
    checks=[('bytes < 0 or bytes > ' ~ plausible_limit('traffic_bytes'), 'out_of_range:bytes')],
    references=[
        {'column': 'customer_id', 'parent': ref('stg_crm__customers'), 'parent_column': 'customer_id', 'reason': 'unknown_customer'},
    ],
) }}
