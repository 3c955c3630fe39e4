"""The Great Expectations form of the promises (gates/ge_expectations.py, validation.py):
the relational expectation's examples, and which expectation shows which promise."""

from __future__ import annotations

import pandas as pd
import pytest
from privacy_pipeline.gates.promises import (
    BuiltIn,
    Finding,
    Promise,
    rows_phrase,
)
from privacy_pipeline.gates.validation import expectation_suite, findings_frame

SCORES = BuiltIn(
    "ExpectColumnValuesToBeBetween",
    "scores",
    "select 1 as value",
    (("min_value", 0), ("max_value", 100)),
)


def promise(name: str) -> Promise:
    return Promise(name, f"The promise {name} holds.", lambda candidate: None)


@pytest.fixture(scope="module")
def validate():
    import great_expectations as gx
    from privacy_pipeline.gates.validation import quiet_great_expectations

    with quiet_great_expectations():
        context = gx.get_context(mode="ephemeral")
        asset = context.data_sources.add_pandas("examples").add_dataframe_asset("findings")
        batch_definition = asset.add_batch_definition_whole_dataframe("all")

        def run(frame: pd.DataFrame, *expectations):
            suite = gx.ExpectationSuite(name="examples")
            for expectation in expectations:
                suite.add_expectation(expectation)
            batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
            with quiet_great_expectations():
                return batch.validate(suite).results

        yield run


def test_the_relational_expectation_keeps_its_documented_examples(validate):
    from privacy_pipeline.gates.ge_expectations import ExpectNoRowToBreakThePromise

    assert len(ExpectNoRowToBreakThePromise.examples) >= 2
    for example in ExpectNoRowToBreakThePromise.examples:
        for case in example["tests"]:
            [result] = validate(
                pd.DataFrame(example["data"]), ExpectNoRowToBreakThePromise(**case["in"])
            )
            assert result.success is case["out"]["success"], case["title"]
            assert result.result["observed_value"] == case["out"]["observed_value"]


def test_the_relational_expectation_fails_when_it_cannot_check_or_finds_no_result(validate):
    from privacy_pipeline.gates.ge_expectations import ExpectNoRowToBreakThePromise

    findings = [
        Finding(promise("unreadable"), 0, [], "", cannot_check="table marketing.x is missing"),
        Finding(promise("kept"), 0, [], "4 tables", rows_checked=12345),
    ]
    unreadable, kept, absent = validate(
        findings_frame(findings),
        ExpectNoRowToBreakThePromise(promise="unreadable"),
        ExpectNoRowToBreakThePromise(promise="kept"),
        ExpectNoRowToBreakThePromise(promise="never_checked"),
    )
    assert not unreadable.success
    assert "cannot be checked: table marketing.x is missing" in unreadable.result["observed_value"]
    assert kept.success and kept.result["observed_value"] == "0 of 12,345 rows"
    assert not absent.success


def test_a_built_in_shows_a_promise_it_says_and_a_violation_it_cannot_see_adds_the_relational():
    kept = Finding(
        promise("scores"), 0, [], "scores", rows_checked=3, built_in=SCORES, values=[1.0]
    )
    # A null score: the built-in ignores nulls, the promise's query does not.
    broken = Finding(
        promise("scores_null"),
        1,
        ["customer C1 has score null"],
        "scores",
        rows_checked=3,
        built_in=SCORES,
        values=[2.0],
    )
    no_values = Finding(promise("scores_empty"), 0, [], "scores", rows_checked=0, built_in=SCORES)
    suite = expectation_suite("marketing", "", [kept, broken, no_values])
    shown = [(e.meta["promise"], e.expectation_type) for e in suite.expectations]
    assert shown == [
        ("scores", "expect_column_values_to_be_between"),
        ("scores_null", "expect_column_values_to_be_between"),
        ("scores_null", "expect_no_row_to_break_the_promise"),
        ("scores_empty", "expect_no_row_to_break_the_promise"),
    ]
    frame = findings_frame([kept, broken, no_values])
    assert frame["scores [scores]"].iloc[0] == 1.0
    assert frame["scores [scores]"].isna().sum() == 2  # padded to the frame's length


def test_the_built_in_fails_on_a_value_out_of_bounds(validate):
    import great_expectations.expectations as gxe

    finding = Finding(
        promise("s"), 1, ["x"], "scores", rows_checked=2, built_in=SCORES, values=[50.0, 130.0]
    )
    [result] = validate(
        findings_frame([finding]),
        gxe.ExpectColumnValuesToBeBetween(column="scores [s]", min_value=0, max_value=100),
    )
    assert not result.success and result.result["partial_unexpected_list"] == [130.0]


