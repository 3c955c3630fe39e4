-- The quarantine's pass over the network events (macro checked_network_events): one row per
-- rejected event (its file, reason and row number only: no content, see
-- quarantine_row_json; erased customers' events without even the row number) and one row
-- per file for its accepted events, with row_count. The accepted events themselves are not
-- copied: stg_network__network_events is a view running the same checks, and
-- dpo.load_reconciliation counts them here, so the 100M events are read twice and written
-- never.

with

checked_events as (
    select
        _source_file,
        rejection_reason,
        -- the row number identifies a rejected row only: accepted rows group per file
        case when rejection_reason is not null then _source_row end as _source_row
    from ({{ checked_network_events() }}) as network_events
),

tally as (
    select
        _source_file,
        rejection_reason,
        _source_row,
        count(*) as row_count
    from checked_events
    group by
        _source_file,
        rejection_reason,
        _source_row
)

select
    _source_file,
    rejection_reason,
    case
        when rejection_reason is not null and rejection_reason <> 'erased_customer'
            then {{ quarantine_row_json('network_events') }}
    end as row_data,
    row_count
from tally
