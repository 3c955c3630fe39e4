{#- The sensitive site categories (config: sensitive_categories) as a SQL list of
    lower-case literals, e.g. 'sexual', 'religious', 'political'. -#}
{% macro sensitive_category_list() -%}
    {%- for category in var('sensitive_categories') -%}
        '{{ category | lower | trim }}'{% if not loop.last %}, {% endif %}
    {%- endfor -%}
{%- endmacro %}
