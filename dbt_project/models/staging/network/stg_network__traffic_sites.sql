-- Each distinct site or app of the accepted traffic with the key it meets the catalogue on
-- (macro site_key, as stg_reference__site_catalogue.site_key). A table of sites, no person:
-- the normaliser runs once per site, not per observation, and Spark's views need not call
-- its UDF.
{{ config(materialized='table') }}

select
    app_or_site,
    {{ site_key('app_or_site') }} as site_key
from (
    select distinct app_or_site
    from {{ ref('stg_network__traffic_events') }}
) as traffic_sites
