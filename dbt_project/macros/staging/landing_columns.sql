{#- Typing and validation of landing columns, driven by the landing contract.

    The contract (tables, columns, kinds, enums, keys) is defined once in Python
    (privacy_pipeline/contract.py) and handed to dbt as var('landing_contract').
    A landing view holds text for CSV and the producer's types for Parquet; these macros
    look at the physical type (at run time) so that typed Parquet columns are used as they
    are and text is parsed and checked. See docs/data-contract.md for the reason codes.
-#}

{% macro contract_table(table_name) -%}
    {{ return(var('landing_contract')[table_name]) }}
{%- endmacro %}

{#- Column name -> physical type (upper case) of a landing view; {} while parsing. -#}
{% macro landing_physical_types(relation) -%}
    {%- set types = {} -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- do types.update({column.name | lower: column.dtype | upper}) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(types) }}
{%- endmacro %}

{% macro is_text_type(physical) -%}
    {{ return(physical in ('', 'VARCHAR', 'TEXT', 'STRING')) }}
{%- endmacro %}

{#- ISO 8601 date-time with an offset or Z; a value without offset is malformed, and so is
    an offset no place on Earth has: beyond +-14:00, or with minutes of 60 or more. -#}
{% macro iso_timestamp_pattern() -%}
    ^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]{1,9})?)?(Z|[+-](0[0-9]|1[0-3])(:?[0-5][0-9])?|[+-]14(:?00)?)$
{%- endmacro %}

