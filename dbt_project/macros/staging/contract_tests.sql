{#- Generic tests of the staging and DPO models. -#}

{#- Every value is one of the contract's enum values for landing table.column. -#}
{% test in_contract_enum(model, column_name, table_name) %}
    {%- set values = var('landing_contract')[table_name]['columns'][column_name]['values'] %}
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} not in ({% for value in values %}'{{ value }}'{% if not loop.last %}, {% endif %}{% endfor %})
{% endtest %}

{#- Per landing table: rows read = rows accepted + rows quarantined + rows of erased customers. -#}
{% test rows_reconcile(model) %}
    select *
    from {{ model }}
    where rows_read is null or rows_read <> rows_accepted + rows_quarantined + rows_erased
{% endtest %}

{#- One row per landing table of the contract, no more, no less. -#}
{% test covers_every_landing_table(model, column_name) %}
    {%- set tables = var('landing_contract').keys() | list %}
    with expected as (
        {%- for table_name in tables %}
        select '{{ table_name }}' as table_name{% if not loop.last %} union all{% endif %}
        {%- endfor %}
    ),
    actual as (
        select {{ column_name }} as table_name, count(*) as row_count
        from {{ model }}
        group by {{ column_name }}
    )
    select coalesce(expected.table_name, actual.table_name) as table_name
    from expected
    full outer join actual on expected.table_name = actual.table_name
    where expected.table_name is null or actual.table_name is null or actual.row_count <> 1
{% endtest %}

{#- No two rows share the same values of columns (a composite key). -#}
{% test unique_combination(model, columns) %}
    select {{ columns | join(', ') }}
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}

{#- The published quarantine summary adds up, per landing table, to the rows quarantined
    in dpo.load_reconciliation (and so to the restricted store's rows). -#}
{% test sums_to_rows_quarantined(model) %}
    with summary as (
        select source_table, sum(rows) as rows_quarantined
        from {{ model }}
        group by source_table
    )
    select reconciliation.source_table
    from {{ ref('load_reconciliation') }} as reconciliation
    left join summary on reconciliation.source_table = summary.source_table
    where coalesce(summary.rows_quarantined, 0) <> reconciliation.rows_quarantined
    union all
    select summary.source_table
    from summary
    left join {{ ref('load_reconciliation') }} as reconciliation
        on summary.source_table = reconciliation.source_table
    where reconciliation.source_table is null
{% endtest %}

{#- Every non-null value is one of config allowed_interests (nothing else is scored,
    targeted or published). -#}
{% test in_allowed_interests(model, column_name) %}
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} not in ({{ allowed_interest_list() }})
{% endtest %}
