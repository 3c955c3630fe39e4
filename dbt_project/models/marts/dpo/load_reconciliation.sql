-- One row per landing table of the contract: rows read by the loader = rows accepted by
-- staging + rows quarantined + rows of erased customers (excluded in staging, docs/dpo.md). The test rows_reconcile fails the build if a row was lost.
{%- set contract = var('landing_contract') %}
{#- Tables whose accepted rows are a view re-running the checks (the network events, never
    copied): their base model tallies the accepted rows per file in the same pass that finds
    the rejected ones, so they are counted there instead of reading 100M rows again. -#}
{%- set tallied_tables = ['network_events'] %}

with

read_counts as (
    select
        source_table,
        rows_read
    from {{ source('landing_load', 'rows_read') }}
),

accepted_counts as (
    {%- for table_name, table in contract.items() %}
        {%- if table_name in tallied_tables %}
            select
                '{{ table_name }}' as source_table,
                coalesce(sum(row_count), 0) as rows_accepted
            from {{ ref('base_' ~ table.source ~ '__' ~ table_name) }}
            where rejection_reason is null
        {%- else %}
            select
                '{{ table_name }}' as source_table,
                count(*) as rows_accepted
            from {{ ref('stg_' ~ table.source ~ '__' ~ table_name) }}
        {%- endif %}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

erased_counts as (
    {%- for table_name, table in contract.items() %}
        select
            '{{ table_name }}' as source_table,
            count(*) as rows_erased
        from {{ ref('base_' ~ table.source ~ '__' ~ table_name) }}
        where rejection_reason = 'erased_customer'
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

quarantined_counts as (
    select
        source_table,
        count(*) as rows_quarantined
    from {{ ref('quarantined_rows') }}
    group by source_table
)

select
    cast('{{ run_date() }}' as date) as run_date,
    accepted_counts.source_table,
    read_counts.rows_read,
    accepted_counts.rows_accepted,
    coalesce(quarantined_counts.rows_quarantined, 0) as rows_quarantined,
    erased_counts.rows_erased
from accepted_counts
left join read_counts
    on accepted_counts.source_table = read_counts.source_table
left join erased_counts
    on accepted_counts.source_table = erased_counts.source_table
left join quarantined_counts
    on accepted_counts.source_table = quarantined_counts.source_table
