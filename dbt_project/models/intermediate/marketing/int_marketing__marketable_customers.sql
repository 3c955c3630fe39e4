-- Customers who may receive direct marketing on the run date (no objection, account open
-- and on the Proximus platform), with the other marketing purposes they allow.
-- Every per-person marketing model starts from this list: nothing is computed for a
-- customer who objects to direct marketing.
-- *_since: signals recorded before this instant are not used (null: no lower bound);
-- never before the account was created (a signal from before the account existed is not
-- the customer's); browsing and usage signals need both their consent and direct
-- marketing allowed, so they start at the later of the two.

with

effective_consent as (
    select
        customer_id,
        purpose,
        is_allowed,
        allowed_since
    from {{ ref('int_consent__effective') }}
    where is_allowed
),

accounts as (
    select
        customer_id,
        created_at
    from {{ ref('stg_crm__customers') }}
),

allowed_purposes as (
    select
        direct_marketing.customer_id,
        browsing.allowed_since as browsing_allowed_since,
        service_usage.allowed_since as usage_allowed_since,
        case
            when direct_marketing.allowed_since is null or direct_marketing.allowed_since < accounts.created_at
                then accounts.created_at
            else direct_marketing.allowed_since
        end as profiling_since,
        browsing.customer_id is not null as may_use_browsing,
        service_usage.customer_id is not null as may_use_usage,
        partner_offers.customer_id is not null as may_receive_partner_offers
    from effective_consent as direct_marketing
    left join accounts
        on direct_marketing.customer_id = accounts.customer_id
    left join effective_consent as browsing
        on
            direct_marketing.customer_id = browsing.customer_id
            and browsing.purpose = 'personalisation_browsing'
    left join effective_consent as service_usage
        on
            direct_marketing.customer_id = service_usage.customer_id
            and service_usage.purpose = 'personalisation_usage'
    left join effective_consent as partner_offers
        on
            direct_marketing.customer_id = partner_offers.customer_id
            and partner_offers.purpose = 'partner_offers'
    where direct_marketing.purpose = 'direct_marketing'
)

select
    customer_id,
    profiling_since,
    may_use_browsing,
    may_use_usage,
    may_receive_partner_offers,
    case
        when not may_use_browsing then null
        when browsing_allowed_since is null or browsing_allowed_since < profiling_since
            then profiling_since
        else browsing_allowed_since
    end as browsing_since,
    case
        when not may_use_usage then null
        when usage_allowed_since is null or usage_allowed_since < profiling_since
            then profiling_since
        else usage_allowed_since
    end as usage_since
from allowed_purposes
