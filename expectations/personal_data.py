"""Personal data: no direct identifier leaves the pipeline, in any published table.

Checked across every table and view of the published schemas (marketing, location, dpo),
including JSON text. (Quarantined rows are not published: they go to the DPO's restricted
store, see privacy_pipeline.restricted; a candidate that published them would be checked.)
Identifiers are taken from the landing zone itself (every msisdn, called number, e-mail and
name the run received), so a model that forgets to pseudonymise cannot hide it. Examples
are masked: the report must not become a leak of its own.
"""

from __future__ import annotations

import re

from privacy_pipeline import config
from privacy_pipeline.contract import TABLES
from privacy_pipeline.gates import BuiltIn, Check, ColumnSet, Promise
from privacy_pipeline.gates.candidate import Candidate, sql_literal, union_values
from privacy_pipeline.gates.declared_columns import declared_columns
from privacy_pipeline.gates.landing_facts import (
    area_names,
    digits,
    email_addresses,
    full_names,
    identifier_pseudonyms,
    phone_numbers,
)
from privacy_pipeline.gates.published_values import masked, published_values
from privacy_pipeline.publish import CANDIDATE_TABLES

DESCRIPTION = """
Personal data: across every published schema (marketing, location, dpo) no column named
or shaped like a direct identifier and no value matching an msisdn, e-mail address,
called number or customer name of the landing zone.
"""

# Column names of direct identifiers (whole words of a snake_case name). Pseudonyms of
# them count too: no published table needs a linkable key of a phone number.
IDENTIFIER_WORDS = (
    r"msisdns?|e_?mails?|mail|phone|phone_number|telephone|imei|imsi|iccid|iban|passport"
    r"|ssn|national_(id|number|register)|rijksregisternummer|called|calling|callee|caller"
    r"|street|address|ip|ip_address|mac_address|dob|date_of_birth|birth_?date"
    r"|full_?name|first_?name|last_?name|given_?name|family_?name|surname"
    r"|customer_name|contact_name"
)
IDENTIFIER_COLUMN = re.compile(rf"(^|_)({IDENTIFIER_WORDS})(_|$)")
CONTRACT_IDENTIFIERS = {c.name for t in TABLES for c in t.columns if c.identifier}
# Both rules as one pattern, for the built-in expectation the DPO reads in Data Docs.
IDENTIFIER_COLUMN_NAME = (
    rf"^({'|'.join(re.escape(name) for name in sorted(CONTRACT_IDENTIFIERS))})$"
    rf"|{IDENTIFIER_COLUMN.pattern}"
)

EMAIL_PATTERN = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
# Phone-number-like spans: with separators, and compact digit runs.
NUMBER_SPANS = (r"\+?[0-9][0-9 ./()-]{6,20}[0-9]", r"\+?[0-9]{8,15}")
# International numbers (+.. or 00..) and Belgian national ones (0 then 8 or 9 digits),
# standing alone (not inside a longer word such as a hexadecimal pseudonym).
PHONE_SHAPES = (
    r"(^|[^0-9A-Za-z])(\+|00)[1-9][0-9]{7,14}([^0-9A-Za-z]|$)",
    r"(^|[^0-9A-Za-z])\+32[ ./-]?4[0-9]{2}([ ./-]?[0-9]{2}){3}([^0-9A-Za-z]|$)",
    r"(^|[^0-9A-Za-z])0[1-9][0-9]{7,8}([^0-9A-Za-z]|$)",
    r"(^|[^0-9A-Za-z])04[0-9]{2}([ ./-][0-9]{2}){3}([^0-9A-Za-z]|$)",
)
# What every phone number has (8 or more digits, maybe with separators): a cheap filter.
LONG_NUMBER = r"[0-9][0-9 ./()+-]{6,}[0-9]"
WORDS_WITH_A_LETTER = r"[0-9]*[A-Za-z_][A-Za-z0-9_]*"


