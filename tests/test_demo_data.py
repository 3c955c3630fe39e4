"""The synthetic landing zone: contract shape, determinism, integrity and the demo's story."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
from privacy_pipeline import contract
from privacy_pipeline.demo_data import (
    PROVINCES,
    SENSITIVE_CATEGORIES,
    TABLES,
    build_postal_areas,
    generate_landing_zone,
)
from privacy_pipeline.landing import check_contract

BRUSSELS = ZoneInfo("Europe/Brussels")
RUN_DATE = dt.date(2026, 6, 20)

# The landing-zone contract (privacy_pipeline.contract): table -> required columns. The demo
# zone delivers every table but the optional customer_lines (each customer has one line).
DELIVERED = [table for table in contract.TABLES if not table.optional]
CONTRACT = {table.name: table.column_names for table in DELIVERED}
TIMESTAMP_COLUMNS = {
    table.name: [c.name for c in table.columns if c.kind == contract.TIMESTAMP]
    for table in DELIVERED
    if any(c.kind == contract.TIMESTAMP for c in table.columns)
}
ISO_8601_WITH_OFFSET = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$"


def table_source(landing: Path, name: str) -> str:
    """A DuckDB table expression for a contract table, whatever its format (CSV as text)."""
    if (landing / name).is_dir():
        return f"read_parquet('{landing / name}/*.parquet')"
    for suffix in (".csv", ".csv.gz"):
        if (landing / f"{name}{suffix}").exists():
            return f"read_csv('{landing / name}{suffix}', header = true, all_varchar = true)"
    return f"read_parquet('{landing / name}.parquet')"


def open_landing(landing: Path) -> duckdb.DuckDBPyConnection:
    """The landing zone read once into typed tables, one per contract table."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'Europe/Brussels'")
    for name in CONTRACT:
        casts = ", ".join(
            f"{column}::TIMESTAMPTZ AS {column}" for column in TIMESTAMP_COLUMNS.get(name, [])
        )
        select = f"* REPLACE ({casts})" if casts else "*"
        con.execute(f"CREATE TABLE {name} AS SELECT {select} FROM {table_source(landing, name)}")
    return con


def local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=BRUSSELS)


