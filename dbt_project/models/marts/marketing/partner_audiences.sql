-- Per partner, the customers who may receive its offers on the run date: partner_offers
-- consent (recorded on the Proximus platform) and no objection to direct marketing; when
-- the partner has a target_interest, only customers with that interest
-- (score >= scoring.interest_min_score). A sensitive target interest matches no one.

with

run_day as (
    select run_date
    from {{ ref('int_consent__run_day') }}
),

partner_offer_customers as (
    select customer_id
    from {{ ref('int_marketing__marketable_customers') }}
    where may_receive_partner_offers
),

partners as (
    select
        partner_id,
        lower(trim(target_interest)) as target_interest
    from {{ ref('stg_reference__partners') }}
),

interested_customers as (
    select
        customer_id,
        interest
    from {{ ref('customer_interests') }}
    where score >= {{ config_number(var('scoring')['interest_min_score'], 'scoring.interest_min_score') }}
),

audiences as (
    select
        partners.partner_id,
        partner_offer_customers.customer_id
    from partners
    cross join partner_offer_customers
    where partners.target_interest is null

    union all

    select
        partners.partner_id,
        partner_offer_customers.customer_id
    from partners
    inner join interested_customers
        on partners.target_interest = interested_customers.interest
    inner join partner_offer_customers
        on interested_customers.customer_id = partner_offer_customers.customer_id
)

select
    audiences.partner_id,
    audiences.customer_id,
    run_day.run_date
from audiences
cross join run_day
