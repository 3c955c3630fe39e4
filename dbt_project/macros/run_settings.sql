{#- The run's own settings: the run date D and k.

    They come from the environment (set by privacy_pipeline.dbt_runner), not from vars,
    so that the vars (the configuration) are the same for every run: dbt then reuses its
    parsed project from one run to the next, and re-parses only the few files that read
    these two values when they change.
-#}

{% macro run_date() -%}
    {{ return(env_var('PRIVACY_PIPELINE_DBT_RUN_DATE')) }}
{%- endmacro %}
