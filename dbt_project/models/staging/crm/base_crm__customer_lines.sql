-- Every delivered customer line (optional landing table), typed and checked;
-- rejection_reason null = accepted. A line is a period [valid_from, valid_to) during which
-- a customer holds a mobile number; valid_to empty while the line is active. The number is
-- kept only as its pseudonym. Periods of one number held by several customers at the same
-- instant are not rejected here: network events of that instant are (ambiguous_msisdn).
{{ checked_landing_rows(
    'crm', 'customer_lines',
    checks=[('valid_to <= valid_from', 'invalid_interval:valid_to')],
    references=[
        {'column': 'customer_id', 'parent': ref('stg_crm__customers'), 'parent_column': 'customer_id', 'reason': 'unknown_customer'},
    ],
    extra_columns=[pseudonym('msisdn') ~ ' as msisdn_pseudonym', '_source_row as source_row'],
) }}
