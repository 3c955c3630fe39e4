"""``privacy-pipeline``: the command line of data engineers, the README and acceptance checks.

Exit codes of ``run``: 0 published, 1 a privacy gate failed (nothing new published),
2 unusable input (contract broken, no pseudonym key, or an unsafe setting such as a k
below the configured one), 3 any other failure. ``export`` returns 0, 2 or 3, never 1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import logging
import sys
from pathlib import Path

from privacy_pipeline.config import DEMO_RUN_DATE, default_landing_dir, default_warehouse_dir
from privacy_pipeline.errors import PipelineError
from privacy_pipeline.run_context import ENGINES


def iso_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {value!r}") from exc


def cmd_run(args: argparse.Namespace) -> int:
    from privacy_pipeline.airflow_runner import run_pipeline
    from privacy_pipeline.run_context import RunContext

    if not args.landing.is_dir():
        print(f"landing zone {args.landing} is not a folder", file=sys.stderr)
        return 2
    ctx = RunContext.create(args.landing, args.warehouse, args.date, k=args.k, engine=args.engine)
    code = run_pipeline(ctx, verbose=args.verbose)
    print_run_summary(ctx, code)
    return code


def cmd_backfill(args: argparse.Namespace) -> int:
    from privacy_pipeline.backfill import backfill

    if not args.landing.is_dir():
        print(f"landing zone {args.landing} is not a folder", file=sys.stderr)
        return 2
    return backfill(
        args.landing,
        args.warehouse,
        args.from_date,
        args.to_date,
        k=args.k,
        force=args.force,
        verbose=args.verbose,
    )


def print_run_summary(ctx, code: int) -> None:
    from privacy_pipeline.summary import run_summary_lines

    print("\n".join(run_summary_lines(ctx, code)))


def cmd_export(args: argparse.Namespace) -> int:
    from privacy_pipeline.export import export_table

    rows = export_table(
        args.warehouse, args.table, args.format, args.output, args.run_date, args.recipient
    )
    print(f"exported {rows} rows of {args.table} to {args.output}")
    return 0


def cmd_access(args: argparse.Namespace) -> int:
    from privacy_pipeline.access import write_access_answer

    if not args.warehouse.is_dir():
        print(f"warehouse {args.warehouse} is not a folder", file=sys.stderr)
        return 2
    write_access_answer(args.warehouse, args.customer_id, args.output, args.format)
    # The file holds person-level data; the console only says where it is.
    print(f"wrote everything held about the customer to {args.output}")
    return 0


def cmd_demo_data(args: argparse.Namespace) -> int:
    from privacy_pipeline.demo_data import generate_landing_zone

    counts = generate_landing_zone(
        args.landing,
        customers=args.customers,
        days=args.days,
        events_per_customer=args.events_per_customer,
        seed=args.seed,
        end_date=args.end_date,
    )
    width = max(len(name) for name in counts)
    for name, rows in counts.items():
        print(f"  {name:<{width}}  {rows:>12,} rows")
    print(f"landing zone written to {args.landing}")
    return 0


# dbt commands that read no landing data, hence pseudonymise nothing (``make dbt-parse``).
DATA_FREE_DBT_COMMANDS = ("parse", "ls", "list", "debug", "deps", "clean")


def cmd_dbt(args: argparse.Namespace) -> int:
    from privacy_pipeline.dbt_runner import run_dbt
    from privacy_pipeline.run_context import RunContext

    reads_data = bool(args.dbt_args) and args.dbt_args[0] not in DATA_FREE_DBT_COMMANDS
    ctx = RunContext.create(
        args.landing, args.warehouse, args.date, k=args.k, reads_data=reads_data
    )
    run_dbt(ctx, args.dbt_args)
    return 0


def cmd_lint_sql(args: argparse.Namespace) -> int:
    from privacy_pipeline.sql_lint import lint_models

    violations = lint_models(args.paths)
    print(f"sqlfluff: {violations} violation(s)")
    return 1 if violations else 0


def cmd_bench(args: argparse.Namespace) -> int:
    from privacy_pipeline.bench import run_benchmark

    run_benchmark(
        args.workdir,
        customers=args.customers,
        events_per_customer=args.events_per_customer,
        compare_with=args.compare_with,
    )
    return 0


def add_verbose(command: argparse.ArgumentParser) -> None:
    """``-v`` also after the command name (SUPPRESS: it does not reset a ``-v`` before it)."""
    command.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the Airflow and dbt logs live (they always go to <warehouse>/logs/<D>.log)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="privacy-pipeline",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="debug logging; run logs shown live"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the nightly DAG for one date through Airflow")
    run.add_argument("--landing", type=Path, default=default_landing_dir())
    run.add_argument("--warehouse", type=Path, default=default_warehouse_dir())
    run.add_argument("--date", type=iso_date, required=True, help="run date YYYY-MM-DD")
    run.add_argument("--k", type=int, default=None, help="k-anonymity threshold (>= 15)")
    run.add_argument(
        "--engine",
        choices=ENGINES,
        default="duckdb",
        help="engine that builds the models (spark: dbt-spark, docs/spark.md)",
    )
    add_verbose(run)
    run.set_defaults(func=cmd_run)

    backfill = commands.add_parser(
        "backfill", help="run the nightly DAG for each date of a range, in order"
    )
    backfill.add_argument("--landing", type=Path, default=default_landing_dir())
    backfill.add_argument("--warehouse", type=Path, default=default_warehouse_dir())
    backfill.add_argument(
        "--from", dest="from_date", type=iso_date, required=True, help="first date YYYY-MM-DD"
    )
    backfill.add_argument(
        "--to", dest="to_date", type=iso_date, required=True, help="last date YYYY-MM-DD"
    )
    backfill.add_argument("--k", type=int, default=None, help="k-anonymity threshold (>= 15)")
    backfill.add_argument(
        "--force", action="store_true", help="rerun dates that are already published"
    )
    add_verbose(backfill)
    backfill.set_defaults(func=cmd_backfill)

    export = commands.add_parser("export", help="export a published table as CSV or Parquet")
    export.add_argument("--warehouse", type=Path, default=default_warehouse_dir())
    export.add_argument(
        "--table", required=True, help="SCHEMA.TABLE, e.g. marketing.segment_members"
    )
    export.add_argument("--format", choices=["csv", "parquet"], required=True)
    export.add_argument("--output", type=Path, required=True)
    export.add_argument(
        "--run-date",
        type=iso_date,
        default=None,
        help="the run date to export (default: the latest published date)",
    )
    export.add_argument(
        "--recipient",
        default=None,
        help="export for this recipient (a dbt exposure's config.meta.recipient, e.g. "
        "location_buyers): refused (exit 2) unless the recipient receives the table",
    )
    export.set_defaults(func=cmd_export)

    access = commands.add_parser(
        "access", help="answer an access request: everything held about one customer"
    )
    access.add_argument("--warehouse", type=Path, default=default_warehouse_dir())
    access.add_argument("--customer-id", required=True)
    access.add_argument("--output", type=Path, required=True)
    access.add_argument("--format", choices=["json", "html"], default="json")
    access.set_defaults(func=cmd_access)

    demo = commands.add_parser("demo-data", help="generate a synthetic landing zone")
    demo.add_argument("--landing", type=Path, required=True)
    demo.add_argument("--customers", type=int, default=2000)
    demo.add_argument("--days", type=int, default=1)
    demo.add_argument(
        "--events-per-customer", type=int, default=100, help="network events per customer per day"
    )
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument(
        "--end-date",
        type=iso_date,
        default=iso_date(DEMO_RUN_DATE),
        help="last day of generated activity (the run date)",
    )
    demo.set_defaults(func=cmd_demo_data)

    dbt = commands.add_parser("dbt", help="run a dbt command on a run's candidate database")
    dbt.add_argument("--landing", type=Path, default=default_landing_dir())
    dbt.add_argument("--warehouse", type=Path, default=default_warehouse_dir())
    dbt.add_argument("--date", type=iso_date, default=iso_date(DEMO_RUN_DATE))
    dbt.add_argument("--k", type=int, default=None)
    dbt.add_argument("dbt_args", nargs=argparse.REMAINDER, help="e.g. -- build --select staging")
    dbt.set_defaults(func=cmd_dbt)

    lint = commands.add_parser(
        "lint-sql", help="sqlfluff on the dbt models, with the pipeline's vars"
    )
    lint.add_argument("paths", nargs="*", help="files or folders (default: dbt_project/models)")
    lint.set_defaults(func=cmd_lint_sql)

    bench = commands.add_parser("bench", help="benchmark the location stage and the whole run")
    bench.add_argument("--workdir", type=Path, required=True)
    bench.add_argument("--customers", type=int, default=1_000_000)
    bench.add_argument("--events-per-customer", type=int, default=100)
    bench.add_argument(
        "--compare-with",
        type=Path,
        metavar="RESULTS_JSON",
        help="bench-results.json of a run at another size: adds the marginal cost per event",
    )
    bench.set_defaults(func=cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "dbt_args", None) and args.dbt_args[0] == "--":
        args.dbt_args = args.dbt_args[1:]
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return args.func(args)
    except PipelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:  # exit 1 means a failed privacy gate: never a crash
        logging.getLogger("privacy_pipeline.cli").exception("unexpected failure")
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 3
    finally:
        # The interpreter's last full garbage collection walked every object Airflow, dbt
        # and Great Expectations left (~10 s after a run): the process ends, skip it.
        gc.freeze()


if __name__ == "__main__":
    sys.exit(main())
