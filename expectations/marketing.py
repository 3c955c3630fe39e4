"""Marketing: what marketing and partners receive keeps every consent promise of the letter.

The allowed customers are derived here from the landing consent ledger and CRM rows
(plugins/privacy_pipeline/gates/landing_facts.py), never from int_consent__* models, so
a bug in the consent models shows up as a failed gate instead of hiding itself.
"""

from __future__ import annotations

import secrets

from privacy_pipeline.contract import SENSITIVE_CATEGORY_KEY
from privacy_pipeline.gates import BuiltIn, Check, Promise
from privacy_pipeline.gates.candidate import (
    Candidate,
    pick_column,
    quote,
    sql_literal,
    union_all,
    union_values,
)
from privacy_pipeline.gates.landing_facts import (
    consented_customers,
    consented_signal_sources,
    consented_signals,
    marketable_customers,
    objectors_ignoring_choices_that_cannot_lift,
    opted_out_customers,
    profile_signals,
    profile_sources,
    scoring_rules,
)
from privacy_pipeline.vocabulary import is_sensitive, normalise_term, sensitive_terms

DESCRIPTION = """
Marketing (marketing.customer_interests, interest_evidence, segment_members,
partner_audiences): nobody who objected to direct marketing, partner audiences only with
a Proximus partner_offers opt-in, browsing and usage evidence only with the matching
consent, only migrated open accounts, no sensitive category, scores 0 to 100.
"""

SCHEMA = "marketing"
TABLES = ("customer_interests", "interest_evidence", "segment_members", "partner_audiences")
# The letter's categories that never serve personalisation; the configuration may add more.
LETTER_SENSITIVE_CATEGORIES = ("sexual", "religious", "political")
# Evidence bases that need a consent, and the purpose that must be allowed for each.
CONSENTED_BASES = {"browsing": "personalisation_browsing", "usage": "personalisation_usage"}
BASIS_COLUMNS = ("basis", "evidence_basis", "source", "signal_basis")
CUSTOMER = "coalesce(cast(customer_id as varchar), 'null')"


def customer_tables(candidate: Candidate) -> list[str]:
    """Every marketing table, each of which must name its customers in customer_id."""
    tables = []
    for table in TABLES:
        candidate.require_columns(SCHEMA, table, "customer_id")
        tables.append(f"{SCHEMA}.{table}")
    return tables


def customers_not_in(candidate: Candidate, allowed: str, why: str) -> str:
    return union_all(
        [
            f"""select distinct '{table}: customer ' || {CUSTOMER} || ' {why}' as violation
                from {table}
                where customer_id is null
                   or cast(customer_id as varchar) not in (select customer_id from {allowed})
            """
            for table in customer_tables(candidate)
        ]
    )


def customers_in(candidate: Candidate, forbidden: str, why: str) -> str:
    return union_all(
        [
            f"""select distinct '{table}: customer ' || {CUSTOMER} || ' {why}' as violation
                from {table}
                where cast(customer_id as varchar) in (select customer_id from {forbidden})
            """
            for table in customer_tables(candidate)
        ]
    )


def every_table_built(candidate: Candidate) -> Check:
    return candidate.every_table_built(SCHEMA, TABLES)


def no_direct_marketing_objection(candidate: Candidate) -> Check:
    sql = customers_in(
        candidate,
        opted_out_customers(candidate, "direct_marketing"),
        "whose latest direct_marketing choice in the ledger is opt_out",
    )
    return Check(sql, "4 marketing tables against the whole consent ledger")


def partner_audiences_with_proximus_opt_in(candidate: Candidate) -> Check:
    candidate.require_columns(SCHEMA, "partner_audiences", "customer_id")
    allowed = consented_customers(candidate, "partner_offers")
    sql = f"""
        select distinct 'marketing.partner_audiences: customer ' || {CUSTOMER}
               || ' without a current partner_offers opt-in on the Proximus platform'
               as violation
        from marketing.partner_audiences
        where customer_id is null
           or cast(customer_id as varchar) not in (select customer_id from {allowed})
    """
    return Check(sql, "partner audiences against the consent ledger")


