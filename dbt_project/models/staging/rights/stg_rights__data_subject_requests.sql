-- Accepted data-subject requests, one row per request_id, with what the DPO must see:
-- matched (the customer is in tonight's CRM delivery, accepted or not: a request is
-- honoured whatever the state of the account's row) and forwarded (the request reached
-- another address than the one the letter gives for that customer at received_at:
-- privacy@scarlet.be while a Scarlet account is not migrated, privacy@proximus.com or any
-- other Proximus channel once it is, and for Proximus-brand accounts). A forwarded request
-- is still honoured. Unmatched requests have matched = false and forwarded null.
-- A table, not a view: its readers (privacy_pipeline.rights) need no vocabulary functions.
{{ config(materialized='table') }}
{%- set customers_relation = source('crm', 'customers') %}
{%- set customer_types = landing_physical_types(customers_relation) %}
{%- set customer_columns = contract_table('customers').columns %}

with

delivered_customers as (
    select
        {{ typed_value('customer_id', customer_columns.customer_id, customer_types.get('customer_id', '')) }} as customer_id,
        {{ typed_value('brand', customer_columns.brand, customer_types.get('brand', '')) }} as brand,
        {{ typed_value('migrated_at', customer_columns.migrated_at, customer_types.get('migrated_at', '')) }} as migrated_at
    from {{ customers_relation }}
),

known_customers as (
    select
        customer_id,
        max(case when brand = 'proximus' then 1 else 0 end) as is_proximus_brand,
        min(migrated_at) as migrated_at
    from delivered_customers
    where customer_id is not null
    group by customer_id
),

requests as (
    select
        request_id,
        customer_id,
        kind,
        received_at,
        channel,
        addressed_to,
        lower(trim(coalesce(addressed_to, channel, ''))) as reached
    from {{ ref('base_rights__data_subject_requests') }}
    where rejection_reason is null
),

placed as (
    select
        requests.*,
        known_customers.customer_id is not null as matched,  -- noqa: RF04
        case
            when known_customers.customer_id is null then null
            when known_customers.is_proximus_brand = 1 then 'proximus'
            when known_customers.migrated_at <= requests.received_at then 'proximus'
            else 'scarlet'
        end as applicable_platform
    from requests
    left join known_customers
        on requests.customer_id = known_customers.customer_id
)

select
    request_id,
    customer_id,
    kind,
    received_at,
    channel,
    addressed_to,
    matched,  -- noqa: RF04
    case
        when applicable_platform = 'proximus' then '{{ rights_address("proximus") }}'
        when applicable_platform = 'scarlet' then '{{ rights_address("scarlet") }}'
    end as applicable_address,
    case
        when applicable_platform is null then null
        when applicable_platform = 'scarlet' then reached <> '{{ rights_address("scarlet") }}'
        else not ({{ is_proximus_channel('reached') }})
    end as forwarded
from placed
