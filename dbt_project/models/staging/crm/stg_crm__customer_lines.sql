-- Accepted customer lines, one row per number and valid_from: who held which number
-- (pseudonym) when. A customer with lines here has these lines only (customers.msisdn is
-- then not used); a customer without is the one-line case of customers.msisdn.
{{ config(materialized='view') }}

select
    customer_id,
    msisdn_pseudonym,
    valid_from,
    valid_to
from {{ ref('base_crm__customer_lines') }}
where rejection_reason is null
