"""The console of ``privacy-pipeline run``: one line per stage, the full logs in a file.

Airflow (``dag.test`` runs every task in this process), dbt and Great Expectations write
hundreds of lines per run. During the run, file descriptors 1 and 2 point at
``<warehouse>/logs/<D>.log`` (so do the subprocesses and every logging handler), and
the console keeps a private copy of the terminal. Stage lines come from an Airflow
listener (task running / success / failed); dbt's node events move a progress bar while
a dbt stage runs (on a terminal only: a pipe gets the stage lines, no bar redraws).
``-v`` copies the logs to the terminal live as well. See docs/operations.md.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TextIO

# The task that only keeps a failed run red; its "failure" is not a stage of its own.
HIDDEN_TASKS = ("fail_run_if_any_stage_failed",)
# A failure message longer than this is cut on the console (the log has all of it).
MAX_FAILURE_LINES = 12
STAGE_WIDTH = 36

_active: StageConsole | None = None


def log_path(warehouse_dir: Path, run_date: dt.date) -> Path:
    """Where the full Airflow, dbt and Great Expectations logs of run date D go."""
    return Path(warehouse_dir) / "logs" / f"{run_date.isoformat()}.log"


@contextmanager
def captured_output(path: Path, verbose: bool = False) -> Iterator[TextIO]:
    """Send fds 1 and 2 (and so every writer, in-process or child) to ``path``.

    Yields a text stream on the real stdout for the short view. With ``verbose`` the
    log is also copied to the real stdout, live. The log is appended to: the runs of one
    date follow each other in it, each after a header line.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    console = os.fdopen(os.dup(saved_out), "w", buffering=1, encoding="utf-8", errors="replace")
    log_file = open(path, "ab")  # noqa: SIM115 - closed in finally, after the fds are restored
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    log_file.write(f"\n===== privacy-pipeline pid {os.getpid()}, {started} =====\n".encode())
    log_file.flush()
    tee = None
    if verbose:
        read_end, write_end = os.pipe()
        tee = threading.Thread(
            target=copy_stream, args=(read_end, log_file, saved_out), daemon=True
        )
        tee.start()
        target = write_end
    else:
        target = log_file.fileno()
    os.dup2(target, 1)
    os.dup2(target, 2)
    if verbose:
        os.close(target)
    try:
        yield console
    finally:
        for stream in (sys.stdout, sys.stderr):
            with suppress(OSError, ValueError):
                stream.flush()
        os.dup2(saved_out, 1)
        os.dup2(saved_err, 2)
        if tee is not None:
            tee.join(timeout=30)  # the pipe's last writer closed: the copy ends
        os.close(saved_out)
        os.close(saved_err)
        log_file.close()
        console.close()


def copy_stream(read_end: int, log_file, terminal: int) -> None:
    """The ``-v`` tee: every byte to the log file and to the terminal."""
    with os.fdopen(read_end, "rb", buffering=0) as pipe:
        while chunk := pipe.read(65536):
            log_file.write(chunk)
            log_file.flush()
            with suppress(OSError):  # a closed terminal must not stop the log
                os.write(terminal, chunk)


def format_seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes} min {rest:02d} s"


