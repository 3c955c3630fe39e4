-- Every delivered customer row, typed and checked; rejection_reason null = accepted.
-- full_name and email are dropped here; the msisdn is kept only as its pseudonym.
-- Two rows of one customer that differ only by msisdn are one customer with two lines:
-- one row is accepted, the other is quarantined as additional_line and its number still
-- maps the customer's network events (base_network__network_events).
{{ checked_landing_rows(
    'crm', 'customers',
    checks=[
        ("birth_year not between 1900 and extract(year from cast('" ~ run_date() ~ "' as date))", 'out_of_range:birth_year'),
        ('closed_at < created_at', 'invalid_interval:closed_at'),
    ],
    extra_columns=[pseudonym('msisdn') ~ ' as msisdn_pseudonym'],
    line_column='msisdn',
) }}
