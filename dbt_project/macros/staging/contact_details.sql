{#- Phone numbers and e-mail addresses inside text (docs/data-contract.md, "Quarantine").

    mask_contact_details(expr, free_text): the text with every e-mail address replaced by
    [e-mail] and every phone number by [phone], the rest of the sentence kept.
    - A phone number is a run of digits that starts like one, international (+ or 00, then
      1-9) or national (0, then 1-9), then at least 6 more digits, with up to two
      separators (space . / ( ) -) between digits: the shapes the personal-data gate looks
      for, and longer. A run is masked to its end, so no tail of digits is left behind.
    - free_text (columns of kind text): also any run of 9 or more digits, a number written
      without its prefix (32 470 12 34 56, 470 12 34 56). Not for ids: a long customer
      number is not a phone number, and the DPO needs it.
    - An e-mail address is any word holding an @ (without brackets or trailing punctuation).
    has_contact_details(expr, free_text): the text holds one of them (masking changes it).
    The one definition of both, used for the DPO's quarantine and for the columns that are
    published as delivered (contract: published).
-#}
{% macro contact_detail_patterns() -%}
    {{ return({
        'email': '[^\\t\\n\\f\\r <>()\\[\\],;:]*@[^\\t\\n\\f\\r <>()\\[\\],;:]*[^\\t\\n\\f\\r <>()\\[\\],;:.!?]',
        'international': '(^|[^0-9A-Za-z+])([+]|00)[1-9]([ ./()-]{0,2}[0-9]){6,}',
        'national': '(^|[^0-9A-Za-z+])0[1-9]([ ./()-]{0,2}[0-9]){6,}',
        'digit_run': '(^|[^0-9A-Za-z+])[0-9]([ ./()-]{0,2}[0-9]){8,}',
    }) }}
{%- endmacro %}

{% macro mask_contact_details(expr, free_text=false) -%}
    {%- set patterns = contact_detail_patterns() -%}
    {#- \s is written out as the characters RE2 gives it (tab, newline, form feed,
        carriage return, space): Java's \s also takes the vertical tab. -#}
    {%- set masked = replace_pattern(
        replace_pattern(
            replace_pattern(expr, patterns.email, '[e-mail]'),
            patterns.international, '\\1[phone]'),
        patterns.national, '\\1[phone]') -%}
    {%- if free_text -%}
        {{ replace_pattern(masked, patterns.digit_run, '\\1[phone]') }}
    {%- else -%}
        {{ masked }}
    {%- endif -%}
{%- endmacro %}

{% macro has_contact_details(expr, free_text=false) -%}
    ({{ mask_contact_details(expr, free_text) }} <> {{ expr }})
{%- endmacro %}

{#- A phone number as the digits of its international form (0032.. and 0.. -> 32..), as
    the personal-data gate compares numbers (landing_facts.digits). -#}
{% macro phone_digits(expr) -%}
    {%- set only_digits = replace_pattern('cast(' ~ expr ~ ' as ' ~ dbt.type_string() ~ ')', '[^0-9]', '') -%}
    case
        when {{ only_digits }} like '00%' then substr({{ only_digits }}, 3)
        when {{ only_digits }} like '0%' then concat('32', substr({{ only_digits }}, 2))
        else {{ only_digits }}
    end
{%- endmacro %}

{#- True when a published value (id or area name) is a phone number delivered in the
    landing zone (model stg_network__published_phone_numbers). -#}
{% macro is_delivered_phone_number(column) -%}
    {{ return(adapter.dispatch('is_delivered_phone_number')(column)) }}
{%- endmacro %}
{% macro duckdb__is_delivered_phone_number(column) -%}
    coalesce(cast({{ column }} as {{ dbt.type_string() }}) in (select phone.published_value from {{ ref('stg_network__published_phone_numbers') }} as phone), false)
{%- endmacro %}
{#- Spark allows no IN subquery in a select list (as macro is_erased_customer). -#}
{% macro spark__is_delivered_phone_number(column) -%}
    exists (select 1 from {{ ref('stg_network__published_phone_numbers') }} as phone where phone.published_value = cast({{ column }} as {{ dbt.type_string() }}))
{%- endmacro %}
