"""Load the landing zone: check the contract, then expose each table as a view in ``landing``.

Structural problems (a missing table or column, an unreadable file, a column whose
physical type cannot hold the contract's type) stop the run with UnusableInput (exit 2)
before anything is built. Row-level problems are left to the dbt staging models, which
quarantine them; so CSV is read as all-varchar and nothing fails at read time. CSV lines
the reader cannot split into the header's columns are kept in ``landing.rejected_csv_lines``
and counted as read, so that read = accepted + quarantined still holds.

What the loader creates in ``ctx.candidate_db``:

- ``landing.<table>``: a view with the contract's columns (extra columns dropped),
  ``_source_file``, the file of each row relative to the landing folder, and
  ``_source_row``, the row's 1-based position among the file's data rows (the quarantine
  of an event table records a rejected row by file and row number only). An optional
  table of the contract (``customer_lines``) that was not delivered is an empty view.
- ``landing.rejected_csv_lines(source_table, source_file, line, error_type)``.
- ``landing.rows_read(source_table, rows_read)``: rows read per contract table.
- ``landing.privacy_preferences``: not the delivery but the durable consent ledger the
  delivery was merged into (``privacy_pipeline.consent_ledger``), all text, with
  ``_first_received_at``; the delivery itself is ``landing.privacy_preferences_delivery``.
- ``landing.run_context(run_id, run_date, processed_at)``: the run's processing instant.

See docs/data-contract.md.
"""

from __future__ import annotations

import csv
import gzip
import io
import logging
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb

from privacy_pipeline.consent_ledger import TABLE as LEDGER_TABLE
from privacy_pipeline.consent_ledger import (
    MergeReport,
    forget_previous_ledger_load,
    merge_delivery,
)
from privacy_pipeline.contract import (
    DOUBLE,
    ENUM,
    ID,
    INTEGER,
    INTEREST,
    MSISDN,
    POSTAL_CODE,
    TABLES,
    TEXT,
    TIMESTAMP,
    Table,
)
from privacy_pipeline.errors import UnusableInput
from privacy_pipeline.location.inputs import location_inputs_digest, record_location_inputs
from privacy_pipeline.rights import record_erased_customers
from privacy_pipeline.run_context import RunContext
from privacy_pipeline.sql import path_list, quote_identifier, quote_literal

log = logging.getLogger(__name__)

CSV_SUFFIXES = (".csv", ".csv.gz")
PARQUET_SUFFIX = ".parquet"
SOURCE_FILE_COLUMN = "_source_file"
SOURCE_ROW_COLUMN = "_source_row"
REJECTS_TABLE = "csv_rejects"
NORMALISED_COPIES = "landing-normalised"
NORMALISE_CHUNK_BYTES = 4 << 20

INTEGER_TYPES = {
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
    "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT",
}  # fmt: skip
NUMERIC_TYPES = INTEGER_TYPES | {"FLOAT", "DOUBLE", "REAL"} | {"DECIMAL"}
# Physical Parquet types that can hold each logical kind without losing meaning. A naive
# TIMESTAMP is refused: the contract requires an offset, and guessing one could shift
# every event by an hour or two.
ACCEPTED_PARQUET_TYPES = {
    TEXT: {"VARCHAR"},
    ENUM: {"VARCHAR"},
    INTEREST: {"VARCHAR"},
    MSISDN: {"VARCHAR"},
    ID: {"VARCHAR"} | INTEGER_TYPES,
    POSTAL_CODE: {"VARCHAR"} | INTEGER_TYPES,
    # Floats too: pandas writes an integer column with nulls as float64 (fractions are
    # quarantined by staging as invalid_integer).
    INTEGER: {"VARCHAR"} | NUMERIC_TYPES,
    DOUBLE: {"VARCHAR"} | NUMERIC_TYPES,
    TIMESTAMP: {"VARCHAR", "TIMESTAMP WITH TIME ZONE"},
}


@dataclass(frozen=True)
class DataFile:
    path: Path
    columns: dict[str, str]  # lower-cased name -> physical type (VARCHAR for every CSV column)
    header: tuple[str, ...]  # names as written, in file order
    # The delivered file when ``path`` is its copy with normalised line endings.
    delivered: Path | None = None

    @property
    def is_csv(self) -> bool:
        return self.path.name.endswith(CSV_SUFFIXES)

    @property
    def delivered_path(self) -> Path:
        return self.delivered or self.path


