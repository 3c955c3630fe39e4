-- Declared signals: what customers told Proximus in surveys and contests organised by
-- Proximus (a contest with a partner_id is a partner's), as points per interest
-- (config: scoring.declared). Only customers who may receive direct marketing,
-- only what they declared before the end of D and while profiling was allowed.
-- A customer's latest answer to a question replaces the earlier ones.
{%- set declared = var('scoring')['declared'] %}
{%- set answers = declared['survey_answers'] %}
{%- set path = 'scoring.declared.survey_answers.' %}
{%- set count_points_per_unit = config_number(answers['count']['points_per_unit'], path ~ 'count.points_per_unit') %}
{%- set count_max_points = config_number(answers['count']['max_points'], path ~ 'count.max_points') %}
{%- set points_if_yes = config_number(answers['yes_no']['points_if_yes'], path ~ 'yes_no.points_if_yes') %}
{%- set max_count = plausible_limit('survey_count_answer') %}
{%- set rating_points_per_step = config_number(answers['rating_1_5']['points_per_step'], path ~ 'rating_1_5.points_per_step') %}

with

marketable_customers as (
    select
        customer_id,
        profiling_since
    from {{ ref('int_marketing__marketable_customers') }}
),

run_day as (
    select ends_at
    from {{ ref('int_consent__run_day') }}
),

questions as (
    select
        question_id,
        answer_kind,
        lower(trim(interest)) as interest
    from {{ ref('stg_engagement__survey_questions') }}
),

answers_in_window as (
    select
        responses.response_id,
        responses.customer_id,
        responses.question_id,
        responses.answered_at,
        lower(trim(responses.answer)) as answer
    from {{ ref('stg_engagement__survey_responses') }} as responses
    inner join marketable_customers
        on responses.customer_id = marketable_customers.customer_id
    cross join run_day
    where
        responses.answered_at < run_day.ends_at
        and (
            marketable_customers.profiling_since is null
            or responses.answered_at >= marketable_customers.profiling_since
        )
),

ranked_answers as (
    select
        *,
        row_number() over (
            partition by customer_id, question_id
            order by answered_at desc, response_id desc
        ) as answer_rank
    from answers_in_window
),

latest_answers as (
    select
        ranked_answers.customer_id,
        questions.interest,
        questions.answer_kind,
        ranked_answers.answer,
        ranked_answers.answered_at,
        -- Bounded before it is multiplied (staging already quarantines larger counts); a
        -- case, not least(), which would turn an unparseable (null) answer into the bound.
        cast(case
            when {{ text_to_bigint('ranked_answers.answer') }} > {{ max_count }} then {{ max_count }}
            else {{ text_to_bigint('ranked_answers.answer') }}
        end as double) as answer_number
    from ranked_answers
    inner join questions
        on ranked_answers.question_id = questions.question_id
    where ranked_answers.answer_rank = 1
),

-- An answer that does not fit its kind (not a number, negative, rating outside 1..5)
-- gives no points rather than odd ones. answer_number is bounded and a double, so no
-- answer can overflow the product.
answer_points as (
    select
        customer_id,
        interest,
        'survey_answer' as signal_source,
        {{ local_date('answered_at') }} as signal_day,
        case
            when answer_kind = 'count' and answer_number >= 0
                then least({{ count_max_points }}, {{ count_points_per_unit }} * answer_number)
            when answer_kind = 'yes_no' and answer in ('yes', 'y', 'true')
                then {{ points_if_yes }}
            when answer_kind = 'rating_1_5' and answer_number between 1 and 5
                then {{ rating_points_per_step }} * (answer_number - 1)
        end as points
    from latest_answers
),

contest_points as (
    select
        entries.customer_id,
        lower(trim(contests.theme)) as interest,
        'contest_entry' as signal_source,
        {{ local_date('entries.entered_at') }} as signal_day,
        {{ config_number(declared['contest_entry_points'], 'scoring.declared.contest_entry_points') }} as points
    from {{ ref('stg_engagement__contest_entries') }} as entries
    inner join marketable_customers
        on entries.customer_id = marketable_customers.customer_id
    inner join {{ ref('stg_engagement__contests') }} as contests
        on entries.contest_id = contests.contest_id
    cross join run_day
    where
        -- Only contests organised by Proximus: a partner's contest (partner_id) never does.
        contests.partner_id is null
        and entries.entered_at < run_day.ends_at
        and (
            marketable_customers.profiling_since is null
            or entries.entered_at >= marketable_customers.profiling_since
        )
)

select
    customer_id,
    interest,
    signal_source,
    signal_day,
    points
from answer_points
where points > 0

union all

select
    customer_id,
    interest,
    signal_source,
    signal_day,
    points
from contest_points
