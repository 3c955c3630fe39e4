"""Facts the gates derive from the landing views and the rules, never from the models.

Every snippet reads ``landing.<table>`` (all text for CSV input, typed for Parquet), so
values are cast and trimmed the way the contract defines them, and vocabulary values are
normalised with the shared pure normaliser (``privacy_pipeline.vocabulary``, registered
as a SQL function on the gate's connection, not the models' SQL macro). Where the
landing data is ambiguous the snippets choose what protects the customer: an opt-out
wins a tie, and a customer is eligible for marketing only if every landing row of that
customer says so.
"""

from __future__ import annotations

from privacy_pipeline.contract import (
    ANSWER_KINDS,
    BRANDS,
    CHANNELS,
    CHOICES,
    DEVICE_KINDS,
    NETWORKS,
    PLATFORMS,
    PURPOSES,
    REQUEST_KINDS,
    TRUE_INSTANT_PATTERN,
    instant_sql,
)
from privacy_pipeline.gates.candidate import Candidate, sql_literal
from privacy_pipeline.pseudonyms import hmac_sha256_sql, padded_keys
from privacy_pipeline.vocabulary import (
    BARE_IPV6_SPELLING,
    BRACKETED_HOST,
    IDEOGRAPHIC_FULL_STOP,
    IP_ADDRESS_FUNCTION,
    IP_ADDRESS_SPELLING,
    SITE_PREFIX_PATTERN,
    SITE_SPACE_PATTERN,
    SITE_SUFFIX_PATTERN,
    decoded_site_spelling_sql,
    enum_term_sql,
    normalised_term_sql,
    register_sql_functions,
)
from privacy_pipeline.vocabulary import MATCH_KEY_FUNCTION as MATCH_KEY
from privacy_pipeline.vocabulary import NORMALISED_TERM_FUNCTION as NORMALISED_TERM


def text(column: str) -> str:
    """A landing value as trimmed text; empty means null."""
    return f"nullif(trim(cast({column} as varchar)), '')"


def area_name(column: str) -> str:
    """An area name of the landing cells as published: trimmed text in Unicode NFC
    (DuckDB's own ``nfc_normalize``, not the models' macro)."""
    return f"nfc_normalize({text(column)})"


def enum(column: str, values: tuple[str, ...] = ()) -> str:
    """A vocabulary value normalised (``OPT OUT`` -> ``opt_out``), and for a closed list
    ``values`` matched by its letters and digits (``OptOut`` -> ``opt_out``); needs
    ``register_normaliser``."""
    if values:
        return enum_term_sql(text(column), values)
    return normalised_term_sql(text(column))


def register_normaliser(candidate: Candidate) -> None:
    """Make ``enum()`` and the ledger's customer match key work on this candidate's connection."""
    if NORMALISED_TERM not in candidate.cache:
        register_sql_functions(candidate.con)
        candidate.cache[NORMALISED_TERM] = NORMALISED_TERM


def timestamp(column: str) -> str:
    """A landing instant read as the contract reads it (staging's reading too): a typed
    Parquet timestamptz as it is; text only when it is an ISO 8601 instant with an offset
    (``TRUE_INSTANT_PATTERN``), else null. A local time without offset is unparseable:
    DuckDB's cast alone would read it in the session's time zone, so the gates would act
    on a value staging quarantines (an erasure staging did not apply, a window it did not
    read)."""
    value = f"upper({text(column)})"
    return f"""(case when typeof({column}) = 'TIMESTAMP WITH TIME ZONE'
                     then try_cast({column} as timestamptz)
                     when regexp_full_match({value}, '{TRUE_INSTANT_PATTERN}')
                     then {instant_sql(value)} end)"""


