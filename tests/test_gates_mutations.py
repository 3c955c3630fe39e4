"""Mutation tests: the gates catch deliberate model bugs that the models' own tests miss.

Each bug is a small textual patch applied to a COPY of the dbt project (the pipeline runs
it through ``DBT_PROJECT_DIR``). The copy has no dbt tests, so nothing but the privacy
gates stands between the bug and publication: the run must exit 1, the failed gate must
name the promise the bug breaks, and the previous publication must stay as it was.

One landing zone serves every bug and is built so each one changes the output: at 10:00
on the run date, 40 people in postal code 2000 and 29 (k - 1) in 2018 (so the municipality
and province, 69, are published and postal code 2000 is withheld by complementary
suppression), plus an objector, an unmigrated Scarlet account and a closed account at
the same cell, and a customer who asked for erasure (and objected to direct marketing)
there too; a customer who objected to direct marketing before the run date and
withdrew after it; a customer with a usage consent whose printer was seen before it;
and the baseline's sensitive site visit by a customer with browsing
consent. The first publication and the bugs run the DAG's stages without Airflow, one
after the other in one process started once for the module, to keep the CPU cost of the
module low (see docs/gates.md): each bug builds only the models it patches and their
descendants on a copy of the good run's candidate, and runs the gate that must catch it.
A bug through ``privacy-pipeline run`` and Airflow, its exit code, failure view and
unchanged publication, is tests/test_operations.py's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

import pytest
import yaml

from tests.support.landing import (
    C_CLOSED,
    C_PROXIMUS,
    C_SCARLET_LEGACY,
    CELL_A1,
    CELL_B1,
    CONTEST_GAMING,
    MSISDNS,
    Q_GAMING_YES_NO,
    RUN_DATE,
    SITE_GAMING,
    SITE_MUSIC,
    SITE_SEXUAL,
    SITE_SPORT,
    consent_event,
    customer,
    make_customers,
    network_events_for,
    ts,
    write_landing_zone,
)
from tests.support.pipeline import request_reply
from tests.test_gates_candidates import published_state

REPO = Path(__file__).resolve().parents[1]
AFTER_RUN_DATE = "2026-06-25T10:00:00+02:00"
JANUARY, JUNE = "2026-01-05T10:00:00+01:00", "2026-06-01T10:00:00+02:00"

LOCATION_ALLOWED = "where purpose = 'location_analytics' and is_allowed"


def counts(reason: str) -> str:
    return f"where purpose = 'location_analytics' and (is_allowed or reason in ({reason}))"


SIGHTINGS = "models/intermediate/location/int_location__sightings.sql"
MARKETABLE = "models/intermediate/marketing/int_marketing__marketable_customers.sql"
BROWSING = "models/intermediate/marketing/int_marketing__browsing_signals.sql"
RELEASE = "models/intermediate/location/int_location__release.py"
VISIT_MEMBERS = "models/intermediate/location/int_location__visit_members.sql"
FIGURE_MEMBERS = "models/intermediate/location/int_location__figure_members.sql"
PRESENCE = "models/marts/location/presence_hourly.sql"

# name: (patches [(file, old, new)], suite, expectation)
MUTATIONS = {
    "location counts objectors": (
        [(SIGHTINGS, LOCATION_ALLOWED, counts("'opted_out', 'opted_out_after_run_date'"))],
        "location",
        "counts_are_the_people_who_may_be_counted",
    ),
    "location counts unmigrated Scarlet accounts": (
        [(SIGHTINGS, LOCATION_ALLOWED, counts("'not_migrated'"))],
        "location",
        "counts_are_the_people_who_may_be_counted",
    ),
    "location counts closed accounts": (
        [(SIGHTINGS, LOCATION_ALLOWED, counts("'account_closed'"))],
        "location",
        "counts_are_the_people_who_may_be_counted",
    ),
    "visitors never finds a resident": (
        [
            (
                VISIT_MEMBERS,
                "when area_code = home_area_code then {{ location_label_code(",
                "when false then {{ location_label_code(",
            )
        ],
        "location",
        "counts_are_the_people_who_may_be_counted",
    ),
    # The figure codes: a postal code's people filed under the next hour's figure.
    "a presence figure is coded with the wrong hour": (
        [
            (
                FIGURE_MEMBERS,
                "location_figure_code('presence_hourly', 'postal_code', '0', 'hour_index + 1')",
                "location_figure_code('presence_hourly', 'postal_code', '0', 'hour_index + 2')",
            )
        ],
        "location",
        "counts_are_the_people_who_may_be_counted",
    ),
    "marketing uses a consent recorded after the run date": (
        [
            (
                "models/intermediate/consent/int_consent__effective.sql",
                "coalesce(history.recorded_at < run_day.ends_at, false) as "
                "is_known_at_end_of_run_date",
                "true as is_known_at_end_of_run_date",
            )
        ],
        "marketing",
        "no_direct_marketing_objection_in_marketing",
    ),
    "the sensitive-category filter is removed": (
        [
            (
                BROWSING,
                "case when is_sensitive or {{ is_sensitive_term('category') }} then 1 else 0 end",
                "0",
            ),
            (
                # the marketing layer's whole interest filter: allow-list and sensitive terms
                "models/intermediate/marketing/int_marketing__signals.sql",
                "signals.interest in ({{ allowed_interest_list() }})\n"
                "        and not {{ is_sensitive_term('signals.interest') }}",
                "true",
            ),
        ],
        "marketing",
        "no_sensitive_category_in_marketing",
    ),
    # A site sensitive in one spelling is sensitive in all: judged row by row, the sexual
    # site's other spelling, filed under music, gives its visitor a music profile.
    "a site sensitive in one spelling is read under another spelling's category": (
        [
            (
                BROWSING,
                "where withheld_sites.site_key is null",
                "where catalogue_rows.row_is_sensitive = 0",
            )
        ],
        "marketing",
        "browsing_evidence_only_with_browsing_consent",
    ),
    # m.adult.example is adult.example's: the catalogue filing it under music gives its
    # visitor a music profile when only equal keys share sensitivity (attack, session 13).
    "a domain below a sensitive site is read under its own category": (
        [
            (
                BROWSING,
                "or {{ is_below_domain('catalogue_rows.site_key', 'withheld_sites.site_key') }}",
                "",
            )
        ],
        "marketing",
        "browsing_evidence_only_with_browsing_consent",
    ),
    # Quarantined traffic is not evidence (attack, session 14: the gate read the landing
    # traffic without staging's checks, so a model reading the quarantine published).
    "browsing signals read quarantined traffic": (
        [
            (
                BROWSING,
                "from {{ ref('stg_network__traffic_events') }} as traffic",
                "from {{ ref('base_network__traffic_events') }} as traffic",
            )
        ],
        "marketing",
        "browsing_evidence_only_with_browsing_consent",
    ),
    # "Avec votre consentement préalable": traffic from before the consent never counts.
    "browsing signals from before the consent are used": (
        [
            (
                BROWSING,
                "browsing_customers.signals_since is null\n"
                "            or traffic.observed_at >= browsing_customers.signals_since",
                "true",
            )
        ],
        "marketing",
        "browsing_evidence_only_with_browsing_consent",
    ),
    # The same when one visit during the consent hides the earlier ones (attack, session
    # 13: the check above only asked for one signal of the interest during the consent).
    "browsing signals from before the consent add to one from during it": (
        [
            (
                BROWSING,
                "browsing_customers.signals_since is null\n"
                "            or traffic.observed_at >= browsing_customers.signals_since",
                "true",
            )
        ],
        "marketing",
        "evidence_within_what_its_signals_can_give",
    ),
    # The same for usage, checked per interest (attack, session 5): a console seen during
    # the consent once hid a printer (home_office) seen before it.
    "usage signals from before the consent are used": (
        [
            (
                "models/intermediate/marketing/int_marketing__usage_signals.sql",
                "usage_customers.signals_since is null\n"
                "            or devices.observed_at >= usage_customers.signals_since",
                "true",
            )
        ],
        "marketing",
        "usage_evidence_only_with_usage_consent",
    ),
    # Contest entries from before a Scarlet account's migration beside one after it: the
    # existence check is met by the later entry, the bound on the points is not.
    "contest entries from before the migration add to one after it": (
        [
            (
                "models/intermediate/marketing/int_marketing__declared_signals.sql",
                "marketable_customers.profiling_since is null\n"
                "            or entries.entered_at >= marketable_customers.profiling_since",
                "true",
            )
        ],
        "marketing",
        "evidence_within_what_its_signals_can_give",
    ),
    # Answers given while the customer objected to direct marketing never build a profile.
    "declared signals from a withdrawn objection period are used": (
        [(MARKETABLE, "else direct_marketing.allowed_since", "else accounts.created_at")],
        "marketing",
        "declared_evidence_only_from_proximus_surveys_and_contests_after_account_creation",
    ),
    # Until the migration the old Scarlet policy applied: no signal from before it is used.
    "signals from before a Scarlet account's migration are used": (
        [
            (
                "models/intermediate/consent/int_consent__effective.sql",
                "when brand <> 'scarlet' then allowed_since_choice",
                "when true then allowed_since_choice",
            )
        ],
        "marketing",
        "declared_evidence_only_from_proximus_surveys_and_contests_after_account_creation",
    ),
    # Erasure: the customer is in no later figure. The location recount followed the
    # models' staging view of the CRM, so an erasure the models forgot was counted
    # (attack, session 5); the erased person objected to direct marketing, so no
    # marketing table names them and only the location counts show the bug.
    "an erasure is not applied": (
        [
            (
                "macros/staging/erasure.sql",
                "coalesce({{ column }} in (select erased.customer_id from "
                "{{ ref('stg_rights__erased_customers') }} as erased), false)",
                "false",
            )
        ],
        "location",
        "counts_are_the_people_who_may_be_counted",
    ),
    # Until its migration a Scarlet account is under the old policy (attack, session 13):
    # a Proximus-platform opt-in recorded before it cannot lift the legacy objection...
    "a Proximus opt-in before the migration lifts a legacy objection": (
        [
            (
                "models/intermediate/consent/int_consent__history.sql",
                "(purposes.basis = 'consent' or ledger.platform <> 'scarlet_legacy')",
                "purposes.basis = 'consent'",
            )
        ],
        "marketing",
        "no_objection_lifted_by_an_impossible_or_late_legacy_opt_in",
    ),
    # ...and its sightings before the migration are not counted.
    "location counts sightings from before a Scarlet account's migration": (
        [
            (
                SIGHTINGS,
                "greatest(customers.created_at, coalesce(customers.migrated_at, "
                "customers.created_at))",
                "customers.created_at",
            )
        ],
        "location",
        "counts_are_the_people_who_may_be_counted",
    ),
    "complementary suppression is removed": (
        [
            (
                RELEASE,
                "    # A DuckDB relation:",
                "    rows = [(*row[:6], 'published' if row[6] == 'suppressed_complementary'"
                " else row[6]) for row in rows]\n    # A DuckDB relation:",
            )
        ],
        "location",
        "area_minus_published_children_is_0_or_at_least_k",
    ),
    "the k comparison is off by one": (
        [
            # (dbt finds config.get calls in statements, not inside a keyword's expression)
            (RELEASE, 'k = int(dbt.config.get("k"))', 'k = int(dbt.config.get("k")) - 1'),
        ],
        "location",
        "every_people_count_is_at_least_k",
    ),
    # A column no deny-list knows by name: the true count beside the (noisy with DP) figure.
    "a location table publishes an undeclared column": (
        [
            (
                PRESENCE,
                "        released_people\n    from",
                "        released_people,\n        people as exact_people\n    from",
            ),
            (
                PRESENCE,
                "as bigint) as people,\n",
                "as bigint) as people,\n    published_areas.exact_people,\n",
            ),
        ],
        "personal_data",
        "every_published_table_has_exactly_its_declared_columns",
    ),
}


def landing_tables() -> dict[str, list[dict]]:
    crowd_2000, crowd_2018 = make_customers(40), make_customers(29, start=41)
    objector, withdrew_after = customer("N00100", msisdn="+32480000100"), customer("N00101")
    # objected to direct marketing from January to June, answered a survey in March
    withdrew_before = customer("N00102")
    # a Scarlet account migrated in April that answered a survey in March
    migrated = customer("N00103", brand="scarlet", migrated_at="2026-04-01T09:00:00+02:00")
    # asked for erasure on the run date, and objected to direct marketing
    erased = customer("N00104", msisdn="+32480000104")
    # usage consent from 2026-05-01: a printer seen before it, a console seen on the run date
    usage = customer("N00105")
    # browsing consent: visits the sexual site in the spelling the catalogue calls music,
    # and its m. subdomain, which the catalogue also calls music
    browser = customer("N00106")
    # Scarlet, objected on the legacy platform, "lifted" it on Proximus before migrating
    early_lift = customer("N00107", brand="scarlet", migrated_at="2026-03-01T09:00:00+01:00")
    # browsing consent from 2026-05-01: music traffic in April and on the run date
    april_browser = customer("N00109")
    # Scarlet, migrated on 10 June: three gaming contest entries before it, one after
    contestant = customer("N00110", brand="scarlet", migrated_at="2026-06-10T09:00:00+02:00")
    # Scarlet, migrated at noon on the run date, seen at the cell in the morning
    migrating = customer("N00108", "scarlet", msisdn="+32480000108", migrated_at=ts(12))
    at_the_cell = [objector, {"msisdn": MSISDNS[C_SCARLET_LEGACY]}, {"msisdn": MSISDNS[C_CLOSED]}]
    at_the_cell.append(erased)
    return {
        "+customers": [*crowd_2000, *crowd_2018, objector, withdrew_after]
        + [withdrew_before, migrated, erased, usage, browser, early_lift, migrating]
        + [april_browser, contestant],
        "+contest_entries": [
            {
                "entry_id": f"NE{day}",
                "customer_id": "N00110",
                "contest_id": CONTEST_GAMING,
                "entered_at": f"2026-06-{day}T10:00:00+02:00",
            }
            for day in ("02", "03", "04", "15")
        ],
        "data_subject_requests": [
            {
                "request_id": "RQ-M1",
                "customer_id": "N00104",
                "kind": "erasure",
                "received_at": ts(9),
                "channel": "email",
                "addressed_to": "privacy@proximus.com",
            }
        ],
        "+network_events": network_events_for(crowd_2000, CELL_A1, ts(10, 10))
        + network_events_for(crowd_2018, CELL_B1, ts(10, 20))
        + network_events_for([*at_the_cell, migrating], CELL_A1, ts(10, 15)),
        "+privacy_preferences": [
            consent_event("M1", "N00100", "location_analytics", "opt_out"),
            consent_event("M6", "N00104", "direct_marketing", "opt_out"),
            consent_event("M7", "N00105", "personalisation_usage", "opt_in"),
            consent_event("M8", "N00106", "personalisation_browsing", "opt_in"),
            consent_event("M11", "N00109", "personalisation_browsing", "opt_in"),
            consent_event(
                "M9",
                "N00107",
                "direct_marketing",
                "opt_out",
                "2025-11-01T10:00:00+01:00",
                platform="scarlet_legacy",
            ),
            consent_event(
                "M10", "N00107", "direct_marketing", "opt_in", "2026-01-10T10:00:00+01:00"
            ),
            consent_event("M2", "N00101", "direct_marketing", "opt_out"),
            consent_event("M3", "N00101", "direct_marketing", "opt_in", AFTER_RUN_DATE),
            consent_event(
                "M4", "N00102", "direct_marketing", "opt_out", "2026-01-05T10:00:00+01:00"
            ),
            consent_event(
                "M5", "N00102", "direct_marketing", "opt_in", "2026-06-01T10:00:00+02:00"
            ),
        ],
        "+survey_responses": [
            {
                "response_id": "RM1",
                "customer_id": "N00102",
                "question_id": Q_GAMING_YES_NO,
                "answer": "yes",
                "answered_at": "2026-03-01T10:00:00+01:00",
            },
            {
                "response_id": "RM2",
                "customer_id": "N00103",
                "question_id": Q_GAMING_YES_NO,
                "answer": "yes",
                "answered_at": "2026-03-15T10:00:00+01:00",
            },
        ],
        "+device_observations": [
            {
                "customer_id": "N00105",
                "observed_at": "2026-04-15T10:00:00+02:00",
                "kind": "home_device",
                "model": "LaserJet printer",
                "wifi_state": "connected",
            },
            {
                "customer_id": "N00105",
                "observed_at": ts(19),
                "kind": "home_device",
                "model": "game_console",
                "wifi_state": "connected",
            },
        ],
        # C001's browsing consent dates from 2026-05-01: this visit is from before it
        "+traffic_events": [
            {
                "customer_id": C_PROXIMUS,
                "observed_at": "2026-04-15T10:00:00+02:00",
                "network": "mobile",
                "app_or_site": SITE_SPORT,
                "bytes": 1000,
            },
            *(
                {
                    "customer_id": "N00106",
                    "observed_at": ts(11),
                    "network": "mobile",
                    "app_or_site": site,
                    "bytes": 1000,
                }
                for site in [SITE_SEXUAL.title(), f"https://m.{SITE_SEXUAL}:443/"]
            ),
            # a row staging quarantines (out_of_range:bytes): no gaming evidence from it
            {
                "customer_id": "N00106",
                "observed_at": ts(11),
                "network": "mobile",
                "app_or_site": SITE_GAMING,
                "bytes": -1,
            },
            *(
                {
                    "customer_id": "N00109",
                    "observed_at": observed_at,
                    "network": "fixed",
                    "app_or_site": SITE_MUSIC,
                    "bytes": 1000,
                }
                for observed_at in [*(f"2026-04-1{day}T10:00:00+02:00" for day in range(4)), ts(12)]
            ),
        ],
        "+site_catalogue": [
            {"app_or_site": SITE_SEXUAL.title(), "category": "music"},
            {"app_or_site": f"M.{SITE_SEXUAL}", "category": "music"},
        ],
    }


def without_dbt_tests(node):
    """A yml document without its data tests and unit tests (the gates alone must hold)."""
    if isinstance(node, dict):
        return {
            key: without_dbt_tests(value)
            for key, value in node.items()
            if key not in ("data_tests", "tests", "unit_tests")
        }
    if isinstance(node, list):
        return [without_dbt_tests(item) for item in node]
    return node


def copy_dbt_project(target: Path) -> Path:
    shutil.copytree(
        REPO / "dbt_project",
        target,
        ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"),
    )
    for yml in (target / "models").rglob("*.yml"):
        document = yaml.safe_load(yml.read_text(encoding="utf-8"))
        yml.write_text(yaml.safe_dump(without_dbt_tests(document), sort_keys=False))
    return target


# The DAG's stages in order, without Airflow (exit codes as the CLI's), once per line read
# on stdin: one process runs every bug in turn, so the interpreter, dbt and Great
# Expectations start once for the module, not once per bug (a backfill also runs several
# dates in one process). Each run's reply is one JSON line on the process's own stdout;
# everything else the stages print goes to stderr (a file), as the CLI's would.
RUN_STAGES = """
import json
import os
import shutil
import sys

