"""Test configurations: copies of config/pipeline.yml with other values.

The k of the configuration file is the floor of every run (``--k`` may only raise it),
so a test that needs a smaller k than the DPO's 30 runs with its own configuration,
as a DPO would, and never with ``--k``.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from privacy_pipeline.config import DEFAULT_CONFIG_PATH, ENV_CONFIG


def config_with_k(folder: Path, k: int) -> Path:
    """Write a copy of the default configuration with ``location.k = k``; returns its path."""
    config = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    config["location"]["k"] = k
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"pipeline-k{k}.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def config_env(path: Path) -> dict[str, str]:
    """Environment for a CLI run with the configuration ``path``."""
    return {ENV_CONFIG: str(path)}