@dataclass(frozen=True)
class TableFiles:
    """The files of one landing table: one file, or the data files of a folder."""

    table: Table
    location: Path  # NAME.csv, NAME.csv.gz, NAME.parquet or NAME/
    files: tuple[DataFile, ...]

    @property
    def csv_files(self) -> list[DataFile]:
        return [f for f in self.files if f.is_csv]

    @property
    def parquet_files(self) -> list[DataFile]:
        return [f for f in self.files if not f.is_csv]


def is_data_file(path: Path) -> bool:
    return path.name.endswith((*CSV_SUFFIXES, PARQUET_SUFFIX))


# ---------------------------------------------------------------- finding and checking files


def is_delivered(landing_dir: Path, table: Table) -> bool:
    names = [f"{table.name}{suffix}" for suffix in (*CSV_SUFFIXES, PARQUET_SUFFIX)]
    return any((landing_dir / n).is_file() for n in names) or (landing_dir / table.name).is_dir()


def locate_table(landing_dir: Path, table: Table) -> tuple[Path, list[Path]]:
    """The one form the table is delivered in and its data files; UnusableInput otherwise."""
    files = [landing_dir / f"{table.name}{suffix}" for suffix in (*CSV_SUFFIXES, PARQUET_SUFFIX)]
    folder = landing_dir / table.name
    present = [p for p in files if p.is_file()] + ([folder] if folder.is_dir() else [])
    if not present:
        expected = ", ".join(p.name for p in files) + f" or folder {table.name}/"
        raise UnusableInput(
            f"landing zone {landing_dir}: required table '{table.name}' is missing "
            f"(expected {expected})"
        )
    if len(present) > 1:
        names = ", ".join(p.name for p in present)
        raise UnusableInput(
            f"landing zone {landing_dir}: table '{table.name}' is delivered more than once "
            f"({names}); keep exactly one"
        )
    location = present[0]
    return location, (folder_files(location, table) if location == folder else [location])


def folder_files(folder: Path, table: Table) -> list[Path]:
    """Data files of a table folder. Hidden and ``_`` files (``_SUCCESS``, ``.crc``) are skipped;
    any other file is refused rather than silently ignored, so no delivered data is lost."""
    files = []
    for path in sorted(folder.rglob("*")):
        if path.is_dir() or path.name.startswith((".", "_")):
            continue
        if not is_data_file(path):
            raise UnusableInput(
                f"{path}: unexpected file in table folder {folder.name}/ "
                f"(only .csv, .csv.gz and .parquet files are read)"
            )
        files.append(path)
    if not files:
        raise UnusableInput(f"{folder}: table folder '{table.name}/' holds no data file")
    return files


def csv_header(path: Path) -> tuple[str, ...]:
    """The header row, read by Python rather than sniffed: DuckDB's sniffer can give up on a
    small file with a few malformed lines, and those lines belong in the quarantine. Only the
    header's own bytes are decoded, so a bad byte further down stays a per-line problem."""
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.readline()
            while raw.count(b'"') % 2 and (more := fh.readline()):  # a quoted line break
                raw += more
        text = raw.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UnusableInput(f"{path}: the header row cannot be read: {exc}") from exc
    return tuple(next(csv.reader(io.StringIO(text)), []))


def parquet_schema(con: duckdb.DuckDBPyConnection, path: Path) -> list[tuple[str, str]]:
    try:
        rows = con.execute(
            f"describe select * from read_parquet({quote_literal(str(path))})"
        ).fetchall()
    except duckdb.Error as exc:
        raise UnusableInput(f"{path}: cannot be read as Parquet: {exc}") from exc
    return [(name, column_type) for name, column_type, *_ in rows]


def describe_file(con: duckdb.DuckDBPyConnection, path: Path, table: Table) -> DataFile:
    if path.name.endswith(CSV_SUFFIXES):
        # The reader is given these names, so a header " Customer_ID" reads as customer_id.
        header = csv_column_names(path, table)
        schema = [(name, "VARCHAR") for name in header]
    else:
        schema = parquet_schema(con, path)
        header = tuple(name for name, _ in schema)
    lowered = [name.lower() for name in header]
    duplicates = sorted({name for name in lowered if lowered.count(name) > 1})
    if duplicates:
        raise UnusableInput(f"{path}: column(s) {', '.join(duplicates)} appear more than once")
    columns = {name.lower(): _base_type(column_type) for name, column_type in schema}
    return DataFile(path, columns, header)