def identifier_columns(candidate: Candidate) -> Check:
    violations = [
        f"{schema}.{table}.{column}: column named like a direct identifier"
        for schema, table in candidate.tables()
        for column in candidate.columns(schema, table)
        if column.lower() in CONTRACT_IDENTIFIERS or IDENTIFIER_COLUMN.search(column.lower())
    ]
    names = [
        column.lower()
        for schema, table in candidate.tables()
        for column in candidate.columns(schema, table)
    ]
    scope = f"column names of {len(candidate.tables())} published tables"
    built_in = BuiltIn(
        "ExpectColumnValuesToNotMatchRegex",
        "column names of the published tables",
        union_values([f"select {sql_literal(name)} as value" for name in names]),
        (("regex", IDENTIFIER_COLUMN_NAME),),
    )
    return Check(
        values_sql(violations), scope, built_in, rows_checked=len(names), checked_unit="column"
    )


def only_declared_columns(candidate: Candidate) -> Check:
    """Every published table of the candidate has exactly the columns its marts yml
    declares: an allow-list, so a column nobody declared (a list of the people behind a
    figure, a customer id, an msisdn in a location table) is not published, whatever its
    name. A published table missing from the candidate is the other promises' to report
    (and publication refuses it)."""
    declared = declared_columns(config.DBT_PROJECT_DIR)
    present = set(candidate.tables())
    violations, column_sets = [], []
    for table in CANDIDATE_TABLES:
        schema, name = table.split(".")
        if (schema, name) not in present:
            continue
        columns = tuple(column.lower() for column in candidate.columns(schema, name))
        if table not in declared:
            violations.append(f"{table}: no column is declared for it in the marts yml")
            continue
        column_sets.append(ColumnSet(table, columns, declared[table]))
        violations += [
            f"{table}.{column}: column not declared in the marts yml"
            for column in columns
            if column not in declared[table]
        ]
        violations += [
            f"{table}.{column}: declared column missing"
            for column in declared[table]
            if column not in columns
        ]
    checked = sum(len(column_set.columns) for column_set in column_sets)
    scope = f"columns of {len(column_sets)} published tables against the marts yml"
    return Check(
        values_sql(violations),
        scope,
        rows_checked=checked,
        checked_unit="column",
        column_sets=tuple(column_sets),
    )


def values_sql(violations: list[str]) -> str:
    if not violations:
        return "select null::varchar as violation where false"
    rows = ", ".join(f"({sql_literal(text)})" for text in violations)
    return f"select violation from (values {rows}) as found(violation)"


def number_values(candidate: Candidate) -> str:
    """Published values holding a phone-number-like run of digits, with ``numbers``: the
    value with every word containing a letter blanked (pseudonyms, ids, JSON keys), so a
    digit run inside a hexadecimal pseudonym is not taken for a phone number."""
    scanned = published_values(candidate)
    long_number = sql_literal(LONG_NUMBER)
    return candidate.materialise(
        "gate_number_values",
        f"""
        select * from (
            select table_name, column_name, value,
                   regexp_replace(value, {sql_literal(WORDS_WITH_A_LETTER)}, ' ', 'g') as numbers
            from {scanned.table}
            where regexp_matches(value, {long_number})
        ) as candidates
        where regexp_matches(numbers, {long_number})
        """,
    )


def number_tokens(candidate: Candidate) -> str:
    """Every phone-number-like span of every published value, as international digits."""
    values = number_values(candidate)
    spans = " union ".join(
        f"""select table_name, column_name,
                   unnest(regexp_extract_all(numbers, {sql_literal(pattern)})) as token
            from {values}"""
        for pattern in NUMBER_SPANS
    )
    return candidate.materialise(
        "gate_number_tokens",
        f"""select distinct table_name, column_name, token, {digits("token")} as number
            from ({spans}) as spans""",
    )


def landing_number_matches(candidate: Candidate, kind: str) -> str:
    return f"""
        select tokens.table_name || '.' || tokens.column_name || ': {kind} of the landing zone '
               || {masked("tokens.token")} as violation
        from {number_tokens(candidate)} as tokens
        join {phone_numbers(candidate)} as landing
          on landing.number = tokens.number and landing.kind = '{kind}'
    """


def msisdn_values(candidate: Candidate) -> Check:
    scanned = published_values(candidate)
    shaped = " union all ".join(
        f"""select table_name, column_name,
                   trim(unnest(regexp_extract_all(value, {sql_literal(p)})), ' ') as number
            from {number_values(candidate)}"""
        for p in PHONE_SHAPES
    )
    sql = f"""
        {landing_number_matches(candidate, "msisdn")}
        union
        select table_name || '.' || column_name || ': value shaped like a phone number '
               || {masked("regexp_replace(number, '^[^0-9+]|[^0-9]$', '', 'g')")}
        from ({shaped}) as found
    """
    return Check(sql, f"{scanned.scope}; every msisdn of the landing zone")