def scalar(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(sql).fetchone()[0]


def file_digests(landing: Path) -> dict[str, str]:
    return {
        str(path.relative_to(landing)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(landing.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    """The default demo: 2,000 customers, one day of activity ending on the run date."""
    landing = tmp_path_factory.mktemp("demo") / "landing"
    counts = generate_landing_zone(landing, show_progress=False)
    return landing, counts


@pytest.fixture(scope="module")
def con(demo) -> duckdb.DuckDBPyConnection:
    connection = open_landing(demo[0])
    yield connection
    connection.close()


# --- shape ------------------------------------------------------------------------------------


def test_every_contract_table_and_column_is_present(demo, con):
    landing, counts = demo
    assert list(counts) == list(TABLES)
    assert set(TABLES) == set(CONTRACT)
    for name, columns in CONTRACT.items():
        present = [row[0] for row in con.execute(f"DESCRIBE {name}").fetchall()]
        assert set(columns) <= set(present), f"{name} lacks {set(columns) - set(present)}"
        assert counts[name] == scalar(con, f"SELECT count(*) FROM {name}") > 0, name


def test_the_loader_accepts_the_landing_zone(demo):
    located = check_contract(duckdb.connect(), demo[0])
    assert {files.table.name for files in located if files.files} == set(CONTRACT)


def test_both_csv_and_parquet_are_exercised(demo):
    landing, _ = demo
    assert (landing / "customers.csv").is_file()
    assert (landing / "privacy_preferences.csv").is_file()
    assert (landing / "contest_entries.csv.gz").is_file()
    assert (landing / "traffic_events.parquet").is_file()
    assert sorted(p.suffix for p in (landing / "network_events").iterdir()) == [".parquet"]
    assert not [p for p in landing.iterdir() if p.name.startswith(".")], "staging left behind"


def test_parquet_timestamps_carry_a_time_zone(demo):
    landing, _ = demo
    raw = duckdb.connect()
    for name, columns in TIMESTAMP_COLUMNS.items():
        source = table_source(landing, name)
        if "read_csv" in source:
            continue
        types = {
            row[0]: row[1] for row in raw.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
        }
        for column in columns:
            assert types[column] == "TIMESTAMP WITH TIME ZONE", (name, column)


def test_csv_timestamps_are_iso_8601_with_an_offset(demo):
    landing, _ = demo
    raw = duckdb.connect()
    for name in ("customers", "privacy_preferences", "contest_entries"):
        source = table_source(landing, name)
        for column in TIMESTAMP_COLUMNS[name]:
            bad = raw.execute(
                f"SELECT {column} FROM {source} WHERE {column} IS NOT NULL "
                f"AND NOT regexp_matches({column}, '{ISO_8601_WITH_OFFSET}') LIMIT 1"
            ).fetchall()
            assert not bad, (name, column, bad)
    # Empty field = null: active accounts have no closed_at.
    assert raw.execute(f"SELECT count(*) FROM {table_source(landing, 'customers')} "
                       "WHERE closed_at IS NULL").fetchone()[0] > 0  # fmt: skip


# --- determinism ------------------------------------------------------------------------------


def test_same_seed_gives_identical_files_and_another_seed_does_not(tmp_path):
    sizes = dict(customers=300, events_per_customer=10, show_progress=False)
    generate_landing_zone(tmp_path / "a", seed=7, **sizes)
    generate_landing_zone(tmp_path / "b", seed=7, **sizes)
    generate_landing_zone(tmp_path / "c", seed=8, **sizes)
    first, again, other = (file_digests(tmp_path / x) for x in "abc")
    assert first == again
    assert first.keys() == other.keys()
    different = {name for name in first if first[name] != other[name]}
    for table in ("customers.csv", "privacy_preferences.csv", "traffic_events.parquet"):
        assert table in different


# --- integrity --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "column", "key", "key_column"),
    [
        ("privacy_preferences", "customer_id", "customers", "customer_id"),
        ("survey_responses", "customer_id", "customers", "customer_id"),
        ("survey_responses", "question_id", "survey_questions", "question_id"),
        ("survey_questions", "survey_id", "surveys", "survey_id"),
        ("contest_entries", "customer_id", "customers", "customer_id"),
        ("contest_entries", "contest_id", "contests", "contest_id"),
        ("contests", "partner_id", "partners", "partner_id"),
        ("traffic_events", "customer_id", "customers", "customer_id"),
        ("call_records", "customer_id", "customers", "customer_id"),
        ("device_observations", "customer_id", "customers", "customer_id"),
        ("network_events", "msisdn", "customers", "msisdn"),
        ("network_events", "cell_id", "cells", "cell_id"),
        ("event_cells", "cell_id", "cells", "cell_id"),
        ("event_cells", "event_id", "events", "event_id"),
    ],
)
def test_references_resolve(con, table, column, key, key_column):
    orphans = scalar(
        con,
        f"SELECT count(*) FROM {table} WHERE {column} IS NOT NULL "
        f"AND {column} NOT IN (SELECT {key_column} FROM {key})",
    )
    assert orphans == 0


@pytest.mark.parametrize(
    ("table", "columns"),
    [
        ("customers", "customer_id"),
        ("customers", "msisdn"),
        ("privacy_preferences", "event_id"),
        ("survey_responses", "response_id"),
        ("contest_entries", "entry_id"),
        ("cells", "cell_id"),
        ("events", "event_id"),
        ("partners", "partner_id"),
        ("site_catalogue", "app_or_site"),
        ("event_cells", "event_id, cell_id"),
    ],
)
def test_keys_are_unique(con, table, columns):
    assert scalar(con, f"SELECT count(*) - count(DISTINCT ({columns})) FROM {table}") == 0


# --- values -----------------------------------------------------------------------------------

ENUMS = {
    (table.name, column.name): set(column.values)
    for table in DELIVERED
    for column in table.columns
    if column.kind == contract.ENUM
}


@pytest.mark.parametrize(("table", "column"), list(ENUMS))
def test_enum_columns_hold_every_contract_value_and_no_other(con, table, column):
    values = {row[0] for row in con.execute(f"SELECT DISTINCT {column} FROM {table}").fetchall()}
    assert values == ENUMS[(table, column)]


def test_identifiers_and_numbers_are_well_formed(con):
    checks = {
        "msisdn not Belgian mobile E.164": "SELECT count(*) FROM customers "
        "WHERE NOT regexp_matches(msisdn, '^\\+324[5-9][0-9]{7}$')",
        "called number not E.164": "SELECT count(*) FROM call_records "
        "WHERE NOT regexp_matches(called_number, '^\\+[1-9][0-9]{7,14}$')",
        "postal code not 4 digits": "SELECT count(*) FROM (SELECT postal_code FROM customers "
        "UNION ALL SELECT postal_code FROM cells) WHERE NOT regexp_matches(postal_code, "
        "'^[1-9][0-9]{3}$')",
        "implausible birth year": "SELECT count(*) FROM customers "
        "WHERE birth_year::INT NOT BETWEEN 1920 AND 2010",
        "cell outside Belgium": "SELECT count(*) FROM cells "
        "WHERE lat NOT BETWEEN 49.4 AND 51.6 OR lon NOT BETWEEN 2.5 AND 6.5",
        "non-positive bytes": "SELECT count(*) FROM traffic_events WHERE bytes <= 0",
        "missing email": "SELECT count(*) FROM customers WHERE email NOT LIKE '%@%.%'",
        "wifi state": "SELECT count(*) FROM device_observations "
        "WHERE wifi_state NOT IN ('connected', 'disconnected')",
        "bad answer": "SELECT count(*) FROM survey_responses r JOIN survey_questions q "
        "USING (question_id) WHERE NOT CASE answer_kind "
        "WHEN 'count' THEN regexp_matches(answer, '^[0-9]+$') "
        "WHEN 'yes_no' THEN answer IN ('yes', 'no') "
        "ELSE answer IN ('1', '2', '3', '4', '5') END",
    }
    for reason, sql in checks.items():
        assert scalar(con, sql) == 0, reason


def test_interests_sensitive_categories_and_partners(con):
    categories = {
        r[0] for r in con.execute("SELECT DISTINCT category FROM site_catalogue").fetchall()
    }
    assert set(SENSITIVE_CATEGORIES) <= categories
    interests = categories - set(SENSITIVE_CATEGORIES)
    assert {"music", "gaming", "sport", "travel", "finance", "food", "news"} <= interests
    for sql in (
        "SELECT DISTINCT interest FROM survey_questions",
        "SELECT DISTINCT theme FROM contests",
        "SELECT DISTINCT target_interest FROM partners WHERE target_interest IS NOT NULL",
    ):
        assert {r[0] for r in con.execute(sql).fetchall()} <= interests, sql
    partners = dict(con.execute("SELECT name, target_interest FROM partners").fetchall())
    assert partners["Belfius"] == "finance"
    assert None in partners.values()
    # Traffic reaches sensitive sites and apps missing from the catalogue.
    assert (
        scalar(
            con,
            "SELECT count(*) FROM traffic_events JOIN site_catalogue USING "
            "(app_or_site) WHERE category IN ('sexual', 'religious', 'political')",
        )
        > 0
    )
    assert scalar(con, "SELECT count(*) FROM traffic_events WHERE app_or_site NOT IN "
                       "(SELECT app_or_site FROM site_catalogue)") > 0  # fmt: skip


def test_geography_groups_postal_codes_into_municipalities_and_provinces(con):
    assert scalar(con, "SELECT count(DISTINCT postal_code) FROM cells") >= 24
    assert (
        scalar(con, "SELECT min(n) FROM (SELECT count(*) n FROM cells GROUP BY postal_code)") >= 2
    )
    assert scalar(con, "SELECT count(*) FROM (SELECT municipality FROM cells GROUP BY ALL "
                       "HAVING count(DISTINCT postal_code) > 1)") > 0  # fmt: skip
    assert scalar(con, "SELECT count(*) FROM customers WHERE postal_code NOT IN "
                       "(SELECT postal_code FROM cells)") == 0  # fmt: skip


def test_a_large_demo_has_about_a_thousand_postal_codes_in_every_province():
    areas = build_postal_areas(1000)
    codes = [a.postal_code for a in areas]
    assert len(codes) == len(set(codes)) >= 1000
    assert {a.province for a in areas} == set(PROVINCES.values())
    assert all(len(c) == 4 and c.isdigit() for c in codes)


# --- time -------------------------------------------------------------------------------------


def test_activity_falls_within_the_run_date(con):
    start, end = local_midnight(RUN_DATE), local_midnight(RUN_DATE + dt.timedelta(days=1))
    for table, column in [
        ("traffic_events", "observed_at"),
        ("call_records", "started_at"),
        ("device_observations", "observed_at"),
        ("network_events", "event_at"),
    ]:
        low, high = con.execute(f"SELECT min({column}), max({column}) FROM {table}").fetchone()
        assert start <= low and high < end, table
    assert scalar(con, "SELECT count(*) FROM call_records WHERE ended_at < started_at") == 0


def test_several_days_end_on_the_end_date_across_a_daylight_saving_change(tmp_path):
    end_date = dt.date(2026, 3, 29)  # clocks go forward: a 23-hour day
    counts = generate_landing_zone(
        tmp_path, customers=150, days=3, events_per_customer=10, end_date=end_date,
        show_progress=False,
    )  # fmt: skip
    assert counts["network_events"] > 0
    con = open_landing(tmp_path)
    days = con.execute(
        "SELECT DISTINCT event_at::DATE FROM network_events ORDER BY 1"  # Brussels session
    ).fetchall()
    assert [d[0] for d in days] == [end_date - dt.timedelta(days=n) for n in (2, 1, 0)]
    assert scalar(con, "SELECT max(recorded_at) FROM privacy_preferences") > local_midnight(
        end_date + dt.timedelta(days=1)
    )


def test_accounts_migrate_and_close_realistically(con):
    run_end = local_midnight(RUN_DATE + dt.timedelta(days=1))
    scarlet, unmigrated = con.execute(
        "SELECT count(*), count(*) FILTER (migrated_at IS NULL) FROM customers "
        "WHERE brand = 'scarlet'"
    ).fetchone()
    assert 0.2 < unmigrated / scarlet < 0.45
    assert scalar(con, "SELECT max(migrated_at) FROM customers") < run_end
    assert scalar(con, "SELECT count(*) FROM customers WHERE brand = 'proximus' "
                       "AND migrated_at IS NOT NULL") == 0  # fmt: skip
    assert scalar(con, "SELECT count(*) FROM customers WHERE closed_at IS NOT NULL") > 0
    assert scalar(con, "SELECT count(*) FROM customers WHERE closed_at <= created_at "
                       "OR migrated_at <= created_at OR migrated_at >= closed_at") == 0  # fmt: skip
    # Closed accounts are silent on the run date.
    assert scalar(con, "SELECT count(*) FROM network_events JOIN customers USING (msisdn) "
                       "WHERE closed_at IS NOT NULL") == 0  # fmt: skip


def test_consent_events_respect_the_platform_of_their_time(con):
    # Legacy events only for Scarlet accounts and before their migration; Proximus events
    # after it (unmigrated accounts have none).
    assert scalar(con, """
        SELECT count(*) FROM privacy_preferences p JOIN customers c USING (customer_id)
        WHERE (p.platform = 'scarlet_legacy'
               AND (c.brand <> 'scarlet' OR p.recorded_at >= c.migrated_at))
           OR (p.platform = 'proximus' AND c.brand = 'scarlet'
               AND (c.migrated_at IS NULL OR p.recorded_at <= c.migrated_at))
           OR p.recorded_at < c.created_at
    """) == 0  # fmt: skip


def test_the_consent_ledger_tells_every_story(con):
    pairs = set(
        con.execute("SELECT DISTINCT platform, channel FROM privacy_preferences").fetchall()
    )
    assert pairs == {(p, c) for p in ENUMS[("privacy_preferences", "platform")]
                     for c in ENUMS[("privacy_preferences", "channel")]}  # fmt: skip
    kinds = set(
        con.execute("SELECT DISTINCT platform, purpose, choice FROM privacy_preferences").fetchall()
    )
    assert ("scarlet_legacy", "direct_marketing", "opt_out") in kinds
    assert ("proximus", "location_analytics", "opt_out") in kinds
    for purpose in ("personalisation_browsing", "personalisation_usage", "partner_offers"):
        assert ("proximus", purpose, "opt_in") in kinds
    withdrawals = scalar(con, """
        SELECT count(*) FROM privacy_preferences o JOIN privacy_preferences i
            USING (customer_id, purpose)
        WHERE i.choice = 'opt_in' AND o.choice = 'opt_out' AND o.recorded_at > i.recorded_at
    """)  # fmt: skip
    assert withdrawals > 0
    late = scalar(
        con,
        "SELECT count(*) FROM privacy_preferences WHERE recorded_at >= "
        f"TIMESTAMPTZ '{local_midnight(RUN_DATE + dt.timedelta(days=1))}'",
    )
    assert late > 0


# --- the demo's story -------------------------------------------------------------------------


def test_a_festival_on_the_run_date_draws_a_crowd(con):
    start, end = local_midnight(RUN_DATE), local_midnight(RUN_DATE + dt.timedelta(days=1))
    festival = con.execute(
        "SELECT event_id, starts_at, ends_at FROM events WHERE name ILIKE '%festival%' "
        "AND starts_at < $end AND ends_at > $start",
        {"start": start, "end": end},
    ).fetchall()
    assert festival, "no festival overlaps the run date"
    crowd = scalar(con, f"""
        SELECT count(DISTINCT n.msisdn) FROM network_events n
        JOIN event_cells ec USING (cell_id) JOIN events e USING (event_id)
        WHERE e.event_id = '{festival[0][0]}' AND n.event_at >= e.starts_at
            AND n.event_at < e.ends_at
    """)  # fmt: skip
    assert crowd >= 200  # 15% of 2,000 customers attend


def test_the_small_demo_has_k30_crowds_per_postal_code_and_hour(con):
    # Upper bound of who location analytics may count: on the Proximus platform, not closed,
    # never objected. The biggest postal codes must still have 30+ people in most hours.
    publishable = scalar(con, """
        WITH eligible AS (
            SELECT msisdn FROM customers
            WHERE closed_at IS NULL AND (brand = 'proximus' OR migrated_at IS NOT NULL)
              AND customer_id NOT IN (SELECT customer_id FROM privacy_preferences
                                      WHERE purpose = 'location_analytics')
        )
        SELECT count(*) FROM (
            SELECT c.postal_code, date_trunc('hour', n.event_at) AS hour
            FROM network_events n JOIN eligible USING (msisdn) JOIN cells c USING (cell_id)
            GROUP BY ALL HAVING count(DISTINCT n.msisdn) >= 30
        )
    """)  # fmt: skip
    assert publishable >= 100


def test_activity_is_skewed_like_real_traffic(con):
    night, evening = (
        scalar(con, f"SELECT count(*) FROM network_events WHERE hour(event_at) = {h}")
        for h in (3, 18)
    )
    assert night * 5 < evening
    at_home = scalar(con, """
        SELECT avg((c.postal_code = k.postal_code)::INT) FROM network_events n
        JOIN cells c USING (cell_id) JOIN customers k USING (msisdn)
    """)  # fmt: skip
    assert at_home > 0.5
    top_share = scalar(con, """
        SELECT sum(n) FILTER (WHERE rank <= 0.1 * total) / sum(n) FROM (
            SELECT count(*) n, row_number() OVER (ORDER BY count(*) DESC) rank,
                   count(*) OVER () total
            FROM traffic_events GROUP BY customer_id)
    """)  # fmt: skip
    assert top_share > 0.18


# --- safety -----------------------------------------------------------------------------------


def test_existing_tables_are_replaced_and_other_files_kept(tmp_path):
    (tmp_path / "customers.parquet").write_bytes(b"stale")
    (tmp_path / "network_events.csv").write_text("msisdn,cell_id,event_at\n")
    (tmp_path / "README.txt").write_text("keep me")
    generate_landing_zone(tmp_path, customers=50, events_per_customer=2, show_progress=False)
    assert not (tmp_path / "customers.parquet").exists()
    assert not (tmp_path / "network_events.csv").exists()
    assert (tmp_path / "customers.csv").exists()
    assert (tmp_path / "README.txt").read_text() == "keep me"


@pytest.mark.parametrize(
    "arguments", [dict(customers=0), dict(days=0), dict(events_per_customer=-1)]
)
def test_nonsense_sizes_are_refused(tmp_path, arguments):
    with pytest.raises(ValueError):
        generate_landing_zone(tmp_path, show_progress=False, **arguments)
    assert not list(tmp_path.iterdir())
