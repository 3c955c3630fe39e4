-- People seen in an area on the run date, by class (resident, visitor, transit), at
-- postal code, municipality and province level: published figures only (k-anonymity and
-- the disclosure auditor over every location figure). Definitions:
-- docs/location-privacy.md.

select
    area_level,
    {{ location_figure_key_part('area_id', 1) }} as area_id,
    {{ location_figure_key_part('area_id', 2) }} as visitor_class,
    cast(released_people as bigint) as people,
    cast('{{ run_date() }}' as date) as run_date
from {{ ref('int_location__release') }}
where table_name = 'visitors_daily' and status = 'published'
