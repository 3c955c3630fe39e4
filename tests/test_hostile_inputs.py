"""Hostile landing values cannot crash the night, and nothing is lost (issue #12).

* Property tests (hypothesis) append landing rows with hostile values (quotes, formulas,
  control characters, huge numbers, odd encodings, mixed line endings) to a valid landing
  zone. The loader either reads every delivered record or refuses the zone (exit 2);
  through dbt staging, every record read is accepted or quarantined.
* One hostile landing zone goes through the whole CLI: it publishes (exit 0), quarantines
  the implausible values, and every CSV export of the release is safe to open.
"""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from privacy_pipeline.cli import main
from privacy_pipeline.contract import TABLE_NAMES
from privacy_pipeline.errors import UnusableInput
from privacy_pipeline.export import FORMULA_TRIGGERS
from privacy_pipeline.landing import load_landing_zone
from privacy_pipeline.publish import PUBLISHED_TABLES
from privacy_pipeline.run_context import RunContext

from tests.support.landing import (
    C_PROXIMUS,
    MUNICIPALITY,
    POSTAL_A,
    PROVINCE,
    Q_MUSIC_COUNT,
    RUN_DATE,
    SITE_MUSIC,
    consent_event,
    customer,
    landing_tables,
    make_customers,
    network_events_for,
    ts,
    write_landing_zone,
)
from tests.support.pipeline import query, query_restricted, run_pipeline

FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1)",
            "\t=1+1", "\r=1+1"]  # fmt: skip
HUGE_NUMBERS = ["999999999", "2147483648", "9223372036854775808", "1e308", "-1", "NaN",
                "99999999999999999999999999"]  # fmt: skip
ODD_TEXT = ["'", '"', "''", '""', "a,b", "x\ny", "x\r\ny", "x\ry", "\x00", "\x1b[31m", "\ufeff",
            "é", "Zoë", "💥", " ", "", "\\", "%s", "{{ 1 }}", "'; drop table x; --"]  # fmt: skip
HOSTILE = FORMULAS + HUGE_NUMBERS + ODD_TEXT

# Tables whose rows are fuzzed, with a valid row to start from.
TEMPLATES = {
    "customers": lambda n: customer(f"F{n:04d}", msisdn=f"+3249{n:07d}"),
    "survey_responses": lambda n: {
        "response_id": f"FR{n:04d}", "customer_id": C_PROXIMUS, "question_id": Q_MUSIC_COUNT,
        "answer": "3", "answered_at": ts(9),
    },
    "traffic_events": lambda n: {
        "customer_id": C_PROXIMUS, "observed_at": ts(10, n % 60), "network": "mobile",
        "app_or_site": SITE_MUSIC, "bytes": str(100 + n),
    },
    "call_records": lambda n: {
        "customer_id": C_PROXIMUS, "started_at": ts(11, n % 60), "ended_at": ts(12, n % 60),
        "called_number": "+32470999999", "direction": "outgoing",
    },
}  # fmt: skip
# Line-compatible encodings only (a UTF-16 "line" is not one line of a UTF-8 file):
# latin-1 and cp1252 give bytes that are invalid UTF-8, utf-8-sig a BOM mid-file.
ENCODINGS = ("utf-8", "utf-8-sig", "latin-1", "cp1252")
LINE_ENDINGS = ("\n", "\r\n", "\r")

hostile_values = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=12),
    st.integers(-(10**30), 10**30).map(str),
)


@st.composite
def hostile_rows(draw) -> tuple[str, list[tuple[dict, str, str]]]:
    """(table, [(row, encoding, line ending), ...]): rows of one table with hostile values."""
    table_name = draw(st.sampled_from(sorted(TEMPLATES)))
    rows = []
    for n in range(draw(st.integers(1, 4))):
        row = TEMPLATES[table_name](n)
        for column in draw(st.lists(st.sampled_from(sorted(row)), max_size=3, unique=True)):
            row[column] = draw(hostile_values)
        rows.append((row, draw(st.sampled_from(ENCODINGS)), draw(st.sampled_from(LINE_ENDINGS))))
    return table_name, rows


