-- The limited list of sites and apps, one row per app_or_site; category normalised.
-- is_sensitive: the category is sensitive in any spelling (config sensitive_categories:
-- sexual, religious, political and their other spellings); those are never an interest.
-- Every other category is one of config allowed_interests.
-- site_key: the name read generously as the host it names (macro site_key: case, width,
-- accents, invisible characters, scheme, user info, www., port, path), so that traffic to
-- "https://WWW.Adult.Example:443/" meets the catalogue's "adult.example" and a site
-- sensitive in one spelling is sensitive in all.
{{ config(materialized='view') }}

select
    app_or_site,
    site_key,
    category,
    {{ is_sensitive_term('category') }} as is_sensitive
from {{ ref('base_reference__site_catalogue') }}
where rejection_reason is null
