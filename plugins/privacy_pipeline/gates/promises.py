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
class BuiltIn:
    """A built-in GE expectation that says the promise by itself, and the values it checks.

    ``values_sql`` selects one column, ``value``: what the promise's query reads (e.g. every
    score). GE checks their distinct values; the violations query stays the gate's judge
    (gates/ge_expectations.py).
    """

    expectation: str  # a class of great_expectations.expectations (ExpectColumnValuesToBeBetween)
    column: str  # what the values are, the column's name in Data Docs
    values_sql: str
    kwargs: tuple[tuple[str, object], ...] = ()


@dataclass(frozen=True)
class ColumnSet:
    """A published table's columns and those declared for it: GE's built-in
    ExpectTableColumnsToMatchSet judges them on a batch of that table's columns alone (no
    row), so the Data Docs show each table's columns, never its values."""

    table: str  # "schema.table"
    columns: tuple[str, ...]  # what the candidate table has
    declared: tuple[str, ...]


@dataclass(frozen=True)
class Check:
    """The violations query of one promise and what it looked at (shown when it passes)."""

    violations_sql: str
    scope: str
    built_in: BuiltIn | None = None
    # Rows the promise read, when its query does not name the tables (computed in Python),
    # and what they are when not table rows ("column name").
    rows_checked: int | None = None
    checked_unit: str = "row"
    # Published tables whose columns must match a declared set (one GE batch each).
    column_sets: tuple[ColumnSet, ...] = ()


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
    # Rows of the candidate (or published) tables the promise's query read, if known.
    rows_checked: int | None = None
    checked_unit: str = "row"
    # The candidate tables ("schema.table") the promise read.
    tables: tuple[str, ...] = ()
    built_in: BuiltIn | None = None
    # The distinct values the built-in expectation checks (None: too many or none).
    values: list | None = None
    column_sets: tuple[ColumnSet, ...] = ()

    @property
    def success(self) -> bool:
        return self.cannot_check is None and self.violations == 0

    @property
    def observed(self) -> str:
        if self.cannot_check:
            return f"cannot be checked: {self.cannot_check}"
        counted = rows_phrase(self.violations, self.rows_checked, self.checked_unit)
        if not self.violations:
            return f"{counted} ({self.scope})"
        return f"{counted}, e.g. {'; '.join(self.examples[:3])}"


def rows_phrase(violations: int, rows_checked: int | None, unit: str = "row") -> str:
    """'0 of 12,345 rows': the violations among the rows the promise read. The one wording
    of the observed value: Data Docs, the run report, dpo.gate_results and the failure
    message."""
    noun = "violation" if violations == 1 else "violations"
    if rows_checked is None:
        return f"{violations:,} {noun}"
    rows = unit if rows_checked == 1 else f"{unit}s"
    if violations <= rows_checked:
        return f"{violations:,} of {rows_checked:,} {rows}"
    # A promise on pairs of figures can find more violations than rows.
    return f"{violations:,} {noun} among {rows_checked:,} {rows}"
