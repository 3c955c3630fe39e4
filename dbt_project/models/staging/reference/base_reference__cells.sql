-- Every delivered cell, typed and checked; rejection_reason null = accepted.
{{ checked_landing_rows(
    'reference', 'cells',
    checks=[
        ('lat not between -90 and 90', 'out_of_range:lat'),
        ('lon not between -180 and 180', 'out_of_range:lon'),
    ],
    nested_in=[('postal_code', 'municipality'), ('municipality', 'province')],
) }}
