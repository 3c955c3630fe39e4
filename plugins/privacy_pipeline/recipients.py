"""The register of recipients: who receives each published table (letter, section 3).

The recipients are dbt exposures (``dbt_project/models/marts/_exposures.yml``): each names
its recipient (``config.meta.recipient``) and the published tables it receives. Every
table of ``PUBLISHED_TABLES`` must have one (``uncovered_tables``; tests/test_recipients.py
fails ``make test`` otherwise). After every run the register is written to
``<warehouse>/reports/recipients.html`` from the run's dbt manifest. See docs/dpo.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from privacy_pipeline.publish import PUBLISHED_TABLES
from privacy_pipeline.run_context import RunContext

REGISTER_FILE = "recipients.html"
TEMPLATE = "recipients.html.j2"


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
