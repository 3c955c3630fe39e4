"""Write small landing zones for tests: a valid baseline of every contract table, plus changes.

Usage::

    from tests.support.landing import write_landing_zone, make_customers, C_PROXIMUS

    # the baseline, with the customers table replaced and two consent events added
    write_landing_zone(tmp_path / "landing", {
        "customers": make_customers(40),            # "NAME": rows  -> replaces the baseline rows
        "+privacy_preferences": [                   # "+NAME": rows -> appended to the baseline rows
            consent_event("X1", C_PROXIMUS, "location_analytics", "opt_in"),
        ],
    })

Rows are dicts keyed by column name. A column missing from a row is written empty (null);
a key that is not a contract column becomes an extra column (the contract ignores those).
Values are written as given (``str()``), so a test can write malformed values on purpose.

Formats (``fmt``): ``csv``, ``csv.gz``, ``parquet`` (columns typed per the contract when every
value parses, else left as text), ``folder`` (``NAME/part-0.csv``, ``NAME/part-1.csv``),
``parquet-folder`` (``NAME/part-0.parquet``, ...).
``omit_columns={"customers": ["email"]}`` leaves contract columns out of the header;
``omit_tables=["cells"]`` does not write those tables at all.
"""

from __future__ import annotations

import copy
import csv
import functools
import gzip
import io
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb
from privacy_pipeline.config import DEMO_RUN_DATE
from privacy_pipeline.contract import DOUBLE, INTEGER, TABLE_NAMES, TIMESTAMP, table

RUN_DATE = DEMO_RUN_DATE  # 2026-06-20, a Saturday; Brussels is at +02:00 then
FORMATS = ("csv", "csv.gz", "parquet", "folder", "parquet-folder")

# Baseline customers: one of each kind the consent rules distinguish.
C_PROXIMUS = "C001"  # proximus brand, always on the Proximus platform
C_SCARLET_MIGRATED = "C002"  # scarlet brand, moved to the Proximus platform on 2026-03-01
C_SCARLET_LEGACY = "C003"  # scarlet brand, still on the legacy Scarlet platform
C_CLOSED = "C004"  # proximus brand, closed on 2026-05-31
BASELINE_CUSTOMERS = (C_PROXIMUS, C_SCARLET_MIGRATED, C_SCARLET_LEGACY, C_CLOSED)
MSISDNS = {
    C_PROXIMUS: "+32470000001",
    C_SCARLET_MIGRATED: "+32470000002",
    C_SCARLET_LEGACY: "+32470000003",
    C_CLOSED: "+32470000004",
}
EMAILS = {customer: f"{customer.lower()}@example.be" for customer in BASELINE_CUSTOMERS}

# Cells: two postal codes of one municipality (Antwerpen).
CELL_A1, CELL_A2, CELL_B1 = "CELL-A1", "CELL-A2", "CELL-B1"
POSTAL_A, POSTAL_B = "2000", "2018"
MUNICIPALITY, PROVINCE = "Antwerpen", "Antwerpen"
EVENT_ID = "E001"  # a festival on the run date at CELL_A1
SURVEY_ID = "S001"
Q_MUSIC_COUNT, Q_GAMING_YES_NO, Q_SPORT_RATING = "Q001", "Q002", "Q003"
CONTEST_GAMING, CONTEST_MUSIC = "K001", "K002"
PARTNER_BELFIUS, PARTNER_ODOO = "P001", "P002"
SITE_MUSIC, SITE_GAMING, SITE_SPORT = "spotify.com", "twitch.tv", "sporza.be"
SITE_SEXUAL, SITE_RELIGIOUS, SITE_POLITICAL = "adult.example", "church.example", "party.example"


def ts(hour: int, minute: int = 0, day: str = RUN_DATE) -> str:
    """An ISO 8601 timestamp on ``day`` (default the run date) in Brussels summer time."""
    return f"{day}T{hour:02d}:{minute:02d}:00+02:00"


def customer(
    customer_id: str,
    brand: str = "proximus",
    msisdn: str | None = None,
    postal_code: str = POSTAL_A,
    migrated_at: str | None = None,
    closed_at: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "brand": brand,
        "full_name": f"Customer {customer_id}",
        "email": f"{customer_id.lower()}@example.be",
        "msisdn": msisdn,
        "postal_code": postal_code,
        "birth_year": 1980,
        "created_at": "2020-01-15T10:00:00+01:00",
        "closed_at": closed_at,
        "migrated_at": migrated_at,
        **extra,
    }


def consent_event(
    event_id: str,
    customer_id: str,
    purpose: str,
    choice: str,
    recorded_at: str = "2026-05-01T12:00:00+02:00",
    channel: str = "myscarlet_web",
    platform: str = "proximus",
) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "customer_id": customer_id,
        "purpose": purpose,
        "choice": choice,
        "channel": channel,
        "platform": platform,
        "recorded_at": recorded_at,
    }


