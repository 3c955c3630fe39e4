{#- The few expressions with no standard SQL form, one place each: another engine changes
    a macro here, not the models (docs/data-contract.md, "Engine-specific SQL";
    docs/spark.md). Each is dispatched (adapter.dispatch): the DuckDB form (duckdb__) and
    the Spark form (spark__) side by side; Spark runs with its session time zone in UTC
    (privacy_pipeline.spark_engine), so a timestamp is an instant on both engines.
    Trino would add trino__ forms next to them.
-#}

{#- The type of an instant: DuckDB timestamptz, Spark timestamp (an instant, shown in UTC). -#}
{% macro type_instant() -%}
    {{ return(adapter.dispatch('type_instant')()) }}
{%- endmacro %}
{% macro duckdb__type_instant() -%}timestamptz{%- endmacro %}
{% macro spark__type_instant() -%}timestamp{%- endmacro %}

{#- The calendar day of an instant in the configured time zone (Europe/Brussels).
    Trino: date(ts at time zone tz). -#}
{% macro local_date(instant) -%}
    {{ return(adapter.dispatch('local_date')(instant)) }}
{%- endmacro %}
{% macro duckdb__local_date(instant) -%}
    cast({{ instant }} at time zone '{{ var("timezone") }}' as date)
{%- endmacro %}
{% macro spark__local_date(instant) -%}
    to_date(from_utc_timestamp({{ instant }}, '{{ var("timezone") }}'))
{%- endmacro %}

{#- The instant of midnight starting a calendar day (YYYY-MM-DD) in the configured time zone. -#}
{% macro local_midnight(day) -%}
    {{ return(adapter.dispatch('local_midnight')(day)) }}
{%- endmacro %}
{% macro duckdb__local_midnight(day) -%}
    cast('{{ day }} 00:00:00 {{ var("timezone") }}' as timestamp with time zone)
{%- endmacro %}
{% macro spark__local_midnight(day) -%}
    to_utc_timestamp(timestamp '{{ day }} 00:00:00', '{{ var("timezone") }}')
{%- endmacro %}

{#- An instant as ISO 8601 text in UTC, e.g. 2026-06-20T08:15:00Z (fractions of a second
    as the engine prints them: both drop trailing zeros). -#}
{% macro utc_iso8601(instant) -%}
    {{ return(adapter.dispatch('utc_iso8601')(instant)) }}
{%- endmacro %}
{% macro duckdb__utc_iso8601(instant) -%}
    replace(cast({{ instant }} at time zone 'UTC' as varchar), ' ', 'T') || 'Z'
{%- endmacro %}
{% macro spark__utc_iso8601(instant) -%}
    replace(cast({{ instant }} as string), ' ', 'T') || 'Z'
{%- endmacro %}

{#- Seconds since the epoch of an instant, with its fraction (double). -#}
{% macro epoch_seconds(instant) -%}
    {{ return(adapter.dispatch('epoch_seconds')(instant)) }}
{%- endmacro %}
{% macro duckdb__epoch_seconds(instant) -%}
    extract(epoch from {{ instant }})
{%- endmacro %}
{% macro spark__epoch_seconds(instant) -%}
    (cast(unix_micros({{ instant }}) as double) / 1000000)
{%- endmacro %}

{#- Microseconds since the epoch of an instant (bigint). -#}
{% macro epoch_microseconds(instant) -%}
    {{ return(adapter.dispatch('epoch_microseconds')(instant)) }}
{%- endmacro %}
{% macro duckdb__epoch_microseconds(instant) -%}
    epoch_us({{ instant }})
{%- endmacro %}
{% macro spark__epoch_microseconds(instant) -%}
    unix_micros({{ instant }})
{%- endmacro %}

{#- A double as a whole number (bigint), halves to even: DuckDB's cast rounds so, Spark's
    cast truncates (bround rounds half to even). -#}
{% macro rounded_bigint(expr) -%}
    {{ return(adapter.dispatch('rounded_bigint')(expr)) }}
{%- endmacro %}
{% macro duckdb__rounded_bigint(expr) -%}
    cast({{ expr }} as bigint)
{%- endmacro %}
{% macro spark__rounded_bigint(expr) -%}
    cast(bround({{ expr }}) as bigint)
{%- endmacro %}

{#- Text as a whole number, null when it is not one: DuckDB rounds a decimal ('2.5' -> 3),
    Spark's try_cast refuses it; the Spark form rounds half up like DuckDB. -#}
{% macro text_to_bigint(expr) -%}
    {{ return(adapter.dispatch('text_to_bigint')(expr)) }}
{%- endmacro %}
{% macro duckdb__text_to_bigint(expr) -%}
    try_cast({{ expr }} as bigint)
{%- endmacro %}
{% macro spark__text_to_bigint(expr) -%}
    try_cast(round(try_cast({{ expr }} as decimal(38, 9)), 0) as bigint)
{%- endmacro %}

{#- A finite double (not NaN, not infinite). -#}
{% macro is_finite(expr) -%}
    {{ return(adapter.dispatch('is_finite')(expr)) }}
{%- endmacro %}
{% macro duckdb__is_finite(expr) -%}
    isfinite({{ expr }})
{%- endmacro %}
{% macro spark__is_finite(expr) -%}
    (not isnan({{ expr }}) and abs({{ expr }}) < double('infinity'))
{%- endmacro %}

{#- A JSON object from name, value pairs: json_record("'a'", "x", "'b'", "y"); a null
    value is written as null on both engines. -#}
{% macro json_record() -%}
    {{ return(adapter.dispatch('json_record')(*varargs)) }}
{%- endmacro %}
{% macro duckdb__json_record() -%}
    json_object({{ varargs | join(', ') }})
{%- endmacro %}
{% macro spark__json_record() -%}
    to_json(named_struct({{ varargs | join(', ') }}), map('ignoreNullFields', 'false'))
{%- endmacro %}

{#- The text of one top-level field of a JSON object, null when absent. -#}
{% macro json_text(json_value, field) -%}
    {{ return(adapter.dispatch('json_text')(json_value, field)) }}
{%- endmacro %}
{% macro duckdb__json_text(json_value, field) -%}
    json_extract_string({{ json_value }}, '$.{{ field }}')
{%- endmacro %}
{% macro spark__json_text(json_value, field) -%}
    get_json_object({{ json_value }}, '$.{{ field }}')
{%- endmacro %}

{#- A regular expression as a SQL string literal. The pattern is written once, for the
    regex engines (RE2 and Java agree on the constructs the models use); DuckDB keeps
    backslashes in string literals, Spark unescapes them, so its form doubles them:
    '\p{Cf}' means the same on both, never the letter p. -#}
{% macro regex_literal(pattern) -%}
    {{ return(adapter.dispatch('regex_literal')(pattern)) }}
{%- endmacro %}
{% macro duckdb__regex_literal(pattern) -%}
    '{{ pattern }}'
{%- endmacro %}
{% macro spark__regex_literal(pattern) -%}
    '{{ pattern | replace("\\", "\\\\") }}'
{%- endmacro %}

{#- Full match of a regular expression (patterns are anchored; both engines search). -#}
{% macro matches_pattern(expr, pattern) -%}
    {{ return(adapter.dispatch('matches_pattern')(expr, pattern)) }}
{%- endmacro %}
{% macro duckdb__matches_pattern(expr, pattern) -%}
    regexp_matches({{ expr }}, {{ regex_literal(pattern) }})
{%- endmacro %}
{% macro spark__matches_pattern(expr, pattern) -%}
    ({{ expr }} rlike {{ regex_literal(pattern) }})
{%- endmacro %}

{#- Every match of pattern replaced; the replacement names groups as \1 (Spark: $1). -#}
{% macro replace_pattern(expr, pattern, replacement) -%}
    {{ return(adapter.dispatch('replace_pattern')(expr, pattern, replacement)) }}
{%- endmacro %}
{% macro duckdb__replace_pattern(expr, pattern, replacement) -%}
    regexp_replace({{ expr }}, {{ regex_literal(pattern) }}, '{{ replacement }}', 'g')
{%- endmacro %}
{% macro spark__replace_pattern(expr, pattern, replacement) -%}
    regexp_replace({{ expr }}, {{ regex_literal(pattern) }}, '{{ modules.re.sub("\\\\([0-9])", "$\\1", replacement) }}')
{%- endmacro %}

{#- One row per match of pattern in expr (a generator in a select list: no other
    generator beside it). -#}
{% macro each_match(expr, pattern) -%}
    {{ return(adapter.dispatch('each_match')(expr, pattern)) }}
{%- endmacro %}
{% macro duckdb__each_match(expr, pattern) -%}
    unnest(regexp_extract_all({{ expr }}, {{ regex_literal(pattern) }}))
{%- endmacro %}
{% macro spark__each_match(expr, pattern) -%}
    explode(regexp_extract_all({{ expr }}, {{ regex_literal(pattern) }}, 0))
{%- endmacro %}

{#- An ISO 8601 instant delivered as text (already matched by iso_timestamp_pattern and
    upper-cased) as an instant, null when it is not a real one. ISO 8601 allows a decimal
    comma, which neither engine's cast reads: both write it as a point first. Spark does
    not parse HH:MM without seconds nor an offset without its colon (+0200), so its form
    writes both out too: an opt_out honoured on one engine is honoured on the other. The
    gates' and the withdrawal's reading: privacy_pipeline.contract.instant_sql. -#}
{% macro parse_instant(text) -%}
    {{ return(adapter.dispatch('parse_instant')(text)) }}
{%- endmacro %}
{% macro duckdb__parse_instant(text) -%}
    try_cast(replace({{ text }}, ',', '.') as timestamptz)
{%- endmacro %}
{% macro spark__parse_instant(text) -%}
    try_cast(
        regexp_replace(
            regexp_replace(
                replace({{ text }}, ',', '.'),
                '^([0-9-]{10}[T ][0-9]{2}:[0-9]{2})([^:0-9])', '$1:00$2'),
            '([+-][0-9]{2})([0-9]{2})$', '$1:$2')
        as timestamp)
{%- endmacro %}

{#- The character of a Unicode code point (Spark's chr() takes the code modulo 256). -#}
{% macro unicode_character(code_point) -%}
    {{ return(adapter.dispatch('unicode_character')(code_point)) }}
{%- endmacro %}
{% macro duckdb__unicode_character(code_point) -%}
    chr({{ code_point }})
{%- endmacro %}
{% macro spark__unicode_character(code_point) -%}
    format_string('%c', {{ code_point }})
{%- endmacro %}
