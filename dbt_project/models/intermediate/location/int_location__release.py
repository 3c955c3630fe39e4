"""The release decision of every location figure (k-anonymity, optional DP noise).

Reads only aggregated counts; the algorithm is privacy_pipeline.location (unit-tested
there). One row per figure: table_name, area_level, area_id, hour_index, people (true),
released_people (noisy when DP is on), status (published / suppressed_below_k /
suppressed_complementary). Stays in the candidate database.
"""

import json
from pathlib import Path


def candidate_database_path(session) -> Path:
    rows = session.execute(
        "select path from duckdb_databases() where database_name = current_database()"
    ).fetchall()
    return Path(rows[0][0]).resolve()


def model(dbt, session):
    from privacy_pipeline.location.release import as_relation, decide_release

    dbt.config(materialized="table")
    location_config = json.loads(dbt.config.get("location_config"))
    # runs/<date>/candidate.duckdb -> the warehouse folder, home of the DP noise ledger.
    warehouse_dir = candidate_database_path(session).parents[2]
    rows = decide_release(
        counts=rows_of(
            dbt.ref("int_location__counts"), "table_name, area_level, area_id, hour_index, people"
        ),
        area_tree=rows_of(
            dbt.ref("int_location__area_tree"), "area_level, area_id, parent_level, parent_id"
        ),
        event_postal_codes=rows_of(
            dbt.ref("int_location__event_postal_codes"), "event_id, postal_code"
        ),
        location_config=location_config,
        k=int(dbt.config.get("k")),
        run_date=dbt.config.get("run_date"),
        warehouse_dir=warehouse_dir,
    )
    # A DuckDB relation: an Arrow table or a DataFrame would import pandas, seconds for
    # a few thousand rows.
    return as_relation(session, rows)


def rows_of(relation, columns: str) -> list[tuple]:
    """A model's rows as tuples (counts only: small), without loading pandas.

    (dbt.ref only takes literal model names, hence the relation as argument.)
    """
    return relation.project(columns).fetchall()
