-- Distinct people per candidate figure before any suppression: per area (postal code,
-- municipality, province) and hour of D, per event and hour, and per event over its
-- whole window on D. Counted once, by the release model, from the sets of people
-- behind each figure (int_location__figure_members, read in one pass of the network
-- events): this table is its true counts, without the decisions.

select
    table_name,
    area_level,
    area_id,
    hour_index,
    people
from {{ ref('int_location__release') }}
