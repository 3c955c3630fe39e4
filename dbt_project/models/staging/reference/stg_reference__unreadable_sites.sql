-- The sites of every catalogue row staging quarantined (an unknown category, a key
-- conflict, a control character...), by the key traffic meets them on. What the
-- catalogue says of such a site cannot be trusted, and a row quarantined for a word no
-- sensitive stem knows may be the one that called it sensitive, so the site backs no
-- interest in any spelling (int_marketing__browsing_signals). Sites only, no person.
{{ config(materialized='view') }}

select distinct site_key
from {{ ref('base_reference__site_catalogue') }}
where
    rejection_reason is not null
    and site_key is not null
