"""The release ledger: what every publication of a run date put in recipients' hands.

A date can be published again (new objections, late data, a fix). Recipients may keep
every earlier release, so each new release is audited against all of them
(release.py): no figure may differ from the same figure of an earlier release of the
date by 1 to k-1. This ledger is the memory of those releases: one row per published
location figure and publication (run_date, release_id, figure, published value).

It lives with the private data (``<warehouse>/private/release_ledger.duckdb``), never in
the exports. A release is recorded *before* the warehouse transaction that publishes it:
if publication then fails, the ledger holds a release nobody received, which only adds
constraints; the reverse order could forget one somebody holds.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from pathlib import Path

import duckdb

from privacy_pipeline.location.disclosure import (
    EVENT_HOUR_TABLE,
    EVENT_TOTAL_TABLE,
    OD_FLOWS_TABLE,
    PRESENCE_TABLE,
    VISITOR_ORIGIN_TABLE,
    VISITORS_TABLE,
    FigureKey,
)
from privacy_pipeline.location.release import figure_key
from privacy_pipeline.transaction import transaction

LEDGER_FILE = Path("private") / "release_ledger.duckdb"
LEDGER_TABLE = "location_release_ledger"
# Per release, the digest of what placed people in its figures (location/inputs.py).
INPUTS_TABLE = "location_release_inputs"
LOCK_WAIT_SECONDS = 600


def ledger_file(warehouse_dir: Path) -> Path:
    return Path(warehouse_dir) / LEDGER_FILE


def _connect(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A connection to the ledger, waiting while another run holds it (one writer: the
    publication of another date, or a release model reading it)."""
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            time.sleep(1)
    if read_only:
        return con
    con.execute(
        f"""create table if not exists {LEDGER_TABLE} (
            run_date date not null, release_id varchar not null,
            recorded_at timestamptz not null, table_name varchar not null,
            area_level varchar not null, area_id varchar not null, hour_index integer,
            people bigint not null)"""
    )
    con.execute(
        f"""create table if not exists {INPUTS_TABLE} (
            run_date date not null, release_id varchar not null, inputs_digest varchar)"""
    )
    return con


def _rows_of_date(warehouse_dir: Path, table: str, columns: str, run_date) -> list[tuple]:
    """Distinct ``columns`` of the ledger's ``table`` for ``run_date``: none when the
    ledger or the table does not exist yet (a table recorded by an older version)."""
    path = ledger_file(warehouse_dir)
    if not path.exists():
        return []
    con = _connect(path, read_only=True)
    try:
        exists = con.execute(
            "select count(*) from information_schema.tables where table_name = ?", [table]
        ).fetchone()[0]
        if not exists:
            return []
        return con.execute(
            f"select distinct {columns} from {table} where run_date = cast(? as date)",
            [str(run_date)],
        ).fetchall()
    finally:
        con.close()


def held_values(warehouse_dir: Path, run_date: dt.date | str) -> dict[FigureKey, set[int]]:
    """Every value each figure of ``run_date`` was published with, over all releases."""
    rows = _rows_of_date(
        warehouse_dir, LEDGER_TABLE, "table_name, area_level, area_id, hour_index, people", run_date
    )
    held: dict[FigureKey, set[int]] = defaultdict(set)
    for table_name, level, area, hour, people in rows:
        held[figure_key(table_name, level, area, hour)].add(int(people))
    return dict(held)


def earlier_inputs(warehouse_dir: Path, run_date: dt.date | str) -> set[str]:
    """The input digests of every earlier release of ``run_date`` (location/inputs.py);
    a release recorded before digests were kept has none."""
    rows = _rows_of_date(warehouse_dir, INPUTS_TABLE, "inputs_digest", run_date)
    return {digest for (digest,) in rows if digest is not None}


def published_figures_sql(run_start: dt.datetime) -> dict[str, str]:
    """Per published location table, its figures as (table_name, area_level, area_id,
    hour_index, people): what a recipient reads, keyed like the release model's figures."""
    hour_index = (
        f"cast(round((epoch(hour_start) - epoch(cast('{run_start.isoformat()}' as timestamptz)))"
        " / 3600) as integer)"
    )
    return {
        PRESENCE_TABLE: f"""select '{PRESENCE_TABLE}', area_level, area_id, {hour_index}, people
            from candidate.location.{PRESENCE_TABLE}""",
        EVENT_HOUR_TABLE: f"""select '{EVENT_HOUR_TABLE}', 'event', event_id, {hour_index}, people
            from candidate.location.{EVENT_HOUR_TABLE}""",
        EVENT_TOTAL_TABLE: f"""select '{EVENT_TOTAL_TABLE}', 'event', event_id, null, people
            from candidate.location.{EVENT_TOTAL_TABLE}""",
        **{
            table: f"""select '{table}', area_level, {day_figure_id_sql(columns)}, null, people
                from candidate.location.{table}"""
            for table, columns in DAY_TABLE_KEY_COLUMNS.items()
        },
    }


# The key columns of each whole-day table, in the order of the figure's id
# (disclosure.day_figure, dbt's location_figure_key).
DAY_TABLE_KEY_COLUMNS = {
    VISITORS_TABLE: ("area_id", "visitor_class"),
    VISITOR_ORIGIN_TABLE: ("area_id", "origin_level", "origin_area_id"),
    OD_FLOWS_TABLE: ("origin_area_id", "destination_area_id", "time_band"),
}


def day_figure_id_sql(columns: tuple[str, ...]) -> str:
    return " || chr(31) || ".join(f"cast({column} as varchar)" for column in columns)


def record_release(
    candidate_db: Path,
    warehouse_dir: Path,
    run_date: dt.date,
    release_id: str,
    run_start: dt.datetime,
) -> int:
    """Append the candidate's published location figures (the location tables about to be
    published) to the ledger; returns how many. Recording a release again replaces it."""
    con = _connect(ledger_file(warehouse_dir))
    try:
        con.execute(f"attach '{candidate_db}' as candidate (read_only)")
        tables = {
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables "
                "where table_catalog = 'candidate' and table_schema = 'location'"
            ).fetchall()
        }
        with transaction(con):
            con.execute(
                f"delete from {LEDGER_TABLE} where run_date = cast(? as date) and release_id = ?",
                [run_date.isoformat(), release_id],
            )
            for table, sql in published_figures_sql(run_start).items():
                if table in tables:
                    con.execute(
                        f"insert into {LEDGER_TABLE} "
                        f"select cast(? as date), ?, now(), * from ({sql})",
                        [run_date.isoformat(), release_id],
                    )
            con.execute(
                f"delete from {INPUTS_TABLE} where run_date = cast(? as date) and release_id = ?",
                [run_date.isoformat(), release_id],
            )
            con.execute(
                f"insert into {INPUTS_TABLE} select cast(? as date), ?, inputs_digest "
                "from candidate.landing.location_inputs",
                [run_date.isoformat(), release_id],
            )
            recorded = con.execute(
                f"select count(*) from {LEDGER_TABLE} where run_date = cast(? as date) "
                "and release_id = ?",
                [run_date.isoformat(), release_id],
            ).fetchone()[0]
        con.execute("detach candidate")
    finally:
        con.close()
    return recorded
