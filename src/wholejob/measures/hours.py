"""Effort in hours: per rep, practice and week, in one grouped query.

Activity practices get the hours of activities classified as them. The
account-attribute practices (``icp_focus``, ``new_logos``, ``land_and_expand``
by default) get the hours of activities classified as them plus the hours of
all other *selling* activities their criteria tag (see
:func:`wholejob.classification.tag_account_practices`), each activity counted
once; so their hours overlap the other practices'. ``other`` is not selling.
Quality practices (``value_creation``) have no hours of their own.

One scan groups the period's activities by rep, practice and week and sums,
beside each cell's hours, the hours its activities carry of each tag; the
tagged totals per rep and week are then rolled up from those cells in NumPy
(a few hundred thousand cells, not millions of activities). :class:`Hours`
keeps the cells as arrays, never as Python objects per cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import ibis
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from wholejob.jobmodel import OTHER
from wholejob.measures.base import Inputs

__all__ = ["SAMPLE_SIZE", "Hours", "effort_filter", "measure_hours", "sample_effort"]

SAMPLE_SIZE = 5

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Hours:
    """Hours and activity counts by rep, practice and week index (period weeks only).

    Dense arrays indexed ``[rep, key, week]``: rep ``rep_ids[i]``, practice key
    ``keys[j]``, week ``k`` of the period (0 when nothing was recorded). Keys are
    the classified practice (including ``other`` and ``unclassified``) and, for
    account-attribute practices, ``tag_<practice>``: their tagged total. A rep
    missing from ``rep_ids`` has no activities in the period. Dense is no larger
    than the scorecard's own ``weekly_hours``, and every reader is an index.
    """

    rep_ids: list[str]
    keys: list[str]
    hours: Floats  # [rep, key, week]
    n: Ints  # [rep, key, week]
    _reps: frozenset[str] = field(init=False, repr=False, compare=False)
    _rep_at: dict[str, int] = field(init=False, repr=False, compare=False)
    _key_at: dict[str, int] = field(init=False, repr=False, compare=False)
    _totals: Floats = field(init=False, repr=False, compare=False)
    _counts: Ints = field(init=False, repr=False, compare=False)
    _selling: Floats = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        put = object.__setattr__  # frozen: the indexes are set once, here
        put(self, "_reps", frozenset(self.rep_ids))
        put(self, "_rep_at", {r: i for i, r in enumerate(self.rep_ids)})
        put(self, "_key_at", {k: i for i, k in enumerate(self.keys)})
        totals = self.hours.sum(axis=2)
        put(self, "_totals", totals)
        put(self, "_counts", self.n.sum(axis=2))
        selling = [i for i, k in enumerate(self.keys) if k != OTHER and not k.startswith("tag_")]
        put(self, "_selling", totals[:, selling].sum(axis=1))

    @classmethod
    def empty(cls) -> Hours:
        """No activities in the period."""
        return cls([], [], np.zeros((0, 0, 0)), np.zeros((0, 0, 0), dtype=np.int64))

    @property
    def reps(self) -> frozenset[str]:
        """Reps with activities in the period."""
        return self._reps

    def _cell(self, rep_id: str, practice: str) -> tuple[int, int] | None:
        r = self._rep_at.get(rep_id)
        k = self._key_at.get(practice)
        return None if r is None or k is None else (r, k)

    def total(self, rep_id: str, practice: str) -> float | None:
        """Hours in the period, None when the rep has no activities."""
        if rep_id not in self._rep_at:
            return None
        rk = self._cell(rep_id, practice)
        return 0.0 if rk is None else float(self._totals[rk])

    def count(self, rep_id: str, practice: str) -> int | None:
        """Activities in the period, None when the rep has no activities."""
        if rep_id not in self._rep_at:
            return None
        rk = self._cell(rep_id, practice)
        return 0 if rk is None else int(self._counts[rk])

    def selling(self, rep_id: str) -> float | None:
        """Hours of everything but ``other`` (unclassified time counts as selling)."""
        r = self._rep_at.get(rep_id)
        return None if r is None else float(self._selling[r])

    def weekly(self, rep_id: str, practice: str, n_weeks: int) -> list[float] | None:
        """Hours in each of the period's ``n_weeks`` weeks (0 if none); None without activities."""
        if rep_id not in self._rep_at:
            return None
        out = np.zeros(n_weeks)
        rk = self._cell(rep_id, practice)
        if rk is not None:
            row = self.hours[rk]
            out[:row.size] = row
        return [float(h) for h in out]

    def to_arrow(self) -> pa.Table:
        """Return the cells with activities or hours: rep_id, practice, week, hours, n."""
        rep, key, week = np.nonzero((self.n > 0) | (self.hours != 0))
        return pa.table({
            "rep_id": pa.array(self.rep_ids, pa.string()).take(rep),
            "practice": pa.array(self.keys, pa.string()).take(key),
            "week": week.astype(np.int64), "hours": self.hours[rep, key, week],
            "n": self.n[rep, key, week],
        })


