-- Why each interest score is what it is: per customer, interest and basis (declared,
-- browsing, usage) the sum of the weighted points of its signals, capped per basis
-- (scoring.<basis>.max_points). A customer's score is the sum of these contributions.
{%- set scoring = var('scoring') %}
{%- set basis_cap_rows = [] %}
{%- for basis in ['declared', 'browsing', 'usage'] %}
    {%- do basis_cap_rows.append([basis, scoring[basis]['max_points']]) %}
{%- endfor %}

with

run_day as (
    select run_date
    from {{ ref('int_consent__run_day') }}
),

basis_caps as (
    {{ config_table([('basis', 'text'), ('max_points', 'number')], basis_cap_rows, 'scoring') }}
),

evidence as (
    select
        customer_id,
        interest,
        basis,
        sum(weighted_points) as weighted_points
    from {{ ref('int_marketing__signals') }}
    group by customer_id, interest, basis
),

capped_evidence as (
    select
        evidence.customer_id,
        evidence.interest,
        evidence.basis,
        round(least(evidence.weighted_points, basis_caps.max_points), 2) as contribution
    from evidence
    inner join basis_caps
        on evidence.basis = basis_caps.basis
)

select
    capped_evidence.customer_id,
    capped_evidence.interest,
    capped_evidence.basis,
    capped_evidence.contribution,
    run_day.run_date
from capped_evidence
cross join run_day
where capped_evidence.contribution > 0