def record_bytes(row: dict, columns: list[str], encoding: str, line_ending: str) -> bytes:
    """One CSV record, quoted like any CSV writer does, in ``encoding`` with ``line_ending``."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=line_ending).writerow(
        ["" if row.get(c) is None else str(row[c]) for c in columns]
    )
    return buffer.getvalue().encode(encoding, errors="replace")


def write_hostile_landing(root: Path, table_name: str, rows, fmt: str = "csv") -> Path:
    """The baseline landing zone with ``rows`` appended, as raw bytes, to ``table_name``."""
    landing = write_landing_zone(root / "landing", {}, fmt=fmt)
    path = landing / f"{table_name}.{fmt}"
    opener = gzip.open if fmt == "csv.gz" else open
    with opener(path, "rb") as fh:
        header = fh.readline().decode().strip().split(",")
    with opener(path, "ab") as fh:
        for row, encoding, line_ending in rows:
            fh.write(record_bytes(row, header, encoding, line_ending))
    return landing


def delivered_records(table_name: str, rows) -> int:
    return len(landing_tables({}, True)[table_name]) + len(rows)


def assert_every_record_read(rows_read: int, table_name: str, rows) -> None:
    """Every delivered record is read. A BOM in front of a record breaks its quoting: its
    quoted line breaks then split it into several unreadable lines, each one counted."""
    delivered = delivered_records(table_name, rows)
    if any(encoding == "utf-8-sig" for _, encoding, _ in rows):
        assert rows_read >= delivered
    else:
        assert rows_read == delivered


def context(root: Path) -> RunContext:
    ctx = RunContext.create(root / "landing", root / "warehouse", RUN_DATE)
    ctx.run_dir.mkdir(parents=True, exist_ok=True)
    return ctx


FUZZ = settings(
    deadline=None,
    # No shrinking: a failing example is reported as generated (shrinking would rerun
    # the pipeline for minutes); derandomize keeps the examples the same on every run.
    phases=[Phase.explicit, Phase.generate],
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@settings(FUZZ, max_examples=20)
@given(case=hostile_rows(), fmt=st.sampled_from(["csv", "csv.gz"]))
def test_the_loader_reads_every_hostile_record_or_refuses_the_zone(tmp_path_factory, case, fmt):
    table_name, rows = case
    root = tmp_path_factory.mktemp("fuzz-loader")
    write_hostile_landing(root, table_name, rows, fmt)
    try:
        rows_read = load_landing_zone(context(root))
    except UnusableInput:
        return  # exit 2, a documented outcome; nothing was built
    assert_every_record_read(rows_read[table_name], table_name, rows)


@settings(FUZZ, max_examples=3)
@given(case=hostile_rows())
def test_staging_accepts_or_quarantines_every_hostile_record(tmp_path_factory, case):
    from privacy_pipeline.dbt_runner import run_dbt

    table_name, rows = case
    root = tmp_path_factory.mktemp("fuzz-staging")
    write_hostile_landing(root, table_name, rows)
    ctx = context(root)
    try:
        load_landing_zone(ctx)
    except UnusableInput:
        return
    # Staging with its dbt tests, and the declared signals (where an answer is multiplied).
    run_dbt(ctx, ["build", "--select", "staging", "load_reconciliation", "quarantined_rows",
                  "+int_marketing__declared_signals", "--exclude-resource-type", "unit_test",
                  "--indirect-selection", "cautious"])  # fmt: skip
    con = duckdb.connect(str(ctx.candidate_db), read_only=True)
    try:
        reconciliation = {
            table: (read, accepted, quarantined)
            for table, read, accepted, quarantined in con.execute(
                "select source_table, rows_read, rows_accepted, rows_quarantined "
                "from dpo.load_reconciliation"
            ).fetchall()
        }
    finally:
        con.close()
    assert set(reconciliation) == set(TABLE_NAMES)
    for table, (read, accepted, quarantined) in reconciliation.items():
        assert read == accepted + quarantined, table
    assert_every_record_read(reconciliation[table_name][0], table_name, rows)


# ------------------------------------------------------------------ one night through the CLI


# As many people as the default k, seen for an hour in the cell named with chr(31).
SPLIT_AREA_VISITORS = make_customers(30, start=90_000, prefix="HX")


def hostile_night_tables() -> dict[str, list[dict]]:
    return {
        "+survey_responses": [
            {"response_id": "HR1", "customer_id": C_PROXIMUS, "question_id": Q_MUSIC_COUNT,
             "answer": "999999999", "answered_at": ts(9, 30)},
        ],
        "+traffic_events": [
            {"customer_id": C_PROXIMUS, "observed_at": ts(10, 5), "network": "mobile",
             "app_or_site": SITE_MUSIC, "bytes": "1000000000000000"},
        ],
        "+call_records": [
            {"customer_id": C_PROXIMUS, "started_at": ts(1), "ended_at": ts(3, day="2026-06-21"),
             "called_number": "+32470999999", "direction": "outgoing"},
        ],
        # contract-valid, but a postal code in a second municipality, a municipality in a
        # second province: before area_conflict, the broken area tree stopped the night
        "+cells": [
            {"cell_id": "HC1", "postal_code": POSTAL_A, "municipality": "Berchem",
             "province": PROVINCE, "lat": "51.2", "lon": "4.4"},
            {"cell_id": "HC2", "postal_code": "2600", "municipality": MUNICIPALITY,
             "province": "Limburg", "lat": "51.2", "lon": "4.4"},
            # chr(31) joins a location figure's key parts: before control_character, this
            # name split in two and stopped the night (exit 3). Alone in its province, so
            # its k people make figures that would be published.
            {"cell_id": "HC3", "postal_code": "2100", "municipality": "Deurne\x1fAntwerpen",
             "province": "Namur", "lat": "51.2", "lon": "4.4"},
        ],
        "+customers": SPLIT_AREA_VISITORS,
        # A consent row delivered twice, identical (staging keeps one: exact_duplicate),
        # and a location opt-in lifting an objection, twice: the gates once read every
        # copy as a conflicting version, so the marketing and location gates stopped the
        # night (attack, session 13).
        "+privacy_preferences": [
            landing_tables()["privacy_preferences"][0],
            consent_event("HP1", C_PROXIMUS, "location_analytics", "opt_out",
                          recorded_at="2026-04-01T10:00:00+02:00"),
            *[consent_event("HP2", C_PROXIMUS, "location_analytics", "opt_in",
                            recorded_at="2026-05-01T10:00:00+02:00")] * 2,
        ],
        "+network_events": [
            *network_events_for(SPLIT_AREA_VISITORS, "HC3", ts(9)),
            *network_events_for(SPLIT_AREA_VISITORS, "HC3", ts(10)),
        ],
    }  # fmt: skip


def hostile_customers() -> list[dict]:
    """Customers whose id is a hostile value: formulas would reach marketing's tables."""
    return [customer(value, msisdn=f"+3249900{n:04d}") for n, value in enumerate(HOSTILE)]


