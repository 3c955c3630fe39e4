"""Nightly privacy pipeline: one run per Europe/Brussels calendar day.

Thin wiring only: every task calls one function of ``privacy_pipeline.stages``.
The run covers the data interval's day (00:00 to 24:00 Brussels time, so 23 or 25
hours on DST days); ``run_date`` in the params overrides it for reruns.
"""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import Param, dag, task, task_group
from airflow.timetables.interval import CronDataIntervalTimetable
from privacy_pipeline import assets, stages
from privacy_pipeline.config import ENV_LANDING, ENV_WAREHOUSE, MIN_K
from privacy_pipeline.gates import SUITES

TIMEZONE = "Europe/Brussels"


@dag(
    dag_id="nightly_privacy_pipeline",
    description="Consent filters, preference profiles and k-anonymous location aggregates, "
    "published only when every privacy gate passes.",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone=TIMEZONE),
    start_date=pendulum.datetime(2026, 1, 1, tz=TIMEZONE),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 0},
    tags=["privacy", "dpo"],
    params={
        "landing_dir": Param(
            os.environ.get(ENV_LANDING, ""),
            type="string",
            description="Landing zone folder (default: $PRIVACY_PIPELINE_LANDING)",
        ),
        "warehouse_dir": Param(
            os.environ.get(ENV_WAREHOUSE, ""),
            type="string",
            description="Warehouse folder (default: $PRIVACY_PIPELINE_WAREHOUSE)",
        ),
        "k": Param(
            None,
            type=["null", "integer"],
            minimum=MIN_K,
            description="Minimum people behind a published location count. Empty: "
            "$PRIVACY_PIPELINE_K, else location.k of config/pipeline.yml. May raise the "
            "configured k, never lower it (the run refuses).",
        ),
        "engine": Param(
            "duckdb",
            type="string",
            enum=["duckdb", "spark"],
            description="Engine that builds the models: duckdb, or spark (dbt-spark, "
            "docs/spark.md). The gates, publication and reports are the same.",
        ),
        "run_date": Param(
            None,
            type=["null", "string"],
            format="date",
            description="Calendar day to (re)process; default: the data interval's day",
        ),
    },
)
def nightly_privacy_pipeline():
    @task
    def resolve_run_context(params=None, data_interval_start=None, run_id=None) -> dict:
        return stages.resolve_context(params, data_interval_start, run_id)

    @task
    def load_landing(ctx: dict) -> dict:
        return stages.run_stage("load_landing", ctx, stages.load_landing)

    @task_group(group_id="transform")
    def transform(ctx: dict):
        @task(task_id=stages.TRANSFORM_STAGE)
        def build(ctx: dict) -> dict:
            """One dbt build of staging, intermediate and marts; returns each layer's time."""
            return stages.run_stage(stages.TRANSFORM_STAGE, ctx, stages.transform)

        build(ctx)

    @task_group(group_id="privacy_gates")
    def privacy_gates(ctx: dict):
        for suite in SUITES:

            @task(task_id=f"gate_{suite}")
            def gate(ctx: dict, suite: str = suite) -> dict:
                return stages.run_stage(f"gate_{suite}", ctx, lambda c: stages.run_gate(c, suite))

            gate(ctx)

    @task(outlets=[assets.publication_alias()])
    def publish(ctx: dict, outlet_events=None) -> dict:
        """On success, one Airflow asset event per published schema (privacy_pipeline.assets)."""
        published = stages.run_stage("publish", ctx, stages.publish)
        assets.announce_publication(outlet_events, ctx, published)
        return published

    @task(trigger_rule="all_done")
    def withdraw_objections(ctx: dict) -> dict:
        """Runs for passed and failed runs alike: an objection never waits for a green night."""
        return stages.run_stage("withdraw_objections", ctx, stages.withdraw_objections)

    @task(trigger_rule="all_done")
    def honour_requests(ctx: dict) -> dict:
        """Data-subject requests (register, erasure, access): never wait for a green night."""
        return stages.run_stage("honour_requests", ctx, stages.honour_requests)

    @task(trigger_rule="all_done")
    def reports(ctx: dict) -> dict:
        """Runs for passed and failed runs alike: the DPO sees every outcome."""
        return stages.run_stage("reports", ctx, stages.write_reports)

    @task(trigger_rule="all_done")
    def prune_working_data(ctx: dict) -> dict:
        """Runs for failed runs too: their candidates hold per-person data as well."""
        return stages.run_stage("prune_working_data", ctx, stages.prune_working_data)

    @task(trigger_rule="one_failed")
    def fail_run_if_any_stage_failed() -> None:
        """Keeps the run red when a stage failed, although `reports` (all_done) succeeded."""
        raise RuntimeError("a stage of the nightly privacy pipeline failed; see its log")

    ctx = resolve_run_context()
    loaded = load_landing(ctx)
    transformed = transform(ctx)
    gated = privacy_gates(ctx)
    published = publish(ctx)
    withdrawn = withdraw_objections(ctx)
    honoured = honour_requests(ctx)
    reported = reports(ctx)
    pruned = prune_working_data(ctx)

    loaded >> transformed >> gated >> published >> withdrawn >> honoured >> reported
    [published, reported] >> pruned
    failed_stage_guard = fail_run_if_any_stage_failed()
    [loaded, transformed, gated, published, withdrawn, honoured, reported, pruned] >> (
        failed_stage_guard
    )


pipeline_dag = nightly_privacy_pipeline()
