-- Every customer whose data must be erased in this run: tonight's erasure requests received
-- by the end of the run date, and every erasure in the register of the restricted store
-- (landing_load.erased_customers: applied by an earlier run, or received earlier). Read by
-- the macro is_erased_customer in every staging model with a customer (docs/dpo.md).
-- Generous on purpose: a request row quarantined for another reason (a conflicting copy,
-- an unreadable channel) still erases the customer it names; the request itself stays in
-- the quarantine for the DPO.
{{ config(materialized='table') }}

with

requested as (
    select requests.customer_id
    from {{ ref('base_rights__data_subject_requests') }} as requests
    cross join {{ source('landing_load', 'run_context') }} as run_context
    where
        requests.kind = 'erasure'
        and requests.received_at < run_context.run_ends_at
        and requests.customer_id is not null
),

registered as (
    select customer_id
    from {{ source('landing_load', 'erased_customers') }}
    where customer_id is not null
)

select customer_id from requested
union
select customer_id from registered
