-- Every delivered consent-ledger row, typed and checked; rejection_reason null = accepted.
-- Rejected rows reach the DPO through dpo.quarantined_rows and dpo.rejected_privacy_events.
-- Purpose, choice, channel and platform are read normalised (docs/data-contract.md).
-- A refusal's customer number is read generously: a refusal sent by letter or e-mail
-- carries the number as the customer wrote it. When it names no customer exactly, it
-- is matched after normalising case, spaces and separators (macro identifier_match_key),
-- provided that points to exactly one delivered customer number, of an accepted customer
-- (several: ambiguous_customer). A consent must match exactly: a wrong match would start
-- processing for the wrong person. The rows are the durable ledger the loader merged tonight's
-- delivery into; first_received_at: when the ledger first received the event id (a refusal
-- with an impossible time counts from then on).

with

checked_events as (
    select *
    from (
        {{ checked_landing_rows(
            'consent', 'privacy_preferences',
            references=[
                {'column': 'customer_id', 'parent': ref('stg_crm__customers'), 'parent_column': 'customer_id', 'reason': 'unknown_customer'},
            ],
            lenient_identifiers=['customer_id'],
            lookups=[
                {'name': 'receipt',
                 'sql': 'select nullif(trim(cast(event_id as ' ~ dbt.type_string() ~ ')), \'\') as received_event_id, min(_first_received_at) as first_received_at from ' ~ source('consent', 'privacy_preferences') ~ ' group by nullif(trim(cast(event_id as ' ~ dbt.type_string() ~ ')), \'\')',
                 'on': 'typed_rows.event_id = receipt.received_event_id',
                 'columns': ['first_received_at']},
            ],
            extra_columns=[
                'receipt__first_received_at as first_received_at',
                identifier_match_key('customer_id') ~ ' as customer_match_key',
                'coalesce(' ~ is_safe_identifier('customer_id') ~ ', true) as has_safe_customer_id',
            ],
        ) }}
    ) as ledger_rows
),

customers as (
    select customer_id
    from {{ ref('stg_crm__customers') }}
),

-- Keys of every delivered customer number, accepted or not: a key shared with a rejected
-- customer's number is ambiguous too (the refusal may be that customer's).
customer_match_keys as (
    select distinct
        customer_id,
        {{ identifier_match_key('customer_id') }} as customer_match_key
    from {{ ref('base_crm__customers') }}
    where customer_id is not null
),

customer_keys as (
    select
        customer_match_key,
        min(customer_id) as customer_id,
        count(*) as customer_count
    from customer_match_keys
    group by customer_match_key
),

resolved_events as (
    select
        checked_events.*,
        customer_keys.customer_count,
        case
            when
                customers.customer_id is null
                and checked_events.choice = 'opt_out'
                and customer_keys.customer_count = 1
                then matched_customers.customer_id
        end as refusal_customer_id
    from checked_events
    left join customers
        on checked_events.customer_id = customers.customer_id
    left join customer_keys
        on checked_events.customer_match_key = customer_keys.customer_match_key
    left join customers as matched_customers
        on customer_keys.customer_id = matched_customers.customer_id
),

decided_events as (
    select
        *,
        case
            when rejection_reason = 'unknown_customer' and refusal_customer_id is not null then null
            when rejection_reason = 'unknown_customer' and choice = 'opt_out' and customer_count > 1
                then 'ambiguous_customer'
            when rejection_reason = 'unknown_customer' and not has_safe_customer_id
                then 'invalid_identifier:customer_id'
            else rejection_reason
        end as decided_reason
    from resolved_events
)

select
    event_id,
    purpose,
    choice,
    channel,
    platform,
    recorded_at,
    first_received_at,
    _source_file,
    decided_reason as rejection_reason,
    coalesce(refusal_customer_id, customer_id) as customer_id,
    case when decided_reason is not null then row_data end as row_data
from decided_events