def csv_column_names(path: Path, table: Table) -> tuple[str, ...]:
    """Header names trimmed and lower-cased; a repeated extra column gets a suffix (it is
    ignored anyway), a repeated contract column is an error (which one would be meant?)."""
    names: list[str] = []
    for name in (raw.strip().lower() for raw in csv_header(path)):
        if name in names and name not in table.column_names:
            name = f"{name}_{len(names)}"
        names.append(name)
    return tuple(names)


def _base_type(column_type: str) -> str:
    return "DECIMAL" if column_type.startswith("DECIMAL") else column_type


def check_file(data_file: DataFile, table: Table) -> None:
    """Every contract column present, with a physical type that can hold it."""
    missing = [name for name in table.column_names if name not in data_file.columns]
    if missing:
        found = ", ".join(data_file.header) or "no header row"
        raise UnusableInput(
            f"{data_file.path}: table '{table.name}' is missing required column(s) "
            f"{', '.join(missing)} (found: {found})"
        )
    for column in table.columns:
        physical = data_file.columns[column.name]
        accepted = ACCEPTED_PARQUET_TYPES[column.kind]
        if physical not in accepted:
            raise UnusableInput(
                f"{data_file.path}: column '{column.name}' of table '{table.name}' has type "
                f"{physical}, which cannot hold a {column.kind} "
                f"(accepted: {', '.join(sorted(accepted))})"
            )


def check_contract(con: duckdb.DuckDBPyConnection, landing_dir: Path) -> list[TableFiles]:
    """Every contract table present, every file with every contract column; else UnusableInput."""
    if not landing_dir.is_dir():
        raise UnusableInput(f"landing zone {landing_dir} is not a folder")
    located = []
    for table in TABLES:
        if table.optional and not is_delivered(landing_dir, table):
            log.info("landing %-20s not delivered (optional): read as empty", table.name)
            located.append(TableFiles(table, landing_dir / table.name, ()))
            continue
        located.append(check_table(con, landing_dir, table))
    return located


def check_table(con: duckdb.DuckDBPyConnection, landing_dir: Path, table: Table) -> TableFiles:
    """A delivered table's files, each with every contract column; else UnusableInput."""
    location, paths = locate_table(landing_dir, table)
    files = tuple(describe_file(con, path, table) for path in paths)
    for data_file in files:
        check_file(data_file, table)
    return TableFiles(table, location, files)


# ---------------------------------------------------------------- views


def csv_reader(files: list[DataFile], rejects: str | None = None) -> str:
    """read_csv over files sharing one header, every column as text, no sniffing.

    Lines that do not split into the header's columns are skipped; with ``rejects`` they
    are recorded in that table (the loader counts and keeps them)."""
    header = files[0].header
    columns = "{" + ", ".join(f"{quote_literal(name)}: 'VARCHAR'" for name in header) + "}"
    errors = (
        f"store_rejects = true, rejects_table = {quote_literal(rejects)}, "
        f"rejects_scan = {quote_literal(rejects + '_scan')}"
        if rejects
        else "ignore_errors = true"
    )
    return (
        f"read_csv({path_list([f.path for f in files])}, header = true, auto_detect = false, "
        f"columns = {columns}, delim = ',', quote = '\"', escape = '\"', "
        f"filename = {quote_literal(SOURCE_FILE_COLUMN)}, {errors})"
    )


def parquet_reader(files: list[DataFile]) -> str:
    return (
        f"read_parquet({path_list([f.path for f in files])}, union_by_name = true, "
        f"filename = {quote_literal(SOURCE_FILE_COLUMN)}, file_row_number = true)"
    )


def source_file_sql(files: list[DataFile], landing_dir: Path) -> str:
    """The delivered file of a row, relative to the landing folder (also for normalised copies)."""
    relative = f"substr({SOURCE_FILE_COLUMN}, {len(str(landing_dir).rstrip('/')) + 2})"
    copies = [f for f in files if f.delivered is not None]
    if not copies:
        return relative
    whens = " ".join(
        f"when {quote_literal(f.path)} then {quote_literal(f.delivered.relative_to(landing_dir))}"
        for f in copies
    )
    return f"case {SOURCE_FILE_COLUMN} {whens} else {relative} end"


