"""Great Expectations: the findings of a suite become one validation, kept for Data Docs.

GE's SQL datasource errors on DuckDB in the pinned versions, so the gates hand GE a
pandas DataFrame: one column per promise, one row per example violation (at most
``MAX_EXAMPLES`` each, then one row saying how many more). Each promise is an
``expect_column_values_to_be_null`` on its own rows, named and described for the DPO.
The validation results live under ``<warehouse>/reports/gx`` and the Data Docs site
under ``<warehouse>/reports/validation``.
"""

from __future__ import annotations

import contextlib
import fcntl
import html
import logging
import os
import re
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from privacy_pipeline.gates.promises import Finding
from privacy_pipeline.run_context import RunContext

MAX_EXAMPLES = 50
DATA_DOCS_SITE = "dpo"

# GE reports usage to its servers unless told not to; the pipeline has no network anyway.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

# Data Docs pages load Bootstrap, jQuery, Vega and fonts from public CDNs, and GE's logo
# from its servers with the data context id in the address: opened by the DPO, a page
# would tell third parties when a privacy report is read. The pages are rewritten to
# reference no remote resource; they stay readable (plain HTML, GE's local stylesheet).
REMOTE_HTML_RESOURCE = re.compile(
    r"<script\b[^>]*\bsrc=[\"']https?://[^>]*>\s*</script>"
    r"|<link\b[^>]*\bhref=[\"']https?://[^>]*>"
    r"|<img\b[^>]*\bsrc=[\"']https?://[^>]*>",
    re.IGNORECASE,
)
REMOTE_CSS_RESOURCE = re.compile(r"url\(\s*['\"]?https?://[^)]*\)", re.IGNORECASE)


@dataclass(frozen=True)
class ValidationOutcome:
    success_by_promise: dict[str, bool]
    data_docs_page: str | None  # relative to the Data Docs folder


def validation_dir(ctx: RunContext) -> Path:
    return ctx.reports_dir / "validation"


def store_dir(ctx: RunContext) -> Path:
    return ctx.reports_dir / "gx"


def findings_frame(findings: list[Finding]) -> pd.DataFrame:
    """What DuckDB found, one row per promise (rows read, rows breaking it, first examples),
    and one column of distinct values per built-in expectation, padded with nulls."""
    from privacy_pipeline.gates import ge_expectations as ge

    columns: dict[str, list] = {
        ge.PROMISE: [finding.promise.name for finding in findings],
        ge.ROWS_CHECKED: [finding.rows_checked for finding in findings],
        ge.CHECKED_UNIT: [finding.checked_unit for finding in findings],
        ge.ROWS_BREAKING: [finding.violations for finding in findings],
        ge.EXAMPLES: [example_rows(finding) for finding in findings],
        ge.CANNOT_CHECK: [finding.cannot_check for finding in findings],
    }
    for finding in findings:
        if values_shown(finding):
            columns[values_column(finding)] = list(finding.values)
    length = max((len(values) for values in columns.values()), default=0)
    return pd.DataFrame(
        {
            name: pd.Series(values + [None] * (length - len(values)), dtype=column_type(values))
            for name, values in columns.items()
        }
    )


def column_type(values: list) -> str:
    numbers = values and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in values if v is not None
    )
    return "float64" if numbers else "object"


def built_in_shown(finding: Finding) -> bool:
    """Data Docs show the promise with a built-in expectation when it has values or
    tables' columns to check."""
    return values_shown(finding) or bool(finding.column_sets)


def values_shown(finding: Finding) -> bool:
    return finding.built_in is not None and bool(finding.values)


def values_column(finding: Finding) -> str:
    # The promise's name keeps two built-ins over the same kind of values apart.
    return f"{finding.built_in.column} [{finding.promise.name}]"


def example_rows(finding: Finding) -> list[str]:
    if finding.cannot_check:
        return [f"cannot be checked: {finding.cannot_check}"]
    rows = list(finding.examples[:MAX_EXAMPLES])
    if finding.violations > len(rows):
        rows.append(f"... and {finding.violations - len(rows):,} more violations")
    return rows


