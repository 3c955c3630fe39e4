-- The postal codes of each event's cells (an event's footprint in the area tree): an
-- event is contained in an area when all of these lie in it.

select distinct
    event_cells.event_id,
    cells.postal_code
from {{ ref('stg_reference__event_cells') }} as event_cells
inner join {{ ref('stg_reference__cells') }} as cells
    on event_cells.cell_id = cells.cell_id
