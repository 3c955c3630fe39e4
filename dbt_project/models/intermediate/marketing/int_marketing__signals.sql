-- Every signal usable for the run date, with its basis, age and weighted points:
-- points * 0.5 ^ (age_days / scoring.half_life_days); signals older than
-- scoring.lookback_days are dropped. Only interests of config allowed_interests are kept,
-- and a sensitive category (any spelling) is dropped whatever its basis.
{%- set scoring = var('scoring') %}

with

run_day as (
    select run_date
    from {{ ref('int_consent__run_day') }}
),

signals as (
    select
        customer_id,
        interest,
        'declared' as basis,
        signal_source,
        signal_day,
        points
    from {{ ref('int_marketing__declared_signals') }}

    union all

    select
        customer_id,
        interest,
        'browsing' as basis,
        signal_source,
        signal_day,
        points
    from {{ ref('int_marketing__browsing_signals') }}

    union all

    select
        customer_id,
        interest,
        'usage' as basis,
        signal_source,
        signal_day,
        points
    from {{ ref('int_marketing__usage_signals') }}
),

aged_signals as (
    select
        signals.customer_id,
        signals.interest,
        signals.basis,
        signals.signal_source,
        signals.signal_day,
        cast(signals.points as double) as points,
        {{ dbt.datediff('signals.signal_day', 'run_day.run_date', 'day') }} as age_days
    from signals
    cross join run_day
    where
        signals.interest in ({{ allowed_interest_list() }})
        and not {{ is_sensitive_term('signals.interest') }}
)

select
    customer_id,
    interest,
    basis,
    signal_source,
    signal_day,
    age_days,
    points,
    points * power(
        0.5,
        age_days / cast(
            {{ config_number(scoring['half_life_days'], 'scoring.half_life_days') }}
            as double
        )
    ) as weighted_points
from aged_signals
where
    age_days >= 0
    and age_days < {{ config_number(scoring['lookback_days'], 'scoring.lookback_days') }}
    and points > 0
