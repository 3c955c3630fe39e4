"""Consent that cannot be lost (issue #10): the durable ledger, impossible timestamps,
future run dates, objections reaching every published date, and the remaining rules.

The merge into the ledger is tested on the loader alone (no DAG). The rest shares one
warehouse across a few real DAG runs (module-scoped): night 1 publishes D, night 2
processes D+1 with a shortened delivery and a new objection, then a headers-only
delivery and a future run date are refused with the publication left unchanged.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest
from privacy_pipeline.errors import UnusableInput
from privacy_pipeline.landing import load_landing_zone
from privacy_pipeline.run_context import RunContext

from tests.support.landing import (
    C_PROXIMUS,
    C_SCARLET_MIGRATED,
    CONTEST_MUSIC,
    Q_GAMING_YES_NO,
    Q_MUSIC_COUNT,
    RUN_DATE,
    baseline_tables,
    consent_event,
    customer,
    ts,
    write_landing_zone,
)
from tests.support.pipeline import query, query_restricted, run_cli, run_pipeline

NEXT_DATE = "2026-06-21"
MARKETING_TABLES = (
    "customer_interests",
    "interest_evidence",
    "segment_members",
    "partner_audiences",
)

# ------------------------------------------------------------------ the merge, loader only


def load(landing: Path, warehouse: Path, run_id: str, tables: dict) -> RunContext:
    write_landing_zone(landing, tables)
    ctx = RunContext.create(landing, warehouse, RUN_DATE, run_id=run_id)
    ctx.run_dir.mkdir(parents=True, exist_ok=True)
    load_landing_zone(ctx)
    return ctx


def ledger_rows(ctx: RunContext, sql: str) -> list[tuple]:
    con = duckdb.connect(str(ctx.consent_ledger_db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def landing_ledger(ctx: RunContext) -> list[tuple]:
    con = duckdb.connect(str(ctx.candidate_db), read_only=True)
    try:
        return con.execute(
            "select event_id, choice, _first_received_at is not null "
            "from landing.privacy_preferences order by event_id, choice"
        ).fetchall()
    finally:
        con.close()


def merge_report(ctx: RunContext) -> dict:
    return json.loads((ctx.run_dir / "consent_ledger.json").read_text())


EVENTS = [
    consent_event("A1", C_PROXIMUS, "direct_marketing", "opt_out", "2024-01-01T10:00:00+01:00"),
    consent_event("A2", C_PROXIMUS, "partner_offers", "opt_in"),
    consent_event("A3", C_SCARLET_MIGRATED, "location_analytics", "opt_out"),
]


def test_first_headers_only_delivery_is_accepted_then_refused_once_a_ledger_is_known(tmp_path):
    warehouse = tmp_path / "warehouse"
    first = load(tmp_path / "l0", warehouse, "r0", {"privacy_preferences": []})
    assert ledger_rows(first, "select count(*) from events") == [(0,)]
    full = load(tmp_path / "l1", warehouse, "r1", {"privacy_preferences": EVENTS})
    assert merge_report(full)["new_events"] == 3
    with pytest.raises(UnusableInput, match="delivers no event"):
        load(tmp_path / "l2", warehouse, "r2", {"privacy_preferences": []})
    stranger = [consent_event("Z1", C_PROXIMUS, "direct_marketing", "opt_in")]
    with pytest.raises(UnusableInput, match="none of the 3 events"):
        load(tmp_path / "l3", warehouse, "r3", {"privacy_preferences": stranger})
    # Refused deliveries are not merged.
    assert ledger_rows(full, "select count(*) from events") == [(3,)]
    assert ledger_rows(full, "select count(*) from deliveries") == [(2,)]


def test_an_omitted_event_is_kept_reported_and_a_changed_one_is_a_conflict(tmp_path):
    warehouse = tmp_path / "warehouse"
    load(tmp_path / "l1", warehouse, "r1", {"privacy_preferences": EVENTS})
    # A re-export that only reformats an event (case, accents, look-alike letters, another
    # dash, another offset for the same instant) is the same event, not a conflict.
    reformatted = [
        {**EVENTS[0], "choice": "OPT_OUT", "recorded_at": "2024-01-01T09:00:00Z"},
        {**EVENTS[1], "purpose": "Partner \u2013 Offers", "choice": "\u00d3pt-\u0456n"},
        *EVENTS[2:],
    ]
    again = load(tmp_path / "l2", warehouse, "r2", {"privacy_preferences": reformatted})
    assert merge_report(again)["new_events"] == 0 and merge_report(again)["new_conflicts"] == 0
    changed = consent_event("A2", C_PROXIMUS, "partner_offers", "opt_out")
    shortened = load(
        tmp_path / "l3", warehouse, "r3", {"privacy_preferences": [EVENTS[1], changed]}
    )
    report = merge_report(shortened)
    assert report["missing_events"] == 2
    assert report["missing_by_purpose"] == {"direct_marketing": 1, "location_analytics": 1}
    assert report["new_conflicts"] == 1
    # Staging reads the whole ledger plus the conflicting version (duplicate_key_conflict).
    assert landing_ledger(shortened) == [
        ("A1", "opt_out", True),
        ("A2", "opt_in", True),
        ("A2", "opt_out", True),
        ("A3", "opt_out", True),
    ]
    assert ledger_rows(shortened, "select ledger_key, choice, run_id from conflicts") == [
        ("A2", "opt_out", "r3")
    ]
    con = duckdb.connect(str(shortened.candidate_db), read_only=True)
    try:
        read = con.execute(
            "select rows_read from landing.rows_read where source_table = 'privacy_preferences'"
        ).fetchone()
    finally:
        con.close()
    assert read == (4,)


def test_events_stored_under_an_older_reading_do_not_become_conflicts(tmp_path):
    """Fingerprints are compared under tonight's reading of vocabularies, recomputed from
    the stored values: a ledger written when the reading was narrower (another stored
    fingerprint) sees a re-delivery of the same events as known, not as conflicts."""
    warehouse = tmp_path / "warehouse"
    first = load(tmp_path / "l1", warehouse, "r1", {"privacy_preferences": EVENTS})
    con = duckdb.connect(str(first.consent_ledger_db))
    try:
        con.execute("update events set fingerprint = 'written-by-an-older-rule'")
    finally:
        con.close()
    again = load(tmp_path / "l2", warehouse, "r2", {"privacy_preferences": EVENTS})
    assert merge_report(again)["new_conflicts"] == 0
    assert ledger_rows(again, "select count(*) from conflicts") == [(0,)]


def test_a_doubled_event_is_kept_once_and_its_copy_shown_to_staging(tmp_path):
    warehouse = tmp_path / "warehouse"
    doubled = load(tmp_path / "l1", warehouse, "r1", {"privacy_preferences": EVENTS + EVENTS[:1]})
    assert ledger_rows(doubled, "select count(*) from events") == [(3,)]
    # The copy reaches staging, which quarantines it as exact_duplicate.
    assert [row[0] for row in landing_ledger(doubled)] == ["A1", "A1", "A2", "A3"]
    again = load(tmp_path / "l2", warehouse, "r2", {"privacy_preferences": EVENTS})
    assert [row[0] for row in landing_ledger(again)] == ["A1", "A2", "A3"]


def test_the_ledger_is_restricted_and_never_published(tmp_path):
    ctx = load(tmp_path / "l1", tmp_path / "warehouse", "r1", {"privacy_preferences": EVENTS})
    assert ctx.consent_ledger_db.parent.name == "restricted"
    assert "exports" not in ctx.consent_ledger_db.parts


# ------------------------------------------------------------------ nights through the DAG

OLD_OBJECTOR = "K01"  # objected in 2024; the second night's delivery omits it
LATE_OBJECTOR = "K02"  # music fan published on D; objects on D+1
FUTURE_OPT_IN = "K03"  # objected; an opt_in dated 2099 must not lift it
BAD_OFFSET = "K04"  # partner_offers opt_in with offset +99:99
PARTNER_CONTEST = "K05"  # only entries in a partner's contest
PRE_ACCOUNT = "K06"  # answered a survey before the account existed
LEGACY_AFTER_MIGRATION = "K07"  # legacy opt_in after migration after a Proximus objection
PARTNER_FAN = "K08"  # partner_offers opt-in, music fan: in Belfius's audience on D; refuses on D+1
MIGRATED = "2026-03-01T09:00:00+01:00"


def scenario_customers() -> list[dict]:
    extra = {
        LEGACY_AFTER_MIGRATION: {"brand": "scarlet", "migrated_at": MIGRATED},
        PRE_ACCOUNT: {"created_at": "2026-06-01T09:00:00+02:00"},
    }
    ids = (OLD_OBJECTOR, LATE_OBJECTOR, FUTURE_OPT_IN, BAD_OFFSET, PARTNER_CONTEST,
           PRE_ACCOUNT, LEGACY_AFTER_MIGRATION, PARTNER_FAN)  # fmt: skip
    return [
        customer(cid, msisdn=f"+3249{n:07d}", **extra.get(cid, {}))
        for n, cid in enumerate(ids, start=1)
    ]


def first_night_events() -> list[dict]:
    return [
        consent_event("L-OLD", OLD_OBJECTOR, "direct_marketing", "opt_out",
                      "2024-02-01T10:00:00+01:00"),
        consent_event("L-F1", FUTURE_OPT_IN, "direct_marketing", "opt_out"),
        consent_event("L-F2", FUTURE_OPT_IN, "direct_marketing", "opt_in",
                      "2099-01-01T10:00:00+01:00"),
        consent_event("L-B1", BAD_OFFSET, "partner_offers", "opt_in", ts(12, day=RUN_DATE)[:-6]
                      + "+99:99"),
        consent_event("L-G1", LEGACY_AFTER_MIGRATION, "direct_marketing", "opt_out",
                      "2026-04-01T10:00:00+02:00"),
        consent_event("L-G2", LEGACY_AFTER_MIGRATION, "direct_marketing", "opt_in",
                      "2026-05-01T10:00:00+02:00", platform="scarlet_legacy"),
        consent_event("L-P1", PARTNER_FAN, "partner_offers", "opt_in"),
    ]  # fmt: skip


def answer(customer_id: str, question: str, value: str, at: str) -> dict:
    return {
        "response_id": f"R-{customer_id}-{question}",
        "customer_id": customer_id,
        "question_id": question,
        "answer": value,
        "answered_at": at,
    }


def scenario_tables(ledger: list[dict]) -> dict:
    fans = (OLD_OBJECTOR, LATE_OBJECTOR, FUTURE_OPT_IN, LEGACY_AFTER_MIGRATION, PARTNER_FAN)
    return {
        "+customers": scenario_customers(),
        "privacy_preferences": ledger,
        "+survey_responses": [
            *(answer(c, Q_MUSIC_COUNT, "4", ts(18, day="2026-06-19")) for c in fans),
            answer(PRE_ACCOUNT, Q_GAMING_YES_NO, "yes", "2026-05-20T10:00:00+02:00"),
        ],
        "+contest_entries": [
            {
                "entry_id": f"NP-{n}",
                "customer_id": PARTNER_CONTEST,
                "contest_id": CONTEST_MUSIC,  # Belfius's contest (partner_id set)
                "entered_at": ts(9 + n, day="2026-06-15"),
            }
            for n in range(4)
        ],
    }


def customers_in(warehouse: Path, table: str, run_date: str) -> set[str]:
    rows = query(
        warehouse, f"select customer_id from marketing.{table} where run_date = ?", [run_date]
    )
    return {customer_id for (customer_id,) in rows}


def export_customers(warehouse: Path) -> set[tuple[str, str]]:
    """(file, customer) of every marketing Parquet file anywhere under exports/."""
    found = set()
    con = duckdb.connect()
    try:
        for path in (warehouse / "exports").rglob("marketing.*.parquet"):
            for (customer_id,) in con.execute(
                f"select distinct customer_id from read_parquet('{path}')"
            ).fetchall():
                found.add((str(path.relative_to(warehouse)), customer_id))
    finally:
        con.close()
    return found


def published_state(warehouse: Path) -> dict:
    tables = {
        t: query(warehouse, f"select * from marketing.{t} order by all") for t in MARKETING_TABLES
    }
    exports = warehouse / "exports"
    links = {str(p.relative_to(exports)): p.resolve().name for p in exports.glob("*/run_date=*")}
    log = query(warehouse, "select count(*) from publication.log")
    return {"tables": tables, "links": links, "log": log}


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    root = tmp_path_factory.mktemp("consent_ledger")
    warehouse = root / "warehouse"
    baseline = baseline_tables()["privacy_preferences"]
    first_ledger = baseline + first_night_events()
    first = write_landing_zone(root / "night1", scenario_tables(first_ledger))
    night1 = run_pipeline(first, warehouse, RUN_DATE)
    assert night1.returncode == 0, (night1.stdout[-3000:], night1.stderr[-5000:])
    on_d_after_night1 = {t: customers_in(warehouse, t, RUN_DATE) for t in MARKETING_TABLES}
    exports_after_night1 = export_customers(warehouse)

    # Night 2: this year's events only (the 2024 objection is omitted), two new refusals.
    shortened = [e for e in first_ledger if e["event_id"] != "L-OLD"] + [
        consent_event("L-LATE", LATE_OBJECTOR, "direct_marketing", "opt_out",
                      ts(10, day=NEXT_DATE)),
        consent_event("L-P2", PARTNER_FAN, "partner_offers", "opt_out", ts(11, day=NEXT_DATE)),
    ]  # fmt: skip
    second = write_landing_zone(root / "night2", scenario_tables(shortened))
    night2 = run_pipeline(second, warehouse, NEXT_DATE)
    assert night2.returncode in (0, 1), (night2.stdout[-3000:], night2.stderr[-5000:])
    after_night2 = published_state(warehouse)
    # Read now: the refused runs of NEXT_DATE below write their own report for the date.
    report_after_night2 = (warehouse / "reports" / "runs" / f"{NEXT_DATE}.html").read_text()

    headers_only = write_landing_zone(root / "night3", scenario_tables([]))
    night3 = run_pipeline(headers_only, warehouse, NEXT_DATE)
    after_night3 = published_state(warehouse)
    report_after_night3 = (warehouse / "reports" / "runs" / f"{NEXT_DATE}.html").read_text()
    future = run_pipeline(second, warehouse, "2099-01-01")
    after_future = published_state(warehouse)
    return {
        "warehouse": warehouse,
        "night2": night2,
        "night3": night3,
        "future": future,
        "on_d_after_night1": on_d_after_night1,
        "exports_after_night1": exports_after_night1,
        "after_night2": after_night2,
        "report_after_night2": report_after_night2,
        "after_night3": after_night3,
        "report_after_night3": report_after_night3,
        "after_future": after_future,
    }


def test_night_one_keeps_every_rule(nights):
    on_d = nights["on_d_after_night1"]
    everyone = set().union(*on_d.values())
    # The objections stand: a 2099 opt_in and a legacy opt_in after migration lift nothing.
    for objector in (OLD_OBJECTOR, FUTURE_OPT_IN, LEGACY_AFTER_MIGRATION):
        assert objector not in everyone, objector
    # An opt_in with offset +99:99 grants nothing.
    assert BAD_OFFSET not in on_d["partner_audiences"]
    # A partner's contest and an answer from before the account existed give no profile.
    assert PARTNER_CONTEST not in on_d["customer_interests"]
    assert PRE_ACCOUNT not in on_d["customer_interests"]
    assert PRE_ACCOUNT in on_d["segment_members"]  # standard offers only
    # The customers of night 2's checks were published on D.
    assert LATE_OBJECTOR in on_d["customer_interests"]
    assert PARTNER_FAN in on_d["partner_audiences"]
    assert any(c == LATE_OBJECTOR for _, c in nights["exports_after_night1"])


def test_impossible_timestamps_are_quarantined_and_a_future_opt_in_never_decides(nights):
    # Person-level refusals live in the DPO's restricted store, never in the warehouse.
    rows = query_restricted(
        nights["warehouse"],
        "select event_id, reason from dpo.rejected_privacy_events where run_date = ?",
        [RUN_DATE],
    )
    reasons = dict(rows)
    assert reasons["L-F2"] == "future_timestamp:recorded_at"
    assert reasons["L-B1"] == "unparseable_timestamp:recorded_at"
    assert reasons["L-G2"] == "legacy_opt_in_after_migration"


def test_a_shortened_delivery_does_not_switch_an_objection_back_on(nights):
    assert nights["night2"].returncode == 0, nights["night2"].stderr[-3000:]
    warehouse = nights["warehouse"]
    for table in MARKETING_TABLES:
        assert OLD_OBJECTOR not in customers_in(warehouse, table, NEXT_DATE)
    report = nights["report_after_night2"]
    assert "Ledger events this delivery lacks" in report
    assert "direct_marketing" in report
    assert "lacks 1 known events (direct_marketing: 1)" in nights["night2"].stdout


def test_an_objection_after_d_leaves_d_and_every_export_file(nights):
    warehouse = nights["warehouse"]
    for table in MARKETING_TABLES:
        for day in (RUN_DATE, NEXT_DATE):
            assert LATE_OBJECTOR not in customers_in(warehouse, table, day), (table, day)
    assert PARTNER_FAN not in customers_in(warehouse, "partner_audiences", RUN_DATE)
    assert PARTNER_FAN in customers_in(warehouse, "segment_members", RUN_DATE)
    assert not [f for f, c in export_customers(warehouse) if c in (LATE_OBJECTOR,)]
    assert not [f for f, c in export_customers(warehouse) if c == PARTNER_FAN and "partner" in f]
    removed = query(
        warehouse,
        "select table_name, sum(rows_removed) from publication.withdrawals "
        "where published_run_date = ? group by all",
        [RUN_DATE],
    )
    assert dict(removed)["marketing.customer_interests"] >= 1
    assert dict(removed)["marketing.partner_audiences"] >= 1
    report = (warehouse / "reports" / "runs" / f"{NEXT_DATE}.html").read_text()
    assert "Objections reaching published dates" in report


def test_a_headers_only_delivery_after_a_known_ledger_is_refused(nights):
    night3 = nights["night3"]
    assert night3.returncode == 2, night3.stderr[-3000:]
    assert "delivers no event" in night3.stderr
    assert nights["after_night3"] == nights["after_night2"]
    # The refused re-run says so, and that night 2's publication of the date still stands.
    in_force = f"the publication of {NEXT_DATE} made at"
    assert "NOT PUBLISHED" in nights["report_after_night3"]
    assert in_force in nights["report_after_night3"]
    assert "stays in force" in nights["report_after_night3"]
    assert "Nothing withdrawn: " + in_force in night3.stdout


def test_a_run_date_that_has_not_ended_is_refused(nights):
    future = nights["future"]
    assert future.returncode == 2, future.stderr[-3000:]
    assert "has not ended yet" in future.stderr
    assert nights["after_future"] == nights["after_night2"]


def test_export_without_run_date_hands_out_the_latest_published_date(nights, tmp_path):
    output = tmp_path / "segments.csv"
    result = run_cli(
        "export", "--warehouse", str(nights["warehouse"]), "--table",
        "marketing.segment_members", "--format", "csv", "--output", str(output),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    con = duckdb.connect()
    try:
        dates = con.execute(
            f"select distinct cast(run_date as varchar) from read_csv('{output}')"
        ).fetchall()
    finally:
        con.close()
    assert dates == [(NEXT_DATE,)]


# ------------------------------------------------------------------ withdrawal, no DAG

W_OBJECTOR = "W01"  # objected after D, then an opt_in with an unknown channel
W_LIFTED = "W02"  # migrated Scarlet: objection then a legacy opt_in before the migration
W_BROWSER = "W03"  # browsing consent withdrawn: its browsing-fed music score goes
W_KEPT = "W04"  # nothing to withdraw


def withdrawal_warehouse(
    root: Path,
    events: list[dict] | None = None,
    customers: list[dict] | None = None,
    more_events: tuple[dict, ...] = (),
    more_people: tuple[str, ...] = (),
) -> RunContext:
    """A warehouse with D and D+1 published (tables, log, export versions) and a ledger.

    ``events`` and ``customers`` replace the ledger and the extra CRM rows below (every
    extra customer is in the four marketing tables of both dates); ``more_events`` are
    added to the ledger and ``more_people`` to the marketing tables."""
    from privacy_pipeline.publish import build_export_version, swap_export_link

    migrated = "2026-03-01T09:00:00+01:00"
    events = events or [
        consent_event("W-1", W_OBJECTOR, "direct_marketing", "opt_out", ts(10, day=NEXT_DATE)),
        consent_event("W-2", W_OBJECTOR, "direct_marketing", "opt_in", ts(11, day=NEXT_DATE),
                      channel="fax"),
        consent_event("W-3", W_LIFTED, "direct_marketing", "opt_out", "2025-10-01T10:00:00+02:00",
                      platform="scarlet_legacy"),
        consent_event("W-4", W_LIFTED, "direct_marketing", "opt_in", "2025-12-01T10:00:00+01:00",
                      platform="scarlet_legacy"),
        consent_event("W-5", W_BROWSER, "personalisation_browsing", "opt_in"),
        consent_event("W-6", W_BROWSER, "personalisation_browsing", "opt_out",
                      ts(9, day=NEXT_DATE)),
    ]  # fmt: skip
    events = [*events, *more_events]
    customers = customers or [
        customer(W_OBJECTOR, msisdn="+32491000001"),
        customer(W_LIFTED, "scarlet", msisdn="+32491000002", migrated_at=migrated),
        customer(W_BROWSER, msisdn="+32491000003"),
        customer(W_KEPT, msisdn="+32491000004"),
    ]
    ctx = load(
        root / "landing",
        root / "warehouse",
        "w1",
        {"+customers": customers, "privacy_preferences": events},
    )
    people = (*(row["customer_id"] for row in customers), *more_people)
    con = duckdb.connect(str(ctx.warehouse_db))
    try:
        con.execute("create schema marketing; create schema publication")
        con.execute(
            "create table publication.log (run_date date, run_id varchar, "
            "export_version varchar, published_at timestamptz, tables varchar)"
        )
        con.execute(
            "create table marketing.customer_interests (customer_id varchar, "
            "interest varchar, score int, run_date date)"
        )
        con.execute(
            "create table marketing.interest_evidence (customer_id varchar, "
            "interest varchar, basis varchar, contribution double, run_date date)"
        )
        con.execute(
            "create table marketing.segment_members (segment varchar, "
            "customer_id varchar, run_date date)"
        )
        con.execute(
            "create table marketing.partner_audiences (partner_id varchar, "
            "customer_id varchar, run_date date)"
        )
        for day in (RUN_DATE, NEXT_DATE):
            for who in people:
                con.execute(
                    "insert into marketing.customer_interests values (?, 'music', 60, ?)",
                    [who, day],
                )
                con.execute(
                    "insert into marketing.customer_interests values (?, 'gaming', 40, ?)",
                    [who, day],
                )
                con.execute(
                    "insert into marketing.interest_evidence values "
                    "(?, 'music', 'browsing', 20, ?), (?, 'gaming', 'declared', 40, ?)",
                    [who, day, who, day],
                )
                con.execute(
                    "insert into marketing.segment_members values "
                    "('standard_offers', ?, ?), ('music_lovers', ?, ?)",
                    [who, day, who, day],
                )
                con.execute(
                    "insert into marketing.partner_audiences values ('P001', ?, ?)", [who, day]
                )
            con.execute(
                "insert into publication.log values (?, 'old', ?, now(), ?)",
                [day, f"20260101T000000000000Z-{day}", json.dumps(list(MARKETING))],
            )
    finally:
        con.close()
    for day in (RUN_DATE, NEXT_DATE):
        run_date = dt.date.fromisoformat(day)
        version = build_export_version(
            ctx.warehouse_dir,
            run_date,
            "marketing",
            list(MARKETING),
            f"20260101T000000000000Z-{day}",
        )
        swap_export_link(ctx.warehouse_dir, run_date, "marketing", version)
    return ctx


MARKETING = tuple(f"marketing.{t}" for t in MARKETING_TABLES)


def test_withdrawal_reaches_every_date_and_export_without_the_dag(tmp_path):
    from privacy_pipeline.withdrawal import withdraw_objections

    ctx = withdrawal_warehouse(tmp_path)
    report = withdraw_objections(ctx)
    warehouse = ctx.warehouse_dir
    for day in (RUN_DATE, NEXT_DATE):
        everyone = set().union(*(customers_in(warehouse, t, day) for t in MARKETING_TABLES))
        # an opt_in with an unknown channel lifts nothing
        assert W_OBJECTOR not in everyone
        # a legacy opt_in before the migration lifted the objection
        assert W_LIFTED in customers_in(warehouse, "customer_interests", day)
        interests = query(
            warehouse,
            "select interest from marketing.customer_interests "
            "where customer_id = ? and run_date = ?",
            [W_BROWSER, day],
        )
        assert interests == [("gaming",)]  # the browsing-fed music score is gone
        segments = query(
            warehouse,
            "select segment from marketing.segment_members where customer_id = ? and run_date = ?",
            [W_BROWSER, day],
        )
        assert segments == [("standard_offers",)]
        assert W_BROWSER not in customers_in(warehouse, "partner_audiences", day)
        assert W_KEPT in customers_in(warehouse, "partner_audiences", day)
    # 2 dates x (2+2+2+1 rows of W_OBJECTOR + 1+1+1+1 of W_BROWSER)
    assert report["rows_removed"] == 2 * (7 + 4)
    leaked = {c for _, c in export_customers(warehouse)} & {W_OBJECTOR}
    assert not leaked
    for day in (RUN_DATE, NEXT_DATE):
        versions = list(
            (warehouse / "exports" / "marketing" / ".versions" / f"run_date={day}").iterdir()
        )
        assert len(versions) == 1 and versions[0].name.endswith("-withdrawal")
    # Idempotent: nothing more to remove, no new version.
    assert withdraw_objections(ctx)["rows_removed"] == 0
    logged = query(warehouse, "select count(*) from publication.log")
    assert logged == [(4,)]


@pytest.mark.parametrize("consent_table_kept", [True, False])
def test_a_refused_zone_still_takes_its_refusals_out_of_every_published_date(
    tmp_path, consent_table_kept
):
    """The loader refuses a zone for one table (a missing column): its consent choices are
    still merged, so the withdrawal step, which runs whatever the load did, takes that
    night's refusal out of the dates already published. A consent table that breaks the
    contract itself is not read, and nothing changes."""
    from privacy_pipeline.withdrawal import withdraw_objections

    ctx = withdrawal_warehouse(tmp_path)
    withdraw_objections(ctx)
    with open(tmp_path / "landing" / "privacy_preferences.csv", newline="") as delivered:
        events = list(csv.DictReader(delivered))
    refusal = consent_event("W-9", W_KEPT, "direct_marketing", "opt_out", ts(10, day=NEXT_DATE))
    broken = {"customers": ["postal_code"]}
    if not consent_table_kept:
        broken["privacy_preferences"] = ["channel"]
    landing = write_landing_zone(
        tmp_path / "refused",
        {"privacy_preferences": [*events, refusal]},
        omit_columns=broken,
    )
    night = RunContext.create(landing, ctx.warehouse_dir, "2026-06-22", run_id="refused")
    night.run_dir.mkdir(parents=True, exist_ok=True)
    with pytest.raises(UnusableInput, match="postal_code|channel"):
        load_landing_zone(night)
    withdraw_objections(night)
    for day in (RUN_DATE, NEXT_DATE):
        kept = customers_in(ctx.warehouse_dir, "segment_members", day)
        assert (W_KEPT in kept) is not consent_table_kept, day
    assert (W_KEPT in {c for _, c in export_customers(ctx.warehouse_dir)}) is not consent_table_kept


def test_a_refusal_spelled_with_accents_or_look_alike_letters_reaches_every_date(tmp_path):
    """The withdrawal reads the ledger with the rule staging and the gates read it
    (privacy_pipeline.vocabulary): a Cyrillic e, accents and another customer number format
    are the same refusal of the same customer."""
    from privacy_pipeline.withdrawal import withdraw_objections

    spelled = "W05"
    refusal = consent_event(
        "W-7", "w-05", "Dir\u0435ct Marketing", "\u00d4PT \u2013 O\u00dcT", ts(10, day=NEXT_DATE)
    )
    ctx = withdrawal_warehouse(tmp_path, more_events=(refusal,), more_people=(spelled,))
    withdraw_objections(ctx)
    for day in (RUN_DATE, NEXT_DATE):
        everyone = set().union(*(customers_in(ctx.warehouse_dir, t, day) for t in MARKETING_TABLES))
        assert spelled not in everyone
        assert W_KEPT in everyone
    assert spelled not in {c for _, c in export_customers(ctx.warehouse_dir)}


def test_a_refusal_in_force_at_the_end_of_a_date_leaves_it_despite_a_later_consent(tmp_path):
    """Rule 3 ("allowed at the end of D and now") for dates already published: a refusal
    recorded on D but delivered a night late, then a consent on D+1, removes the customer
    from D's publication (refused at the end of D) and keeps D+1's (allowed then and now).
    Before, only the latest choice counted, and D kept the profile (session 11's attack)."""
    from privacy_pipeline.withdrawal import withdraw_objections

    late, partner = "W06", "W07"
    events = (
        consent_event("W-8", late, "direct_marketing", "opt_out", ts(20, day=RUN_DATE)),
        consent_event("W-9", late, "direct_marketing", "opt_in", ts(9, day=NEXT_DATE)),
        consent_event("W-10", partner, "partner_offers", "opt_in"),
        consent_event("W-11", partner, "partner_offers", "opt_out", ts(20, day=RUN_DATE)),
        consent_event("W-12", partner, "partner_offers", "opt_in", ts(9, day=NEXT_DATE)),
    )
    ctx = withdrawal_warehouse(tmp_path, more_events=events, more_people=(late, partner))
    withdraw_objections(ctx)
    warehouse = ctx.warehouse_dir
    for table in MARKETING_TABLES:
        assert late not in customers_in(warehouse, table, RUN_DATE), table
        assert late in customers_in(warehouse, table, NEXT_DATE), table
    assert partner not in customers_in(warehouse, "partner_audiences", RUN_DATE)
    assert partner in customers_in(warehouse, "partner_audiences", NEXT_DATE)
    assert partner in customers_in(warehouse, "segment_members", RUN_DATE)
    exported = export_customers(warehouse)
    assert late not in {c for path, c in exported if f"run_date={RUN_DATE}" in path}
    assert late in {c for path, c in exported if f"run_date={NEXT_DATE}" in path}
    assert W_KEPT in customers_in(warehouse, "customer_interests", RUN_DATE)


def test_a_reload_forgets_the_consent_view_an_interrupted_load_left():
    """A load refused after it made the consent table's view (a later table cannot be
    read) merges the consent choices again: the view is dropped like the ledger table a
    finished load leaves, not taken for an error."""
    from privacy_pipeline.consent_ledger import DELIVERY_VIEW, TABLE, forget_previous_ledger_load

    con = duckdb.connect()
    con.execute("create schema landing")
    con.execute(f"create view landing.{TABLE} as select 1 as x")
    con.execute(f"create table {DELIVERY_VIEW} as select 1 as x")
    forget_previous_ledger_load(con)
    left = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'landing'"
    ).fetchone()
    assert left == (0,)


