{#- The largest plausible landing values (docs/data-contract.md). A delivered value above
    its limit is a delivery error, not a fact about a customer: the row is quarantined
    (out_of_range:<column>) instead of being scored, and no later arithmetic on landing
    values can overflow. The intermediate models bound the same values again with least()
    before any multiplication. -#}
{% macro plausible_limit(name) -%}
    {{- return({
        'survey_count_answer': 1000,
        'traffic_bytes': 1000000000000,
        'call_duration_seconds': 86400,
    }[name]) -}}
{%- endmacro %}
