-- Every delivered survey row, typed and checked; rejection_reason null = accepted.
{{ checked_landing_rows('engagement', 'surveys') }}
