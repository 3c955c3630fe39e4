"""The Spark engine (``privacy-pipeline run --engine spark``, docs/spark.md).

The same dbt models run on Apache Spark through dbt-spark's ``session`` method: dbt runs in
this process and uses the SparkSession this module starts (``spark_session``), so the
session is configured in one place and the pseudonym key reaches Spark without SQL.

A Spark run differs from a DuckDB run at three points only; everything else (contract
checks, quarantine, reconciliation, gates, publication, reports) is shared:

1. ``load_landing_into_spark``: the loader's checked ``landing`` views of the candidate
   database (the same contract checks, the same rows_read) are written once as Parquet and
   registered as Spark tables of the same names.
2. ``privacy_pipeline.location.release_step``: the location release reads the figure
   members from Spark and writes its decisions back (the decision itself is Python).
3. ``publish_candidate_to_duckdb``: every model the run built (a table's own Parquet files,
   a view written out as Parquet) is exposed in the candidate database as a view of the
   same schema and name, so the gates, publication and reports read the Spark output
   exactly as they read DuckDB's.

The pseudonym key is set as the Spark SQL session variable ``pseudonym_key`` through a
bound parameter (never in SQL text, in dbt's compiled files or its logs); the macro
``pseudonym`` computes ``hmac(pseudonym_key, value)`` (Spark 4.3+).
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from privacy_pipeline.run_context import ENGINES, RunContext

log = logging.getLogger(__name__)

__all__ = ["ENGINES", "load_landing_into_spark", "publish_candidate_to_duckdb", "spark_session"]
# A cluster instead of the local session: spark://host:7077, yarn, k8s://... (docs/spark.md)
ENV_SPARK_MASTER = "PRIVACY_PIPELINE_SPARK_MASTER"
DEFAULT_SPARK = {"master": "local[2]", "driver_memory": "3g", "shuffle_partitions": 4}
# The schemas the models write (dbt_project.yml), in build order.
MODEL_SCHEMAS = ("staging", "intermediate", "marketing", "location", "dpo", "dpo_restricted")
PSEUDONYM_KEY_VARIABLE = "pseudonym_key"
JAVA_OPTIONS = "spark.driver.extraJavaOptions"
# Spark jobs submitted at once around dbt (landing tables registered, models written out):
# each small job mostly waits for the driver's scheduling, so several overlap well. The
# same number as dbt's threads on Spark (profiles.yml, output spark).
SPARK_JOB_THREADS = 4


def spark_settings(config: dict[str, Any]) -> dict[str, Any]:
    """``spark`` of config/pipeline.yml over the defaults; the environment names the master."""
    settings = {**DEFAULT_SPARK, **(config.get("spark") or {})}
    settings["master"] = os.environ.get(ENV_SPARK_MASTER) or settings["master"]
    return settings


def spark_folder(ctx: RunContext) -> Path:
    """The run's Spark files: landing Parquet, model tables, candidate Parquet."""
    return ctx.run_dir / "spark"