def make_customers(
    n: int, start: int = 1, prefix: str = "N", brand: str = "proximus", **overrides: Any
) -> list[dict[str, Any]]:
    """``n`` valid customers ``N00001``... with distinct msisdns ``+32480000001``...

    ``overrides`` apply to every customer (e.g. ``postal_code="2018"``,
    ``migrated_at=None``). Ids and msisdns do not collide with the baseline ones.
    """
    rows = []
    for number in range(start, start + n):
        rows.append(
            customer(
                f"{prefix}{number:05d}",
                brand=brand,
                msisdn=f"+3248{number:07d}",
                **overrides,
            )
        )
    return rows


def network_events_for(
    customers: Iterable[dict[str, Any]], cell_id: str, event_at: str
) -> list[dict[str, Any]]:
    """One network event per customer (by msisdn) at ``cell_id`` and ``event_at``."""
    return [
        {"msisdn": row["msisdn"], "cell_id": cell_id, "event_at": event_at}
        for row in customers
        if row.get("msisdn")
    ]


def consent_events_for(
    customers: Iterable[dict[str, Any]], purpose: str, choice: str, prefix: str = "X", **kwargs
) -> list[dict[str, Any]]:
    """One consent event per customer, ids ``<prefix>-<customer_id>``."""
    return [
        consent_event(
            f"{prefix}-{row['customer_id']}", row["customer_id"], purpose, choice, **kwargs
        )
        for row in customers
    ]


