"""Publication is all or nothing, for the warehouse and for the exports, even when killed.

Candidates here are the prepared ones of the gate tests (landing views + hand-made marts)
with every gate run for real, so publish_run sees what it sees in the DAG.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest
from privacy_pipeline.errors import GateFailed
from privacy_pipeline.gate_binding import PublicationRefused
from privacy_pipeline.gates import SUITES, run_suite
from privacy_pipeline.gates.results import read_suite_results
from privacy_pipeline.publish import (
    PUBLISHED_TABLES,
    PublicationFailed,
    current_export_version,
    export_link,
    exports_root,
    latest_publication,
    publish_run,
    sync_exports,
)
from privacy_pipeline.recipients import PERSON_LEVEL_COLUMN, RecipientsInvalid, recipient_tables

from tests.support.landing import C_PROXIMUS, C_SCARLET_MIGRATED, RUN_DATE
from tests.test_gates_candidates import (
    build_clean_candidate,
    context_for,
    inject,
    published_state,
)

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def clean_root(tmp_path_factory):
    """A gated clean candidate (gates passed) to copy into each test's warehouse."""
    root = tmp_path_factory.mktemp("publish")
    ctx = build_clean_candidate(root)
    for suite in SUITES:
        run_suite(ctx, suite)
    return root


def gated_copy(clean_root: Path, warehouse: Path, sql: str = ""):
    """The gated candidate (with its gate results) in ``warehouse``; ``sql`` changes it
    and the gates run again (a new candidate of the same run, gated)."""
    source = clean_root / "warehouse" / "runs"
    shutil.copytree(source, warehouse / "runs")
    ctx = context_for(clean_root / "landing", warehouse)
    if sql:
        change_and_regate(ctx, sql)
    return ctx


def change_and_regate(ctx, sql: str) -> None:
    """Change the candidate, then run every gate on it again (they must pass)."""
    inject(ctx, sql)
    for suite in SUITES:
        run_suite(ctx, suite)


