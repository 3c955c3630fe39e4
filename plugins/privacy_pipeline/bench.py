"""``make bench``: the location stage and the whole nightly run at production scale.

Generates a landing zone (``privacy_pipeline.demo_data``), then measures, each in its own
process so its peak memory is its own (``os.wait4`` in a small launcher process returns
that child's resource usage):

1. every stage of the nightly run, in DAG order, with the staging of the network events
   split out of the staging stage (since session 4 the quarantine's pass over them: the
   accepted events are a view whose checks run inside the location stage's read) and
   the location models split out of the intermediate and marts stages (the location
   stage = ``dbt build`` of ``models/intermediate/location`` and ``models/marts/location``,
   tests included);
2. two floors, each one hand-written DuckDB query computing the same presence counts
   (three levels, allowed customers only, distinct people per area and hour): from the
   staged tables (what the location stage reads), and from the landing files (what the
   whole run reads: raw network events, the customers' numbers, the cells; the list of
   customers allowed on the run date is taken from the run, as computing consent is not
   location work). Both are checked to give exactly the run's presence counts;
3. the whole DAG through Airflow (``privacy-pipeline run``), end to end.

Writes ``<workdir>/bench-results.md`` (a markdown table) and ``bench-results.json``, and
returns the results. The landing zone is reused when it was generated with the same
parameters.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from privacy_pipeline.config import DEMO_DATA_MARKER, DEMO_RUN_DATE
from privacy_pipeline.sql import quote_literal

log = logging.getLogger(__name__)

PARAMS_FILE = "bench-landing.json"

INTERMEDIATE_LOCATION = "path:models/intermediate/location"
MARTS_LOCATION = "path:models/marts/location"
NETWORK_EVENTS_STAGING = ("base_network__network_events", "stg_network__network_events")


def dbt_build(*selection: str) -> str:
    return f"dbt(['build', {', '.join(repr(arg) for arg in selection)}])"


# (stage name, python statement run with `ctx` in scope), in the DAG's order.
STAGES: tuple[tuple[str, str], ...] = (
    ("load_landing", "from privacy_pipeline.stages import load_landing; load_landing(ctx)"),
    (
        "dbt_staging (without network events)",
        dbt_build("--select", "staging", "--exclude", *NETWORK_EVENTS_STAGING),
    ),
    ("network events staging", dbt_build("--select", *NETWORK_EVENTS_STAGING)),
    (
        "dbt_intermediate (without location)",
        dbt_build("--select", "intermediate", "--exclude", INTERMEDIATE_LOCATION),
    ),
    (
        "location stage (dbt build of the location models)",
        dbt_build("--select", INTERMEDIATE_LOCATION, MARTS_LOCATION),
    ),
    ("dbt_marts (without location)", dbt_build("--select", "marts", "--exclude", MARTS_LOCATION)),
    (
        "privacy_gates",
        "from privacy_pipeline.stages import run_gate; "
        "from privacy_pipeline.gates import SUITES; [run_gate(ctx, s) for s in SUITES]",
    ),
    ("publish", "from privacy_pipeline.stages import publish; publish(ctx)"),
    ("reports", "from privacy_pipeline.stages import write_reports; write_reports(ctx)"),
)

STAGE_PRELUDE = """
import logging, sys
logging.basicConfig(level=logging.WARNING)
from privacy_pipeline.run_context import RunContext
from privacy_pipeline.dbt_runner import run_dbt
ctx = RunContext.create({landing!r}, {warehouse!r}, {run_date!r})
ctx.run_dir.mkdir(parents=True, exist_ok=True)
def dbt(args):
    run_dbt(ctx, [*args, '--indirect-selection', 'cautious'])
"""

# The floors: presence counts at three levels in one statement (the fastest of the
# hand-written forms tried: distinct person hours, then one count per level; grouping sets
# with count(distinct) was ~20% slower). Both write floor_presence(area_level, area_id,
# hour_index, people).
FLOOR_COUNTS = """
select 'postal_code' as area_level, postal_code as area_id, hour_index, count(*) as people
from person_hours group by all
union all
select 'municipality', municipality, hour_index, count(distinct customer_id)
from person_hours group by all
union all
select 'province', province, hour_index, count(distinct customer_id)
from person_hours group by all
"""

# From the staged tables, what the location stage reads.
STAGED_FLOOR_QUERY = (
    """
