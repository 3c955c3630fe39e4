-- Delivered values of columns published as they are (ids and area names; contract
-- `published`) that ARE a phone number delivered in this landing zone: a customer number
-- that is the customer's own msisdn without its '+', an event id that is a called number.
-- The personal-data gate refuses any published value reproducing a landing phone number;
-- staging quarantines such a row (contact_details:<column>) instead, so one row cannot
-- stop every night. A value is read as the gate reads it: words holding a letter blanked,
-- then each number-like span in it (a run of digits and separators, and a run of 8 to 15
-- digits alone: SC-32477401661-01 holds 32477401661), in international form (00.. and
-- 0.. as 32..), 8 to 15 digits. Reading the value's digits as one number missed a
-- customer number holding its own msisdn between separators (session 11's attack).
-- Only the few phone-like values are compared; the network events are probed with them
-- (one semi join on the delivered E.164 number), never hashed or sorted.
{{ config(materialized='table') }}

{%- set published_columns = [] %}
{%- for table_name, table in var('landing_contract').items() %}
    {%- for column_name, spec in table.columns.items() if spec.published and spec.kind in ('id', 'text') %}
        {%- do published_columns.append((table.source, table_name, column_name)) %}
    {%- endfor %}
{%- endfor %}

with

published as (
    {%- for source_name, table_name, column_name in published_columns %}
        select distinct trim(cast({{ adapter.quote(column_name) }} as {{ dbt.type_string() }})) as published_value
        from {{ source(source_name, table_name) }}
        {%- if not loop.last %}
            union
        {%- endif %}
    {%- endfor %}
),

phone_like as (
    select
        published_value,
        {{ replace_pattern('published_value', '[0-9]*[A-Za-z_][A-Za-z0-9_]*', ' ') }} as numbers
    from published
    where {{ matches_pattern('published_value', '[0-9]([^A-Za-z0-9]*[0-9]){7}') }}
),

number_spans as (
    select
        published_value,
        {{ each_match('numbers', '\\+?[0-9][0-9 ./()-]{6,20}[0-9]') }} as number_span
    from phone_like
    union all
    select
        published_value,
        {{ each_match('numbers', '\\+?[0-9]{8,15}') }} as number_span
    from phone_like
),

candidates as (
    select distinct
        published_value,
        {{ phone_digits('number_span') }} as phone_digits
    from number_spans
    where length({{ phone_digits('number_span') }}) between 8 and 15
),

delivered as (
    select {{ phone_digits('msisdn') }} as phone_digits
    from {{ source('crm', 'customers') }}
    where msisdn is not null
    union all
    select {{ phone_digits('msisdn') }} as phone_digits
    from {{ source('crm', 'customer_lines') }}
    where msisdn is not null
    union all
    select {{ phone_digits('called_number') }} as phone_digits
    from {{ source('network', 'call_records') }}
    where called_number is not null
    union all
    select candidates.phone_digits
    from candidates
    where exists (
            select 1 from {{ source('network', 'network_events') }} as network_events
            where trim(cast(network_events.msisdn as {{ dbt.type_string() }})) = concat('+', candidates.phone_digits)
        )
)

select distinct candidates.published_value
from candidates
where candidates.phone_digits in (select delivered.phone_digits from delivered)