def spark_session(ctx: RunContext):
    """The process's SparkSession, started with the pipeline's settings on first use.

    dbt-spark's ``session`` method calls ``SparkSession.builder.getOrCreate()`` and so gets
    this one. The catalog is in memory: each run registers its own databases at its own
    location (``register_databases``); production clusters use their metastore
    (docs/spark.md)."""
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is None:
        settings = spark_settings(ctx.config)
        scratch = ctx.warehouse_dir / "spark-scratch"
        scratch.mkdir(parents=True, exist_ok=True)
        builder = (
            SparkSession.builder.master(settings["master"])
            .appName("privacy-pipeline")
            .config("spark.driver.memory", settings["driver_memory"])
            .config("spark.sql.shuffle.partitions", str(settings["shuffle_partitions"]))
            # Instants are compared and printed in UTC, like DuckDB's timestamptz.
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.catalogImplementation", "in-memory")
            .config("spark.sql.warehouse.dir", str(scratch / "warehouse"))
            .config("spark.local.dir", str(scratch / "tmp"))
            .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
            # Python workers (the nfkc_casefold UDF): this interpreter.
            .config("spark.pyspark.python", sys.executable)
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
        )
        conf = {**(settings.get("conf") or {})}
        # The configured JVM options come after our own, not instead of them.
        java_options = f"-Dderby.system.home={scratch} {conf.pop(JAVA_OPTIONS, '')}".strip()
        builder = builder.config(JAVA_OPTIONS, java_options)
        for name, value in conf.items():
            builder = builder.config(name, str(value))
        active = builder.getOrCreate()
        active.sparkContext.setLogLevel("ERROR")
        allow_python_models_in_session()
    register_functions(active)
    # Where the release's private ledgers live (read by the model int_location__release).
    active.conf.set("privacy_pipeline.warehouse_dir", str(ctx.warehouse_dir))
    return active


class SessionPythonJobHelper:
    """Runs a dbt Python model in this process on the session (dbt-spark submits Python
    models to Databricks only): the compiled code is the model plus dbt-spark's code that
    writes its DataFrame as the model's table."""

    def __init__(self, parsed_model: dict, credentials: Any) -> None:
        self.parsed_model = parsed_model

    def submit(self, compiled_code: str) -> None:
        from pyspark.sql import SparkSession

        # dbt runs models in worker threads: the default session, not the thread's active one.
        namespace = {"spark": SparkSession.builder.getOrCreate(), "__name__": "dbt_python_model"}
        exec(compile(compiled_code, self.parsed_model["alias"], "exec"), namespace)  # noqa: S102


def allow_python_models_in_session() -> None:
    """Teach dbt-spark a ``session`` submission method for Python models, the default."""
    from dbt.adapters.spark.impl import SparkAdapter

    helpers = SparkAdapter.python_submission_helpers.fget
    SparkAdapter.python_submission_helpers = property(
        lambda self: {**helpers(self), "session": SessionPythonJobHelper}
    )
    SparkAdapter.default_python_submission_method = property(lambda self: "session")


def register_functions(spark) -> None:
    """The pseudonym key (a session variable set by a bound parameter), nfkc_casefold,
    decoded_site_spelling, ip_address_host and nfc_normalize (DuckDB's built-in, for the macro
    nfc_normalized)."""
    from pyspark import cloudpickle

    from privacy_pipeline import vocabulary
    from privacy_pipeline.config import pseudonym_key

    secret = pseudonym_key().encode()
    if not secret:
        raise ValueError("PRIVACY_PIPELINE_PSEUDONYM_KEY is empty: refusing to pseudonymise")
    spark.sql(f"declare or replace variable {PSEUDONYM_KEY_VARIABLE} binary")
    spark.sql(f"set var {PSEUDONYM_KEY_VARIABLE} = :key", args={"key": secret})
    # Python workers need not import this package: the function travels by value.
    cloudpickle.register_pickle_by_value(vocabulary)
    spark.udf.register("nfkc_casefold", vocabulary.nfkc_casefold, "string")
    spark.udf.register("decoded_site_spelling", vocabulary.decoded_site_spelling, "string")
    spark.udf.register("ip_address_host", vocabulary.ip_address_host, "string")
    spark.udf.register("nfc_normalize", vocabulary.nfc, "string")


def register_databases(spark, ctx: RunContext) -> None:
    """A fresh ``landing`` and model databases stored in this run's folder."""
    root = spark_folder(ctx) / "tables"
    for schema in ("landing", *MODEL_SCHEMAS):
        spark.sql(f"drop database if exists {schema} cascade")
        spark.sql(f"create database {schema} location '{(root / schema).as_uri()}'")


