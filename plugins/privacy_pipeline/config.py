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
from privacy_pipeline.vocabulary import (
    INTEREST_PATTERN,
    is_sensitive,
    normalise_term,
    sensitive_terms,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG_PATH = REPO_ROOT / "config" / "pipeline.yml"
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"

# The public floor for k: other operators publish with 15 to 20, Proximus with 30.
MIN_K = 15

ENV_CONFIG = "PRIVACY_PIPELINE_CONFIG"
ENV_LANDING = "PRIVACY_PIPELINE_LANDING"
ENV_WAREHOUSE = "PRIVACY_PIPELINE_WAREHOUSE"
ENV_K = "PRIVACY_PIPELINE_K"
ENV_PSEUDONYM_KEY = "PRIVACY_PIPELINE_PSEUDONYM_KEY"

# The letter's sensitive categories: the configuration may add spellings and categories,
# never remove one of these.
LETTER_SENSITIVE_CATEGORIES = ("sexual", "religious", "political")

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
    # The shipped file is the floor of the sensitive spellings and the default allow-list,
    # so an older or partial configuration file never reads sensitive values less generously.
    shipped = _read_yaml(str(DEFAULT_CONFIG_PATH))
    configured = config.get("sensitive_categories") or list(LETTER_SENSITIVE_CATEGORIES)
    merged = sensitive_categories(shipped.get("sensitive_categories"))
    for category, spellings in sensitive_categories(configured).items():
        merged[category] = sorted({*merged.get(category, []), *spellings})
    config["sensitive_categories"] = merged
    config.setdefault("allowed_interests", shipped.get("allowed_interests"))
    config["allowed_interests"] = allowed_interests(config)
    return config


def vocabulary_term(value: Any, path: str) -> str:
    """A configured term in its normalised form (docs/data-contract.md), safe as a literal."""
    term = normalise_term(value)
    if not term or not INTEREST_PATTERN.fullmatch(term):
        raise ConfigError(
            f"{path}: {value!r} is not a term of lower-case letters and digits separated by _"
        )
    return term


def sensitive_categories(value: Any) -> dict[str, list[str]]:
    """``sensitive_categories``: category -> other spellings (stems matched at the start of
    any word), normalised. A plain list names categories without other spellings."""
    if isinstance(value, list):
        value = {category: [] for category in value}
    if not isinstance(value, dict):
        raise ConfigError("sensitive_categories must map each category to its other spellings")
    categories: dict[str, list[str]] = {}
    for category, spellings in value.items():
        if spellings is not None and not isinstance(spellings, list):
            raise ConfigError(f"sensitive_categories.{category} must be a list of spellings")
        path = f"sensitive_categories.{category}"
        categories[vocabulary_term(category, "sensitive_categories")] = sorted(
            {vocabulary_term(spelling, path) for spelling in spellings or []}
        )
    missing = [c for c in LETTER_SENSITIVE_CATEGORIES if c not in categories]
    if missing:
        raise ConfigError(
            f"sensitive_categories must keep the letter's categories: {', '.join(missing)} missing"
        )
    return categories


def configured_interests(config: dict[str, Any]) -> list[tuple[str, Any]]:
    """(path, interest) of every interest the scoring and segment rules name."""
    scoring = config.get("scoring") or {}
    usage = scoring.get("usage") or {}
    found = [(f"scoring.interest_caps.{i}", i) for i in scoring.get("interest_caps") or {}]
    for key in ("device_rules", "call_rules"):
        for n, rule in enumerate(usage.get(key) or []):
            found.append((f"scoring.usage.{key}[{n}].interest", (rule or {}).get("interest")))
    for name, definition in (config.get("segments") or {}).items():
        if (definition or {}).get("interest"):
            found.append((f"segments.{name}.interest", definition["interest"]))
    return found


def allowed_interests(config: dict[str, Any]) -> list[str]:
    """``allowed_interests``: the only interests that may be scored, targeted or published.

    None may be sensitive, and every interest a rule names must be on the list."""
    value = config.get("allowed_interests")
    if not isinstance(value, list) or not value:
        raise ConfigError("allowed_interests must list the interests that may be scored")
    interests = sorted({vocabulary_term(i, "allowed_interests") for i in value})
    terms = sensitive_terms(config["sensitive_categories"])
    sensitive = [interest for interest in interests if is_sensitive(interest, terms)]
    if sensitive:
        raise ConfigError(f"allowed_interests holds sensitive categories: {', '.join(sensitive)}")
    for path, interest in configured_interests(config):
        if normalise_term(interest) not in interests:
            raise ConfigError(f"{path}: interest {interest!r} is not in allowed_interests")
    return interests
