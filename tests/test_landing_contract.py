"""The landing-zone contract as the loader enforces it (docs/data-contract.md).

Structural breaks stop the run with UnusableInput (exit 2) naming the file and column;
everything readable becomes a view in schema ``landing`` with its source file; unreadable
CSV lines are kept and counted as read.
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import duckdb
import pytest
from privacy_pipeline import stages
from privacy_pipeline.contract import TABLE_NAMES, TABLES, TRUE_INSTANT_PATTERN, instant_sql, table
from privacy_pipeline.errors import UnusableInput
from privacy_pipeline.landing import load_landing_zone
from privacy_pipeline.run_context import RunContext

from tests.support.landing import (
    FORMATS,
    RUN_DATE,
    landing_tables,
    make_customers,
    write_landing_zone,
)
from tests.support.pipeline import query, run_pipeline


def context(landing: Path, warehouse: Path) -> RunContext:
    return RunContext.create(landing, warehouse, RUN_DATE)


def load(landing: Path, tmp_path: Path) -> tuple[dict[str, int], duckdb.DuckDBPyConnection]:
    ctx = context(landing, tmp_path / "warehouse")
    rows_read = load_landing_zone(ctx)
    return rows_read, duckdb.connect(str(ctx.candidate_db), read_only=True)


def expected_counts(tables=None) -> dict[str, int]:
    """Rows per contract table; an optional table that is not written reads 0 rows."""
    written = {name: len(rows) for name, rows in landing_tables(tables).items()}
    return {name: written.get(name, 0) for name in TABLE_NAMES}


# ------------------------------------------------------------------ what a valid zone gives


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_loads_every_table_with_its_row_count(tmp_path, fmt):
    landing = write_landing_zone(tmp_path / "landing", {"+customers": make_customers(5)}, fmt=fmt)
    rows_read, con = load(landing, tmp_path)
    assert rows_read == expected_counts({"+customers": make_customers(5)})
    assert set(rows_read) == set(TABLE_NAMES)
    for name in TABLE_NAMES:
        assert con.execute(f"select count(*) from landing.{name}").fetchone()[0] == rows_read[name]
        assert con.execute("select rows_read from landing.rows_read where source_table = ?",
                           [name]).fetchone()[0] == rows_read[name]  # fmt: skip


def test_views_hold_contract_columns_source_file_and_row_but_no_extra_column(tmp_path):
    customers = landing_tables()["customers"]
    customers[0]["loyalty_tier"] = "gold"  # an extra column: ignored by the contract
    landing = write_landing_zone(tmp_path / "landing", {"customers": customers})
    _, con = load(landing, tmp_path)
    columns = [row[0] for row in con.execute("describe landing.customers").fetchall()]
    assert columns == [*table("customers").column_names, "_source_file", "_source_row"]
    files = {row[0] for row in con.execute("select _source_file from landing.customers").fetchall()}
    assert files == {"customers.csv"}


def test_csv_is_read_as_text_and_parquet_keeps_its_types(tmp_path):
    _, csv_con = load(write_landing_zone(tmp_path / "csv"), tmp_path / "a")
    _, parquet_con = load(write_landing_zone(tmp_path / "pq", fmt="parquet"), tmp_path / "b")
    query = (
        "select column_name, data_type from information_schema.columns "
        "where table_name = 'network_events'"
    )
    csv_types = dict(csv_con.execute(query).fetchall())
    parquet_types = dict(parquet_con.execute(query).fetchall())
    assert csv_types.pop("_source_row") == "BIGINT"
    assert set(csv_types.values()) == {"VARCHAR"}
    assert parquet_types["event_at"] == "TIMESTAMP WITH TIME ZONE"


def test_folder_files_keep_their_own_source_file(tmp_path):
    landing = write_landing_zone(tmp_path / "landing", fmt="folder")
    _, con = load(landing, tmp_path)
    files = sorted(row[0] for row in con.execute(
        "select distinct _source_file from landing.network_events").fetchall())  # fmt: skip
    assert files == ["network_events/part-0.csv", "network_events/part-1.csv"]


@pytest.mark.parametrize("fmt", ["folder", "parquet-folder"])
def test_each_row_knows_its_position_in_its_file(tmp_path, fmt):
    landing = write_landing_zone(tmp_path / "landing", fmt=fmt)
    _, con = load(landing, tmp_path)
    for name in ("network_events", "customers"):
        numbered = con.execute(
            f"select _source_file, list(_source_row order by _source_row), count(*) "
            f"from landing.{name} group by 1"
        ).fetchall()
        assert numbered
        for source_file, numbers, count in numbered:
            assert numbers == list(range(1, count + 1)), source_file
    # the numbers follow the file: the n-th data row of a CSV file is row n
    if fmt == "folder":
        first = sorted((landing / "network_events").glob("*.csv"))[0]
        lines = first.read_text().splitlines()[1:]
        delivered = [line.split(",")[1] for line in lines]  # msisdn,cell_id,event_at
        in_view = con.execute(
            "select cell_id from landing.network_events where _source_file = ? "
            "order by _source_row",
            [f"network_events/{first.name}"],
        ).fetchall()
        assert [cell for (cell,) in in_view] == delivered


def test_folder_mixing_csv_and_parquet_is_read_whole(tmp_path):
    landing = write_landing_zone(tmp_path / "landing", fmt="folder")
    parquet = write_landing_zone(tmp_path / "pq", fmt="parquet")
    shutil.copy(parquet / "network_events.parquet", landing / "network_events" / "part-9.parquet")
    shutil.copy(parquet / "cells.parquet", landing / "network_events" / "_SUCCESS")  # skipped
    rows_read, con = load(landing, tmp_path)
    assert rows_read["network_events"] == 2 * expected_counts()["network_events"]
    assert (
        con.execute(
            "select count(*) from landing.network_events "
            "where try_cast(event_at as timestamptz) is null"
        ).fetchone()[0]
        == 0
    )


def test_header_only_csv_is_an_empty_table(tmp_path):
    landing = write_landing_zone(tmp_path / "landing", {"event_cells": [], "events": []})
    rows_read, con = load(landing, tmp_path)
    assert rows_read["events"] == 0 and rows_read["event_cells"] == 0
    assert con.execute("select count(*) from landing.events").fetchone()[0] == 0


def test_header_is_matched_whatever_its_case_and_spaces_and_extra_columns(tmp_path):
    landing = write_landing_zone(tmp_path / "landing")
    path = landing / "cells.csv"
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    lines[0] = ",".join(f" {name.upper()} " for name in header) + ",extra,extra"
    lines[1:] = [line + ",a,b" for line in lines[1:]]
    path.write_text("\n".join(lines) + "\n")
    rows_read, con = load(landing, tmp_path)
    assert rows_read["cells"] == 3
    assert con.execute("select count(postal_code) from landing.cells").fetchone()[0] == 3


# ------------------------------------------------------------------ unreadable CSV lines


def test_unreadable_csv_lines_are_counted_as_read_and_recorded(tmp_path):
    landing = write_landing_zone(tmp_path / "landing")
    with (landing / "traffic_events.csv").open("a") as fh:
        fh.write("C001,2026-06-20T10:00:00+02:00,mobile,spotify.com,12,extra,fields\n")
        fh.write("C001,2026-06-20T11:00:00+02:00\n")
    rows_read, con = load(landing, tmp_path)
    delivered = expected_counts()["traffic_events"]
    assert rows_read["traffic_events"] == delivered + 2
    assert con.execute("select count(*) from landing.traffic_events").fetchone()[0] == delivered
    rejected = con.execute(
        "select source_table, source_file, line, error_type from landing.rejected_csv_lines "
        "order by line").fetchall()  # fmt: skip
    last_line = delivered + 1  # the header is line 1
    assert rejected == [
        ("traffic_events", "traffic_events.csv", last_line + 1, "TOO MANY COLUMNS"),
        ("traffic_events", "traffic_events.csv", last_line + 2, "MISSING COLUMNS"),
    ]


def test_invalid_utf8_line_is_recorded_not_fatal(tmp_path):
    landing = write_landing_zone(tmp_path / "landing")
    with (landing / "cells.csv").open("ab") as fh:
        fh.write(b"CELL-X,2000,Antw\xff\xfeerpen,Antwerpen,51.2,4.4\n")
    rows_read, con = load(landing, tmp_path)
    assert rows_read["cells"] == 4
    # what a staging model sees when it reads the columns (a bare count(*) parses none)
    assert con.execute("select count(municipality) from landing.cells").fetchone()[0] == 3
    assert con.execute("select count(*) from landing.rejected_csv_lines").fetchone()[0] == 1


def test_unclosed_quote_is_a_rejected_record_not_a_fatal_error(tmp_path):
    landing = write_landing_zone(tmp_path / "landing")
    with (landing / "partners.csv").open("a") as fh:
        fh.write('P7,"Unclosed,music\nP8,Swallowed,music\n')
    rows_read, con = load(landing, tmp_path)
    assert rows_read["partners"] == expected_counts()["partners"] + 1
    rejected = con.execute("select line from landing.rejected_csv_lines").fetchall()
    assert rejected == [(expected_counts()["partners"] + 2,)]


def test_gzip_csv_unreadable_lines_too(tmp_path):
    landing = write_landing_zone(tmp_path / "landing", fmt="csv.gz")
    path = landing / "partners.csv.gz"
    text = gzip.decompress(path.read_bytes()).decode() + "P9,Too,many,fields\n"
    path.write_bytes(gzip.compress(text.encode()))
    rows_read, _ = load(landing, tmp_path)
    assert rows_read["partners"] == expected_counts()["partners"] + 1


# ------------------------------------------------------------------ contract breaks: exit 2


@pytest.mark.parametrize("missing", ["customers", "network_events", "event_cells"])
def test_missing_table_is_unusable_input_naming_the_table(tmp_path, missing):
    landing = write_landing_zone(tmp_path / "landing", omit_tables=[missing])
    with pytest.raises(UnusableInput) as raised:
        load(landing, tmp_path)
    assert raised.value.exit_code == 2
    assert f"'{missing}'" in str(raised.value) and "missing" in str(raised.value)
    assert f"{missing}.csv" in str(raised.value)


FIRST_COLUMNS = [(t.name, t.columns[0].name) for t in TABLES if not t.optional]
MORE_COLUMNS = [("privacy_preferences", "choice"), ("customers", "migrated_at"), ("cells", "lon")]

LINE = {"customer_id": "C001", "msisdn": "+32470000001", "valid_from": "2020-01-01T00:00:00Z"}


def test_an_optional_table_may_be_absent_and_then_reads_as_empty(tmp_path):
    assert table("customer_lines").optional
    landing = write_landing_zone(tmp_path / "landing")
    assert not list(landing.glob("customer_lines*"))
    rows_read, con = load(landing, tmp_path)
    assert rows_read["customer_lines"] == 0
    columns = [row[0] for row in con.execute("describe landing.customer_lines").fetchall()]
    assert columns == [*table("customer_lines").column_names, "_source_file", "_source_row"]


def test_an_optional_table_when_delivered_keeps_the_contract(tmp_path):
    landing = write_landing_zone(tmp_path / "ok", {"+customer_lines": [LINE]})
    rows_read, _ = load(landing, tmp_path / "a")
    assert rows_read["customer_lines"] == 1
    landing = write_landing_zone(tmp_path / "bad", {"+customer_lines": [LINE]},
                                 omit_columns={"customer_lines": ["valid_from"]})  # fmt: skip
    with pytest.raises(UnusableInput, match=r"customer_lines\.csv.*missing required column"):
        load(landing, tmp_path / "b")


@pytest.mark.parametrize(
    "table_name, column, fmt",
    [(t, c, "csv") for t, c in FIRST_COLUMNS + MORE_COLUMNS]
    + [(t, c, "parquet") for t, c in MORE_COLUMNS],
)
def test_missing_column_is_unusable_input_naming_file_and_column(tmp_path, table_name, column,
                                                                 fmt):  # fmt: skip
    landing = write_landing_zone(tmp_path / "landing", fmt=fmt,
                                 omit_columns={table_name: [column]})  # fmt: skip
    with pytest.raises(UnusableInput) as raised:
        load(landing, tmp_path)
    message = str(raised.value)
    assert f"{table_name}.{fmt}" in message
    assert column in message and "missing required column" in message


def test_missing_column_in_one_file_of_a_folder_names_that_file(tmp_path):
    landing = write_landing_zone(tmp_path / "landing", fmt="folder")
    part = landing / "call_records" / "part-1.csv"
    lines = part.read_text().splitlines()
    header = lines[0].split(",")
    drop = header.index("direction")
    part.write_text("\n".join(",".join(v for i, v in enumerate(line.split(",")) if i != drop)
                              for line in lines) + "\n")  # fmt: skip
    with pytest.raises(UnusableInput, match=r"call_records/part-1\.csv.*direction"):
        load(landing, tmp_path)


def test_repeated_contract_column_is_unusable_input(tmp_path):
    landing = write_landing_zone(tmp_path / "landing")
    path = landing / "events.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0] + ",name", *(line + ",x" for line in lines[1:])]) + "\n")
    with pytest.raises(UnusableInput, match=r"events\.csv: column\(s\) name appear more than once"):
        load(landing, tmp_path)


def test_table_delivered_twice_is_unusable_input(tmp_path):
    landing = write_landing_zone(tmp_path / "landing")
    shutil.copy(landing / "cells.csv", landing / "cells.parquet")
    with pytest.raises(UnusableInput, match=r"'cells' is delivered more than once"):
        load(landing, tmp_path)


def test_empty_table_folder_is_unusable_input(tmp_path):
    landing = write_landing_zone(tmp_path / "landing", omit_tables=["events"])
    (landing / "events").mkdir()
    with pytest.raises(UnusableInput, match=r"'events/' holds no data file"):
        load(landing, tmp_path)


def test_unknown_file_in_table_folder_is_unusable_input(tmp_path):
    landing = write_landing_zone(tmp_path / "landing", fmt="folder")
    (landing / "events" / "notes.txt").write_text("not data")
    with pytest.raises(UnusableInput, match=r"notes\.txt: unexpected file"):
        load(landing, tmp_path)


def test_empty_csv_file_is_unusable_input(tmp_path):
    landing = write_landing_zone(tmp_path / "landing")
    (landing / "partners.csv").write_text("")
    with pytest.raises(UnusableInput, match=r"partners\.csv.*missing required column"):
        load(landing, tmp_path)


def test_parquet_timestamp_without_time_zone_is_unusable_input(tmp_path):
    landing = write_landing_zone(tmp_path / "landing", fmt="parquet")
    path = landing / "network_events.parquet"
    duckdb.execute(
        f"copy (select msisdn, cell_id, cast(event_at as timestamp) as event_at "
        f"from read_parquet('{path}')) to '{tmp_path / 'naive.parquet'}' (format parquet)"
    )
    shutil.move(tmp_path / "naive.parquet", path)
    with pytest.raises(
        UnusableInput, match=r"network_events\.parquet: column 'event_at'.*TIMESTAMP"
    ):
        load(landing, tmp_path)


def test_landing_zone_that_is_not_a_folder_is_unusable_input(tmp_path):
    with pytest.raises(UnusableInput, match="is not a folder"):
        load(tmp_path / "nowhere", tmp_path)


def test_stage_records_exit_code_2_for_a_contract_break(tmp_path):
    landing = write_landing_zone(tmp_path / "landing", omit_columns={"customers": ["brand"]})
    ctx = context(landing, tmp_path / "warehouse")
    with pytest.raises(UnusableInput):
        stages.run_stage("load_landing", stages.context_to_dict(ctx), stages.load_landing)
    failure = json.loads(stages.failure_path(ctx).read_text().splitlines()[0])
    assert failure["stage"] == "load_landing" and failure["exit_code"] == 2
    assert "customers.csv" in failure["message"] and "brand" in failure["message"]


@pytest.mark.airflow
def test_run_with_a_missing_column_exits_2_and_publishes_nothing(tmp_path):
    landing = write_landing_zone(
        tmp_path / "landing", omit_columns={"privacy_preferences": ["purpose"]}
    )
    warehouse = tmp_path / "warehouse"
    result = run_pipeline(landing, warehouse, RUN_DATE)
    assert result.returncode == 2, (result.stdout[-2000:], result.stderr[-3000:])
    output = result.stdout + result.stderr
    assert "privacy_preferences.csv" in output and "purpose" in output
    assert published_tables(warehouse) == []


def published_tables(warehouse: Path) -> list[str]:
    if not (warehouse / "warehouse.duckdb").exists():
        return []
    sql = (
        "select table_schema || '.' || table_name from information_schema.tables "
        "where table_schema in ('marketing', 'location')"
    )
    rows = query(warehouse, sql)
    return [name for (name,) in rows]


@pytest.mark.parametrize(
    "text, instant",
    [
        ("2026-06-19T08:00:00,5Z", "2026-06-19 08:00:00.5+00"),
        ("2026-06-19T08:00:00.5Z", "2026-06-19 08:00:00.5+00"),
        ("2026-06-19 10:00:00,123456+02:00", "2026-06-19 08:00:00.123456+00"),
    ],
)
def test_the_gates_read_a_decimal_comma_or_point_as_the_same_instant(text, instant):
    """ISO 8601 allows both; the staging macro parse_instant reads both too (test_staging)."""
    with duckdb.connect() as con:
        assert con.execute(
            f"select regexp_full_match(?, '{TRUE_INSTANT_PATTERN}'), "
            f"{instant_sql('?')} = cast(? as timestamptz)",
            [text, text, instant],
        ).fetchone() == (True, True)