def query(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_every_published_table_and_its_export_hold_the_run_date(clean_root, tmp_path):
    ctx = gated_copy(clean_root, tmp_path / "wh")
    published = publish_run(ctx)
    assert set(published) == set(PUBLISHED_TABLES)
    plan = recipient_tables()
    assert {t for tables in plan.values() for t in tables} == set(PUBLISHED_TABLES)
    for recipient, tables in plan.items():
        link = export_link(ctx.warehouse_dir, ctx.run_date, recipient)
        assert link.is_symlink() and (link / "_MANIFEST.json").exists()
        for table in tables:
            exported = duckdb.sql(f"select count(*) from '{link / f'{table}.parquet'}'").fetchall()
            assert exported[0][0] == published[table], (recipient, table)
    assert published["marketing.segment_members"] == 2
    expectations = query(
        ctx.warehouse_dir, "select count(distinct expectation) from dpo.gate_results"
    )
    assert published["dpo.gate_results"] == expectations[0][0] > 0


def folder_tables(folder: Path) -> list[str]:
    return sorted(p.name.removesuffix(".parquet") for p in folder.glob("*.parquet"))


def test_each_recipient_folder_holds_exactly_its_tables_and_location_buyers_no_person(
    clean_root, tmp_path
):
    ctx = gated_copy(clean_root, tmp_path / "wh")
    publish_run(ctx)
    exports = exports_root(ctx.warehouse_dir)
    plan = recipient_tables()
    assert sorted(p.name for p in exports.iterdir()) == sorted(plan)
    for recipient, tables in plan.items():
        link = export_link(ctx.warehouse_dir, ctx.run_date, recipient)
        assert folder_tables(link) == sorted(tables), recipient
        manifest = json.loads((link / "_MANIFEST.json").read_text())
        assert manifest["recipient"] == recipient and sorted(manifest["rows"]) == sorted(tables)
    buyers = list((exports / "location_buyers").rglob("*.parquet"))
    assert buyers and all(p.name.startswith("location.") for p in buyers)
    for path in buyers:
        columns = [
            c for (c,) in duckdb.sql(f"select name from parquet_schema('{path}')").fetchall()
        ]
        assert not [c for c in columns if PERSON_LEVEL_COLUMN.fullmatch(c) or "customer" in c]
    # and the person-level tables do reach marketing, with their customers
    interests = export_link(ctx.warehouse_dir, ctx.run_date, "marketing")
    customers = duckdb.sql(
        f"select count(distinct customer_id) from '{interests}/marketing.segment_members.parquet'"
    ).fetchall()[0][0]
    assert customers > 0


def test_a_person_level_table_declared_for_location_buyers_is_refused(
    clean_root, tmp_path, monkeypatch
):
    import privacy_pipeline.recipients as recipients

    ctx = gated_copy(clean_root, tmp_path / "wh")
    publish_run(ctx)
    before = published_state(ctx.warehouse_dir)
    declared = recipients.declared_exposures()
    for exposure in declared:
        if exposure["recipient"] == "location_buyers":
            exposure["tables"] = [*exposure["tables"], "marketing.segment_members"]
    monkeypatch.setattr(recipients, "declared_exposures", lambda: declared)
    for suite in SUITES:
        run_suite(ctx, suite)
    with pytest.raises(RecipientsInvalid, match="marketing.segment_members.*location_buyers"):
        publish_run(ctx)
    assert published_state(ctx.warehouse_dir) == before
    assert not list(exports_root(ctx.warehouse_dir).glob("location_buyers/**/marketing.*"))


def test_the_flat_layout_and_undeclared_recipients_leave_on_the_next_publication(
    clean_root, tmp_path, monkeypatch
):
    import privacy_pipeline.recipients as recipients

    ctx = gated_copy(clean_root, tmp_path / "wh")
    publish_run(ctx)
    exports = exports_root(ctx.warehouse_dir)
    marketing = export_link(ctx.warehouse_dir, ctx.run_date, "marketing").resolve()
    # the layout before per-recipient exports: every table of D in one folder behind a link
    flat = exports / ".versions" / f"run_date={RUN_DATE}" / "20260101T000000000000Z-old"
    shutil.copytree(marketing, flat)
    (exports / f"run_date={RUN_DATE}").symlink_to(flat.relative_to(exports))
    orphan = exports / "run_date=2020-01-01"  # a flat folder no publication backs
    orphan.mkdir()
    shutil.copy(marketing / "marketing.segment_members.parquet", orphan)
    # and a recipient no exposure declares any more
    declared = [e for e in recipients.declared_exposures() if e["recipient"] != "dpo"]
    monkeypatch.setattr(recipients, "declared_exposures", lambda: declared)
    for suite in SUITES:
        run_suite(ctx, suite)
    publish_run(ctx)
    assert sorted(p.name for p in exports.iterdir()) == ["location_buyers", "marketing"]
    for recipient in ("location_buyers", "marketing"):
        version = export_link(ctx.warehouse_dir, ctx.run_date, recipient).resolve()
        assert version.parent.parent.parent == exports / recipient
        assert folder_tables(version) == recipient_tables(declared)[recipient]


def test_republishing_a_date_replaces_its_rows_keeps_other_dates_and_appends_the_audit_log(
    clean_root, tmp_path
):
    ctx = gated_copy(clean_root, tmp_path / "wh")
    publish_run(ctx)
    con = duckdb.connect(str(ctx.warehouse_db))
    con.execute("insert into marketing.segment_members values ('old', 'X', date '2026-06-19')")
    con.close()
    audit_rows = query(ctx.warehouse_dir, "select count(*) from dpo.gate_results")[0][0]
    for suite in SUITES:  # a new run of the same date: new gate results
        run_suite(ctx, suite)
    publish_run(ctx)
    rows = query(
        ctx.warehouse_dir,
        "select cast(run_date as varchar), count(*) from marketing.segment_members group by 1",
    )
    assert dict(rows) == {"2026-06-19": 1, RUN_DATE: 2}
    assert query(ctx.warehouse_dir, "select count(*) from dpo.gate_results")[0][0] == 2 * audit_rows


def test_nothing_is_published_without_every_gate_passed(clean_root, tmp_path):
    ctx = gated_copy(clean_root, tmp_path / "wh")
    (ctx.run_dir / "gates" / "location.json").unlink()
    with pytest.raises(GateFailed, match="location"):
        publish_run(ctx)
    assert (
        not ctx.warehouse_db.exists()
        or not query(
            ctx.warehouse_dir,
            "select count(*) from information_schema.tables where table_schema = 'marketing'",
        )[0][0]
    )


@pytest.mark.parametrize(
    "sql, message",
    [
        ("drop table dpo.load_reconciliation", "missing"),
        ("drop table dpo_restricted.rejected_privacy_events", "missing"),
        (
            "insert into dpo_restricted.quarantined_rows by name "
            "select date '2026-06-01' as run_date",
            "another run date",
        ),
        (
            "insert into marketing.segment_members values ('x', 'C001', date '2026-06-01')",
            "another run date",
        ),
    ],
)
def test_a_partial_or_foreign_candidate_is_refused_and_nothing_changes(
    clean_root, tmp_path, sql, message
):
    ctx = gated_copy(clean_root, tmp_path / "wh")
    publish_run(ctx)
    before = published_state(ctx.warehouse_dir)
    change_and_regate(ctx, sql)
    with pytest.raises(PublicationFailed, match=message):
        publish_run(ctx)
    assert published_state(ctx.warehouse_dir) == before


def declare_column(monkeypatch, root: Path, schema: str, table: str, column: str) -> None:
    """The marts yml with one more column declared for ``schema.table`` (the gates publish
    only declared columns: personal_data every_published_table_has_exactly_its_declared_columns)."""
    import yaml
    from privacy_pipeline import config

    marts = root / "dbt_project" / "models" / "marts"
    shutil.copytree(
        config.DBT_PROJECT_DIR / "models" / "marts",
        marts,
        ignore=lambda folder, names: [n for n in names if n.endswith(".sql")],
    )
    [yml] = (marts / schema).glob("*.yml")
    document = yaml.safe_load(yml.read_text(encoding="utf-8"))
    [model] = [model for model in document["models"] if model["name"] == table]
    model["columns"].append({"name": column})
    yml.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    monkeypatch.setattr(config, "DBT_PROJECT_DIR", root / "dbt_project")


def test_a_new_column_of_a_model_is_published(clean_root, tmp_path, monkeypatch):
    ctx = gated_copy(clean_root, tmp_path / "wh")
    publish_run(ctx)
    declare_column(monkeypatch, tmp_path, "marketing", "segment_members", "channel")
    change_and_regate(
        ctx, "alter table marketing.segment_members add column channel varchar default 'sms'"
    )
    publish_run(ctx)
    assert query(ctx.warehouse_dir, "select distinct channel from marketing.segment_members") == [
        ("sms",)
    ]


# ------------------------------------------------------------------- killed mid-publish

KILL_SCRIPT = """
import os, sys, time
from pathlib import Path
import privacy_pipeline.publish as publish
from privacy_pipeline.run_context import RunContext

marker, stage = Path(sys.argv[4]), sys.argv[5]

def wait_to_be_killed(*args, **kwargs):
    marker.write_text("ready")
    time.sleep(600)

if stage == "transaction":
    original = publish.replace_run_rows
    done = []
    def replace_run_rows(con, ctx, table):
        result = original(con, ctx, table)
        done.append(table)
        if len(done) == 5:  # half of the tables replaced, not committed
            wait_to_be_killed()
        return result
    publish.replace_run_rows = replace_run_rows
elif stage == "exports":
    original = publish.build_export_version
    def build_export_version(*args):
        folder = original(*args)
        wait_to_be_killed()  # committed, new version written, link not swapped yet
        return folder
    publish.build_export_version = build_export_version

ctx = RunContext.create(sys.argv[1], sys.argv[2], sys.argv[3], k=30, run_id=sys.argv[6])
publish.publish_run(ctx)
"""


def publish_and_kill(ctx, stage: str, tmp_path: Path) -> None:
    """Run publish_run in a child process and SIGKILL it at ``stage``."""
    marker = tmp_path / f"{stage}.ready"
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(KILL_SCRIPT), str(ctx.landing_dir),
         str(ctx.warehouse_dir), RUN_DATE, str(marker), stage, ctx.run_id],
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while not marker.exists():
            assert child.poll() is None, f"publisher exited early with {child.returncode}"
            assert time.monotonic() < deadline, "publisher never reached the kill point"
            time.sleep(0.1)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()


