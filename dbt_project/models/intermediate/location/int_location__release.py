"""The release decision of every location figure (disclosure auditor, optional DP noise).

Reads the candidate figures (int_location__figure_members, a view: read once, in memory;
the people of those of at least k people or held by recipients, the count of the others)
and the earlier releases of the date (the release ledger); the algorithm is
privacy_pipeline.location (unit-tested there). One row per figure:
table_name, area_level, area_id, hour_index, people (true), released_people (noisy when
DP is on), status (published / suppressed_below_k / suppressed_complementary /
suppressed_republication). Stays in the candidate database.

A step both engines share (docs/spark.md): on DuckDB the session is the candidate
database; on Spark (dbt-spark's session method, run in-process by
privacy_pipeline.spark_engine) the members are collected from Spark and the decision,
the same Python, is written back as a Spark table.
"""

import json
from pathlib import Path


def candidate_database_path(session) -> Path:
    rows = session.execute(
        "select path from duckdb_databases() where database_name = current_database()"
    ).fetchall()
    return Path(rows[0][0]).resolve()


def model(dbt, session):
    from privacy_pipeline.location.ledger import earlier_inputs, held_values
    from privacy_pipeline.location.release import (
        FigureCodes,
        as_relation,
        as_spark_dataframe,
        decide_release,
        read_figure_people,
        read_figure_people_from_spark,
    )

    dbt.config(materialized="table")
    location_config = json.loads(dbt.config.get("location_config"))
    run_date = dbt.config.get("run_date")
    k = int(dbt.config.get("k"))
    members = dbt.ref("int_location__figure_members")
    key_codes = dbt.ref("int_location__key_codes").select("key_code", "key_level", "key_id")
    on_spark = hasattr(session, "sparkContext")
    if on_spark:
        warehouse_dir = Path(session.conf.get("privacy_pipeline.warehouse_dir"))
    else:
        # runs/<date>/candidate.duckdb -> the warehouse folder, home of the private ledgers.
        warehouse_dir = candidate_database_path(session).parents[2]
    held = held_values(warehouse_dir, run_date)
    # A re-publication whose inputs changed otherwise than by removals is frozen
    # (privacy_pipeline.location.inputs): only values recipients hold are published again.
    inputs_sql = "select inputs_digest from landing.location_inputs"
    if on_spark:
        inputs = session.sql(inputs_sql).collect()[0][0]
    else:
        inputs = session.execute(inputs_sql).fetchall()[0][0]
    frozen = bool(held) and inputs not in earlier_inputs(warehouse_dir, run_date)
    if on_spark:
        codes = FigureCodes(key_codes.collect())
        candidates = read_figure_people_from_spark(members, codes, k, held)
    else:
        codes = FigureCodes(key_codes.fetchall())
        candidates = read_figure_people(
            session, members.project("figure_code, person_id").sql_query(), codes, k, held
        )
    rows = decide_release(
        people=candidates.people,
        counts=candidates.counts,
        location_config=location_config,
        k=k,
        run_date=run_date,
        warehouse_dir=warehouse_dir,
        held=held,
        frozen=frozen,
    )
    if on_spark:
        return as_spark_dataframe(session, rows)
    # A DuckDB relation: an Arrow table or a DataFrame would import pandas, seconds for
    # a few thousand rows.
    return as_relation(session, rows)
