-- Browsing signals: days with traffic to a site or app of the catalogue, per category
-- (config: scoring.browsing). Only for customers who may receive direct marketing AND
-- consented to personalisation_browsing, only traffic observed during that consent and
-- before the end of D. Sites and apps outside the catalogue are ignored; sensitive
-- categories are never read, with or without consent.
{%- set browsing = var('scoring')['browsing'] %}

with

browsing_customers as (
    select
        customer_id,
        browsing_since as signals_since
    from {{ ref('int_marketing__marketable_customers') }}
    where may_use_browsing
),

run_day as (
    select ends_at
    from {{ ref('int_consent__run_day') }}
),

catalogue as (
    select
        app_or_site,
        category
    from {{ ref('stg_reference__site_catalogue') }}
    where
        not is_sensitive
        and not {{ is_sensitive_term('category') }}
),

visits as (
    select
        traffic.customer_id,
        catalogue.category as interest,
        {{ local_date('traffic.observed_at') }} as visit_day
    from {{ ref('stg_network__traffic_events') }} as traffic
    inner join browsing_customers
        on traffic.customer_id = browsing_customers.customer_id
    inner join catalogue
        on traffic.app_or_site = catalogue.app_or_site
    cross join run_day
    where
        traffic.observed_at < run_day.ends_at
        and (
            browsing_customers.signals_since is null
            or traffic.observed_at >= browsing_customers.signals_since
        )
)

select distinct
    customer_id,
    interest,
    'site_visit_day' as signal_source,
    visit_day as signal_day,
    {{ config_number(browsing['points_per_visit_day'], 'scoring.browsing.points_per_visit_day') }} as points
from visits