def evidence_with_consent(candidate: Candidate, basis: str) -> Check:
    columns = candidate.require_columns(SCHEMA, "interest_evidence", "customer_id")
    basis_column = pick_column(columns, "marketing.interest_evidence", *BASIS_COLUMNS)
    purpose = CONSENTED_BASES[basis]
    allowed = consented_customers(candidate, purpose)
    # "Prior consent": the evidence must rest on signals observed during the consent in
    # force, not on traffic, calls or devices from before it (or from a withdrawn one).
    sources = consented_signal_sources(candidate, basis, purpose, sensitive_reader(candidate))
    same_interest = "and s.interest = lower(trim(cast(evidence.interest as varchar)))"
    # Interests outside the allow-list (sensitive ones included) are the other promises' to
    # report: each violation is named once, by the promise that explains it.
    allowed_interests = candidate.ctx.config.get("allowed_interests", [])
    allowed_list = ", ".join(sql_literal(i) for i in allowed_interests) or "null"
    sql = f"""
        select distinct 'marketing.interest_evidence: {basis} evidence for customer '
               || {CUSTOMER} || ' without a current {purpose} opt-in'
               as violation
        from marketing.interest_evidence
        where lower(cast({quote(basis_column)} as varchar)) = '{basis}'
          and (customer_id is null
               or cast(customer_id as varchar) not in (select customer_id from {allowed}))
        union all
        select distinct 'marketing.interest_evidence: {basis} evidence for customer '
               || {CUSTOMER} || ' on ' || coalesce(cast(interest as varchar), 'null')
               || ' without a signal observed during the {purpose} consent in force'
               as violation
        from marketing.interest_evidence as evidence
        where lower(cast({quote(basis_column)} as varchar)) = '{basis}'
          and cast(customer_id as varchar) in (select customer_id from {allowed})
          and lower(trim(cast(evidence.interest as varchar))) in ({allowed_list})
          and not exists (
              select 1 from {sources} as s
              where s.customer_id = cast(evidence.customer_id as varchar)
                {same_interest})
    """
    return Check(sql, f"{basis} evidence against the consent ledger and its signals")


def evidence_within_what_its_signals_can_give(candidate: Candidate) -> Check:
    """Each contribution is at most what the customer's signals of that interest could give
    at full weight (decay only lowers a signal), capped per basis: browsing and usage from
    signals observed during the consent, declared from surveys and contests inside the
    profiling window. The existence checks are met by one such signal, so a model that
    also adds signals from outside the window must be seen here."""
    columns = candidate.require_columns(
        SCHEMA, "interest_evidence", "customer_id", "interest", "contribution"
    )
    basis_column = pick_column(columns, "marketing.interest_evidence", *BASIS_COLUMNS)
    signals = {"declared": (profile_signals(candidate), "profiling window")}
    for basis, purpose in CONSENTED_BASES.items():
        consented = consented_signals(candidate, basis, purpose, sensitive_reader(candidate))
        signals[basis] = (consented, f"{purpose} consent")
    parts = []
    for basis, (table, window) in signals.items():
        cap = float(scoring_rules(candidate, basis).get("max_points") or 0)
        parts.append(f"""
            select 'marketing.interest_evidence: {basis} contribution '
                   || cast(evidence.contribution as varchar) || ' for customer '
                   || coalesce(cast(evidence.customer_id as varchar), 'null') || ' on '
                   || cast(evidence.interest as varchar)
                   || ', more than its signals inside the {window} can give ('
                   || cast(bounds.bound as varchar) || ')' as violation
            from marketing.interest_evidence as evidence
            join (
                select customer_id, interest, least(sum(points), {cap}) as bound
                from {table} group by customer_id, interest
            ) as bounds
              on bounds.customer_id = cast(evidence.customer_id as varchar)
             and bounds.interest = lower(trim(cast(evidence.interest as varchar)))
            where lower(cast({quote(basis_column)} as varchar)) = '{basis}'
              and cast(evidence.contribution as double) > bounds.bound + 0.01
        """)
    return Check(" union all ".join(parts), "every contribution against its signals")


def browsing_evidence_with_consent(candidate: Candidate) -> Check:
    return evidence_with_consent(candidate, "browsing")


def usage_evidence_with_consent(candidate: Candidate) -> Check:
    return evidence_with_consent(candidate, "usage")


