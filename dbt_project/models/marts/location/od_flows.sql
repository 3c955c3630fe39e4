-- People who moved from one municipality (or province) to another on the run date, per
-- time band of the arrival (Europe/Brussels clock): published figures only. A move is two
-- consecutive events of a person in different areas of the level.

select
    area_level,
    {{ location_figure_key_part('area_id', 1) }} as origin_area_id,
    {{ location_figure_key_part('area_id', 2) }} as destination_area_id,
    {{ location_figure_key_part('area_id', 3) }} as time_band,
    cast(released_people as bigint) as people,
    cast('{{ run_date() }}' as date) as run_date
from {{ ref('int_location__release') }}
where table_name = 'od_flows' and status = 'published'
