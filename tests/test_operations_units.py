"""Operations without a pipeline run: backfill rules, the console capture, the run lock, assets."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
import threading
import time

import duckdb
import pytest
from privacy_pipeline import backfill as backfill_module
from privacy_pipeline.assets import asset_uri, schema_events
from privacy_pipeline.backfill import backfill, dates_between, worst_exit_code
from privacy_pipeline.cli import main
from privacy_pipeline.console import failure_lines, with_task_ids
from privacy_pipeline.errors import UnusableInput
from privacy_pipeline.run_lock import exclusive_warehouse, holder_description, lock_path

D = dt.date


def publish_by_hand(warehouse, run_date: str, report_after: bool = True) -> None:
    """A publication.log row for ``run_date`` (and its run report, written after it or not)."""
    warehouse.mkdir(parents=True, exist_ok=True)
    report = warehouse / "reports" / "runs" / f"{run_date}.html"
    report.parent.mkdir(parents=True, exist_ok=True)
    if not report_after:
        report.write_text("an older report")
        old = time.time() - 3600
        os.utime(report, (old, old))
    con = duckdb.connect(str(warehouse / "warehouse.duckdb"))
    try:
        con.execute("create schema if not exists publication")
        con.execute(
            "create table if not exists publication.log (run_date date, run_id varchar, "
            "export_version varchar, published_at timestamptz, tables varchar)"
        )
        con.execute(
            "insert into publication.log values (?, 'manual', 'v1', now(), '{}')", [run_date]
        )
    finally:
        con.close()
    if report_after:
        time.sleep(0.01)
        report.write_text("the report")


class FakeRuns:
    """Records the dates backfill runs and answers an exit code per date."""

    def __init__(self, codes: dict[str, int] | None = None):
        self.codes = codes or {}
        self.dates: list[str] = []

    def __call__(self, landing, warehouse, run_date, k, verbose) -> int:
        self.dates.append(run_date.isoformat())
        return self.codes.get(run_date.isoformat(), 0)


def test_dates_run_in_order_and_the_range_must_not_be_reversed():
    assert dates_between(D(2026, 6, 29), D(2026, 7, 2)) == [
        D(2026, 6, 29),
        D(2026, 6, 30),
        D(2026, 7, 1),
        D(2026, 7, 2),
    ]
    with pytest.raises(UnusableInput):
        dates_between(D(2026, 6, 20), D(2026, 6, 19))


def test_worst_exit_code_is_the_most_serious_outcome():
    assert worst_exit_code([0, 1, 0]) == 1
    assert worst_exit_code([1, 2, 0]) == 2
    assert worst_exit_code([2, 3, 1]) == 3
    assert worst_exit_code([0, 0]) == 0
    assert worst_exit_code([]) == 0


def test_published_dates_are_skipped_unless_forced(tmp_path):
    warehouse = tmp_path / "wh"
    publish_by_hand(warehouse, "2026-06-19")
    runs, out = FakeRuns(), io.StringIO()
    code = backfill(tmp_path, warehouse, D(2026, 6, 18), D(2026, 6, 20), out=out, run_date_fn=runs)
    assert code == 0
    assert runs.dates == ["2026-06-18", "2026-06-20"]
    lines = out.getvalue().splitlines()
    assert len(lines) == 4  # one line per date, then the total
    assert lines[1].startswith("2026-06-19") and "skipped: already published" in lines[1]
    assert "exit 0" in lines[0] and "exit 0" in lines[2]
    forced = FakeRuns()
    backfill(
        tmp_path, warehouse, D(2026, 6, 18), D(2026, 6, 20), force=True, out=io.StringIO(),
        run_date_fn=forced,
    )  # fmt: skip
    assert forced.dates == ["2026-06-18", "2026-06-19", "2026-06-20"]


def test_a_date_published_without_its_report_is_run_again(tmp_path):
    """Killed between the publication and the reports: the date is not done."""
    warehouse = tmp_path / "wh"
    publish_by_hand(warehouse, "2026-06-19", report_after=False)
    runs = FakeRuns()
    backfill(
        tmp_path, warehouse, D(2026, 6, 19), D(2026, 6, 19), out=io.StringIO(), run_date_fn=runs
    )
    assert runs.dates == ["2026-06-19"]


def test_backfill_goes_on_after_a_failed_date_and_exits_with_the_worst_code(tmp_path):
    runs, out = FakeRuns({"2026-06-18": 1, "2026-06-19": 3, "2026-06-20": 2}), io.StringIO()
    code = backfill(
        tmp_path, tmp_path / "wh", D(2026, 6, 17), D(2026, 6, 20), out=out, run_date_fn=runs
    )
    assert code == 3
    assert runs.dates == ["2026-06-17", "2026-06-18", "2026-06-19", "2026-06-20"]
    lines = out.getvalue().splitlines()
    assert "NOT PUBLISHED: a privacy gate failed" in lines[1] and "exit 1" in lines[1]
    assert "FAILED" in lines[2] and "exit 3" in lines[2] and "2026-06-19.log" in lines[2]
    assert "unusable input" in lines[3] and "exit 2" in lines[3]
    assert lines[-1].endswith("exit 3")


def test_backfill_command_refuses_a_reversed_range(tmp_path, capsys):
    (tmp_path / "landing").mkdir()
    code = main(
        [
            "backfill", "--landing", str(tmp_path / "landing"), "--warehouse",
            str(tmp_path / "wh"), "--from", "2026-06-20", "--to", "2026-06-19",
        ]
    )  # fmt: skip
    assert code == 2
    assert "after --to" in capsys.readouterr().err


def test_backfill_command_passes_its_options(tmp_path, monkeypatch):
    seen = {}

    def fake_backfill(landing, warehouse, first, last, k, force, verbose):
        seen.update(first=first, last=last, k=k, force=force, verbose=verbose)
        return 1

    monkeypatch.setattr(backfill_module, "backfill", fake_backfill)
    (tmp_path / "landing").mkdir()
    code = main(
        [
            "backfill", "--landing", str(tmp_path / "landing"), "--warehouse",
            str(tmp_path / "wh"), "--from", "2026-06-18", "--to", "2026-06-20", "--k", "20",
            "--force", "-v",
        ]
    )  # fmt: skip
    assert code == 1
    assert seen == {
        "first": D(2026, 6, 18), "last": D(2026, 6, 20), "k": 20, "force": True, "verbose": True,
    }  # fmt: skip


WRITE_EVERYWHERE = """
import logging, os, subprocess, sys
from pathlib import Path
from privacy_pipeline.console import captured_output
logging.basicConfig(level=logging.INFO)  # as the CLI does: a handler on the real stderr
with captured_output(Path(sys.argv[1])) as console:
    print("python stdout line")
    os.write(2, b"raw fd 2 line\\n")
    logging.getLogger("airflow.task").warning("a logging line")
    subprocess.run([sys.executable, "-c", "print('child process line')"], check=True)
    console.write("console line\\n")
