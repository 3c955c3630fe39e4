-- Customers who may receive direct marketing on the run date (no objection, account open
-- and on the Proximus platform), with the other marketing purposes they allow.
-- Every per-person marketing model starts from this list: nothing is computed for a
-- customer who objects to direct marketing.
-- *_since: signals recorded before this instant are not used (null: no lower bound);
-- browsing and usage signals need both their consent and direct marketing allowed, so
-- they start at the later of the two.

with

effective_consent as (
    select
        customer_id,
        purpose,
        is_allowed,
        allowed_since
    from {{ ref('int_consent__effective') }}
    where is_allowed
)

select
    direct_marketing.customer_id,
    direct_marketing.allowed_since as profiling_since,
    case
        when direct_marketing.allowed_since is null or browsing.allowed_since >= direct_marketing.allowed_since
            then browsing.allowed_since
        else direct_marketing.allowed_since
    end as browsing_since,
    case
        when direct_marketing.allowed_since is null or service_usage.allowed_since >= direct_marketing.allowed_since
            then service_usage.allowed_since
        else direct_marketing.allowed_since
    end as usage_since,
    browsing.customer_id is not null as may_use_browsing,
    service_usage.customer_id is not null as may_use_usage,
    partner_offers.customer_id is not null as may_receive_partner_offers
from effective_consent as direct_marketing
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
