"""An objection reaches every published date, however the contract lets it be written.

Attack (session 5): the models read a refusal generously (docs/data-contract.md,
"Vocabularies read generously": NFKC, case, accents, look-alike letters, format
characters, any Unicode space or dash), and match a refusal's customer number on its key.
The withdrawal of earlier publications (``privacy_pipeline.withdrawal``) read the ledger
with a rule of its own (ASCII case, ``\\s``, ``-`` and ``_``), so a refusal written
``ＯＰＴ＿ＯＵＴ``, ``Opt – Out`` or with an NBSP was honoured for the new date but left the
customer in every date published before it. No DAG: the warehouse is built by hand.
"""

from __future__ import annotations

import pytest

from tests.support.landing import RUN_DATE, consent_event, customer, ts
from tests.test_consent_ledger import (
    MARKETING_TABLES,
    NEXT_DATE,
    customers_in,
    export_customers,
    withdrawal_warehouse,
)

# customer -> (customer number as written on the refusal, purpose, choice)
SPELLED_REFUSALS = {
    "W11": ("W11", "direct_marketing", "ＯＰＴ＿ＯＵＴ"),  # fullwidth
    "W12": ("W12", "direct_marketing", "opt\u00a0out"),  # no-break space
    "W13": ("W13", "direct_marketing", "opt\u200b_out"),  # zero-width space
    "W14": ("W14", "direct_marketing", "Opt \u2013 Out"),  # en dash
    "W15": ("W15", "direct_marketing", "Öpt-Oüt"),  # accents
    "W16": ("W16", "direct_marketing", "\u041e\u0420\u0422-\u041eU\u0422"),  # Cyrillic
    "W17": ("W17", "Direct\u00a0Marketing", "opt_out"),  # purpose with a no-break space
    "W18": ("Ｗ－１８", "direct_marketing", "opt_out"),  # fullwidth customer number
}
KEPT = "W19"  # an unreadable choice is no refusal: nothing to withdraw


@pytest.fixture(scope="module")
def withdrawn(tmp_path_factory):
    from privacy_pipeline.withdrawal import withdraw_objections

    root = tmp_path_factory.mktemp("withdrawal-spellings")
    people = [*SPELLED_REFUSALS, KEPT]
    customers = [
        customer(who, msisdn=f"+324920000{number:02d}") for number, who in enumerate(people)
    ]
    events = [
        consent_event(f"S-{who}", written, purpose, choice, ts(10, day=NEXT_DATE))
        for who, (written, purpose, choice) in SPELLED_REFUSALS.items()
    ]
    events.append(consent_event("S-KEPT", KEPT, "direct_marketing", "maybe", ts(10, day=NEXT_DATE)))
    ctx = withdrawal_warehouse(root, events=events, customers=customers)
    withdraw_objections(ctx)
    return ctx.warehouse_dir


@pytest.mark.parametrize("objector", list(SPELLED_REFUSALS))
def test_a_refusal_in_any_readable_spelling_leaves_every_published_date(withdrawn, objector):
    for day in (RUN_DATE, NEXT_DATE):
        for table in MARKETING_TABLES:
            assert objector not in customers_in(withdrawn, table, day), (table, day)
    assert objector not in {who for _, who in export_customers(withdrawn)}


def test_an_unreadable_choice_withdraws_nothing(withdrawn):
    for day in (RUN_DATE, NEXT_DATE):
        assert KEPT in customers_in(withdrawn, "segment_members", day)
