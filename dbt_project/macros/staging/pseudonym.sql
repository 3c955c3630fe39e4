{#- Pseudonymisation of direct identifiers (msisdn, called numbers).

    pseudonym(expr): HMAC-SHA256, hex, of the trimmed value keyed with
    PRIVACY_PIPELINE_PSEUDONYM_KEY; null stays null. DuckDB has no HMAC function, so it
    is written out from its definition, H((K ^ opad) || H((K ^ ipad) || value)), with the
    two padded keys in the DuckDB variables pseudonym_inner_key and pseudonym_outer_key,
    set by the dbt-duckdb plugin privacy_pipeline.dbt_pseudonym_key: the key never appears
    in compiled SQL or logs. A run without them fails instead of writing unkeyed hashes.
    The same value always gives the same pseudonym, so joins on pseudonyms work; Python's
    privacy_pipeline.pseudonyms.pseudonym gives the same value.
    Spark (4.3+): hmac() keyed with the session variable pseudonym_key, set by
    privacy_pipeline.spark_engine with a bound parameter; unset, the run fails.
    (Trino: hmac_sha256.)
-#}
{% macro pseudonym(expr) -%}
    {{ return(adapter.dispatch('pseudonym')(expr)) }}
{%- endmacro %}

{% macro spark__pseudonym(expr) -%}
    case when {{ expr }} is not null then lower(hex(hmac(system.session.pseudonym_key, encode({{ expr }}, 'UTF-8')))) end
{%- endmacro %}

{% macro duckdb__pseudonym(expr) -%}
    {%- set missing = "error('pseudonym keys are not set: run dbt through privacy-pipeline')" -%}
    case when {{ expr }} is not null then sha256(
        coalesce(getvariable('pseudonym_outer_key'), {{ missing }})
        || unhex(sha256(coalesce(getvariable('pseudonym_inner_key'), {{ missing }}) || encode({{ expr }})))
    ) end
{%- endmacro %}

{#- A called number as dialled, without spaces and separators: "+32 2 123.45.67" and
    "+3221234567" are the same number and get the same pseudonym. -#}
{% macro normalised_phone_number(expr) -%}
    nullif({{ replace_pattern(expr, '[\\t\\n\\f\\r ./()-]', '') }}, '')
{%- endmacro %}

{#- For the quarantine's row_data: a value that is an e-mail address or a phone number
    (+ or 0 then 7 to 14 digits, separators ignored) is replaced by its pseudonym, whatever
    its column (a malformed row may hold an identifier in the wrong column); any other value
    has the phone numbers and e-mail addresses inside it masked span by span (free_text: a
    column of kind text, see mask_contact_details). -#}
{% macro mask_identifier_like(expr, free_text=false) -%}
    case
        when {{ matches_pattern('trim(' ~ expr ~ ')', '^[^\\t\\n\\f\\r ]+@[^\\t\\n\\f\\r ]+$') }}
            or {{ matches_pattern(normalised_phone_number(expr), '^([+]|0)[0-9]{7,14}$') }}
            then 'pseudonym:' || {{ pseudonym(expr) }}
        else {{ mask_contact_details(expr, free_text) }}
    end
{%- endmacro %}
