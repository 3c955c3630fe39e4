{#- Erasure (docs/dpo.md): a customer who asked for erasure is excluded in staging from the
    run whose date the request was received by, and in every later run. The list is the
    model stg_rights__erased_customers (tonight's requests and the durable register). -#}

{#- True when the (typed) customer id belongs to an erased customer. -#}
{% macro is_erased_customer(column) -%}
    {{ return(adapter.dispatch('is_erased_customer')(column)) }}
{%- endmacro %}
{% macro duckdb__is_erased_customer(column) -%}
    coalesce({{ column }} in (select erased.customer_id from {{ ref('stg_rights__erased_customers') }} as erased), false)
{%- endmacro %}
{#- Spark allows no IN subquery in a select list; a correlated EXISTS means the same here
    (customer_id is never null among the erased). -#}
{% macro spark__is_erased_customer(column) -%}
    exists (select 1 from {{ ref('stg_rights__erased_customers') }} as erased where erased.customer_id = {{ column }})
{%- endmacro %}

{#- A value kept only when the row is not an erased customer's (then null). -#}
{% macro unless_erased(expression, applies=true) -%}
    {%- if applies -%}
    case when rejection_reason = 'erased_customer' then null else {{ expression }} end
    {%- else -%}
    {{ expression }}
    {%- endif -%}
{%- endmacro %}

{#- The letter's addresses for exercising one's rights (section 4): Scarlet's while the
    account is not migrated, Proximus' once it is. -#}
{% macro rights_address(platform) -%}
    {{- {'scarlet': 'privacy@scarlet.be', 'proximus': 'privacy@proximus.com'}[platform] -}}
{%- endmacro %}

{#- Any channel in Proximus' policy: its privacy address, or any other Proximus mailbox,
    form, shop or app (a value naming proximus). -#}
{% macro is_proximus_channel(expr) -%}
    ({{ expr }} = '{{ rights_address("proximus") }}' or {{ expr }} like '%proximus%')
{%- endmacro %}
