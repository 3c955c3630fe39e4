-- Members of the marketing segments defined in config/pipeline.yml (segments:), for the
-- run date. Every segment holds only customers who may receive direct marketing on D;
-- a segment may further require an interest score (interest, min_score, default
-- scoring.interest_min_score) and more allowed purposes (requires_consent).
{%- set segments = var('segments') %}
{%- if not segments %}
    {{ exceptions.raise_compiler_error('config/pipeline.yml: segments must define at least one segment') }}
{%- endif %}
{%- set definition_rows = [] %}
{%- set required_purpose_rows = [] %}
{%- for name, definition in segments.items() %}
    {%- if not modules.re.fullmatch('[a-z][a-z0-9_]*', name) %}
        {{ exceptions.raise_compiler_error('config/pipeline.yml: segment name ' ~ name ~ ' must be lower_snake_case') }}
    {%- endif %}
    {%- set definition = definition or {} %}
    {%- set interest = definition.get('interest') %}
    {%- do definition_rows.append([
        name,
        interest | lower if interest else none,
        definition.get('min_score', var('scoring')['interest_min_score']) if interest else none
    ]) %}
    {%- for purpose in definition.get('requires_consent') or [] %}
        {%- do required_purpose_rows.append([name, purpose]) %}
    {%- endfor %}
{%- endfor %}

with

run_day as (
    select run_date
    from {{ ref('int_consent__run_day') }}
),

segment_definitions as (
    {{ config_table(
        [('segment', 'text'), ('interest', 'text'), ('min_score', 'number')],
        definition_rows, 'segments'
    ) }}
),

segment_required_purposes as (
    {{ config_table([('segment', 'text'), ('purpose', 'text')], required_purpose_rows, 'segments.requires_consent') }}
),

marketable_customers as (
    select customer_id
    from {{ ref('int_marketing__marketable_customers') }}
),

allowed_purposes as (
    select
        customer_id,
        purpose
    from {{ ref('int_consent__effective') }}
    where is_allowed
),

interests as (
    select
        customer_id,
        interest,
        score
    from {{ ref('customer_interests') }}
),

candidates as (
    select
        segment_definitions.segment,
        marketable_customers.customer_id
    from segment_definitions
    cross join marketable_customers
    left join interests
        on
            marketable_customers.customer_id = interests.customer_id
            and segment_definitions.interest = interests.interest
            and segment_definitions.min_score <= interests.score
    where segment_definitions.interest is null or interests.customer_id is not null
),

-- A customer missing one of the segment's required purposes is not a member.
missing_purposes as (
    select distinct
        candidates.segment,
        candidates.customer_id
    from candidates
    inner join segment_required_purposes
        on candidates.segment = segment_required_purposes.segment
    left join allowed_purposes
        on
            candidates.customer_id = allowed_purposes.customer_id
            and segment_required_purposes.purpose = allowed_purposes.purpose
    where allowed_purposes.customer_id is null
),

members as (
    select
        candidates.segment,
        candidates.customer_id
    from candidates
    left join missing_purposes
        on
            candidates.segment = missing_purposes.segment
            and candidates.customer_id = missing_purposes.customer_id
    where missing_purposes.customer_id is null
)

select
    members.segment,
    members.customer_id,
    run_day.run_date
from members
cross join run_day
