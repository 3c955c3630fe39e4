-- Every delivered event-cell link, typed and checked; rejection_reason null = accepted.
{{ checked_landing_rows(
    'reference', 'event_cells',
    references=[
        {'column': 'event_id', 'parent': ref('stg_reference__events'), 'parent_column': 'event_id', 'reason': 'unknown_event'},
        {'column': 'cell_id', 'parent': ref('stg_reference__cells'), 'parent_column': 'cell_id', 'reason': 'unknown_cell'},
    ],
) }}
