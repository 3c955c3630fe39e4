"""Operations through the real CLI and DAG, on one tiny landing zone and one warehouse.

One module-scoped story shares its runs between the assertions (each run costs a
minute): two runs of different dates started at the same time (serialised, both
published), model bugs that two gates catch (exit 1, the failure view with every failed
gate listed, no asset event, the publication kept), then a backfill that is
killed half-way through a date and restarted (the remaining dates run, done ones skip).

A "model bug" is simulated by a wrapper around ``privacy-pipeline run`` that, right after
the marts are built (and their dbt tests passed), changes the candidate output the way a
faulty model would (tests/support/pipeline.py ``run_with_bug``).
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from privacy_pipeline.gates import load_suite

from tests.support.landing import RUN_DATE, write_landing_zone
from tests.support.pipeline import (
    LOCATION_BUG,
    MARKETING_BUG,
    query,
    run_cli,
    run_pipeline,
    run_with_bug,
)
from tests.test_gates_candidates import published_state

pytestmark = pytest.mark.airflow

EARLIER = "2026-06-19"
EARLIEST = "2026-06-18"
STAGES = (
    "load_landing",
    "transform.dbt_build",
    "privacy_gates.gate_marketing",
    "privacy_gates.gate_location",
    "privacy_gates.gate_personal_data",
    "publish",
    "reports",
)
SCHEMAS = {"marketing", "location", "dpo"}


def console_lines(result) -> list[str]:
    return (result.stdout + result.stderr).splitlines()


def asset_events(warehouse) -> list[tuple[str, dict]]:
    """(asset uri, extra) of every asset event in the warehouse's Airflow metadata DB."""
    con = sqlite3.connect(str(warehouse / "airflow" / "airflow.db"))
    try:
        rows = con.execute(
            "select a.name, e.extra from asset_event e join asset a on a.id = e.asset_id"
        ).fetchall()
    finally:
        con.close()
    return [(name, json.loads(extra)) for name, extra in rows]


def publications(warehouse) -> list[tuple[str, int]]:
    return [
        (str(day), count)
        for day, count in query(
            warehouse,
            "select run_date, count(*) from publication.log group by run_date order by run_date",
        )
    ]


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    root = tmp_path_factory.mktemp("operations")
    landing = write_landing_zone(root / "landing", {})
    warehouse = root / "warehouse"
    # Two runs of different dates into one warehouse, started at the same time.
    with ThreadPoolExecutor(max_workers=2) as pool:
        concurrent = dict(
            zip(
                (EARLIER, RUN_DATE),
                pool.map(
                    lambda day: run_pipeline(landing, warehouse, day, fresh_process=True),
                    (EARLIER, RUN_DATE),
                ),
                strict=True,
            )
        )
    after_concurrent = {"events": asset_events(warehouse), "publications": publications(warehouse)}
    # Two model bugs on RUN_DATE, caught by two gates: the failure view, nothing published,
    # no asset event, the publication as it was.
    before_bugs = published_state(warehouse)
    bugs = run_with_bug(landing, warehouse, f"{MARKETING_BUG}; {LOCATION_BUG}")
    return {
        "landing": landing,
        "warehouse": warehouse,
        "concurrent": concurrent,
        "after_concurrent": after_concurrent,
        "after_bugs_events": {
            "events": asset_events(warehouse),
            "publications": publications(warehouse),
        },
        "before_bugs": before_bugs,
        "bugs": bugs,
        "after_bugs": published_state(warehouse),
        "report_after_bugs": (warehouse / "reports" / "runs" / f"{RUN_DATE}.html").read_text(
            encoding="utf-8"
        ),
    }


def test_two_runs_of_different_dates_at_once_are_serialised_and_both_published(story):
    runs = story["concurrent"]
    for day, result in runs.items():
        assert result.returncode == 0, (day, result.stdout[-3000:], result.stderr[-3000:])
    waited = [day for day, result in runs.items() if "waiting: warehouse" in result.stderr]
    assert len(waited) == 1, [r.stderr for r in runs.values()]
    other = ({EARLIER, RUN_DATE} - set(waited)).pop()
    assert f"is in use by the run of {other}" in runs[waited[0]].stderr
    # each date published once, with its own rows, none of the other date's
    assert story["after_concurrent"]["publications"] == [(EARLIER, 1), (RUN_DATE, 1)]
    warehouse = story["warehouse"]
    for day in (EARLIER, RUN_DATE):
        read, accepted = query(
            warehouse,
            "select sum(rows_read), sum(rows_accepted) from dpo.load_reconciliation "
            "where run_date = ?",
            [day],
        )[0]
        assert read == accepted > 0
        for recipient in ("marketing", "location_buyers", "dpo"):
            assert (
                warehouse / "exports" / recipient / f"run_date={day}" / "_MANIFEST.json"
            ).exists()


def test_the_console_shows_one_line_per_stage_and_the_summary(story):
    result = story["concurrent"][RUN_DATE]
    lines = console_lines(result)
    assert len(lines) <= 60, "\n".join(lines)
    for stage in STAGES:
        assert re.search(rf"^  {re.escape(stage)}\s+ok\s+\d", result.stdout, re.M), stage
    # the one dbt build shows each layer's time under its line, in order
    layer_line = r"^    (\w+)\s+(?:\d+\.\d s|\d+ min \d\d s)  \((\d+) models, \d+ tests\)$"
    layers = re.findall(layer_line, result.stdout, re.M)
    assert [layer for layer, _ in layers] == ["staging", "intermediate", "marts"], result.stdout
    assert all(int(models) > 0 for _, models in layers)
    assert f"Run {RUN_DATE}: PUBLISHED (exit 0)" in result.stdout
    log_file = story["warehouse"] / "logs" / f"{RUN_DATE}.log"
    assert f"full log         : {log_file}" in result.stdout
    # Airflow's and dbt's own lines are in the log file, not on the console
    for noise in ("[DAG TEST]", "Task instance state updated", "START sql"):
        assert noise not in result.stdout + result.stderr
    log_text = log_file.read_text(encoding="utf-8")
    for expected in ("[DAG TEST]", "START sql", "privacy gate marketing passed"):
        assert expected in log_text


