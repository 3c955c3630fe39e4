"""The expectation suites are code in ``expectations/<suite>.py``, one module per published family.

Each module defines ``DESCRIPTION`` (what the family is and who receives it) and
``PROMISES``, a tuple of :class:`~privacy_pipeline.gates.promises.Promise`.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import cache

from privacy_pipeline.config import EXPECTATIONS_DIR
from privacy_pipeline.gates.promises import Promise

# The order the DAG runs them in and the run report lists them in.
SUITES: tuple[str, ...] = ("personal_data", "marketing", "location", "rights")


@dataclass(frozen=True)
class Suite:
    name: str
    description: str
    promises: tuple[Promise, ...]


def suite_module(name: str):
    """The module of suite ``name`` (expectations/ is not a package), freshly loaded."""
    if name not in SUITES:
        raise KeyError(f"unknown privacy gate suite {name!r}; known: {', '.join(SUITES)}")
    path = EXPECTATIONS_DIR / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"privacy_expectations.{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@cache
def load_suite(name: str) -> Suite:
    module = suite_module(name)
    path = EXPECTATIONS_DIR / f"{name}.py"
    promises = tuple(module.PROMISES)
    names = [promise.name for promise in promises]
    if len(set(names)) != len(names):
        raise ValueError(f"{path}: two expectations share a name")
    return Suite(name, module.DESCRIPTION.strip(), promises)
