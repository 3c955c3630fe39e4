{#- Pseudonymisation of direct identifiers (msisdn, called numbers).

    pseudonym(expr): keyed SHA-256, hex, of the trimmed value; null stays null. The key is
    the DuckDB variable pseudonym_key, set from PRIVACY_PIPELINE_PSEUDONYM_KEY by the
    dbt-duckdb plugin privacy_pipeline.dbt_pseudonym_key, so it never appears in compiled
    SQL or logs. A run without the key fails instead of writing unkeyed hashes.
    The same value always gives the same pseudonym, so joins on pseudonyms work.
-#}
{% macro pseudonym(expr) -%}
    case when {{ expr }} is not null then sha256(
        coalesce(getvariable('pseudonym_key'), error('pseudonym_key is not set: run dbt through privacy-pipeline'))
        || '|' || {{ expr }}
    ) end
{%- endmacro %}

{#- A called number as dialled, without spaces and separators: "+32 2 123.45.67" and
    "+3221234567" are the same number and get the same pseudonym. -#}
{% macro normalised_phone_number(expr) -%}
    nullif(regexp_replace({{ expr }}, '[\s./()-]', '', 'g'), '')
{%- endmacro %}

{#- For the quarantine's row_data: any value that looks like an e-mail address or a phone
    number (+ or 0 then 7 to 14 digits, separators ignored) is replaced by its pseudonym,
    whatever its column: a malformed row may hold an identifier in the wrong column. -#}
{% macro mask_identifier_like(expr) -%}
    case
        when {{ expr }} like '%@%'
            or regexp_matches({{ normalised_phone_number(expr) }}, '^(\+|0)[0-9]{7,14}$')
            then 'pseudonym:' || {{ pseudonym(expr) }}
        else {{ expr }}
    end
{%- endmacro %}
