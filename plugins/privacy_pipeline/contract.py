"""The landing-zone contract: the one place that names tables, columns, types, enums and keys.

The loader (``privacy_pipeline.landing``) enforces the structural part (tables and
columns present, usable physical types); the dbt staging models enforce the row-level
part (types, enums, keys, references) with the same definitions, handed to dbt as the
var ``landing_contract`` (see ``dbt_contract``). ``docs/data-contract.md`` explains it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Logical column kinds. The staging macros know how to parse and validate each one.
TEXT = "text"  # free text, trimmed; empty = null
# An identifier, kept as text (no leading-zero or integer surprises), in a safe format:
# privacy_pipeline.vocabulary.IDENTIFIER_PATTERN, else invalid_identifier:<column>.
ID = "id"
# One of Column.values, compared after normalising (privacy_pipeline.vocabulary:
# NFKC, case folding, whitespace, zero-width characters, - and _).
ENUM = "enum"
# An interest or site category: normalised like an enum, then checked against the
# configured vocabularies (allowed_interests, sensitive_categories) by the models.
INTEREST = "interest"
TIMESTAMP = "timestamp"  # ISO 8601 with an offset or Z -> timestamptz
INTEGER = "integer"
DOUBLE = "double"
MSISDN = "msisdn"  # E.164: + then at most 15 digits, the first not 0
POSTAL_CODE = "postal_code"  # Belgian postal code: 4 digits

SENSITIVE_CATEGORY_KEY = "sensitive_categories"


@dataclass(frozen=True)
class Column:
    name: str
    kind: str = TEXT
    required: bool = True
    values: tuple[str, ...] = ()
    # Direct identifiers never leave staging in clear: dropped or replaced by a pseudonym.
    identifier: bool = False
    # Published as delivered (an id, an area name, an interest): a value holding a phone
    # number or an e-mail address would fail the personal-data gate every night, so its
    # row is quarantined instead (contact_details:<column>).
    published: bool = False


@dataclass(frozen=True)
class Table:
    name: str
    source: str
    columns: tuple[Column, ...]
    # Columns whose values identify one row; () = an event stream without a natural key.
    key: tuple[str, ...] = ()
    description: str = ""
    # Per-person network events: a rejected row is recorded by file, row number and
    # reason only, never with its content (a number, a time and a place make a trail).
    event_stream: bool = False
    # An optional table may be absent from the landing zone: it then reads as empty.
    optional: bool = False

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    def column(self, name: str) -> Column:
        return next(column for column in self.columns if column.name == name)


def _enum(name: str, *values: str, required: bool = True) -> Column:
    return Column(name, ENUM, required, tuple(values))


BRANDS = ("scarlet", "proximus")
PURPOSES = (
    "direct_marketing",
    "personalisation_browsing",
    "personalisation_usage",
    "partner_offers",
    "location_analytics",
)
CHOICES = ("opt_in", "opt_out")
CHANNELS = ("myscarlet_web", "myscarlet_app", "email", "letter", "customer_care")
PLATFORMS = ("scarlet_legacy", "proximus")
ANSWER_KINDS = ("count", "yes_no", "rating_1_5")
NETWORKS = ("fixed", "mobile")
DIRECTIONS = ("outgoing", "incoming")
DEVICE_KINDS = ("handset", "home_device")
REQUEST_KINDS = ("access", "erasure")

TABLES: tuple[Table, ...] = (
    Table(
        "customers",
        "crm",
        (
            Column("customer_id", ID, published=True),
            _enum("brand", *BRANDS),
            Column("full_name", TEXT, required=False, identifier=True),
            Column("email", TEXT, required=False, identifier=True),
            Column("msisdn", MSISDN, required=False, identifier=True),
            Column("postal_code", POSTAL_CODE),
            Column("birth_year", INTEGER, required=False),
            Column("created_at", TIMESTAMP),
            Column("closed_at", TIMESTAMP, required=False),
            Column("migrated_at", TIMESTAMP, required=False),
        ),
        key=("customer_id",),
        description="CRM accounts of both brands.",
    ),
    Table(
        "customer_lines",
        "crm",
        (
            Column("customer_id", ID),
            Column("msisdn", MSISDN, identifier=True),
            Column("valid_from", TIMESTAMP),
            Column("valid_to", TIMESTAMP, required=False),
        ),
        key=("msisdn", "valid_from"),
        description="Mobile lines held by customers over time (several per customer, "
        "numbers reassigned); valid_to empty while the line is active. Optional: without "
        "it, customers.msisdn is each customer's one line.",
        optional=True,
    ),
    Table(
        "privacy_preferences",
        "consent",
        (
            Column("event_id", ID),
            Column("customer_id", ID),
            _enum("purpose", *PURPOSES),
            _enum("choice", *CHOICES),
            _enum("channel", *CHANNELS),
            _enum("platform", *PLATFORMS),
            Column("recorded_at", TIMESTAMP),
        ),
        key=("event_id",),
        description="The consent ledger, append-only.",
    ),
    Table(
        "surveys",
        "engagement",
        (Column("survey_id", ID), Column("name", TEXT, required=False)),
        key=("survey_id",),
    ),
    Table(
        "survey_questions",
        "engagement",
        (
            Column("question_id", ID),
            Column("survey_id", ID),
            Column("text", TEXT, required=False),
            Column("interest", INTEREST, published=True),
            _enum("answer_kind", *ANSWER_KINDS),
        ),
        key=("question_id",),
    ),
    Table(
        "survey_responses",
        "engagement",
        (
            Column("response_id", ID),
            Column("customer_id", ID),
            Column("question_id", ID),
            Column("answer", TEXT),
            Column("answered_at", TIMESTAMP),
        ),
        key=("response_id",),
    ),
    Table(
        "contests",
        "engagement",
        (
            Column("contest_id", ID),
            Column("name", TEXT, required=False),
            Column("theme", INTEREST, published=True),
            Column("partner_id", ID, required=False),
            Column("starts_at", TIMESTAMP),
            Column("ends_at", TIMESTAMP),
        ),
        key=("contest_id",),
    ),
    Table(
        "contest_entries",
        "engagement",
        (
            Column("entry_id", ID),
            Column("customer_id", ID),
            Column("contest_id", ID),
            Column("entered_at", TIMESTAMP),
        ),
        key=("entry_id",),
    ),
    Table(
        "partners",
        "reference",
        (
            Column("partner_id", ID, published=True),
            Column("name", TEXT, required=False),
            Column("target_interest", INTEREST, required=False, published=True),
        ),
        key=("partner_id",),
    ),
    Table(
        "site_catalogue",
        "reference",
        (Column("app_or_site", TEXT), Column("category", INTEREST, published=True)),
        key=("app_or_site",),
        description="The limited list of sites and apps that may be used for personalisation.",
    ),
    Table(
        "traffic_events",
        "network",
        (
            Column("customer_id", ID),
            Column("observed_at", TIMESTAMP),
            _enum("network", *NETWORKS),
            Column("app_or_site", TEXT),
            Column("bytes", INTEGER),
        ),
        event_stream=True,
    ),
    Table(
        "call_records",
        "network",
        (
            Column("customer_id", ID),
            Column("started_at", TIMESTAMP),
            Column("ended_at", TIMESTAMP),
            Column("called_number", TEXT, identifier=True),
            _enum("direction", *DIRECTIONS),
        ),
        event_stream=True,
    ),
    Table(
        "device_observations",
        "network",
        (
            Column("customer_id", ID),
            Column("observed_at", TIMESTAMP),
            _enum("kind", *DEVICE_KINDS),
            Column("model", TEXT),
            Column("wifi_state", TEXT, required=False),
        ),
        event_stream=True,
    ),
    Table(
        "network_events",
        "network",
        (
            Column("msisdn", MSISDN, identifier=True),
            Column("cell_id", ID),
            Column("event_at", TIMESTAMP),
        ),
        description="Mobile network signalling, the largest table.",
        event_stream=True,
    ),
    Table(
        "cells",
        "reference",
        (
            Column("cell_id", ID),
            Column("postal_code", POSTAL_CODE),
            Column("municipality", TEXT, published=True),
            Column("province", TEXT, published=True),
            Column("lat", DOUBLE),
            Column("lon", DOUBLE),
        ),
        key=("cell_id",),
    ),
    Table(
        "events",
        "reference",
        (
            Column("event_id", ID, published=True),
            Column("name", TEXT, required=False),
            Column("starts_at", TIMESTAMP),
            Column("ends_at", TIMESTAMP),
        ),
        key=("event_id",),
        description="Public events such as festivals.",
    ),
    Table(
        "event_cells",
        "reference",
        (Column("event_id", ID), Column("cell_id", ID)),
        key=("event_id", "cell_id"),
    ),
    Table(
        "data_subject_requests",
        "rights",
        (
            Column("request_id", ID),
            # Not checked against the customers: a request naming no known customer is
            # kept as unmatched (privacy_pipeline.rights), never quarantined for it.
            Column("customer_id", ID),
            _enum("kind", *REQUEST_KINDS),
            Column("received_at", TIMESTAMP),
            Column("channel", TEXT, required=False),
            Column("addressed_to", TEXT, required=False),
        ),
        key=("request_id",),
        description="Data-subject requests (access, erasure) as received by any channel; "
        "addressed_to is the mailbox or channel the request reached. Optional.",
        optional=True,
    ),
)

# An ISO 8601 instant with an offset some place on Earth has (at most +-14:00, minutes
# below 60). The staging macro iso_timestamp_pattern writes the same rule for dbt; the
# gates and the withdrawal of objectors read it from here.
TRUE_INSTANT_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]{1,9})?)?"
    r"(Z|[+-](0[0-9]|1[0-3])(:?[0-5][0-9])?|[+-]14(:?00)?)$"
)


def instant_sql(text_sql: str) -> str:
    """DuckDB SQL: the instant of a text that matched TRUE_INSTANT_PATTERN, null when it is
    not a real one. ISO 8601 allows a decimal comma; DuckDB's cast reads only the point
    (the staging macro parse_instant does the same for dbt)."""
    return f"try_cast(replace({text_sql}, ',', '.') as timestamptz)"


# Instants of things that happened (a choice recorded, an answer given, a call made): one
# after the moment the run processes its input cannot be true and is quarantined
# (future_timestamp:<column>). Planned instants (an event's schedule, a closing or a
# migration date) are not listed.
PAST_ONLY_INSTANTS = frozenset({
    ("customers", "created_at"),
    ("privacy_preferences", "recorded_at"),
    ("survey_responses", "answered_at"),
    ("contest_entries", "entered_at"),
    ("traffic_events", "observed_at"),
    ("call_records", "started_at"),
    ("call_records", "ended_at"),
    ("device_observations", "observed_at"),
    ("network_events", "event_at"),
    ("data_subject_requests", "received_at"),
})  # fmt: skip

TABLES_BY_NAME: dict[str, Table] = {table.name: table for table in TABLES}
TABLE_NAMES: tuple[str, ...] = tuple(TABLES_BY_NAME)
EVENT_TABLES: tuple[str, ...] = tuple(t.name for t in TABLES if t.event_stream)


def table(name: str) -> Table:
    return TABLES_BY_NAME[name]


def dbt_contract() -> dict[str, Any]:
    """The contract as plain data for dbt (var ``landing_contract``)."""
    return {
        t.name: {
            "source": t.source,
            "key": list(t.key),
            "event_stream": t.event_stream,
            "optional": t.optional,
            "columns": {
                c.name: {
                    "kind": c.kind,
                    "required": c.required,
                    "values": list(c.values),
                    "identifier": c.identifier,
                    "published": c.published,
                    "past_only": (t.name, c.name) in PAST_ONLY_INSTANTS,
                }
                for c in t.columns
            },
        }
        for t in TABLES
    }