def effort_filter(inp: Inputs, practice: str) -> ibis.Table:
    """Return the period's activities that count as effort on ``practice``."""
    a = inp.acts.filter(inp.acts.in_period)
    if practice in inp.model.account_ids:
        return a.filter(a[f"tag_{practice}"])
    return a.filter(a.practice == practice)


def _codes(column: pa.ChunkedArray) -> tuple[list[str], Ints]:
    """Dictionary-encode a string column: its distinct values and each row's index."""
    encoded = pc.dictionary_encode(column.combine_chunks())
    return encoded.dictionary.to_pylist(), encoded.indices.to_numpy().astype(np.int64)


def measure_hours(inp: Inputs) -> Hours:
    """Aggregate hours and activity counts by rep, practice and week in one scan."""
    a = inp.acts.filter(inp.acts.in_period)
    tags = list(inp.model.account_ids)
    cells = a.group_by("rep_id", "practice", "week").aggregate(
        hours=a.hours.sum(), n=a.count(),
        **{f"h_{p}": a.hours.sum(where=a[f"tag_{p}"]) for p in tags},
        **{f"n_{p}": a.count(where=a[f"tag_{p}"]) for p in tags},
    ).to_pyarrow()
    if cells.num_rows == 0:
        return Hours.empty()
    rep_ids, rep = _codes(cells.column("rep_id"))
    practices, practice = _codes(cells.column("practice"))
    week = cells.column("week").to_numpy().astype(np.int64)
    keys = [*practices, *(f"tag_{p}" for p in tags)]
    shape = (len(rep_ids), len(keys), int(week.max()) + 1)

    def flat(key: Ints) -> Ints:
        out: Ints = (rep * shape[1] + key) * shape[2] + week
        return out

    # Each cell lands on its practice; its tagged hours also land on each tag's
    # key, so a tag's rep-week total sums the cells of every practice (the tag
    # includes the own-practice hours). Unknown sums (no rows) are zero.
    index = np.concatenate([flat(practice), *(flat(np.full_like(rep, len(practices) + i))
                                              for i in range(len(tags)))])
    h = np.concatenate([_numbers(cells, "hours"), *(_numbers(cells, f"h_{p}") for p in tags)])
    n = np.concatenate([_numbers(cells, "n"), *(_numbers(cells, f"n_{p}") for p in tags)])
    size = shape[0] * shape[1] * shape[2]
    hours = np.asarray(np.bincount(index, weights=h, minlength=size), np.float64).reshape(shape)
    counts = np.bincount(index, weights=n, minlength=size).astype(np.int64).reshape(shape)
    return Hours(rep_ids, keys, hours, counts)


def _numbers(cells: pa.Table, name: str) -> Floats:
    out: Floats = cells.column(name).to_numpy(zero_copy_only=False).astype(np.float64)
    return np.nan_to_num(out, nan=0.0)


def sample_effort(inp: Inputs) -> dict[str, dict[str, list[str]]]:
    """Return the :data:`SAMPLE_SIZE` latest activity ids per rep and practice (ties by id).

    Ranking every activity sorts the whole table. Weeks only grow with time, so
    the latest activities of a rep and practice all fall in its last weeks that
    hold at least ``SAMPLE_SIZE`` of them; only those weeks are ranked.
    """
    a = inp.acts.filter(inp.acts.in_period)
    cells = a.group_by("rep_id", "practice", "week").aggregate(n=a.count())
    later = cells.n.sum().over(ibis.window(group_by=["rep_id", "practice"],
                                           order_by=ibis.desc("week"), rows=(None, 0)))
    c = cells.mutate(_later=later)
    cut = c.group_by(_c_rep=c.rep_id, _c_practice=c.practice).aggregate(
        _from=c.week.max(where=c._later >= SAMPLE_SIZE)
    )
    recent = a.inner_join(cut, [a.rep_id == cut._c_rep, a.practice == cut._c_practice])
    recent = recent.filter(recent._from.isnull() | (recent.week >= recent._from))
    rn = ibis.row_number().over(
        group_by=["rep_id", "practice"], order_by=[ibis.desc("started_at"), "activity_id"]
    )
    top = recent.mutate(_rn=rn).filter(lambda t: t._rn < SAMPLE_SIZE)
    top = top.select("rep_id", "practice", "activity_id", "_rn").order_by(
        "rep_id", "practice", "_rn").to_pyarrow()
    samples: dict[str, dict[str, list[str]]] = {}
    for rep, practice, aid in zip(*(top.column(c).to_pylist()
                                    for c in ("rep_id", "practice", "activity_id")),
                                  strict=True):
        samples.setdefault(rep, {}).setdefault(practice, []).append(aid)
    return samples
