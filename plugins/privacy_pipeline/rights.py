"""Data-subject requests: the register, erasure that reaches every copy, nightly access answers.

Requests arrive in the optional landing table ``data_subject_requests`` (staged by
``stg_rights__data_subject_requests``, which flags ``matched`` and ``forwarded``). Every
night, whatever the gates said (a request never waits for a green night):

1. tonight's accepted requests join the **register**, table ``data_subject_requests`` of the
   restricted store ``<warehouse>/restricted/dpo.duckdb``: never pruned, never published.
   A request naming no known customer is kept there as unmatched and shown in the run
   report; it is never dropped.
2. every erasure request received by the end of the run date is applied
   (``erase_customers``): the customer's rows leave every published table of every run
   date (``warehouse.duckdb``), every export version (rewritten through the publication
   log and the atomic link swap, as ``privacy_pipeline.withdrawal`` does for objectors),
   the restricted store, the consent ledger and every candidate database; the database
   files are then rewritten, so no deleted bytes stay in their free blocks. The receipt
   ``<warehouse>/restricted/erasure/<request_id>.json`` lists the rows removed per store and
   table, with a digest. The register then keeps only a keyed pseudonym of the customer
   (``customer_key``), which ``load_landing`` turns back into tonight's customer ids
   (``landing.erased_customers``): staging excludes the customer in every later run.
3. every access request received by the end of the run date is answered as
   ``<warehouse>/restricted/access/<request_id>.json`` (``privacy_pipeline.access``).

Already-published location aggregates are anonymous counts and stay as they are.
See docs/dpo.md.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

import duckdb

from privacy_pipeline.gates.candidate import connect_candidate
from privacy_pipeline.pseudonyms import pseudonym
from privacy_pipeline.publish import PUBLISHED_TABLES, table_columns, while_locked
from privacy_pipeline.restricted import RESTRICTED_TABLES, restricted_db, store_table
from privacy_pipeline.run_context import RunContext
from privacy_pipeline.sql import qualified
from privacy_pipeline.sql import quote_identifier as quote
from privacy_pipeline.transaction import transaction

log = logging.getLogger(__name__)

REGISTER = "main.data_subject_requests"  # in the restricted store
REQUESTS_TABLE = "data_subject_requests"  # the landing table
STAGED_REQUESTS = "staging.stg_rights__data_subject_requests"
ERASED_LANDING = "landing.erased_customers"
ERASED_STAGED = "staging.stg_rights__erased_customers"
ERASURE_DIR = "erasure"
ACCESS_DIR = "access"
REPORT_FILE = "rights.json"
ERASED_MARK = "[erased]"
# The consent ledger's tables holding a customer (consent_ledger.py).
LEDGER_TABLES = ("main.events", "main.conflicts")


def run_ends_at(ctx: RunContext) -> dt.datetime:
    from privacy_pipeline.gates.candidate import run_window

    return run_window(ctx.run_date, ctx.config["timezone"])[1]


def customer_key(customer_id: str) -> str:
    """The register's keyed pseudonym of a customer id (no id stays after an erasure)."""
    return pseudonym(f"customer_id:{customer_id}")


def create_register(con: duckdb.DuckDBPyConnection, catalog: str | None = None) -> None:
    prefix = f"{catalog}." if catalog else ""
    con.execute(
        f"""create table if not exists {prefix}{REGISTER} (
            request_id varchar primary key, customer_id varchar, customer_key varchar,
            kind varchar, received_at timestamptz, channel varchar, addressed_to varchar,
            matched boolean, applicable_address varchar, forwarded boolean,
            first_run_date date, first_run_id varchar,
            completed_at timestamptz, completed_run_date date, outcome varchar)"""
    )


# ----------------------------------------------------------------- load_landing