create or replace temp table floor_presence as
with run_day as (
    select starts_at, ends_at from intermediate.int_consent__run_day
),
allowed as (
    select p.customer_id,
           greatest(p.created_at, coalesce(p.migrated_at, p.created_at)) as counted_from
    from staging.stg_crm__customers as p
    where p.customer_id in (
        select customer_id from intermediate.int_consent__effective
        where purpose = 'location_analytics' and is_allowed
    )
),
person_hours as (
    select distinct e.customer_id,
           cast(floor((epoch(e.event_at) - epoch(d.starts_at)) / 3600) as integer) as hour_index,
           c.postal_code, c.municipality, c.province
    from staging.stg_network__network_events as e
    cross join run_day as d
    join staging.stg_reference__cells as c on c.cell_id = e.cell_id
    join allowed as a on a.customer_id = e.customer_id
    where e.event_at >= d.starts_at and e.event_at < d.ends_at
      and e.event_at >= a.counted_from
)
"""
    + FLOOR_COUNTS
)

# From the landing files, what the whole run reads: the raw network events (the loader's
# view over the Parquet files), the customers' numbers and the cells as delivered. Who is
# allowed on the run date is the run's own consent state (1M rows, not location work).
LANDING_FLOOR_QUERY = (
    """
create or replace temp table floor_presence as
with run_day as (
    select starts_at, ends_at from intermediate.int_consent__run_day
),
allowed_numbers as (
    select distinct trim(c.msisdn) as msisdn, trim(c.customer_id) as customer_id,
           greatest(
               cast(c.created_at as timestamptz),
               coalesce(cast(c.migrated_at as timestamptz), cast(c.created_at as timestamptz))
           ) as counted_from
    from landing.customers as c
    where trim(c.customer_id) in (
        select customer_id from intermediate.int_consent__effective
        where purpose = 'location_analytics' and is_allowed
    )
),
person_hours as (
    select distinct n.customer_id,
           cast(floor((epoch(e.event_at) - epoch(d.starts_at)) / 3600) as integer) as hour_index,
           cast(c.postal_code as varchar) as postal_code, c.municipality, c.province
    from landing.network_events as e
    cross join run_day as d
    join allowed_numbers as n on n.msisdn = e.msisdn
    join landing.cells as c on c.cell_id = e.cell_id
    where e.event_at >= d.starts_at and e.event_at < d.ends_at
      and e.event_at >= n.counted_from
)
"""
    + FLOOR_COUNTS
)

# Rows of the floor that differ from the run's presence counts before suppression (0 =
# the floor computes exactly the same figures).
FLOOR_CHECK_QUERY = """
select count(*) from (
    (select area_level, area_id, hour_index, people from floor_presence
     except all
     select area_level, area_id, hour_index, people from intermediate.int_location__counts
     where table_name = 'presence_hourly')
    union all
    (select area_level, area_id, hour_index, people from intermediate.int_location__counts
     where table_name = 'presence_hourly'
     except all
     select area_level, area_id, hour_index, people from floor_presence)
) as differences
"""

FLOORS = (
    ("floor from the staged tables (one hand-written DuckDB query)", STAGED_FLOOR_QUERY),
    ("floor from the landing files (one hand-written DuckDB query)", LANDING_FLOOR_QUERY),
)


def run_benchmark(
    workdir: Path,
    customers: int,
    events_per_customer: int,
    run_date: str = DEMO_RUN_DATE,
    compare_with: Path | None = None,
) -> dict[str, Any]:
    """Generate (or reuse) the data, measure every stage, the floor and the whole DAG.

    ``compare_with``: the ``bench-results.json`` of a run at another size; the results then
    also give the marginal cost per event between the two sizes (``marginal_costs``).
    """
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    landing = workdir / "landing"
    results: dict[str, Any] = {
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "customers": customers,
        "events_per_customer": events_per_customer,
        "run_date": run_date,
        "cpus": os.cpu_count(),
        "measurements": [],
    }
    generation = ensure_landing_zone(landing, customers, events_per_customer, run_date)
    if generation:
        results["measurements"].append(generation)
    results["network_events"] = count_network_events(landing)

    stages_warehouse = workdir / "warehouse-stages"
    shutil.rmtree(stages_warehouse, ignore_errors=True)
    for name, statement in STAGES:
        measurement = measure_python(
            name, stage_script(landing, stages_warehouse, run_date, statement)
        )
        results["measurements"].append(measurement)
        if not measurement["ok"]:
            break
        if name.startswith("location stage"):
            results["location_dbt_nodes"] = dbt_node_seconds(stages_warehouse, run_date)
    candidate = stages_warehouse / "runs" / run_date / "candidate.duckdb"
    if candidate.exists():
        for name, query in FLOORS:
            results["measurements"].append(measure_floor(name, query, candidate))

    dag_warehouse = workdir / "warehouse-dag"
    shutil.rmtree(dag_warehouse, ignore_errors=True)
    results["measurements"].append(
        measure(
            "whole nightly run (privacy-pipeline run, Airflow)",
            [
                sys.executable,
                "-m",
                "privacy_pipeline.cli",
                "run",
                "--landing",
                str(landing),
                "--warehouse",
                str(dag_warehouse),
                "--date",
                run_date,
            ],
        )  # fmt: skip
    )
    add_ratios(results)
    if compare_with:
        results["marginal"] = marginal_costs(json.loads(Path(compare_with).read_text()), results)
    write_results(workdir, results)
    return results


def ensure_landing_zone(
    landing: Path, customers: int, events_per_customer: int, run_date: str
) -> dict[str, Any] | None:
    """Generate the landing zone unless the one in place has the same parameters."""
    params = {"customers": customers, "events_per_customer": events_per_customer,
              "end_date": run_date}  # fmt: skip
    marker = landing / PARAMS_FILE
    # A landing zone from before demo-data marked its output (_DEMO_DATA) is generated again.
    demo = (landing / DEMO_DATA_MARKER).exists()
    if demo and marker.exists() and json.loads(marker.read_text()) == params:
        log.info("reusing the landing zone in %s", landing)
        return None
    script = textwrap.dedent(f"""
        import datetime as dt
        from pathlib import Path
        from privacy_pipeline.demo_data import generate_landing_zone
        generate_landing_zone(Path({str(landing)!r}), customers={customers},
                              events_per_customer={events_per_customer},
                              end_date=dt.date.fromisoformat({run_date!r}))
    """)
    measurement = measure_python("generate landing zone (demo-data)", script)
    if not measurement["ok"]:
        raise RuntimeError(f"demo data generation failed:\n{measurement['error']}")
    marker.write_text(json.dumps(params))
    return measurement


def count_network_events(landing: Path) -> int:
    import duckdb

    folder = landing / "network_events"
    pattern = str(folder / "*.parquet") if folder.is_dir() else str(landing / "network_events.*")
    con = duckdb.connect()
    try:
        return con.execute(f"select count(*) from {quote_literal(pattern)}").fetchone()[0]
    finally:
        con.close()


def dbt_node_seconds(warehouse: Path, run_date: str) -> dict[str, float]:
    """Execution time of each node of the last dbt invocation (without dbt's start-up)."""
    results_file = warehouse / "runs" / run_date / "dbt" / "target" / "run_results.json"
    if not results_file.exists():
        return {}
    nodes = json.loads(results_file.read_text())["results"]
    return {node["unique_id"]: round(node["execution_time"], 1) for node in nodes}


def stage_script(landing: Path, warehouse: Path, run_date: str, statement: str) -> str:
    prelude = STAGE_PRELUDE.format(landing=str(landing), warehouse=str(warehouse),
                                   run_date=run_date)  # fmt: skip
    return prelude + statement + "\n"


def measure_floor(name: str, query: str, candidate: Path) -> dict[str, Any]:
    """Time the floor query (its figures are saved, a few milliseconds), then check outside
    the measurement that they are exactly the run's presence counts."""
    figures = candidate.parent / "floor_presence.parquet"
    script = textwrap.dedent(f"""
        import duckdb
        con = duckdb.connect({str(candidate)!r}, read_only=True)
        con.execute("set enable_progress_bar = false")
        con.execute({query!r})
        con.execute("copy floor_presence to ? (format parquet)", [{str(figures)!r}])
    """)
    measurement = measure_python(name, script)
    if measurement["ok"]:
        measurement["differences_from_the_run"] = floor_differences(candidate, figures)
    return measurement


def floor_differences(candidate: Path, figures: Path) -> int:
    """Rows of the floor's figures that are not the run's presence counts, and the reverse."""
    import duckdb

    con = duckdb.connect(str(candidate), read_only=True)
    try:
        con.execute(f"create temp view floor_presence as select * from {quote_literal(figures)}")
        return con.execute(FLOOR_CHECK_QUERY).fetchone()[0]
    finally:
        con.close()
        figures.unlink()


def measure_python(name: str, script: str) -> dict[str, Any]:
    return measure(name, [sys.executable, "-c", script])


# Runs the measured command as its own child and reports that child's resource usage.
# A child forked straight from the benchmark process would report the benchmark's memory
# as its peak (Linux keeps the pre-exec high-water mark), so a tiny fresh interpreter
# forks it instead.
LAUNCHER = """
import json, os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    json.dump({"exit_code": os.waitstatus_to_exitcode(status),
               "cpu_seconds": usage.ru_utime + usage.ru_stime,
               "peak_rss_kb": usage.ru_maxrss}, out)
"""


def measure(name: str, command: list[str]) -> dict[str, Any]:
    """Run ``command`` in a child process: wall time, CPU time and its own peak RSS."""
    log.info("bench: %s ...", name)
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        usage_file, output_file = Path(scratch) / "usage.json", Path(scratch) / "output.txt"
        started = time.perf_counter()
        with output_file.open("w") as output:
            subprocess.run(
                [sys.executable, "-c", LAUNCHER, str(usage_file), *command],
                stdout=output, stderr=subprocess.STDOUT, env=bench_env(), check=False,
            )  # fmt: skip
        wall = time.perf_counter() - started
        usage = json.loads(usage_file.read_text())
        text = output_file.read_text()
    measurement = {
        "stage": name,
        "ok": usage["exit_code"] == 0,
        "exit_code": usage["exit_code"],
        "wall_seconds": round(wall, 1),
        "cpu_seconds": round(usage["cpu_seconds"], 1),
        "peak_rss_mb": round(usage["peak_rss_kb"] / 1024),
    }
    if usage["exit_code"] != 0:
        measurement["error"] = text[-3000:]
    log.info("bench: %s: %s", name, {k: v for k, v in measurement.items() if k != "error"})
    return measurement


def stage_named(results: dict[str, Any], prefix: str) -> dict[str, Any] | None:
    """The successful measurement whose stage name starts with ``prefix``."""
    return next(
        (m for m in results["measurements"] if m["stage"].startswith(prefix) and m["ok"]), None
    )


def add_ratios(results: dict[str, Any]) -> None:
    """Location work and the whole run relative to the floors (targets 1.5x and 2x).

    Against the floor from the staged tables (same input as the location stage): the
    location stage's own dbt invocation (including dbt's start-up and project parsing,
    ~10 s whatever the data size) and its models' execution time alone (what it adds to
    the nightly run's dbt stages). Against the floor from the landing files (same input as
    the whole run): the location path (staging of the network events + location stage)
    and the whole nightly run. The whole run is also given against the staged floor.
    """
    nodes = results.get("location_dbt_nodes", {})
    results["location_models_seconds"] = round(
        sum(t for node, t in nodes.items() if node.startswith("model.")), 1
    )
    results["location_tests_seconds"] = round(
        sum(t for node, t in nodes.items() if node.startswith("test.")), 1
    )
    staged_floor = stage_named(results, "floor from the staged")
    landing_floor = stage_named(results, "floor from the landing")
    network_staging = stage_named(results, "network events staging")
    location = stage_named(results, "location stage")
    whole = stage_named(results, "whole")

    def ratio(key: str, seconds: float | None, floor: dict[str, Any] | None) -> None:
        if seconds is not None and floor:
            results[key] = round(seconds / floor["wall_seconds"], 2)

    ratio("location_stage_vs_staged_floor", location and location["wall_seconds"], staged_floor)
    models_seconds = results["location_models_seconds"]
    ratio("location_models_vs_staged_floor", location and models_seconds, staged_floor)
    path_seconds = (
        network_staging
        and location
        and (network_staging["wall_seconds"] + location["wall_seconds"])
    )
    ratio("location_path_vs_landing_floor", path_seconds, landing_floor)
    ratio("whole_run_vs_landing_floor", whole and whole["wall_seconds"], landing_floor)
    ratio("whole_run_vs_staged_floor", whole and whole["wall_seconds"], staged_floor)


# Stages whose marginal cost is compared with the landing floor's (prefixes of stage names).
MARGINAL_STAGES = (
    "whole",
    "network events staging",
    "location stage",
    "dbt_staging",
    "dbt_intermediate",
    "dbt_marts",
    "privacy_gates",
    "floor from the landing",
)


def marginal_costs(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """Seconds per million network events between two runs of different sizes, per stage
    (wall and CPU), and each stage's marginal cost relative to the landing floor's (the
    whole run's target: at most 2x). The fixed part of a stage does not enter: it is the
    same at both sizes."""
    small, large = sorted((first, second), key=lambda r: r["network_events"])
    million_events = (large["network_events"] - small["network_events"]) / 1e6
    if million_events <= 0:
        raise ValueError("the two runs have the same number of network events")
    costs: dict[str, Any] = {
        "network_events": [small["network_events"], large["network_events"]],
        "stages": {},
    }
    for prefix in MARGINAL_STAGES:
        before, after = stage_named(small, prefix), stage_named(large, prefix)
        if before and after:
            costs["stages"][after["stage"]] = {
                measure: round((after[measure] - before[measure]) / million_events, 3)
                for measure in ("wall_seconds", "cpu_seconds")
            }
    floor = next(
        (c for name, c in costs["stages"].items() if name.startswith("floor from the landing")),
        None,
    )
    if floor:
        for stage_costs in costs["stages"].values():
            for measure in ("wall_seconds", "cpu_seconds"):
                if floor[measure] > 0:
                    stage_costs[f"{measure}_vs_floor"] = round(
                        stage_costs[measure] / floor[measure], 2
                    )
    return costs


def marginal_table(costs: dict[str, Any]) -> list[str]:
    small, large = costs["network_events"]
    lines = [
        "",
        f"Marginal cost between {small:,} and {large:,} network events "
        "(seconds per million events; x = relative to the landing floor's, "
        "target <= 2 for the whole run):",
        "",
        "| stage | wall s / M events | x floor | CPU s / M events | x floor |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, c in costs["stages"].items():
        lines.append(
            f"| {name} | {c['wall_seconds']} | {c.get('wall_seconds_vs_floor', '')} | "
            f"{c['cpu_seconds']} | {c.get('cpu_seconds_vs_floor', '')} |"
        )
    return lines


RATIO_LABELS = (
    ("location_stage_vs_staged_floor",
     "location stage (own dbt invocation) / floor from the staged tables, target <= 1.5"),
    ("location_models_vs_staged_floor",
     "location models' execution time / floor from the staged tables, target <= 1.5"),
    ("location_path_vs_landing_floor",
     "network events staging + location stage / floor from the landing files, target <= 1.5"),
    ("whole_run_vs_landing_floor", "whole nightly run / floor from the landing files, target <= 2"),
    ("whole_run_vs_staged_floor", "whole nightly run / floor from the staged tables, target <= 2"),
)  # fmt: skip


def markdown_table(results: dict[str, Any]) -> str:
    lines = [
        f"{results['customers']:,} customers, {results['network_events']:,} network events, "
        f"run date {results['run_date']}, {results['cpus']} CPUs, "
        f"started {results['started_at']}",
        "",
        "| stage | wall (s) | CPU (s) | peak RSS (MB) | ok |",
        "|---|---:|---:|---:|---|",
    ]
    for m in results["measurements"]:
        lines.append(
            f"| {m['stage']} | {m['wall_seconds']} | {m['cpu_seconds']} | "
            f"{m['peak_rss_mb']} | {'yes' if m['ok'] else 'FAILED'} |"
        )
    nodes = results.get("location_dbt_nodes", {})
    slowest = sorted(
        ((node.split(".")[-1], t) for node, t in nodes.items() if node.startswith("model.")),
        key=lambda item: -item[1],
    )[:5]
    lines += [
        "",
        f"Location stage inside dbt: models {results['location_models_seconds']} s, "
        f"tests {results['location_tests_seconds']} s; slowest models: "
        + ", ".join(f"{name} {t} s" for name, t in slowest),
        "",
    ]
    lines += [f"- {label}: **{results[key]}x**" for key, label in RATIO_LABELS if key in results]
    lines += [
        f"- {m['stage']}: {m['differences_from_the_run']} figures differ from the run's counts"
        for m in results["measurements"]
        if "differences_from_the_run" in m
    ]
    if "marginal" in results:
        lines += marginal_table(results["marginal"])
    return "\n".join(lines) + "\n"


def write_results(workdir: Path, results: dict[str, Any]) -> None:
    (workdir / "bench-results.json").write_text(json.dumps(results, indent=2))
    table = markdown_table(results)
    (workdir / "bench-results.md").write_text(table)
    print(table)


def bench_env() -> dict[str, str]:
    """The benchmark's children log little and never touch the user's Airflow home."""
    return {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
