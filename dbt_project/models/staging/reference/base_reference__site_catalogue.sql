-- Every delivered catalogue row, typed and checked; rejection_reason null = accepted.
{{ checked_landing_rows('reference', 'site_catalogue') }}