class StageConsole:
    """An Airflow task-instance listener printing one line per finished stage.

    ``show_lines=False`` (backfill) keeps only the transient progress bar.
    """

    def __init__(self, out: TextIO, show_lines: bool = True):
        self.out = out
        self.show_lines = show_lines
        self.interactive = out.isatty()
        self.started: dict[str, float] = {}
        self.finished: dict[str, tuple[str, float]] = {}
        self.details: list[str] = []
        self.bar = None
        self.lock = threading.Lock()

    # -- what the console shows
    def stage_started(self, stage: str) -> None:
        if stage in HIDDEN_TASKS:
            return
        with self.lock:
            self.started[stage] = time.monotonic()
            self.close_bar()
            if self.interactive:
                from tqdm import tqdm

                self.bar = tqdm(
                    desc=f"  {stage}",
                    total=None,
                    file=self.out,
                    leave=False,
                    dynamic_ncols=True,
                    bar_format="{desc} {n_fmt}/{total_fmt} {bar} {elapsed}",
                )

    def step(self, total: int) -> None:
        """One more unit of the running stage done (dbt: a node of the selected ones)."""
        with self.lock:
            if self.bar is None:
                return
            if self.bar.total != total:
                self.bar.total = total
            self.bar.update(1)

    def stage_finished(self, stage: str, status: str) -> None:
        if stage in HIDDEN_TASKS:
            return
        with self.lock:
            self.close_bar()
            seconds = time.monotonic() - self.started.get(stage, time.monotonic())
            self.finished[stage] = (status, seconds)
            details, self.details = self.details, []
            if self.show_lines:
                self.out.write(f"  {stage:<{STAGE_WIDTH}} {status:<8} {format_seconds(seconds)}\n")
                self.out.writelines(f"{line}\n" for line in details)
                self.out.flush()

    def add_details(self, lines: Sequence[str]) -> None:
        with self.lock:
            self.details += lines

    def close_bar(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def dbt_progress(event: Any) -> None:
    """dbt callback: each node result moves the bar of the running stage."""
    console = _active
    if console is None:
        return
    try:
        name = event.info.name
        if not name.endswith("Result"):
            return
        data = event.data
        # tests report their total as num_models, models as total
        total = int(getattr(data, "total", 0) or getattr(data, "num_models", 0))
    except (AttributeError, TypeError, ValueError):
        return
    if total:
        console.step(total)  # results arrive in any order (threads): count them


def stage_details(lines: Sequence[str]) -> None:
    """Lines shown under the running stage's line when it finishes (dbt's layers)."""
    console = _active
    if console is not None:
        console.add_details(lines)


@contextmanager
def stage_lines(out: TextIO, show_lines: bool = True) -> Iterator[StageConsole]:
    """Register a StageConsole as Airflow task listener for the duration of a run."""
    from airflow.sdk.listener import get_listener_manager

    global _active
    console = StageConsole(out, show_lines)
    listener = task_listener(console)
    manager = get_listener_manager()
    manager.add_listener(listener)
    _active = console
    try:
        yield console
    finally:
        _active = None
        console.close_bar()
        manager.pm.unregister(listener)


def task_listener(console: StageConsole):
    """The Airflow listener (pluggy hooks) that feeds ``console``."""
    from airflow.listeners import hookimpl

    class TaskListener:
        @hookimpl
        def on_task_instance_running(self, previous_state, task_instance):
            console.stage_started(task_instance.task_id)

        @hookimpl
        def on_task_instance_success(self, previous_state, task_instance):
            console.stage_finished(task_instance.task_id, "ok")

        @hookimpl
        def on_task_instance_failed(self, previous_state, task_instance, error):
            console.stage_finished(task_instance.task_id, "FAILED")

        @hookimpl
        def on_task_instance_skipped(self, previous_state, task_instance):
            console.stage_finished(task_instance.task_id, "skipped")

    return TaskListener()


def with_task_ids(failures: list[dict[str, Any]], task_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Name each failed stage as its stage line does (``gate_marketing`` is the task
    ``privacy_gates.gate_marketing``)."""
    named = []
    for failure in failures:
        stage = str(failure["stage"])
        task_id = next((t for t in task_ids if t == stage or t.endswith(f".{stage}")), stage)
        named.append({**failure, "stage": task_id})
    return named


def failure_lines(
    failures: list[dict[str, Any]], promises: list[tuple[str, str]], where: dict[str, Path]
) -> list[str]:
    """The failing stage, its message, the broken promises and where to look."""
    lines = []
    first = failures[0] if failures else None
    if first:
        lines.append(f"FAILED at stage {first['stage']} (exit {first['exit_code']})")
    for failure in failures:
        message = str(failure["message"]).splitlines() or [""]
        shown = message[:MAX_FAILURE_LINES]
        lines.append(f"[{failure['stage']}] {shown[0]}")
        lines += [f"    {line}" for line in shown[1:]]
        if len(message) > len(shown):
            lines.append(f"    ... {len(message) - len(shown)} more lines in the log")
    for promise, observed in promises:
        lines.append(f"broken promise: {promise}")
        lines.append(f"    observed: {observed}")
    lines.append("where to look:")
    width = max(len(label) for label in where)
    lines += [f"  {label:<{width}} : {path}" for label, path in where.items()]
    return lines
