"""From aggregated counts to the release decision of every location figure.

Called by the dbt Python model ``int_location__release`` with the counts of the run
(no per-person rows ever reach Python): builds the area tree and the events' postal
codes, adds differential-privacy noise when enabled, applies k-anonymity with
complementary suppression, and returns one row per figure with its status.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from privacy_pipeline.location.noise import dp_settings, ledger_path, noisy_counts
from privacy_pipeline.location.suppression import (
    AreaRef,
    FigureKey,
    ReleaseStructure,
    apply_k_anonymity,
    area_figure,
    event_hour_figure,
    event_total_figure,
)

log = logging.getLogger(__name__)

RELEASE_COLUMNS = [
    "table_name",
    "area_level",
    "area_id",
    "hour_index",
    "people",
    "released_people",
    "status",
]


def area_structure(area_tree: pd.DataFrame, event_postal_codes: pd.DataFrame) -> ReleaseStructure:
    """``area_tree``: area_level, area_id, parent_level, parent_id (null for provinces);
    ``event_postal_codes``: event_id, postal_code."""
    parents = {
        AreaRef(row.area_level, str(row.area_id)): AreaRef(row.parent_level, str(row.parent_id))
        for row in area_tree.itertuples(index=False)
        if pd.notna(row.parent_id)
    }
    footprints: dict[str, set[str]] = {}
    for row in event_postal_codes.itertuples(index=False):
        footprints.setdefault(str(row.event_id), set()).add(str(row.postal_code))
    return ReleaseStructure(
        parents, {event: frozenset(codes) for event, codes in footprints.items()}
    )


def figure_counts(area_counts: pd.DataFrame, event_counts: pd.DataFrame) -> dict[FigureKey, int]:
    """``area_counts``: area_level, area_id, hour_index, people;
    ``event_counts``: event_id, hour_index (null = whole window), people."""
    counts = {
        area_figure(row.area_level, str(row.area_id), int(row.hour_index)): int(row.people)
        for row in area_counts.itertuples(index=False)
    }
    for row in event_counts.itertuples(index=False):
        key = (
            event_total_figure(str(row.event_id))
            if pd.isna(row.hour_index)
            else event_hour_figure(str(row.event_id), int(row.hour_index))
        )
        counts[key] = int(row.people)
    return counts


def decide_release(
    area_counts: pd.DataFrame,
    event_counts: pd.DataFrame,
    area_tree: pd.DataFrame,
    event_postal_codes: pd.DataFrame,
    location_config: Mapping[str, Any],
    k: int,
    run_date: str,
    warehouse_dir: Path,
) -> pd.DataFrame:
    """One row per figure: its true count, the count that would be published, and status."""
    true_counts = figure_counts(area_counts, event_counts)
    structure = area_structure(area_tree, event_postal_codes)
    settings = dp_settings(location_config)
    if settings.enabled:
        ledger = ledger_path(settings, warehouse_dir)
        released = noisy_counts(true_counts, settings, run_date, ledger)
        # Both the true and the noisy figures must pass every rule: the true ones keep
        # the k promise, the noisy ones are what readers can subtract.
        status = apply_k_anonymity([true_counts, released], structure, k)
    else:
        released = true_counts
        status = apply_k_anonymity(true_counts, structure, k)
    log.info(
        "location release for %s: %d figures, %d published (dp %s)",
        run_date,
        len(status),
        sum(1 for s in status.values() if s == "published"),
        "on" if settings.enabled else "off",
    )
    rows = [
        (
            key.table,
            key.level,
            key.id,
            key.hour,
            true_counts[key],
            released[key],
            status[key],
        )
        for key in sorted(status, key=lambda key: (key.table, key.level, key.id, key.hour or -1))
    ]
    frame = pd.DataFrame(rows, columns=RELEASE_COLUMNS)
    frame["hour_index"] = frame["hour_index"].astype("Int64")
    return frame
