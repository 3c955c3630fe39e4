{#- Helpers for models that turn marketing configuration (config/pipeline.yml: scoring,
    segments) into SQL. Config values become SQL literals, so they are quoted here,
    in one place, and never pasted raw into a query. -#}

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
