-- Interest scores, 0 to scoring.max_score (at most 100) per customer and interest: the
-- rounded sum of the customer's contributions in marketing.interest_evidence, clipped to
-- the interest's cap (scoring.interest_caps, else scoring.max_score).
{%- set scoring = var('scoring') %}
{%- if not (scoring['max_score'] is number and 0 < scoring['max_score'] <= 100) %}
    {{ exceptions.raise_compiler_error('config/pipeline.yml: scoring.max_score must be a number in 1..100') }}
{%- endif %}
{%- set interest_cap_rows = [] %}
{%- for interest, cap in (scoring.get('interest_caps') or {}).items() %}
    {%- do interest_cap_rows.append([interest | lower, cap]) %}
{%- endfor %}

with

interest_caps as (
    {{ config_table([('interest', 'text'), ('max_score', 'number')], interest_cap_rows, 'scoring.interest_caps') }}
),

evidence as (
    select
        customer_id,
        interest,
        run_date,
        sum(contribution) as total_contribution
    from {{ ref('interest_evidence') }}
    group by customer_id, interest, run_date
),

scores as (
    select
        evidence.customer_id,
        evidence.interest,
        evidence.run_date,
        least(
            round(evidence.total_contribution),
            coalesce(interest_caps.max_score, {{ scoring['max_score'] }}),
            {{ scoring['max_score'] }}
        ) as score
    from evidence
    left join interest_caps
        on evidence.interest = interest_caps.interest
)

select
    customer_id,
    interest,
    cast(greatest(score, 0) as integer) as score,
    run_date
from scores
