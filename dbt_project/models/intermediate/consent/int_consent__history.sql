-- Every event of the consent ledger whose customer, purpose and choice can be read (rows
-- staging quarantined included) as a version (SCD2) per customer and purpose: valid from
-- its recorded_at until the next event of the same customer and purpose. Versions are
-- ordered by recorded_at; at the same instant a refusal is ordered after a consent, so the
-- refusal is the one in force ("the refusal wins").
-- is_applied: the rules accept the event's choice; not_applied_reason says why not.
-- sets_state: the event decides the state from its version on: applied events, and for
-- consent-based purposes also consents that do not count (they switch the purpose back
-- off: an older consent never stands in for them). applied_choice: the state it sets,
-- null = the purpose's default. For an objection-based purpose a choice that is not
-- applied leaves the earlier state (an objection is never lifted by an invalid event).
-- "What did we know on date X": the version with valid_from <= X < valid_to.

with

accepted_events as (
    select
        event_id,
        customer_id,
        purpose,
        choice,
        channel,
        platform,
        recorded_at,
        'ledger' as origin
    from {{ ref('stg_consent__privacy_preferences') }}
),

-- Rows staging quarantined for a field other than customer, purpose and choice (channel,
-- platform, event_id, time, a conflicting duplicate). A refusal among them is honoured:
-- ignoring it would harm the customer; one whose time cannot be read is ordered after
-- every other event (honoured from now on). A consent among them never counts. They reach
-- the DPO in dpo.rejected_privacy_events with their staging reason. (Exact duplicates are
-- left out: their first copy is accepted.)
quarantined_events as (
    select
        event_id,
        customer_id,
        purpose,
        choice,
        channel,
        platform,
        -- A time that cannot be true (unreadable, an impossible offset, after the run that
        -- received it): the event counts from when the ledger first received it.
        case
            when recorded_at is null or rejection_reason like 'future_timestamp:%'
                then first_received_at
            else recorded_at
        end as recorded_at,
        'quarantined' as origin
    from {{ ref('base_consent__privacy_preferences') }}
    where
        rejection_reason is not null
        and rejection_reason <> 'exact_duplicate'
        and choice is not null
        and customer_id is not null
        and purpose is not null
),

ledger as (
    select * from accepted_events
    union all
    select * from quarantined_events
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
        basis
    from {{ ref('int_consent__purposes') }}
),

classified_events as (
    select
        ledger.event_id,
        ledger.customer_id,
        ledger.purpose,
        purposes.basis,
        ledger.choice,
        ledger.channel,
        ledger.platform,
        ledger.recorded_at,
        ledger.origin,
        case
            when customers.customer_id is null then 'unknown_customer'
            -- Refusals are always honoured, wherever and whenever they were recorded.
            when ledger.choice = 'opt_out' then null
            when ledger.origin = 'quarantined' then 'quarantined'
            when purposes.basis = 'consent' and ledger.platform = 'scarlet_legacy'
                then 'legacy_consent_not_carried_over'
            -- After the migration the legacy platform can only refuse: a legacy opt_in
            -- recorded from then on never lifts an objection.
            when
                ledger.platform = 'scarlet_legacy'
                and customers.migrated_at is not null
                and ledger.recorded_at >= customers.migrated_at
                then 'legacy_opt_in_after_migration'
            -- The legacy platform only ever held Scarlet accounts: a legacy opt_in of an
            -- account that was never on it lifts nothing.
            when
                ledger.platform = 'scarlet_legacy'
                and customers.brand <> 'scarlet'
                and customers.migrated_at is null
                then 'legacy_opt_in_not_on_scarlet'
            -- A Scarlet account's new preferences start switched off at migration: no
            -- opt_in can have been given on the Proximus platform before it, neither a
            -- consent nor the lifting of an objection the legacy platform carried over. A
            -- migration date on an account of the other brand is read the same way.
            when
                (purposes.basis = 'consent' or ledger.platform <> 'scarlet_legacy')
                and (
                    (customers.brand = 'scarlet' and customers.migrated_at is null)
                    or ledger.recorded_at < customers.migrated_at
                )
                then 'consent_before_migration'
            -- Nor before the account existed: everything new starts switched off.
            when ledger.recorded_at < customers.created_at then 'opt_in_before_account_created'
            when customers.closed_at is not null and ledger.recorded_at >= customers.closed_at
                then 'consent_after_account_closed'
        end as not_applied_reason
    from ledger
    inner join purposes
        on ledger.purpose = purposes.purpose
    left join customers
        on ledger.customer_id = customers.customer_id
),

versions as (
    select
        event_id,
        customer_id,
        purpose,
        basis,
        choice,
        channel,
        platform,
        recorded_at,
        origin,
        not_applied_reason,
        row_number() over (
            partition by customer_id, purpose
            order by
                recorded_at nulls last,
                case when choice = 'opt_out' then 1 else 0 end,
                event_id,
                origin,
                channel,
                platform
        ) as version_number
    from classified_events
)

-- Each version sets the state the rules apply: its choice when applied, else the purpose's
-- default (null). A consent that does not count therefore never lets an older consent stand
-- in for it: the customer's latest consent-based choice must itself be valid.
select
    customer_id,
    purpose,
    version_number,
    event_id,
    basis,
    choice,
    channel,
    platform,
    recorded_at,
    recorded_at as valid_from,
    origin,
    not_applied_reason,
    lead(recorded_at) over (
        partition by customer_id, purpose
        order by version_number
    ) as valid_to,
    not_applied_reason is null as is_applied,
    not_applied_reason is null or basis = 'consent' as sets_state,
    case when not_applied_reason is null then choice end as applied_choice
from versions
