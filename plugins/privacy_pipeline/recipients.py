"""The register of recipients: who receives each published table (letter, section 3).

The recipients are dbt exposures (``dbt_project/models/marts/_exposures.yml``): each names
its recipient (``config.meta.recipient``) and the published tables it receives. Every
table of ``PUBLISHED_TABLES`` must have one (``uncovered_tables``; tests/test_recipients.py
fails ``make test`` otherwise). After every run the register is written to
``<warehouse>/reports/recipients.html`` from the run's dbt manifest. See docs/dpo.md.

The same exposures decide the nightly exports (``privacy_pipeline.publish``): recipient R
receives ``exports/R/run_date=D/`` holding only the tables its exposures depend on.
Publication reads them from the exposures' yml (``declared_exposures``), not from a dbt
manifest, so a night whose dbt did not run (a re-export, a withdrawal) still knows them;
tests/test_recipients.py checks that both readings agree. The folder name is the
exposure's ``config.meta.recipient``, which must be a slug (``RECIPIENT_SLUG``); several
exposures with the same recipient share its folder. A table with a person-level column
(``person_level_columns``) goes only to a recipient whose exposures all say
``config.meta.person_level: true``: anything else refuses the publication.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from privacy_pipeline.config import safe_load_yaml
from privacy_pipeline.errors import ConfigError
from privacy_pipeline.publish import PUBLISHED_TABLES
from privacy_pipeline.run_context import RunContext

REGISTER_FILE = "recipients.html"
TEMPLATE = "recipients.html.j2"
# A recipient's export folder name: stable, lower case, never hidden (".versions") nor a
# run date folder, the same on every file system.
RECIPIENT_SLUG = re.compile(r"[a-z][a-z0-9_]{0,62}")
# Columns that name or stand for one person: a table holding one is person-level.
PERSON_LEVEL_COLUMN = re.compile(r"customer_id|.*(pseudonym|msisdn|imsi|imei).*", re.IGNORECASE)


class RecipientsInvalid(ConfigError):
    """The exposures cannot decide who receives what (a bad folder name, a person-level
    table declared for a recipient not allowed to receive one)."""


def node_table(manifest: dict[str, Any], unique_id: str) -> str | None:
    """schema.name of a model or source the manifest knows."""
    node = manifest["nodes"].get(unique_id) or manifest["sources"].get(unique_id)
    return f"{node['schema']}.{node['name']}" if node else None


def exposures(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Every exposure: name, label, recipient, owner, description, published tables."""
    found = []
    for exposure in manifest.get("exposures", {}).values():
        meta = (exposure.get("config") or {}).get("meta") or exposure.get("meta") or {}
        tables = sorted(
            t for t in (node_table(manifest, n) for n in exposure["depends_on"]["nodes"]) if t
        )
        found.append({
            "name": exposure["name"],
            "label": exposure.get("label") or exposure["name"],
            "recipient": meta.get("recipient"),
            "owner": (exposure.get("owner") or {}).get("name"),
            "description": (exposure.get("description") or "").strip(),
            "tables": tables,
        })  # fmt: skip
    return sorted(found, key=lambda e: (e["recipient"] or "", e["name"]))


