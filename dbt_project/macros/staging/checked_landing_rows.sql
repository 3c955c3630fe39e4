{#- Body of a base_<source>__<table> model: every landing row, typed, with its
    rejection_reason (null = accepted) and, for rejected rows, row_data for the quarantine.

    Checks, first failing one wins (reason codes in docs/data-contract.md):
      1. each column: missing_value:<col>, then unparseable per kind (contract)
      2. checks: [(condition on typed columns, reason), ...] given by the model
      3. key (contract): duplicate_key_conflict when another row with the same key has
         different content (every version is rejected: none is trusted over the other),
         else exact_duplicate for the second and later identical copies (one is kept)
      4. tables without a key: exact_duplicate for identical copies (unless deduplicate=false)
      5. references: [{'column': c, 'parent': ref(..), 'parent_column': p, 'reason': r}]:
         the value must exist among the parent's accepted rows
    lookups: [{'name': n, 'sql': 'select ... (one row per join key)', 'on': cond, 'columns': [..]}]
         left-joined for the checks (which may use n.<column>); carried on as n__<column>.
    extra_columns: ["<expr> as <name>", ...] computed from the typed columns, output after them.
    lenient_identifiers: id columns not held to the safe identifier format (the model
         resolves and checks them itself).
    nested_in: [(child, parent), ...] areas that must nest (cells: a postal code lies in one
         municipality, a municipality in one province), checked in order on the rows still
         accepted: the parent named by the most accepted rows of the child wins and the
         others are quarantined as area_conflict:<parent>; on a tie no parent is trusted
         and every row of the child is (as for key conflicts). One wrong row is then
         quarantined instead of breaking the area tree and stopping the night.
    line_column: a column left out of the key comparison (customers.msisdn): rows of one key
         that differ only there are one row and several lines; the first line's row is
         accepted, the others are quarantined as additional_line (their number is still the
         customer's line: see base_network__network_events).
    erasable: a row of a table with a customer_id column whose customer asked for erasure
         (macro is_erased_customer) is neither accepted nor quarantined: it keeps only its
         file and rejection_reason 'erased_customer', every other column null, so the
         reconciliation still counts it and nothing of the person is kept (the requests
         themselves are not erasable: the request record stays, docs/dpo.md).
    The output keeps the contract's columns except direct identifiers (contract: identifier).
-#}
{% macro checked_landing_rows(source_name, table_name, checks=[], references=[], lookups=[], extra_columns=[], deduplicate=true, lenient_identifiers=[], line_column=none, erasable=true, nested_in=[]) -%}
    {%- set contract = contract_table(table_name) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- set physical_types = landing_physical_types(relation) -%}
    {%- set key = contract.key -%}
    {%- set erasure_applies = erasable and 'customer_id' in contract.columns -%}

with

typed_rows as (
    select
        {{ landing_typed_columns(table_name, physical_types) }}
    from {{ relation }}
),

{%- for reference in references %}

reference_{{ loop.index }} as (
    select distinct {{ reference.parent_column }} as referenced_value
    from {{ reference.parent }}
),
{%- endfor %}

checked_rows as (
    select
        typed_rows.*,
        {%- for lookup in lookups %}{% for column in lookup.columns %}
        {{ lookup.name }}.{{ column }} as {{ lookup.name }}__{{ column }},
        {%- endfor %}{% endfor %}
        case
            {{- row_problem_clauses(table_name, lenient_identifiers=lenient_identifiers) }}
        {%- for check in checks %}
            when {{ check[0] }} then '{{ check[1] }}'
        {%- endfor %}
        end as row_problem,
        case
        {%- for reference in references %}
            when typed_rows.{{ reference.column }} is not null and reference_{{ loop.index }}.referenced_value is null then '{{ reference.reason }}'
        {%- endfor %}
        {%- if not references %}
            when false then null
        {%- endif %}
        end as reference_problem
    from typed_rows
    {%- for reference in references %}
    left join reference_{{ loop.index }}
        on typed_rows.{{ reference.column }} = reference_{{ loop.index }}.referenced_value
    {%- endfor %}
    {%- for lookup in lookups %}
    left join ({{ lookup.sql }}) as {{ lookup.name }}
        on {{ lookup.on }}
    {%- endfor %}
),

fingerprinted_rows as (
    select
        *,
        {{ row_fingerprint(table_name, except=[line_column] if line_column else []) }} as content_fingerprint
    from checked_rows
),

versioned_rows as (
    select
        *,
    {%- if key %}
        min(content_fingerprint) over (partition by {{ key | join(', ') }})
        <> max(content_fingerprint) over (partition by {{ key | join(', ') }}) as has_key_conflict,
        row_number() over (
            partition by {{ key | join(', ') }}, content_fingerprint{% if line_column %}, {{ line_column }}{% endif %}
            order by _source_file, _source_row
        ) as copy_number,
        {%- if line_column %}
        case
            when min({{ line_column }}) over (partition by {{ key | join(', ') }}, content_fingerprint) is null then true
            else coalesce({{ line_column }} = min({{ line_column }}) over (partition by {{ key | join(', ') }}, content_fingerprint), false)
        end as is_first_line
        {%- else %}
        true as is_first_line
        {%- endif %}
    {%- elif deduplicate %}
        false as has_key_conflict,
        row_number() over (partition by content_fingerprint order by _source_file, _source_row) as copy_number,
        true as is_first_line
    {%- else %}
        false as has_key_conflict,
        1 as copy_number,
        true as is_first_line
    {%- endif %}
    from fingerprinted_rows
),

decided_rows as (
    select
        *,
        {%- if erasure_applies %}
        case when {{ is_erased_customer('customer_id') }} then 'erased_customer' else
        {%- endif %}
        coalesce(
            row_problem,
            case
                when has_key_conflict then 'duplicate_key_conflict'
                when copy_number > 1 then 'exact_duplicate'
                {%- if line_column %}
                when not is_first_line and {{ line_column }} is not null then 'additional_line'
                {%- endif %}
                when not is_first_line then 'exact_duplicate'
            end,
            reference_problem
        ){% if erasure_applies %} end{% endif %} as decided_reason
    from versioned_rows
),
{%- set ns = namespace(rows='decided_rows', reasons=['decided_reason']) %}
{%- for child, parent in nested_in %}

{{ child }}_{{ parent }}_votes as (
    select
        {{ child }},
        {{ parent }},
        count(*) as voting_rows,
        max(count(*)) over (partition by {{ child }}) as most_votes
    from {{ ns.rows }}
    where coalesce({{ ns.reasons | join(', ') }}) is null
    group by {{ child }}, {{ parent }}
),

{{ child }}_{{ parent }}_winners as (
    select
        {{ child }},
        max({{ parent }}) as {{ parent }}
    from {{ child }}_{{ parent }}_votes
    where voting_rows = most_votes
    group by {{ child }}
    having count(*) = 1
),

{{ child }}_in_one_{{ parent }} as (
    select
        {{ ns.rows }}.*,
        case
            when coalesce({{ ns.rows }}.{{ ns.reasons | join(', ' ~ ns.rows ~ '.') }}) is not null then null
            when winner.{{ parent }} is null or winner.{{ parent }} <> {{ ns.rows }}.{{ parent }}
                then 'area_conflict:{{ parent }}'
        end as {{ child }}_{{ parent }}_reason
    from {{ ns.rows }}
    left join {{ child }}_{{ parent }}_winners as winner
        on {{ ns.rows }}.{{ child }} = winner.{{ child }}
),
{%- set ns.reasons = ns.reasons + [child ~ '_' ~ parent ~ '_reason'] %}
{%- set ns.rows = child ~ '_in_one_' ~ parent %}
{%- endfor %}

final_rows as (
    select
        *,
        coalesce({{ ns.reasons | join(', ') }}) as rejection_reason
    from {{ ns.rows }}
)

select
    {%- for column_name, spec in contract.columns.items() if not spec.identifier %}
    {{ unless_erased(column_name, erasure_applies) }} as {{ column_name }},
    {%- endfor %}
    {%- for extra in extra_columns %}
    {%- set parts = extra.rsplit(' as ', 1) %}
    {{ unless_erased(parts[0], erasure_applies) }} as {{ parts[1] }},
    {%- endfor %}
    _source_file,
    rejection_reason,
    case when rejection_reason is not null and rejection_reason <> 'erased_customer' then {{ quarantine_row_json(table_name) }} end as row_data
from final_rows
{%- endmacro %}
