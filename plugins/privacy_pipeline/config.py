"""The one configuration of the pipeline: ``config/pipeline.yml`` plus environment overrides.

Every rule parameter (k, scoring weights, segment definitions, retention, ...) is
read from here and handed to dbt as vars, so no model hard-codes one.
"""

from __future__ import annotations

import copy
import json
import logging
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

log = logging.getLogger(__name__)

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
# Where the configuration was read from (for messages; not a setting, not a dbt var).
CONFIG_FILE_KEY = "config_file"

# The letter's sensitive categories: the configuration may add spellings and categories,
# never remove one of these.
LETTER_SENSITIVE_CATEGORIES = ("sexual", "religious", "political")

# Public (it is in this file): only for landing zones written by `privacy-pipeline
# demo-data`, which carry DEMO_DATA_MARKER. Every other run needs
# PRIVACY_PIPELINE_PSEUDONYM_KEY from a secret store (require_pseudonym_key).
DEMO_PSEUDONYM_KEY = "demo-only-pseudonym-key"
DEMO_DATA_MARKER = "_DEMO_DATA"
DEMO_RUN_DATE = "2026-06-20"


# DuckDB's memory cap, for dbt (profiles.yml reads the same variable) and the gates.
DUCKDB_MEMORY_LIMIT_VARIABLE = "PRIVACY_PIPELINE_DUCKDB_MEMORY_LIMIT"
DEFAULT_DUCKDB_MEMORY_LIMIT = "4GB"


def duckdb_memory_limit() -> str:
    return os.environ.get(DUCKDB_MEMORY_LIMIT_VARIABLE) or DEFAULT_DUCKDB_MEMORY_LIMIT


def default_landing_dir() -> Path:
    return Path(os.environ.get(ENV_LANDING, REPO_ROOT / "var" / "landing"))


def default_warehouse_dir() -> Path:
    return Path(os.environ.get(ENV_WAREHOUSE, REPO_ROOT / "var" / "warehouse"))


def pseudonym_key() -> str:
    """The key of the msisdn pseudonyms. The demo key is only reachable for demo data:
    every run checks ``require_pseudonym_key`` first (RunContext.create)."""
    return os.environ.get(ENV_PSEUDONYM_KEY) or DEMO_PSEUDONYM_KEY


def is_demo_landing(landing_dir: str | Path) -> bool:
    return (Path(landing_dir) / DEMO_DATA_MARKER).is_file()


def mark_as_demo_data(landing_dir: str | Path, note: dict[str, Any]) -> None:
    """Mark a landing zone as synthetic: its runs may use the public demo key."""
    content = {"synthetic": True, **note}
    (Path(landing_dir) / DEMO_DATA_MARKER).write_text(json.dumps(content, indent=2) + "\n")


def require_pseudonym_key(landing_dir: str | Path) -> None:
    """Refuse (ConfigError, exit 2) to pseudonymise real people with the public demo key.

    With the built-in key anyone recovers a phone number from its pseudonym by hashing
    every Belgian mobile number. Only synthetic landing zones (``DEMO_DATA_MARKER``,
    written by ``privacy-pipeline demo-data``) may run without a key.
    """
    key = os.environ.get(ENV_PSEUDONYM_KEY, "")
    if key and key != DEMO_PSEUDONYM_KEY:
        return
    if is_demo_landing(landing_dir):
        log.warning("demo data in %s: pseudonyms use the public demo key", landing_dir)
        return
    problem = "holds the public demo key" if key else "is not set"
    raise ConfigError(
        f"{ENV_PSEUDONYM_KEY} {problem}: refusing to pseudonymise the landing zone "
        f"{landing_dir} with a key anyone can read. Set {ENV_PSEUDONYM_KEY} from your secret "
        f"store (docs/threat-model.md); only a landing zone written by "
        f"`privacy-pipeline demo-data` (marked {DEMO_DATA_MARKER}) runs without it."
    )