def only_migrated_open_accounts(candidate: Candidate) -> Check:
    sql = customers_not_in(
        candidate,
        marketable_customers(candidate),
        "is not an open account on the Proximus platform (unmigrated Scarlet, closed or unknown)",
    )
    return Check(sql, "4 marketing tables against the CRM customers")


def sensitive_categories(candidate: Candidate) -> dict[str, list[str]]:
    """Category -> its other spellings: the letter's three, plus the configured ones."""
    configured = candidate.ctx.config.get(SENSITIVE_CATEGORY_KEY) or {}
    if not isinstance(configured, dict):
        configured = {category: [] for category in configured}
    return {category: [] for category in LETTER_SENSITIVE_CATEGORIES} | {
        category: list(spellings or []) for category, spellings in configured.items()
    }


def sensitive_reader(candidate: Candidate) -> str:
    """A SQL function, registered on the gate's own connection, true for a sensitive value in
    any spelling: a sensitive category (the letter's, and the configured ones with their
    other spellings) or a catalogue site or app whose landing category is one.

    Values are read with the shared pure normaliser (privacy_pipeline.vocabulary), in
    Python: the models' SQL (macro normalised_term) is not reused, so a bug there is seen.
    A second function (``sensitive_category_reader``) names the sensitive category a value
    falls in, for the built-in expectation the DPO reads.
    """
    if "sensitive_reader" not in candidate.cache:
        categories = sensitive_categories(candidate)
        terms = sensitive_terms(categories)
        # The category each stem belongs to (the first one, in the letter's order).
        category_terms = [
            (normalise_term(category), sensitive_terms({category: spellings}))
            for category, spellings in categories.items()
        ]
        catalogue = candidate.rows("select app_or_site, category from landing.site_catalogue")
        sites = {
            normalise_term(site): category
            for site, category in catalogue
            if is_sensitive(category, terms) and normalise_term(site)
        }

        def is_sensitive_value(value: str | None) -> bool:
            return is_sensitive(value, terms) or normalise_term(value) in sites

        def category_of(value: str | None) -> str | None:
            """The sensitive category a value names (a site's: its catalogue category's),
            else the normalised value itself."""
            term = normalise_term(value)
            named = sites.get(term, term)
            for category, stems in category_terms:
                if is_sensitive(named, stems):
                    return category
            return term

        token = secrets.token_hex(4)
        reader, namer = f"gate_is_sensitive_{token}", f"gate_sensitive_category_{token}"
        candidate.con.create_function(
            reader, is_sensitive_value, ["VARCHAR"], "BOOLEAN", side_effects=False
        )
        candidate.con.create_function(
            namer, category_of, ["VARCHAR"], "VARCHAR", side_effects=False
        )
        candidate.cache["sensitive_reader"] = reader
        candidate.cache["sensitive_category_reader"] = namer
        candidate.cache["sensitive_category_names"] = sorted(
            {category for category, _ in category_terms if category}
        )
    return str(candidate.cache["sensitive_reader"])


def value_readings(candidate: Candidate) -> str:
    """table_name, column_name, value, sensitive, category: every distinct value of the text
    columns of the marketing tables (customer ids aside) and of their interest columns,
    each read once by the sensitive readers (``sensitive_reader``).

    The readers are Python functions: materialised here, they run once per distinct value
    (a few dozen), not once per row, which a query planner could otherwise choose by
    pushing a filter on their result below the ``distinct``."""
    is_sensitive_value = sensitive_reader(candidate)
    category_of = candidate.cache["sensitive_category_reader"]
    selects = []
    for table in TABLES:
        for column, data_type in candidate.require_table(SCHEMA, table).items():
            if column == "interest" or (data_type.upper() == "VARCHAR" and column != "customer_id"):
                selects.append(
                    f"""select distinct '{table}' as table_name, '{column}' as column_name,
                               cast({quote(column)} as varchar) as value
                        from marketing.{quote(table)}"""
                )
    none = "select null as table_name, null as column_name, null::varchar as value where false"
    values = candidate.materialise(
        "gate_marketing_text_values", " union all ".join(selects) or none
    )
    return candidate.materialise(
        "gate_marketing_value_readings",
        f"""select table_name, column_name, value,
                   coalesce({is_sensitive_value}(value), false) as sensitive,
                   {category_of}(value) as category
            from {values}""",
    )


