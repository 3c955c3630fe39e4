"""The Great Expectations form of the promises, written for the DPO who reads Data Docs.

GE's SQL datasource errors on DuckDB in the pinned versions, so GE never runs a promise's
query: DuckDB counts, for every promise, the rows of the candidate tables the promise
read and the rows that break it (``gates/runner.py``), and the suite's pandas frame
carries those counts and the first examples, one row per promise. Two kinds of
expectation judge that frame:

- ``ExpectNoRowToBreakThePromise``, this module's custom expectation, for the relational
  promises (nobody who objected, every count equals the landing recount, ...): the
  observed value reads "0 of 12,345 rows", a failure lists its examples.
- GE's built-in expectations where one says the promise by itself (scores between 0 and
  100, every people count at least k, no column named like an identifier, no sensitive
  category, ...): they check the distinct values the promise's query read, held in a
  column of the same frame named for what they are.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pandas as pd
from great_expectations.core.metric_domain_types import MetricDomainTypes
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import BatchExpectation
from great_expectations.expectations.metrics.metric_provider import metric_value
from great_expectations.expectations.metrics.table_metric_provider import TableMetricProvider
from great_expectations.render import (
    LegacyDiagnosticRendererType,
    LegacyRendererType,
    RenderedStringTemplateContent,
    RenderedTableContent,
)
from great_expectations.render.renderer.renderer import renderer

from privacy_pipeline.gates.promises import rows_phrase

# The frame's columns (one row per promise; value columns of built-ins padded with nulls).
PROMISE = "promise"
ROWS_CHECKED = "rows_checked"
CHECKED_UNIT = "checked_unit"
ROWS_BREAKING = "rows_breaking"
EXAMPLES = "examples"
CANNOT_CHECK = "cannot_check"


class PromiseFindings(TableMetricProvider):
    """What DuckDB found for one promise: the row of the frame that names it."""

    metric_name = "privacy_promise.findings"
    value_keys = ("promise",)

    @metric_value(engine=PandasExecutionEngine)
    def _pandas(
        cls,
        execution_engine: PandasExecutionEngine,
        metric_domain_kwargs: dict,
        metric_value_kwargs: dict,
        metrics: dict[str, Any],
        runtime_configuration: dict,
    ) -> dict[str, Any] | None:
        frame, _, _ = execution_engine.get_compute_domain(
            domain_kwargs=metric_domain_kwargs, domain_type=MetricDomainTypes.TABLE
        )
        rows = frame[frame[PROMISE] == metric_value_kwargs["promise"]]
        if len(rows) != 1:
            return None  # absent or ambiguous: the expectation fails, never guesses
        row = rows.iloc[0]
        checked = row[ROWS_CHECKED]
        unit = row.get(CHECKED_UNIT)  # what was counted, when not table rows
        return {
            "rows_checked": None if pd.isna(checked) else int(checked),
            "unit": unit if isinstance(unit, str) else "row",
            "rows_breaking": int(row[ROWS_BREAKING]),
            "examples": list(row[EXAMPLES]) if isinstance(row[EXAMPLES], list) else [],
            "cannot_check": None if pd.isna(row[CANNOT_CHECK]) else str(row[CANNOT_CHECK]),
        }


class ExpectNoRowToBreakThePromise(BatchExpectation):
    """Expect no row of the candidate output to break a relational privacy promise.

    The promise's own query (DuckDB, on the candidate database and the landing views)
    counts the rows of the tables it read and the rows that break it; this expectation
    passes only when it could be checked and no row breaks it. Its observed value reads
    "0 of 12,345 rows"; a failure shows the first rows that break the promise.

    Args:
        promise (str): the promise's name, e.g. ``no_direct_marketing_objection_in_marketing``.
        statement (str): the promise in the DPO's words.
        scope (str): what the promise's query read.

    Examples:
        A customer who objected to direct marketing is in ``marketing.segment_members``::

            ExpectNoRowToBreakThePromise(
                promise="no_direct_marketing_objection_in_marketing",
                statement="Nobody who objected to direct marketing is in a marketing table.",
                scope="4 marketing tables against the whole consent ledger",
            )
            -> success: false, observed value "1 of 12,345 rows",
               details: ["marketing.segment_members: customer C042 objected ..."]
    """

    promise: str
    statement: str = ""
    scope: str = ""

    metric_dependencies = ("privacy_promise.findings",)
    success_keys = ("promise",)
    args_keys = ("promise", "statement", "scope")
    domain_keys: ClassVar[tuple[str, ...]] = ()

    library_metadata: ClassVar[dict[str, Any]] = {
        "maturity": "production",
        "tags": ["privacy", "relational", "table expectation"],
        "contributors": ["privacy-pipeline"],
        "requirements": [],
    }

    # Shown by GE's gallery tooling and kept with the class: one passing, one failing case.
    examples: ClassVar[list[dict[str, Any]]] = [
        {
            "data": {
                PROMISE: ["no_direct_marketing_objection_in_marketing"],
                ROWS_CHECKED: [12345],
                ROWS_BREAKING: [0],
                EXAMPLES: [[]],
                CANNOT_CHECK: [None],
            },
            "tests": [
                {
                    "title": "no_row_breaks_the_promise",
                    "in": {"promise": "no_direct_marketing_objection_in_marketing"},
                    "out": {"success": True, "observed_value": "0 of 12,345 rows"},
                }
            ],
        },
        {
            "data": {
                PROMISE: ["no_direct_marketing_objection_in_marketing"],
                ROWS_CHECKED: [12345],
                ROWS_BREAKING: [1],
                EXAMPLES: [["marketing.segment_members: customer C042 objected"]],
                CANNOT_CHECK: [None],
            },
            "tests": [
                {
                    "title": "a_customer_who_objected_is_published",
                    "in": {"promise": "no_direct_marketing_objection_in_marketing"},
                    "out": {"success": False, "observed_value": "1 of 12,345 rows"},
                }
            ],
        },
    ]

    def _validate(
        self,
        metrics: dict,
        runtime_configuration: dict | None = None,
        execution_engine=None,
    ) -> dict[str, Any]:
        found = metrics["privacy_promise.findings"]
        if found is None:
            return {
                "success": False,
                "result": {"observed_value": "not checked: the gate found no result"},
            }
        if found["cannot_check"]:
            return {
                "success": False,
                "result": {
                    "observed_value": f"cannot be checked: {found['cannot_check']}",
                    "details": {"rows_breaking_the_promise": []},
                },
            }
        return {
            "success": found["rows_breaking"] == 0,
            "result": {
                "observed_value": rows_phrase(
                    found["rows_breaking"], found["rows_checked"], found["unit"]
                ),
                "details": {"rows_breaking_the_promise": found["examples"]},
            },
        }

    @classmethod
    @renderer(renderer_type=LegacyRendererType.PRESCRIPTIVE)
    def _prescriptive_renderer(
        cls, configuration=None, result=None, runtime_configuration=None
    ) -> list[RenderedStringTemplateContent]:
        kwargs = configuration.kwargs if configuration else {}
        template = "$statement"
        params = {"statement": kwargs.get("statement") or kwargs.get("promise", "")}
        if kwargs.get("scope"):
            template += " Checked on: $scope."
            params["scope"] = kwargs["scope"]
        return [
            RenderedStringTemplateContent(
                content_block_type="string_template",
                string_template={"template": template, "params": params},
            )
        ]

    @classmethod
    @renderer(renderer_type=LegacyDiagnosticRendererType.UNEXPECTED_TABLE)
    def _diagnostic_unexpected_table_renderer(
        cls, configuration=None, result=None, runtime_configuration=None
    ):

        details = ((result.result or {}).get("details") or {}) if result else {}
        rows = details.get("rows_breaking_the_promise") or []
        if not rows:
            return None
        return [
            RenderedTableContent(
                content_block_type="table",
                table=[[row] for row in rows],
                header_row=["Rows that break the promise (first ones)"],
                styling={"body": {"classes": ["table-bordered", "table-sm", "mt-3"]}},
            )
        ]