def record_erased_customers(con: duckdb.DuckDBPyConnection, ctx: RunContext) -> int:
    """``landing.erased_customers``: tonight's customer ids of every erasure in the register
    (applied, or pending and received by the end of the run date). Called by load_landing
    after the landing views exist; staging excludes these customers.

    ``due_in_earlier_run`` says whether an earlier run had to apply the customer's erasure
    (it applied it, or it was received before the end of the run date of the run that
    registered it): only then must the published warehouse already be clean of them. An
    erasure registered before it applied (received after its first run's date, e.g. just
    after midnight) becomes due tonight: tonight's candidate must not hold the customer,
    and honour_requests cleans the earlier publications after tonight's gates."""
    from privacy_pipeline.gates.candidate import run_window

    con.execute(
        f"create or replace table {ERASED_LANDING} "
        "(customer_id varchar, due_in_earlier_run boolean)"
    )
    store = restricted_db(ctx.warehouse_dir)
    if not store.exists():
        return 0
    with read_store(store) as register:
        if register is None:
            return 0
        rows = register.execute(
            f"""select customer_id, customer_key, completed_at is not null, received_at,
                       first_run_date
                from {REGISTER}
                where kind = 'erasure' and (completed_at is not null or received_at < ?)""",
            [run_ends_at(ctx)],
        ).fetchall()
    timezone = ctx.config["timezone"]

    def due_earlier(completed: bool, received_at: Any, first_run_date: Any) -> bool:
        if completed or first_run_date is None or received_at is None:
            return bool(completed)
        return received_at < run_window(first_run_date, timezone)[1]

    by_id: dict[str, bool] = {}
    by_key: dict[str, bool] = {}
    for cid, key, completed, received_at, first_run_date in rows:
        due = due_earlier(completed, received_at, first_run_date)
        if cid:
            by_id[cid] = by_id.get(cid, False) or due
        if key:
            by_key[key] = by_key.get(key, False) or due
    if by_key:
        for (cid,) in con.execute(delivered_customer_ids_sql()).fetchall():
            key = customer_key(cid)
            if key in by_key:
                by_id[cid] = by_id.get(cid, False) or by_key[key]
    if by_id:
        con.executemany(
            f"insert into {ERASED_LANDING} values (?, ?)",
            [[cid, by_id[cid]] for cid in sorted(by_id)],
        )
    return len(by_id)


def delivered_customer_ids_sql() -> str:
    """Every customer id tonight's landing zone names (CRM and requests)."""
    trimmed = "nullif(trim(cast(customer_id as varchar)), '')"
    return f"""select distinct {trimmed} from landing.customers where {trimmed} is not null
               union select distinct {trimmed} from landing.customer_lines
               where {trimmed} is not null"""


@contextlib.contextmanager
def read_store(store: Path):
    """The register, read-only; None when the store has no register yet."""
    con = while_locked(lambda: duckdb.connect(str(store), read_only=True), store)
    try:
        exists = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'main' and table_name = 'data_subject_requests'"
        ).fetchone()[0]
        yield con if exists else None
    finally:
        con.close()


# ----------------------------------------------------------------- the nightly stage