def no_sensitive_category(candidate: Candidate) -> Check:
    readings = value_readings(candidate)
    sql = f"""
        select distinct 'marketing.' || table_name || '.' || column_name
               || ': sensitive value ' || value as violation
        from {readings}
        where sensitive
    """
    # The set is the category names of the letter and the configuration: never personal.
    built_in = BuiltIn(
        "ExpectColumnValuesToNotBeInSet",
        "text values of the marketing tables, normalised, each read as the sensitive "
        "category it names (a site or app as its catalogue category)",
        f"select category as value from {readings}",
        (("value_set", list(candidate.cache["sensitive_category_names"])),),
    )
    return Check(sql, "text columns of 4 marketing tables", built_in)


def only_allowed_interests(candidate: Candidate) -> Check:
    """Interests outside the allow-list; sensitive ones are no_sensitive_category's to report."""
    allowed_interests = list(candidate.ctx.config.get("allowed_interests", []))
    allowed = ", ".join(sql_literal(i) for i in allowed_interests)
    readings = value_readings(candidate)
    sql = f"""
        select distinct 'marketing.' || table_name || ': interest '
               || coalesce(value, 'null') || ' is not in allowed_interests' as violation
        from {readings}
        where column_name = 'interest'
          and (value is null or (value not in ({allowed or "null"}) and not sensitive))
    """
    built_in = BuiltIn(
        "ExpectColumnValuesToBeInSet",
        "interests of the marketing tables (sensitive ones aside)",
        f"""select value from {readings}
            where column_name = 'interest' and (value is null or not sensitive)""",
        (("value_set", allowed_interests),),
    )
    return Check(sql, "interest columns of the marketing tables", built_in)


def scores_within_bounds(candidate: Candidate) -> Check:
    candidate.require_columns(SCHEMA, "customer_interests", "score")
    selects, values = [], []
    for table in TABLES:
        for column in candidate.require_table(SCHEMA, table):
            if column == "score" or column.endswith("_score"):
                values.append(
                    f"select try_cast({quote(column)} as double) as value "
                    f"from marketing.{quote(table)}"
                )
                selects.append(
                    f"""select 'marketing.{table}: customer ' || {CUSTOMER} || ' has {column} '
                               || coalesce(cast({quote(column)} as varchar), 'null') as violation
                        from marketing.{quote(table)}
                        where {quote(column)} is null or isnan(cast({quote(column)} as double))
                           or {quote(column)} < 0 or {quote(column)} > 100"""
                )
    built_in = BuiltIn(
        "ExpectColumnValuesToBeBetween",
        "scores of the marketing tables",
        union_values(values),
        (("min_value", 0), ("max_value", 100)),
    )
    return Check(union_all(selects), "every score column of the marketing tables", built_in)


def no_objection_lifted_by_a_choice_that_cannot_lift(candidate: Candidate) -> Check:
    # The objectors the plain latest-choice promise already names are left to it, so each
    # violation is reported once, by the promise that explains it.
    hidden = candidate.materialise(
        "gate_objectors_hidden_by_invalid_opt_ins",
        f"""
        select customer_id
        from {objectors_ignoring_choices_that_cannot_lift(candidate, "direct_marketing")}
        except
        select customer_id from {opted_out_customers(candidate, "direct_marketing")}
        """,
    )
    sql = customers_in(
        candidate,
        hidden,
        "who objected to direct marketing; only an opt-in that can be true, recorded on "
        "a platform that may still lift it, withdraws an objection",
    )
    return Check(sql, "4 marketing tables against the durable consent ledger")


def declared_evidence_from_proximus_surveys_and_contests(candidate: Candidate) -> Check:
    columns = candidate.require_columns(SCHEMA, "interest_evidence", "customer_id", "interest")
    basis_column = pick_column(columns, "marketing.interest_evidence", *BASIS_COLUMNS)
    sources = profile_sources(candidate)
    sql = f"""
        select distinct 'marketing.interest_evidence: declared ' || coalesce(interest, 'null')
               || ' evidence for customer ' || {CUSTOMER} || ' without a Proximus survey '
               || 'answer or Proximus contest entry of that interest, recorded after the '
               || 'account was created and by the end of the run date' as violation
        from marketing.interest_evidence as evidence
        where lower(cast({quote(basis_column)} as varchar)) = 'declared'
          and not exists (
              select 1 from {sources} as s
              where s.customer_id = cast(evidence.customer_id as varchar)
                and s.interest = lower(trim(cast(evidence.interest as varchar))))
    """
    return Check(sql, "declared evidence against the landing surveys and contests")