def previous_then_changed_candidate(clean_root: Path, tmp_path: Path):
    """A warehouse with one publication, and a new gated candidate that differs from it."""
    ctx = gated_copy(clean_root, tmp_path / "wh")
    publish_run(ctx)
    change_and_regate(ctx, "update marketing.segment_members set segment = 'gamers'")
    return ctx


def test_killed_during_the_transaction_leaves_the_previous_publication(clean_root, tmp_path):
    ctx = previous_then_changed_candidate(clean_root, tmp_path)
    before = published_state(ctx.warehouse_dir)
    publish_and_kill(ctx, "transaction", tmp_path)
    assert published_state(ctx.warehouse_dir) == before
    # and the next publication goes through
    publish_run(ctx)
    assert query(ctx.warehouse_dir, "select distinct segment from marketing.segment_members") == [
        ("gamers",)
    ]


def test_killed_between_commit_and_link_swap_the_exports_stay_whole_then_catch_up(
    clean_root, tmp_path
):
    ctx = previous_then_changed_candidate(clean_root, tmp_path)
    exports_before = published_state(ctx.warehouse_dir)["exports"]
    publish_and_kill(ctx, "exports", tmp_path)
    # The warehouse shows the new run, the exports still the whole previous one.
    assert query(ctx.warehouse_dir, "select distinct segment from marketing.segment_members") == [
        ("gamers",)
    ]
    assert published_state(ctx.warehouse_dir)["exports"] == exports_before
    # The next step of the DAG (reports) or the next publication completes it.
    assert sync_exports(ctx.warehouse_dir, ctx.run_date)
    version, _ = latest_publication(ctx.warehouse_dir, ctx.run_date)
    for recipient in recipient_tables():
        assert current_export_version(ctx.warehouse_dir, ctx.run_date, recipient) == version
    marketing = export_link(ctx.warehouse_dir, ctx.run_date, "marketing")
    exported = marketing / "marketing.segment_members.parquet"
    assert duckdb.sql(f"select distinct segment from '{exported}'").fetchall() == [("gamers",)]
    assert not sync_exports(ctx.warehouse_dir, ctx.run_date)


