-- Usage signals: devices seen on the network and calling patterns, as points per interest
-- (config: scoring.usage). Only for customers who may receive direct marketing AND
-- consented to personalisation_usage, only usage observed during that consent and before
-- the end of D. Call records are read for when and how long customers call: the called
-- number is never selected.
{%- set usage = var('scoring')['usage'] %}
{%- set device_rule_rows = [] %}
{%- for rule in usage.get('device_rules') or [] %}
    {%- do device_rule_rows.append([
        rule['kind'], '%' ~ (rule['model_contains'] | lower) ~ '%', rule['interest'] | lower, rule['points_per_day']
    ]) %}
{%- endfor %}
{%- set call_rule_rows = [] %}
{%- for rule in usage.get('call_rules') or [] %}
    {%- do call_rule_rows.append([rule['interest'] | lower, rule['points_per_call_hour']]) %}
{%- endfor %}

with

usage_customers as (
    select
        customer_id,
        usage_since as signals_since
    from {{ ref('int_marketing__marketable_customers') }}
    where may_use_usage
),

run_day as (
    select ends_at
    from {{ ref('int_consent__run_day') }}
),

device_rules as (
    {{ config_table(
        [('device_kind', 'text'), ('model_pattern', 'text'), ('interest', 'text'), ('points_per_day', 'number')],
        device_rule_rows, 'scoring.usage.device_rules'
    ) }}
),

call_rules as (
    {{ config_table(
        [('interest', 'text'), ('points_per_call_hour', 'number')],
        call_rule_rows, 'scoring.usage.call_rules'
    ) }}
),

observed_devices as (
    select
        devices.customer_id,
        devices.kind as device_kind,
        lower(devices.model) as device_model,
        {{ local_date('devices.observed_at') }} as signal_day
    from {{ ref('stg_network__device_observations') }} as devices
    inner join usage_customers
        on devices.customer_id = usage_customers.customer_id
    cross join run_day
    where
        devices.observed_at < run_day.ends_at
        and (
            usage_customers.signals_since is null
            or devices.observed_at >= usage_customers.signals_since
        )
),

-- A device seen several times a day counts once; overlapping rules: the best one.
device_days as (
    select
        observed_devices.customer_id,
        device_rules.interest,
        observed_devices.signal_day,
        max(device_rules.points_per_day) as points
    from observed_devices
    inner join device_rules
        on
            observed_devices.device_kind = device_rules.device_kind
            and observed_devices.device_model like device_rules.model_pattern
    group by
        observed_devices.customer_id,
        device_rules.interest,
        observed_devices.signal_day
),

call_days as (
    select
        calls.customer_id,
        {{ local_date('calls.started_at') }} as signal_day,
        sum(calls.duration_seconds) as call_seconds
    from {{ ref('stg_network__call_records') }} as calls
    inner join usage_customers
        on calls.customer_id = usage_customers.customer_id
    cross join run_day
    where
        calls.started_at < run_day.ends_at
        and (
            usage_customers.signals_since is null
            or calls.started_at >= usage_customers.signals_since
        )
    group by
        calls.customer_id,
        {{ local_date('calls.started_at') }}
),

-- Points per started hour of calls that day.
call_points as (
    select
        call_days.customer_id,
        call_rules.interest,
        call_days.signal_day,
        call_rules.points_per_call_hour * ceil(call_days.call_seconds / 3600.0) as points
    from call_days
    cross join call_rules
    where call_days.call_seconds > 0
)

select
    customer_id,
    interest,
    'device_day' as signal_source,
    signal_day,
    points
from device_days

union all

select
    customer_id,
    interest,
    'call_day' as signal_source,
    signal_day,
    points
from call_points
