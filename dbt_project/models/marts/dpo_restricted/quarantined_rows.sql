-- Every landing row the run did not accept, for the DPO's restricted store (never
-- published): the table, the file, the reason (codes in docs/data-contract.md) and
-- row_data. A row of an event table is only its row number in the file; any other row is
-- the row as JSON with direct identifiers removed (full_name, email) or pseudonymised
-- (msisdn, called_number) and phone numbers and e-mail addresses masked in every other
-- value. Rows of erased customers (reason erased_customer) are not quarantined: nothing of
-- them is kept (dpo.load_reconciliation counts them as rows_erased). CSV lines that could not even be split into columns are listed by line number,
-- without their content.
{%- set contract = var('landing_contract') %}

with

rejected_rows as (
    {%- for table_name, table in contract.items() %}
        select
            '{{ table_name }}' as source_table,
            _source_file as source_file,
            rejection_reason as reason,
            row_data
        from {{ ref('base_' ~ table.source ~ '__' ~ table_name) }}
        where rejection_reason is not null and rejection_reason <> 'erased_customer'
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

unreadable_lines as (
    select
        source_table,
        source_file,
        'unreadable_csv_line' as reason,
        {{ json_record("'line'", 'line', "'error_type'", 'error_type') }} as row_data
    from {{ source('landing_load', 'rejected_csv_lines') }}
),

quarantine as (
    select
        source_table,
        source_file,
        reason,
        row_data
    from rejected_rows
    union all
    select
        source_table,
        source_file,
        reason,
        row_data
    from unreadable_lines
)

select
    cast('{{ run_date() }}' as date) as run_date,
    source_table,
    source_file,
    reason,
    cast(row_data as {{ dbt.type_string() }}) as row_data
from quarantine