def load_landing_into_spark(ctx: RunContext) -> None:
    """The loader's checked landing tables of the candidate database, as Spark tables.

    Every relation of schema ``landing`` (the contract views over the landing files, the
    loader's rows_read, run_context, erased_customers, rejected_csv_lines) is written once
    as Parquet: the contract checks, the quarantine and the reconciliation then see on
    Spark exactly the rows they see on DuckDB."""
    import duckdb

    folder = spark_folder(ctx)
    shutil.rmtree(folder, ignore_errors=True)
    landing_parquet = folder / "landing"
    landing_parquet.mkdir(parents=True)
    spark = spark_session(ctx)
    register_databases(spark, ctx)
    with duckdb.connect(str(ctx.candidate_db), read_only=True) as con:
        names = [
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'landing' order by table_name"
            ).fetchall()
        ]
        for name in names:
            path = landing_parquet / f"{name}.parquet"
            con.execute(f"copy (select * from landing.\"{name}\") to '{path}' (format parquet)")

    def register(name: str) -> None:
        path = landing_parquet / f"{name}.parquet"
        spark.sql(f"create table landing.`{name}` using parquet location '{path.as_uri()}'")

    run_spark_jobs(register, names)
    log.info("spark: %d landing tables registered", len(names))


def model_relations(spark) -> list[tuple[str, str]]:
    """(schema, name) of every table and view the models built."""
    found = []
    for schema in MODEL_SCHEMAS:
        for table in spark.catalog.listTables(schema):
            found.append((schema, table.name))
    return found


def local_parquet_folder(spark, schema: str, name: str) -> Path | None:
    """The folder of a model table's own Parquet files when they are on this machine; None
    for a view, another format or a remote location."""
    rows = spark.sql(f"describe table extended {schema}.`{name}`").collect()
    details = {row.col_name: row.data_type for row in rows}
    if details.get("Type") == "VIEW" or (details.get("Provider") or "").lower() != "parquet":
        return None
    location = urlparse(details.get("Location") or "")
    folder = Path(location.path)  # describe shows the folder's own name, not URI-escaped
    if location.scheme != "file" or not any(folder.glob("*.parquet")):
        return None
    return folder


def publish_candidate_to_duckdb(ctx: RunContext) -> list[str]:
    """Every model the Spark run built, as Parquet, exposed in the candidate database.

    The gates, the publication and the reports read the candidate database: a view per
    model over its Parquet files gives them the Spark output under the same names. A table
    model is read where Spark wrote it (runs/<D>/spark/tables/, the run's own databases);
    a view model, or a table stored elsewhere, is written out once under
    runs/<D>/spark/candidate/ (a Spark job per model: ~1-2 s each on a tiny world, several
    at once)."""
    import duckdb

    spark = spark_session(ctx)
    target = spark_folder(ctx) / "candidate"
    shutil.rmtree(target, ignore_errors=True)

    def exposed(relation: tuple[str, str]) -> tuple[str, str, Path]:
        schema, name = relation
        path = local_parquet_folder(spark, schema, name)
        if path is None:
            path = target / schema / name
            spark.table(f"{schema}.`{name}`").write.mode("overwrite").parquet(path.as_uri())
        return schema, name, path

    views = run_spark_jobs(exposed, model_relations(spark))
    with duckdb.connect(str(ctx.candidate_db)) as con:
        for schema in MODEL_SCHEMAS:
            con.execute(f"create schema if not exists {schema}")
        for schema, name, path in views:
            con.execute(
                f'create or replace view {schema}."{name}" as '
                f"select * from read_parquet('{path}/*.parquet')"
            )
    log.info("spark: %d models exposed to the gates as Parquet", len(views))
    return [f"{schema}.{name}" for schema, name, _ in views]


def run_spark_jobs(job, items: list) -> list:
    """``job(item)`` for every item, SPARK_JOB_THREADS at a time; the results in order."""
    with ThreadPoolExecutor(max_workers=SPARK_JOB_THREADS, thread_name_prefix="spark-job") as pool:
        return list(pool.map(job, items))