PROMISES = (
    Promise(
        "every_marketing_table_is_built",
        "The four marketing tables exist in the candidate output (a missing table cannot be "
        "checked, so it cannot be published).",
        every_table_built,
    ),
    Promise(
        "no_direct_marketing_objection_in_marketing",
        "No customer whose latest direct_marketing choice in the whole consent ledger "
        "(Scarlet or Proximus platform) is opt_out appears in any marketing table.",
        no_direct_marketing_objection,
    ),
    Promise(
        "partner_audiences_only_with_partner_offers_opt_in",
        "Partner audiences hold only customers whose current partner_offers choice is an "
        "opt_in recorded on the Proximus platform (after their migration, not withdrawn "
        "since).",
        partner_audiences_with_proximus_opt_in,
    ),
    Promise(
        "browsing_evidence_only_with_browsing_consent",
        "Browsing evidence exists only for customers whose current personalisation_browsing "
        "choice is an opt_in on the Proximus platform, and rests on traffic to a catalogue "
        "site of that interest observed during that consent (prior consent: never traffic "
        "from before it).",
        browsing_evidence_with_consent,
    ),
    Promise(
        "usage_evidence_only_with_usage_consent",
        "Usage evidence (calls, devices) exists only for customers whose current "
        "personalisation_usage choice is an opt_in on the Proximus platform, and rests on a "
        "call or device observed during that consent (never before it) that the scoring.usage "
        "rules map to that interest.",
        usage_evidence_with_consent,
    ),
    Promise(
        "evidence_within_what_its_signals_can_give",
        "Every contribution in marketing.interest_evidence is at most what the customer's "
        "signals of that interest could give at full weight, capped per basis (scoring): "
        "browsing and usage signals observed during the consent, declared ones inside the "
        "profiling window. No signal from outside adds to it, even beside one from inside.",
        evidence_within_what_its_signals_can_give,
    ),
    Promise(
        "only_migrated_open_accounts_in_marketing",
        "Every customer in a marketing table is a Proximus account or a Scarlet account "
        "migrated to the Proximus platform, and not closed, at the end of the run date.",
        only_migrated_open_accounts,
    ),
    Promise(
        "no_sensitive_category_in_marketing",
        "No marketing table holds a sensitive category (sexual, religious, political, or "
        "configured) in any spelling (case, spaces, separators, zero-width characters, other "
        "forms such as politics or adult) or a site or app of one.",
        no_sensitive_category,
    ),
    Promise(
        "only_allowed_interests_in_marketing",
        "Every interest in a marketing table is one of allowed_interests of the configuration: "
        "nothing else is scored, used to target or published.",
        only_allowed_interests,
    ),
    Promise(
        "no_objection_lifted_by_an_impossible_or_late_legacy_opt_in",
        "No customer appears in a marketing table whose latest direct_marketing refusal in "
        "the durable consent ledger was only followed by opt-ins that cannot lift it: one "
        "dated after the run or with an impossible offset, an invalid row, or a "
        "legacy-platform opt-in recorded after the customer's migration (objectors whose "
        "latest choice is the refusal itself are checked by "
        "no_direct_marketing_objection_in_marketing).",
        no_objection_lifted_by_a_choice_that_cannot_lift,
    ),
    Promise(
        "declared_evidence_only_from_proximus_surveys_and_contests_after_account_creation",
        "Every declared interest in marketing.interest_evidence is backed by a survey answer "
        "or an entry in a contest organised by Proximus (no partner_id) of that interest, "
        "recorded after the account's creation (a Scarlet account's migration), outside any "
        "period in which the customer "
        "objected to direct marketing, by the end of the run date and not after the run.",
        declared_evidence_from_proximus_surveys_and_contests,
    ),
    Promise(
        "interest_scores_between_0_and_100",
        "Every interest score is a number from 0 to 100.",
        scores_within_bounds,
    ),
)