def honour_requests(ctx: RunContext) -> dict[str, Any]:
    """Register tonight's requests, apply the erasures, answer the access requests."""
    store = restricted_db(ctx.warehouse_dir)
    store.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    staged = staged_requests(ctx)
    con = while_locked(lambda: duckdb.connect(str(store)), store)
    try:
        create_register(con)
        new = register_requests(con, ctx, staged)
        due = con.execute(
            f"""select request_id, kind, customer_id, customer_key, received_at, forwarded,
                       matched, completed_at
                from {REGISTER} where received_at < ? order by received_at, request_id""",
            [run_ends_at(ctx)],
        ).fetchall()
    finally:
        con.close()
    erasures = [row for row in due if row[1] == "erasure"]
    pending_erasures = [row for row in erasures if row[7] is None]
    erased_ids = {row[2] for row in erasures if row[2]} | landing_erased_ids(ctx)
    removed = erase_customers(ctx, sorted(erased_ids)) if erased_ids else {}
    for row in pending_erasures:
        write_receipt(ctx, row, removed)
    answered = answer_access_requests(
        ctx, [row for row in due if row[1] == "access" and row[7] is None]
    )
    complete_requests(ctx, pending_erasures, answered)
    report = {
        "new_requests": len(new),
        "requests": [
            {
                "request_id": row["request_id"],
                "kind": row["kind"],
                "received_at": str(row["received_at"]),
                "matched": row["matched"],
                "forwarded": row["forwarded"],
                "addressed_to": row["addressed_to"],
                "applicable_address": row["applicable_address"],
                # Only an unmatched request shows the number as written: the DPO must
                # find whom it means.
                "customer_id_as_written": None if row["matched"] else row["customer_id"],
            }
            for row in new
        ],
        "erasures_applied": [row[0] for row in pending_erasures],
        "rows_erased": sum(sum(t.values()) for t in removed.values()),
        "access_answered": answered,
    }
    ctx.run_dir.mkdir(parents=True, exist_ok=True)
    (ctx.run_dir / REPORT_FILE).write_text(json.dumps(report, indent=2, default=str))
    return {k: v for k, v in report.items() if k != "requests"}


def staged_requests(ctx: RunContext) -> list[dict[str, Any]]:
    """Tonight's accepted requests from the candidate (none if staging did not run)."""
    if not ctx.candidate_db.exists():
        return []
    try:
        con = connect_candidate(ctx.candidate_db)
    except duckdb.Error:
        return []
    try:
        cursor = con.execute(f"select * from {STAGED_REQUESTS}")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    except duckdb.Error:
        return []
    finally:
        con.close()


def landing_erased_ids(ctx: RunContext) -> set[str]:
    """The customers staging excluded tonight (the register's, resolved by load_landing,
    and tonight's requests, even a quarantined one): rows delivered again are swept too."""
    if not ctx.candidate_db.exists():
        return set()
    try:
        con = connect_candidate(ctx.candidate_db)
    except duckdb.Error:
        return set()
    try:
        found = set()
        for table in (ERASED_LANDING, ERASED_STAGED):
            with contextlib.suppress(duckdb.Error):
                found |= {
                    cid for (cid,) in con.execute(f"select customer_id from {table}").fetchall()
                }
        return found
    except duckdb.Error:
        return set()
    finally:
        con.close()