@contextlib.contextmanager
def quiet_great_expectations() -> Iterator[None]:
    """GE logs every metric and warns about its own internals: keep the task log readable."""
    loggers = [logging.getLogger(name) for name in ("great_expectations", "py.warnings")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


@contextlib.contextmanager
def exclusive(lock_path: Path) -> Iterator[None]:
    """One GE validation at a time per warehouse: gate tasks may run in parallel."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def data_context(ctx: RunContext):
    """A GE context whose stores and Data Docs site are folders of the warehouse."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        FilesystemStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=FilesystemStoreBackendDefaults(root_directory=str(store_dir(ctx))),
        data_docs_sites={
            DATA_DOCS_SITE: {
                "class_name": "SiteBuilder",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(validation_dir(ctx)),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }
        },
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
    )
    return gx.get_context(project_config=config)


def expectation_suite(suite_name: str, description: str, findings: list[Finding]):
    """One expectation per promise, in the DPO's words: the built-in one where it says the
    promise by itself, else the relational ExpectNoRowToBreakThePromise; a promise whose
    query found what its built-in cannot see (a null score) gets both, so the page never
    shows a broken promise as kept."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    from privacy_pipeline.gates.ge_expectations import ExpectNoRowToBreakThePromise

    suite = gx.ExpectationSuite(name=suite_name, meta={"notes": description})
    for finding in findings:
        promise = finding.promise
        meta = {"promise": promise.name, "checked": finding.scope}
        words = f"{promise.name}: {promise.description}"
        if values_shown(finding):
            built_in = finding.built_in
            expectation = getattr(gxe, built_in.expectation)
            suite.add_expectation(
                expectation(
                    column=values_column(finding),
                    **dict(built_in.kwargs),
                    description=f"{words} ({built_in_wording(finding)})",
                    meta=meta,
                )
            )
        if not built_in_shown(finding) or not finding.success:
            suite.add_expectation(
                ExpectNoRowToBreakThePromise(
                    promise=promise.name,
                    statement=promise.description,
                    scope=finding.scope,
                    description=f"{words} Checked: {finding.scope}." if finding.scope else words,
                    meta=meta,
                )
            )
    return suite


def built_in_wording(finding: Finding) -> str:
    """What the built-in expectation checks, said plainly (GE shows the description)."""
    built_in = finding.built_in
    kwargs = dict(built_in.kwargs)
    values = f"{len(finding.values):,} distinct {built_in.column}"
    if built_in.expectation == "ExpectColumnValuesToBeBetween":
        return f"{values}, each between {kwargs['min_value']} and {kwargs['max_value']}"
    if built_in.expectation == "ExpectColumnMinToBeBetween":
        return f"{values}, the smallest at least {kwargs['min_value']}"
    if built_in.expectation == "ExpectColumnValuesToBeInSet":
        return f"{values}, each one of {', '.join(map(str, kwargs['value_set']))}"
    if built_in.expectation == "ExpectColumnValuesToNotBeInSet":
        return f"{values}, none of {', '.join(map(str, kwargs['value_set']))}"
    if built_in.expectation == "ExpectColumnValuesToNotMatchRegex":
        return f"{values}, none matching the pattern {kwargs['regex']}"
    return f"{values}, checked by {built_in.expectation}"


def run_name(ctx: RunContext) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{ctx.run_date.isoformat()}__{ctx.run_id}")


def validate_findings(
    ctx: RunContext, suite_name: str, description: str, findings: list[Finding]
) -> ValidationOutcome:
    """Validate the findings with GE, store the result and update the Data Docs."""
    with exclusive(ctx.reports_dir / ".gx.lock"), quiet_great_expectations():
        return _validate(ctx, suite_name, description, findings)


def _validate(
    ctx: RunContext, suite_name: str, description: str, findings: list[Finding]
) -> ValidationOutcome:
    import great_expectations as gx

    context = data_context(ctx)
    datasource = context.data_sources.add_or_update_pandas("privacy_gates")
    batch = datasource.add_dataframe_asset(suite_name).add_batch_definition_whole_dataframe(
        "candidate_findings"
    )
    suite = context.suites.add_or_update(expectation_suite(suite_name, description, findings))
    validation = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=suite_name, data=batch, suite=suite)
    )
    # Data Docs are built below, once the page can name the tables (not by an action).
    checkpoint = context.checkpoints.add_or_update(
        gx.Checkpoint(
            name=suite_name,
            validation_definitions=[validation],
            actions=[],
            result_format={
                "result_format": "SUMMARY",
                "partial_unexpected_count": MAX_EXAMPLES + 1,
            },
        )
    )
    started = time.time()
    result = checkpoint.run(
        batch_parameters={"dataframe": findings_frame(findings)},
        run_id=gx.RunIdentifier(run_name=run_name(ctx)),
    )
    success_by_promise: dict[str, bool] = {}
    page = None
    identifiers = []
    table_columns = column_set_results(datasource, findings)
    for identifier, validation_result in result.run_results.items():
        page = "validations/" + "/".join(identifier.to_tuple()) + ".html"
        name_the_data_asset(validation_result, suite_name, findings)
        with_results(validation_result, table_columns)
        context.validation_results_store.set(identifier, validation_result)
        identifiers.append(identifier)
        for expectation in validation_result.results:
            name = expectation.expectation_config.meta["promise"]
            # A promise shown by two expectations holds only if both pass.
            success_by_promise[name] = success_by_promise.get(name, True) and bool(
                expectation.success
            )
    context.build_data_docs(site_names=[DATA_DOCS_SITE], resource_identifiers=identifiers)
    keep_data_docs_offline(validation_dir(ctx), changed_since=started)
    return ValidationOutcome(success_by_promise, page)


TABLE_COLUMNS_ASSET = "published_table_columns"


def column_set_results(datasource, findings: list[Finding]) -> list:
    """GE's ExpectTableColumnsToMatchSet on each published table of a promise's column
    sets: its batch is a DataFrame of that table's columns and no row (a table's columns
    are its batch's columns, so each table is a batch of its own; no value is read)."""
    import great_expectations.expectations as gxe

    column_sets = [(finding, each) for finding in findings for each in finding.column_sets]
    if not column_sets:
        return []
    batch_definition = datasource.add_dataframe_asset(
        TABLE_COLUMNS_ASSET
    ).add_batch_definition_whole_dataframe("one_published_table")
    results = []
    for finding, column_set in column_sets:
        batch = batch_definition.get_batch(
            batch_parameters={"dataframe": pd.DataFrame(columns=list(column_set.columns))}
        )
        expectation = gxe.ExpectTableColumnsToMatchSet(
            column_set=list(column_set.declared),
            exact_match=True,
            description=(
                f"{finding.promise.name}: {column_set.table} has exactly its declared "
                f"columns: {', '.join(column_set.declared)}."
            ),
            meta={"promise": finding.promise.name, "checked": column_set.table},
        )
        results.append(batch.validate(expectation, result_format="SUMMARY"))
    return results


