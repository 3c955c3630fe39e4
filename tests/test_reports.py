"""The DPO's reports: run report, Data Docs and gate history, for a passing and a failing run.

One warehouse sees two runs of the same date: a clean one (published) and one whose
marketing output holds a customer who objected (not published). The report of each is
opened and read as the DPO would.
"""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest
from privacy_pipeline.errors import GateFailed
from privacy_pipeline.gates import SUITES, load_suite, run_suite
from privacy_pipeline.publish import publish_run
from privacy_pipeline.reports import write_run_reports
from privacy_pipeline.stages import recording_failure

from tests.support.browser import SeenPage, open_in_chromium
from tests.support.landing import C_SCARLET_MIGRATED, RUN_DATE
from tests.test_gates_candidates import build_clean_candidate, context_for, inject


class PageText(HTMLParser):
    """Visible text, links and tags of an HTML page."""

    def __init__(self):
        super().__init__()
        self.text: list[str] = []
        self.links: list[str] = []
        self.tags: set[str] = set()
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.links.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.text.append(" ".join(data.split()))


def read_page(path: Path) -> PageText:
    page = PageText()
    page.feed(path.read_text(encoding="utf-8"))
    page.joined = " | ".join(page.text)
    return page


def run_gates(ctx) -> list[str]:
    failed = []
    for suite in SUITES:
        try:
            run_suite(ctx, suite)
        except GateFailed:
            failed.append(suite)
    return failed


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("reports")
    passing = build_clean_candidate(root)
    passing = context_for(passing.landing_dir, passing.warehouse_dir, run_id="run-passing")
    assert run_gates(passing) == []
    publish_run(passing)
    passing_paths = write_run_reports(passing)
    passing_report = root / "passing.html"
    shutil.copy(passing_paths["run_report"], passing_report)

    failing = context_for(passing.landing_dir, passing.warehouse_dir, run_id="run-failing")
    inject(
        failing,
        "insert into marketing.segment_members values "
        f"('standard_offers', '{C_SCARLET_MIGRATED}', date '{RUN_DATE}')",
    )
    shutil.rmtree(failing.run_dir / "gates")
    assert run_gates(failing) == ["marketing"]
    failing_paths = write_run_reports(failing)
    return {
        "warehouse": passing.warehouse_dir,
        "passing": read_page(passing_report),
        "failing": read_page(Path(failing_paths["run_report"])),
        "failing_path": Path(failing_paths["run_report"]),
        "data_docs": Path(failing_paths["data_docs"]),
    }


def every_expectation() -> list[str]:
    return [p.name for suite in SUITES for p in load_suite(suite).promises]


def test_the_report_of_a_passing_run_shows_every_gate_and_what_it_saw(runs):
    page = runs["passing"]
    assert "PUBLISHED: every privacy gate passed" in page.joined
    for name in every_expectation():
        assert name in page.text
    assert "FAILED" not in page.joined
    # consent counts by purpose and platform, from the landing ledger
    assert re.search(r"direct_marketing \| scarlet_legacy \| 0 \| 1", page.joined)
    assert re.search(r"personalisation_browsing \| proximus \| 1 \| 0", page.joined)
    # rejected privacy events, quarantine, suppression summary
    assert "unknown purpose" in page.text
    assert re.search(r"customers \| unknown_enum:brand \| 1", page.joined)
    assert re.search(r"customers \| 6 \| 5 \| 1", page.joined)
    assert re.search(r"presence_hourly \| postal_code \| 2 \| 0 \| 0", page.joined)


def test_the_report_of_a_failing_run_says_why_nothing_was_published(runs):
    page = runs["failing"]
    assert "NOT PUBLISHED: privacy gate failed (marketing)" in page.joined
    failed = re.search(
        r"no_direct_marketing_objection_in_marketing \| .*? \| FAILED \| "
        r"1 of \d+ rows, e\.g\. "
        rf"marketing\.segment_members: customer {C_SCARLET_MIGRATED}",
        page.joined,
    )
    assert failed, page.joined[:3000]
    assert page.joined.count("FAILED") == 2  # the suite and its one expectation
    assert "Broken promises | marketing.no_direct_marketing_objection_in_marketing" in page.joined
    assert "Broken promises" not in runs["passing"].joined


def test_reports_are_self_contained_and_link_to_the_data_docs(runs):
    for name in ("passing", "failing"):
        page = runs[name]
        assert "svg" in page.tags and "script" not in page.tags
        external = [link for link in page.links if re.match(r"[a-z]+:", link)]
        assert external == []
        targets = [runs["failing_path"].parent / link for link in page.links]
        assert targets and all(target.exists() for target in targets)
        assert any(target.name == "index.html" for target in targets)
    assert len(runs["failing"].links) == 1 + len(SUITES)


def test_the_data_docs_show_each_validation_with_its_promises_and_masked_examples(runs):
    # The index lists every validation of every run (its table is filled by a script).
    index = runs["data_docs"].read_text(encoding="utf-8")
    for suite in SUITES:
        for run in ("run-passing", "run-failing"):
            assert f"validations/{suite}/{RUN_DATE}__{run}/" in index
    page = runs["failing_path"].parent / next(
        link for link in runs["failing"].links if "/marketing/" in link
    )
    docs = read_page(page.resolve())
    assert "run-failing" in docs.joined
    for promise in load_suite("marketing").promises:
        assert promise.description.split(".")[0][:60] in docs.joined
    assert f"marketing.segment_members: customer {C_SCARLET_MIGRATED}" in docs.joined
    assert "Failed" in docs.joined or "Unsuccessful" in docs.joined


