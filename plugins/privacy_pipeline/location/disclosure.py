"""The disclosure auditor: the one place that decides what a location release may contain.

Every count a release could publish is a :class:`Figure`: its table, its key, and the
people behind it (a sorted array of integer person ids). The auditor sees every figure of
a release at once (every area level, every event hour and total, and any count table
added later) and relates them through the data: figure B is *inside* A when B's people
are a subset of A's. No list of table pairs: a new table plugs in by producing figures.

The rule, for the release of one run date (docs/location-privacy.md):

1. every published figure is at least k (:func:`is_below_k`);
2. for every published A and every published B inside A, A - B is 0 or at least k;
3. for every published A and published figures inside A that count disjoint groups,
   A minus their sum is 0 or at least k;
4. 2 and 3 hold for a *sum* of published figures as well as for a published figure: a
   reader adds figures up (the postal codes an event's cells lie in, say) and subtracts
   what lies inside the sum. The sums audited are those that cover another published
   figure (:class:`CoveringSums`): for a published B of an event or whole-day table and
   a group (table, level, hour) of another table than B's, the group's figures counting
   someone of B, when they count all of B's people, are not all inside B and add up to
   within k of B. Their sum minus B is what the reader learns about the people of the
   sum outside B (exactly when they are disjoint; an upper bound otherwise). Levels mix
   too (helper-41: postal code 1000 + municipality Beta - event E9 = 20, the withheld
   3001 of Beta): for the published figures of one table and hour at every level, the
   *tight cover* of B (for each person of B the smallest figures counting them, then
   those not inside another one, one of each set of people) is audited as well.

2 is 3 with one figure, so both are checked by one search per published A over the
families of published figures inside it (:func:`_unsafe_family`). The figures inside A
are arranged as a forest (each under the smallest other one containing it); every
family of pairwise disjoint figures is an antichain of that forest, so enumerating the
antichains covers rule 3, and also families whose members overlap (whose difference an
attacker can still compute: a small negative value counts the few people in two
figures, so it is refused too, :func:`is_safe_difference`). Values far from the danger
window are pruned; where a search would grow beyond ``SEARCH_LIMIT`` values, it is cut
and counted as unsafe (conservative: more is suppressed, never less).

Repair suppresses more, never changes a number: the smallest figure (fewest people) of
the unsafe family that is not already held by recipients. Suppressing a figure only
removes families elsewhere, so one pass over the published figures, largest first,
leaves a release where every rule holds. The same figures always give the same release.

Figures held by recipients from earlier releases of the date (``Figure.held``) take part
as published figures that cannot be suppressed; see release.py and the release ledger.
A sum is never published itself: suppressing it suppresses its smallest figure that is
not held, and a sum with a suppressed figure is no longer published.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from privacy_pipeline.memberships import MembershipIndex

PRESENCE_TABLE = "presence_hourly"
EVENT_HOUR_TABLE = "event_attendance"
EVENT_TOTAL_TABLE = "event_attendance_total"
# Whole-day figures of visits and moves (issue #13): the key columns beyond the area
# travel in the figure's id, joined by KEY_SEPARATOR (as in dbt's location_figure_key).
VISITORS_TABLE = "visitors_daily"
VISITOR_ORIGIN_TABLE = "visitor_origin"
OD_FLOWS_TABLE = "od_flows"
DAY_TABLES = (VISITORS_TABLE, VISITOR_ORIGIN_TABLE, OD_FLOWS_TABLE)
KEY_SEPARATOR = "\x1f"
AREA_LEVELS = ("province", "municipality", "postal_code")
EVENT_LEVEL = "event"

PUBLISHED = "published"
SUPPRESSED_BELOW_K = "suppressed_below_k"
SUPPRESSED_COMPLEMENTARY = "suppressed_complementary"
# A figure that would differ from an earlier release of the same date by 1..k-1.
SUPPRESSED_REPUBLICATION = "suppressed_republication"
STATUSES = (PUBLISHED, SUPPRESSED_BELOW_K, SUPPRESSED_COMPLEMENTARY, SUPPRESSED_REPUBLICATION)

# Past this many distinct partial values, a family search is cut and deemed unsafe.
SEARCH_LIMIT = 4096


class FigureKey(NamedTuple):
    """One candidate count: (table, level, id, hour); hour is None for whole-day figures."""

    table: str
    level: str
    id: str
    hour: Hashable | None


def area_figure(level: str, area_id: str, hour: Hashable) -> FigureKey:
    return FigureKey(PRESENCE_TABLE, level, str(area_id), hour)


def event_hour_figure(event_id: str, hour: Hashable) -> FigureKey:
    return FigureKey(EVENT_HOUR_TABLE, EVENT_LEVEL, str(event_id), hour)


def event_total_figure(event_id: str) -> FigureKey:
    return FigureKey(EVENT_TOTAL_TABLE, EVENT_LEVEL, str(event_id), None)


def day_figure(table: str, level: str, *parts: str) -> FigureKey:
    """A whole-day figure of a visits or moves table: its key columns joined into the id."""
    return FigureKey(table, level, KEY_SEPARATOR.join(str(part) for part in parts), None)


@dataclass(frozen=True)
class Figure:
    """A count that could be published.

    people: sorted, unique integer ids of the people counted (true count = its length).
    released: the value a recipient would read (noisy under DP); the true count if None.
    held: already in recipients' hands (an earlier release of the date): it is
      published as far as the rule is concerned and can never be suppressed.
    """

    key: FigureKey
    people: np.ndarray
    released: int | None = None
    held: bool = False
    # A sum of figures (rule 4): the figures added up, and the sum of their true counts
    # (their people counted once per figure, as a reader adds them).
    members: tuple[int, ...] = ()
    summed_true: int | None = None
    values: tuple[int, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        true = len(self.people) if self.summed_true is None else int(self.summed_true)
        released = true if self.released is None else int(self.released)
        object.__setattr__(self, "values", (true, released))


def people_array(people: Iterable[int]) -> np.ndarray:
    return np.unique(np.fromiter(people, dtype=np.int64))


# ----------------------------------------------------------------- the k comparisons


def is_below_k(value: int, k: int) -> bool:
    """Primary suppression: a figure of fewer than k people is never published."""
    return value < k


def is_safe_difference(difference: int, k: int) -> bool:
    """What a reader computes by subtraction may be 0 or count at least k people.

    A negative difference within k of zero counts the few people in two figures at once
    (seen in two postal codes in one hour): refused like a small positive one.
    """
    return difference == 0 or abs(difference) >= k


# ---------------------------------------------------------------------- containment


def containment(figures: Sequence[Figure], candidates: Sequence[int]) -> dict[int, list[int]]:
    """For each candidate index b, the candidate indexes a != b whose people include b's
    (in increasing order of a).

    An inverted index person -> figures (memberships.MembershipIndex) gives, for every b, the
    figures holding three of its people (first, middle, last) and at least as many
    people; only those are compared in full. The full tests are grouped by the outer
    figure a: its people are marked once in a boolean array over all people, and every
    candidate b of a is checked by one gather of that array (no per-pair search, no
    Python per pair), so the cost is the total size of the candidate figures, not all
    pairs.
    """
    inside: dict[int, list[int]] = {b: [] for b in candidates}
    nonempty = [i for i in candidates if len(figures[i].people)]
    if not nonempty:
        return inside
    size_of = {i: len(figures[i].people) for i in nonempty}
    outer_of, persons = _possible_holders(figures, nonempty, size_of)
    # People are marked by their id where ids are dense (the release numbers people from
    # 1), else by their position among all people.
    dense_ids = int(persons[-1]) < 4 * len(persons) + 1024
    mark = np.zeros(int(persons[-1]) + 1 if dense_ids else len(persons), dtype=bool)

    def marks_of(i: int) -> np.ndarray:
        return figures[i].people if dense_ids else np.searchsorted(persons, figures[i].people)

    for a, inners in outer_of.items():
        outer = marks_of(a)
        mark[outer] = True
        flat = np.concatenate([marks_of(b) for b in inners])
        lengths = np.array([size_of[b] for b in inners], dtype=np.int64)
        missing = np.add.reduceat(~mark[flat], np.concatenate(([0], np.cumsum(lengths)[:-1])))
        for b, absent in zip(inners, missing.tolist(), strict=True):
            if not absent:
                inside[b].append(a)
        mark[outer] = False
    for b in inside:
        inside[b].sort()
    return inside


def _possible_holders(
    figures: Sequence[Figure], nonempty: Sequence[int], size_of: Mapping[int, int]
) -> tuple[dict[int, list[int]], np.ndarray]:
    """(outer a -> the b that may be inside it, every person once, sorted): a is a possible
    holder of b when it counts b's first, middle and last person and at least as many
    people. The index by person is freed on return."""
    index = MembershipIndex([figures[i].people for i in nonempty], nonempty)
    holders = index.holders
    outer_of: dict[int, list[int]] = {}
    for b in nonempty:
        people = figures[b].people
        probes = {int(people[0]), int(people[len(people) // 2]), int(people[-1])}
        found = None
        for person in probes:
            found = (
                holders(person)
                if found is None
                else np.intersect1d(found, holders(person), assume_unique=True)
            )
        size = len(people)
        for a in found.tolist():
            if a != b and size_of[a] >= size:
                outer_of.setdefault(a, []).append(b)
    return outer_of, index.persons


# ------------------------------------------------------------------- sums of figures


class CoveringSums:
    """The sums of published figures that cover another published figure (rule 4).

    A *group* is the published figures of one table, level and hour. For a published
    figure b of an event or whole-day table and a group of another table (at any hour:
    an event's total is covered by the areas of the one hour it was held in), when the
    group's figures counting someone of b count every person of b, and they are two or
    more, not all inside b, and their sum is within k of b (it reveals fewer than k
    people beyond b), the sum is audited like a figure: b is inside it.

    Built once per audit over the figures that may be published (the index of who
    counts where is the costly part); :meth:`of` finds the sums among any subset of them
    (the audit asks again after its repairs).

    At scale most figures of the day tables lie in some big group, so a few of b's
    people (three, then 64 spread over b) are looked up first, in one gather over all
    groups: a group is examined in full only if it counts all of them in figures that do
    not already add up to k or more beyond b (published counts are at least k, so a
    cover adds up to at least what they do).
    """

    def __init__(self, figures: Sequence[Figure], candidates: Sequence[int], k: int) -> None:
        self.figures, self.k = figures, k
        self.candidates = [i for i in candidates if len(figures[i].people)]
        group_ids: dict[tuple, int] = {}
        self.group_of = np.full(len(figures), -1, dtype=np.int64)
        for i in self.candidates:
            key = figures[i].key
            self.group_of[i] = group_ids.setdefault(
                (key.table, key.level, key.hour), len(group_ids)
            )
        self.table_of_group = np.array([table for table, _, _ in group_ids] or [""])
        # Levels mixed: the groups of one table and hour with more than one level.
        hour_group_ids: dict[tuple, int] = {}
        levels: dict[int, set] = {}
        self.hour_group_of = np.full(len(figures), -1, dtype=np.int64)
        for i in self.candidates:
            key = figures[i].key
            hour_group = hour_group_ids.setdefault((key.table, key.hour), len(hour_group_ids))
            self.hour_group_of[i] = hour_group
            levels.setdefault(hour_group, set()).add(key.level)
        self.mixed_hour_groups = np.array(
            sorted(h for h, found in levels.items() if len(found) > 1), dtype=np.int64
        )
        self.table_of_hour_group = np.array([table for table, _ in hour_group_ids] or [""])
        self.values = np.zeros((2, len(figures)), dtype=np.int64)  # true, released
        for i in self.candidates:
            self.values[:, i] = figures[i].values[:2]
        self.index = (
            MembershipIndex([figures[i].people for i in self.candidates], self.candidates)
            if len(group_ids) >= 2
            else None
        )
        self.sizes = np.array([len(f.people) for f in figures], dtype=np.int64)

    def of(self, published: Sequence[int]) -> list[Figure]:
        """The sums among ``published`` (a subset of the candidates)."""
        if self.index is None:
            return []
        figures, k = self.figures, self.k
        is_published = np.zeros(len(figures), dtype=bool)
        is_published[list(published)] = True
        sums: list[Figure] = []
        seen: set[tuple[int, ...]] = set()
        for b in self.candidates:
            if not is_published[b] or figures[b].key.table == PRESENCE_TABLE:
                continue  # an area hour is covered by its own table's levels (rules 2, 3)
            people, b_values = figures[b].people, self.values[:, b]
            size = len(people)
            # Probing: a group must count every probed person of b, and the figures
            # counting them (all in any cover) must not already exceed b by k or more.
            groups, mixed = None, None
            for count in (3, 64):
                picked = np.linspace(0, size - 1, min(count, size)).astype(np.int64)
                probes = _distinct(people[picked])
                if groups is None or groups:
                    groups = self._near_groups(probes, b, groups, is_published)
                if mixed is None or mixed:
                    mixed = self._near_mixed_groups(probes, b, mixed, is_published)
                if not groups and not mixed:
                    break
            if not groups and not mixed:
                continue
            position, owners = self.index.memberships_of(people)
            for hour_group in mixed:
                cover = self._tight_cover(position, owners, hour_group, b, is_published)
                if len(cover) < 2 or cover in seen:
                    continue
                if all(_inside(figures[c].people, people) for c in cover):
                    continue  # all inside b: their sum is b, rules 2 and 3
                if (np.abs(self.values[:, list(cover)].sum(axis=1) - b_values) >= k).all():
                    continue
                seen.add(cover)
                sums.append(summed_figure(figures, cover))
            if not groups:
                continue
            owner_group = self.group_of[owners]
            keep = np.isin(owner_group, groups) & is_published[owners]
            position, owners, owner_group = position[keep], owners[keep], owner_group[keep]
            # People of b each group counts: a group covers b when that is all of them.
            counted = np.bincount(np.unique(owner_group * size + position) // size)
            for group in np.flatnonzero(counted == size).tolist():
                cover, shared = np.unique(owners[owner_group == group], return_counts=True)
                covering = tuple(cover.tolist())
                if len(covering) < 2 or covering in seen:
                    continue
                if (shared == np.array([len(figures[c].people) for c in covering])).all():
                    continue  # all inside b: their sum is b, rules 2 and 3
                if (np.abs(self.values[:, cover].sum(axis=1) - b_values) >= k).all():
                    continue  # the sum reveals at least k people beyond b
                seen.add(covering)
                sums.append(summed_figure(figures, covering))
        return sums

    def _tight_cover(self, position, owners, hour_group: int, b: int, is_published) -> tuple:
        """The tight cover of figure b (its people's memberships: ``position``, ``owners``)
        in ``hour_group``: for each person the published figures with the fewest people
        counting them, then those not inside another one, one of each set of people
        (the largest, then the first); empty when someone of b is not counted, or when
        the cover's largest figure alone exceeds b by k or more (it cannot be within k)."""
        keep = (self.hour_group_of[owners] == hour_group) & is_published[owners]
        position, owners = position[keep], owners[keep]
        if len(_distinct(position)) < len(self.figures[b].people):
            return ()
        minimal = sorted(
            _smallest_per_position(position, owners, self.sizes),
            key=lambda f: (-self.sizes[f], f),
        )
        # The cover holds everyone of these figures: one with k people outside b makes
        # the sum exceed b by k or more; none with anyone outside b makes it b's own.
        figure, shared = np.unique(owners, return_counts=True)
        outside = self.sizes[minimal] - shared[np.searchsorted(figure, minimal)]
        if outside.max() >= self.k or not outside.any():
            return ()
        if (self.values[:, minimal[0]] - self.values[:, b] >= self.k).all():
            return ()
        cover: list[int] = []
        for f in minimal:
            people = self.figures[f].people
            if not any(_inside(people, self.figures[g].people) for g in cover):
                cover.append(f)
        return tuple(sorted(cover))

    def _near_mixed_groups(self, probes, b: int, among, is_published) -> list[int]:
        """Hour groups with several levels, of another table than b's (of ``among`` if
        given), counting every one of ``probes`` and whose tight cover may add up to less
        than b + k: a lower bound of the cover's true count is the sum of pairwise
        disjoint figures among the probes' smallest ones (each lies inside a figure of the
        cover, and disjoint figures inside one figure add up to at most its count)."""
        if not len(self.mixed_hour_groups):
            return []
        position, owners = self.index.memberships_of(probes)
        hour_groups = self.hour_group_of[owners]
        keep = np.isin(hour_groups, self.mixed_hour_groups) & is_published[owners]
        keep &= self.table_of_hour_group[hour_groups] != self.figures[b].key.table
        if among is not None:
            keep &= np.isin(hour_groups, among)
        position, owners, hour_groups = position[keep], owners[keep], hour_groups[keep]
        if not len(owners):
            return []
        # Per (hour group, probe) the smallest figures, for all hour groups at once: a group
        # must count every probe, and its largest smallest figure (inside a figure of the
        # cover) must not exceed b by k already.
        width, count = len(self.table_of_hour_group), len(probes)
        slot = hour_groups * count + position
        order = np.lexsort((owners, self.sizes[owners], slot))
        slot, owners = slot[order], owners[order]
        starts = np.flatnonzero(np.concatenate(([True], slot[1:] != slot[:-1])))
        fewest = np.repeat(self.sizes[owners[starts]], np.diff(np.append(starts, len(slot))))
        smallest = self.sizes[owners] == fewest
        slot, owners = slot[smallest], owners[smallest]
        counted = np.bincount(slot[starts_of(slot)] // count, minlength=width)
        largest = np.zeros(width, dtype=np.int64)
        np.maximum.at(largest, slot // count, self.values[0, owners])
        candidates = (counted == count) & (largest - self.values[0, b] < self.k)
        near = []
        for hour_group in np.flatnonzero(candidates).tolist():
            minimal = _distinct(owners[slot // count == hour_group]).tolist()
            disjoint: list[int] = []
            for f in sorted(minimal, key=lambda f: (-self.sizes[f], f)):
                people = self.figures[f].people
                if not any(_share(people, self.figures[g].people) for g in disjoint):
                    disjoint.append(f)
            if self.values[0, disjoint].sum() - self.values[0, b] < self.k:
                near.append(hour_group)
        return near

    def _near_groups(self, probes, b: int, among: list[int] | None, is_published) -> list[int]:
        """Groups of another table than b's (of ``among`` if given) counting every one of
        ``probes`` in published figures that add up to less than b + k (true or released
        count)."""
        group_of, table_of_group, values = self.group_of, self.table_of_group, self.values
        position, owners = self.index.memberships_of(probes)
        groups = group_of[owners]
        keep = (table_of_group[groups] != table_of_group[group_of[b]]) & is_published[owners]
        if among is not None:
            keep &= np.isin(groups, among)
        position, owners, groups = position[keep], owners[keep], groups[keep]
        if not len(owners):
            return []
        width = len(table_of_group)
        counted = np.bincount(
            _distinct(groups * len(probes) + position) // len(probes), minlength=width
        )
        holders = _distinct(owners)
        probed = np.stack(
            [
                np.bincount(group_of[holders], weights=values[j, holders], minlength=width)
                for j in (0, 1)
            ]
        )
        near = ((probed - values[:, b][:, None]) < self.k).any(axis=0)
        return np.flatnonzero((counted == len(probes)) & near).tolist()


def starts_of(sorted_values: np.ndarray) -> np.ndarray:
    """Where each run of equal values of a sorted array starts."""
    return np.flatnonzero(np.concatenate(([True], sorted_values[1:] != sorted_values[:-1])))


def _inside(small: np.ndarray, big: np.ndarray) -> bool:
    """Whether every one of ``small``'s people is one of ``big``'s (sorted, unique)."""
    if len(small) > len(big):
        return False
    at = np.searchsorted(big, small)
    return bool((at < len(big)).all() and (big[np.minimum(at, len(big) - 1)] == small).all())


def _share(first: np.ndarray, second: np.ndarray) -> bool:
    """Whether two sorted arrays of unique people have someone in common."""
    small, big = (first, second) if len(first) <= len(second) else (second, first)
    if not len(small):
        return False
    at = np.minimum(np.searchsorted(big, small), len(big) - 1)
    return bool((big[at] == small).any())


def _smallest_per_position(position: np.ndarray, owners: np.ndarray, sizes: np.ndarray) -> list:
    """The owners with the fewest people at each position (ties included), distinct."""
    order = np.lexsort((owners, sizes[owners], position))
    position, owners = position[order], owners[order]
    starts = np.flatnonzero(np.concatenate(([True], position[1:] != position[:-1])))
    smallest = np.repeat(sizes[owners[starts]], np.diff(np.append(starts, len(position))))
    return _distinct(owners[sizes[owners] == smallest]).tolist()


def _distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (np.unique's hash path costs ~1 ms a call on small arrays)."""
    values = np.sort(values)
    return values[np.concatenate(([True], values[1:] != values[:-1]))] if len(values) else values


def summed_figure(figures: Sequence[Figure], members: tuple[int, ...]) -> Figure:
    """The sum of ``members`` as a figure: their people together, their values added."""
    first = figures[members[0]].key
    key = FigureKey(
        f"sum of {first.table}",
        first.level,
        "+".join(figures[m].key.id for m in members),
        first.hour,
    )
    return Figure(
        key,
        np.unique(np.concatenate([figures[m].people for m in members])),
        released=sum(figures[m].values[1] for m in members),
        held=all(figures[m].held for m in members),
        members=members,
        summed_true=sum(figures[m].values[0] for m in members),
    )


# ------------------------------------------------------------------------ the audit


def audit(figures: Sequence[Figure], k: int) -> dict[FigureKey, str]:
    """The status of every figure that is not held: published, suppressed_below_k or
    suppressed_complementary. Held figures are published already and stay so.

    The sums audited (rule 4) are first those of the figures of at least k; a repair can
    leave fewer figures of a group that still cover a figure (someone counted in two
    areas), a sum not audited yet: the audit is then run again with it too, until the
    sums of the published figures are all audited (they only grow: it ends)."""
    first = [
        i for i, f in enumerate(figures) if f.held or not any(is_below_k(v, k) for v in f.values)
    ]
    covering = CoveringSums(figures, first, k)
    sums = {s.members: s for s in covering.of(first)}
    while True:
        status = _audit_with_sums(figures, list(sums.values()), k)
        published = [i for i in first if status[i] == PUBLISHED]
        new = {s.members: s for s in covering.of(published) if s.members not in sums}
        if not new:
            return {figures[i].key: status[i] for i in range(len(figures)) if not figures[i].held}
        sums.update(new)


def _audit_with_sums(figures: Sequence[Figure], sums: Sequence[Figure], k: int) -> dict:
    """The status of every figure (held ones included), auditing ``sums`` as well."""
    status: dict[int, str] = {}
    for i, figure in enumerate(figures):
        if figure.held:
            status[i] = PUBLISHED
        elif any(is_below_k(v, k) for v in figure.values):
            status[i] = SUPPRESSED_BELOW_K
        else:
            status[i] = PUBLISHED
    real = len(figures)
    figures = [*figures, *sums]
    sums_of: dict[int, list[int]] = {}
    for s in range(real, len(figures)):
        status[s] = PUBLISHED
        for m in figures[s].members:
            sums_of.setdefault(m, []).append(s)
    order = sorted(range(len(figures)), key=lambda i: _rank(figures[i]))
    rank = {i: r for r, i in enumerate(order)}

    def suppress(i: int) -> None:
        if i >= real:  # a sum goes with its smallest figure that is not held
            i = min(
                (m for m in figures[i].members if not figures[m].held),
                key=lambda m: (figures[m].values[0], rank[m]),
            )
        status[i] = SUPPRESSED_COMPLEMENTARY
        for s in sums_of.get(i, ()):
            status[s] = SUPPRESSED_COMPLEMENTARY

    eligible = [i for i in order if status[i] == PUBLISHED]
    supersets = containment(figures, eligible)
    subsets: dict[int, list[int]] = {i: [] for i in eligible}
    for b, holders in supersets.items():
        for a in holders:
            if _above(figures, rank, a, b):
                subsets[a].append(b)
    # Largest first: a repair only removes families elsewhere, so no check is undone.
    for a in sorted(eligible, key=lambda i: (-figures[i].values[0], rank[i])):
        if status[a] == PUBLISHED:
            _enforce(figures, rank, supersets, subsets, status, suppress, a, k)
    return {i: status[i] for i in range(real)}


def _rank(figure: Figure) -> tuple:
    key = figure.key
    level = AREA_LEVELS.index(key.level) if key.level in AREA_LEVELS else len(AREA_LEVELS)
    hour = "" if key.hour is None else str(key.hour)
    return (figure.held is False, key.table, hour, level, key.id)


def _above(figures: Sequence[Figure], rank: Mapping[int, int], a: int, b: int) -> bool:
    """Total order used to make containment a forest: by size, then a fixed rank (so two
    figures with the same people are ordered, not each other's parent)."""
    return (len(figures[a].people), -rank[a]) > (len(figures[b].people), -rank[b])


def _enforce(figures, rank, supersets, subsets, status, suppress, a: int, k: int) -> None:
    """Suppress figures inside ``a`` until no family of them reveals fewer than k."""
    while True:
        members = [b for b in subsets[a] if status[b] == PUBLISHED]
        witness = None
        # The released values are searched too unless they are the true ones (no noise):
        # the same values give the same answer.
        noisy = any(figures[m].values[0] != figures[m].values[1] for m in [a, *members])
        for which in range(2 if noisy else 1):  # true counts, then released (noisy) ones
            witness = _unsafe_family(figures, rank, supersets, status, a, members, which, k)
            if witness:
                break
        if not witness:
            return
        suppressible = [b for b in witness if not figures[b].held]
        if not suppressible:
            if not figures[a].held:
                # Recipients hold the whole family: only ``a`` itself can go.
                suppress(a)
            # Otherwise every figure was in an earlier release and was audited there.
            return
        suppress(min(suppressible, key=lambda b: (figures[b].values[0], rank[b])))
        if status[a] != PUBLISHED:
            return  # a sum whose figure just went


def _unsafe_family(figures, rank, supersets, status, a, members, which, k) -> tuple | None:
    """A family of published figures inside ``a`` whose difference with ``a`` is unsafe.

    The figures inside ``a`` form a forest (each under the smallest member holding it);
    the values ``a`` minus a family can take are found as bitsets (:class:`_Search`), and
    one family reaching the unsafe difference closest to zero is traced back through the
    bitsets kept at every merge."""
    if not members:
        return None
    member_set = set(members)
    children: dict[int, list[int]] = {m: [] for m in [a, *members]}
    for m in sorted(members, key=lambda b: rank[b]):
        parents = [
            p for p in supersets.get(m, ()) if p in member_set and _above(figures, rank, p, m)
        ]
        parent = min(parents, key=lambda p: (len(figures[p].people), -rank[p]), default=a)
        children[parent].append(m)
    search = _Search(figures, rank, children, which, a)
    try:
        found = search.within(a, -(k - 1), k - 1)
    except _SearchCut as cut:
        return (cut.culprit,)
    if found is None:
        return None
    base, bits, fresh_bits, trace = found
    reachable = [base + offset for offset in _offsets(bits)]
    for difference in sorted(reachable, key=lambda d: (abs(d), d)):
        if is_safe_difference(difference, k):
            continue
        if _has(base, fresh_bits, difference):
            # A family with a figure recipients do not hold yet: a repair can fall there.
            return tuple(search.family(trace, difference, fresh=True))
        if not figures[a].held:
            # Only families recipients hold already reach it: ``a`` itself must go.
            family = search.family(trace, difference, fresh=False)
            if family:
                return tuple(family)
    return None


def _offsets(bits: int) -> list[int]:
    """The positions of the set bits of ``bits``, lowest first."""
    found = []
    while bits:
        lowest = bits & -bits
        found.append(lowest.bit_length() - 1)
        bits ^= lowest
    return found


def _has(base: int, bits: int, v: int) -> bool:
    return v >= base and (bits >> (v - base)) & 1 == 1


class _Search:
    """The values ``node`` minus a family of figures of its subtree can take within a
    window, as sets of integers held in Python ints (bit i for value base + i): merging a
    child's options into the partial sums is one shift per value of the smaller set.

    Values far from the window are pruned with each subtree's (min, max); where a set
    grows beyond ``SEARCH_LIMIT`` values the search is cut (_SearchCut, blaming the
    smallest suppressible figure of the subtree being merged). Every merge keeps its
    operands (a trace), so that one family reaching a chosen value is read back from them
    without storing a family per value."""

    def __init__(self, figures, rank, children, which, root) -> None:
        self.rank, self.children, self.root = rank, children, root
        self.held = {m for m in children if figures[m].held}
        self.value = {m: figures[m].values[which] for m in children}
        self.residual = {
            m: self.value[m] - sum(self.value[c] for c in kids) for m, kids in children.items()
        }
        self.bounds: dict[int, tuple[int, int]] = {}
        # Per node: the sums over its children of min(0, low) and max(0, high).
        self.kid_bounds: dict[int, tuple[int, int]] = {}

    def span(self, node: int) -> tuple[int, int]:
        """(min, max) of node's value with some family of its subtree taken out."""
        if node not in self.bounds:
            kid_low = kid_high = 0
            for c in self.children[node]:
                c_low, c_high = self.span(c)
                kid_low, kid_high = kid_low + min(0, c_low), kid_high + max(0, c_high)
            self.kid_bounds[node] = (kid_low, kid_high)
            residual = self.residual[node]
            self.bounds[node] = (residual + kid_low, residual + kid_high)
        return self.bounds[node]

    def within(self, node: int, lo: int, hi: int) -> tuple[int, int, int, tuple] | None:
        """(base, bits, fresh bits, trace) of the values node - sum(family) in [lo, hi],
        node itself not taken (None if there is none); the fresh bits are the values
        reached by a family holding at least one figure that is not held."""
        low, high = self.span(node)
        if high < lo or low > hi:
            return None
        children, value, held = self.children, self.value, self.held
        rest_low, rest_high = self.kid_bounds[node]
        p_base, p_bits, p_fresh = self.residual[node], 1, 0
        steps = []
        for c in children[node]:
            c_low, c_high = self.span(c)
            rest_low -= min(0, c_low)
            rest_high -= max(0, c_high)
            p_low = p_base + (p_bits & -p_bits).bit_length() - 1
            p_high = p_base + p_bits.bit_length() - 1
            want_lo, want_hi = lo - p_high - rest_high, hi - p_low - rest_low
            below = self.within(c, want_lo, want_hi) if children[c] else None
            if below is None:
                o_base, o_bits, o_fresh = None, 0, 0
            else:
                o_base, o_bits, o_fresh = below[:3]
            if want_lo <= value[c] <= want_hi:  # nothing of c taken
                o_base, o_bits, o_fresh = _add(o_base, o_bits, o_fresh, value[c], False)
            if want_lo <= 0 <= want_hi:  # c taken whole
                o_base, o_bits, o_fresh = _add(o_base, o_bits, o_fresh, 0, c not in held)
            if o_base is None:
                return None
            # Fresh sums: a fresh partial with any option, or any partial with a fresh one.
            # Split by the partials only held families reach (often none, or the one
            # value of nothing taken), every sum is computed once: the sums of the fresh
            # partials are fresh and part of the merged ones, and a fresh option only
            # adds to what those give with the other partials.
            stale = p_bits & ~p_fresh
            fresh = _sums(p_fresh, o_bits)
            merged = fresh | _sums(stale, o_bits)
            fresh |= _sums(stale, o_fresh)
            kept = _clip(o_base + p_base, merged, fresh, lo - rest_high, hi - rest_low)
            if kept is None:
                return None
            steps.append((c, p_base, p_bits, p_fresh, (want_lo, want_hi), below))
            p_base, p_bits, p_fresh = kept
            if p_bits.bit_count() > SEARCH_LIMIT:
                raise _SearchCut(self.blame(c))
        found = _clip(p_base, p_bits, p_fresh, lo, hi)
        return None if found is None else (*found, (node, steps))

    def family(self, trace: tuple, target: int, fresh: bool) -> list[int]:
        """Figures of a family taking ``target`` out of the traced node (with ``fresh``,
        one holding a figure that is not held): at each merge, from the last, an option
        of the child whose complement the partial sums before it reach; a child's own
        value (nothing of it taken) first, then a value with part of its subtree taken
        (smallest first), then the child taken whole."""
        node, steps = trace
        taken = []
        for c, p_base, p_bits, p_fresh, window, below in reversed(steps):
            # (must the option be fresh, what the partial sums before it must reach):
            # while a fresh figure is still owed, the rest of the family or this option
            # brings it.
            attempts = ((False, p_fresh), (True, p_bits)) if fresh else ((False, p_bits),)
            for option_fresh, rest in attempts:
                chosen = self._option(c, option_fresh, window, p_base, rest, target, below, taken)
                if chosen is not None:
                    target -= chosen
                    fresh = fresh and not option_fresh
                    break
            else:  # pragma: no cover - every traced value has an option
                raise AssertionError(f"no option of figure {c} reaches {target}")
        return taken

    def _option(self, c, fresh, window, p_base, rest, target, below, taken) -> int | None:
        """A value o child c can contribute (with ``fresh``, through a figure that is not
        held) such that ``rest`` holds target - o; the figures it takes join ``taken``."""
        low, high = window
        own = self.value[c]
        if not fresh and low <= own <= high and _has(p_base, rest, target - own):
            return own
        if below is not None:
            b_base, b_bits, b_fresh, b_trace = below
            for offset in _offsets(b_fresh if fresh else b_bits):
                o = b_base + offset
                if _has(p_base, rest, target - o):
                    taken.extend(self.family(b_trace, o, fresh))
                    return o
        whole_ok = not fresh or c not in self.held
        if whole_ok and low <= 0 <= high and _has(p_base, rest, target):
            taken.append(c)
            return 0
        return None

    def blame(self, c: int) -> int:
        """A cut search is deemed unsafe; the smallest suppressible figure of the subtree
        where it was cut is blamed."""
        fresh = [b for b in _subtree(self.children, c) if b not in self.held]
        if not fresh:
            # Recipients hold that whole subtree: a family beyond the cut may still be
            # unsafe, so the smallest figure of the search that is not held goes.
            fresh = [b for b in self.children if b != self.root and b not in self.held]
        return min(fresh or [c], key=lambda b: (self.value[b], self.rank[b]))


def _add(base: int | None, bits: int, fresh: int, v: int, is_fresh: bool) -> tuple:
    """The sets (base, bits, fresh) with value v added (to the fresh ones too if so)."""
    if base is None:
        return (v, 1, int(is_fresh))
    if v < base:
        bits, fresh, base = bits << (base - v), fresh << (base - v), v
    bit = 1 << (v - base)
    return (base, bits | bit, fresh | bit if is_fresh else fresh)


def _sums(walk: int, keep: int) -> int:
    """Every sum of one value of each set (offsets from the sum of their bases): one
    shift of the larger set per value of the smaller."""
    if walk.bit_count() > keep.bit_count():
        walk, keep = keep, walk
    merged = 0
    while walk:
        lowest = walk & -walk
        merged |= keep << (lowest.bit_length() - 1)
        walk ^= lowest
    return merged


def _clip(base: int, bits: int, fresh: int, low: int, high: int) -> tuple[int, int, int] | None:
    if high < base:
        return None
    if low > base:
        bits >>= low - base
        fresh >>= low - base
        base = low
    mask = (1 << (high - base + 1)) - 1
    bits &= mask
    return (base, bits, fresh & mask) if bits else None


class _SearchCut(Exception):
    def __init__(self, culprit: int) -> None:
        super().__init__(culprit)
        self.culprit = culprit


def _subtree(children: Mapping[int, list[int]], node: int) -> list[int]:
    nodes, stack = [], [node]
    while stack:
        current = stack.pop()
        nodes.append(current)
        stack.extend(children[current])
    return nodes