def with_results(validation_result, results: list) -> None:
    """Add expectation results of other batches (the published tables' columns) to the
    suite's validation, so its one page shows every promise; its statistics and outcome
    count them."""
    from great_expectations.validator.validator import calc_validation_statistics

    if not results:
        return
    validation_result.results.extend(results)
    statistics = calc_validation_statistics(validation_result.results)
    validation_result.success = statistics.success
    validation_result.statistics.update(
        {
            "evaluated_expectations": statistics.evaluated_expectations,
            "successful_expectations": statistics.successful_expectations,
            "unsuccessful_expectations": statistics.unsuccessful_expectations,
            "success_percent": statistics.success_percent,
        }
    )


def name_the_data_asset(validation_result, suite_name: str, findings: list[Finding]) -> None:
    """GE's page header reads the asset's name from the batch spec, which a pandas
    DataFrame batch lacks ("Data asset: None"): name the tables the promises read."""
    tables = sorted({table for finding in findings for table in finding.tables})
    shown = ", ".join(tables) if tables else "no candidate table could be read"
    spec = dict(validation_result.meta.get("batch_spec") or {})
    spec["data_asset_name"] = f"{suite_name} gate on the candidate tables {shown}"
    validation_result.meta["batch_spec"] = spec


def build_data_docs(ctx: RunContext) -> Path:
    """(Re)build the Data Docs index, e.g. for a run whose gates never ran."""
    with exclusive(ctx.reports_dir / ".gx.lock"), quiet_great_expectations():
        data_context(ctx).build_data_docs(site_names=[DATA_DOCS_SITE])
        keep_data_docs_offline(validation_dir(ctx))
    return validation_dir(ctx) / "index.html"


