{#- Every delivered network event, checked in one pass: customer_id, cell_id, event_at,
    _source_file, _source_row and rejection_reason (null = accepted, else the first failing
    check). Never stored: the location models read the accepted rows through the view
    stg_network__network_events, and base_network__network_events keeps only the rejected
    rows' row numbers and reasons and the accepted rows' count per file (docs/benchmarks.md:
    writing a typed copy of 100M events cost more than checking them).
    The msisdn is resolved to whoever held the number at the event's instant, with one hash
    join (and an interval filter) on a small directory of accepted customers' numbers, built
    from the same delivered values the pseudonyms are made of (hashing the number of 100M
    events a day would cost more and change nothing); the raw number is dropped here.
    Lines: a customer listed in customer_lines holds the numbers of its accepted lines during
    [valid_from, valid_to); any other accepted customer holds customers.msisdn for the whole
    account life (the one-line case). The directory cuts each number's time into segments
    with the same holders, so an event matches at most one segment. A number of no accepted
    customer: unknown_msisdn; held by nobody at the instant: msisdn_not_held_at_event_time;
    by several customers at the instant: ambiguous_msisdn. Identical events are not
    deduplicated: they change no presence count (distinct people), and a full sort of 100M
    rows would.
    Erasure (docs/dpo.md): an event on a number an erased customer held at its instant (a
    listed line's period, else customers.msisdn for the whole account life) is kept as an
    'erased_customer' row without content: it counts in no location figure from then on.
-#}
{% macro checked_network_events() -%}
{%- set relation = source('network', 'network_events') %}
{%- set physical_types = landing_physical_types(relation) %}
{%- set customers_relation = source('crm', 'customers') %}
{%- set customer_types = landing_physical_types(customers_relation) %}
{%- set customer_columns = contract_table('customers').columns %}
{%- set lines_relation = source('crm', 'customer_lines') %}
{%- set line_types = landing_physical_types(lines_relation) %}
{%- set line_columns = contract_table('customer_lines').columns %}
{#- Open ends of a period, as instants every engine can compare. -#}
{%- set beginning_of_time = "cast('0001-01-01 00:00:00+00' as " ~ type_instant() ~ ")" %}
{%- set end_of_time = "cast('9999-12-31 00:00:00+00' as " ~ type_instant() ~ ")" %}

with

delivered_numbers as (
    select
        {{ typed_value('msisdn', customer_columns.msisdn, customer_types.get('msisdn', '')) }} as msisdn,
        {{ typed_value('customer_id', customer_columns.customer_id, customer_types.get('customer_id', '')) }} as customer_id
    from {{ customers_relation }}
),

listed_customers as (
    select distinct customer_id
    from {{ ref('stg_crm__customer_lines') }}
),

-- The one-line case: customers.msisdn of an accepted customer without listed lines.
account_lines as (
    select distinct
        delivered_numbers.msisdn,
        delivered_numbers.customer_id,
        {{ beginning_of_time }} as valid_from,
        {{ end_of_time }} as valid_to
    from delivered_numbers
    inner join {{ ref('stg_crm__customers') }} as customers
        on delivered_numbers.customer_id = customers.customer_id
    left join listed_customers
        on delivered_numbers.customer_id = listed_customers.customer_id
    where delivered_numbers.msisdn is not null and listed_customers.customer_id is null
),

delivered_lines as (
    select
        {{ typed_value('msisdn', line_columns.msisdn, line_types.get('msisdn', '')) }} as msisdn,
        {{ typed_value('customer_id', line_columns.customer_id, line_types.get('customer_id', '')) }} as customer_id,
        {{ typed_value('valid_from', line_columns.valid_from, line_types.get('valid_from', '')) }} as valid_from,
        {{ typed_value('valid_to', line_columns.valid_to, line_types.get('valid_to', '')) }} as valid_to,
        _source_file,
        _source_row
    from {{ lines_relation }}
),

-- Accepted lines only, found by their place in the delivery (file and row): the checks
-- are read from a view too, where the pseudonym key of a dbt session is not set.
listed_lines as (
    select distinct
        delivered_lines.msisdn,
        delivered_lines.customer_id,
        delivered_lines.valid_from,
        coalesce(delivered_lines.valid_to, {{ end_of_time }}) as valid_to
    from delivered_lines
    inner join {{ ref('base_crm__customer_lines') }} as accepted_lines
        on
            delivered_lines._source_file = accepted_lines._source_file
            and delivered_lines._source_row = accepted_lines.source_row
    where accepted_lines.rejection_reason is null
),

line_periods as (
    select
        msisdn,
        customer_id,
        valid_from,
        valid_to
    from account_lines
    union all
    select
        msisdn,
        customer_id,
        valid_from,
        valid_to
    from listed_lines
),

{{ msisdn_segments('line', 'line_periods', beginning_of_time, end_of_time) }},

-- Per number, consecutive segments [segment_from, segment_to) covering all time, each with
-- its holders: 0 (between two holders), 1, or several (ambiguous).
msisdn_directory as (
    select
        line_segments.msisdn,
        line_segments.segment_from,
        line_segments.segment_to,
        min(line_periods.customer_id) as customer_id,
        count(distinct line_periods.customer_id) as owner_count
    from line_segments
    left join line_periods
        on
            line_segments.msisdn = line_periods.msisdn
            and line_segments.segment_from >= line_periods.valid_from
            and line_segments.segment_to <= line_periods.valid_to
    where line_segments.segment_from < line_segments.segment_to
    group by
        line_segments.msisdn,
        line_segments.segment_from,
        line_segments.segment_to
),

-- Numbers of erased customers while they held them (the same two cases as above).
erased_lines as (
    select
        delivered_lines.msisdn,
        delivered_lines.valid_from,
        coalesce(delivered_lines.valid_to, {{ end_of_time }}) as valid_to
    from delivered_lines
    where {{ is_erased_customer('delivered_lines.customer_id') }}
    union all
    select
        delivered_numbers.msisdn,
        {{ beginning_of_time }} as valid_from,
        {{ end_of_time }} as valid_to
    from delivered_numbers
    where
        {{ is_erased_customer('delivered_numbers.customer_id') }}
        and delivered_numbers.msisdn is not null
        and not exists (
            select 1 from delivered_lines as erased_customer_lines
            where erased_customer_lines.customer_id = delivered_numbers.customer_id
        )
),

-- The same cut into segments for the erased numbers, keeping the segments inside an erased
-- period: an event is an erased customer's when one hash join finds its segment. (A
-- correlated "exists" with the interval made DuckDB build a hash table of every distinct
-- number and instant of the day's events: gigabytes and most of the pass's time.)
{{ msisdn_segments('erased', 'erased_lines', beginning_of_time, end_of_time) }},

erased_directory as (
    select distinct
        erased_segments.msisdn,
        erased_segments.segment_from,
        erased_segments.segment_to
    from erased_segments
    inner join erased_lines
        on
            erased_segments.msisdn = erased_lines.msisdn
            and erased_segments.segment_from >= erased_lines.valid_from
            and erased_segments.segment_to <= erased_lines.valid_to
    where erased_segments.segment_from < erased_segments.segment_to
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
            when erased_directory.msisdn is not null then 'erased_customer'
            when typed_events.msisdn__raw is null then 'missing_value:msisdn'
            {{- row_problem_clauses('network_events', except=['msisdn']) }}
            when msisdn_directory.owner_count is null
                and not {{ matches_pattern('typed_events.msisdn__raw', '^[+][1-9][0-9]{1,14}$') }}
                then 'invalid_msisdn:msisdn'
            when msisdn_directory.owner_count is null then 'unknown_msisdn'
            when msisdn_directory.owner_count = 0 then 'msisdn_not_held_at_event_time'
            when msisdn_directory.owner_count > 1 then 'ambiguous_msisdn'
            when known_cells.known_cell_id is null then 'unknown_cell'
        end as rejection_reason
    from typed_events
    left join msisdn_directory
        on
            typed_events.msisdn__raw = msisdn_directory.msisdn
            and typed_events.event_at >= msisdn_directory.segment_from
            and typed_events.event_at < msisdn_directory.segment_to
    left join erased_directory
        on
            typed_events.msisdn__raw = erased_directory.msisdn
            and typed_events.event_at >= erased_directory.segment_from
            and typed_events.event_at < erased_directory.segment_to
    left join known_cells
        on typed_events.cell_id = known_cells.known_cell_id
)

select
    customer_id,
    cell_id,
    event_at,
    _source_file,
    _source_row,
    rejection_reason
from checked_events
{%- endmacro %}


{#- Two CTEs, <name>_bounds and <name>_segments: each number's time cut at every bound of
    the periods of `periods` (msisdn, valid_from, valid_to) into consecutive segments
    [segment_from, segment_to) covering all time (a null bound, from an unchecked erased
    line, cuts nothing). The last segment of a number ends where it starts, at the end of
    time: callers keep segment_from < segment_to. -#}
{% macro msisdn_segments(name, periods, beginning_of_time, end_of_time) -%}
{{ name }}_bounds as (
    select
        msisdn,
        {{ beginning_of_time }} as bound_at
    from {{ periods }}
    union
    select
        msisdn,
        valid_from as bound_at
    from {{ periods }}
    union
    select
        msisdn,
        valid_to as bound_at
    from {{ periods }}
),

{{ name }}_segments as (
    select
        msisdn,
        bound_at as segment_from,
        coalesce(lead(bound_at) over (partition by msisdn order by bound_at), {{ end_of_time }}) as segment_to
    from {{ name }}_bounds
    where bound_at is not null
)
{%- endmacro %}