def baseline_tables() -> dict[str, list[dict[str, Any]]]:
    """A tiny valid landing zone: every contract table, every row accepted by staging."""
    customers = [
        customer(C_PROXIMUS, "proximus", MSISDNS[C_PROXIMUS], POSTAL_A),
        customer(
            C_SCARLET_MIGRATED,
            "scarlet",
            MSISDNS[C_SCARLET_MIGRATED],
            POSTAL_B,
            migrated_at="2026-03-01T09:00:00+01:00",
        ),
        customer(C_SCARLET_LEGACY, "scarlet", MSISDNS[C_SCARLET_LEGACY], POSTAL_A),
        customer(
            C_CLOSED, "proximus", MSISDNS[C_CLOSED], POSTAL_B, closed_at="2026-05-31T12:00:00+02:00"
        ),
    ]
    return {
        "customers": customers,
        "privacy_preferences": [
            consent_event(
                "PP001", C_PROXIMUS, "personalisation_browsing", "opt_in", channel="myscarlet_app"
            ),
            consent_event(
                "PP002",
                C_SCARLET_MIGRATED,
                "direct_marketing",
                "opt_out",
                recorded_at="2025-11-01T10:00:00+01:00",
                channel="letter",
                platform="scarlet_legacy",
            ),
        ],
        "surveys": [{"survey_id": SURVEY_ID, "name": "Summer habits 2026"}],
        "survey_questions": [
            {
                "question_id": Q_MUSIC_COUNT,
                "survey_id": SURVEY_ID,
                "text": "How many festivals did you attend last year?",
                "interest": "music",
                "answer_kind": "count",
            },
            {
                "question_id": Q_GAMING_YES_NO,
                "survey_id": SURVEY_ID,
                "text": "Do you play video games?",
                "interest": "gaming",
                "answer_kind": "yes_no",
            },
            {
                "question_id": Q_SPORT_RATING,
                "survey_id": SURVEY_ID,
                "text": "How much do you like football?",
                "interest": "sport",
                "answer_kind": "rating_1_5",
            },
        ],
        "survey_responses": [
            {
                "response_id": "R001",
                "customer_id": C_PROXIMUS,
                "question_id": Q_MUSIC_COUNT,
                "answer": "4",
                "answered_at": ts(18, day="2026-06-19"),
            },
            {
                "response_id": "R002",
                "customer_id": C_SCARLET_MIGRATED,
                "question_id": Q_GAMING_YES_NO,
                "answer": "yes",
                "answered_at": ts(9),
            },
            {
                "response_id": "R003",
                "customer_id": C_SCARLET_LEGACY,
                "question_id": Q_SPORT_RATING,
                "answer": "5",
                "answered_at": ts(10),
            },
        ],
        "contests": [
            {
                "contest_id": CONTEST_GAMING,
                "name": "Win a console",
                "theme": "gaming",
                "partner_id": None,
                "starts_at": "2026-06-01T00:00:00+02:00",
                "ends_at": "2026-06-30T23:59:59+02:00",
            },
            {
                "contest_id": CONTEST_MUSIC,
                "name": "Festival tickets",
                "theme": "music",
                "partner_id": PARTNER_BELFIUS,
                "starts_at": "2026-06-01T00:00:00+02:00",
                "ends_at": "2026-06-30T23:59:59+02:00",
            },
        ],
        "contest_entries": [
            {
                "entry_id": "N001",
                "customer_id": C_PROXIMUS,
                "contest_id": CONTEST_GAMING,
                "entered_at": ts(11),
            },
            {
                "entry_id": "N002",
                "customer_id": C_SCARLET_MIGRATED,
                "contest_id": CONTEST_MUSIC,
                "entered_at": ts(12),
            },
        ],
        "partners": [
            {"partner_id": PARTNER_BELFIUS, "name": "Belfius", "target_interest": "music"},
            {"partner_id": PARTNER_ODOO, "name": "Odoo", "target_interest": None},
        ],
        "site_catalogue": [
            {"app_or_site": SITE_MUSIC, "category": "music"},
            {"app_or_site": SITE_GAMING, "category": "gaming"},
            {"app_or_site": SITE_SPORT, "category": "sport"},
            {"app_or_site": SITE_SEXUAL, "category": "sexual"},
            {"app_or_site": SITE_RELIGIOUS, "category": "religious"},
            {"app_or_site": SITE_POLITICAL, "category": "political"},
        ],
        "traffic_events": [
            {
                "customer_id": C_PROXIMUS,
                "observed_at": ts(10, 15),
                "network": "mobile",
                "app_or_site": SITE_MUSIC,
                "bytes": 1048576,
            },
            {
                "customer_id": C_PROXIMUS,
                "observed_at": ts(22, 40),
                "network": "fixed",
                "app_or_site": SITE_SEXUAL,
                "bytes": 2048,
            },
            {
                "customer_id": C_SCARLET_MIGRATED,
                "observed_at": ts(20),
                "network": "fixed",
                "app_or_site": SITE_GAMING,
                "bytes": 5000000,
            },
        ],
        "call_records": [
            {
                "customer_id": C_PROXIMUS,
                "started_at": ts(9),
                "ended_at": ts(9, 5),
                "called_number": "+32470000099",
                "direction": "outgoing",
            },
            {
                "customer_id": C_SCARLET_LEGACY,
                "started_at": ts(14),
                "ended_at": ts(14, 1),
                "called_number": "+3222000000",
                "direction": "incoming",
            },
        ],
        "device_observations": [
            {
                "customer_id": C_PROXIMUS,
                "observed_at": ts(8),
                "kind": "handset",
                "model": "iPhone 15",
                "wifi_state": None,
            },
            {
                "customer_id": C_SCARLET_MIGRATED,
                "observed_at": ts(19),
                "kind": "home_device",
                "model": "game_console",
                "wifi_state": "connected",
            },
        ],
        "network_events": [
            {"msisdn": MSISDNS[C_PROXIMUS], "cell_id": CELL_A1, "event_at": ts(8)},
            {"msisdn": MSISDNS[C_PROXIMUS], "cell_id": CELL_A2, "event_at": ts(15, 30)},
            {"msisdn": MSISDNS[C_SCARLET_MIGRATED], "cell_id": CELL_B1, "event_at": ts(9)},
            {"msisdn": MSISDNS[C_SCARLET_LEGACY], "cell_id": CELL_A1, "event_at": ts(16)},
        ],
        "cells": [
            {
                "cell_id": CELL_A1,
                "postal_code": POSTAL_A,
                "municipality": MUNICIPALITY,
                "province": PROVINCE,
                "lat": 51.2194,
                "lon": 4.4025,
            },
            {
                "cell_id": CELL_A2,
                "postal_code": POSTAL_A,
                "municipality": MUNICIPALITY,
                "province": PROVINCE,
                "lat": 51.2170,
                "lon": 4.4210,
            },
            {
                "cell_id": CELL_B1,
                "postal_code": POSTAL_B,
                "municipality": MUNICIPALITY,
                "province": PROVINCE,
                "lat": 51.2050,
                "lon": 4.4300,
            },
        ],
        "events": [
            {
                "event_id": EVENT_ID,
                "name": "Summer Festival",
                "starts_at": ts(14),
                "ends_at": ts(23, 59),
            },
        ],
        "event_cells": [{"event_id": EVENT_ID, "cell_id": CELL_A1}],
    }


def landing_tables(
    tables: dict[str, list[dict[str, Any]]] | None = None, base: bool = True
) -> dict[str, list[dict[str, Any]]]:
    """The rows ``write_landing_zone`` writes: baseline (or empty) tables with the changes."""
    result = baseline_tables() if base else {name: [] for name in TABLE_NAMES}
    for name, rows in (tables or {}).items():
        if name.startswith("+"):
            result.setdefault(name[1:], []).extend(copy.deepcopy(rows))
        else:
            result[name] = copy.deepcopy(rows)
    return result