def declared_exposures(project_dir: Path | None = None) -> list[dict[str, Any]]:
    """The exposures of the dbt project's yml files, as ``exposures`` reads them from a
    manifest (plus ``person_level``): ref('model') is the published table of that name,
    source('source', 'table') the table of that source's schema."""
    from privacy_pipeline.config import DBT_PROJECT_DIR

    documents = []
    for path in sorted(Path(project_dir or DBT_PROJECT_DIR).joinpath("models").rglob("*.yml")):
        with open(path, encoding="utf-8") as handle:
            documents.append(safe_load_yaml(handle) or {})
    source_schemas = {
        s["name"]: s.get("schema") or s["name"] for d in documents for s in d.get("sources") or []
    }
    by_name = {t.split(".")[1]: t for t in PUBLISHED_TABLES}
    found = []
    for document in documents:
        for exposure in document.get("exposures") or []:
            meta = (exposure.get("config") or {}).get("meta") or exposure.get("meta") or {}
            tables = set()
            for dependency in exposure.get("depends_on") or []:
                names = re.findall(r"['\"]([^'\"]+)['\"]", dependency)
                if dependency.strip().startswith("source(") and len(names) == 2:
                    tables.add(f"{source_schemas.get(names[0], names[0])}.{names[1]}")
                elif dependency.strip().startswith("ref(") and names and names[-1] in by_name:
                    tables.add(by_name[names[-1]])
            found.append({
                "name": exposure["name"],
                "label": exposure.get("label") or exposure["name"],
                "recipient": meta.get("recipient"),
                "person_level": meta.get("person_level") is True,
                "owner": (exposure.get("owner") or {}).get("name"),
                "description": (exposure.get("description") or "").strip(),
                "tables": sorted(tables),
            })  # fmt: skip
    return sorted(found, key=lambda e: (e["recipient"] or "", e["name"]))


def recipient_tables(declared: list[dict[str, Any]] | None = None) -> dict[str, list[str]]:
    """Recipient (its export folder) -> the published tables it receives; RecipientsInvalid
    when a recipient's name is not a slug."""
    by_recipient: dict[str, set[str]] = {}
    for exposure in declared_exposures() if declared is None else declared:
        recipient = exposure["recipient"]
        if not isinstance(recipient, str) or not RECIPIENT_SLUG.fullmatch(recipient):
            raise RecipientsInvalid(
                f"exposure {exposure['name']!r}: config.meta.recipient {recipient!r} is not a "
                f"recipient folder name (lower case letters, digits, '_'; {RECIPIENT_SLUG.pattern})"
            )
        by_recipient.setdefault(recipient, set()).update(
            t for t in exposure["tables"] if t in PUBLISHED_TABLES
        )
    return {r: sorted(t) for r, t in sorted(by_recipient.items())}


def person_level_recipients(declared: list[dict[str, Any]] | None = None) -> set[str]:
    """Recipients allowed person-level tables: every one of their exposures says so."""
    declared = declared_exposures() if declared is None else declared
    recipients = {e["recipient"] for e in declared}
    return {
        r for r in recipients if all(e["person_level"] for e in declared if e["recipient"] == r)
    }


def person_level_columns(columns: list[str]) -> list[str]:
    return [c for c in columns if PERSON_LEVEL_COLUMN.fullmatch(c)]


def check_person_level(recipient: str, table: str, columns: list[str], allowed: set[str]) -> None:
    """RecipientsInvalid when ``table`` is person-level and ``recipient`` may not have it."""
    person = person_level_columns(columns)
    if person and recipient not in allowed:
        raise RecipientsInvalid(
            f"refusing to export {table} to {recipient!r}: it is person-level "
            f"({', '.join(person)}) and the exposures of {recipient!r} do not declare "
            "config.meta.person_level: true (dbt_project/models/marts/_exposures.yml)"
        )


def uncovered_tables(manifest: dict[str, Any]) -> list[str]:
    """Published tables no exposure names (a recipient nobody declared)."""
    covered = {t for e in exposures(manifest) for t in e["tables"]}
    return [t for t in PUBLISHED_TABLES if t not in covered]


def render_register(manifest: dict[str, Any]) -> str:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True
    )
    return env.get_template(TEMPLATE).render(
        exposures=exposures(manifest), uncovered=uncovered_tables(manifest)
    )


def write_recipients_register(ctx: RunContext) -> Path | None:
    """From the run's dbt manifest; None when dbt did not run (the last register stays)."""
    from privacy_pipeline.dbt_runner import target_dir

    manifest_path = target_dir(ctx) / "manifest.json"
    if not manifest_path.exists():
        return None
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    path = ctx.reports_dir / REGISTER_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_register(manifest), encoding="utf-8")
    return path