def test_publication_waits_for_a_reader_holding_the_warehouse(clean_root, tmp_path):
    ctx = gated_copy(clean_root, tmp_path / "wh")
    publish_run(ctx)
    reader = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; c = duckdb.connect(sys.argv[1], read_only=True); "
         "print('reading', flush=True); time.sleep(4)", str(ctx.warehouse_db)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert reader.stdout.readline().strip() == "reading"
    started = time.monotonic()
    publish_run(ctx)
    assert reader.wait() == 0
    assert time.monotonic() - started > 1  # it waited for the reader instead of failing


# ------------------------------------------------- publication publishes what was gated


@pytest.mark.parametrize(
    "sql",
    [
        "update marketing.segment_members set segment = 'gamers'",
        "update location.presence_hourly set people = people + 1",
        "delete from dpo_restricted.quarantined_rows",
        "alter table location.event_attendance_total add column note varchar",
    ],
    ids=["marketing row", "location count", "rows removed", "new column"],
)
def test_a_candidate_changed_after_its_gates_passed_is_refused(clean_root, tmp_path, sql):
    ctx = gated_copy(clean_root, tmp_path / "wh")
    publish_run(ctx)
    before = published_state(ctx.warehouse_dir)
    inject(ctx, sql)  # after the gates, before publication
    with pytest.raises(PublicationRefused, match="changed after the gates ran") as refused:
        publish_run(ctx)
    assert refused.value.exit_code == 1
    assert published_state(ctx.warehouse_dir) == before


def test_gate_results_left_by_another_run_are_refused(clean_root, tmp_path):
    gated = gated_copy(clean_root, tmp_path / "wh")
    another_run = context_for(gated.landing_dir, gated.warehouse_dir, run_id="another-run")
    with pytest.raises(PublicationRefused, match="left by another run") as refused:
        publish_run(another_run)
    assert refused.value.exit_code == 1
    assert not gated.warehouse_db.exists()


