"""Facts the gates derive from the landing views and the rules, never from the models.

Every snippet reads ``landing.<table>`` (all text for CSV input, typed for Parquet), so
values are cast, trimmed and lower-cased the way the contract defines them. Where the
landing data is ambiguous the snippets choose what protects the customer: an opt-out
wins a tie, and a customer is eligible for marketing only if every landing row of that
customer says so.
"""

from __future__ import annotations

from privacy_pipeline.gates.candidate import Candidate


def text(column: str) -> str:
    """A landing value as trimmed text; empty means null."""
    return f"nullif(trim(cast({column} as varchar)), '')"


def enum(column: str) -> str:
    return f"lower({text(column)})"


def timestamp(column: str) -> str:
    return f"try_cast({text(column)} as timestamptz)"


def ledger_sql() -> str:
    """Usable consent events: customer, purpose, choice, platform and a parseable time.

    Rows the contract rejects (no customer, an unknown purpose or choice, no time) cannot
    be ordered or attributed; they are reported to the DPO as rejected privacy events.
    """
    return f"""
        select
            {text("customer_id")} as customer_id,
            {enum("purpose")} as purpose,
            {enum("choice")} as choice,
            {enum("platform")} as platform,
            {timestamp("recorded_at")} as recorded_at,
            {text("event_id")} as event_id
        from landing.privacy_preferences
        where {text("customer_id")} is not null
          and {enum("choice")} in ('opt_in', 'opt_out')
          and {timestamp("recorded_at")} is not null
    """


def latest_choice_sql(purpose: str, before: str | None = None) -> str:
    """customer_id, choice, platform of each customer's latest ``purpose`` event.

    ``before`` (a SQL timestamptz) limits the ledger to events recorded before it; without
    it the whole ledger counts. At equal times an opt-out wins.
    """
    cutoff = f"and recorded_at < {before}" if before else ""
    return f"""
        select customer_id, choice, platform, recorded_at
        from ({ledger_sql()}) as ledger
        where purpose = '{purpose}' {cutoff}
        qualify row_number() over (
            partition by customer_id
            order by recorded_at desc, case when choice = 'opt_out' then 0 else 1 end,
                     case when platform = 'proximus' then 1 else 0 end, event_id desc
        ) = 1
    """


def current_opt_in_customers_sql(candidate: Candidate, purpose: str) -> str:
    """Customers whose latest ``purpose`` choice at the end of the run date is an opt-in
    recorded on the Proximus platform (new preferences exist only there, off by default)."""
    return f"""
        select customer_id
        from ({latest_choice_sql(purpose, candidate.run_end_sql)}) as latest
        where choice = 'opt_in' and platform = 'proximus'
    """


def opted_out_customers_sql(purpose: str) -> str:
    """Customers whose latest ``purpose`` choice in the whole ledger is an opt-out."""
    return f"""
        select customer_id from ({latest_choice_sql(purpose)}) as latest
        where choice = 'opt_out'
    """


def marketable_customers_sql(candidate: Candidate) -> str:
    """Accounts on the Proximus platform and open at the end of the run date.

    A Proximus account, or a Scarlet account migrated before the end of the run date, and
    not closed by then. Every landing row of the customer must agree (a duplicate that
    says otherwise, or an unreadable date, makes the customer not marketable).
    """
    end = candidate.run_end_sql
    brand, migrated_at, closed_at = enum("brand"), text("migrated_at"), text("closed_at")
    return f"""
        select {text("customer_id")} as customer_id
        from landing.customers
        where {text("customer_id")} is not null
        group by 1
        having bool_and(coalesce(
            (
                {brand} = 'proximus'
                or ({brand} = 'scarlet' and {timestamp("migrated_at")} < {end})
            )
            and ({closed_at} is null or {timestamp("closed_at")} >= {end})
            and ({migrated_at} is null or {timestamp("migrated_at")} is not null),
            false
        ))
    """


def digits(expression: str) -> str:
    """A phone number as the digits of its international form (0032.. and 0.. -> 32..)."""
    only_digits = f"regexp_replace({expression}, '[^0-9]', '', 'g')"
    return f"""(
        case
            when {only_digits} like '00%' then substr({only_digits}, 3)
            when {only_digits} like '0%' then '32' || substr({only_digits}, 2)
            else {only_digits}
        end
    )"""


def phone_numbers_sql() -> str:
    """Every msisdn and called number of the landing zone, as international digits."""
    return f"""
        select distinct number, kind from (
            select {digits(text("msisdn"))} as number, 'msisdn' as kind from landing.customers
            union all
            select {digits(text("msisdn"))}, 'msisdn' from landing.network_events
            union all
            select {digits(text("called_number"))}, 'called number' from landing.call_records
        ) as numbers
        where length(number) >= 8
    """


def email_addresses_sql() -> str:
    return f"""
        select distinct lower({text("email")}) as email from landing.customers
        where {text("email")} like '%@%'
    """


def full_names_sql() -> str:
    """Customers' full names worth searching for: at least two words, five characters."""
    return f"""
        select distinct lower({text("full_name")}) as full_name from landing.customers
        where length({text("full_name")}) >= 5 and {text("full_name")} like '% %'
    """
