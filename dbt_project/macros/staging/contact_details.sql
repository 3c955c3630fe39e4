{#- Phone numbers and e-mail addresses inside free text (docs/data-contract.md).

    mask_contact_details(expr): the text with every e-mail address replaced by [e-mail]
    and every phone number by [phone], the rest of the sentence kept. A phone number is a
    run of digits that starts like one, international (+ or 00, then 1-9) or national
    (0, then 1-9), then at least 6 more digits, with up to two separators (space . / ( ) -)
    between digits: the shapes the personal-data gate looks for, and longer. A run that
    starts like a number is masked to its end, so no tail of digits is left behind.
    An e-mail address is any word holding an @ (without brackets or trailing punctuation).
    has_contact_details(expr): the text holds one of them (masking would change it).
    The one definition of both, used for the DPO's quarantine and for the free-text
    columns that are published as they are (contract: published).
-#}
{% macro contact_detail_patterns() -%}
    {{ return({
        'email': '[^\\s<>()\\[\\],;:]*@[^\\s<>()\\[\\],;:]*[^\\s<>()\\[\\],;:.!?]',
        'international': '(^|[^0-9A-Za-z+])(\\+|00)[1-9]([ ./()-]{0,2}[0-9]){6,}',
        'national': '(^|[^0-9A-Za-z+])0[1-9]([ ./()-]{0,2}[0-9]){6,}',
    }) }}
{%- endmacro %}

{% macro mask_contact_details(expr) -%}
    {%- set patterns = contact_detail_patterns() -%}
    regexp_replace(
        regexp_replace(
            regexp_replace({{ expr }}, '{{ patterns.email }}', '[e-mail]', 'g'),
            '{{ patterns.international }}', '\1[phone]', 'g'
        ),
        '{{ patterns.national }}', '\1[phone]', 'g'
    )
{%- endmacro %}

{% macro has_contact_details(expr) -%}
    ({{ mask_contact_details(expr) }} <> {{ expr }})
{%- endmacro %}
