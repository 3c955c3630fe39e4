{#- Keys and clocks of the location figures (docs/location-privacy.md).

    Inside the location query a figure is one integer, its code (location_figure_code):
    the memberships are (figure_code, person_id) rows, which group and sort as integers
    where four string columns cost several times more at 100M events
    (docs/benchmarks.md). The release model decodes the codes of the figures once
    (privacy_pipeline.location.release.FigureCodes, the other half of this layout) into
    the key a reader sees: (table_name, area_level, area_id, hour_index). A whole-day
    figure of the visits and moves tables carries its other key columns (visitor class,
    origin, destination, time band) inside area_id, joined by the ASCII unit separator
    (chr(31), never in an area name), split again by the published marts. Trino: chr(31)
    and split_part exist; Spark: split_part (3.3+).
-#}

{#- The tables of the figures, in the order of their index in a code. -#}
{% macro location_figure_tables() -%}
    {{ return(['presence_hourly', 'event_attendance', 'event_attendance_total', 'visitors_daily', 'visitor_origin', 'od_flows']) }}
{%- endmacro %}

{#- The labels of the whole-day figures' keys, coded 1..n in this order (int_location__key_codes). -#}
{% macro location_figure_labels() -%}
    {{ return([
        ('visitor_class', 'resident'), ('visitor_class', 'visitor'), ('visitor_class', 'transit'),
        ('time_band', 'night'), ('time_band', 'morning'), ('time_band', 'midday'),
        ('time_band', 'evening'), ('time_band', 'late'),
    ]) }}
{%- endmacro %}

{% macro location_label_code(kind, label) -%}
    {%- set labels = location_figure_labels() %}
    {%- if (kind, label) not in labels %}
        {{ exceptions.raise_compiler_error('unknown location figure label ' ~ kind ~ ' ' ~ label) }}
    {%- endif %}
    {{- labels.index((kind, label)) + 1 -}}
{%- endmacro %}

{#- One figure as a 64-bit integer: its table's index, then three fields of 20 bits, each
    a key code of int_location__key_codes (0: none) or, for the hourly tables' third, the
    hour of D plus one. What each field holds, per table:
      presence_hourly          area, 0, hour + 1
      event_attendance         event, 0, hour + 1
      event_attendance_total   event, 0, 0
      visitors_daily           area, visitor class, 0
      visitor_origin           area, home area (municipality or province), 0
      od_flows                 origin area, destination area, time band
    Multiplications, not shifts: every engine has them. -#}
{% macro location_figure_code(table_name, first, second='0', third='0') -%}
    {%- set tables = location_figure_tables() %}
    {%- if table_name not in tables %}
        {{ exceptions.raise_compiler_error('unknown location figure table ' ~ table_name) }}
    {%- endif -%}
    ((cast({{ tables.index(table_name) }} as bigint) * 1048576 + {{ first }}) * 1048576 + {{ second }}) * 1048576 + {{ third }}
{%- endmacro %}

{% macro location_figure_key_part(key, position) -%}
    split_part({{ key }}, chr(31), {{ position }})
{%- endmacro %}

{#- A whole-day location mart: the published figures of table_name from the release, its
    key columns split out of area_id (in the order the release joined them). -#}
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
