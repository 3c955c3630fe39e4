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
   A minus their sum is 0 or at least k.

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
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

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
    values: tuple[int, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        true = len(self.people)
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

    An inverted index person -> figures gives, for every b, the figures holding three
    of its people (first, middle, last) and at least as many people; only those are
    compared in full. The full tests are grouped by the outer figure a: its people are
    marked once in a boolean array over all people, and every candidate b of a is
    checked by one gather of that array (no per-pair search, no Python per pair), so the
    cost is the total size of the candidate figures, not all pairs.
    """
    inside: dict[int, list[int]] = {b: [] for b in candidates}
    nonempty = [i for i in candidates if len(figures[i].people)]
    if not nonempty:
        return inside
    sizes = np.array([len(figures[i].people) for i in nonempty], dtype=np.int64)
    owners = np.repeat(np.asarray(nonempty, dtype=np.int64), sizes)
    members = np.concatenate([figures[i].people for i in nonempty])
    order = np.lexsort((owners, members))
    members, owners = members[order], owners[order]
    persons, starts = np.unique(members, return_index=True)
    ends = np.append(starts[1:], len(members))
    size_of = {i: len(figures[i].people) for i in nonempty}

    def holders(person: int) -> np.ndarray:
        at = np.searchsorted(persons, person)
        return owners[starts[at] : ends[at]]

    # (outer a, inner b) pairs worth a full test.
    outer_of: dict[int, list[int]] = {}
    for b in nonempty:
        people = figures[b].people
        probes = {int(people[0]), int(people[len(people) // 2]), int(people[-1])}
        found = None
        for person in probes:
            found = holders(person) if found is None else np.intersect1d(found, holders(person))
        size = len(people)
        for a in found.tolist():
            if a != b and size_of[a] >= size:
                outer_of.setdefault(a, []).append(b)
    mark = np.zeros(len(persons), dtype=bool)
    dense = {}  # figure -> its people as indexes into persons

    def dense_people(i: int) -> np.ndarray:
        if i not in dense:
            dense[i] = np.searchsorted(persons, figures[i].people)
        return dense[i]

    for a, inners in outer_of.items():
        outer = dense_people(a)
        mark[outer] = True
        flat = np.concatenate([dense_people(b) for b in inners])
        lengths = np.array([size_of[b] for b in inners], dtype=np.int64)
        missing = np.add.reduceat(~mark[flat], np.concatenate(([0], np.cumsum(lengths)[:-1])))
        for b, absent in zip(inners, missing.tolist(), strict=True):
            if not absent:
                inside[b].append(a)
        mark[outer] = False
    for b in inside:
        inside[b].sort()
    return inside


def contains(outer: np.ndarray, inner: np.ndarray) -> bool:
    """Whether the sorted unique array ``outer`` holds every element of ``inner``."""
    if len(inner) > len(outer):
        return False
    at = np.searchsorted(outer, inner)
    return bool(np.all(at < len(outer)) and np.all(outer[np.minimum(at, len(outer) - 1)] == inner))


# ------------------------------------------------------------------------ the audit


def audit(figures: Sequence[Figure], k: int) -> dict[FigureKey, str]:
    """The status of every figure that is not held: published, suppressed_below_k or
    suppressed_complementary. Held figures are published already and stay so."""
    order = sorted(range(len(figures)), key=lambda i: _rank(figures[i]))
    rank = {i: r for r, i in enumerate(order)}
    status: dict[int, str] = {}
    for i, figure in enumerate(figures):
        if figure.held:
            status[i] = PUBLISHED
        elif any(is_below_k(v, k) for v in figure.values):
            status[i] = SUPPRESSED_BELOW_K
        else:
            status[i] = PUBLISHED
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
            _enforce(figures, rank, supersets, subsets, status, a, k)
    return {figures[i].key: status[i] for i in range(len(figures)) if not figures[i].held}


def _rank(figure: Figure) -> tuple:
    key = figure.key
    level = AREA_LEVELS.index(key.level) if key.level in AREA_LEVELS else len(AREA_LEVELS)
    hour = "" if key.hour is None else str(key.hour)
    return (figure.held is False, key.table, hour, level, key.id)


def _above(figures: Sequence[Figure], rank: Mapping[int, int], a: int, b: int) -> bool:
    """Total order used to make containment a forest: by size, then a fixed rank (so two
    figures with the same people are ordered, not each other's parent)."""
    return (len(figures[a].people), -rank[a]) > (len(figures[b].people), -rank[b])


def _enforce(figures, rank, supersets, subsets, status, a: int, k: int) -> None:
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
                status[a] = SUPPRESSED_COMPLEMENTARY
            # Otherwise every figure was in an earlier release and was audited there.
            return
        victim = min(suppressible, key=lambda b: (figures[b].values[0], rank[b]))
        status[victim] = SUPPRESSED_COMPLEMENTARY


def _unsafe_family(figures, rank, supersets, status, a, members, which, k) -> tuple | None:
    """A family of published figures inside ``a`` whose difference with ``a`` is unsafe."""
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
    value = {m: figures[m].values[which] for m in children}
    residual = {m: value[m] - sum(value[c] for c in kids) for m, kids in children.items()}
    bounds: dict[int, tuple[int, int]] = {}
    # Per node: the sums over its children of min(0, low) and max(0, high).
    kid_bounds: dict[int, tuple[int, int]] = {}

    def span(node: int) -> tuple[int, int]:
        """(min, max) of node's value with some family of its subtree taken out."""
        if node not in bounds:
            kid_low = kid_high = 0
            for c in children[node]:
                c_low, c_high = span(c)
                kid_low, kid_high = kid_low + min(0, c_low), kid_high + max(0, c_high)
            kid_bounds[node] = (kid_low, kid_high)
            bounds[node] = (residual[node] + kid_low, residual[node] + kid_high)
        return bounds[node]

    def values_within(node: int, lo: int, hi: int) -> dict[int, tuple]:
        """Values node - sum(family) in [lo, hi], node itself not taken, with a witness."""
        low, high = span(node)
        if high < lo or low > hi:
            return {}
        kids = children[node]
        rest_low, rest_high = kid_bounds[node]
        partial = {residual[node]: None}
        for c in kids:
            c_low, c_high = span(c)
            rest_low -= min(0, c_low)
            rest_high -= max(0, c_high)
            p_low, p_high = min(partial), max(partial)
            want_lo, want_hi = lo - p_high - rest_high, hi - p_low - rest_low
            # c not taken, but part of its subtree: c contributes its own residual value.
            options = values_within(c, want_lo, want_hi) if children[c] else {}
            if want_lo <= value[c] <= want_hi:
                options.setdefault(value[c], None)  # nothing of c taken
            if want_lo <= 0 <= want_hi:
                options[0] = (c,)  # c taken whole
            merged = _merge(partial, options, lo - rest_high, hi - rest_low)
            if len(merged) > SEARCH_LIMIT:
                # Too many families to enumerate: deem unsafe, blame the smallest figure.
                raise _SearchCut(blame(c))
            partial = merged
            if not partial:
                return {}
        return {v: family for v, family in partial.items() if lo <= v <= hi}

    def blame(c: int) -> int:
        """A cut search is deemed unsafe; the smallest suppressible figure of the
        subtree where it was cut is blamed."""
        blamable = [b for b in _subtree(children, c) if not figures[b].held] or [c]
        return min(blamable, key=lambda b: (value[b], rank[b]))

    try:
        if not _reachable(children, value, residual, span, kid_bounds, blame, a, -(k - 1), k - 1):
            # No value but 0 within k of zero: the search below would find nothing.
            return None
    except _SearchCut as cut:
        # Cut at the same place as the search below would be (same sets of values).
        return (cut.culprit,)
    try:
        found = values_within(a, -(k - 1), k - 1)
    except _SearchCut as cut:
        return (cut.culprit,)
    for difference in sorted(found, key=lambda d: (abs(d), d)):
        if not is_safe_difference(difference, k) and found[difference]:
            return _flattened(found[difference])
    return None


# A family while it is searched: None (empty), (figure,) or (family, family), the two
# joined in that order; a merge joins two families in constant time instead of copying
# them (a family can hold thousands of figures).


def _joined(first, second):
    if first is None:
        return second
    if second is None:
        return first
    return (first, second)


def _flattened(family) -> tuple:
    figures, stack = [], [family]
    while stack:
        node = stack.pop()
        if node is None:
            continue
        if len(node) == 1:
            figures.append(node[0])
        else:
            stack.extend((node[1], node[0]))
    return tuple(figures)


# Below this many pairs a merge is a plain double loop (NumPy's overhead would dominate).
_SMALL_MERGE = 64


def _merge(partial: dict[int, tuple], options: dict[int, tuple], low: int, high: int) -> dict:
    """Every total p + o in [low, high], in the order of the pairs (p, o) taken partial's
    entries first, then options' (both in insertion order), each total with the family
    of its first pair. Large merges use NumPy sums over blocks of pairs; the order of the
    pairs, hence the witness kept for each total, is the plain double loop's."""
    merged: dict[int, tuple] = {}
    if len(partial) * len(options) <= _SMALL_MERGE:
        for p, p_family in partial.items():
            for o, o_family in options.items():
                total = p + o
                if low <= total <= high and total not in merged:
                    merged[total] = _joined(p_family, o_family)
        return merged
    if len(options) > _SMALL_OPTIONS:
        return _merge_by_shifts(partial, options, low, high)
    p_values = np.fromiter(partial, dtype=np.int64, count=len(partial))
    o_values = np.fromiter(options, dtype=np.int64, count=len(options))
    p_families, o_families = list(partial.values()), list(options.values())
    width = len(o_values)
    rows = max(1, (1 << 20) // width)
    for start in range(0, len(p_values), rows):
        totals = (p_values[start : start + rows, None] + o_values[None, :]).ravel()
        hits = np.flatnonzero((totals >= low) & (totals <= high))
        if not hits.size:
            continue
        found = totals[hits]
        _, first = np.unique(found, return_index=True)
        for at in np.sort(first).tolist():  # first pair of each total, in pair order
            total = int(found[at])
            if total not in merged:
                row, column = divmod(int(hits[at]), width)
                merged[total] = _joined(p_families[start + row], o_families[column])
    return merged


# Past this many options, a merge shifts the options' bitset once per partial value
# instead of summing every pair.
_SMALL_OPTIONS = 16


def _merge_by_shifts(partial: dict, options: dict, low: int, high: int) -> dict:
    """:func:`_merge` for many options: the first pair (p, o) of a total is the one with
    the earliest p whose shifted options reach it (o is then total - p), so the partial
    values are walked in order, each adding the totals no earlier one reached; the totals
    are then ordered by (position of p, position of o), the double loop's order."""
    o_base = min(options)
    o_bits = 0
    for o in options:
        o_bits |= 1 << (o - o_base)
    o_position = {o: j for j, o in enumerate(options)}
    window = (1 << (high - low + 1)) - 1 if high >= low else 0
    reached = 0
    entries = []
    p_families = []
    for i, (p, p_family) in enumerate(partial.items()):
        p_families.append(p_family)
        shift = p + o_base - low
        shifted = o_bits << shift if shift >= 0 else o_bits >> -shift
        new = shifted & window & ~reached
        if not new:
            continue
        reached |= new
        while new:
            lowest = new & -new
            total = low + lowest.bit_length() - 1
            entries.append((i, o_position[total - p], total))
            new ^= lowest
    entries.sort()
    o_families = list(options.values())
    return {total: _joined(p_families[i], o_families[j]) for i, j, total in entries}


def _reachable(children, value, residual, span, kid_bounds, blame, a, lo: int, hi: int) -> bool:
    """Whether ``values_within(a, lo, hi)`` of :func:`_unsafe_family` would hold any value
    but 0, without its witnesses: the same sets of values, pruned by the same windows, as
    bitsets (a Python int per set, bit i for value base + i), so that merging two sets is
    one shift per value of the smaller one instead of one dict entry per pair of values.
    Raises _SearchCut, with the same culprit, exactly where that search is cut. Only the
    search's answer "nothing unsafe" is taken from here; any other answer is left to the
    search itself, which picks the witness."""

    def add(found: tuple[int, int] | None, v: int) -> tuple[int, int]:
        if found is None:
            return (v, 1)
        base, bits = found
        if v < base:
            return (v, (bits << (base - v)) | 1)
        return (base, bits | (1 << (v - base)))

    def clip(base: int, bits: int, low: int, high: int) -> tuple[int, int] | None:
        if high < base:
            return None
        if low > base:
            bits >>= low - base
            base = low
        bits &= (1 << (high - base + 1)) - 1
        return (base, bits) if bits else None

    def within(node: int, lo: int, hi: int) -> tuple[int, int] | None:
        low, high = span(node)
        if high < lo or low > hi:
            return None
        rest_low, rest_high = kid_bounds[node]
        p_base, p_bits = residual[node], 1
        for c in children[node]:
            c_low, c_high = span(c)
            rest_low -= min(0, c_low)
            rest_high -= max(0, c_high)
            p_low = p_base + (p_bits & -p_bits).bit_length() - 1
            p_high = p_base + p_bits.bit_length() - 1
            want_lo, want_hi = lo - p_high - rest_high, hi - p_low - rest_low
            options = within(c, want_lo, want_hi) if children[c] else None
            for v in (value[c], 0):
                if want_lo <= v <= want_hi:
                    options = add(options, v)
            if options is None:
                return None
            o_base, o_bits = options
            if o_bits.bit_count() <= p_bits.bit_count():
                walk, keep, walk_base, keep_base = o_bits, p_bits, o_base, p_base
            else:
                walk, keep, walk_base, keep_base = p_bits, o_bits, p_base, o_base
            merged = 0
            while walk:
                lowest = walk & -walk
                merged |= keep << (lowest.bit_length() - 1)
                walk ^= lowest
            kept = clip(walk_base + keep_base, merged, lo - rest_high, hi - rest_low)
            if kept is None:
                return None
            p_base, p_bits = kept
            if p_bits.bit_count() > SEARCH_LIMIT:
                raise _SearchCut(blame(c))
        return clip(p_base, p_bits, lo, hi)

    found = within(a, lo, hi)
    if found is None:
        return False
    base, bits = found
    only_zero = bits & (bits - 1) == 0 and base + bits.bit_length() - 1 == 0
    return not only_zero


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
