"""The personal data gate: no direct identifier in any published schema.

The identifiers come from the landing zone of the clean candidate (tests/support/landing):
msisdns +32470000001.., e-mails c001@example.be.., called numbers +32470000099 and
+3222000000, names "Customer C001"...
"""

from __future__ import annotations

import pytest

from tests.support.landing import RUN_DATE
from tests.test_gates_candidates import assert_gate_blocks, publish_clean_run
from tests.test_gates_candidates import violating_copy as copy_with

SUITE = "personal_data"


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    return publish_clean_run(tmp_path_factory.mktemp("personal_data"))


def quarantined(row_data: str) -> str:
    """A candidate that publishes quarantined rows again (they belong in the restricted
    store): the gate must see identifiers inside their JSON text."""
    row_data = row_data.replace("'", "''")
    return (
        "create table dpo.quarantined_rows as select "
        f"date '{RUN_DATE}' as run_date, 'customers' as source_table, "
        f"'customers.csv' as source_file, 'bad' as reason, '{row_data}' as row_data"
    )


def segment_named(value: str) -> str:
    return (
        f"update marketing.segment_members set segment = '{value}' where segment = 'music_lovers'"
    )


@pytest.mark.parametrize(
    "sql",
    [
        "alter table marketing.segment_members add column email varchar",
        "alter table location.presence_hourly add column msisdn_pseudonym varchar",
        "alter table dpo.load_reconciliation add column called_number varchar",
        "alter table marketing.partner_audiences add column first_name varchar",
    ],
    ids=["email", "msisdn pseudonym", "called number", "first name"],
)
def test_a_column_named_like_a_direct_identifier_blocks(published, tmp_path, sql):
    # An identifier column is also a column nobody declared: both promises are broken.
    assert_gate_blocks(
        copy_with(published, tmp_path, sql),
        SUITE,
        "no_direct_identifier_column",
        also=frozenset({DECLARED_COLUMNS}),
    )


DECLARED_COLUMNS = "every_published_table_has_exactly_its_declared_columns"


@pytest.mark.parametrize(
    "sql",
    [
        # the people behind each figure, under a name no deny-list knows
        "alter table location.presence_hourly add column members varchar default 'C001,C002'",
        "alter table dpo.quarantine_summary drop column reason",
    ],
    ids=["undeclared column", "declared column missing"],
)
def test_a_published_table_without_exactly_its_declared_columns_blocks(published, tmp_path, sql):
    import json

    ctx = copy_with(published, tmp_path, sql)
    observed = assert_gate_blocks(ctx, SUITE, DECLARED_COLUMNS)
    table = sql.split()[2]
    assert table in observed
    # The validation page shows GE's built-in on that table's columns, failed, and no value.
    result = json.loads((ctx.run_dir / "gates" / f"{SUITE}.json").read_text())
    page = (ctx.reports_dir / "validation" / result["data_docs_page"]).read_text()
    assert f"{DECLARED_COLUMNS}: {table} has exactly its declared columns" in page
    assert "C001" not in page


def test_every_published_table_has_exactly_its_declared_columns_in_the_clean_run(published):
    from privacy_pipeline.gates.results import read_suite_results

    [found] = [
        e
        for e in read_suite_results(published)[SUITE]["expectations"]
        if e["expectation"] == DECLARED_COLUMNS
    ]
    assert found["success"], found
    assert "of 13 published tables" in found["observed"], found


@pytest.mark.parametrize(
    "sql",
    [
        segment_named("+32470000001"),
        segment_named("0470 00 00 02"),
        quarantined('{"customer_id":"C009","msisdn":"+32 470 00 00 03"}'),
        # not a landing msisdn, but shaped like one
        segment_named("+32499123456"),
    ],
    ids=["e164", "national with spaces", "inside quarantined JSON", "shape only"],
)
def test_an_msisdn_value_blocks(published, tmp_path, sql):
    observed = assert_gate_blocks(copy_with(published, tmp_path, sql), SUITE, "no_msisdn_value")
    assert "470000001" not in observed, "examples must be masked"


def test_a_called_number_blocks(published, tmp_path):
    sql = quarantined('{"customer_id":"C001","note":"called 3222000000"}')
    assert_gate_blocks(copy_with(published, tmp_path, sql), SUITE, "no_called_number_value")


@pytest.mark.parametrize(
    "sql",
    [segment_named("C001@Example.be"), quarantined('{"contact":"someone.else@mail.example.org"}')],
    ids=["landing e-mail", "any e-mail"],
)
def test_an_email_address_blocks(published, tmp_path, sql):
    observed = assert_gate_blocks(copy_with(published, tmp_path, sql), SUITE, "no_email_value")
    assert "example.be" not in observed.lower(), "examples must be masked"


@pytest.mark.parametrize(
    "sql",
    [segment_named("customer c002"), quarantined('{"customer_id":"C003","name":"Customer C003"}')],
    ids=["whole value", "inside JSON"],
)
def test_a_customer_name_blocks(published, tmp_path, sql):
    assert_gate_blocks(copy_with(published, tmp_path, sql), SUITE, "no_customer_name_value")


def test_pseudonyms_dates_and_counts_are_not_mistaken_for_phone_numbers(published, tmp_path):
    from privacy_pipeline.gates import run_suite

    sql = quarantined(
        '{"msisdn_pseudonym":"a04701234567890b32470000001ffe0470123456","bytes":"470123456",'
        '"recorded_at":"2026-06-20T10:00:00+02:00","postal_code":"2000"}'
    )
    assert run_suite(copy_with(published, tmp_path, sql), SUITE)["success"]


def test_a_phone_number_pseudonym_outside_the_quarantine_blocks(published, tmp_path):
    from privacy_pipeline.pseudonyms import pseudonym

    sql = f"update location.event_attendance_total set event_id = '{pseudonym('+32470000001')}'"
    observed = assert_gate_blocks(
        copy_with(published, tmp_path, sql), SUITE, "no_phone_number_pseudonym_value"
    )
    assert "location.event_attendance_total.event_id" in observed


# A customer whose name is also an area name of the cells ("De Haan" is a municipality
# and a surname): the area is published by design, and must not refuse every night.
NAME_AS_AREA = (
    "update location.presence_hourly set area_id = 'Customer C002' "
    "where area_level = 'municipality'"
)
CELLS_NAMED_AFTER_C002 = (
    "create table landing.delivered_cells as select * from landing.cells; "
    "create or replace view landing.cells as "
    "select * replace ('Customer C002' as municipality) from landing.delivered_cells; "
)


def test_a_customer_name_that_is_no_area_name_blocks_in_an_area_column(published, tmp_path):
    assert_gate_blocks(
        copy_with(published, tmp_path, NAME_AS_AREA), SUITE, "no_customer_name_value"
    )


def test_an_area_name_that_is_also_a_customer_name_passes(published, tmp_path):
    from privacy_pipeline.gates import run_suite

    sql = CELLS_NAMED_AFTER_C002 + NAME_AS_AREA
    assert run_suite(copy_with(published, tmp_path, sql), SUITE)["success"]
