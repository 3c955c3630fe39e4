-- People present per area and hour of the run date, at postal code, municipality and
-- province level: only figures that passed k-anonymity and complementary suppression.
-- A suppressed figure is absent, like an hour nobody was seen in: the two cannot be told apart.

with

published_areas as (
    select
        area_level,
        area_id,
        hour_index,
        released_people
    from {{ ref('int_location__release') }}
    where table_name = 'presence_hourly' and status = 'published'
)

select
    published_areas.area_level,
    published_areas.area_id,
    run_hours.hour_start,
    cast(published_areas.released_people as bigint) as people,
    cast('{{ run_date() }}' as date) as run_date
from published_areas
inner join {{ ref('int_location__run_hours') }} as run_hours
    on published_areas.hour_index = run_hours.hour_index
