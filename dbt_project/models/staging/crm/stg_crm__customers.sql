-- Accepted CRM accounts, one row per customer_id. No name, e-mail or raw msisdn.
{{ config(materialized='view') }}

select
    customer_id,
    brand,
    msisdn_pseudonym,
    postal_code,
    birth_year,
    created_at,
    closed_at,
    migrated_at
from {{ ref('base_crm__customers') }}
where rejection_reason is null