def test_the_data_docs_load_nothing_from_outside_and_list_validations_without_scripts(runs):
    folder = runs["data_docs"].parent
    files = [*folder.rglob("*.html"), *folder.rglob("*.css")]
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8")
        remote = re.findall(r"(?:src=|<link[^>]*href=|url\()['\"]?(https?://[^'\")\s]+)", text)
        assert remote == [], (path, remote[:3])  # no CDN, no GE beacon (data context id)
    index = read_page(runs["data_docs"])
    listed = [link for link in index.links if link.startswith("validations/")]
    assert len(listed) == 2 * len(SUITES)  # the passing and the failing run
    assert all((folder / link).exists() for link in listed)
    assert "run-failing" in listed[0]  # newest first


def test_gate_results_keep_the_history_of_passing_and_failing_runs(runs):
    con = duckdb.connect(str(runs["warehouse"] / "warehouse.duckdb"), read_only=True)
    try:
        rows = con.execute(
            "select run_id, bool_and(success), count(*), count(distinct suite), "
            "min(run_date), min(run_at) is not null "
            "from dpo.gate_results group by run_id order by run_id"
        ).fetchall()
        failed = con.execute(
            "select suite, expectation, observed from dpo.gate_results where not success"
        ).fetchall()
    finally:
        con.close()
    total = len(every_expectation())
    import datetime as dt

    run_date = dt.date.fromisoformat(RUN_DATE)
    assert rows == [
        ("run-failing", False, total, len(SUITES), run_date, True),
        ("run-passing", True, total, len(SUITES), run_date, True),
    ]
    assert [(s, e) for s, e, _ in failed] == [
        ("marketing", "no_direct_marketing_objection_in_marketing")
    ]
    assert re.match(r"1 of \d+ rows, e\.g\. ", failed[0][2])


def test_a_run_that_stopped_before_its_gates_still_gets_its_reports(tmp_path):
    ctx = context_for(tmp_path / "landing", tmp_path / "warehouse", run_id="run-stopped")
    ctx.run_dir.mkdir(parents=True)
    with pytest.raises(RuntimeError), recording_failure(ctx, "dbt_build"):
        raise RuntimeError("model failed")
    paths = write_run_reports(ctx)
    page = read_page(Path(paths["run_report"]))
    assert "NOT PUBLISHED: stage dbt_build failed" in page.joined
    assert "model failed" in page.joined
    for suite in SUITES:
        assert f"{suite}: | did not run" in page.joined
    assert Path(paths["data_docs"]).exists()


def gate_results_of(warehouse: Path, run_id: str) -> dict[str, tuple[bool, str]]:
    con = duckdb.connect(str(warehouse / "warehouse.duckdb"), read_only=True)
    try:
        rows = con.execute(
            "select expectation, success, observed from dpo.gate_results where run_id = ?",
            [run_id],
        ).fetchall()
    finally:
        con.close()
    return {name: (success, observed) for name, success, observed in rows}


def row_naming(seen: SeenPage, name: str) -> list[str]:
    rows = [row for row in seen.rows if any(re.match(rf"{name}\b", cell) for cell in row)]
    assert len(rows) >= 1, f"no visible row for {name}"
    return rows[0]


def test_a_person_sees_in_the_run_report_the_outcome_and_every_promise_with_what_it_saw(runs):
    seen = open_in_chromium(runs["failing_path"])
    assert seen.styled
    assert "NOT PUBLISHED: privacy gate failed (marketing)" in seen.text
    results = gate_results_of(runs["warehouse"], "run-failing")
    for suite in SUITES:
        for promise in load_suite(suite).promises:
            success, observed = results[promise.name]
            row = row_naming(seen, promise.name)
            assert promise.description in row, row
            assert ("passed" if success else "FAILED") in row, row
            assert " ".join(observed.split()) in row, row
    failed = row_naming(seen, "no_direct_marketing_objection_in_marketing")
    assert re.match(
        r"1 of \d+ rows, e\.g\. "
        rf"marketing\.segment_members: customer {C_SCARLET_MIGRATED}",
        failed[-1],
    )


def test_a_person_sees_on_a_validation_page_the_tables_the_outcome_and_each_promise(runs):
    page = runs["failing_path"].parent / next(
        link for link in runs["failing"].links if "/marketing/" in link
    )
    seen = open_in_chromium(page)
    assert seen.styled  # the packaged stylesheet, not a CDN
    assert "Data asset: marketing gate on the candidate tables marketing." in seen.text
    assert "Status: Failed" in seen.text
    assert "None" not in seen.text and "NaN" not in seen.text
    results = gate_results_of(runs["warehouse"], "run-failing")
    for promise in load_suite("marketing").promises:
        success, _ = results[promise.name]
        status, words, observed = row_naming(seen, promise.name)[:3]
        assert status.endswith("Passed" if success else "Failed")
        assert promise.description in words
        # The relational expectation counts rows; a built-in one, unexpected values.
        assert re.fullmatch(
            r"\d[\d,]* (of [\d,]+ rows?|violations?)|\d+(\.\d+)?% unexpected", observed
        )
    status, words, observed = row_naming(seen, "no_direct_marketing_objection_in_marketing")[:3]
    assert status.endswith("Failed") and re.fullmatch(r"1 of \d+ rows", observed)
    assert f"marketing.segment_members: customer {C_SCARLET_MIGRATED}" in words