def keep_data_docs_offline(folder: Path, changed_since: float = 0.0) -> int:
    """Remove every remote script, stylesheet, image and CSS url() from the Data Docs
    pages and styles of ``folder`` (those written since ``changed_since``, a time.time():
    years of nightly pages need not be read again), link the packaged local stylesheet and
    script instead, write each expectation's status as a word, and give the index a list
    of the validations that needs no script; returns the number of files rewritten."""
    copy_local_assets(folder)
    rewritten = 0
    for path in [*folder.rglob("*.html"), *folder.rglob("*.css")]:
        if path.stat().st_mtime < changed_since - 1:  # 1 s: coarse file-system clocks
            continue
        text = path.read_text(encoding="utf-8")
        offline = REMOTE_CSS_RESOURCE.sub("none", REMOTE_HTML_RESOURCE.sub("", text))
        if path.suffix == ".html":
            offline = with_local_assets(offline, path, folder)
            offline = with_status_words(offline)
        if path == folder / "index.html":
            offline = with_validation_list(offline, folder)
        if offline != text:
            path.write_text(offline, encoding="utf-8")
            rewritten += 1
    return rewritten


# The packaged stylesheet and script (plugins/privacy_pipeline/reports/static), copied
# next to the pages: Data Docs opened without internet are laid out and their filters work.
LOCAL_ASSETS = ("data_docs.css", "data_docs.js")
LOCAL_ASSETS_DIR = "static/privacy_pipeline"
LOCAL_ASSETS_MARK = "<!-- privacy-pipeline local assets -->"


def copy_local_assets(folder: Path) -> None:
    from importlib.resources import files

    target = folder / LOCAL_ASSETS_DIR
    target.mkdir(parents=True, exist_ok=True)
    for name in LOCAL_ASSETS:
        packaged = files("privacy_pipeline.reports").joinpath("static", name).read_bytes()
        if not (target / name).exists() or (target / name).read_bytes() != packaged:
            (target / name).write_bytes(packaged)


def with_local_assets(page: str, path: Path, folder: Path) -> str:
    if LOCAL_ASSETS_MARK in page or "</head>" not in page:
        return page
    base = Path(os.path.relpath(folder / LOCAL_ASSETS_DIR, path.parent)).as_posix()
    tags = (
        f'{LOCAL_ASSETS_MARK}<link rel="stylesheet" href="{base}/data_docs.css">'
        f'<script src="{base}/data_docs.js"></script>\n'
    )
    return page.replace("</head>", tags + "</head>", 1)


# GE shows each expectation's outcome as an icon only (Font Awesome, from a CDN).
STATUS_ICONS = {
    '<i class="fas fa-check-circle text-success" ></i>': "Passed",
    '<i class="fas fa-times text-danger" ></i>': "Failed",
}


def with_status_words(page: str) -> str:
    for icon, word in STATUS_ICONS.items():
        page = page.replace(
            icon,
            icon.replace(" ></i>", ' aria-hidden="true"></i>')
            + f' <span class="privacy-status {word.lower()}">{word}</span>',
        )
    return page


OFFLINE_LIST_ID = "privacy-pipeline-validations"


def with_validation_list(index: str, folder: Path) -> str:
    """The index page with a plain table of every validation page, newest first (GE
    fills its own table with a script from a CDN, so offline it would stay empty)."""
    index = re.sub(
        rf'\n<section id="{OFFLINE_LIST_ID}">.*?</section>\n', "", index, flags=re.DOTALL
    )
    pages = sorted(
        folder.glob("validations/*/*/*/*.html"),
        key=lambda page: page.parts[-2],  # validation time (UTC, sortable)
        reverse=True,
    )
    rows = "".join(
        f"<tr><td>{html.escape(page.parts[-3])}</td><td>{html.escape(page.parts[-4])}</td>"
        f'<td><a href="{html.escape(page.relative_to(folder).as_posix())}">'
        f"{html.escape(page.parts[-2])}</a></td></tr>"
        for page in pages
    )
    section = (
        f'<section id="{OFFLINE_LIST_ID}"><h2>Validations, newest first</h2>'
        "<table><tr><th>run (date__run id)</th><th>suite</th><th>validated at</th></tr>"
        f"{rows}</table></section>\n"
    )
    return re.sub(r"(<body[^>]*>)", lambda match: match.group(1) + "\n" + section, index, count=1)