replies = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)
sys.stdout = sys.stderr

from privacy_pipeline import dbt_runner, stages
from privacy_pipeline.dbt_runner import run_dbt
from privacy_pipeline.errors import GateFailed, PipelineError
from privacy_pipeline.gate_binding import hold_run_date_for_run
from privacy_pipeline.gates import SUITES

landing, warehouse, run_date, base = sys.argv[1:5]


# dbt's run_dbt, building the selection instead of every layer.
def build_only(selection):
    def run_selection(ctx, command):
        command = list(command)
        if selection and command[:2] == ["build", "--select"]:
            end = command.index("--indirect-selection")
            command[2:end] = selection
        return run_dbt(ctx, command)

    return run_selection


def run(messages, suites, selection, keep_as_base):
    params = {"landing_dir": landing, "warehouse_dir": warehouse, "run_date": run_date}
    ctx = stages.resolve_context(params, None, "stages-without-airflow")
    candidate = stages.context_from_dict(ctx).candidate_db
    if selection:  # every model not selected as the good run built it
        shutil.copyfile(base, candidate)
    stages.run_stage("load_landing", ctx, stages.load_landing)
    dbt_runner.run_dbt = build_only(selection)
    try:
        stages.run_stage(stages.TRANSFORM_STAGE, ctx, stages.transform)
    finally:
        dbt_runner.run_dbt = run_dbt
    if keep_as_base:
        shutil.copyfile(candidate, base)
    failed = []
    for suite in suites:
        try:
            stages.run_stage(f"gate_{suite}", ctx, lambda c: stages.run_gate(c, suite))
        except GateFailed as exc:
            messages.append(str(exc))
            failed.append(suite)
    if failed:
        return 1
    stages.run_stage("publish", ctx, stages.publish)
    return 0


