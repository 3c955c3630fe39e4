-- One row per known customer and purpose for the run date D: may the purpose be processed?
-- A purpose is allowed only if the account is open and on the Proximus platform at the end
-- of D, the purpose was allowed at the end of D, and it is still allowed in the latest
-- state of the ledger (a refusal recorded after D is honoured; a consent recorded after D
-- is never back-dated). `reason` names the rule that decided.

with

run_day as (
    select
        run_date,
        ends_at
    from {{ ref('int_consent__run_day') }}
),

customers as (
    select
        customer_id,
        brand,
        created_at,
        migrated_at,
        closed_at
    from {{ ref('stg_crm__customers') }}
),

purposes as (
    select
        purpose,
        basis,
        is_allowed_by_default
    from {{ ref('int_consent__purposes') }}
),

ledger_states as (
    select
        history.customer_id,
        history.purpose,
        history.version_number,
        history.basis,
        -- null: the purpose's default (no choice yet, or one the rules do not accept).
        history.applied_choice as choice,
        history.recorded_at,
        history.event_id,
        -- A quarantined refusal without a readable time counts from now on, not for D.
        coalesce(history.recorded_at < run_day.ends_at, false) as is_known_at_end_of_run_date
    from {{ ref('int_consent__history') }} as history
    cross join run_day
    where history.sets_state
),

-- Latest state recorded before the end of D, and latest state of all.
ranked_versions as (
    select
        customer_id,
        purpose,
        choice,
        event_id,
        is_known_at_end_of_run_date,
        row_number() over (
            partition by customer_id, purpose
            order by version_number desc
        ) as recency_rank,
        row_number() over (
            partition by customer_id, purpose, is_known_at_end_of_run_date
            order by version_number desc
        ) as recency_rank_in_period
    from ledger_states
),

choices_per_purpose as (
    select
        customer_id,
        purpose,
        max(case when is_known_at_end_of_run_date and recency_rank_in_period = 1 then choice end)
            as choice_at_end_of_run_date,
        max(case when is_known_at_end_of_run_date and recency_rank_in_period = 1 then event_id end)
            as event_id_at_end_of_run_date,
        max(case when recency_rank = 1 then choice end) as latest_choice,
        max(case when recency_rank = 1 then event_id end) as latest_event_id
    from ranked_versions
    group by customer_id, purpose
),

-- Start of the allowed period in force at the end of D: the first consent after the last
-- refusal, or consent that did not count (known at the end of D). Signals older than that
-- are not used.
last_interruptions as (
    select
        customer_id,
        purpose,
        max(version_number) as last_interruption_version_number
    from ledger_states
    where
        is_known_at_end_of_run_date
        and (choice = 'opt_out' or (choice is null and basis = 'consent'))
    group by customer_id, purpose
),

allowed_periods as (
    select
        ledger_states.customer_id,
        ledger_states.purpose,
        min(ledger_states.recorded_at) as consent_since,
        max(last_interruptions.last_interruption_version_number) as last_interruption_version_number
    from ledger_states
    left join last_interruptions
        on
            ledger_states.customer_id = last_interruptions.customer_id
            and ledger_states.purpose = last_interruptions.purpose
    where
        ledger_states.is_known_at_end_of_run_date
        and ledger_states.choice = 'opt_in'
        and (
            last_interruptions.last_interruption_version_number is null
            or ledger_states.version_number > last_interruptions.last_interruption_version_number
        )
    group by ledger_states.customer_id, ledger_states.purpose
),

customer_purposes as (
    select
        customers.customer_id,
        customers.brand,
        customers.created_at,
        customers.migrated_at,
        customers.closed_at,
        purposes.purpose,
        purposes.basis,
        purposes.is_allowed_by_default,
        run_day.run_date,
        run_day.ends_at,
        choices_per_purpose.choice_at_end_of_run_date,
        choices_per_purpose.event_id_at_end_of_run_date,
        choices_per_purpose.latest_choice,
        choices_per_purpose.latest_event_id,
        coalesce(choices_per_purpose.choice_at_end_of_run_date = 'opt_in', purposes.is_allowed_by_default)
            as is_allowed_at_end_of_run_date,
        coalesce(choices_per_purpose.latest_choice = 'opt_in', purposes.is_allowed_by_default)
            as is_allowed_in_latest_state,
        -- Objection-based purposes allowed by default have no start, unless an objection
        -- was withdrawn; consent-based purposes start at the consent.
        case
            when purposes.basis = 'consent' or allowed_periods.last_interruption_version_number is not null
                then allowed_periods.consent_since
        end as allowed_since_choice
    from customers
    cross join purposes
    cross join run_day
    left join choices_per_purpose
        on
            customers.customer_id = choices_per_purpose.customer_id
            and purposes.purpose = choices_per_purpose.purpose
    left join allowed_periods
        on
            customers.customer_id = allowed_periods.customer_id
            and purposes.purpose = allowed_periods.purpose
),

decisions as (
    select
        *,
        case
            when closed_at is not null and closed_at < ends_at then 'account_closed'
            when created_at >= ends_at then 'account_not_yet_open'
            when brand = 'scarlet' and (migrated_at is null or migrated_at >= ends_at)
                then 'not_migrated'
            when not is_allowed_at_end_of_run_date and latest_choice = 'opt_in'
                then 'opted_in_after_run_date'
            when not is_allowed_at_end_of_run_date and choice_at_end_of_run_date = 'opt_out'
                then 'opted_out'
            when not is_allowed_at_end_of_run_date then 'no_consent'
            when not is_allowed_in_latest_state then 'opted_out_after_run_date'
            when choice_at_end_of_run_date = 'opt_in' then 'opted_in'
            else 'no_objection'
        end as reason
    from customer_purposes
)

select
    run_date,
    customer_id,
    purpose,
    basis,
    reason,
    choice_at_end_of_run_date,
    event_id_at_end_of_run_date,
    latest_choice,
    latest_event_id,
    reason in ('opted_in', 'no_objection') as is_allowed,
    -- Processing for the purpose has been allowed without interruption since this instant
    -- (null: always). A Scarlet account's new processing starts at its migration.
    case
        when reason not in ('opted_in', 'no_objection') then null
        when brand <> 'scarlet' then allowed_since_choice
        when allowed_since_choice is null or allowed_since_choice < migrated_at then migrated_at
        else allowed_since_choice
    end as allowed_since
from decisions