print("after the run")
"""


def test_everything_written_during_a_run_goes_to_the_log_file(tmp_path):
    log_file = tmp_path / "logs" / "2026-06-20.log"
    result = subprocess.run(
        [sys.executable, "-c", WRITE_EVERYWHERE, str(log_file)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    text = log_file.read_text()
    for expected in ("python stdout line", "raw fd 2 line", "a logging line", "child process line"):
        assert expected in text
        assert expected not in result.stdout + result.stderr
    assert "console line" not in text
    assert result.stdout == "console line\nafter the run\n"
    assert result.stderr == ""


SHOW_LIVE = """
import subprocess, sys
from pathlib import Path
from privacy_pipeline.console import captured_output
with captured_output(Path(sys.argv[1]), verbose=True):
    print("shown live", flush=True)
    subprocess.run([sys.executable, "-c", "print('child live')"], check=True)
"""


def test_verbose_copies_the_log_to_the_terminal_too(tmp_path):
    log_file = tmp_path / "logs" / "d.log"
    result = subprocess.run(
        [sys.executable, "-c", SHOW_LIVE, str(log_file)], capture_output=True, text=True, check=True
    )
    for expected in ("shown live", "child live"):
        assert expected in log_file.read_text()
        assert expected in result.stdout


def test_failure_view_names_the_stage_the_promise_and_where_to_look(tmp_path):
    long_message = "dbt build failed:\n" + "\n".join(f"  node {i}: error" for i in range(40))
    lines = failure_lines(
        [{"stage": "transform.dbt_build", "exit_code": 3, "message": long_message}],
        [("No profile for a customer who objected", "1 violation (C002)")],
        {"full log": tmp_path / "logs" / "d.log", "run report": tmp_path / "r.html"},
    )
    text = "\n".join(lines)
    assert lines[0] == "FAILED at stage transform.dbt_build (exit 3)"
    assert "broken promise: No profile for a customer who objected" in text
    assert "more lines in the log" in text and len(lines) < 25
    assert str(tmp_path / "logs" / "d.log") in text


HOLD_THE_LOCK = """
import datetime, sys, time
from pathlib import Path
from privacy_pipeline.run_lock import exclusive_warehouse
with exclusive_warehouse(Path(sys.argv[1]), datetime.date(2026, 6, 19)):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_a_second_run_waits_for_the_warehouse_and_says_for_whom(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_LOCK, str(tmp_path), "3"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        messages = io.StringIO()
        started = time.monotonic()
        with exclusive_warehouse(tmp_path, D(2026, 6, 20), out=messages):
            waited = time.monotonic() - started  # the first run held it for 3 s
            held_by = lock_path(tmp_path).read_text()
    finally:
        holder.wait(timeout=30)
    assert waited > 1
    text = messages.getvalue()
    assert "is in use by the run of 2026-06-19" in text and f"pid {holder.pid}" in text
    assert "starting the run of 2026-06-20" in text
    assert '"run_date": "2026-06-20"' in held_by
    assert lock_path(tmp_path).read_text() == ""  # a finished run leaves no name behind


def test_a_waiting_run_names_a_holder_that_has_not_written_its_name_yet(tmp_path):
    # The holder takes the lock, then writes its name: a waiter can come in between (two
    # runs started at once), and must still say whom it waits for.
    path = lock_path(tmp_path)
    path.write_text(json.dumps({"run_date": "2026-06-18", "pid": 2**22 + 7}))  # a dead run's
    holder = {"run_date": "2026-06-19", "pid": os.getpid(), "started_at": "now"}
    later = threading.Timer(0.5, lambda: path.write_text(json.dumps(holder)))
    later.start()
    try:
        assert holder_description(path).startswith("the run of 2026-06-19 (pid ")
    finally:
        later.join()
    path.write_text("")
    assert holder_description(path, wait_seconds=0.2) == "another run"


def test_a_killed_run_does_not_keep_the_warehouse(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_LOCK, str(tmp_path), "60"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    holder.kill()
    holder.wait(timeout=30)
    messages = io.StringIO()
    with exclusive_warehouse(tmp_path, D(2026, 6, 20), out=messages):
        pass
    assert messages.getvalue() == ""


def test_one_asset_event_per_published_schema():
    ctx = {"warehouse_dir": "/data/wh", "run_date": "2026-06-20", "run_id": "r1"}
    published = {
        "marketing.segment_members": 5,
        "marketing.customer_interests": 7,
        "location.presence_hourly": 3,
        "dpo.gate_results": 21,
    }
    events = schema_events(ctx, published)
    assert set(events) == {"marketing", "location", "dpo"}
    assert events["marketing"]["tables"] == {
        "marketing.customer_interests": 7,
        "marketing.segment_members": 5,
    }
    assert events["location"]["run_date"] == "2026-06-20"
    # each schema names the folders of the recipients that receive its tables
    assert events["location"]["exports"] == {
        "location_buyers": "/data/wh/exports/location_buyers/run_date=2026-06-20",
    }
    assert set(events["dpo"]["exports"]) == {"dpo"}
    assert asset_uri("/data/wh", "marketing") == "privacy-pipeline:///data/wh/marketing"


def test_a_failed_stage_is_named_as_its_stage_line():
    failures = [{"stage": "gate_marketing", "exit_code": 1, "message": "m"}]
    task_ids = ["load_landing", "transform.dbt_build", "privacy_gates.gate_marketing"]
    assert with_task_ids(failures, task_ids)[0]["stage"] == "privacy_gates.gate_marketing"
    assert with_task_ids(failures, [])[0]["stage"] == "gate_marketing"


def test_an_unsafe_k_refuses_the_whole_backfill(tmp_path, capsys):
    (tmp_path / "landing").mkdir()
    code = main(
        [
            "backfill", "--landing", str(tmp_path / "landing"), "--warehouse",
            str(tmp_path / "wh"), "--from", "2026-06-18", "--to", "2026-06-20", "--k", "14",
        ]
    )  # fmt: skip
    assert code == 2
    assert "below the floor of 15" in capsys.readouterr().err
    assert not (tmp_path / "wh" / "logs").exists()


def test_dbt_node_results_move_the_progress_of_the_running_stage(monkeypatch):
    from types import SimpleNamespace

    from privacy_pipeline import console as console_module

    steps = []
    fake = SimpleNamespace(step=lambda total: steps.append(total))
    monkeypatch.setattr(console_module, "_active", fake)

    def event(name, **data):
        return SimpleNamespace(info=SimpleNamespace(name=name), data=SimpleNamespace(**data))

    console_module.dbt_progress(event("LogModelResult", index=4, total=120))
    console_module.dbt_progress(event("LogTestResult", index=3, num_models=120))
    console_module.dbt_progress(event("LogStartLine", index=5, total=120))  # not a result
    assert steps == [120, 120]
