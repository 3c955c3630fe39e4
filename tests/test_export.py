"""``privacy-pipeline export``: safe to open in a spreadsheet, safe whatever the path, exit codes.

A tiny published warehouse is written by hand: the export reads nothing else, so no
pipeline run is needed.
"""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest
from privacy_pipeline.cli import main
from privacy_pipeline.export import FORMULA_TRIGGERS

HOSTILE = [
    '=HYPERLINK("http://evil.example","x")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    "\t=1+1",
    "\r=1+1",
    "plain",
    "it's fine",
    "'already quoted",
]


@pytest.fixture()
def warehouse(tmp_path) -> Path:
    folder = tmp_path / "wh"
    folder.mkdir()
    con = duckdb.connect(str(folder / "warehouse.duckdb"))
    con.execute("create schema marketing")
    con.execute(
        "create table marketing.customer_interests (run_date date, customer_id varchar, "
        "interest varchar, score integer, delta double)"
    )
    rows = [("2026-06-20", value, f"i{n}", n - 3, -1.5 * n) for n, value in enumerate(HOSTILE)]
    con.executemany("insert into marketing.customer_interests values (?, ?, ?, ?, ?)", rows)
    con.execute("create schema staging")
    con.execute("create table staging.secret as select 1 as x")
    con.execute("create table marketing.not_published as select 1 as x")
    con.close()
    return folder


def export(warehouse: Path, output: Path, table="marketing.customer_interests", fmt="csv"):
    return main(
        ["export", "--warehouse", str(warehouse), "--table", table, "--format", fmt,
         "--output", str(output)]
    )  # fmt: skip


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_csv_cells_that_could_be_formulas_are_neutralised(warehouse, tmp_path):
    output = tmp_path / "out" / "interests.csv"
    assert export(warehouse, output) == 0
    rows = read_csv(output)
    assert [row["customer_id"] for row in rows] == [
        ("'" + value if value.startswith(FORMULA_TRIGGERS) else value) for value in HOSTILE
    ]
    for row in rows:
        assert not row["customer_id"].startswith(FORMULA_TRIGGERS)
    # Numbers stay numbers, negative ones included: a numeric column is not text.
    assert [row["score"] for row in rows] == [str(n - 3) for n in range(len(HOSTILE))]
    assert rows[1]["delta"] == "-1.5"
    assert not (output.parent / ".interests.csv.partial").exists()


def test_parquet_keeps_the_values(warehouse, tmp_path):
    output = tmp_path / "interests.parquet"
    assert export(warehouse, output, fmt="parquet") == 0
    values = duckdb.sql(f"select customer_id from read_parquet('{output}')").fetchall()
    assert [v for (v,) in values] == HOSTILE


@pytest.mark.parametrize(
    "name",
    [
        "it's.csv",
        "x' (format csv); copy (select 1) to 'pwned.csv' (format csv); --.csv",
        'dq".csv',
        "semi;colon.csv",
    ],
)
def test_a_path_with_quotes_is_only_a_path(warehouse, tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    output = tmp_path / "odd dir's" / name
    assert export(warehouse, output) == 0
    assert len(read_csv(output)) == len(HOSTILE)
    assert sorted(p.name for p in output.parent.iterdir()) == [name]
    assert not (tmp_path / "pwned.csv").exists()


@pytest.mark.parametrize(
    "table", ["staging.secret", "marketing.not_published", "marketing", "x.y.z", "pg_catalog.x"]
)
def test_only_published_tables_can_be_exported(warehouse, tmp_path, capsys, table):
    assert export(warehouse, tmp_path / "out.csv", table=table) == 2
    assert "only published tables can be exported" in capsys.readouterr().err
    assert not (tmp_path / "out.csv").exists()


def test_a_published_table_not_yet_written_is_unusable_input(warehouse, tmp_path, capsys):
    assert export(warehouse, tmp_path / "out.csv", table="location.presence_hourly") == 2
    assert "not been published" in capsys.readouterr().err


def test_bad_outputs_exit_2_never_1(warehouse, tmp_path, capsys):
    assert export(warehouse, tmp_path) == 2  # a folder
    assert export(warehouse, warehouse / "warehouse.duckdb") == 2
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert export(warehouse, blocker / "sub" / "out.csv") == 2  # parent is a file
    assert duckdb.connect(str(warehouse / "warehouse.duckdb"), read_only=True).execute(
        "select count(*) from marketing.customer_interests"
    ).fetchone()[0] == len(HOSTILE)


def test_a_recipient_is_handed_only_its_own_tables(warehouse, tmp_path, capsys):
    args = ["export", "--warehouse", str(warehouse), "--format", "csv"]
    person_level = [*args, "--table", "marketing.customer_interests"]
    refused = tmp_path / "refused.csv"
    assert main([*person_level, "--recipient", "location_buyers", "--output", str(refused)]) == 2
    assert "not exported to location_buyers" in capsys.readouterr().err
    assert not refused.exists()
    assert main([*person_level, "--recipient", "nobody", "--output", str(refused)]) == 2
    assert "not a declared recipient" in capsys.readouterr().err
    output = tmp_path / "marketing.csv"
    assert main([*person_level, "--recipient", "marketing", "--output", str(output)]) == 0
    assert len(read_csv(output)) == len(HOSTILE)
