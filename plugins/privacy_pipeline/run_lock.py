"""One run at a time per warehouse: runs of different dates are serialised, with a message.

Runs of one warehouse share more than the published database: the Airflow home with
its SQLite metadata DB (one writer; two ``dag.test`` processes on it fail with
"database is locked"), the Great Expectations Data Docs site and the export tree. Two
cores gain nothing from running two nights side by side, so a second run waits for the
first, says whom it waits for, and then runs on a warehouse nobody else is writing.
The lock is an ``flock`` on ``<warehouse>/.run.lock``: the kernel releases it when its
process dies, so a killed run never blocks the next one. See docs/operations.md.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

LOCK_FILE = ".run.lock"


def lock_path(warehouse_dir: Path) -> Path:
    return Path(warehouse_dir) / LOCK_FILE


# How long a waiting run looks for its holder's name: the holder writes it just after it
# takes the lock, so a waiter can find the file still empty for a moment.
HOLDER_NAME_WAIT_SECONDS = 3.0


def read_holder(path: Path) -> dict:
    """What a live holder wrote into the lock file; {} if empty, unreadable or stale (its
    process is gone: a killed run cannot clear the file)."""
    try:
        holder = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}
    if not isinstance(holder, dict):
        return {}
    try:
        os.kill(int(holder.get("pid")), 0)
    except (TypeError, ValueError, ProcessLookupError):
        return {}
    except PermissionError:  # alive, another user's
        pass
    return holder


def holder_description(path: Path, wait_seconds: float = HOLDER_NAME_WAIT_SECONDS) -> str:
    """Who holds the lock, from what its holder wrote into the lock file."""
    deadline = time.monotonic() + wait_seconds
    holder = read_holder(path)
    while not holder and time.monotonic() < deadline:
        time.sleep(0.05)
        holder = read_holder(path)
    if not holder:
        return "another run"
    return (
        f"the run of {holder.get('run_date', '?')} (pid {holder.get('pid', '?')}, "
        f"started {holder.get('started_at', '?')})"
    )


@contextmanager
def exclusive_warehouse(
    warehouse_dir: Path, run_date: dt.date, out: TextIO | None = None
) -> Iterator[None]:
    """Hold the warehouse for one run; wait, with a message on ``out``, while another run does."""
    out = out or sys.stderr
    path = lock_path(warehouse_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            waited_from = time.monotonic()
            print(
                f"waiting: warehouse {warehouse_dir} is in use by {holder_description(path)}; "
                f"runs of one warehouse are serialised, the run of {run_date} starts after it",
                file=out,
                flush=True,
            )
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            print(
                f"warehouse {warehouse_dir} free after {time.monotonic() - waited_from:.0f} s: "
                f"starting the run of {run_date}",
                file=out,
                flush=True,
            )
        holder = {
            "run_date": run_date.isoformat(),
            "pid": os.getpid(),
            "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, json.dumps(holder).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(descriptor, 0)  # the next waiter never reads a finished run's name
    finally:
        os.close(descriptor)  # releases the flock
