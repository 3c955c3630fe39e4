-- Every privacy request of the consent ledger that the run did not apply, for the DPO's
-- restricted store (never published): rows quarantined by staging (unreadable, invalid,
-- duplicate, unknown customer: reason is the staging reason code) and valid events the
-- consent rules cannot apply (reason from int_consent__history:
-- legacy_consent_not_carried_over, consent_before_migration, opt_in_before_account_created,
-- legacy_opt_in_not_on_scarlet, legacy_opt_in_after_migration,
-- consent_after_account_closed,
-- unknown_customer). Nothing is silently dropped. recorded_at is text: as delivered for
-- quarantined rows; for valid events the recorded instant in ISO 8601 UTC.

with

run_day as (
    select run_date
    from {{ ref('int_consent__run_day') }}
),

quarantined_events as (
    select
        run_date,
        reason,
        {{ json_text('row_data', 'event_id') }} as event_id,
        {{ json_text('row_data', 'customer_id') }} as customer_id,
        {{ json_text('row_data', 'purpose') }} as purpose,
        {{ json_text('row_data', 'choice') }} as choice,
        {{ json_text('row_data', 'channel') }} as channel,
        {{ json_text('row_data', 'platform') }} as platform,
        {{ json_text('row_data', 'recorded_at') }} as recorded_at
    from {{ ref('quarantined_rows') }}
    where source_table = 'privacy_preferences'
),

not_applied_events as (
    select
        run_day.run_date,
        history.event_id,
        history.customer_id,
        history.purpose,
        history.choice,
        history.channel,
        history.platform,
        history.not_applied_reason as reason,
        {{ utc_iso8601('history.recorded_at') }} as recorded_at
    from {{ ref('int_consent__history') }} as history
    cross join run_day
    -- Quarantined rows are listed above, with their staging reason.
    where not history.is_applied and history.origin = 'ledger'
)

select
    run_date,
    event_id,
    customer_id,
    purpose,
    choice,
    channel,
    platform,
    recorded_at,
    reason
from quarantined_events

union all

select
    run_date,
    event_id,
    customer_id,
    purpose,
    choice,
    channel,
    platform,
    recorded_at,
    reason
from not_applied_events
