"""A frozen copy of the disclosure auditor as it was before it was made to scale
(commit 05353e8): the reference the property test compares the production auditor with.

Test-only. Do not "fix" it: its decisions (which figures are suppressed, in which order,
with which witness) are the behaviour the fast auditor must reproduce exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from privacy_pipeline.location.disclosure import (
    AREA_LEVELS,
    PUBLISHED,
    SEARCH_LIMIT,
    SUPPRESSED_BELOW_K,
    SUPPRESSED_COMPLEMENTARY,
    Figure,
    FigureKey,
    is_below_k,
    is_safe_difference,
)

# ---------------------------------------------------------------------- containment


def containment(figures: Sequence[Figure], candidates: Sequence[int]) -> dict[int, list[int]]:
    """For each candidate index b, the candidate indexes a != b whose people include b's.

    An inverted index person -> figures gives, for every b, the figures holding three
    of its people (first, middle, last); only those are compared in full (sorted arrays,
    vectorised), so the cost is the size of the true containments, not all pairs.
    """
    inside: dict[int, list[int]] = {b: [] for b in candidates}
    nonempty = [i for i in candidates if len(figures[i].people)]
    if not nonempty:
        return inside
    owners = np.concatenate([np.full(len(figures[i].people), i, dtype=np.int64) for i in nonempty])
    members = np.concatenate([figures[i].people for i in nonempty])
    order = np.lexsort((owners, members))
    members, owners = members[order], owners[order]
    persons, starts = np.unique(members, return_index=True)
    ends = np.append(starts[1:], len(members))

    def holders(person: int) -> np.ndarray:
        at = np.searchsorted(persons, person)
        return owners[starts[at] : ends[at]]

    for b in nonempty:
        people = figures[b].people
        probes = {int(people[0]), int(people[len(people) // 2]), int(people[-1])}
        found = None
        for person in probes:
            found = holders(person) if found is None else np.intersect1d(found, holders(person))
        for a in found:
            a = int(a)
            if a == b or len(figures[a].people) < len(people):
                continue
            if contains(figures[a].people, people):
                inside[b].append(a)
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
        for which in range(2):  # true counts, then released (noisy) ones
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
        partial = {residual[node]: ()}
        for c in kids:
            c_low, c_high = span(c)
            rest_low -= min(0, c_low)
            rest_high -= max(0, c_high)
            p_low, p_high = min(partial), max(partial)
            want_lo, want_hi = lo - p_high - rest_high, hi - p_low - rest_low
            # c not taken, but part of its subtree: c contributes its own residual value.
            options = values_within(c, want_lo, want_hi) if children[c] else {}
            if want_lo <= value[c] <= want_hi:
                options.setdefault(value[c], ())  # nothing of c taken
            if want_lo <= 0 <= want_hi:
                options[0] = (c,)  # c taken whole
            merged: dict[int, tuple] = {}
            for p, p_family in partial.items():
                for o, o_family in options.items():
                    total = p + o
                    if lo - rest_high <= total <= hi - rest_low and total not in merged:
                        merged[total] = p_family + o_family
            if len(merged) > SEARCH_LIMIT:
                # Too many families to enumerate: deem unsafe, blame the smallest figure.
                blamable = [b for b in _subtree(children, c) if not figures[b].held] or [c]
                raise _SearchCut(min(blamable, key=lambda b: (value[b], rank[b])))
            partial = merged
            if not partial:
                return {}
        return {v: family for v, family in partial.items() if lo <= v <= hi}

    try:
        found = values_within(a, -(k - 1), k - 1)
    except _SearchCut as cut:
        return (cut.culprit,)
    for difference in sorted(found, key=lambda d: (abs(d), d)):
        if not is_safe_difference(difference, k) and found[difference]:
            return found[difference]
    return None


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