def register_requests(
    con: duckdb.DuckDBPyConnection, ctx: RunContext, staged: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Insert the requests the register does not know yet; returns them."""
    known = {rid for (rid,) in con.execute(f"select request_id from {REGISTER}").fetchall()}
    new = [row for row in staged if row["request_id"] not in known]
    for row in new:
        con.execute(
            f"insert into {REGISTER} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "cast(? as date), ?, null, null, null)",
            [
                row["request_id"],
                row["customer_id"],
                customer_key(row["customer_id"]),
                row["kind"],
                row["received_at"],
                row["channel"],
                row["addressed_to"],
                row["matched"],
                row["applicable_address"],
                row["forwarded"],
                ctx.run_date.isoformat(),
                ctx.run_id,
            ],
        )
    return new


def complete_requests(ctx: RunContext, erasures: list[tuple], answered: list[str]) -> None:
    """Mark requests done; an erased customer's id leaves the register (its key stays)."""
    store = restricted_db(ctx.warehouse_dir)
    now = dt.datetime.now(dt.UTC)
    con = while_locked(lambda: duckdb.connect(str(store)), store)
    try:
        for request_id in answered:
            con.execute(
                f"update {REGISTER} set completed_at = ?, completed_run_date = cast(? as date), "
                "outcome = 'answered' where request_id = ?",
                [now, ctx.run_date.isoformat(), request_id],
            )
        for row in erasures:
            con.execute(
                f"update {REGISTER} set completed_at = ?, completed_run_date = cast(? as date), "
                "outcome = 'erased' where request_id = ?",
                [now, ctx.run_date.isoformat(), row[0]],
            )
        if erasures:
            keys = sorted({row[3] for row in erasures})
            # Every request of an erased customer keeps its record, without the id.
            con.executemany(
                f"update {REGISTER} set customer_id = null where customer_key = ?",
                [[k] for k in keys],
            )
    finally:
        con.close()
    if erasures:
        rewrite_database(store)


# ----------------------------------------------------------------- erasure


def erase_customers(ctx: RunContext, customer_ids: list[str]) -> dict[str, dict[str, int]]:
    """Delete every row of these customers from every store; rows removed per store and
    table ("<store>" -> {"<table>": rows})."""
    from privacy_pipeline.landing import NORMALISED_COPIES

    pseudonyms = customer_pseudonyms(ctx, customer_ids)
    removed: dict[str, dict[str, int]] = {}
    removed["warehouse.duckdb"] = erase_in_warehouse(ctx, customer_ids)
    removed["restricted/dpo.duckdb"] = erase_in_store(
        restricted_db(ctx.warehouse_dir),
        [store_table(t) for t in RESTRICTED_TABLES],
        customer_ids,
        pseudonyms,
    )
    if ctx.consent_ledger_db.exists():
        removed["restricted/consent_ledger.duckdb"] = erase_in_store(
            ctx.consent_ledger_db, list(LEDGER_TABLES), customer_ids, pseudonyms
        )
    for candidate in sorted((ctx.warehouse_dir / "runs").glob("*/*.duckdb")):
        name = candidate.relative_to(ctx.warehouse_dir).as_posix()
        removed[name] = erase_in_store(candidate, None, customer_ids, pseudonyms)
    for copies in (ctx.warehouse_dir / "runs").glob(f"*/{NORMALISED_COPIES}"):
        shutil.rmtree(copies, ignore_errors=True)  # landing copies of finished runs
    erase_access_answers(ctx, customer_ids)
    return {store: tables for store, tables in removed.items() if tables}


def customer_pseudonyms(ctx: RunContext, customer_ids: list[str]) -> list[str]:
    """The msisdn pseudonyms of these customers (rows keyed by a number, not the id)."""
    if not ctx.candidate_db.exists():
        return []
    try:
        con = connect_candidate(ctx.candidate_db)
    except duckdb.Error:
        return []
    found: set[str] = set()
    try:
        for table in ("staging.base_crm__customers", "staging.base_crm__customer_lines"):
            with contextlib.suppress(duckdb.Error):
                found |= {
                    p
                    for (p,) in con.execute(
                        f"select distinct msisdn_pseudonym from {table} "
                        "where customer_id in (select unnest(?))",
                        [customer_ids],
                    ).fetchall()
                    if p
                }
        with contextlib.suppress(duckdb.Error):
            for (number,) in con.execute(
                "select distinct trim(cast(msisdn as varchar)) from landing.customers "
                "where trim(cast(customer_id as varchar)) in (select unnest(?)) "
                "union select distinct trim(cast(msisdn as varchar)) from landing.customer_lines "
                "where trim(cast(customer_id as varchar)) in (select unnest(?))",
                [customer_ids, customer_ids],
            ).fetchall():
                if number:
                    found.add(pseudonym(number))
    finally:
        con.close()
    return sorted(found)


def erase_in_warehouse(ctx: RunContext, customer_ids: list[str]) -> dict[str, int]:
    """Published tables of every run date, then their export versions (the publication
    log and link swap of privacy_pipeline.withdrawal)."""
    from privacy_pipeline.withdrawal import record_withdrawals, rewrite_exports

    if not ctx.warehouse_db.exists():
        return {}
    con = while_locked(lambda: duckdb.connect(str(ctx.warehouse_db)), ctx.warehouse_db)
    by_date: dict[str, dict[str, int]] = {}
    totals: dict[str, int] = {}
    try:
        with transaction(con):
            for table in PUBLISHED_TABLES:
                columns = table_columns(con, table)
                if "customer_id" in columns:
                    for run_date, rows in con.execute(
                        f"select run_date, count(*) from {qualified(table)} "
                        "where customer_id in (select unnest(?)) group by all",
                        [customer_ids],
                    ).fetchall():
                        by_date.setdefault(run_date.isoformat(), {})[table] = rows
                        totals[table] = totals.get(table, 0) + rows
                    con.execute(
                        f"delete from {qualified(table)} where customer_id in (select unnest(?))",
                        [customer_ids],
                    )
                # Audit text only: a location area name is never a customer's id.
                redacted = (
                    redact_text(con, table, columns, customer_ids)
                    if table.startswith("dpo.")
                    else 0
                )
                if redacted:
                    totals[f"{table} (values redacted)"] = redacted
            record_withdrawals(con, ctx, by_date)
    finally:
        con.close()
    rewrite_exports(ctx, sorted(by_date))
    if totals:
        rewrite_database(ctx.warehouse_db)
    return totals


def redact_text(
    con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, str], customer_ids: list[str]
) -> int:
    """Audit text naming a customer (a gate's failed example) keeps its row, not the id."""
    changed = 0
    for column, data_type in columns.items():
        if column == "customer_id" or data_type.upper() != "VARCHAR":
            continue
        for cid in customer_ids:
            changed += con.execute(
                f"update {qualified(table)} set {quote(column)} = replace({quote(column)}, ?, ?) "
                f"where contains({quote(column)}, ?)",
                [cid, ERASED_MARK, cid],
            ).fetchone()[0]
    return changed


