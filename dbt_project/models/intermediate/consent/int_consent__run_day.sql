-- The run date D as an instant range [starts_at, ends_at): D 00:00 to D+1 00:00 in the
-- configured time zone (23 or 25 hours on DST days). "At the end of D" = before ends_at.
{%- set run_day = modules.datetime.date.fromisoformat(run_date()) %}
{%- set next_day = run_day + modules.datetime.timedelta(days=1) %}

select
    cast('{{ run_day }}' as date) as run_date,
    {{ local_midnight(run_day) }} as starts_at,
    {{ local_midnight(next_day) }} as ends_at
