"""Who counts in which figure, looked up by person, in little memory.

The disclosure auditor (location/disclosure.py) and the location gate's own check
(expectations/location.py) both need, for a person, the figures that count them: the
memberships (figure, person) sorted by person. At 100M network events there are about
100M memberships. An argsort of two int64 arrays holds five arrays of 8 bytes per
membership at once (persons, figures, the order and both sorted copies); here each
membership is packed into one int64 (person in the high half, figure in the low half),
sorted in place and split into two int32 arrays: 16 bytes per membership at the peak.

Only the data structure is shared: what counts as a figure, and the rule checked on the
figures, stay the auditor's and the gate's own.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Person and figure ids are packed as two non-negative 32-bit halves of one int64.
LARGEST_ID = np.iinfo(np.int32).max


def memberships_by_person(
    people: Sequence[np.ndarray], figures: Sequence[int] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(persons, figures): one entry per membership, sorted by person, then figure
    (int32 arrays of equal length).

    ``people``: the person ids (0 .. 2^31-1, integers) counted by each figure; ``figures``: the id
    of each figure (0 .. 2^31-1; default: its position in ``people``).
    """
    if figures is None:
        figures = range(len(people))
    figure_ids = np.fromiter(figures, dtype=np.int64, count=len(people))
    sizes = np.fromiter((len(p) for p in people), dtype=np.int64, count=len(people))
    if not sizes.sum():
        return np.empty(0, dtype=np.int32), np.empty(0, dtype=np.int32)
    keys = np.concatenate([p for p in people if len(p)]).astype(np.int64, copy=False)
    for what, ids in (("person", keys), ("figure", figure_ids)):
        if len(ids) and (ids.min() < 0 or ids.max() > LARGEST_ID):
            raise ValueError(f"a {what} id is outside 0 .. {LARGEST_ID}: cannot be packed")
    keys <<= 32
    ends = np.cumsum(sizes)
    for figure, start, end in zip(
        figure_ids.tolist(), (ends - sizes).tolist(), ends.tolist(), strict=True
    ):
        if end > start:
            keys[start:end] |= figure
    keys.sort()
    # Little-endian halves, whatever the machine: the low half (figure) comes first.
    halves = keys.astype("<i8", copy=False).view("<i4")
    persons = np.ascontiguousarray(halves[1::2], dtype=np.int32)
    owners = np.ascontiguousarray(halves[0::2], dtype=np.int32)
    return persons, owners


def runs(sorted_values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(distinct values, start, end) of each run of equal values of a sorted array (what
    ``np.unique(..., return_index=True)`` gives, without sorting again)."""
    if not len(sorted_values):
        empty = np.empty(0, dtype=np.int64)
        return sorted_values[:0], empty, empty
    starts = np.flatnonzero(np.concatenate(([True], sorted_values[1:] != sorted_values[:-1])))
    ends = np.append(starts[1:], len(sorted_values))
    return sorted_values[starts], starts, ends


class MembershipIndex:
    """The figures counting each person: memberships_by_person, with each person's run
    (each figure counts a person once: its people are unique)."""

    def __init__(self, people: Sequence[np.ndarray], figures: Sequence[int] | None = None):
        members, self.owners = memberships_by_person(people, figures)
        self.persons, self.starts, self.ends = runs(members)

    def holders(self, person: int) -> np.ndarray:
        """The figures counting ``person`` (sorted; empty if none)."""
        # The key in the array's own type: numpy would otherwise cast the whole array to
        # int64 on every call (a copy of every person, per lookup).
        at = int(np.searchsorted(self.persons, self.persons.dtype.type(person)))
        if at == len(self.persons) or self.persons[at] != person:
            return self.owners[:0]
        return self.owners[self.starts[at] : self.ends[at]]

    def overlaps(self, people: np.ndarray, figure_count: int) -> np.ndarray:
        """For each figure 0 .. figure_count-1, how many of ``people`` (unique) it counts:
        every membership of those people gathered at once, then counted per figure."""
        _, owners = self.memberships_of(people)
        return np.bincount(owners, minlength=figure_count)

    def memberships_of(self, people: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(position in ``people``, figure) of every membership of ``people``, gathered at
        once."""
        wanted = np.asarray(people).astype(self.persons.dtype, copy=False)
        at = np.searchsorted(self.persons, wanted)
        found = at < len(self.persons)
        found[found] = self.persons[at[found]] == wanted[found]
        starts, ends = self.starts[at[found]], self.ends[at[found]]
        lengths = ends - starts
        # Positions starts[i] .. ends[i]-1 of every found person, in one array.
        steps = np.ones(int(lengths.sum()), dtype=np.int64)
        if len(steps):
            firsts = np.cumsum(lengths) - lengths
            nonempty = lengths > 0
            steps[firsts[nonempty]] = starts[nonempty] - np.append(0, ends[nonempty][:-1]) + 1
            steps[0] = starts[nonempty][0]
        positions = np.cumsum(steps) if len(steps) else steps
        return np.repeat(np.flatnonzero(found), lengths), self.owners[positions]
