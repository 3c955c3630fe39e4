{#- Use the folder's schema name as is (staging, intermediate, marketing, ...):
    the candidate database mirrors the published schemas one to one. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