def test_results_without_a_fingerprint_are_refused(clean_root, tmp_path):
    ctx = gated_copy(clean_root, tmp_path / "wh")
    result_file = ctx.run_dir / "gates" / "marketing.json"
    result = json.loads(result_file.read_text())
    result["candidate_fingerprint"] = None
    result_file.write_text(json.dumps(result))
    with pytest.raises(PublicationRefused, match="without a candidate fingerprint: marketing"):
        publish_run(ctx)


HOLD_THE_DATE = """
import sys, time
from pathlib import Path
from privacy_pipeline.gate_binding import hold_run_date
import datetime as dt
with hold_run_date(Path(sys.argv[1]), dt.date.fromisoformat(sys.argv[2]), "concurrent-run"):
    print("holding", flush=True)
    time.sleep(600)
"""


def test_a_concurrent_run_of_the_same_date_is_refused_and_its_lock_dies_with_it(
    clean_root, tmp_path
):
    ctx = gated_copy(clean_root, tmp_path / "wh")
    other = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_DATE, str(ctx.warehouse_dir), RUN_DATE],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    try:
        assert other.stdout.readline().strip() == "holding"
        with pytest.raises(PublicationRefused, match="another run of the same date") as refused:
            publish_run(ctx)
        assert "concurrent-run" in str(refused.value) and "run_date=" in str(refused.value)
        assert refused.value.exit_code == 1
        assert not ctx.warehouse_db.exists()
    finally:
        other.send_signal(signal.SIGKILL)
        other.wait()
    # the lock file stays, but the lock died with its process: the next run goes through
    publish_run(ctx)
    assert query(ctx.warehouse_dir, "select count(*) from marketing.segment_members") == [(2,)]


# One violation per suite, each failing that suite only.
ONE_SUITE_FAILS = {
    "personal_data": "update dpo.load_reconciliation set source_table = '+32470000001'",
    "marketing": (
        "insert into marketing.segment_members values "
        f"('standard_offers', '{C_SCARLET_MIGRATED}', date '{RUN_DATE}')"
    ),
    "location": "update location.event_attendance_total set people = 29",
    # an erasure request of a customer the marketing tables still hold
    "rights": (
        "create or replace view landing.data_subject_requests as select 'R1' as request_id, "
        f"'{C_PROXIMUS}' as customer_id, 'erasure' as kind, "
        f"'{RUN_DATE}T10:00:00+02:00' as received_at, 'email' as channel, "
        "'privacy@proximus.com' as addressed_to"
    ),
}


@pytest.mark.parametrize("failing_suite", SUITES)
def test_every_result_present_and_one_failed_is_refused_naming_that_suite(
    clean_root, tmp_path, failing_suite
):
    """The second line of defence for the right reason: every suite ran on this run's
    candidate, only one failed; publication names that suite, and only it."""
    ctx = gated_copy(clean_root, tmp_path / "wh")
    inject(ctx, ONE_SUITE_FAILS[failing_suite])
    for suite in SUITES:
        if suite == failing_suite:
            with pytest.raises(GateFailed):
                run_suite(ctx, suite)
        else:
            assert run_suite(ctx, suite)["success"], suite
    results = read_suite_results(ctx)
    assert set(results) == set(SUITES)
    assert {suite for suite, result in results.items() if not result["success"]} == {failing_suite}
    with pytest.raises(GateFailed) as refused:
        publish_run(ctx)
    assert str(refused.value).endswith(f"privacy gates not passed: {failing_suite}")
    assert not ctx.warehouse_db.exists()


def test_privacy_pipeline_run_refuses_a_date_another_run_holds(tmp_path):
    """Through the CLI: refused before anything starts, exit 1, with who holds the date."""
    from tests.support.pipeline import run_pipeline

    warehouse = tmp_path / "wh"
    (tmp_path / "landing").mkdir()
    other = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_DATE, str(warehouse), RUN_DATE],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    try:
        assert other.stdout.readline().strip() == "holding"
        result = run_pipeline(tmp_path / "landing", warehouse, RUN_DATE)
    finally:
        other.send_signal(signal.SIGKILL)
        other.wait()
    assert result.returncode == 1, result.stderr[-3000:]
    assert "another run of the same date is in progress" in result.stderr
    assert "concurrent-run" in result.stderr
    assert not (warehouse / "runs").exists() and not (warehouse / "warehouse.duckdb").exists()
