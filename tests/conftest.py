"""Shared pytest set-up: Airflow state in a temporary folder, never in ~/airflow."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

# Airflow reads its configuration when first imported: set it before any test imports it.
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="pytest-airflow-home-"))
os.environ.setdefault("AIRFLOW_HOME", str(_AIRFLOW_HOME))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")

# One dbt parse cache for the session, shared by the xdist workers (they inherit this
# environment) and the runs they start: each run then re-parses only what changed.
# `make test` parses the project just before pytest (make dbt-parse, into var/dbt-parse):
# that parse seeds the cache, so the first runs of each worker do not parse it again
# (dbt checks a cached parse and re-parses whatever changed since).
if "PRIVACY_PIPELINE_DBT_PARSE_CACHE" not in os.environ:
    _parse_cache = tempfile.mkdtemp(prefix="pytest-dbt-parse-")
    _parsed_by_make = Path(__file__).resolve().parents[1] / "var" / "dbt-parse" / "dbt-parse-cache"
    for _parsed in _parsed_by_make.glob("partial_parse-*.msgpack"):
        shutil.copy2(_parsed, _parse_cache)
    os.environ["PRIVACY_PIPELINE_DBT_PARSE_CACHE"] = _parse_cache

# Runs refuse to pseudonymise real-looking data without a key (docs/threat-model.md); the
# tests' landing zones are not marked as demo data, so the session gets a test-only key.
# tests/test_exit_codes.py checks the refusal without it.
os.environ.setdefault("PRIVACY_PIPELINE_PSEUDONYM_KEY", "pytest-only-pseudonym-key-not-a-secret")


# pytest-xdist's ``--dist loadfile`` (make test) hands each worker one file at a time, by
# default the files with the most tests first: a slow file with few tests (the Spark
# parity runs) then starts last and the other worker idles while it finishes. The files
# below, whose module fixtures run the pipeline several times, go first, the slowest
# first, so the short files fill the end. Worker seconds: make test of
# 2026-12-02 (session 9), 2 workers.
SLOWEST_FILES_FIRST = (
    "test_spark_parity.py",  # 232
    "test_operations.py",  # 169
    "test_gates_mutations.py",  # 125
    "test_rights.py",  # 97
    "test_consent_ledger.py",  # 94
    "test_publish.py",  # 78
    "test_hostile_inputs.py",  # 66
    "test_end_to_end.py",  # 65
    "test_location_moved_areas.py",  # 88 (session 11, alone)
    "test_location_republication.py",  # 63
    "test_location_dst.py",  # 37
    "test_gates_location.py",  # 35
    "test_quarantine_privacy.py",  # 34
    "test_location_visitors.py",  # 33
)


def pytest_configure(config):
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False  # keep the order below


def pytest_collection_modifyitems(config, items):
    rank = {name: position for position, name in enumerate(SLOWEST_FILES_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: others as found
