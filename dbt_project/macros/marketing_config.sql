{#- Helpers for models that turn marketing configuration (config/pipeline.yml: scoring,
    segments) into SQL. Config values become SQL literals here, in one place, quoted and
    type-checked, and never pasted raw into a query. -#}

{#- A configuration string as a SQL string literal. -#}
{% macro config_string(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}

{#- A configuration number as a SQL number; anything else stops the build with its path. -#}
{% macro config_number(value, path) -%}
    {%- if value is number and value is not boolean -%}
        {{ value }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("config/pipeline.yml: " ~ path ~ " must be a number, got " ~ value) }}
    {%- endif -%}
{%- endmacro %}

{#- A relation of configuration rows, e.g. scoring rules or segment definitions, so models
    join configuration like data instead of generating SQL per rule.
    columns: [(name, 'text' | 'number'), ...]; rows: lists of values in column order
    (none = null); path: where the rows come from, for error messages.
    No rows: an empty relation with the same columns. -#}
{% macro config_table(columns, rows, path) -%}
    {%- set sql_types = {'text': dbt.type_string(), 'number': 'double'} -%}
    {%- if rows -%}
        select
        {%- for name, kind in columns %}
            cast({{ name }} as {{ sql_types[kind] }}) as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
        from (
            values
            {%- for row in rows %}
            (
                {%- for value in row -%}
                    {%- set name, kind = columns[loop.index0] -%}
                    {%- if value is none -%}
                        null
                    {%- elif kind == 'number' -%}
                        {{ config_number(value, path ~ '.' ~ name) }}
                    {%- else -%}
                        {{ config_string(value) }}
                    {%- endif -%}
                    {{ ", " if not loop.last }}
                {%- endfor -%}
            ){{ "," if not loop.last }}
            {%- endfor %}
        ) as config_rows ({% for name, kind in columns %}{{ name }}{{ ", " if not loop.last }}{% endfor %})
    {%- else -%}
        select
        {%- for name, kind in columns %}
            cast(null as {{ sql_types[kind] }}) as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
        where 1 = 0
    {%- endif -%}
{%- endmacro %}
