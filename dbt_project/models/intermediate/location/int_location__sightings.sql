-- The one read of the network events for location: every sighting of D of a customer
-- allowed for location analytics on D, with its cell's areas and its hour of D, all as
-- integer codes (the person: int_location__people; the cell and its areas:
-- int_location__cells), which sort and group at a fraction of the cost of strings. Shared by
-- presence and events (int_location__person_hours) and by stays and moves
-- (int_location__visit_members). Ephemeral: a CTE of the query of
-- int_location__figure_members, read in memory by the release model, never a table.
-- The hour is found by arithmetic on the instant (seconds since local midnight), which is
-- exact on DST days and cheaper on 100M rows than truncating in a time zone.
{{ config(materialized='ephemeral') }}

with

run_day as (
    select
        starts_at,
        ends_at
    from {{ ref('int_consent__run_day') }}
),

allowed_customers as (
    select customer_id
    from {{ ref('int_consent__effective') }}
    where purpose = 'location_analytics' and is_allowed
),

-- A sighting from before the account was created is not this customer's (a recycled
-- number, a SIM before its contract): it is nobody's, as for marketing signals. One from
-- before a Scarlet account's migration was made under the old Scarlet policy: not counted
-- either (a migration date on an account of the other brand is read the same way).
allowed_people as (
    select
        customers.customer_id,
        people.person_id,
        greatest(customers.created_at, coalesce(customers.migrated_at, customers.created_at))
            as counted_from
    from {{ ref('stg_crm__customers') }} as customers
    inner join allowed_customers
        on customers.customer_id = allowed_customers.customer_id
    inner join {{ ref('int_location__people') }} as people
        on customers.customer_id = people.customer_id
)

select
    allowed_people.person_id,
    cells.cell_code,
    network_events.event_at,
    cast(floor(
        ({{ epoch_seconds("network_events.event_at") }} - {{ epoch_seconds("run_day.starts_at") }})
        / 3600
    ) as integer) as hour_index,
    cells.postal_code,
    cells.municipality,
    cells.province
from {{ ref('stg_network__network_events') }} as network_events
cross join run_day
inner join {{ ref('int_location__cells') }} as cells
    on network_events.cell_id = cells.cell_id
inner join allowed_people
    on network_events.customer_id = allowed_people.customer_id
where
    network_events.event_at >= run_day.starts_at
    and network_events.event_at < run_day.ends_at
    and network_events.event_at >= allowed_people.counted_from