def called_number_values(candidate: Candidate) -> Check:
    scanned = published_values(candidate)
    return Check(
        landing_number_matches(candidate, "called number"),
        f"{scanned.scope}; every called number of the landing zone",
    )


def email_values(candidate: Candidate) -> Check:
    scanned = published_values(candidate)
    sql = f"""
        select distinct table_name || '.' || column_name || ': e-mail address '
               || {masked("address")} as violation
        from (
            select table_name, column_name,
                   unnest(regexp_extract_all(value, {sql_literal(EMAIL_PATTERN)})) as address
            from {scanned.table} where contains(value, '@')
            union all
            select table_name, column_name, value
            from {scanned.table} join {email_addresses(candidate)} as landing
              on lower(trim(value)) = landing.email
            where contains(value, '@')
        ) as found
    """
    return Check(sql, f"{scanned.scope}; e-mail shapes and every e-mail of the landing zone")


def full_name_values(candidate: Candidate) -> Check:
    """Whole values, and the string values inside JSON text (quarantined rows).

    A value that is also an area name of the landing cells (``De Haan`` is a municipality
    and a surname) is that area, published by design: taking it for the customer's name
    refused every night because one customer bore a town's name."""
    scanned = published_values(candidate)
    sql = f"""
        select distinct table_name || '.' || column_name || ': customer name '
               || {masked("name")} as violation
        from (
            select table_name, column_name, lower(trim(value)) as name from {scanned.table}
            where contains(value, ' ')
            union
            select table_name, column_name,
                   lower(trim(unnest(regexp_extract_all(value, '"([^"]{{5,}})"', 1))))
            from {scanned.table} where value like '%"%'
        ) as found
        join {full_names(candidate)} as landing on landing.full_name = found.name
        where found.name not in (select area_name from {area_names(candidate)})
    """
    return Check(sql, f"{scanned.scope}; every customer name of the landing zone")


def pseudonym_values(candidate: Candidate) -> Check:
    """No published value may be a linkable key of a phone number. (The DPO's quarantine
    keeps pseudonymised identifiers on purpose, in the restricted store, never published.)"""
    scanned = published_values(candidate)
    sql = f"""
        select distinct table_name || '.' || column_name || ': pseudonym of a phone number '
               || {masked("value")} as violation
        from {scanned.table}
        join {identifier_pseudonyms(candidate)} as landing
          on lower(regexp_replace(trim(value), '^pseudonym:', '')) = landing.pseudonym
        where length(value) >= 64
    """
    return Check(sql, f"{scanned.scope}; pseudonyms of every msisdn and called number")


PROMISES = (
    Promise(
        "no_direct_identifier_column",
        "No published column is named like a direct identifier (msisdn, e-mail, phone or "
        "called number, name, address, national number), nor a pseudonym of one.",
        identifier_columns,
    ),
    Promise(
        "every_published_table_has_exactly_its_declared_columns",
        "Every published table has exactly the columns declared and described for it in "
        "the marts yml: no other column, whatever its name (a customer id, an msisdn or the "
        "people behind a figure in a location table), is published.",
        only_declared_columns,
    ),
    Promise(
        "no_msisdn_value",
        "No published value is an msisdn of the landing zone or is shaped like a phone "
        "number (+32 470 .., 0032.., 0470 ..), in whatever format or inside JSON text.",
        msisdn_values,
    ),
    Promise(
        "no_called_number_value",
        "No published value is a number a customer called or was called from.",
        called_number_values,
    ),
    Promise(
        "no_email_value",
        "No published value is or contains an e-mail address.",
        email_values,
    ),
    Promise(
        "no_phone_number_pseudonym_value",
        "No published value is the pseudonym of an msisdn or called number (a key that "
        "links a person across tables); only the DPO's restricted store keeps them.",
        pseudonym_values,
    ),
    Promise(
        "no_customer_name_value",
        "No published value is a customer's full name.",
        full_name_values,
    ),
)