# The row's position in its file. Parquet gives it (file_row_number, from 0). read_csv does
# not, so each CSV file is read by its own scan numbered with row_number() over (): DuckDB
# preserves a file's order there (a streaming window, no sort). A CSV row number counts data
# rows only: the header and unreadable lines (listed by line in rejected_csv_lines) are not.
CSV_ROW_NUMBER = "row_number() over ()"
PARQUET_ROW_NUMBER = "file_row_number + 1"


def select_contract_columns(
    table: Table, landing_dir: Path, as_text: bool, files: list[DataFile], row_number: str
) -> str:
    """The contract's columns (extra ones dropped), the source file relative to the landing
    and the row number in that file."""
    columns = []
    for name in table.column_names:
        quoted = quote_identifier(name)
        columns.append(f"cast({quoted} as varchar) as {quoted}" if as_text else quoted)
    columns.append(f"{source_file_sql(files, landing_dir)} as {SOURCE_FILE_COLUMN}")
    columns.append(f"cast({row_number} as bigint) as {SOURCE_ROW_COLUMN}")
    return ", ".join(columns)


def view_sql(table_files: TableFiles, landing_dir: Path) -> str:
    """Body of the landing view. Parquet in a folder that also holds CSV is read as text."""
    table = table_files.table
    if not table_files.files:  # an optional table that was not delivered
        columns = [
            f"cast(null as varchar) as {quote_identifier(name)}" for name in table.column_names
        ]
        columns.append(f"cast(null as varchar) as {SOURCE_FILE_COLUMN}")
        columns.append(f"cast(null as bigint) as {SOURCE_ROW_COLUMN}")
        return f"select {', '.join(columns)} where false"
    mixed = bool(table_files.csv_files) and bool(table_files.parquet_files)
    parts = [
        f"select {select_contract_columns(table, landing_dir, False, [data_file], CSV_ROW_NUMBER)} "
        f"from {csv_reader([data_file])}"
        for data_file in sorted(table_files.csv_files, key=lambda f: str(f.path))
    ]
    if table_files.parquet_files:
        parts.append(
            f"select {select_contract_columns(table, landing_dir, mixed, [], PARQUET_ROW_NUMBER)} "
            f"from {parquet_reader(table_files.parquet_files)}"
        )
    return "\nunion all\n".join(parts)


def create_views(con: duckdb.DuckDBPyConnection, located: list[TableFiles], landing_dir: Path):
    for table_files in located:
        name = table_files.table.name
        try:
            con.execute(
                f"create or replace view landing.{quote_identifier(name)} as "
                f"{view_sql(table_files, landing_dir)}"
            )
        except duckdb.Error as exc:
            raise UnusableInput(
                f"{table_files.location}: table '{name}' cannot be read: {exc}"
            ) from exc


# ---------------------------------------------------------------- counting


def record_rejected_lines(con: duckdb.DuckDBPyConnection, table_name: str, path: Path) -> int:
    """Move the reader's rejects of one file into landing.rejected_csv_lines; return how many.

    DuckDB creates the rejects tables only when a line was rejected."""
    exists = con.execute(
        "select count(*) from duckdb_tables() where table_name = ?", [REJECTS_TABLE]
    ).fetchone()[0]
    if not exists:
        return 0
    # DuckDB writes one reject per error; a line with several errors counts once.
    con.execute(
        f"""
        insert into landing.rejected_csv_lines
        select {quote_literal(table_name)}, {quote_literal(str(path))}, line,
               string_agg(distinct cast(error_type as varchar), ', ')
        from {REJECTS_TABLE}
        group by line
        """
    )
    rejected = con.execute(f"select count(distinct line) from {REJECTS_TABLE}").fetchone()[0]
    con.execute(f"drop table {REJECTS_TABLE}")
    con.execute(f"drop table if exists {REJECTS_TABLE}_scan")
    return rejected


