{#- The few expressions with no standard SQL form, one place each: another engine changes
    a macro here, not the models (docs/data-contract.md, "Engine-specific SQL").
-#}

{#- The calendar day of an instant in the configured time zone (Europe/Brussels).
    Trino: date(ts at time zone tz); Spark: to_date(from_utc_timestamp(ts, tz)). -#}
{% macro local_date(instant) -%}
    cast({{ instant }} at time zone '{{ var("timezone") }}' as date)
{%- endmacro %}

{#- An instant as ISO 8601 text in UTC, e.g. 2026-06-20T08:15:00Z.
    Trino: to_iso8601(ts at time zone 'UTC'); Spark: date_format(ts, "yyyy-MM-dd'T'HH:mm:ss'Z'"). -#}
{% macro utc_iso8601(instant) -%}
    replace(cast({{ instant }} at time zone 'UTC' as varchar), ' ', 'T') || 'Z'
{%- endmacro %}

{#- A JSON object from name, value pairs: json_record("'a'", "x", "'b'", "y").
    Trino: cast(map(array[...], array[...]) as json); Spark: to_json(named_struct(...)). -#}
{% macro json_record() -%}
    json_object({{ varargs | join(', ') }})
{%- endmacro %}

{#- The text of one top-level field of a JSON object, null when absent.
    Trino: json_extract_scalar(j, '$.f'); Spark: get_json_object(j, '$.f'). -#}
{% macro json_text(json_value, field) -%}
    json_extract_string({{ json_value }}, '$.{{ field }}')
{%- endmacro %}
