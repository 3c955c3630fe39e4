-- The visitors of an area on the run date (class visitor of visitors_daily) by home
-- municipality and home province: published figures only. Residents and people in transit
-- are not counted; a visitor whose home is unknown to the cells reference is in no origin.

select
    area_level,
    {{ location_figure_key_part('area_id', 1) }} as area_id,
    {{ location_figure_key_part('area_id', 2) }} as origin_level,
    {{ location_figure_key_part('area_id', 3) }} as origin_area_id,
    cast(released_people as bigint) as people,
    cast('{{ run_date() }}' as date) as run_date
from {{ ref('int_location__release') }}
where table_name = 'visitor_origin' and status = 'published'
