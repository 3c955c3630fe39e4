-- Browsing signals: days with traffic to a site or app of the catalogue, per category
-- (config: scoring.browsing). Only for customers who may receive direct marketing AND
-- consented to personalisation_browsing, only traffic observed during that consent and
-- before the end of D. Sites and apps outside the catalogue are ignored; sensitive
-- categories are never read, with or without consent. A site is matched in any spelling
-- of its name (stg_reference__site_catalogue.site_key: the host it names), and one the
-- catalogue names sensitive in any spelling, or whose row staging quarantined, or on a
-- domain above or below such a site, is never read under another row's category.
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

catalogue_rows as (
    select
        site_key,
        category,
        case when is_sensitive or {{ is_sensitive_term('category') }} then 1 else 0 end as row_is_sensitive
    from {{ ref('stg_reference__site_catalogue') }}
    where site_key is not null
),

-- sites that back no interest: a sensitive row in any spelling, or a row staging
-- quarantined (stg_reference__unreadable_sites)
withheld_sites as (
    select site_key
    from catalogue_rows
    where row_is_sensitive = 1
    union
    select site_key
    from {{ ref('stg_reference__unreadable_sites') }}
),

-- a withheld site in any spelling, or a domain above or below one (m.adult.example,
-- adult.example), is withheld: none of its rows is read. The catalogue is a short list,
-- so the non-equi join stays small.
catalogue as (
    select distinct
        catalogue_rows.site_key,
        catalogue_rows.category
    from catalogue_rows
    left join withheld_sites
        on
            catalogue_rows.site_key = withheld_sites.site_key
            or {{ is_below_domain('catalogue_rows.site_key', 'withheld_sites.site_key') }}
            or {{ is_below_domain('withheld_sites.site_key', 'catalogue_rows.site_key') }}
    where withheld_sites.site_key is null
),

visits as (
    select
        traffic.customer_id,
        catalogue.category as interest,
        {{ local_date('traffic.observed_at') }} as visit_day
    from {{ ref('stg_network__traffic_events') }} as traffic
    inner join browsing_customers
        on traffic.customer_id = browsing_customers.customer_id
    inner join {{ ref('stg_network__traffic_sites') }} as traffic_sites
        on traffic.app_or_site = traffic_sites.app_or_site
    inner join catalogue
        on traffic_sites.site_key = catalogue.site_key
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
