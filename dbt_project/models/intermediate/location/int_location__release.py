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
    from privacy_pipeline.location.release import decide_release

    dbt.config(materialized="table")
    location_config = json.loads(dbt.config.get("location_config"))
    # runs/<date>/candidate.duckdb -> the warehouse folder, home of the DP noise ledger.
    warehouse_dir = candidate_database_path(session).parents[2]
    return decide_release(
        area_counts=dbt.ref("int_location__area_hour_counts").df(),
        event_counts=dbt.ref("int_location__event_counts").df(),
        area_tree=dbt.ref("int_location__area_tree").df(),
        event_postal_codes=dbt.ref("int_location__event_postal_codes").df(),
        location_config=location_config,
        k=int(dbt.config.get("k")),
        run_date=dbt.config.get("run_date"),
        warehouse_dir=warehouse_dir,
    )
