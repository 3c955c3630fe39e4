"""Airflow Assets announcing publications, so downstream DAGs are scheduled on them.

A successful ``publish`` emits one asset event per published schema (``marketing``,
``location``, ``dpo``) of the warehouse it wrote. The warehouse is a run parameter,
so the assets are attached at run time through the alias ``ASSET_ALIAS`` (the task
declares the alias as its outlet). A failed gate fails ``publish`` before it starts,
and a task that fails emits nothing: no event without a publication.

The asset of a schema is named ``privacy-pipeline://<absolute warehouse path>/<schema>``
(e.g. ``privacy-pipeline:///data/warehouse/marketing``); ``published_schema_asset`` builds
it for a downstream DAG. Each event's ``extra`` holds the run date, the run id, the
tables of the schema with their row counts, and, per recipient receiving a table of the
schema, its export folder of the run date (``exports/<recipient>/run_date=D``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

ASSET_ALIAS = "privacy-pipeline-publications"
URI_SCHEME = "privacy-pipeline"


def asset_uri(warehouse_dir: str | Path, schema: str) -> str:
    return f"{URI_SCHEME}://{Path(warehouse_dir).resolve()}/{schema}"


def published_schema_asset(warehouse_dir: str | Path, schema: str):
    """The Airflow Asset of one published schema of a warehouse (for ``schedule=[...]``)."""
    from airflow.sdk import Asset

    return Asset(asset_uri(warehouse_dir, schema))


def publication_alias():
    from airflow.sdk import AssetAlias

    return AssetAlias(ASSET_ALIAS)


def schema_events(ctx: dict[str, Any], published: dict[str, int]) -> dict[str, dict[str, Any]]:
    """Schema -> the extra of its asset event, for the tables ``publish`` returned."""
    from privacy_pipeline.recipients import recipient_tables

    events: dict[str, dict[str, Any]] = {}
    for table, rows in sorted(published.items()):
        schema = table.split(".")[0]
        extra = events.setdefault(
            schema,
            {
                "run_date": ctx["run_date"],
                "run_id": ctx.get("run_id"),
                "warehouse": str(Path(ctx["warehouse_dir"]).resolve()),
                "exports": {},
                "tables": {},
            },
        )
        extra["tables"][table] = int(rows)
    root = Path(ctx["warehouse_dir"]).resolve() / "exports"
    for recipient, tables in recipient_tables().items():
        for schema in {t.split(".")[0] for t in tables if t in published}:
            folder = root / recipient / f"run_date={ctx['run_date']}"
            events[schema]["exports"][recipient] = str(folder)
    return events


def announce_publication(
    outlet_events, ctx: dict[str, Any], published: dict[str, int]
) -> list[str]:
    """Attach one asset event per published schema to the ``publish`` task's alias outlet."""
    from airflow.sdk import Asset

    alias = publication_alias()
    uris = []
    for schema, extra in schema_events(ctx, published).items():
        uri = asset_uri(ctx["warehouse_dir"], schema)
        outlet_events[alias].add(Asset(uri), extra=extra)
        uris.append(uri)
    return uris
