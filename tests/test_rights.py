"""Data-subject requests (issue #14): the register, forwarded and unmatched requests,
nightly access answers, erasure that reaches every copy, and the `access` command.

One warehouse, two real nights (module-scoped): night 1 (D) publishes the baseline and
receives three access requests (one on the right address, one forwarded, one for an
unknown customer) and an erasure of C_PROXIMUS sent to the wrong address, received just
after D (registered, not applied: D publishes the customer); night 2 (D+1) applies it and
publishes. After it, no table and no file under the warehouse holds that customer's id,
number or pseudonym (the DuckDB files are rewritten by the erasure, so no deleted bytes
stay in their free blocks).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from privacy_pipeline.pseudonyms import pseudonym
from privacy_pipeline.publish import PUBLISHED_TABLES

from tests.support.landing import (
    C_PROXIMUS,
    C_SCARLET_LEGACY,
    C_SCARLET_MIGRATED,
    MSISDNS,
    RUN_DATE,
    ts,
    write_landing_zone,
)
from tests.support.pipeline import query, query_restricted, run_cli, run_pipeline

NEXT_DATE = "2026-06-21"
THIRD_DATE = "2026-06-22"
UNKNOWN = "C999"


def request(request_id, customer_id, kind, received_at, addressed_to, channel="email"):
    return {
        "request_id": request_id,
        "customer_id": customer_id,
        "kind": kind,
        "received_at": received_at,
        "channel": channel,
        "addressed_to": addressed_to,
    }


NIGHT_1_REQUESTS = [
    request("REQ-1", C_PROXIMUS, "access", ts(10), "privacy@proximus.com"),
    # a legacy Scarlet account writing to Proximus: forwarded, still answered
    request("REQ-2", C_SCARLET_LEGACY, "access", ts(11), "privacy@proximus.com"),
    request("REQ-3", UNKNOWN, "access", ts(12), "privacy@scarlet.be"),
    # received after the end of D: answered by the night of D+1
    request("REQ-4", C_SCARLET_MIGRATED, "access", ts(9, day=NEXT_DATE), "MyProximus app"),
]
# Received after the end of D and already delivered with D's export (as a backfill after
# an outage reads it): night 1 registers it, pending, and publishes the customer; night 2
# applies it and must publish (attack A, session 11: night 2 was refused, exit 1).
ERASURE = request("REQ-9", C_PROXIMUS, "erasure", ts(8, day=NEXT_DATE), "privacy@scarlet.be")


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    root = tmp_path_factory.mktemp("rights")
    warehouse = root / "warehouse"
    landing = write_landing_zone(
        root / "landing", {"+data_subject_requests": [*NIGHT_1_REQUESTS, ERASURE]}
    )
    first = run_pipeline(landing, warehouse, RUN_DATE)
    assert first.returncode == 0, first.stdout + first.stderr
    night_1_rights = json.loads((warehouse / "runs" / RUN_DATE / "rights.json").read_text())
    assert night_1_rights["erasures_applied"] == []  # received after the end of D
    kept = root / "night1"
    shutil.copytree(warehouse / "restricted", kept / "restricted")
    published_before = {
        table: query(warehouse, f"select count(*) from {table} where customer_id = ?", [C_PROXIMUS])
        for table in PUBLISHED_TABLES
        if table.startswith("marketing.")
    }
    assert published_before["marketing.customer_interests"][0][0] > 0
    access_html = root / "access.html"
    access_run = run_cli(
        "access", "--warehouse", str(warehouse), "--customer-id", C_PROXIMUS,
        "--output", str(access_html), "--format", "html",
    )  # fmt: skip
    assert access_run.returncode == 0, access_run.stderr
    landing = write_landing_zone(
        root / "landing", {"+data_subject_requests": [*NIGHT_1_REQUESTS, ERASURE]}
    )
    second = run_pipeline(landing, warehouse, NEXT_DATE)
    assert second.returncode == 0, second.stdout + second.stderr
    # Night 3: the CRM still delivers the customer, their consent and activity, but no
    # request table at all: the register alone keeps them out.
    landing = write_landing_zone(root / "landing")
    third = run_pipeline(landing, warehouse, THIRD_DATE)
    assert third.returncode == 0, third.stdout + third.stderr
    return {
        "warehouse": warehouse,
        "night1": kept,
        "published_before": published_before,
        "access_html": access_html,
    }


def register(warehouse: Path) -> dict[str, tuple]:
    return {
        row[0]: row[1:]
        for row in query_restricted(
            warehouse,
            "select request_id, customer_id, kind, matched, forwarded, outcome "
            "from main.data_subject_requests",
        )
    }


def test_every_request_is_registered_with_matched_and_forwarded(nights):
    found = register(nights["warehouse"])
    # the erased customer's id left every record of theirs (the key stays)
    assert found["REQ-1"] == (None, "access", True, False, "answered")
    assert found["REQ-2"][1:] == ("access", True, True, "answered")
    assert found["REQ-3"] == (UNKNOWN, "access", False, None, "answered")
    assert found["REQ-4"][1:] == ("access", True, False, "answered")  # a Proximus channel
    assert found["REQ-9"] == (None, "erasure", True, True, "erased")


def test_unmatched_and_forwarded_requests_are_in_the_run_report(nights):
    report = (nights["warehouse"] / "reports" / "runs" / f"{RUN_DATE}.html").read_text()
    assert "REQ-3" in report and UNKNOWN in report and "unmatched" in report
    assert "REQ-2" in report and "forwarded" in report


def test_access_requests_are_answered_each_night(nights):
    answer = json.loads((nights["night1"] / "restricted" / "access" / "REQ-1.json").read_text())
    assert answer["customer_id"] == C_PROXIMUS
    assert answer["request"]["request_id"] == "REQ-1"
    purposes = {p["purpose"]: p for p in answer["consent"]["purposes"]}
    assert purposes["personalisation_browsing"]["latest_choice"] == "opt_in"
    assert "consent" in purposes["personalisation_browsing"]["legal_basis"]
    assert "legitimate interest" in purposes["direct_marketing"]["legal_basis"]
    assert {e["event_id"] for e in answer["consent"]["history"]} == {"PP001"}
    scores = {row["interest"] for row in answer["interest_scores"]}
    assert scores == {row["interest"] for row in answer["interest_evidence"]}
    assert nights["published_before"]["marketing.customer_interests"][0][0] == len(
        answer["interest_scores"]
    )
    assert "only counts" in answer["location"]
    unknown = json.loads((nights["night1"] / "restricted" / "access" / "REQ-3.json").read_text())
    assert unknown["interest_scores"] == [] and unknown["consent"]["history"] == []
    # received after the end of D: not answered by night 1, answered by night 2
    assert not (nights["night1"] / "restricted" / "access" / "REQ-4.json").exists()
    assert (nights["warehouse"] / "restricted" / "access" / "REQ-4.json").exists()


def test_access_command_writes_an_escaped_readable_page(nights):
    page = nights["access_html"].read_text()
    assert page.startswith("<!doctype html>")
    assert "Consent: state and legal basis per purpose" in page
    assert "personalisation_browsing" in page and "only counts" in page


def test_erasure_receipt_lists_rows_removed_with_a_digest(nights):
    import hashlib

    receipt = json.loads(
        (nights["warehouse"] / "restricted" / "erasure" / "REQ-9.json").read_text()
    )
    removed = receipt["rows_removed"]
    assert (
        removed["warehouse.duckdb"]["marketing.customer_interests"]
        == (nights["published_before"]["marketing.customer_interests"][0][0])
    )
    assert removed["restricted/consent_ledger.duckdb"]["main.events"] == 1
    digest = receipt.pop("digest")
    canonical = json.dumps(receipt, sort_keys=True, separators=(",", ":"))
    assert digest == "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
    assert receipt["forwarded"] is True


def test_erased_customer_is_in_no_table_of_any_run_date(nights):
    warehouse = nights["warehouse"]
    dates = {d for (d,) in query(warehouse, "select distinct run_date from publication.log")}
    assert len(dates) == 3  # every night published
    for table in PUBLISHED_TABLES:
        columns = [c for (c,) in query(warehouse, f"select column_name from (describe {table})")]
        if "customer_id" in columns:
            assert query(
                warehouse, f"select count(*) from {table} where customer_id = ?", [C_PROXIMUS]
            ) == [(0,)]
    reconciliation = query(
        warehouse,
        "select rows_erased from dpo.load_reconciliation "
        "where run_date = ? and source_table = 'customers'",
        [NEXT_DATE],
    )
    assert reconciliation == [(1,)]
    gates = query(
        warehouse,
        "select count(*) from dpo.gate_results where suite = 'rights' and run_date = ?",
        [NEXT_DATE],
    )
    assert gates[0][0] >= 1


def test_no_file_under_the_warehouse_holds_the_erased_customer(nights):
    """Every byte of every file (DuckDB, Parquet, JSON, HTML, logs, Airflow's database)."""
    number = MSISDNS[C_PROXIMUS]
    needles = {
        C_PROXIMUS.encode(),
        number.encode(),
        pseudonym(number).encode(),
        pseudonym(number).upper().encode(),
    }

    def holding(root: Path) -> list[str]:
        return [
            f"{path}: {n!r}"
            for path in sorted(root.rglob("*"))
            if path.is_file() and not path.is_symlink()
            for n in needles
            if n in path.read_bytes()
        ]

    # the search does find the customer where a copy of them is left (night 1's store)
    assert holding(nights["night1"])
    assert holding(nights["warehouse"]) == []


def test_the_erased_customer_is_excluded_from_later_runs(nights):
    """Night 3 had no request: the register's key found the customer in the CRM delivery."""
    erased = query(
        nights["warehouse"],
        "select source_table, rows_erased from dpo.load_reconciliation "
        "where run_date = ? and rows_erased > 0 order by 1",
        [THIRD_DATE],
    )
    # network events too: they count in no location figure from then on
    assert ("customers", 1) in erased and ("network_events", 2) in erased
    # their consent events were not even merged into the ledger again
    assert not [t for t, _ in erased if t == "privacy_preferences"]
    keys = query_restricted(
        nights["warehouse"],
        "select customer_key from main.data_subject_requests where request_id = 'REQ-9'",
    )
    assert keys == [(pseudonym(f"customer_id:{C_PROXIMUS}"),)]


def test_erase_in_store_removes_rows_by_id_pseudonym_and_row_data_and_their_bytes(tmp_path):
    from privacy_pipeline.rights import erase_in_store

    db = tmp_path / "store.duckdb"
    con = duckdb.connect(str(db))
    con.execute("create table people (customer_id varchar, note varchar)")
    con.execute(
        "insert into people select 'KEEP' || i, 'x' from range(2000) t(i); "
        "insert into people values ('ERASE-ME-77', 'gone')"
    )
    con.execute("create table lines (msisdn_pseudonym varchar)")
    con.execute("insert into lines values ('feedface01'), ('cafe02')")
    con.execute("create table quarantined_rows (source_table varchar, row_data varchar)")
    con.execute(
        """insert into quarantined_rows values
           ('customers', '{"customer_id":"ERASE-ME-77"}'),
           ('survey_responses', '{"x":"pseudonym:feedface01"}'),
           ('data_subject_requests', '{"customer_id":"ERASE-ME-77"}'),
           ('customers', '{"customer_id":"KEEP1"}')"""
    )
    con.close()
    removed = erase_in_store(db, None, ["ERASE-ME-77"], ["feedface01"])
    assert removed == {"main.people": 1, "main.lines": 1, "main.quarantined_rows": 2}
    con = duckdb.connect(str(db), read_only=True)
    try:
        kept = con.execute("select source_table from quarantined_rows order by 1").fetchall()
    finally:
        con.close()
    # the request record stays; nothing else of the customer, not even in free blocks
    assert kept == [("customers",), ("data_subject_requests",)]
    assert db.read_bytes().count(b"feedface01") == 0


def test_the_register_of_recipients_is_generated_each_night(nights):
    page = (nights["warehouse"] / "reports" / "recipients.html").read_text()
    assert "location_buyers" in page and "marketing.customer_interests" in page
    assert "Published with no declared recipient" not in page


def test_the_loader_flags_which_registered_erasures_an_earlier_run_had_to_apply(tmp_path):
    """``landing.erased_customers.due_in_earlier_run``: only those must already be gone from
    the published dates (the rights gate's published check); one that becomes due tonight
    is not yet (attack A, session 11)."""
    from privacy_pipeline.rights import create_register, customer_key, record_erased_customers

    from tests.test_gates_candidates import context_for

    ctx = context_for(tmp_path / "landing", tmp_path / "warehouse")  # run date RUN_DATE
    store = tmp_path / "warehouse" / "restricted" / "dpo.duckdb"
    store.parent.mkdir(parents=True)
    previous = "2026-06-19"

    def erasure(request_id, customer_id, received_at, completed=False, key_of=None):
        return [
            request_id, customer_id, customer_key(key_of or customer_id), "erasure",
            received_at, "email", "privacy@proximus.com", True, None, False, previous, "r",
            ts(1) if completed else None, RUN_DATE if completed else None, None,
        ]  # fmt: skip

    with duckdb.connect(str(store)) as con:
        create_register(con)
        con.executemany(
            "insert into main.data_subject_requests values "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                # applied by an earlier run: only its key is left, found in the CRM delivery
                erasure("E1", None, ts(10, day=previous), completed=True, key_of="C001"),
                # registered by the run of D-1, received just after D-1: due tonight
                erasure("E2", "C002", ts(0, 10)),
                # due on its registering run's date but still pending: that run forgot it
                erasure("E3", "C003", ts(10, day=previous)),
                # received after tonight's run date: not yet
                erasure("E4", "C004", ts(0, 10, day=NEXT_DATE)),
            ],
        )
    with duckdb.connect() as con:
        con.execute("create schema landing")
        con.execute("create table landing.customers as select 'C001' as customer_id")
        con.execute("create table landing.customer_lines (customer_id varchar)")
        assert record_erased_customers(con, ctx) == 3
        flags = dict(con.execute("select * from landing.erased_customers").fetchall())
    assert flags == {"C001": True, "C002": False, "C003": True}
