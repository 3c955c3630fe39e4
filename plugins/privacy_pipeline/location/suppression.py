"""k-anonymity with complementary suppression, as a pure function on aggregated counts.

A *figure* is one count we might publish: people in an area during an hour, people at
an event during an hour, or people at an event during its whole window. Figures are
related by containment:

* areas form a tree per hour: postal code < municipality < province;
* an event's cells lie in one or several postal codes, so an event hour is contained in
  every area hour whose postal codes include all of them (its *home* area and above);
* an event hour is contained in the event's whole-window total; a total whose people
  were all seen in one hour is the same set of people as that hour's figure.

Rules enforced (see docs/location-privacy.md for why each one suffices):

1. primary: a figure below k (in any of the value maps checked) is suppressed;
2. area tree: for every published area, its count minus the sum of its *published
   cover* (the published children, descending through suppressed ones) is 0 or >= k;
3. event in area: for every published event figure and every published area containing
   it, area - event - (published cover of the area's part outside the event's postal
   codes) is 0 or >= k;
4. event total vs its hours: total - hour is 0 or >= k.

A violation is repaired by suppressing further figures (never by changing numbers):
for the area tree the smallest published figure of the cover, for events the event
figure itself. Every repair suppresses one more figure, so the loop terminates; the
order of work is fixed (provinces before municipalities before postal codes, then
events by hour and id) so the result is deterministic.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

PRESENCE_TABLE = "presence_hourly"
EVENT_HOUR_TABLE = "event_attendance"
EVENT_TOTAL_TABLE = "event_attendance_total"

# Top of the tree first: the order in which parents are repaired.
AREA_LEVELS = ("province", "municipality", "postal_code")
EVENT_LEVEL = "event"

PUBLISHED = "published"
SUPPRESSED_BELOW_K = "suppressed_below_k"
SUPPRESSED_COMPLEMENTARY = "suppressed_complementary"


class FigureKey(NamedTuple):
    """One candidate count: (table, level, id, hour); hour is None for event totals."""

    table: str
    level: str
    id: str
    hour: Hashable | None


class AreaRef(NamedTuple):
    level: str
    id: str


def area_figure(level: str, area_id: str, hour: Hashable) -> FigureKey:
    return FigureKey(PRESENCE_TABLE, level, str(area_id), hour)


def event_hour_figure(event_id: str, hour: Hashable) -> FigureKey:
    return FigureKey(EVENT_HOUR_TABLE, EVENT_LEVEL, str(event_id), hour)


def event_total_figure(event_id: str) -> FigureKey:
    return FigureKey(EVENT_TOTAL_TABLE, EVENT_LEVEL, str(event_id), None)


@dataclass(frozen=True)
class ReleaseStructure:
    """How figures relate, independent of the counts.

    area_parent: postal code -> municipality, municipality -> province.
    event_postal_codes: the postal codes of each event's cells.
    """

    area_parent: Mapping[AreaRef, AreaRef]
    event_postal_codes: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def children(self) -> dict[AreaRef, list[AreaRef]]:
        children: dict[AreaRef, list[AreaRef]] = defaultdict(list)
        for child, parent in self.area_parent.items():
            children[parent].append(child)
        return {parent: sorted(kids) for parent, kids in children.items()}

    def postal_codes_under(self) -> dict[AreaRef, frozenset[str]]:
        """Every area's postal codes (a postal code's own set is itself)."""
        under: dict[AreaRef, set[str]] = defaultdict(set)
        postal_codes = {a for a in self.area_parent if a.level == "postal_code"}
        postal_codes |= {p for p in self.area_parent.values() if p.level == "postal_code"}
        for postal_code in postal_codes:
            area: AreaRef | None = postal_code
            while area is not None:
                under[area].add(postal_code.id)
                area = self.area_parent.get(area)
        return {area: frozenset(codes) for area, codes in under.items()}

    def areas_containing(self, postal_codes: frozenset[str]) -> list[AreaRef]:
        """Areas whose postal codes include all of ``postal_codes``, smallest first."""
        if not postal_codes:
            return []
        chains = []
        for code in sorted(postal_codes):
            chain = []
            area: AreaRef | None = AreaRef("postal_code", code)
            while area is not None:
                chain.append(area)
                area = self.area_parent.get(area)
            chains.append(chain)
        common = set(chains[0]).intersection(*chains[1:])
        return [area for area in chains[0] if area in common]


def is_safe_difference(difference: int, k: int) -> bool:
    """A difference of published figures may be 0 or describe at least k people.

    A negative difference (people seen in several children in the same hour) is not
    safe either: it is a small count of movers.
    """
    return difference == 0 or difference >= k


@dataclass
class _Release:
    """Mutable state of one suppression: the statuses and the value maps checked."""

    values: Sequence[Mapping[FigureKey, int]]
    k: int
    status: dict[FigureKey, str]

    def published(self, key: FigureKey) -> bool:
        return self.status.get(key) == PUBLISHED

    def safe(self, whole: FigureKey, parts: Iterable[FigureKey]) -> bool:
        parts = list(parts)
        return all(
            is_safe_difference(vals[whole] - sum(vals[p] for p in parts), self.k)
            for vals in self.values
        )

    def suppress(self, key: FigureKey) -> None:
        self.status[key] = SUPPRESSED_COMPLEMENTARY


def apply_k_anonymity(
    values: Mapping[FigureKey, int] | Sequence[Mapping[FigureKey, int]],
    structure: ReleaseStructure,
    k: int,
) -> dict[FigureKey, str]:
    """Decide, for every figure, published / suppressed_below_k / suppressed_complementary.

    ``values`` is one map of counts, or several (e.g. true and noisy counts) that must
    all satisfy the rules; the first one orders the choice of what to suppress. Figures
    absent from the maps count 0 people and are never published.
    """
    value_maps = [values] if isinstance(values, Mapping) else list(values)
    keys = sorted(value_maps[0], key=_sort_key)
    release = _Release(
        values=value_maps,
        k=k,
        status={
            key: SUPPRESSED_BELOW_K if any(v[key] < k for v in value_maps) else PUBLISHED
            for key in keys
        },
    )
    children = structure.children()
    under = structure.postal_codes_under()
    by_hour: dict[Hashable, list[FigureKey]] = defaultdict(list)
    for key in keys:
        if key.hour is not None:
            by_hour[key.hour].append(key)
    for hour, hour_keys in by_hour.items():
        _enforce_area_tree(release, children, hour, hour_keys)
    single_hour_totals = _totals_seen_in_one_hour(keys)
    for hour, hour_keys in by_hour.items():
        totals = [total for total, total_hour in single_hour_totals.items() if total_hour == hour]
        _enforce_events_in_areas(release, structure, children, under, hour, [*hour_keys, *totals])
    _enforce_event_totals_over_hours(release, keys)
    return release.status


def _sort_key(key: FigureKey) -> tuple:
    level_rank = AREA_LEVELS.index(key.level) if key.level in AREA_LEVELS else len(AREA_LEVELS)
    return (key.table, _hour_sort_key(key.hour), level_rank, key.id)


def _hour_sort_key(hour: Hashable | None) -> str:
    return "" if hour is None else str(hour)


def _published_cover(
    release: _Release,
    children: Mapping[AreaRef, list[AreaRef]],
    area: AreaRef,
    hour: Hashable,
    excluded_postal_codes: frozenset[str] = frozenset(),
    under: Mapping[AreaRef, frozenset[str]] | None = None,
) -> list[FigureKey]:
    """The published figures an attacker can subtract from ``area``'s count.

    Each published child is taken whole; a suppressed child is replaced by its own
    published cover. Children overlapping ``excluded_postal_codes`` (an event's
    footprint) are never taken whole, only the parts of them outside it.
    """
    cover: list[FigureKey] = []
    for child in children.get(area, []):
        key = area_figure(child.level, child.id, hour)
        overlaps = bool(excluded_postal_codes) and bool(
            (under or {}).get(child, frozenset()) & excluded_postal_codes
        )
        if release.published(key) and not overlaps:
            cover.append(key)
        else:
            cover.extend(
                _published_cover(release, children, child, hour, excluded_postal_codes, under)
            )
    return cover


def _enforce_area_tree(
    release: _Release,
    children: Mapping[AreaRef, list[AreaRef]],
    hour: Hashable,
    hour_keys: Sequence[FigureKey],
) -> None:
    """Rule 2, top-down: suppressing inside a parent's cover only changes that parent.

    The residual is updated incrementally: suppressing a cover member replaces it by its
    own published cover, so the residual grows by that member's own residual.
    """
    parents = [
        key
        for key in hour_keys  # sorted provinces first (see _sort_key)
        if key.table == PRESENCE_TABLE and AreaRef(key.level, key.id) in children
    ]
    for parent in parents:
        if not release.published(parent):
            continue
        cover = _published_cover(release, children, AreaRef(parent.level, parent.id), hour)
        residuals = [vals[parent] - sum(vals[z] for z in cover) for vals in release.values]
        candidates = [(release.values[0][z], _sort_key(z), z) for z in cover]
        heapq.heapify(candidates)
        while not all(is_safe_difference(r, release.k) for r in residuals):
            # Never empty here: with no cover left the residual is the parent itself (>= k).
            _, _, smallest = heapq.heappop(candidates)
            release.suppress(smallest)
            below = _published_cover(release, children, AreaRef(smallest.level, smallest.id), hour)
            for i, vals in enumerate(release.values):
                residuals[i] += vals[smallest] - sum(vals[z] for z in below)
            for z in below:
                heapq.heappush(candidates, (release.values[0][z], _sort_key(z), z))


def _enforce_events_in_areas(
    release: _Release,
    structure: ReleaseStructure,
    children: Mapping[AreaRef, list[AreaRef]],
    under: Mapping[AreaRef, frozenset[str]],
    hour: Hashable,
    hour_keys: Sequence[FigureKey],
) -> None:
    """Rule 3: an event figure is suppressed when an area containing it would reveal
    the few people of that area who were not at the event."""
    event_figures = [key for key in hour_keys if key.table in (EVENT_HOUR_TABLE, EVENT_TOTAL_TABLE)]
    for event in sorted(event_figures, key=_sort_key):
        footprint = frozenset(structure.event_postal_codes.get(event.id, frozenset()))
        for area in structure.areas_containing(footprint):
            area_key = area_figure(area.level, area.id, hour)
            if not (release.published(event) and release.published(area_key)):
                continue
            outside = _published_cover(release, children, area, hour, footprint, under)
            if not release.safe(area_key, [event, *outside]):
                release.suppress(event)


def _totals_seen_in_one_hour(keys: Sequence[FigureKey]) -> dict[FigureKey, Hashable]:
    """Event totals whose people were all seen in a single hour, with that hour.

    Such a total counts the same people as that event hour, so it is contained in the
    areas of that hour just like the event hour is.
    """
    hours_by_event: dict[str, set[Hashable]] = defaultdict(set)
    for key in keys:
        if key.table == EVENT_HOUR_TABLE:
            hours_by_event[key.id].add(key.hour)
    return {
        event_total_figure(event_id): next(iter(hours))
        for event_id, hours in hours_by_event.items()
        if len(hours) == 1 and event_total_figure(event_id) in keys
    }


def _enforce_event_totals_over_hours(release: _Release, keys: Sequence[FigureKey]) -> None:
    """Rule 4: the whole-window total minus one of its hours must not single out a few."""
    hours_by_event: dict[str, list[FigureKey]] = defaultdict(list)
    for key in keys:
        if key.table == EVENT_HOUR_TABLE:
            hours_by_event[key.id].append(key)
    for event_id, event_hours in sorted(hours_by_event.items()):
        total = event_total_figure(event_id)
        if total not in release.status:
            continue
        for event_hour in event_hours:
            both_published = release.published(total) and release.published(event_hour)
            if both_published and not release.safe(total, [event_hour]):
                release.suppress(event_hour)