def validate_k(k: Any, source: str = "k") -> int:
    if isinstance(k, bool):
        raise ConfigError(f"{source} must be an integer, got {k!r}")
    try:
        value = int(k)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{source} must be an integer, got {k!r}") from exc
    if value < MIN_K:
        raise ConfigError(f"{source}: k={value} is below the floor of {MIN_K}: refusing to run")
    return value


def configured_k(config: dict[str, Any]) -> int:
    """The DPO's k: ``location.k`` of the configuration file, the floor of every run."""
    return config["location"]["k"]


def k_source(config: dict[str, Any]) -> str:
    return f"location.k in {config.get(CONFIG_FILE_KEY, DEFAULT_CONFIG_PATH)}"


def run_k(config: dict[str, Any], requested: Any = None, source: str = "--k") -> int:
    """The k of a run: the configured k, or a higher one asked for by ``source``.

    ``--k``, ``PRIVACY_PIPELINE_K`` and the DAG's ``k`` param may raise k, never lower it:
    the configuration file is the DPO's, and only it sets the floor.
    """
    floor = configured_k(config)
    if requested is None or requested == "":
        if not os.environ.get(ENV_K):
            return floor
        requested, source = os.environ[ENV_K], ENV_K
    value = validate_k(requested, source)
    if value < floor:
        raise ConfigError(
            f"k={value} ({source}) is below k={floor} set by {k_source(config)}: a run may "
            f"raise k, never lower it; only that configuration file sets the floor"
        )
    return value


# libyaml's parser under PyYAML's safe constructor: the same documents and types as
# yaml.safe_load, about 8x less CPU (the pure-Python scanner took ~0.4 s to read the
# models' yml, and publication reads them several times a run).
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load_yaml(stream: Any) -> Any:
    """``yaml.safe_load`` with libyaml when PyYAML has it."""
    return yaml.load(stream, Loader=_SAFE_LOADER)  # noqa: S506 (a safe loader)


@lru_cache(maxsize=8)
def _read_yaml(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            data = safe_load_yaml(fh) or {}
    except FileNotFoundError as exc:
        raise ConfigError(f"configuration file not found: {path}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"configuration file {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"configuration file {path} must hold a mapping")
    return data


DEFAULT_MIN_STAY_MINUTES = 30


def validate_min_stay(value: Any, where: str) -> int:
    """The minimum stay of a visitor (docs/location-privacy.md): whole minutes, 0 or more."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{where} must be a whole number of minutes >= 0, not {value!r}")
    return value


def load_config(path: str | Path | None = None) -> dict[str, Any]:
    """Read and validate the configuration; returns a fresh dict the caller may modify."""
    config_path = Path(path or os.environ.get(ENV_CONFIG, DEFAULT_CONFIG_PATH))
    config = copy.deepcopy(_read_yaml(str(config_path)))
    location = config.setdefault("location", {})
    # The file's k is the floor of every run (run_k): PRIVACY_PIPELINE_K only raises it.
    location["k"] = validate_k(location.get("k", 30), f"location.k in {config_path}")
    location["min_stay_minutes"] = validate_min_stay(
        location.get("min_stay_minutes", DEFAULT_MIN_STAY_MINUTES),
        f"location.min_stay_minutes in {config_path}",
    )
    config[CONFIG_FILE_KEY] = str(config_path)
    config.setdefault("timezone", "Europe/Brussels")
    config["retention"] = validate_retention(config.get("retention") or {})
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


# Days kept when config/pipeline.yml does not say (docs/configuration.md).
RETENTION_DEFAULTS = {
    "candidate_days": 0,
    "failed_candidate_days": 3,
    "restricted_store_days": 30,
    "marketing_days": 90,
}


def validate_retention(retention: dict[str, Any]) -> dict[str, Any]:
    """Every retention a whole number of days >= 0 (defaults for those not set)."""
    if not isinstance(retention, dict):
        raise ConfigError("retention must be a mapping of days")
    values = {**RETENTION_DEFAULTS, **retention}
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(f"retention.{key} must be a whole number of days >= 0, got {value!r}")
    return values
