-- The limited list of sites and apps, one row per app_or_site; category in lower case.
-- is_sensitive: the category is one of config sensitive_categories (sexual, religious,
-- political); those are never an interest. Every other category is an interest.
{{ config(materialized='view') }}

select
    app_or_site,
    lower(category) as category,
    coalesce(lower(category) in ({{ sensitive_category_list() }}), false) as is_sensitive
from {{ ref('base_reference__site_catalogue') }}
where rejection_reason is null