def erase_in_store(
    db: Path, tables: list[str] | None, customer_ids: list[str], pseudonyms: list[str]
) -> dict[str, int]:
    """Delete the customers' rows from ``tables`` of ``db`` (None: every base table), found
    by a customer_id column, an msisdn_pseudonym column, or the customer_id or a pseudonym
    inside a row_data JSON text; then rewrite the file. Rows removed per table."""
    if not db.exists():
        return {}
    removed: dict[str, int] = {}
    con = while_locked(lambda: duckdb.connect(str(db)), db)
    try:
        present = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_type = 'BASE TABLE' and table_catalog = current_database()"
        ).fetchall()
        names = [name for (name,) in present]
        for table in names if tables is None else [t for t in tables if t in names]:
            found = erased_rows_predicate(table_columns(con, table), customer_ids, pseudonyms)
            if found is None:
                continue
            predicate, params = found
            rows = con.execute(
                f"delete from {qualified(table)} where {predicate}", params
            ).fetchone()[0]
            if rows:
                removed[table] = rows
    finally:
        con.close()
    if removed:
        rewrite_database(db)
    return removed


def erased_rows_predicate(
    columns: dict[str, str], customer_ids: list[str], pseudonyms: list[str]
) -> tuple[str, list] | None:
    """SQL selecting a row of the erased customers, and its parameters; None when the
    table has no column that can name one."""
    parts: list[tuple[str, list]] = []
    if "customer_id" in columns:
        parts.append(("cast(customer_id as varchar) in (select unnest(?))", customer_ids))
    if "msisdn_pseudonym" in columns:
        parts.append(("msisdn_pseudonym in (select unnest(?))", pseudonyms))
    if "row_data" in columns:
        parts.append(
            (
                "json_extract_string(cast(row_data as varchar), '$.customer_id') "
                "in (select unnest(?))",
                customer_ids,
            )
        )
        parts.append(
            (
                "exists (select 1 from (select unnest(cast(? as varchar[])) as p) as pseudonyms "
                "where contains(cast(row_data as varchar), pseudonyms.p))",
                pseudonyms,
            )
        )
    if not parts:
        return None
    predicate = "(" + " or ".join(sql for sql, _ in parts) + ")"
    if "source_table" in columns:
        # A quarantined request row is the request record: it stays (docs/dpo.md).
        predicate += f" and coalesce(source_table, '') <> '{REQUESTS_TABLE}'"
    return predicate, [values for _, values in parts]


