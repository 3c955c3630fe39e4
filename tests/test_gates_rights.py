"""The gate suite `rights` (issue #14): no erased customer in the candidate or the published
output, the erased customers read from the landing zone (not from the models)."""

from __future__ import annotations

import pytest
from privacy_pipeline.errors import GateFailed
from privacy_pipeline.gates import run_suite

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


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    return build_clean_candidate(tmp_path_factory.mktemp("rights-clean"))


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


def test_a_registered_erasure_still_published_fails_the_gate(tmp_path):
    published = publish_clean_run(tmp_path / "published")
    ctx = violating_copy(
        published,
        tmp_path / "copy",
        f"""create or replace table landing.erased_customers as
            select '{C_PROXIMUS}' as customer_id;
            delete from marketing.customer_interests;
            delete from marketing.interest_evidence;
            delete from marketing.segment_members;
            delete from marketing.partner_audiences;""",
    )
    with pytest.raises(GateFailed) as failed:
        run_suite(ctx, "rights")
    message = str(failed.value)
    assert "no_erased_customer_in_published_output" in message
    assert "no_erased_customer_in_candidate" not in message
