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
        'email': '[^\\s<>()\\[\\],;:]*@[^\\s<>()\\[\\],;:]*[^\\s<>()\\[\\],;:.!?]',
        'international': '(^|[^0-9A-Za-z+])(\\+|00)[1-9]([ ./()-]{0,2}[0-9]){6,}',
        'national': '(^|[^0-9A-Za-z+])0[1-9]([ ./()-]{0,2}[0-9]){6,}',
        'digit_run': '(^|[^0-9A-Za-z+])[0-9]([ ./()-]{0,2}[0-9]){8,}',
    }) }}
{%- endmacro %}

{% macro mask_contact_details(expr, free_text=false) -%}
    {%- set patterns = contact_detail_patterns() -%}
    {%- set masked -%}
    regexp_replace(
        regexp_replace(
            regexp_replace({{ expr }}, '{{ patterns.email }}', '[e-mail]', 'g'),
            '{{ patterns.international }}', '\1[phone]', 'g'
        ),
        '{{ patterns.national }}', '\1[phone]', 'g'
    )
    {%- endset -%}
    {%- if free_text -%}
        regexp_replace({{ masked }}, '{{ patterns.digit_run }}', '\1[phone]', 'g')
    {%- else -%}
        {{ masked }}
    {%- endif -%}
{%- endmacro %}

{% macro has_contact_details(expr, free_text=false) -%}
    ({{ mask_contact_details(expr, free_text) }} <> {{ expr }})
{%- endmacro %}