def test_another_customers_consent_never_outranks_a_refusal_whose_number_shares_its_key(
    tmp_path,
):
    """C001 and C-001 are two customers whose numbers share the generous key c001. C001's
    refusal, then C-001's own sound consent: C001 leaves every published date, C-001 stays
    (attack, session 14: the latest choice per key was C-001's consent, so C001 stayed).
    A refusal naming no published customer exactly still reaches every one its key
    matches."""
    from privacy_pipeline.withdrawal import withdraw_objections

    twin, loose = "W-04", "W05"
    refusal_time, consent_time = ts(9, day=NEXT_DATE), ts(10, day=NEXT_DATE)
    ctx = withdrawal_warehouse(
        tmp_path,
        more_events=(
            consent_event("K-1", W_KEPT, "direct_marketing", "opt_out", refusal_time),
            consent_event("K-2", twin, "direct_marketing", "opt_in", consent_time),
            consent_event("K-3", "w 0-5", "direct_marketing", "opt_out", refusal_time),
        ),
        more_people=(twin, loose),
    )
    withdraw_objections(ctx)
    for day in (RUN_DATE, NEXT_DATE):
        everyone = set().union(*(customers_in(ctx.warehouse_dir, t, day) for t in MARKETING_TABLES))
        assert W_KEPT not in everyone, day
        assert loose not in everyone, day
        assert twin in customers_in(ctx.warehouse_dir, "segment_members", day), day
