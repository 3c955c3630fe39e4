"""Access requests: everything the pipeline holds about one customer, as JSON or a page.

``privacy-pipeline access --warehouse DIR --customer-id ID --output FILE [--format html]``
and, every night, each access request received by the end of the run date
(``privacy_pipeline.rights``) read the stores of one warehouse, never the landing zone:

* consent: the ledger's events of the customer (``restricted/consent_ledger.duckdb``), the
  latest recorded choice per purpose and the legal basis of each purpose (from the letter:
  objection-based or consent-based, docs/privacy-rules.md rule 1);
* interest scores and their evidence, segments, partner audiences: every run date
  published in ``warehouse.duckdb`` (marketing tables);
* the restricted DPO rows about them (quarantined rows naming them, rejected privacy
  events, their requests in the register);
* the statement that location reports hold only counts.
See docs/dpo.md.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from pathlib import Path
from typing import Any

import duckdb

from privacy_pipeline.publish import while_locked
from privacy_pipeline.restricted import restricted_db

FORMATS = ("json", "html")
TEMPLATE = "access.html.j2"
# From the letter (docs/privacy-rules.md, rule 1); int_consent__purposes holds the same.
LEGAL_BASIS = {
    "direct_marketing": "legitimate interest: allowed unless you object",
    "location_analytics": "legitimate interest: allowed unless you object; "
    "only anonymous counts of at least k people are published",
    "personalisation_browsing": "consent: off unless you opted in",
    "personalisation_usage": "consent: off unless you opted in",
    "partner_offers": "consent: off unless you opted in",
}
LOCATION_STATEMENT = (
    "Location reports hold only counts of people per area and hour and per event, each "
    "of at least k people, never a person: nothing in them is about you individually, and "
    "your location never leaves the pipeline."
)
MARKETING_TABLES = (
    "marketing.customer_interests",
    "marketing.interest_evidence",
    "marketing.segment_members",
    "marketing.partner_audiences",
)


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> list[dict[str, Any]]:
    try:
        cursor = con.execute(sql, params)
    except duckdb.Error:
        return []  # a table not written yet holds nothing about anyone
    names = [d[0] for d in cursor.description]
    return [
        {
            n: (v.isoformat() if isinstance(v, dt.date | dt.datetime) else v)
            for n, v in zip(names, r, strict=True)
        }
        for r in cursor.fetchall()
    ]


@contextlib.contextmanager
def open_read_only(db: Path):
    if not db.exists():
        yield None
        return
    con = while_locked(lambda: duckdb.connect(str(db), read_only=True), db)
    try:
        yield con
    finally:
        con.close()


def collect(warehouse_dir: Path, customer_id: str) -> dict[str, Any]:
    """What the warehouse's stores hold about ``customer_id``."""
    warehouse_dir = Path(warehouse_dir)
    held: dict[str, Any] = {
        "customer_id": customer_id,
        "generated_at": dt.datetime.now(dt.UTC).isoformat(),
    }
    with open_read_only(warehouse_dir / "restricted" / "consent_ledger.duckdb") as ledger:
        history = (
            rows(
                ledger,
                "select event_id, purpose, choice, channel, platform, recorded_at, "
                "first_received_at from events where trim(customer_id) = ? "
                "order by recorded_at, event_id",
                [customer_id],
            )
            if ledger
            else []
        )
    held["consent"] = consent_section(history)
    marketing: dict[str, list] = {}
    with open_read_only(warehouse_dir / "warehouse.duckdb") as warehouse:
        for table in MARKETING_TABLES:
            marketing[table.split(".")[1]] = (
                rows(
                    warehouse,
                    f"select * from {table} where customer_id = ? order by all",
                    [customer_id],
                )
                if warehouse
                else []
            )
    held["interest_scores"] = marketing["customer_interests"]
    held["interest_evidence"] = marketing["interest_evidence"]
    held["segments"] = marketing["segment_members"]
    held["partner_audiences"] = marketing["partner_audiences"]
    held["restricted_dpo_rows"] = restricted_rows(warehouse_dir, customer_id)
    held["location"] = LOCATION_STATEMENT
    return held


def consent_section(history: list[dict[str, Any]]) -> dict[str, Any]:
    latest: dict[str, dict[str, Any]] = {}
    for event in history:  # ordered by recorded_at: the last one per purpose wins
        purpose = (event.get("purpose") or "").strip().lower()
        if purpose in LEGAL_BASIS:
            latest[purpose] = event
    return {
        "purposes": [
            {
                "purpose": purpose,
                "legal_basis": basis,
                "latest_choice": (latest.get(purpose) or {}).get("choice"),
                "latest_choice_recorded_at": (latest.get(purpose) or {}).get("recorded_at"),
            }
            for purpose, basis in LEGAL_BASIS.items()
        ],
        "history": history,
    }


def restricted_rows(warehouse_dir: Path, customer_id: str) -> dict[str, list]:
    with open_read_only(restricted_db(warehouse_dir)) as store:
        if store is None:
            return {"quarantined_rows": [], "rejected_privacy_events": [], "requests": []}
        return {
            "quarantined_rows": rows(
                store,
                "select run_date, source_table, source_file, reason, row_data "
                "from main.quarantined_rows "
                "where json_extract_string(row_data, '$.customer_id') = ? order by all",
                [customer_id],
            ),
            "rejected_privacy_events": rows(
                store,
                "select * from main.rejected_privacy_events where customer_id = ? order by all",
                [customer_id],
            ),
            "requests": rows(
                store,
                "select request_id, kind, received_at, channel, addressed_to, forwarded, "
                "completed_at, outcome from main.data_subject_requests "
                "where customer_id = ? order by received_at",
                [customer_id],
            ),
        }


def render_html(held: dict[str, Any]) -> str:
    """A readable page (Jinja2, every value escaped)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
    )
    return env.get_template(TEMPLATE).render(held=held)


def write_access_answer(
    warehouse_dir: Path,
    customer_id: str | None,
    output: Path,
    output_format: str = "json",
    request: dict[str, Any] | None = None,
) -> dict[str, Any]:
    if output_format not in FORMATS:
        raise ValueError(f"unknown format {output_format!r}; known: {', '.join(FORMATS)}")
    held = collect(warehouse_dir, customer_id or "")
    if request is not None:
        held["request"] = request
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    text = render_html(held) if output_format == "html" else json.dumps(held, indent=2, default=str)
    output.write_text(text, encoding="utf-8")
    return held