def normalise_line_endings(data_file: DataFile, landing_dir: Path, copies_dir: Path):
    """A copy of a CSV file with every line ending as LF (CRLF and lone CR too), or None
    when the file has no CR (then line endings are not why it cannot be read).

    DuckDB's reader takes one line ending per file: a single CRLF line in an LF file makes
    the whole file unreadable. The copy is streamed (a few MB at a time), compressed again
    if the delivery was, and kept under the run folder (pruned with the candidate database).
    """
    source = data_file.path
    target = copies_dir / source.relative_to(landing_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    compressed = source.name.endswith(".gz")
    found = False
    try:
        with (
            gzip.open(source, "rb") if compressed else open(source, "rb") as fin,
            gzip.open(target, "wb", compresslevel=1) if compressed else open(target, "wb") as fout,
        ):
            held = b""
            while chunk := fin.read(NORMALISE_CHUNK_BYTES):
                chunk, held = held + chunk, b""
                if chunk.endswith(b"\r"):  # its LF may start the next chunk
                    chunk, held = chunk[:-1], b"\r"
                found = found or b"\r" in chunk
                fout.write(chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n"))
            if held:
                found = True
                fout.write(b"\n")
    except (OSError, EOFError) as exc:
        target.unlink(missing_ok=True)
        log.warning("%s: line endings cannot be normalised: %s", source, exc)
        return None
    if not found:
        target.unlink()
        return None
    log.warning("%s: mixed line endings; reading a copy with LF line endings", source)
    return DataFile(target, data_file.columns, data_file.header, delivered=source)


def count_csv_file(con, data_file: DataFile, table_files: TableFiles) -> int:
    # A bare count(*) parses no column, so a line with bad bytes would count as readable:
    # touch every contract column, as the staging models will through the view.
    touch_columns = " + ".join(
        f"coalesce(length({quote_identifier(name)}), 0)" for name in table_files.table.column_names
    )
    return con.execute(
        f"select count(*) from {csv_reader([data_file], REJECTS_TABLE)} where {touch_columns} >= 0"
    ).fetchall()[0][0]  # fetchall: DuckDB writes the rejects when the scan completes


def count_rows(
    con: duckdb.DuckDBPyConnection, table_files: TableFiles, landing_dir: Path, copies_dir: Path
) -> tuple[TableFiles, int, int]:
    """(the files to read, rows the readers return, CSV lines the reader rejected),
    recording the rejected lines.

    Each CSV file is scanned with the view's options plus store_rejects, so the view skips
    exactly the lines recorded here. A CSV file that cannot be read because of its line
    endings is read from a normalised copy (the files returned name it). Parquet counts
    come from the file metadata."""
    readable = 0
    if table_files.parquet_files:
        readable += con.execute(
            f"select count(*) from {parquet_reader(table_files.parquet_files)}"
        ).fetchone()[0]
    rejected = 0
    files = list(table_files.parquet_files)
    for data_file in table_files.csv_files:
        try:
            readable += count_csv_file(con, data_file, table_files)
        except duckdb.Error:
            con.execute(f"drop table if exists {REJECTS_TABLE}")
            con.execute(f"drop table if exists {REJECTS_TABLE}_scan")
            copy = normalise_line_endings(data_file, landing_dir, copies_dir)
            if copy is None:
                raise
            data_file = copy
            readable += count_csv_file(con, data_file, table_files)
        rejected += record_rejected_lines(con, table_files.table.name, data_file.delivered_path)
        files.append(data_file)
    return replace(table_files, files=tuple(files)), readable, rejected


def count_all(
    con: duckdb.DuckDBPyConnection,
    located: list[TableFiles],
    landing_dir: Path,
    copies_dir: Path,
) -> tuple[list[TableFiles], dict[str, int]]:
    """Rows read per table, and the files to read (normalised copies where needed)."""
    con.execute(
        "create or replace table landing.rejected_csv_lines "
        "(source_table varchar, source_file varchar, line bigint, error_type varchar)"
    )
    rows_read: dict[str, int] = {}
    readable_files = []
    for table_files in located:
        name = table_files.table.name
        try:
            table_files, readable, rejected = count_rows(con, table_files, landing_dir, copies_dir)
        except duckdb.Error as exc:
            raise UnusableInput(
                f"{table_files.location}: table '{name}' cannot be read: {exc}"
            ) from exc
        rows_read[name] = readable + rejected
        readable_files.append(table_files)
        log.info("landing %-20s %12d rows read (%d unreadable CSV lines)", name,
                 rows_read[name], rejected)  # fmt: skip
    prefix_length = len(str(landing_dir).rstrip("/")) + 2
    con.execute(
        f"update landing.rejected_csv_lines set source_file = substr(source_file, {prefix_length})"
    )
    con.execute(
        "create or replace table landing.rows_read (source_table varchar, rows_read bigint)"
    )
    con.executemany("insert into landing.rows_read values (?, ?)", list(rows_read.items()))
    return readable_files, rows_read


def normalised_copies_dir(ctx: RunContext) -> Path:
    """Copies of CSV files with mixed line endings: landing data, deleted with the run's
    working database (stages.prune_working_data)."""
    return ctx.run_dir / NORMALISED_COPIES


def load_landing_zone(ctx: RunContext) -> dict[str, int]:
    """Check the contract, create the ``landing`` views; return rows read per contract table."""
    landing_dir = ctx.landing_dir
    ctx.candidate_db.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(ctx.candidate_db))
    try:
        try:
            located, rows_read = read_tables(con, ctx, check_contract(con, landing_dir))
        except UnusableInput:
            merge_consent_choices_of_refused_zone(con, ctx)
            raise
        merge_consent_choices(con, ctx)
        rows_read[LEDGER_TABLE] = count_ledger_rows(con)
        record_location_inputs(con, location_inputs_digest(con, ctx.config["location"]))
        return rows_read
    finally:
        con.close()


def read_tables(
    con: duckdb.DuckDBPyConnection, ctx: RunContext, located: list[TableFiles]
) -> tuple[list[TableFiles], dict[str, int]]:
    """The ``landing`` views of checked tables; returns them with the rows read per table."""
    con.execute("create schema if not exists landing")
    forget_previous_ledger_load(con)
    # Counting first: it finds the files that must be read from a normalised copy.
    located, rows_read = count_all(con, located, ctx.landing_dir, normalised_copies_dir(ctx))
    create_views(con, located, ctx.landing_dir)
    return located, rows_read


def merge_consent_choices_of_refused_zone(con: duckdb.DuckDBPyConnection, ctx: RunContext):
    """A zone refused for another table still delivers tonight's consent choices. When the
    consent table itself keeps the contract, they are merged into the durable ledger, so
    that the withdrawal step (it runs whatever the load did) takes tonight's refusals out of
    every date already published; nothing is built or published from the zone. When it
    does not, the log says so and the refusals wait for the next run that loads."""
    table = next(t for t in TABLES if t.name == LEDGER_TABLE)
    try:
        read_tables(con, ctx, [check_table(con, ctx.landing_dir, table)])
        report = merge_consent_choices(con, ctx)
    except (UnusableInput, duckdb.Error) as exc:
        log.warning("landing zone refused; its consent choices cannot be merged either: %s", exc)
        return
    log.warning(
        "landing zone refused; its consent choices were merged into the ledger "
        "(%d new events) so that tonight's refusals leave every published date",
        report.new_events,
    )


def merge_consent_choices(con: duckdb.DuckDBPyConnection, ctx: RunContext) -> MergeReport:
    """The run's context and the erasures in force recorded, then tonight's consent
    delivery (the ``landing`` view) merged into the durable ledger."""
    record_run_context(con, ctx)
    record_erased_customers(con, ctx)
    return merge_delivery(con, ctx)


def record_run_context(con: duckdb.DuckDBPyConnection, ctx: RunContext) -> None:
    """``landing.run_context``: the run date and the instant the run processes its input.

    A table rather than a dbt variable: the models read it at run time, so dbt's parsed
    project stays valid from one run to the next (docs/architecture.md)."""
    from privacy_pipeline.rights import run_ends_at

    con.execute(
        "create or replace table landing.run_context "
        "(run_id varchar, run_date date, processed_at timestamptz, run_ends_at timestamptz)"
    )
    con.execute(
        "insert into landing.run_context values (?, cast(? as date), ?, ?)",
        [ctx.run_id, ctx.run_date.isoformat(), ctx.processed_at, run_ends_at(ctx)],
    )


def count_ledger_rows(con: duckdb.DuckDBPyConnection) -> int:
    """Rows staging reads for the consent ledger: the durable ledger's rows (the delivery is
    merged into it first) plus the delivery's unreadable CSV lines."""
    con.execute(
        f"""update landing.rows_read set rows_read = (
                select count(*) from landing.{LEDGER_TABLE})
              + (select count(*) from landing.rejected_csv_lines
                 where source_table = '{LEDGER_TABLE}')
            where source_table = '{LEDGER_TABLE}'"""
    )
    return con.execute(
        "select rows_read from landing.rows_read where source_table = ?", [LEDGER_TABLE]
    ).fetchone()[0]