@pytest.mark.parametrize(
    ("violations", "rows", "phrase"),
    [
        (0, 12345, "0 of 12,345 rows"),
        (1, 1, "1 of 1 row"),
        (12, 10, "12 violations among 10 rows"),
        (0, None, "0 violations"),
        (1, None, "1 violation"),
    ],
)
def test_observed_values_read_as_rows_of_rows(violations, rows, phrase):
    assert rows_phrase(violations, rows) == phrase


def test_the_run_report_and_the_audit_log_word_the_observed_value_like_data_docs():
    assert rows_phrase(1, 9) == "1 of 9 rows"
    assert rows_phrase(0, 59, "column") == "0 of 59 columns"
    finding = Finding(promise("p"), 1, ["a", "b"], "4 tables", rows_checked=1)
    assert finding.observed == "1 of 1 row, e.g. a; b"
    passed = Finding(promise("p"), 0, [], "4 tables", rows_checked=12345)
    assert passed.observed == "0 of 12,345 rows (4 tables)"
    assert Finding(promise("p"), 2, ["a"], "4 tables").observed == "2 violations, e.g. a"


def test_each_published_table_is_a_batch_of_its_columns_matched_to_its_declared_set():
    import great_expectations as gx
    from privacy_pipeline.gates.promises import ColumnSet
    from privacy_pipeline.gates.validation import (
        column_set_results,
        quiet_great_expectations,
        with_results,
    )

    declared = ("area_level", "area_id", "hour_start", "people", "run_date")
    finding = Finding(
        promise("columns"),
        1,
        ["location.presence_hourly.members: column not declared in the marts yml"],
        "columns",
        rows_checked=9,
        checked_unit="column",
        column_sets=(
            ColumnSet(
                "location.event_attendance_total",
                ("event_id", "people", "run_date"),
                ("event_id", "people", "run_date"),
            ),  # fmt: skip
            ColumnSet("location.presence_hourly", (*declared, "members"), declared),
        ),
    )
    # The column sets are not values of the findings frame: no column for them there.
    assert list(findings_frame([finding]).columns) == list(findings_frame([]).columns)
    # A broken promise also shows the relational expectation, with its examples.
    types = [e.expectation_type for e in expectation_suite("s", "", [finding]).expectations]
    assert types == ["expect_no_row_to_break_the_promise"]
    kept = Finding(promise("columns"), 0, [], "columns", column_sets=finding.column_sets[:1])
    assert expectation_suite("s", "", [kept]).expectations == []

    with quiet_great_expectations():
        datasource = gx.get_context(mode="ephemeral").data_sources.add_pandas("p")
        same, extra = column_set_results(datasource, [finding])
    assert same.success and same.expectation_config.meta["promise"] == "columns"
    assert not extra.success
    assert extra.result["details"]["mismatched"]["unexpected"] == ["members"]
    assert "location.presence_hourly has exactly its declared columns: area_level" in (
        extra.expectation_config.description
    )

    class Suite:  # the suite's validation result, as GE's checkpoint returns it
        results = [same]
        success = True
        statistics = {"evaluated_expectations": 1, "successful_expectations": 1}

    suite = Suite()
    suite.results = []
    with_results(suite, [same, extra])
    assert suite.success is False
    assert suite.statistics["evaluated_expectations"] == 2
    assert suite.statistics["unsuccessful_expectations"] == 1


def test_the_sensitive_category_built_in_names_categories_never_values(validate):
    import great_expectations.expectations as gxe

    sensitive = BuiltIn(
        "ExpectColumnValuesToNotBeInSet",
        "categories",
        "select 1 as value",
        (("value_set", ["political", "religious", "sexual"]),),
    )
    finding = Finding(
        promise("c"), 1, ["x"], "texts", rows_checked=3, built_in=sensitive,
        values=["music", "political"],
    )  # fmt: skip
    [expectation, relational] = expectation_suite("s", "", [finding]).expectations
    assert expectation.expectation_type == "expect_column_values_to_not_be_in_set"
    assert "none of political, religious, sexual" in expectation.description
    [result] = validate(
        findings_frame([finding]),
        gxe.ExpectColumnValuesToNotBeInSet(
            column="categories [c]", value_set=["political", "religious", "sexual"]
        ),
    )
    assert not result.success and result.result["partial_unexpected_list"] == ["political"]
