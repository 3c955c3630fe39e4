"""The one-page HTML run report: no external asset, no script, charts as inline SVG."""

from __future__ import annotations

import datetime as dt
import os
from html import escape
from pathlib import Path
from typing import Any

from privacy_pipeline.reports.facts import RunFacts, Series, Table
from privacy_pipeline.run_context import RunContext

COLOURS = ("#1f5fa8", "#c2410c", "#15803d", "#7c3aed")
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 62rem; color: #1a1a1a; }
h1 { font-size: 1.5rem; }
h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: .5rem 0; font-size: .9rem; }
th, td { border: 1px solid #ddd; padding: .25rem .5rem; text-align: left; vertical-align: top; }
td { overflow-wrap: anywhere; }  /* long expectation names wrap instead of hiding a column */
th { background: #f3f3f3; } td.num { text-align: right; }
.outcome { padding: .6rem 1rem; font-weight: bold; border-radius: 4px; }
.pass { background: #dcfce7; color: #14532d; } .fail { background: #fee2e2; color: #7f1d1d; }
.status-pass { color: #15803d; font-weight: bold; }
.status-fail { color: #b91c1c; font-weight: bold; }
.muted { color: #666; }
"""


def render_run_report(ctx: RunContext, facts: RunFacts, data_docs_index: Path) -> str:
    report_dir = ctx.reports_dir / "runs"
    parts = [
        header(ctx, facts, link(report_dir, data_docs_index)),
        gates_section(facts, report_dir, data_docs_index.parent),
        stage_failures(facts),
        "<h2>Consent</h2>",
        "<p>Each customer's latest choice per purpose at the end of the run date, from the "
        "durable consent ledger (every privacy event ever received), by the platform it was "
        "recorded on.</p>",
        html_table(facts.consent_by_purpose_platform),
        "<p>Choices recorded during the run date:</p>",
        html_table(facts.consent_events_of_the_day),
        trends_section(facts.trends),
        "<h2>Consent ledger</h2>",
        "<p>Tonight's delivery merged into the durable consent ledger "
        "(<code>restricted/consent_ledger.duckdb</code>). Events a delivery lacks stay in "
        "force.</p>",
        html_table(facts.consent_ledger),
        "<p>Ledger events this delivery lacks, by purpose:</p>",
        html_table(facts.ledger_omissions),
        "<p>Unresolved conflicts: the same event_id delivered with different content. No "
        "version is trusted (readable refusals are honoured) until the DPO resolves it.</p>",
        html_table(facts.ledger_conflicts),
        "<h2>Objections reaching published dates</h2>",
        "<p>Rows removed tonight from the marketing tables (and their export files) of "
        "every published run date, for customers who object or lost a consent:</p>",
        html_table(facts.withdrawals),
        "<h2>Data-subject requests</h2>",
        "<p>Requests received tonight (access, erasure). Every request is honoured whatever "
        "address it reached: <em>forwarded</em> means it reached another address than the one "
        "that applied to the customer at that time (privacy@scarlet.be before migration, "
        "privacy@proximus.com or another Proximus channel after); <em>unmatched</em> means it "
        "names no customer of the CRM delivery: it is kept in the register of the restricted "
        "store for the DPO to resolve, never dropped.</p>",
        html_table(facts.requests),
        "<p>Erasures applied tonight (the receipt lists the rows removed per store and table):</p>",
        html_table(facts.erasures),
        "<h2>Rejected privacy events</h2>",
        "<p>Consent events that could not be applied, by reason (they are not lost: "
        "each one is in <code>dpo.rejected_privacy_events</code> of the restricted store "
        "<code>restricted/dpo.duckdb</code>).</p>",
        html_table(facts.rejected_privacy_events),
        "<h2>Quarantine</h2>",
        "<p>Landing rows rejected by the contract checks, by table and reason "
        "(<code>dpo.quarantine_summary</code>; the rows are in <code>dpo.quarantined_rows</code> "
        "of the restricted store, identifiers pseudonymised, event rows by file and row "
        "number only).</p>",
        html_table(facts.quarantine),
        "<p>Every row read is accepted or quarantined:</p>",
        html_table(facts.reconciliation),
        "<h2>Location suppression summary</h2>",
        "<p>Location figures withheld because fewer than k people are behind them "
        "(primary), because they would let someone subtract a small group "
        "(complementary), or because they changed too little since an earlier release of "
        "the date; per table (presence, events, visitors, visitor origins, "
        "origin-destination flows) and level.</p>",
        html_table(facts.suppression_summary),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Privacy pipeline run {ctx.run_date}</title><style>{STYLE}</style></head>"
        f"<body>{''.join(parts)}</body></html>\n"
    )


def link(from_dir: Path, target: Path) -> str:
    return Path(os.path.relpath(target, from_dir)).as_posix()


def header(ctx: RunContext, facts: RunFacts, data_docs_href: str) -> str:
    css = "pass" if facts.published else "fail"
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"<h1>Privacy pipeline run of {ctx.run_date}</h1>"
        f'<p class="outcome {css}">{escape(facts.outcome)}</p>'
        f'<p class="muted">run {escape(ctx.run_id)} &middot; k = {ctx.k} &middot; '
        f"report written {generated} &middot; "
        f'<a href="{escape(data_docs_href)}">Great Expectations Data Docs (all runs)</a></p>'
        f"{broken_promises(facts)}"
    )


def broken_promises(facts: RunFacts) -> str:
    """For a failed run, the failed expectations first: what the DPO must look at."""
    failed = [
        (suite, e)
        for suite, result in facts.gate_results.items()
        for e in result["expectations"]
        if not e["success"]
    ]
    if not failed:
        return ""
    items = "".join(
        f"<li><code>{escape(suite)}.{escape(e['expectation'])}</code>: {escape(e['observed'])}</li>"
        for suite, e in failed
    )
    return f"<p><strong>Broken promises</strong></p><ul>{items}</ul>"


def gates_section(facts: RunFacts, report_dir: Path, data_docs_dir: Path) -> str:
    from privacy_pipeline.gates.suites import SUITES

    parts = ["<h2>Privacy gates</h2>"]
    for suite in SUITES:
        result = facts.gate_results.get(suite)
        if result is None:
            parts.append(f'<h3>{escape(suite)}: <span class="status-fail">did not run</span></h3>')
            continue
        parts.append(suite_block(result, report_dir, data_docs_dir))
    return "".join(parts)


def suite_block(result: dict[str, Any], report_dir: Path, data_docs_dir: Path) -> str:
    status = status_html(result["success"])
    page = result.get("data_docs_page")
    docs = (
        f' &middot; <a href="{escape(link(report_dir, data_docs_dir / page))}">'
        "validation in Data Docs</a>"
        if page
        else ""
    )
    rows = "".join(
        f"<tr><td><code>{escape(e['expectation'])}</code></td>"
        f"<td>{escape(e['description'])}</td><td>{status_html(e['success'])}</td>"
        f"<td>{escape(e['observed'])}</td></tr>"
        for e in result["expectations"]
    )
    return (
        f"<h3>{escape(result['suite'])}: {status}{docs}</h3>"
        "<table><tr><th>expectation</th><th>promise</th><th>status</th><th>observed</th></tr>"
        f"{rows}</table>"
    )


def status_html(success: bool) -> str:
    return (
        '<span class="status-pass">passed</span>'
        if success
        else '<span class="status-fail">FAILED</span>'
    )


def stage_failures(facts: RunFacts) -> str:
    if not facts.failures:
        return ""
    rows = "".join(
        f"<tr><td>{escape(f['stage'])}</td><td>{f['exit_code']}</td>"
        f"<td><pre>{escape(f['message'])}</pre></td></tr>"
        for f in facts.failures
    )
    return (
        "<h2>Failed stages</h2><table><tr><th>stage</th><th>exit code</th><th>message</th></tr>"
        f"{rows}</table>"
    )


def html_table(table: Table) -> str:
    if table.missing:
        return f'<p class="muted">{escape(table.missing)}</p>'
    if not table.rows:
        return '<p class="muted">none</p>'
    head = "".join(f"<th>{escape(str(c))}</th>" for c in table.columns)
    body = "".join("<tr>" + "".join(cell(value) for value in row) + "</tr>" for row in table.rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def cell(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f'<td class="num">{value:,}</td>'
    return f"<td>{escape('' if value is None else str(value))}</td>"


def trends_section(trends: dict[str, list[Series]]) -> str:
    parts = ["<h2>Trends</h2>"]
    for title, series in trends.items():
        parts.append(f"<h3>{escape(title)}</h3>")
        parts.append(line_chart(series) if series else '<p class="muted">no history yet</p>')
    return "".join(parts)


def line_chart(series: list[Series], width: int = 640, height: int = 200) -> str:
    """A small line chart of daily values, one line per series, with a legend."""
    days = sorted({day for s in series for day, _ in s.points})
    top = max([value for s in series for _, value in s.points] + [1])
    left, right, upper, lower = 60, 10, 10, 30
    plot_w, plot_h = width - left - right, height - upper - lower

    def x(day: dt.date) -> float:
        span = max((days[-1] - days[0]).days, 1)
        return left + plot_w * (day - days[0]).days / span

    def y(value: float) -> float:
        return upper + plot_h * (1 - value / top)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" viewBox="0 0 {width} {height}">',
        f'<line x1="{left}" y1="{upper + plot_h}" x2="{width - right}" y2="{upper + plot_h}" '
        'stroke="#999"/>',
        f'<line x1="{left}" y1="{upper}" x2="{left}" y2="{upper + plot_h}" stroke="#999"/>',
        f'<text x="{left - 5}" y="{upper + 10}" text-anchor="end" font-size="11">{top:,.0f}</text>',
        f'<text x="{left - 5}" y="{upper + plot_h}" text-anchor="end" font-size="11">0</text>',
        f'<text x="{left}" y="{height - 12}" font-size="11">{days[0]}</text>',
        f'<text x="{width - right}" y="{height - 12}" text-anchor="end" font-size="11">'
        f"{days[-1]}</text>",
    ]
    for index, s in enumerate(series):
        colour = COLOURS[index % len(COLOURS)]
        points = " ".join(f"{x(day):.1f},{y(value):.1f}" for day, value in s.points)
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}">'
            f"<title>{escape(s.name)}</title></polyline>"
        )
        for day, value in s.points[-1:]:
            parts.append(
                f'<circle cx="{x(day):.1f}" cy="{y(value):.1f}" r="3" fill="{colour}">'
                f"<title>{escape(s.name)} {day}: {value:,.0f}</title></circle>"
            )
    parts.append("</svg>")
    legend = " ".join(
        f'<span style="color:{COLOURS[i % len(COLOURS)]}">&#9632;</span> {escape(s.name)} '
        f"(last: {s.points[-1][1]:,.0f})"
        for i, s in enumerate(series)
    )
    return f"<figure>{''.join(parts)}<figcaption>{legend}</figcaption></figure>"
