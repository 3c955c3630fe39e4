"""Publication is all or nothing, for the warehouse and for the exports, even when killed.

Candidates here are the prepared ones of the gate tests (landing views + hand-made marts)
with every gate run for real, so publish_run sees what it sees in the DAG.
"""

from __future__ import annotations

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
from privacy_pipeline.gates import SUITES, run_suite
from privacy_pipeline.publish import (
    PUBLISHED_TABLES,
    PublicationFailed,
    current_export_version,
    export_link,
    latest_publication,
    publish_run,
    sync_exports,
)

from tests.support.landing import RUN_DATE
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


def gated_copy(clean_root: Path, warehouse: Path, run_id: str = "run-1", sql: str = ""):
    """The gated candidate (with its gate results) in ``warehouse``, optionally changed."""
    source = clean_root / "warehouse" / "runs"
    shutil.copytree(source, warehouse / "runs")
    ctx = context_for(clean_root / "landing", warehouse, run_id=run_id)
    if sql:
        inject(ctx, sql)
    return ctx


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
    link = export_link(ctx.warehouse_dir, ctx.run_date)
    assert link.is_symlink() and (link / "_MANIFEST.json").exists()
    for table in PUBLISHED_TABLES:
        exported = duckdb.sql(f"select count(*) from '{link / f'{table}.parquet'}'").fetchall()
        assert exported[0][0] == published[table], table
    assert published["marketing.segment_members"] == 2
    expectations = query(
        ctx.warehouse_dir, "select count(distinct expectation) from dpo.gate_results"
    )
    assert published["dpo.gate_results"] == expectations[0][0] > 0


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
    inject(ctx, sql)
    with pytest.raises(PublicationFailed, match=message):
        publish_run(ctx)
    assert published_state(ctx.warehouse_dir) == before


def test_a_new_column_of_a_model_is_published(clean_root, tmp_path):
    ctx = gated_copy(clean_root, tmp_path / "wh")
    publish_run(ctx)
    inject(ctx, "alter table marketing.segment_members add column channel varchar default 'sms'")
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

ctx = RunContext.create(sys.argv[1], sys.argv[2], sys.argv[3], k=30, run_id="killed-run")
publish.publish_run(ctx)
"""


def publish_and_kill(ctx, stage: str, tmp_path: Path) -> None:
    """Run publish_run in a child process and SIGKILL it at ``stage``."""
    marker = tmp_path / f"{stage}.ready"
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(KILL_SCRIPT), str(ctx.landing_dir),
         str(ctx.warehouse_dir), RUN_DATE, str(marker), stage],
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
    inject(ctx, "update marketing.segment_members set segment = 'gamers'")
    inject(ctx, "update location.presence_hourly set people = people + 100")
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
    assert current_export_version(ctx.warehouse_dir, ctx.run_date) == version
    exported = export_link(ctx.warehouse_dir, ctx.run_date) / "marketing.segment_members.parquet"
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