def sql_list(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


NEVER = "'infinity'::timestamptz"
PROCESSED_AT = "(select max(processed_at) from landing.run_context)"


def true_instant(column: str) -> str:
    """A landing instant that can be true: a real offset, and not after the moment the run
    processes it (``landing.run_context``, written by the loader); else null."""
    value = f"upper({text(column)})"
    return f"""(case when regexp_full_match({value}, '{TRUE_INSTANT_PATTERN}')
                      and {instant_sql(value)} <= {PROCESSED_AT}
                     then {instant_sql(value)} end)"""


def ledger_sql() -> str:
    """Every consent event of the durable ledger whose customer, purpose and choice can be read.

    ``is_valid`` says whether the whole row keeps the contract (event id unique, channel,
    platform readable, a time that can be true): only a valid opt-in can grant a consent,
    but any readable refusal is honoured. An event whose time cannot be true (unreadable,
    an impossible offset, after the run) counts from when the ledger first received it
    (``_first_received_at``), or, without that, as the latest event. A refusal whose
    customer number names no landing customer exactly is the customer's whose number has
    the same match key (case, spaces, separators ignored), when exactly one has it.
    """
    return f"""
        with landing_customer_ids as (
            select distinct {text("customer_id")} as customer_id
            from landing.customers
            where {text("customer_id")} is not null
        ),
        events as ({events_sql()}),
        -- The match key is Python, one call per value (seconds per million): computed for
        -- the refusals that name no landing customer exactly, and for the customers only
        -- when there is one.
        unmatched_refusals as (
            select distinct events.customer_id, {MATCH_KEY}(events.customer_id) as match_key
            from events
            left join landing_customer_ids as exact on events.customer_id = exact.customer_id
            where events.choice = 'opt_out' and exact.customer_id is null
        ),
        customer_keys as (
            select {MATCH_KEY}(customer_id) as match_key, min(customer_id) as customer_id,
                   count(*) as holders
            from landing_customer_ids
            where exists (select 1 from unmatched_refusals)
            group by {MATCH_KEY}(customer_id)
        ),
        resolved as (
            select unmatched_refusals.customer_id as delivered_id, customer_keys.customer_id
            from unmatched_refusals
            join customer_keys on unmatched_refusals.match_key = customer_keys.match_key
            where customer_keys.holders = 1
        )
        select coalesce(resolved.customer_id, events.customer_id) as customer_id,
               events.* exclude (customer_id)
        from events
        left join resolved
          on events.choice = 'opt_out' and events.customer_id = resolved.delivered_id
    """


def events_sql() -> str:
    """The consent events as read. One event id delivered with two contents is no valid
    event (neither version is trusted); identical copies of one event are that event, so
    a doubled row does not stop the night (staging keeps one: exact_duplicate). Each value
    is read once (``read``), then compared across the copies of its event id."""
    # one instant written two ways is one content, as in staging's fingerprint
    content = ", ".join(
        f"coalesce({value}, '~')"
        for value in (
            "customer_id", "purpose", "choice", "channel", "platform",
            "coalesce(cast(true_recorded_at as varchar), '~' || recorded_text)",
        )
    )  # fmt: skip
    fingerprint = f"concat_ws(chr(31), {content})"
    return f"""
        select customer_id, purpose, choice, platform,
               coalesce(true_recorded_at, _first_received_at) as recorded_at, event_id,
               event_id is not null
                   and min({fingerprint}) over (partition by event_id)
                       = max({fingerprint}) over (partition by event_id)
                   and channel in ({sql_list(CHANNELS)})
                   and platform in ({sql_list(PLATFORMS)})
                   and true_recorded_at is not null as is_valid
        from (
            select {text("customer_id")} as customer_id, {enum("purpose", PURPOSES)} as purpose,
                   {enum("choice", CHOICES)} as choice, {enum("channel", CHANNELS)} as channel,
                   {enum("platform", PLATFORMS)} as platform,
                   {true_instant("recorded_at")} as true_recorded_at,
                   {text("recorded_at")} as recorded_text, _first_received_at,
                   {text("event_id")} as event_id
            from landing.privacy_preferences
        ) as read
        where customer_id is not null
          and purpose in ({sql_list(PURPOSES)})
          and choice in ({sql_list(CHOICES)})
    """


def ledger(candidate: Candidate) -> str:
    """The parsed consent ledger, materialised once per suite (the landing may be CSV)."""
    register_normaliser(candidate)
    return candidate.materialise("gate_ledger", ledger_sql())


def latest_event_sql(source: str, purpose: str, before: str | None = None) -> str:
    """Each customer's latest ``purpose`` event of ``source`` (rows of ``ledger_sql``).

    ``before`` (a SQL timestamptz) keeps the events recorded before it, and those whose
    time cannot be read; without it the whole ledger counts. At equal times a refusal wins.
    """
    cutoff = f"and (recorded_at < {before} or recorded_at is null)" if before else ""
    return f"""
        select *
        from {source} as ledger
        where purpose = '{purpose}' {cutoff}
        qualify row_number() over (
            partition by customer_id
            order by recorded_at desc nulls first,
                     case when choice = 'opt_out' then 0 else 1 end,
                     case when is_valid then 1 else 0 end, event_id desc
        ) = 1
    """


def customers(candidate: Candidate) -> str:
    """One row per landing customer row: id, brand, migration and closing as text and time."""
    register_normaliser(candidate)
    return candidate.materialise(
        "gate_customers",
        f"""
        select {text("customer_id")} as customer_id, {enum("brand", BRANDS)} as brand,
               {text("msisdn")} as msisdn,
               {text("created_at")} as created_at_text, {timestamp("created_at")} as created_at,
               {text("migrated_at")} as migrated_at_text,
               {timestamp("migrated_at")} as migrated_at,
               {text("closed_at")} as closed_at_text, {timestamp("closed_at")} as closed_at
        from landing.customers
        where {text("customer_id")} is not null
        """,
    )


def opt_in_off_platform(event: str, accounts: str) -> str:
    """SQL true when the opt-in ``event`` (an alias of ledger rows) was recorded while the
    account was not on the platform it names, by any CRM row of the customer: before the
    account's creation; on Proximus before the account's migration (or a Scarlet account
    not migrated); on the legacy platform after the migration, or for an account never on
    Scarlet. Such an opt-in grants and lifts nothing ("everything new is off by default",
    and a refusal given on Scarlet carries over)."""
    return f"""exists (
        select 1 from {accounts} as c
        where c.customer_id = {event}.customer_id
          and (c.created_at > {event}.recorded_at
               or ({event}.platform = 'proximus'
                   and (c.migrated_at > {event}.recorded_at
                        or (c.brand = 'scarlet' and c.migrated_at_text is null)))
               or ({event}.platform = 'scarlet_legacy'
                   and (c.migrated_at <= {event}.recorded_at
                        or (c.brand <> 'scarlet' and c.migrated_at_text is null))))
    )"""


def consented_customers(candidate: Candidate, purpose: str) -> str:
    """Customers allowed a consent-based ``purpose`` on the run date (personalisation,
    partner offers: off by default, and the new preferences exist only on Proximus).

    The latest event at the end of the run date and the latest of the whole ledger must
    both be a valid opt-in recorded on the Proximus platform (a later refusal is
    honoured) while the account was on it (``opt_in_off_platform``).
    """
    source, accounts = ledger(candidate), customers(candidate)

    def valid_proximus_opt_in(before: str | None) -> str:
        return f"""
            select latest.customer_id
            from ({latest_event_sql(source, purpose, before)}) as latest
            where latest.choice = 'opt_in' and latest.is_valid
              and latest.platform = 'proximus'
              and not {opt_in_off_platform("latest", accounts)}
        """

    return candidate.materialise(
        f"gate_consented_{purpose}",
        f"""
        {valid_proximus_opt_in(candidate.run_end_sql)}
        intersect
        {valid_proximus_opt_in(None)}
        """,
    )


def binding_ledger(candidate: Candidate) -> str:
    """The ledger events that can set a state: every valid event and every readable refusal.

    An opt-in that breaks the contract (unreadable time, unknown channel, duplicate id) is
    not a choice: it can neither grant a consent nor withdraw an earlier objection.
    """
    return candidate.materialise(
        "gate_binding_ledger",
        f"select * from {ledger(candidate)} where is_valid or choice = 'opt_out'",
    )


def opted_out_customers(candidate: Candidate, purpose: str) -> str:
    """Customers who objected to ``purpose`` for the run date: the latest choice at the end
    of the run date, or the latest of the whole ledger, is an opt-out.

    Both states count: a refusal recorded after the run date is honoured when the date is
    (re)processed, and a withdrawal of the objection recorded after the run date is never
    back-dated (docs/privacy-rules.md, 3).
    """
    return candidate.materialise(
        f"gate_opted_out_{purpose}", objectors_sql(candidate, binding_ledger(candidate), purpose)
    )


def objectors_sql(candidate: Candidate, source: str, purpose: str) -> str:
    """Customers whose latest choice for ``purpose`` in ``source``, at the end of the run
    date or in the whole ledger, is an opt-out."""
    return f"""
        select customer_id
        from ({latest_event_sql(source, purpose, candidate.run_end_sql)}) as at_end_of_run_date
        where choice = 'opt_out'
        union
        select customer_id from ({latest_event_sql(source, purpose)}) as latest
        where choice = 'opt_out'
    """


def marketable_customers(candidate: Candidate) -> str:
    """Accounts on the Proximus platform and open at the end of the run date.

    A Proximus account, or a Scarlet account migrated before the end of the run date, and
    not closed by then. Every landing row of the customer must agree (a duplicate that
    says otherwise, or an unreadable date, makes the customer not marketable).
    """
    end = candidate.run_end_sql
    return candidate.materialise(
        "gate_marketable",
        f"""
        select customer_id
        from {customers(candidate)}
        group by customer_id
        having bool_and(coalesce(
            (brand = 'proximus' or (brand = 'scarlet' and migrated_at < {end}))
            and (closed_at_text is null or closed_at >= {end})
            and (migrated_at_text is null or migrated_at is not null)
            and (created_at_text is null or created_at < {end}),
            false
        ))
        """,
    )


def location_counted_customers(candidate: Candidate) -> str:
    """Customers who may be counted in the location figures of the run date.

    An open account on the Proximus platform at the end of the run date (a Proximus
    account, or a Scarlet account migrated by then; not closed; known to the CRM) that
    did not object to ``location_analytics``: neither the latest choice at the end of the
    run date nor the latest of the whole ledger is an opt-out, whichever platform it was
    recorded on (legacy Scarlet refusals carry over), counting only the choices that can
    lift an objection (``location_objectors``), and that did not ask for erasure.

    Where the candidate holds the staging view of accepted CRM accounts, a customer whose
    every CRM row was quarantined is left out too: the models cannot attribute their
    events, and leaving someone out never breaks a promise (it only makes the gate's
    recount smaller, so a model that counts more people still fails).
    """
    accepted = (
        "and customer_id in (select cast(customer_id as varchar) from staging.stg_crm__customers)"
        if candidate.has_table("staging", "stg_crm__customers")
        else ""
    )
    # Erased customers by the gate's own reading of the requests: the staging view above
    # is the models' output, so a model that forgot an erasure would be followed by it.
    erased = (
        f"and customer_id not in (select customer_id from {erased_customers(candidate)})"
        if has_erasure_sources(candidate)
        else ""
    )
    return candidate.materialise(
        "gate_location_counted",
        f"""
        select customer_id from {marketable_customers(candidate)}
        where customer_id not in (
            select customer_id from {location_objectors(candidate)}
        ) {accepted} {erased}
        """,
    )


def location_objectors(candidate: Candidate) -> str:
    """Customers who objected to location analytics for the run date: the latest choice
    that can change an objection (``lifting_ledger``: a legacy opt-in after the migration
    cannot) is a refusal at the end of the run date, or in the whole ledger."""
    return candidate.materialise(
        "gate_location_objectors",
        objectors_sql(candidate, lifting_ledger(candidate), "location_analytics"),
    )


def has_erasure_sources(candidate: Candidate) -> bool:
    return candidate.has_table("landing", "data_subject_requests") or candidate.has_table(
        "landing", "erased_customers"
    )


def erased_customers(candidate: Candidate) -> str:
    """Customer ids whose erasure applies to this run, from the landing zone: every request
    row whose kind reads as erasure (the contract's normaliser) received before the end of
    the run date (its other problems do not matter: an erasure is honoured even if its
    request row is quarantined), plus the register of erasures applied by earlier runs
    (``landing.erased_customers``, written by load_landing from the restricted store)."""
    selects = []
    if candidate.has_table("landing", "data_subject_requests"):
        register_normaliser(candidate)
        received = timestamp("received_at")
        selects.append(
            f"""select {text("customer_id")} as customer_id from landing.data_subject_requests
                where {enum("kind", REQUEST_KINDS)} = 'erasure'
                  and {received} < {candidate.run_end_sql}"""
        )
    if candidate.has_table("landing", "erased_customers"):
        selects.append(f"select {text('customer_id')} from landing.erased_customers")
    body = " union all ".join(selects) or "select null::varchar as customer_id where false"
    return candidate.materialise(
        "gate_erased_customers",
        f"select distinct customer_id from ({body}) as erased where customer_id is not null",
    )


def customer_lines(candidate: Candidate) -> str:
    """Which customer alone held which number when: (msisdn, customer_id, valid_from,
    valid_to), a null bound open.

    Holders are the accepted CRM rows only (``accepted_holders_sql``). A customer with an
    accepted line in the optional ``customer_lines`` table holds exactly its listed
    numbers, each in its intervals there (``valid_to`` empty while active); every other
    customer holds ``customers.msisdn`` for good (docs/data-contract.md: per customer, not
    per number, so a stale ``customers.msisdn`` of an unlisted account still holds a number
    listed for someone else). A number held by two customers at the same instant is
    nobody's at that instant, and only then (a recycled number's closed 2015-2018 line
    leaves the new holder's number theirs in 2026): each number's time is cut at every
    bound of its holders' lines, and the pieces held by exactly one customer are kept, so
    an event maps to at most one person.
    """
    return candidate.materialise(
        "gate_customer_lines",
        f"""
        with holders as (
            select distinct msisdn, customer_id,
                   coalesce(valid_from, '-infinity'::timestamptz) as valid_from,
                   coalesce(valid_to, 'infinity'::timestamptz) as valid_to
            from ({accepted_holders_sql(candidate)}) as accepted
        ),
        bounds as (
            select msisdn, valid_from as bound from holders
            union
            select msisdn, valid_to from holders
        ),
        pieces as (
            select msisdn, bound as piece_from,
                   lead(bound) over (partition by msisdn order by bound) as piece_to
            from bounds
        ),
        held as (
            select p.msisdn, p.piece_from, p.piece_to, min(h.customer_id) as customer_id,
                   count(distinct h.customer_id) as holders
            from pieces as p
            join holders as h
              on h.msisdn = p.msisdn and h.valid_from <= p.piece_from
             and p.piece_to <= h.valid_to
            where p.piece_to is not null
            group by p.msisdn, p.piece_from, p.piece_to
        )
        select msisdn, customer_id,
               nullif(piece_from, '-infinity'::timestamptz) as valid_from,
               nullif(piece_to, 'infinity'::timestamptz) as valid_to
        from held
        where holders = 1
        """,
    )


def accepted_holders_sql(candidate: Candidate) -> str:
    """(msisdn, customer_id, valid_from, valid_to): every line of the landing zone that
    staging accepted, before the same-instant rule.

    Where the candidate holds staging's checks, only the CRM rows staging accepted count,
    as the models use them: the ``customer_lines`` rows without a rejection reason in
    ``staging.base_crm__customer_lines`` (found by file and row), and ``customers.msisdn``
    of the customers of ``staging.stg_crm__customers``. So two conflicting versions of a
    line (``duplicate_key_conflict``) are no line, and their customer keeps
    ``customers.msisdn``; a line of an ``unknown_customer``, or the number of an account
    quarantined as a key conflict, holds nothing. Without staging every landing row with
    a customer and a number counts.

    A customer who asked for erasure (the gate's own reading, ``erased_customers``) is in
    no staging model, yet still holds their numbers here, as the models' erasure check
    reads them (every delivered line of theirs, else ``customers.msisdn`` for good): their
    events count for nobody, and a number they shared at an instant is nobody's then.
    """
    accepted_lines = accepted_customers = ""
    if candidate.has_table("staging", "base_crm__customer_lines"):
        accepted_lines = """
            and exists (
                select 1 from staging.base_crm__customer_lines as checked
                where checked.rejection_reason is null
                  and checked._source_file = delivered._source_file
                  and checked.source_row = delivered._source_row
            )"""
    if candidate.has_table("staging", "stg_crm__customers"):
        accepted_customers = f"""
            and {text("customer_id")} in (
                select cast(customer_id as varchar) from staging.stg_crm__customers
            )"""
    account_lines = account_lines_sql(accepted_customers)
    if not candidate.has_table("landing", "customer_lines"):
        accepted = account_lines
    else:
        accepted = f"""
            with listed as ({delivered_lines_sql(accepted_lines)}),
            account_lines as ({account_lines})
            select * from listed
            union all
            select * from account_lines
            where customer_id not in (select customer_id from listed)
        """
    if not has_erasure_sources(candidate):
        return accepted
    erased = f"(select customer_id from {erased_customers(candidate)})"
    erased_lines = f"""
        select * from ({account_lines_sql("")}) as accounts where customer_id in {erased}
    """
    if candidate.has_table("landing", "customer_lines"):
        erased_lines = f"""
            with listed as ({delivered_lines_sql("")}),
            accounts as ({erased_lines})
            select * from listed where customer_id in {erased}
            union all
            select * from accounts
            where customer_id not in (select customer_id from listed)
        """
    return f"""
        select * from ({accepted}) as accepted
        union all
        select * from ({erased_lines}) as erased
    """


def account_lines_sql(condition: str) -> str:
    """``customers.msisdn`` of the landing customers that meet ``condition``, held for good."""
    return f"""
        select {text("msisdn")} as msisdn, {text("customer_id")} as customer_id,
               cast(null as timestamptz) as valid_from, cast(null as timestamptz) as valid_to
        from landing.customers
        where {text("msisdn")} is not null and {text("customer_id")} is not null
        {condition}
    """


def delivered_lines_sql(condition: str) -> str:
    """The landing ``customer_lines`` with a customer and a number, as trimmed text and
    instants, that also meet ``condition`` (on the alias ``delivered``)."""
    return f"""
        select {text("msisdn")} as msisdn, {text("customer_id")} as customer_id,
               {timestamp("valid_from")} as valid_from, {timestamp("valid_to")} as valid_to
        from landing.customer_lines as delivered
        where {text("msisdn")} is not null and {text("customer_id")} is not null
        {condition}
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


def delivered_numbers(candidate: Candidate) -> str:
    """Every distinct msisdn and called number of the landing zone, trimmed, as delivered.

    Materialised once per suite: the network events are the largest landing table, so
    their msisdn column is scanned here once and every later fact reads this small table.
    """
    return candidate.materialise(
        "gate_delivered_numbers",
        f"""
        select distinct number, kind from (
            select {text("msisdn")} as number, 'msisdn' as kind from landing.customers
            union all
            select {text("msisdn")}, 'msisdn' from landing.customer_lines
            union all
            select distinct {text("msisdn")}, 'msisdn' from landing.network_events
            union all
            select {text("called_number")}, 'called number' from landing.call_records
        ) as numbers
        where number is not null
        """,
    )


def phone_numbers(candidate: Candidate) -> str:
    """Every msisdn and called number of the landing zone, as international digits."""
    return candidate.materialise(
        "gate_phone_numbers",
        f"""
        select distinct {digits("number")} as number, kind
        from {delivered_numbers(candidate)}
        where length({digits("number")}) >= 8
        """,
    )


def email_addresses(candidate: Candidate) -> str:
    return candidate.materialise(
        "gate_email_addresses",
        f"""
        select distinct lower({text("email")}) as email from landing.customers
        where {text("email")} like '%@%'
        """,
    )


def full_names(candidate: Candidate) -> str:
    """Customers' full names worth searching for: at least two words, five characters."""
    return candidate.materialise(
        "gate_full_names",
        f"""
        select distinct lower({text("full_name")}) as full_name from landing.customers
        where length({text("full_name")}) >= 5 and {text("full_name")} like '% %'
        """,
    )


def area_names(candidate: Candidate) -> str:
    """Municipality and province names of the landing cells, lower-case: published as
    delivered (contract ``published``), so a customer name equal to one is not a leak."""
    return candidate.materialise(
        "gate_area_names",
        f"""
        select distinct lower({area_name("municipality")}) as area_name from landing.cells
        where {text("municipality")} is not null
        union
        select distinct lower({area_name("province")}) from landing.cells
        where {text("province")} is not null
        """,
    )


def identifier_pseudonyms(candidate: Candidate) -> str:
    """The pseudonyms staging gives the landing msisdns and called numbers (HMAC-SHA256 of
    the trimmed value, and of the number without separators), to recognise them.

    The padded keys are bound as parameters: the key never appears in SQL text or logs.
    """
    numbers = delivered_numbers(candidate)
    return candidate.materialise(
        "gate_identifier_pseudonyms",
        f"""
        with variants as (
            select number from {numbers}
            union select regexp_replace(number, '[\\s./()-]', '', 'g') from {numbers}
        ), keys as (select cast(? as blob) as inner_key, cast(? as blob) as outer_key)
        select distinct {hmac_sha256_sql("number", "keys.inner_key", "keys.outer_key")}
            as pseudonym
        from variants cross join keys where number is not null
        """,
        list(padded_keys()),
    )


# ---------------------------------------------------------------- issue #10 rules


def lifting_ledger(candidate: Candidate) -> str:
    """The ledger events that can change an objection: every readable refusal, and the
    valid opt-ins recorded while the account was on the platform they name
    (``opt_in_off_platform``: after the migration the legacy platform can only refuse,
    before it Proximus cannot lift what Scarlet carried over)."""
    accounts = customers(candidate)
    return candidate.materialise(
        "gate_lifting_ledger",
        f"""
        select ledger.* from {ledger(candidate)} as ledger
        where ledger.choice = 'opt_out'
           or (ledger.is_valid and not {opt_in_off_platform("ledger", accounts)})
        """,
    )


def objectors_ignoring_choices_that_cannot_lift(candidate: Candidate, purpose: str) -> str:
    """Customers whose latest ``purpose`` choice that can change an objection is a refusal.

    A refusal always counts. An opt-in lifts an objection only if its row is valid (a time
    that can be true, readable channel and platform) and it is not a legacy-platform
    opt-in recorded at or after the customer's migration (after the migration the legacy
    platform can only refuse). So an opt-in dated 2099, or a legacy opt-in after the
    migration, never hides an earlier refusal from this check.
    """
    return candidate.materialise(
        f"gate_objectors_{purpose}",
        f"""
        select customer_id from ({latest_event_sql(lifting_ledger(candidate), purpose)}) as latest
        where choice = 'opt_out'
        """,
    )


def profile_sources(candidate: Candidate) -> str:
    """Survey answers and entries in contests organised by Proximus (no partner_id), with
    the customer's interest and the instant, when it can be true and is inside the
    customer's profiling window (``profiling_windows``: not before the account's creation,
    every CRM row of the customer agreeing, nor from a direct-marketing objection period)."""
    return candidate.materialise(
        "gate_profile_sources",
        f"select distinct customer_id, interest from {profile_signals(candidate)}",
    )


def profile_signals(candidate: Candidate) -> str:
    """customer_id, interest, unit, points: the signals of ``profile_sources``, each unit once
    with the most points it can add (``scoring.declared``): a question, the most any answer
    of its kind can give (only the latest answer counts); a contest entry, its points."""
    declared = scoring_rules(candidate, "declared")
    answers = declared.get("survey_answers") or {}
    kind_points = {
        "count": (answers.get("count") or {}).get("max_points"),
        "yes_no": (answers.get("yes_no") or {}).get("points_if_yes"),
        "rating_1_5": 4 * float((answers.get("rating_1_5") or {}).get("points_per_step") or 0),
    }
    kinds = ", ".join(
        f"({sql_literal(kind)}, {float(points or 0)})" for kind, points in kind_points.items()
    )
    entry_points = float(declared.get("contest_entry_points") or 0)
    windows = profiling_windows(candidate)
    return candidate.materialise(
        "gate_profile_signals",
        f"""
        with sources as (
            select {text("r.customer_id")} as customer_id, {enum("q.interest")} as interest,
                   {true_instant("r.answered_at")} as at,
                   'question ' || {text("q.question_id")} as unit, kinds.points
            from landing.survey_responses as r
            join landing.survey_questions as q on {text("r.question_id")} = {text("q.question_id")}
            join (values {kinds}) as kinds(answer_kind, points)
              on kinds.answer_kind = {enum("q.answer_kind", ANSWER_KINDS)}
            union all
            select {text("e.customer_id")}, {enum("k.theme")}, {true_instant("e.entered_at")},
                   'entry ' || e._source_file || ' ' || e._source_row, {entry_points}
            from landing.contest_entries as e
            join landing.contests as k on {text("e.contest_id")} = {text("k.contest_id")}
            where {text("k.partner_id")} is null
        )
        select sources.customer_id, sources.interest, sources.unit, max(sources.points) as points
        from sources join {windows} as windows using (customer_id)
        where sources.at >= windows.starts_at
          and sources.at < {candidate.run_end_sql}
        group by all
        """,
    )


def allowed_since(candidate: Candidate, purpose: str, basis: str) -> str:
    """(customer_id, since): from when ``purpose`` has been allowed without interruption at
    the end of the run date, by the gate's own reading of the ledger ("prior consent" is
    prior: a signal from before it, or from an earlier consent withdrawn since, is not
    the customer's consent's).

    Consent-based purposes: the first valid Proximus opt-in recorded while the account was
    on Proximus (``opt_in_off_platform``) after the last event that is anything else;
    customers without such an opt-in have no row. Objection-based purposes: rows only for
    customers who refused before the end of the run date; ``since`` is the first opt-in
    that can lift the refusal (valid, recorded while the account was on the platform it
    names) after the last refusal, 'infinity' when none did. Customers without a row never
    objected.
    """
    source, accounts = ledger(candidate), customers(candidate)
    off_platform = opt_in_off_platform("e", accounts)
    on_platform = f"e.choice = 'opt_in' and e.is_valid and not {off_platform}"
    if basis == "consent":
        grants = f"{on_platform} and e.platform = 'proximus'"
        interrupts = f"not ({grants})"
    else:
        grants = on_platform
        interrupts = "e.choice = 'opt_out'"
    events = f"""
        select e.customer_id, coalesce(e.recorded_at, {NEVER}) as event_at,
               coalesce({grants}, false) as grants, coalesce({interrupts}, true) as interrupts
        from {source} as e
        where e.purpose = '{purpose}'
          and (e.recorded_at < {candidate.run_end_sql} or e.recorded_at is null)
    """
    after_break = "e.grants and (b.event_at is null or e.event_at > b.event_at)"
    first_grant = f"min(case when {after_break} then e.event_at end)"
    since = first_grant if basis == "consent" else f"coalesce({first_grant}, {NEVER})"
    join = "left join" if basis == "consent" else "join"
    return candidate.materialise(
        f"gate_allowed_since_{purpose}",
        f"""
        with events as ({events}),
        last_break as (
            select customer_id, max(event_at) as event_at from events where interrupts group by 1
        )
        select e.customer_id, {since} as since
        from events as e {join} last_break as b using (customer_id)
        group by e.customer_id
        having {since} is not null
        """,
    )


def profiling_windows(candidate: Candidate) -> str:
    """(customer_id, starts_at): signals of a customer count from the account's creation
    (every CRM row readable; the latest creation if they disagree), for a Scarlet account
    from its migration (until then the old Scarlet policy applied, docs/privacy-rules.md,
    4) and, after a withdrawn direct-marketing objection, from the withdrawal on: answers
    given while objecting were given by someone who did not want a profile (8)."""
    objections = allowed_since(candidate, "direct_marketing", "objection")
    return candidate.materialise(
        "gate_profiling_windows",
        f"""
        with created as (
            select {text("customer_id")} as customer_id,
                   max({true_instant("created_at")}) as created_at,
                   bool_and({true_instant("created_at")} is not null) as all_readable
            from landing.customers group by 1
        ),
        migrated as (
            select customer_id, max(migrated_at) as migrated_at
            from {customers(candidate)} where brand = 'scarlet' group by 1
        )
        select created.customer_id,
               greatest(created.created_at,
                        coalesce(migrated.migrated_at, '-infinity'::timestamptz),
                        coalesce(objections.since, '-infinity'::timestamptz)) as starts_at
        from created
        left join migrated using (customer_id)
        left join {objections} as objections using (customer_id)
        where created.all_readable
        """,
    )


def scoring_rules(candidate: Candidate, basis: str) -> dict:
    return ((candidate.ctx.config.get("scoring") or {}).get(basis)) or {}


def usage_sources_sql(candidate: Candidate) -> str:
    """(customer_id, interest, at, unit, points) of every call and device observation, with
    the interest each one can back by the configured rules (``scoring.usage``: every call
    backs the call rules' interests; a device of the rule's kind whose model holds
    ``model_contains``, case-insensitive, backs that rule's interest), so usage evidence is
    checked per interest, as browsing evidence is. ``unit`` and ``points``: the most a
    signal can add (a device, its rule's points once per local day; a call, its rule's
    points per started hour of the call: at least the model's per started hour of the
    day's calls)."""
    usage = scoring_rules(candidate, "usage")
    call_rules = [
        f"({sql_literal(str(rule['interest']).lower())}, {float(rule['points_per_call_hour'])})"
        for rule in usage.get("call_rules") or []
    ]
    device_rules = [
        f"({number}, {sql_literal(str(rule['kind']))}, "
        f"{sql_literal('%' + str(rule['model_contains']).lower() + '%')}, "
        f"{sql_literal(str(rule['interest']).lower())}, {float(rule['points_per_day'])})"
        for number, rule in enumerate(usage.get("device_rules") or [])
    ]
    selects = []
    if call_rules:
        started, ended = true_instant("c.started_at"), true_instant("c.ended_at")
        selects.append(f"""
            select {text("c.customer_id")} as customer_id, rules.interest, {started} as at,
                   'call ' || c._source_file || ' ' || c._source_row as unit,
                   rules.points * ceil(greatest(epoch({ended}) - epoch({started}), 0) / 3600)
                       as points
            from landing.call_records as c
            cross join (values {", ".join(call_rules)}) as rules(interest, points)
        """)
    if device_rules:
        observed = true_instant("d.observed_at")
        selects.append(f"""
            select {text("d.customer_id")}, rules.interest, {observed},
                   'device ' || rules.number || ' ' || cast(cast({observed} as date) as varchar),
                   rules.points
            from landing.device_observations as d
            join (values {", ".join(device_rules)})
                 as rules(number, kind, model_pattern, interest, points)
              on {enum("d.kind", DEVICE_KINDS)} = rules.kind
             and lower({text("d.model")}) like rules.model_pattern
        """)
    return " union all ".join(selects) or (
        "select null::varchar as customer_id, null::varchar as interest, "
        "null::timestamptz as at, null::varchar as unit, null::double as points where false"
    )


def site_key_sql(expr: str) -> str:
    """SQL of a site name as ``vocabulary.site_key`` reads it, the host it names (needs
    ``register_normaliser``)."""
    spelled = f"regexp_replace({text(expr)}, {sql_literal(SITE_SPACE_PATTERN)}, '', 'g')"
    term = normalised_term_sql(decoded_site_spelling_sql(spelled))
    dotted = f"replace(replace({term}, {sql_literal(IDEOGRAPHIC_FULL_STOP)}, '.'), '_', '')"
    named = f"regexp_replace({dotted}, {sql_literal(SITE_PREFIX_PATTERN)}, '')"
    bare_ipv6, bracketed_host = sql_literal(BARE_IPV6_SPELLING), sql_literal(BRACKETED_HOST)
    bracketed = f"regexp_replace({named}, {bare_ipv6}, {bracketed_host})"
    host = f"regexp_replace({bracketed}, {sql_literal(SITE_SUFFIX_PATTERN)}, '', 'g')"
    return f"""nullif(case when regexp_full_match({host}, {sql_literal(IP_ADDRESS_SPELLING)})
                then {IP_ADDRESS_FUNCTION}({host}) else {host} end, '')"""


def readable_catalogue_sites(candidate: Candidate, is_sensitive: str) -> str:
    """site_key, category: the catalogue's sites by the host their name reads as
    (``site_key_sql``: case, width, accents, invisible characters, scheme, user info, www.,
    port, path), without every site one landing row of the catalogue files under a
    category that is sensitive (the SQL function ``is_sensitive``) or not an allowed
    interest (a word no sensitive stem knows may still mean one), nor any domain above or
    below such a site: a site sensitive in one spelling backs no interest in any, and
    m.adult.example is adult.example's."""
    allowed = sql_list(tuple(candidate.ctx.config["allowed_interests"]))
    return candidate.materialise(
        "gate_readable_catalogue_sites",
        f"""
        with catalogue_rows as (
            select {site_key_sql("app_or_site")} as site_key,
                   {enum("category")} as category,
                   coalesce({is_sensitive}({text("category")}), false) as sensitive
            from landing.site_catalogue
        ),
        withheld_sites as (
            select distinct site_key from catalogue_rows
            where sensitive or category is null or category not in ({allowed})
        )
        select distinct site_key, category
        from catalogue_rows
        where site_key is not null
          and not exists (
              select 1 from withheld_sites as w
              where w.site_key = catalogue_rows.site_key
                 or suffix(catalogue_rows.site_key, '.' || w.site_key)
                 or suffix(w.site_key, '.' || catalogue_rows.site_key)
          )
        """,
    )


def traffic_site_keys(candidate: Candidate) -> str:
    """site, site_key: each distinct site of the traffic, its key read once."""
    return candidate.materialise(
        "gate_traffic_site_keys",
        f"""
        select site, {site_key_sql("site")} as site_key
        from (select distinct {text("app_or_site")} as site from landing.traffic_events)
             as sites
        where site is not null
        """,
    )


def consented_signal_sources(
    candidate: Candidate, basis: str, purpose: str, is_sensitive: str
) -> str:
    """(customer_id, interest) that consented signals of ``basis`` can back: browsing, traffic
    to a catalogue site of that category (``readable_catalogue_sites``: the site in any
    spelling, never a site sensitive in one); usage, a call or a device observation, with
    the interest the usage rules give it (``usage_sources_sql``). Only signals observed (at
    a time that can be true) during the consent in force at the end of the run date
    (``allowed_since``, "prior consent" is prior), inside the profiling window, and before
    the end of the run date. ``is_sensitive``: the suite's SQL function reading a value as
    sensitive in any spelling.
    """
    signals = consented_signals(candidate, basis, purpose, is_sensitive)
    return candidate.materialise(
        f"gate_consented_sources_{basis}",
        f"select distinct customer_id, interest from {signals}",
    )


def consented_signals(candidate: Candidate, basis: str, purpose: str, is_sensitive: str) -> str:
    """customer_id, interest, unit, points: the consented signals of
    ``consented_signal_sources``, each unit once with the most points it can add (browsing:
    ``points_per_visit_day`` per local day with traffic to a site of the interest; usage:
    ``usage_sources_sql``)."""
    windows, consents = profiling_windows(candidate), allowed_since(candidate, purpose, "consent")
    if basis == "browsing":
        register_normaliser(candidate)
        observed = true_instant("t.observed_at")
        points = float(scoring_rules(candidate, "browsing").get("points_per_visit_day") or 0)
        sources = f"""
            select {text("t.customer_id")} as customer_id, s.category as interest,
                   {observed} as at, 'day ' || cast(cast({observed} as date) as varchar) as unit,
                   {points} as points
            from landing.traffic_events as t
            join {traffic_site_keys(candidate)} as k on k.site = {text("t.app_or_site")}
            join {readable_catalogue_sites(candidate, is_sensitive)} as s
              on s.site_key = k.site_key
            -- only rows staging can accept: a known network, a byte count that is a
            -- number not below 0 (a model reading quarantined traffic shows)
            where {enum("t.network", NETWORKS)} in ({sql_list(NETWORKS)})
              and try_cast({text("t.bytes")} as double) >= 0
        """
    else:
        sources = usage_sources_sql(candidate)
    return candidate.materialise(
        f"gate_consented_signals_{basis}",
        f"""
        select sources.customer_id, sources.interest, sources.unit, max(sources.points) as points
        from ({sources}) as sources
        join {windows} as windows using (customer_id)
        join {consents} as consents using (customer_id)
        where sources.at >= greatest(windows.starts_at, consents.since)
          and sources.at < {candidate.run_end_sql}
        group by all
        """,
    )
