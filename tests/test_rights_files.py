"""The files the rights step writes for the DPO (privacy_pipeline.rights): one per request."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st
from privacy_pipeline.rights import safe_name

# The contract's safe identifier format (docs/data-contract.md).
REQUEST_IDS = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,20}", fullmatch=True)


@given(st.lists(REQUEST_IDS, unique=True))
def test_every_request_id_gets_a_file_name_of_its_own(request_ids):
    """Session 11's attack: DSR:2026:001 and DSR_2026_001 were one file, and the second
    access answer (another customer's) overwrote the first."""
    names = [safe_name(request_id) for request_id in request_ids]
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name) for name in names)


def test_a_plain_request_id_is_its_own_file_name():
    assert safe_name("REQ-1") == "REQ-1"
    assert safe_name("DSR:2026:001") == "DSR_3a2026_3a001"
    assert safe_name("DSR_2026_001") == "DSR_5f2026_5f001"
