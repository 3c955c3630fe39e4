"""Rights: no customer who asked for erasure appears in the candidate or the published output.

The erased customers are taken from the landing zone itself, not from the models: every
row of ``landing.data_subject_requests`` whose kind reads as erasure and whose received_at
is before the end of the run date (the row's other problems do not matter: an erasure is
honoured even if its request row is quarantined), plus the register of erasures applied by
earlier runs (``landing.erased_customers``, written by load_landing from the restricted
store). Checked: every customer_id column and the customer named inside JSON row data of
the candidate's published schemas and restricted DPO tables; and every customer_id column
of the published warehouse for the register's customers (their erasure was applied by an
earlier run, so the published dates must already be clean). Examples are masked.
"""

from __future__ import annotations

import duckdb
from privacy_pipeline.gates import CannotCheck, Check, Promise
from privacy_pipeline.gates.candidate import Candidate, sql_literal, union_all
from privacy_pipeline.gates.landing_facts import erased_customers as landing_erased_customers
from privacy_pipeline.gates.landing_facts import has_erasure_sources
from privacy_pipeline.gates.published_values import masked
from privacy_pipeline.publish import PUBLISHED_TABLES, while_locked
from privacy_pipeline.sql import qualified

DESCRIPTION = """
Rights: no customer who asked for erasure (by the end of the run date, or in an earlier
run) appears in any table of the candidate output or of the published warehouse.
"""

CANDIDATE_SCHEMAS = ("marketing", "location", "dpo", "dpo_restricted")
PUBLISHED = "published_for_rights"


def text(column: str) -> str:
    return f"nullif(trim(cast({column} as varchar)), '')"


def erased_customers(candidate: Candidate) -> str:
    """Customer ids whose erasure applies to this run, from the landing zone."""
    if not has_erasure_sources(candidate):
        raise CannotCheck("the landing zone has no data_subject_requests view")
    return landing_erased_customers(candidate)


def customer_columns(candidate: Candidate) -> list[tuple[str, str, str]]:
    return [
        (schema, table, column)
        for schema, table in candidate.tables(CANDIDATE_SCHEMAS)
        for column in candidate.columns(schema, table)
        if column in ("customer_id", "row_data")
    ]


def in_candidate(candidate: Candidate) -> Check:
    erased = erased_customers(candidate)
    selects = []
    for schema, table, column in customer_columns(candidate):
        value = (
            f"json_extract_string(cast({column} as varchar), '$.customer_id')"
            if column == "row_data"
            else text(column)
        )
        # A quarantined request row is the request record, kept by design (docs/dpo.md).
        requests_kept = (
            " where coalesce(source_table, '') <> 'data_subject_requests'"
            if "source_table" in candidate.columns(schema, table) and column == "row_data"
            else ""
        )
        selects.append(
            f"""select {sql_literal(f"{schema}.{table}.{column}")} || ': erased customer '
                       || {masked("found.customer_id")} as violation
                from (select {value} as customer_id from {schema}.{table}{requests_kept})
                     as found
                join {erased} as erased on erased.customer_id = found.customer_id"""
        )
    columns = customer_columns(candidate)
    return Check(union_all(selects), f"{len(columns)} columns naming a customer in the candidate")


def in_published(candidate: Candidate) -> Check:
    """The register's customers (erased by an earlier run) in the published warehouse."""
    db = candidate.ctx.warehouse_db
    if not db.exists() or not candidate.has_table("landing", "erased_customers"):
        return Check(union_all([]), "nothing published yet")
    if PUBLISHED not in candidate.cache:
        try:
            while_locked(
                lambda: candidate.con.execute(f"attach ? as {PUBLISHED} (read_only)", [str(db)]),
                db,
            )
        except duckdb.Error as exc:
            raise CannotCheck(f"the published warehouse cannot be read: {exc}") from exc
        candidate.cache[PUBLISHED] = PUBLISHED
    present = {
        f"{schema}.{name}"
        for schema, name in candidate.con.execute(
            "select table_schema, table_name from information_schema.columns "
            "where table_catalog = ? and column_name = 'customer_id'",
            [PUBLISHED],
        ).fetchall()
    }
    tables = [t for t in PUBLISHED_TABLES if t in present]
    # Only erasures an earlier run had to apply: one that becomes due tonight (registered
    # earlier, received after that run's date) is checked on the candidate, and tonight's
    # honour_requests cleans the earlier dates after the gates (docs/gates.md). Without
    # the column (an older loader), every registered erasure is expected applied.
    due_earlier = (
        " where erased.due_in_earlier_run is not false"
        if "due_in_earlier_run" in candidate.columns("landing", "erased_customers")
        else ""
    )
    selects = [
        f"""select {sql_literal(table)} || ' (run date ' || cast(run_date as varchar)
                   || '): erased customer ' || {masked("published.customer_id")} as violation
            from {PUBLISHED}.{qualified(table)} as published
            join landing.erased_customers as erased
              on erased.customer_id = published.customer_id{due_earlier}"""
        for table in tables
    ]
    return Check(union_all(selects), f"{len(tables)} published tables, every run date")


PROMISES = (
    Promise(
        "no_erased_customer_in_candidate",
        "No customer who asked for erasure by the end of the run date (or earlier) appears "
        "in any candidate table, the DPO's restricted tables included.",
        in_candidate,
    ),
    Promise(
        "no_erased_customer_in_published_output",
        "No customer whose erasure an earlier run applied (or had to apply: due on its run "
        "date) appears in any published table, whatever its run date.",
        in_published,
    ),
)
