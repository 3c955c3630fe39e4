"""What a suite is made of: promises, each checked by a set-based query on the candidate DB.

A promise's check returns SQL whose rows are its violations, one row per offending
item with a readable ``violation`` text (table, key, why). The query derives what is
allowed from the landing views and the rules, never from the models it guards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from privacy_pipeline.gates.candidate import Candidate


class CannotCheck(Exception):
    """The promise cannot be verified (a table or column it needs is missing): a failure."""


@dataclass(frozen=True)
class Check:
    """The violations query of one promise and what it looked at (shown when it passes)."""

    violations_sql: str
    scope: str


@dataclass(frozen=True)
class Promise:
    # The expectation's name in Data Docs, dpo.gate_results and the failure message.
    name: str
    # The promise in the DPO's words: the expectation's description in Data Docs.
    description: str
    check: Callable[[Candidate], Check]


@dataclass(frozen=True)
class Finding:
    """What the gate saw for one promise."""

    promise: Promise
    violations: int
    examples: list[str]
    scope: str
    cannot_check: str | None = None

    @property
    def success(self) -> bool:
        return self.cannot_check is None and self.violations == 0

    @property
    def observed(self) -> str:
        if self.cannot_check:
            return f"cannot be checked: {self.cannot_check}"
        if not self.violations:
            return f"0 violations ({self.scope})"
        shown = "; ".join(self.examples[:3])
        noun = "violation" if self.violations == 1 else "violations"
        return f"{self.violations:,} {noun}, e.g. {shown}"