@pytest.fixture(scope="module")
def hostile_night(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile-night")
    landing = write_landing_zone(root / "landing", hostile_night_tables())
    # Appended as CRLF records to the LF customers.csv: mixed line endings.
    customers = landing / "customers.csv"
    header = customers.read_text().splitlines()[0].split(",")
    with customers.open("ab") as fh:
        for row in hostile_customers():
            fh.write(record_bytes(row, header, "utf-8", "\r\n"))
    result = run_pipeline(landing, root / "warehouse", RUN_DATE)
    return root, result


def test_a_hostile_night_publishes(hostile_night):
    _, result = hostile_night
    assert result.returncode == 0, (result.stdout[-3000:], result.stderr[-5000:])


def test_implausible_values_and_conflicting_areas_are_quarantined(hostile_night):
    root, _ = hostile_night
    reasons = dict(
        query_restricted(
            root / "warehouse",
            "select source_table || ' ' || reason, count(*) from dpo.quarantined_rows "
            "where run_date = cast(? as date) group by all",
            [RUN_DATE],
        )
    )
    assert reasons.get("survey_responses out_of_range:answer") == 1
    assert reasons.get("traffic_events out_of_range:bytes") == 1
    assert reasons.get("call_records out_of_range:ended_at") == 1
    assert reasons.get("cells area_conflict:municipality") == 1
    assert reasons.get("cells area_conflict:province") == 1
    assert reasons.get("cells control_character:municipality") == 1
    assert reasons.get("network_events unknown_cell") == 2 * len(SPLIT_AREA_VISITORS)


def test_nothing_is_lost_and_the_crlf_line_is_read(hostile_night):
    root, _ = hostile_night
    reconciliation = query(
        root / "warehouse",
        "select source_table, rows_read, rows_accepted, rows_quarantined "
        "from dpo.load_reconciliation where run_date = cast(? as date)",
        [RUN_DATE],
    )
    assert {table for table, *_ in reconciliation} == set(TABLE_NAMES)
    for table, read, accepted, quarantined in reconciliation:
        assert read == accepted + quarantined, table
        # an optional table not delivered (customer_lines) reads as empty
        delivered = len(landing_tables(hostile_night_tables(), True).get(table, []))
        if table == "customers":
            delivered += len(hostile_customers())
        assert read == delivered, table
    assert not query_restricted(
        root / "warehouse",
        "select * from dpo.quarantined_rows where run_date = cast(? as date) "
        "and reason = 'unreadable_csv_line'",
        [RUN_DATE],
    )


def test_every_csv_export_of_the_night_is_safe_to_open(hostile_night):
    root, _ = hostile_night
    for table in PUBLISHED_TABLES:
        output = root / "exports" / f"{table}.csv"
        args = ["--table", table, "--format", "csv", "--output", str(output)]
        code = main(["export", "--warehouse", str(root / "warehouse"), *args])
        assert code == 0, table
        with open(output, newline="", encoding="utf-8") as fh:
            for row in csv.reader(fh):
                assert not [cell for cell in row if cell.startswith(FORMULA_TRIGGERS)], table
