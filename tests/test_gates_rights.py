"""The gate suite `rights` (issue #14): no erased customer in the candidate or the published
output, the erased customers read from the landing zone (not from the models)."""

from __future__ import annotations

import duckdb
import pytest
from privacy_pipeline.errors import GateFailed
from privacy_pipeline.gates import run_suite
from privacy_pipeline.gates.landing_facts import timestamp

from tests.support.landing import C_PROXIMUS, RUN_DATE
from tests.test_gates_candidates import (
    build_clean_candidate,
    copy_candidate,
    inject,
    publish_clean_run,
    violating_copy,
)


def erasure_view(received_at: str, kind: str = " Erasure ") -> str:
    return f"""create or replace view landing.data_subject_requests as
        select 'R1' as request_id, ' {C_PROXIMUS} ' as customer_id, '{kind}' as kind,
               '{received_at}' as received_at, 'email' as channel,
               'privacy@proximus.com' as addressed_to"""


# The candidate's marketing tables without C_PROXIMUS (as staging leaves them when it
# excludes an erased customer); the published warehouse still holds them.
CUSTOMER_LEFT_OUT = f"""
    delete from marketing.customer_interests where customer_id = '{C_PROXIMUS}';
    delete from marketing.interest_evidence where customer_id = '{C_PROXIMUS}';
    delete from marketing.segment_members where customer_id = '{C_PROXIMUS}';
    delete from marketing.partner_audiences where customer_id = '{C_PROXIMUS}';"""


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    return build_clean_candidate(tmp_path_factory.mktemp("rights-clean"))


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    return publish_clean_run(tmp_path_factory.mktemp("rights-published"))


def test_a_clean_candidate_passes(clean, tmp_path):
    assert run_suite(copy_candidate(clean, tmp_path / "w"), "rights")["success"]


def test_an_erased_customer_left_in_the_candidate_fails_the_gate(clean, tmp_path):
    ctx = copy_candidate(clean, tmp_path / "w")
    inject(ctx, erasure_view(f"{RUN_DATE}T23:30:00+02:00"))  # by the end of D, any spelling
    with pytest.raises(GateFailed) as failed:
        run_suite(ctx, "rights")
    assert "no_erased_customer_in_candidate" in str(failed.value)
    assert C_PROXIMUS not in str(failed.value)  # examples are masked


# Kinds the models read as an erasure (the contract's one normaliser): the gate must too,
# or a model that failed to erase them would pass it (attack, session 5).
@pytest.mark.parametrize("kind", ["ＥＲＡＳＵＲＥ", "Érasure", "era\u0455ure", "era\u200bsure"])
def test_an_erasure_in_any_readable_spelling_is_checked(clean, tmp_path, kind):
    ctx = copy_candidate(clean, tmp_path / "w")
    inject(ctx, erasure_view(f"{RUN_DATE}T23:30:00+02:00", kind=kind))
    with pytest.raises(GateFailed) as failed:
        run_suite(ctx, "rights")
    assert "no_erased_customer_in_candidate" in str(failed.value)


def test_an_erasure_received_after_the_run_date_does_not_apply_yet(clean, tmp_path):
    ctx = copy_candidate(clean, tmp_path / "w")
    inject(ctx, erasure_view("2026-06-21T00:00:00+02:00"))
    assert run_suite(ctx, "rights")["success"]


# The register's erasure, without the loader's flag (an older loader: every registered
# erasure expected applied), or one an earlier run had to apply (applied, or due then).
@pytest.mark.parametrize("flag", [None, "true", "null"])
def test_a_registered_erasure_still_published_fails_the_gate(published, tmp_path, flag):
    due = "" if flag is None else f", cast({flag} as boolean) as due_in_earlier_run"
    ctx = violating_copy(
        published,
        tmp_path / "copy",
        f"""create or replace table landing.erased_customers as
            select '{C_PROXIMUS}' as customer_id{due};
            {CUSTOMER_LEFT_OUT}""",
    )
    with pytest.raises(GateFailed) as failed:
        run_suite(ctx, "rights")
    message = str(failed.value)
    assert "no_erased_customer_in_published_output" in message
    assert "no_erased_customer_in_candidate" not in message


def test_an_erasure_due_tonight_is_checked_on_the_candidate_not_on_earlier_dates(
    published, tmp_path
):
    """Registered by an earlier run that received it after its run date (just after
    midnight): no earlier run had to apply it, so tonight's honour_requests cleans the
    earlier publications after the gates; the gate checks tonight's candidate (attack A,
    session 11: the night after such a registration was refused)."""
    register = f"""create or replace table landing.erased_customers as
        select '{C_PROXIMUS}' as customer_id, false as due_in_earlier_run;"""
    ctx = violating_copy(published, tmp_path / "clean", f"{register} {CUSTOMER_LEFT_OUT}")
    assert run_suite(ctx, "rights")["success"]
    # a candidate that forgot the erasure due tonight is still stopped
    ctx = violating_copy(published, tmp_path / "forgot", register)
    with pytest.raises(GateFailed) as failed:
        run_suite(ctx, "rights")
    message = str(failed.value)
    assert "no_erased_customer_in_candidate" in message
    assert "no_erased_customer_in_published_output" not in message


def test_an_erasure_without_an_offset_is_unparseable_for_the_gate_too(clean, tmp_path):
    """Staging quarantines it (unparseable_timestamp) and erases nobody; the gate must not
    read it as a local time and refuse every night (attack A, session 11)."""
    ctx = copy_candidate(clean, tmp_path / "w")
    inject(ctx, erasure_view(f"{RUN_DATE} 10:00:00"))
    assert run_suite(ctx, "rights")["success"]
    assert run_suite(ctx, "location")["success"]


@pytest.mark.parametrize(
    ("value", "read"),
    [
        ("2026-06-20 10:00:00", None),  # no offset: unparseable, as in staging
        ("2026-06-20T10:00", None),
        ("20-06-2026 10:00+02:00", None),
        (" 2026-06-20t08:00:00z ", "2026-06-20 08:00:00+00"),
        ("2026-06-20 10:00:00,5+0200", "2026-06-20 08:00:00.5+00"),
        ("", None),
    ],
)
def test_the_gates_read_a_contract_instant_as_staging_does(value, read):
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    found = con.execute(
        f"select cast({timestamp('x')} as varchar) from (select ? as x)", [value]
    ).fetchone()[0]
    assert found == read
    typed = con.execute(
        f"select {timestamp('x')} = x from (select timestamptz '1850-01-01 00:00:00+00' as x)"
    ).fetchone()[0]
    assert typed  # a typed Parquet instant is taken as it is
