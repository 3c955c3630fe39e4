"""Every published table has a recipient (a dbt exposure), and the register of recipients
is generated from the manifest (issue #14 item 5)."""

from __future__ import annotations

import json

import pytest
from privacy_pipeline.publish import PUBLISHED_TABLES
from privacy_pipeline.recipients import (
    RECIPIENT_SLUG,
    RecipientsInvalid,
    declared_exposures,
    exposures,
    person_level_recipients,
    recipient_tables,
    render_register,
    uncovered_tables,
)

from tests.support.landing import RUN_DATE
from tests.support.pipeline import run_cli


@pytest.fixture(scope="module")
def manifest(tmp_path_factory):
    warehouse = tmp_path_factory.mktemp("recipients")
    parsed = run_cli("dbt", "--warehouse", str(warehouse), "--date", RUN_DATE, "--", "parse")
    assert parsed.returncode == 0, parsed.stdout + parsed.stderr
    path = warehouse / "runs" / RUN_DATE / "dbt" / "target" / "manifest.json"
    return json.loads(path.read_text())


def test_every_published_table_has_a_recipient(manifest):
    assert uncovered_tables(manifest) == []
    assert all(e["recipient"] for e in exposures(manifest))


def test_location_buyers_receive_no_person_level_table(manifest):
    for exposure in exposures(manifest):
        if exposure["recipient"] == "location_buyers":
            assert exposure["tables"] and all(t.startswith("location.") for t in exposure["tables"])


def test_a_table_without_exposure_is_reported(manifest):
    stripped = {**manifest, "exposures": {}}
    assert uncovered_tables(stripped) == list(PUBLISHED_TABLES)
    assert "Published with no declared recipient" in render_register(stripped)


def test_the_register_names_each_recipient_and_its_tables(manifest):
    page = render_register(manifest)
    for recipient in ("marketing", "location_buyers", "dpo"):
        assert f"<td>{recipient}</td>" in page
    assert "<code>marketing.partner_audiences</code>" in page


def test_publication_reads_the_same_exposures_as_the_manifest(manifest):
    """The exports are decided from the exposures' yml (no manifest needed at publication):
    both readings must agree, table for table."""
    from_manifest = exposures(manifest)
    from_yml = declared_exposures()
    assert [(e["name"], e["recipient"], e["tables"]) for e in from_yml] == [
        (e["name"], e["recipient"], e["tables"]) for e in from_manifest
    ]
    assert recipient_tables(from_manifest) == recipient_tables(from_yml)
    assert all(RECIPIENT_SLUG.fullmatch(r) for r in recipient_tables())


def test_only_marketing_may_receive_person_level_tables():
    assert person_level_recipients() == {"marketing"}
    plan = recipient_tables()
    assert all(t.startswith("marketing.") for t in plan["marketing"])
    assert not [t for r, tables in plan.items() if r != "marketing" for t in tables
                if t.startswith("marketing.")]  # fmt: skip


@pytest.mark.parametrize("name", ["../x", ".versions", "run_date=2026-06-20", "Marketing", None])
def test_a_recipient_that_is_not_a_folder_name_is_refused(name):
    declared = [{"name": "x", "recipient": name, "tables": [], "person_level": False}]
    with pytest.raises(RecipientsInvalid, match="not a recipient folder name"):
        recipient_tables(declared)