{#- The instant the run processes its input (written by the loader): a delivered instant
    after it cannot be true. A table read at run time, so dbt's parse stays valid. -#}
{% macro processing_instant() -%}
    (select processed_at from {{ source('landing_load', 'run_context') }})
{%- endmacro %}

{#- The value as delivered: trimmed text (empty = null) or the typed Parquet value. -#}
{% macro raw_value(column_name, physical) -%}
    {%- if is_text_type(physical) -%}
        nullif(trim({{ adapter.quote(column_name) }}), '')
    {%- else -%}
        {{ adapter.quote(column_name) }}
    {%- endif -%}
{%- endmacro %}

{#- The typed value, null when the delivered value does not parse or is not allowed. -#}
{% macro typed_value(column_name, spec, physical) -%}
    {%- set raw = raw_value(column_name, physical) -%}
    {%- set text = is_text_type(physical) -%}
    {%- if spec.kind in ('text', 'id') -%}
        {%- set as_text %}{% if text %}{{ raw }}{% else %}cast({{ raw }} as {{ dbt.type_string() }}){% endif %}{% endset -%}
        {#- a published text (an area name) in NFC: one spelling per area -#}
        {%- if spec.kind == 'text' and spec.published %}{{ nfc_normalized(as_text) }}{% else %}{{ as_text }}{% endif -%}
    {%- elif spec.kind == 'enum' -%}
        {%- set values %}{% for value in spec['values'] %}'{{ value }}'{% if not loop.last %}, {% endif %}{% endfor %}{% endset -%}
        {#- the exact value first: the normalisation runs only for the rare other spellings;
            then the value with the same letters and digits (OptOut is opt_out:
            privacy_pipeline.vocabulary.enum_term) -#}
        case
            when {{ raw }} in ({{ values }}) then {{ raw }}
            when {{ normalised_term(raw) }} in ({{ values }}) then {{ normalised_term(raw) }}
            else case {{ replace_pattern(normalised_term(raw), '[^0-9a-z]', '') }}
                {%- for value in spec['values'] %} when '{{ value | replace('_', '') }}' then '{{ value }}'{% endfor %} end
        end
    {%- elif spec.kind == 'interest' -%}
        case when {{ is_interest_term(normalised_term(raw)) }} then {{ normalised_term(raw) }} end
    {%- elif spec.kind == 'timestamp' -%}
        {%- if text -%}
            case when {{ matches_pattern('upper(' ~ raw ~ ')', iso_timestamp_pattern()) }} then {{ parse_instant('upper(' ~ raw ~ ')') }} end
        {%- else -%}
            {{ raw }}
        {%- endif -%}
    {%- elif spec.kind == 'integer' -%}
        {%- if text -%}
            case when {{ matches_pattern(raw, '^[+-]?[0-9]{1,18}$') }} then cast({{ raw }} as bigint) end
        {%- elif 'INT' in physical -%}
            try_cast({{ raw }} as bigint)
        {%- else -%}
            {#- a float or decimal column (pandas writes integers with nulls as floats): whole values only -#}
            case when {{ is_finite('cast(' ~ raw ~ ' as double)') }} and {{ raw }} = floor({{ raw }}) then try_cast({{ raw }} as bigint) end
        {%- endif -%}
    {%- elif spec.kind == 'double' -%}
        {%- if text -%}
            case when {{ is_finite('try_cast(' ~ raw ~ ' as double)') }} then try_cast({{ raw }} as double) end
        {%- else -%}
            case when {{ is_finite('cast(' ~ raw ~ ' as double)') }} then cast({{ raw }} as double) end
        {%- endif -%}
    {%- elif spec.kind == 'msisdn' -%}
        case when {{ matches_pattern(raw, '^[+][1-9][0-9]{1,14}$') }} then {{ raw }} end
    {%- elif spec.kind == 'postal_code' -%}
        {%- if text -%}
            case when {{ matches_pattern(raw, '^[0-9]{4}$') }} then {{ raw }} end
        {%- else -%}
            case when {{ raw }} between 1000 and 9999 then cast({{ raw }} as {{ dbt.type_string() }}) end
        {%- endif -%}
    {%- else -%}
        {{ exceptions.raise_compiler_error("unknown contract kind " ~ spec.kind ~ " of " ~ column_name) }}
    {%- endif -%}
{%- endmacro %}

{#- Reason code when a delivered value does not parse, per contract kind. -#}
{% macro unparseable_reason(kind) -%}
    {{ return({
        'enum': 'unknown_enum',
        'interest': 'invalid_interest',
        'timestamp': 'unparseable_timestamp',
        'integer': 'invalid_integer',
        'double': 'invalid_number',
        'msisdn': 'invalid_msisdn',
        'postal_code': 'invalid_postal_code',
    }.get(kind)) }}
{%- endmacro %}

{#- Select-list of the typed columns <name> and delivered values <name>__raw. -#}
{% macro landing_typed_columns(table_name, physical_types, except=[]) -%}
    {%- set contract = contract_table(table_name) -%}
    {%- for column_name, spec in contract.columns.items() if column_name not in except %}
        {{ typed_value(column_name, spec, physical_types.get(column_name, '')) }} as {{ column_name }},
        {{ raw_value(column_name, physical_types.get(column_name, '')) }} as {{ column_name }}__raw,
    {%- endfor %}
        _source_file,
        _source_row
{%- endmacro %}

{#- "when ... then 'reason'" clauses for the row-level checks of every column, in contract order.
    A column published as delivered (contract: published) must hold no phone number or
    e-mail address: one bad row is quarantined rather than failing the gate every night.
    A published text (an area name) must hold no control character: chr(31) separates the
    parts of a location figure's key, and a tab or newline breaks a recipient's CSV.
    An identifier must be in the safe format (macro is_safe_identifier), except the columns
    in lenient_identifiers, which the model resolves itself (a refusal's customer number). -#}
{% macro row_problem_clauses(table_name, except=[], lenient_identifiers=[]) -%}
    {%- set contract = contract_table(table_name) -%}
    {%- for column_name, spec in contract.columns.items() if column_name not in except %}
        {%- if spec.required %}
            when {{ column_name }}__raw is null then 'missing_value:{{ column_name }}'
        {%- endif %}
        {%- if unparseable_reason(spec.kind) %}
            when {{ column_name }}__raw is not null and {{ column_name }} is null then '{{ unparseable_reason(spec.kind) }}:{{ column_name }}'
        {%- endif %}
        {%- if spec.get('past_only') %}
            when {{ column_name }} > {{ processing_instant() }} then 'future_timestamp:{{ column_name }}'
        {%- endif %}
        {%- if spec.published and spec.kind == 'text' %}
            when {{ column_name }} is not null and {{ matches_pattern(column_name, '\\p{Cc}') }} then 'control_character:{{ column_name }}'
        {%- endif %}
        {%- if spec.published %}
            when {{ column_name }} is not null and {{ has_contact_details(column_name, spec.kind == 'text') }} then 'contact_details:{{ column_name }}'
        {%- if spec.kind in ('id', 'text') %}
            when {{ column_name }} is not null and {{ is_delivered_phone_number(column_name) }} then 'contact_details:{{ column_name }}'
        {%- endif %}
        {%- endif %}
        {%- if spec.kind == 'id' and column_name not in lenient_identifiers %}
            when {{ column_name }}__raw is not null and not {{ is_safe_identifier('cast(' ~ column_name ~ '__raw as ' ~ dbt.type_string() ~ ')') }} then 'invalid_identifier:{{ column_name }}'
        {%- endif %}
    {%- endfor %}
{%- endmacro %}

{#- A text fingerprint of a row's content: the typed value where it parsed, else the
    delivered value (marked), so two deliveries differ only if their content differs.
    Instants enter as microseconds since the epoch: the same equality as the timestamps,
    without formatting them in a time zone (a fifth of the staging time of 10M rows). -#}
{% macro row_fingerprint(table_name, except=[]) -%}
    {%- set contract = contract_table(table_name) -%}
    md5(concat(
    {%- for column_name, spec in contract.columns.items() if column_name not in except %}
        {%- set typed = epoch_microseconds(column_name) if spec.kind == 'timestamp' else column_name %}
        coalesce(cast({{ typed }} as {{ dbt.type_string() }}), '~' || cast({{ column_name }}__raw as {{ dbt.type_string() }}), '~'){% if not loop.last %}, chr(31),{% endif %}
    {%- endfor %}
    ))
{%- endmacro %}

{#- The delivered row as JSON text for the DPO's restricted store (docs/data-contract.md):
    - a row of an event table (contract: event_stream) keeps no content at all, only its
      row number in the file (the file and the reason are columns of the quarantine);
    - any other row: full_name and email removed, msisdn and called_number replaced by
      their pseudonyms, every other value masked (mask_identifier_like: a value that is an
      e-mail address or a phone number becomes its pseudonym; one inside a sentence is
      replaced span by span), plus its row number. -#}
{% macro quarantine_row_json(table_name) -%}
    {%- set contract = contract_table(table_name) -%}
    {%- set pairs = ["'row_number'", '_source_row'] -%}
    {%- if not contract.event_stream %}
    {%- for column_name, spec in contract.columns.items() if column_name not in ('full_name', 'email') %}
        {%- if column_name == 'msisdn' %}
            {%- do pairs.extend(["'msisdn_pseudonym'", pseudonym('cast(msisdn__raw as ' ~ dbt.type_string() ~ ')')]) %}
        {%- elif column_name == 'called_number' %}
            {%- do pairs.extend(["'called_number_pseudonym'", pseudonym(normalised_phone_number('cast(called_number__raw as ' ~ dbt.type_string() ~ ')'))]) %}
        {%- else %}
            {%- do pairs.extend(["'" ~ column_name ~ "'", mask_identifier_like('cast(' ~ column_name ~ '__raw as ' ~ dbt.type_string() ~ ')', spec.kind == 'text')]) %}
        {%- endif %}
    {%- endfor %}
    {%- endif %}
    {{- json_record(*pairs) }}
{%- endmacro %}