def write_landing_zone(
    root: Path,
    tables: dict[str, list[dict[str, Any]]] | None = None,
    fmt: str = "csv",
    base: bool = True,
    *,
    omit_columns: dict[str, list[str]] | None = None,
    omit_tables: Iterable[str] = (),
) -> Path:
    """Write a landing zone into ``root`` (created; replaced if it exists) and return it.

    ``tables``: ``{"NAME": rows}`` replaces the baseline rows of NAME, ``{"+NAME": rows}``
    appends to them. ``base=False`` starts from empty tables (header only) instead.
    """
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}, got {fmt!r}")
    root = Path(root)
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    omitted = set(omit_tables)
    for name, rows in landing_tables(tables, base).items():
        if name in omitted:
            continue
        columns = header_for(name, rows, (omit_columns or {}).get(name, []))
        write_table(root, name, columns, rows, fmt)
    return root


def header_for(name: str, rows: list[dict[str, Any]], omitted: list[str]) -> list[str]:
    contract_columns = table(name).column_names if name in TABLE_NAMES else []
    extra = [key for row in rows for key in row if key not in contract_columns]
    columns = list(dict.fromkeys([*contract_columns, *extra]))
    return [column for column in columns if column not in omitted]


def write_table(root: Path, name: str, columns: list[str], rows: list[dict], fmt: str) -> None:
    if fmt in ("csv", "csv.gz", "parquet"):
        write_file(root / f"{name}.{fmt}", name, columns, rows)
        return
    folder = root / name
    folder.mkdir()
    suffix = "parquet" if fmt == "parquet-folder" else "csv"
    halves = [rows[: len(rows) // 2], rows[len(rows) // 2 :]]
    for part, part_rows in enumerate(halves):
        write_file(folder / f"part-{part}.{suffix}", name, columns, part_rows)


def csv_text(columns: list[str], rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else str(row.get(c)) for c in columns])
    return buffer.getvalue()


def write_file(path: Path, name: str, columns: list[str], rows: list[dict]) -> None:
    text = csv_text(columns, rows)
    if path.suffix == ".gz":
        with gzip.open(path, "wt", encoding="utf-8", newline="") as fh:
            fh.write(text)
    elif path.suffix == ".parquet":
        write_parquet(path, name, columns, text)
    else:
        path.write_text(text, encoding="utf-8")


PARQUET_TYPES = {TIMESTAMP: "timestamptz", INTEGER: "bigint", DOUBLE: "double"}


@functools.cache
def _duckdb() -> duckdb.DuckDBPyConnection:
    """One in-memory connection for every Parquet file a test writes (connecting is slow)."""
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    return con


def write_parquet(path: Path, name: str, columns: list[str], text: str) -> None:
    """Parquet as a producer would write it: typed columns where every value parses."""
    staging_csv = path.with_suffix(".tmp.csv")
    staging_csv.write_text(text, encoding="utf-8")
    con = _duckdb().cursor()
    try:
        raw = (
            f"read_csv('{staging_csv}', all_varchar = true, header = true, "
            "delim = ',', quote = '\"')"
        )
        selects = []
        for column in columns:
            sql_type = parquet_type(con, raw, name, column)
            quoted = '"' + column.replace('"', '""') + '"'
            expr = f"cast({quoted} as {sql_type})" if sql_type else quoted
            selects.append(f"{expr} as {quoted}")
        select_list = ", ".join(selects) if selects else "*"
        con.execute(f"copy (select {select_list} from {raw}) to '{path}' (format parquet)")
    finally:
        con.close()
        staging_csv.unlink()


def parquet_type(con: duckdb.DuckDBPyConnection, raw: str, name: str, column: str) -> str | None:
    if name not in TABLE_NAMES or column not in table(name).column_names:
        return None
    sql_type = PARQUET_TYPES.get(table(name).column(column).kind)
    if sql_type is None:
        return None
    quoted = '"' + column.replace('"', '""') + '"'
    # Values that would not survive the cast as written keep the column as text.
    extra_check = {
        "timestamptz": f" or not regexp_matches({quoted}, '([Zz]|[+-][0-9]{{2}}(:?[0-9]{{2}})?)$')",
        "bigint": f" or not regexp_matches({quoted}, '^[+-]?[0-9]+$')",
    }.get(sql_type, "")
    failures = con.execute(
        f"select count(*) from {raw} where {quoted} is not null "
        f"and (try_cast({quoted} as {sql_type}) is null{extra_check})"
    ).fetchone()[0]
    return sql_type if failures == 0 else None