def rewrite_database(db: Path) -> None:
    """Rewrite a DuckDB file from its live rows: a delete leaves the old bytes in free
    blocks of the file (CHECKPOINT and VACUUM do not clear them), a copy does not have them.
    Holds the file's lock (an open read-write connection) until the new file replaced it."""
    fresh = db.with_name(f".{db.name}.rewrite")
    for leftover in (fresh, fresh.with_name(fresh.name + ".wal")):
        leftover.unlink(missing_ok=True)
    con = while_locked(lambda: duckdb.connect(str(db)), db)
    try:
        con.execute("checkpoint")
        source = con.execute("select current_database()").fetchone()[0]
        con.execute("attach ? as erasure_rewrite", [str(fresh)])
        con.execute(f"copy from database {quote(source)} to erasure_rewrite")
        con.execute("detach erasure_rewrite")
        os.replace(fresh, db)
    finally:
        con.close()
    Path(f"{db}.wal").unlink(missing_ok=True)


def erase_access_answers(ctx: RunContext, customer_ids: list[str]) -> None:
    """Access answers about an erased customer are copies of their data too."""
    folder = ctx.warehouse_dir / "restricted" / ACCESS_DIR
    for answer in folder.glob("*.json") if folder.exists() else []:
        with contextlib.suppress(ValueError, OSError):
            if json.loads(answer.read_text()).get("customer_id") in customer_ids:
                answer.unlink()


def write_receipt(ctx: RunContext, row: tuple, removed: dict[str, dict[str, int]]) -> Path:
    """``restricted/erasure/<request_id>.json``: rows removed per store and table, digest."""
    request_id, _, _, key, received_at, forwarded, matched, _ = row
    folder = ctx.warehouse_dir / "restricted" / ERASURE_DIR
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    body = {
        "request_id": request_id,
        "kind": "erasure",
        "customer_key": key,
        "received_at": str(received_at),
        "matched": matched,
        "forwarded": forwarded,
        "run_date": ctx.run_date.isoformat(),
        "run_id": ctx.run_id,
        "erased_at": dt.datetime.now(dt.UTC).isoformat(),
        "rows_removed": removed,
        "kept": "the request record (register data_subject_requests, customer key only) "
        "and this receipt; published location aggregates (anonymous counts) stay",
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    body["digest"] = "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
    path = folder / f"{safe_name(request_id)}.json"
    path.write_text(json.dumps(body, indent=2))
    return path


def safe_name(request_id: str) -> str:
    """A request id as a file name, one name per id: letters, digits, '-' and '.' stay,
    every other character becomes '_' and its code in hex (``DSR:1`` -> ``DSR_3a1``,
    ``DSR_1`` -> ``DSR_5f1``). Replacing them all by '_' gave two ids one file, and the
    second request's answer or receipt overwrote the first's (session 11's attack)."""
    name = "".join(
        c if c.isascii() and (c.isalnum() or c in "-.") else f"_{ord(c):02x}" for c in request_id
    )
    return "_2e" + name[1:] if name.startswith(".") else name


def answer_access_requests(ctx: RunContext, rows: list[tuple]) -> list[str]:
    from privacy_pipeline.access import write_access_answer

    answered = []
    folder = ctx.warehouse_dir / "restricted" / ACCESS_DIR
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    for request_id, _, customer_id, _, received_at, forwarded, matched, _ in rows:
        path = folder / f"{safe_name(request_id)}.json"
        write_access_answer(
            ctx.warehouse_dir,
            customer_id,
            path,
            request={
                "request_id": request_id,
                "received_at": str(received_at),
                "matched": matched,
                "forwarded": forwarded,
            },
        )
        answered.append(request_id)
    return answered


def read_report(ctx: RunContext) -> dict[str, Any] | None:
    path = ctx.run_dir / REPORT_FILE
    return json.loads(path.read_text()) if path.exists() else None
