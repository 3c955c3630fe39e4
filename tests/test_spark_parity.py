"""The same landing zone built on DuckDB and on Spark publishes the same tables (issue #16).

One small world, run twice through the command line (``privacy-pipeline run`` and
``--engine spark``): bad rows of several kinds, every timestamp form the contract accepts
(offsets with and without colon, hours only, Z, minutes without seconds, nine decimals,
lower case), consent events on both DST days, site names with percent-escapes,
punycode and a numeric IPv4 spelling, several lines per customer and enough
people in one cell for published location figures. Every published table and the DPO's
restricted tables must be equal row for row, and no model may be empty on one engine and
not on the other (a silent 0-row model is how Spark's quoting differences show).

One Spark session (about 3 GB, minutes on 2 cores) and, at the same time, the DuckDB
run: the module runs once, in its own xdist group.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor

import duckdb
import pytest
import yaml
from privacy_pipeline.config import DEFAULT_CONFIG_PATH
from privacy_pipeline.publish import PUBLISHED_TABLES
from privacy_pipeline.restricted import RESTRICTED_TABLES

from tests.support.landing import (
    C_PROXIMUS,
    C_SCARLET_MIGRATED,
    CELL_A1,
    RUN_DATE,
    consent_event,
    consent_events_for,
    make_customers,
    network_events_for,
    ts,
    write_landing_zone,
)
from tests.support.pipeline import run_pipeline

pytestmark = [pytest.mark.airflow, pytest.mark.spark, pytest.mark.xdist_group("spark")]

K = 15
# Columns that say when or how a run happened, not what it published. A gate result's
# candidate_fingerprint hashes the candidate's physical types too (Spark's int is DuckDB's
# integer, its sums are bigint where DuckDB's are int128): it binds a result to its own
# run's candidate, never compared across engines.
RUN_SPECIFIC_COLUMNS = {"run_id", "run_at", "published_at", "candidate_fingerprint"}
ENGINES = ("duckdb", "spark")
MODEL_SCHEMAS = ("staging", "intermediate", "marketing", "location", "dpo", "dpo_restricted")

# Every timestamp form of the contract (docs/data-contract.md), one consent event each.
TIMESTAMP_FORMS = {
    "colon_offset": "2026-06-19T10:00:00+02:00",
    "compact_offset": "2026-06-19T10:00:00+0200",
    "hour_offset": "2026-06-19T10:00:00+02",
    "zulu": "2026-06-19T08:00:00Z",
    "minutes_zulu": "2026-06-19T08:00Z",
    "minutes_offset": "2026-06-19 10:00+02:00",
    "space_separator": "2026-06-19 10:00:00+02:00",
    "nine_decimals": "2026-06-19T08:00:00.123456789Z",
    "lower_case": "2026-06-19t08:00:00z",
    "negative_offset": "2026-06-19T03:00:00-05:00",
    "decimal_comma": "2026-06-19T08:00:00,5Z",
    # DST days: the clocks go forward (2026-03-29) and back (2025-10-26) in Brussels.
    "spring_forward": "2026-03-29T02:30:00+01:00",
    "fall_back_first": "2025-10-26T02:30:00+02:00",
    "fall_back_second": "2025-10-26T02:30:00+01:00",
}


def parity_world(root):
    crowd = make_customers(24, postal_code="2000")
    # Several lines per customer: N00001 changed number during the run date.
    lines = [
        {
            "customer_id": "N00001",
            "msisdn": "+32480000001",
            "valid_from": "2020-01-15T10:00:00+01:00",
            "valid_to": ts(12),
        },
        {"customer_id": "N00001", "msisdn": "+32499000001", "valid_from": ts(12)},
        {
            "customer_id": "N00002",
            "msisdn": "+32480000002",
            "valid_from": "2020-01-15T10:00:00+01:00",
        },
    ]
    forms = [
        consent_event(
            f"TF-{name}",
            crowd[n % len(crowd)]["customer_id"],
            "partner_offers",
            "opt_out" if n % 2 else "opt_in",
            recorded_at=value,
        )
        for n, (name, value) in enumerate(sorted(TIMESTAMP_FORMS.items()))
    ]
    bad_customers = [
        {"customer_id": "", "brand": "proximus", "msisdn": "+32480999001", "postal_code": "2000"},
        {
            "customer_id": "BAD1",
            "brand": "nobrand",
            "msisdn": "+32480999002",
            "postal_code": "2000",
            "created_at": "2020-01-15T10:00:00+01:00",
        },
        {
            "customer_id": "BAD2",
            "brand": "proximus",
            "msisdn": "0470 12 34 56",
            "postal_code": "20",
            "created_at": "yesterday",
        },
    ]
    events = (
        network_events_for(crowd, CELL_A1, ts(10))
        + network_events_for(crowd, CELL_A1, ts(11, 30))
        + [
            {"msisdn": "+32499000001", "cell_id": CELL_A1, "event_at": ts(14)},
            {"msisdn": "+32480000001", "cell_id": CELL_A1, "event_at": "not a time"},
            {"msisdn": "", "cell_id": CELL_A1, "event_at": ts(9)},
        ]
    )
    return write_landing_zone(
        root,
        {
            "+customers": crowd + bad_customers,
            "customer_lines": lines,
            "+privacy_preferences": [
                *consent_events_for(crowd, "location_analytics", "opt_in", prefix="LOC"),
                *forms,
                consent_event("PP-BAD", C_PROXIMUS, "partner_offers", "maybe"),
                consent_event("PP-DUP", C_SCARLET_MIGRATED, "direct_marketing", "opt_in"),
                consent_event("PP-DUP", C_SCARLET_MIGRATED, "direct_marketing", "opt_out"),
            ],
            "+network_events": events,
            # site names read as hosts (percent-escapes, punycode, IP spellings):
            # pörn.example in three spellings, sensitive in all, and two addresses in two
            # spellings each (the functions decoded_site_spelling and ip_address_host)
            "+site_catalogue": [
                {"app_or_site": "xn--prn-0na.example", "category": "sexual"},
                {"app_or_site": "p%C3%B6rn.example/music", "category": "music"},
                {"app_or_site": "93.184.216.34", "category": "religious"},
                {"app_or_site": "2001:DB8:0::1", "category": "political"},
                {"app_or_site": "[2001:db8::1]:443/music", "category": "music"},
                # a format control Java 17's \p{Cf} does not know (Unicode 15)
                {"app_or_site": "hiero.example", "category": "sex\U00013439ual"},
            ],
            "+traffic_events": [
                {
                    "customer_id": C_PROXIMUS,
                    "observed_at": ts(11),
                    "network": "mobile",
                    "app_or_site": "https://P%C3%B6RN.example/x",
                    "bytes": 4096,
                },
                {
                    "customer_id": C_PROXIMUS,
                    "observed_at": ts(11, 5),
                    "network": "mobile",
                    "app_or_site": "http://0x5DB8D822/",
                    "bytes": 4096,
                },
                {
                    "customer_id": C_PROXIMUS,
                    "observed_at": ts(11, 10),
                    "network": "mobile",
                    "app_or_site": "https://[2001:0db8::0001]/x",
                    "bytes": 4096,
                },
            ],
            # a decomposed area name: both engines publish it composed (NFC)
            "+cells": [
                {
                    "cell_id": "CELL-NFD",
                    "postal_code": "4020",
                    "municipality": "Lie\u0300ge",
                    "province": "Lie\u0300ge",
                    "lat": "50.63",
                    "lon": "5.57",
                },
            ],
        },
    )


@pytest.fixture(scope="module")
def both_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("spark_parity")
    landing = parity_world(root / "landing")
    config = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    config["location"]["k"] = K
    # Keep the candidates after the run, to compare every model.
    config.setdefault("retention", {})["candidate_days"] = 1
    # A few dozen rows: planning and compiling each statement costs more than running it.
    config["spark"]["shuffle_partitions"] = 1
    config["spark"]["conf"] = {
        "spark.sql.codegen.wholeStage": "false",
        "spark.sql.adaptive.enabled": "false",
    }
    config_path = root / "pipeline.yml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")

    def run_on(engine):
        warehouse = root / f"warehouse-{engine}"
        result = run_pipeline(
            landing, warehouse, RUN_DATE, config=config_path, engine=engine, timeout=1200
        )
        return {"warehouse": warehouse, "result": result}

    # Two warehouses, two processes: the DuckDB run overlaps the Spark run, which mostly
    # waits on the JVM's per-statement scheduling (docs/benchmarks.md, Spark).
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(ENGINES, pool.map(run_on, ENGINES), strict=True))


def rows_of(database, relation):
    with duckdb.connect(str(database), read_only=True) as con:
        described = con.execute(f"select * from {relation} limit 0").description
        columns = [name for name, *_ in described if name not in RUN_SPECIFIC_COLUMNS]
        select = ", ".join(f'"{name}"' for name in columns)
        rows = con.execute(f"select {select} from {relation}").fetchall()
    return columns, sorted((tuple(normalised(value) for value in row) for row in rows), key=repr)


def normalised(value):
    # Spark writes integers as int/bigint and sums as bigint where DuckDB has int128;
    # a float compares to 12 significant digits (sums in another order).
    if isinstance(value, float) and math.isfinite(value):
        return round(value, 9)
    return value


def test_both_engines_publish(both_runs):
    for engine, run in both_runs.items():
        assert run["result"].returncode == 0, (
            engine,
            run["result"].stdout[-3000:],
            run["result"].stderr[-3000:],
        )


def test_every_published_table_is_identical(both_runs):
    different = []
    for table in PUBLISHED_TABLES:
        duck = rows_of(both_runs["duckdb"]["warehouse"] / "warehouse.duckdb", table)
        spark = rows_of(both_runs["spark"]["warehouse"] / "warehouse.duckdb", table)
        if duck != spark:
            different.append((table, duck[1][:5], spark[1][:5]))
    assert not different


def test_every_restricted_table_is_identical(both_runs):
    for table in RESTRICTED_TABLES:
        duck = rows_of(both_runs["duckdb"]["warehouse"] / "restricted" / "dpo.duckdb", table)
        spark = rows_of(both_runs["spark"]["warehouse"] / "restricted" / "dpo.duckdb", table)
        assert duck == spark, table


def test_no_model_is_empty_on_one_engine_only(both_runs):
    counts = {}
    for engine, run in both_runs.items():
        candidate = run["warehouse"] / "runs" / RUN_DATE / "candidate.duckdb"
        with duckdb.connect(str(candidate), read_only=True) as con:
            relations = con.execute(
                "select table_schema, table_name from information_schema.tables "
                f"where table_schema in {MODEL_SCHEMAS}"
            ).fetchall()
            counts[engine] = {
                f"{schema}.{name}": con.execute(
                    f'select count(*) from {schema}."{name}"'
                ).fetchone()[0]
                for schema, name in relations
            }
    assert set(counts["duckdb"]) == set(counts["spark"])
    lopsided = {
        name: (counts["duckdb"][name], counts["spark"][name])
        for name in counts["duckdb"]
        if (counts["duckdb"][name] == 0) != (counts["spark"][name] == 0)
    }
    assert not lopsided
    # The world is not trivial: figures were decided and rows quarantined on both engines.
    assert counts["spark"]["intermediate.int_location__release"] > 0
    assert counts["spark"]["dpo_restricted.quarantined_rows"] > 0


def test_the_pseudonym_key_is_in_no_spark_file(both_runs):
    """The key reaches Spark as a bound parameter: never in compiled SQL, logs or tables."""
    key = os.environ["PRIVACY_PIPELINE_PSEUDONYM_KEY"].encode()
    warehouse = both_runs["spark"]["warehouse"]
    leaks = [
        path
        for path in warehouse.rglob("*")
        if path.is_file()
        and path.suffix in {".sql", ".log", ".json", ".txt", ""}
        and key in path.read_bytes()
    ]
    assert not leaks
