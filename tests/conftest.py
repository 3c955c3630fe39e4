"""Shared pytest set-up: Airflow state in a temporary folder, never in ~/airflow."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Airflow reads its configuration when first imported: set it before any test imports it.
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="pytest-airflow-home-"))
os.environ.setdefault("AIRFLOW_HOME", str(_AIRFLOW_HOME))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")

# One dbt parse cache for the session, shared by the xdist workers (they inherit this
# environment) and the runs they start: each run then re-parses only what changed.
os.environ.setdefault(
    "PRIVACY_PIPELINE_DBT_PARSE_CACHE", tempfile.mkdtemp(prefix="pytest-dbt-parse-")
)

# Runs refuse to pseudonymise real-looking data without a key (docs/threat-model.md); the
# tests' landing zones are not marked as demo data, so the session gets a test-only key.
# tests/test_exit_codes.py checks the refusal without it.
os.environ.setdefault("PRIVACY_PIPELINE_PSEUDONYM_KEY", "pytest-only-pseudonym-key-not-a-secret")
