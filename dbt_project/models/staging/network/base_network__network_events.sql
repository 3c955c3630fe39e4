-- Every delivered network event, checked in one pass; rejection_reason null = accepted.
-- The msisdn is resolved to the customer with one hash join on a small directory of
-- accepted customers' numbers, built from the same delivered value the pseudonym is made
-- of (hashing the number of 100M events a day would cost more and change nothing); the
-- raw number is dropped here. A number of no accepted customer: unknown_msisdn; of
-- several: ambiguous_msisdn. Identical events are not deduplicated: they change no
-- presence count (distinct people), and a full sort of 100M rows would.
-- row_data of a rejected event is its row number in the file only (no content: see
-- quarantine_row_json).
{%- set relation = source('network', 'network_events') %}
{%- set physical_types = landing_physical_types(relation) %}
{%- set customers_relation = source('crm', 'customers') %}
{%- set customer_types = landing_physical_types(customers_relation) %}
{%- set customer_columns = contract_table('customers').columns %}

with

delivered_numbers as (
    select
        {{ typed_value('msisdn', customer_columns.msisdn, customer_types.get('msisdn', '')) }} as msisdn,
        {{ typed_value('customer_id', customer_columns.customer_id, customer_types.get('customer_id', '')) }} as customer_id
    from {{ customers_relation }}
),

accepted_numbers as (
    select distinct
        delivered_numbers.msisdn,
        delivered_numbers.customer_id
    from delivered_numbers
    inner join {{ ref('stg_crm__customers') }} as customers
        on delivered_numbers.customer_id = customers.customer_id
    where delivered_numbers.msisdn is not null
),

msisdn_directory as (
    select
        msisdn,
        min(customer_id) as customer_id,
        count(*) as owner_count
    from accepted_numbers
    group by msisdn
),

known_cells as (
    select cell_id as known_cell_id
    from {{ ref('stg_reference__cells') }}
),

typed_events as (
    select
        {{ raw_value('msisdn', physical_types.get('msisdn', '')) }} as msisdn__raw,
        {{- landing_typed_columns('network_events', physical_types, except=['msisdn']) }}
    from {{ relation }}
),

checked_events as (
    select
        msisdn_directory.customer_id,
        typed_events.cell_id,
        typed_events.event_at,
        typed_events._source_file,
        typed_events._source_row,
        typed_events.msisdn__raw,
        typed_events.cell_id__raw,
        typed_events.event_at__raw,
        case
            when typed_events.msisdn__raw is null then 'missing_value:msisdn'
            {{- row_problem_clauses('network_events', except=['msisdn']) }}
            when msisdn_directory.owner_count is null
                and not {{ matches_pattern('typed_events.msisdn__raw', '^[+][1-9][0-9]{1,14}$') }}
                then 'invalid_msisdn:msisdn'
            when msisdn_directory.owner_count is null then 'unknown_msisdn'
            when msisdn_directory.owner_count > 1 then 'ambiguous_msisdn'
            when known_cells.known_cell_id is null then 'unknown_cell'
        end as rejection_reason
    from typed_events
    left join msisdn_directory
        on typed_events.msisdn__raw = msisdn_directory.msisdn
    left join known_cells
        on typed_events.cell_id = known_cells.known_cell_id
)

select
    customer_id,
    cell_id,
    event_at,
    _source_file,
    rejection_reason,
    case when rejection_reason is not null then {{ quarantine_row_json('network_events') }} end as row_data
from checked_events
