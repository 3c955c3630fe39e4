"""The one configuration of the pipeline: ``config/pipeline.yml`` plus environment overrides.

Every rule parameter (k, scoring weights, segment definitions, retention, ...) is
read from here and handed to dbt as vars, so no model hard-codes one.
"""

from __future__ import annotations

import copy
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from privacy_pipeline.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG_PATH = REPO_ROOT / "config" / "pipeline.yml"
# The dbt project; DBT_PROJECT_DIR (dbt's own variable) points at another copy, e.g. the
# mutated models of tests/test_gates_mutations.py.
ENV_DBT_PROJECT_DIR = "DBT_PROJECT_DIR"
DBT_PROJECT_DIR = Path(os.environ.get(ENV_DBT_PROJECT_DIR) or REPO_ROOT / "dbt_project").resolve()
EXPECTATIONS_DIR = REPO_ROOT / "expectations"

# The public floor for k: other operators publish with 15 to 20, Proximus with 30.
MIN_K = 15

ENV_CONFIG = "PRIVACY_PIPELINE_CONFIG"
ENV_LANDING = "PRIVACY_PIPELINE_LANDING"
ENV_WAREHOUSE = "PRIVACY_PIPELINE_WAREHOUSE"
ENV_K = "PRIVACY_PIPELINE_K"
ENV_PSEUDONYM_KEY = "PRIVACY_PIPELINE_PSEUDONYM_KEY"

# Only for demo and test data; production sets PRIVACY_PIPELINE_PSEUDONYM_KEY from a secret store.
DEMO_PSEUDONYM_KEY = "demo-only-pseudonym-key"
DEMO_RUN_DATE = "2026-06-20"


def default_landing_dir() -> Path:
    return Path(os.environ.get(ENV_LANDING, REPO_ROOT / "var" / "landing"))


def default_warehouse_dir() -> Path:
    return Path(os.environ.get(ENV_WAREHOUSE, REPO_ROOT / "var" / "warehouse"))


def pseudonym_key() -> str:
    return os.environ.get(ENV_PSEUDONYM_KEY, DEMO_PSEUDONYM_KEY)


def validate_k(k: Any) -> int:
    try:
        value = int(k)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"k must be an integer, got {k!r}") from exc
    if value < MIN_K:
        raise ConfigError(f"k={value} is below the floor of {MIN_K}: refusing to run")
    return value


@lru_cache(maxsize=8)
def _read_yaml(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
    except FileNotFoundError as exc:
        raise ConfigError(f"configuration file not found: {path}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"configuration file {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"configuration file {path} must hold a mapping")
    return data


def load_config(path: str | Path | None = None) -> dict[str, Any]:
    """Read and validate the configuration; returns a fresh dict the caller may modify."""
    config_path = Path(path or os.environ.get(ENV_CONFIG, DEFAULT_CONFIG_PATH))
    config = copy.deepcopy(_read_yaml(str(config_path)))
    location = config.setdefault("location", {})
    if os.environ.get(ENV_K):
        location["k"] = os.environ[ENV_K]
    location["k"] = validate_k(location.get("k", 30))
    config.setdefault("timezone", "Europe/Brussels")
    config.setdefault("retention", {}).setdefault("candidate_days", 0)
    return config
