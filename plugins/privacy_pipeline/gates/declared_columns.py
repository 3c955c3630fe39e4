"""The columns each published table is declared to have: the ``columns`` of its model in
the marts' yml (``dbt_project/models/marts/<schema>/_<schema>__models.yml``), where every
published column is described for its readers. One source of truth: a column that is not
declared there is not published (the personal-data gate's allow-list)."""

from __future__ import annotations

from pathlib import Path

from privacy_pipeline.config import safe_load_yaml
from privacy_pipeline.publish import CANDIDATE_TABLES


def declared_columns(project_dir: Path) -> dict[str, tuple[str, ...]]:
    """ "schema.table" -> its declared column names (lower case), for every published table
    of the candidate that a marts yml declares (the folder under marts is the schema)."""
    marts = project_dir / "models" / "marts"
    declared: dict[str, tuple[str, ...]] = {}
    for yml in sorted(marts.rglob("*.yml")):
        schema = yml.relative_to(marts).parts[0] if len(yml.relative_to(marts).parts) > 1 else ""
        document = safe_load_yaml(yml.read_text(encoding="utf-8")) or {}
        for model in document.get("models") or []:
            table = f"{schema}.{model.get('name')}"
            if table in CANDIDATE_TABLES:
                declared[table] = tuple(
                    str(column["name"]).lower() for column in model.get("columns") or []
                )
    return declared