for line in sys.stdin:
    request = json.loads(line)
    messages = []
    try:
        with hold_run_date_for_run(
            warehouse, __import__("datetime").date.fromisoformat(run_date), "t"
        ):
            code = run(
                messages, request["suites"] or SUITES, request["select"], request["keep_as_base"]
            )
    except PipelineError as exc:
        messages.append(f"error: {exc}")
        code = exc.exit_code
    except Exception as exc:  # reported to the test, which fails on it
        messages.append(f"error: {exc!r}")
        code = 3
    print("\\n".join(messages), file=sys.stderr, flush=True)
    replies.write(json.dumps({"returncode": code, "messages": messages}) + "\\n")
    replies.flush()
"""
RUN_TIMEOUT = 900


def bed_environment(bed: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env["DBT_PROJECT_DIR"] = str(bed / "dbt_project")
    return env


def model_name(file: str) -> str | None:
    """The dbt model a project file defines (None for a macro or any other file)."""
    path = Path(file)
    return path.stem if path.parts[0] == "models" and path.suffix in (".sql", ".py") else None


class StageRunner:
    """The process of RUN_STAGES: ``run()`` runs the stages once, as a completed process.

    The first run builds every model and keeps its candidate database as the base of the
    others: a bug in a model then needs only that model and its descendants, built on a
    copy of the base. A patched macro builds everything.
    """

    def __init__(self, bed: Path) -> None:
        self.log = bed / "stage-runner.log"
        self.has_base = False
        self.args = [str(bed / "landing"), str(bed / "warehouse"), RUN_DATE]
        base = bed / "good-candidate.duckdb"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-c", textwrap.dedent(RUN_STAGES), *self.args, str(base)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True,
                env=bed_environment(bed),
            )  # fmt: skip

    def selection(self, patched_files: Sequence[str]) -> list[str] | None:
        """The models to build: each patched model and its descendants; None for all."""
        models = {model_name(file) for file in patched_files}
        if not self.has_base or not models or None in models:
            return None
        return [f"{model}+" for model in sorted(models)]

    def run(
        self, patched_files: Sequence[str] = (), suites: list[str] | None = None
    ) -> subprocess.CompletedProcess:
        """Run the stages with ``patched_files`` patched in the project copy (the gates of
        ``suites``, default all); publish if no gate fails."""
        if self.process.poll() is not None:
            pytest.fail(f"the stage runner exited with {self.process.returncode}; see {self.log}")
        start = self.log.stat().st_size
        keep_as_base = not self.has_base and not patched_files
        request = {
            "select": self.selection(list(patched_files)),
            "suites": suites,
            "keep_as_base": keep_as_base,
        }
        try:
            reply = request_reply(self.process, request, RUN_TIMEOUT)
        except (EOFError, subprocess.TimeoutExpired) as no_reply:
            reply = {"error": str(no_reply)}
        with self.log.open(encoding="utf-8", errors="replace") as log:
            log.seek(start)
            stderr = log.read()
        if "error" in reply:
            self.close()
            pytest.fail(f"the stage runner: {reply['error']}\n{stderr[-5000:]}")
        code = reply["returncode"]
        self.has_base |= keep_as_base and code == 0
        return subprocess.CompletedProcess(self.args, code, "", stderr)

    def close(self) -> None:
        self.process.stdin.close()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def bed(tmp_path_factory) -> Path:
    """The landing zone and the project copy."""
    root = tmp_path_factory.mktemp("mutations")
    write_landing_zone(root / "landing", landing_tables())
    copy_dbt_project(root / "dbt_project")
    return root


@pytest.fixture(scope="module")
def stage_runner(bed):
    """The stage runner, after a first, good publication."""
    runner = StageRunner(bed)
    first = runner.run()
    assert first.returncode == 0, first.stderr[-5000:]
    yield runner
    runner.close()


@pytest.mark.slow
@pytest.mark.parametrize("mutation", list(MUTATIONS))
def test_a_model_bug_fails_the_gates_with_exit_1_and_keeps_the_publication(
    bed, stage_runner, mutation
):
    patches, suite, expectation = MUTATIONS[mutation]
    originals = {}
    for file, old, new in patches:
        path = bed / "dbt_project" / file
        text = originals.setdefault(path, path.read_text(encoding="utf-8"))
        current = path.read_text(encoding="utf-8")
        assert old in current, f"the {mutation!r} patch no longer applies to {file}"
        path.write_text(current.replace(old, new), encoding="utf-8")
        assert path.read_text(encoding="utf-8") != text
    before = published_state(bed / "warehouse")
    try:
        result = stage_runner.run([file for file, _, _ in patches], suites=[suite])
    finally:
        for path, text in originals.items():
            path.write_text(text, encoding="utf-8")
    assert result.returncode == 1, result.stderr[-5000:]
    # the bug changed the output, and the gate that caught it names the broken promise
    assert f"privacy gate {suite!r} failed" in result.stderr, result.stderr[-5000:]
    assert f"  - {expectation}: " in result.stderr, result.stderr[-5000:]
    assert published_state(bed / "warehouse") == before
