"""The digest of what places people in location figures (privacy_pipeline.location.inputs):
a re-run whose only changes are removals keeps it, so it is audited, not frozen; any
change that can add or move people changes it, so the re-publication is frozen."""

from __future__ import annotations

import duckdb
import pytest
from privacy_pipeline.contract import table as contract_table
from privacy_pipeline.location.inputs import location_inputs_digest

SETTINGS = {"k": 30, "min_stay_minutes": 30}
REFUSAL = (
    "E9",
    "C1",
    "location_analytics",
    "opt_out",
    "myscarlet_web",
    "proximus",
    "2026-06-20T20:00:00+02:00",
)


def landing(extra: dict[str, list[tuple]] | None = None) -> duckdb.DuckDBPyConnection:
    rows = {
        "network_events": [("+32470000001", "CELL-1", "2026-06-20T10:00:00+02:00")],
        "cells": [("CELL-1", "2000", "Antwerpen", "Antwerpen", "51.2", "4.4")],
        "privacy_preferences": [
            ("E1", "C1", "location_analytics", "opt_in", "myscarlet_web", "proximus",
             "2026-06-01T10:00:00+02:00"),
        ],
    }  # fmt: skip
    for name, more in (extra or {}).items():
        rows[name] = rows.get(name, []) + more
    con = duckdb.connect()
    con.execute("create schema landing")
    for name, table_rows in rows.items():
        columns = ", ".join(f"{c.name} varchar" for c in contract_table(name).columns)
        con.execute(f"create table landing.{name} ({columns})")
        if table_rows:
            marks = ", ".join("?" for _ in table_rows[0])
            con.executemany(f"insert into landing.{name} values ({marks})", table_rows)
    return con


def digest(extra=None, settings=SETTINGS) -> str:
    return location_inputs_digest(landing(extra), settings)


@pytest.mark.parametrize(
    "refusal",
    [
        REFUSAL,
        (*REFUSAL[:3], "OPT – OUT", *REFUSAL[4:]),
        (*REFUSAL[:2], "direct_marketing", "opt_in", *REFUSAL[4:]),
    ],
    ids=["refusal", "refusal spelled otherwise", "another purpose"],
)
def test_a_removal_keeps_the_digest_so_the_re_run_is_audited(refusal):
    assert digest({"privacy_preferences": [refusal]}) == digest()


@pytest.mark.parametrize(
    "change",
    [
        {"network_events": [("+32470000001", "CELL-1", "2026-06-20T11:00:00+02:00")]},
        {"cells": [("CELL-2", "2018", "Antwerpen", "Antwerpen", "51.2", "4.4")]},
        {"privacy_preferences": [(*REFUSAL[:3], "opt_in", *REFUSAL[4:])]},
    ],
    ids=["a late event", "a cell", "a location opt-in"],
)
def test_what_can_add_or_move_people_changes_the_digest(change):
    assert digest(change) != digest()


def test_the_location_settings_are_in_the_digest():
    assert digest(settings={**SETTINGS, "min_stay_minutes": 45}) != digest()
