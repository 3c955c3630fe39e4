{#- Keys and clocks of the location figures (docs/location-privacy.md).

    A whole-day figure of the visits and moves tables is keyed in the release like every
    other figure, by (table_name, area_level, area_id, hour_index): its other key columns
    (visitor class, origin, destination, time band) travel inside area_id, joined by the
    ASCII unit separator (chr(31), never in an area name), and are split again by the
    published marts. Trino: chr(31) and split_part exist; Spark: split_part (3.3+).
-#}

{% macro location_figure_key(parts) -%}
    {{ parts | join(' || chr(31) || ') }}
{%- endmacro %}

{% macro location_figure_key_part(key, position) -%}
    split_part({{ key }}, chr(31), {{ position }})
{%- endmacro %}

{#- A whole-day location mart: the published figures of table_name from the release, its
    key columns split out of area_id (in the order location_figure_key joined them). -#}
{% macro published_whole_day_figures(table_name, key_columns) -%}
select
    area_level,
    {%- for column in key_columns %}
    {{ location_figure_key_part('area_id', loop.index) }} as {{ column }},
    {%- endfor %}
    cast(released_people as bigint) as people,
    cast('{{ run_date() }}' as date) as run_date
from {{ ref('int_location__release') }}
where table_name = '{{ table_name }}' and status = 'published'
{%- endmacro %}

{#- The hour of the local clock (0-23) of an instant in the configured time zone.
    Trino: hour(ts at time zone tz). -#}
{% macro local_clock_hour(instant) -%}
    {{ return(adapter.dispatch('local_clock_hour')(instant)) }}
{%- endmacro %}
{% macro duckdb__local_clock_hour(instant) -%}
    extract(hour from ({{ instant }} at time zone '{{ var("timezone") }}'))
{%- endmacro %}
{% macro spark__local_clock_hour(instant) -%}
    hour(from_utc_timestamp({{ instant }}, '{{ var("timezone") }}'))
{%- endmacro %}
