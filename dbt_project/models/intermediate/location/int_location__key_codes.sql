-- A small integer for every part a location figure's key can have: the areas of the
-- tree (unique across levels), the events of the run date, and the labels of the
-- whole-day figures (visitor class, time band; coded 1..n by macro
-- location_figure_labels). The location query codes its figures with them (macro
-- location_figure_code) and the release model decodes the figures it reads. Reference
-- data only: no person.
{%- set labels = location_figure_labels() %}

with

labels as (
    {%- for kind, label in labels %}
        select
            '{{ kind }}' as key_level,
            '{{ label }}' as key_id,
            {{ location_label_code(kind, label) }} as key_code
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

keyed as (
    select
        area_level as key_level,
        area_id as key_id
    from {{ ref('int_location__area_tree') }}

    union all

    -- The events of the run date only (the figures' events: int_location__person_hours
    -- keeps the same ones): the events reference may hold years of past events, far more
    -- than a code's 20-bit field.
    select
        'event' as key_level,
        events.event_id as key_id
    from {{ ref('stg_reference__events') }} as events
    cross join {{ ref('int_consent__run_day') }} as run_day
    where events.starts_at < run_day.ends_at and events.ends_at >= run_day.starts_at
)

select
    key_level,
    key_id,
    cast(key_code as integer) as key_code
from labels

union all

select
    key_level,
    key_id,
    cast({{ labels | length }} + row_number() over (order by key_level, key_id) as integer) as key_code
from keyed
