-- Every accepted cell with integer codes: its own (in the order of its id, so ties of one
-- instant are ordered by cell as before) and its areas' (int_location__key_codes). The
-- location query carries these codes instead of strings: its windows, distincts and
-- sorts run over every sighting of the day. Ephemeral, reference data only.
{{ config(materialized='ephemeral') }}

with

areas as (
    select
        key_level,
        key_id,
        key_code
    from {{ ref('int_location__key_codes') }}
    where key_level in ('postal_code', 'municipality', 'province')
)

select
    cells.cell_id,
    cast(row_number() over (order by cells.cell_id) as integer) as cell_code,
    postal.key_code as postal_code,
    municipal.key_code as municipality,
    provincial.key_code as province
from {{ ref('stg_reference__cells') }} as cells
left join areas as postal
    on postal.key_level = 'postal_code' and cells.postal_code = postal.key_id
left join areas as municipal
    on municipal.key_level = 'municipality' and cells.municipality = municipal.key_id
left join areas as provincial
    on provincial.key_level = 'province' and cells.province = provincial.key_id