def test_a_successful_publish_emits_one_asset_event_per_schema(story):
    warehouse = story["warehouse"].resolve()
    events = story["after_concurrent"]["events"]
    for day in (EARLIER, RUN_DATE):
        of_day = {uri: extra for uri, extra in events if extra["run_date"] == day}
        assert set(of_day) == {f"privacy-pipeline://{warehouse}/{schema}" for schema in SCHEMAS}
        marketing = of_day[f"privacy-pipeline://{warehouse}/marketing"]
        assert set(marketing["tables"]) >= {"marketing.segment_members"}
        assert (
            marketing["tables"]["marketing.segment_members"]
            == query(
                warehouse,
                "select count(*) from marketing.segment_members where run_date = ?",
                [day],
            )[0][0]
        )


def test_a_gate_failure_shows_the_stage_the_promise_and_where_to_look(story):
    result = story["bugs"]
    assert result.returncode == 1, result.stderr[-3000:]
    lines = console_lines(result)
    assert len(lines) <= 60, "\n".join(lines)
    first_failed = r"FAILED at stage privacy_gates\.gate_(marketing|location) \(exit 1\)"
    assert re.search(first_failed, result.stderr), result.stderr[-3000:]
    # each failed gate: its stage line, its message, its broken promise
    for gate, promise in (
        ("marketing", "no_direct_marketing_objection_in_marketing"),
        ("location", "every_people_count_is_at_least_k"),
    ):
        assert f"[privacy_gates.gate_{gate}] " in result.stderr, gate
        assert re.search(rf"^  privacy_gates.gate_{gate}\s+FAILED", result.stdout, re.M), gate
        assert f"{promise}: 1 of " in result.stderr, gate
    assert "broken promise:" in result.stderr
    assert str(story["warehouse"] / "logs" / f"{RUN_DATE}.log") in result.stderr
    assert str(story["warehouse"] / "reports" / "runs" / f"{RUN_DATE}.html") in result.stderr
    assert "NOT PUBLISHED: a privacy gate failed" in result.stdout
    assert "[DAG TEST]" not in result.stdout + result.stderr


def test_a_failed_gate_emits_no_asset_event(story):
    assert story["after_bugs_events"]["events"] == story["after_concurrent"]["events"]
    assert story["after_bugs_events"]["publications"] == story["after_concurrent"]["publications"]


def test_model_bugs_fail_the_run_with_exit_1_and_keep_the_publication(story):
    result = story["bugs"]
    assert result.returncode == 1, result.stderr[-5000:]
    # every failed gate is listed with its failed expectations and counts
    marketing_promises = len(load_suite("marketing").promises)
    assert (
        f"privacy gate 'marketing' failed: 1 of {marketing_promises} expectations failed"
        in result.stderr
    )
    assert "no_direct_marketing_objection_in_marketing: 1 of " in result.stderr
    assert "privacy gate 'location' failed" in result.stderr
    assert "every_people_count_is_at_least_k: 1 of " in result.stderr
    assert "NOT PUBLISHED: a privacy gate failed" in result.stdout
    assert story["after_bugs"] == story["before_bugs"]
    assert "NOT PUBLISHED: privacy gate failed (marketing, location)" in story["report_after_bugs"]


def kill_when_the_run_of(
    warehouse, day: str, reached: str, timeout: float = 900
) -> threading.Thread:
    """Kill the process running ``day`` once its log shows ``reached`` (the pid from the lock)."""
    log_file = warehouse / "logs" / f"{day}.log"

    def watch():
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = log_file.read_text(errors="replace") if log_file.exists() else ""
            current = text.rsplit("===== privacy-pipeline pid", 1)[-1]
            if reached in current:
                holder = json.loads((warehouse / ".run.lock").read_text())
                os.kill(holder["pid"], signal.SIGKILL)
                return
            time.sleep(0.5)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    return watcher


def test_a_killed_backfill_restarted_runs_the_remaining_dates(story):
    landing, warehouse = story["landing"], story["warehouse"]
    args = ["backfill", "--landing", str(landing), "--warehouse", str(warehouse)]
    args += ["--from", EARLIEST, "--to", RUN_DATE]
    watcher = kill_when_the_run_of(warehouse, EARLIEST, "transform.dbt_build")
    killed = run_cli(*args)
    watcher.join(timeout=60)
    assert killed.returncode == -signal.SIGKILL, killed.stdout[-2000:]
    # the half-done date is not published
    assert EARLIEST not in dict(publications(warehouse))
    restarted = run_cli(*args)
    assert restarted.returncode == 0, (restarted.stdout[-3000:], restarted.stderr[-3000:])
    lines = restarted.stdout.splitlines()
    assert len(lines) == 4, lines  # one line per date, then the total
    assert re.match(rf"{EARLIEST}\s+published\s+exit 0\s+\d", lines[0])
    assert re.match(rf"{EARLIER}\s+skipped: already published\s+exit 0", lines[1])
    assert re.match(rf"{RUN_DATE}\s+skipped: already published\s+exit 0", lines[2])
    assert lines[3].endswith("exit 0")
    assert publications(warehouse) == [(EARLIEST, 1), (EARLIER, 1), (RUN_DATE, 1)]
    assert {e["run_date"] for _, e in asset_events(warehouse)} == {EARLIEST, EARLIER, RUN_DATE}
