-- Every customer as a small integer (person_id), meaningful only inside the one query of
-- int_location__figure_members: the sets of people behind the figures are read as
-- integers, and the visits' windows sort each person's sightings by integers, which
-- sort and spill a fraction of what strings do (docs/benchmarks.md).
{{ config(materialized='ephemeral') }}

select
    customer_id,
    cast(row_number() over (order by customer_id) as integer) as person_id
from (select distinct customer_id from {{ ref('stg_crm__customers') }}) as customers
