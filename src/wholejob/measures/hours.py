"""Effort in hours: per rep, practice and week, in two grouped queries.

Activity practices get the hours of activities classified as them. The
account-attribute practices (``icp_focus``, ``new_logos``, ``land_and_expand``
by default) get the hours of activities classified as them plus the hours of
all other *selling* activities their criteria tag (see
:func:`wholejob.classification.tag_account_practices`), each activity counted
once; so their hours overlap the other practices'. ``other`` is not selling.
Quality practices (``value_creation``) have no hours of their own.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import ibis

from wholejob.jobmodel import OTHER
from wholejob.measures.base import Inputs

__all__ = ["SAMPLE_SIZE", "Hours", "effort_filter", "measure_hours"]

SAMPLE_SIZE = 5


@dataclass
class Hours:
    """Hours and activity counts by rep, practice and week index (period weeks only).

    ``practice`` keys are the classified practice (including ``other`` and
    ``unclassified``) and, for account-attribute practices, their tagged total.
    A rep missing from ``reps`` has no activities in the period.
    """

    reps: set[str] = field(default_factory=set)
    weekly: dict[str, dict[str, dict[int, float]]] = field(default_factory=dict)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    samples: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def total(self, rep_id: str, practice: str) -> float | None:
        """Hours in the period, None when the rep has no activities."""
        if rep_id not in self.reps:
            return None
        return sum(self.weekly.get(rep_id, {}).get(practice, {}).values())

    def count(self, rep_id: str, practice: str) -> int | None:
        """Activities in the period, None when the rep has no activities."""
        if rep_id not in self.reps:
            return None
        return self.counts.get(rep_id, {}).get(practice, 0)

    def selling(self, rep_id: str) -> float | None:
        """Hours of everything but ``other`` (unclassified time counts as selling)."""
        if rep_id not in self.reps:
            return None
        by_practice = self.weekly.get(rep_id, {})
        return sum(
            sum(w.values()) for p, w in by_practice.items()
            if p != OTHER and not p.startswith("tag_")
        )


def effort_filter(inp: Inputs, practice: str) -> ibis.Table:
    """Return the period's activities that count as effort on ``practice``."""
    a = inp.acts.filter(inp.acts.in_period)
    if practice in inp.model.account_ids:
        return a.filter(a[f"tag_{practice}"])
    return a.filter(a.practice == practice)


def _columns(t: ibis.Table, *names: str) -> list[list[Any]]:
    """Run a query and return the named columns as Python lists (cheaper than row dicts)."""
    arrow = t.to_pyarrow()
    return [arrow.column(n).to_pylist() for n in names]


def _samples(a: ibis.Table, cells: ibis.Table) -> ibis.Table:
    """The :data:`SAMPLE_SIZE` latest activities per rep and practice (ties by id).

    Ranking every activity sorts the whole table. Weeks only grow with time, so
    the latest activities of a rep and practice all fall in its last weeks that
    hold at least ``SAMPLE_SIZE`` of them; only those weeks are ranked.
    """
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
    return top.select("rep_id", "practice", "activity_id", "_rn")


def measure_hours(inp: Inputs) -> Hours:
    """Aggregate hours by rep, practice and week; sample a few activity ids per cell."""
    out = Hours()
    a = inp.acts.filter(inp.acts.in_period)
    tags = list(inp.model.account_ids)
    by_practice = a.group_by("rep_id", "practice", "week").aggregate(
        hours=a.hours.sum(), n=a.count()
    )
    tagged = a.group_by("rep_id", "week").aggregate(
        **{f"h_{p}": a.hours.sum(where=a[f"tag_{p}"]) for p in tags},
        **{f"n_{p}": a[f"tag_{p}"].cast("int64").sum() for p in tags},
    )
    weekly: dict[str, dict[str, dict[int, float]]] = defaultdict(lambda: defaultdict(dict))
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    reps, practices, weeks, hours, ns = _columns(by_practice, "rep_id", "practice", "week",
                                                 "hours", "n")
    for rep, practice, week, h, n in zip(reps, practices, weeks, hours, ns, strict=True):
        weekly[rep][practice][int(week)] = float(h or 0.0)
        counts[rep][practice] += int(n)
    cols = _columns(tagged, "rep_id", "week", *[f"{x}_{p}" for p in tags for x in ("h", "n")])
    reps, weeks = cols[0], cols[1]
    for i, p in enumerate(tags):
        # Tagged hours replace the own-practice hours: the tag includes them.
        key = f"tag_{p}"
        for rep, week, h, n in zip(reps, weeks, cols[2 + 2 * i], cols[3 + 2 * i], strict=True):
            weekly[rep][key][int(week)] = float(h or 0.0)
            counts[rep][key] += int(n or 0)
    out.reps = set(weekly)
    out.weekly = {k: dict(v) for k, v in weekly.items()}
    out.counts = {k: dict(v) for k, v in counts.items()}
    sample = _samples(a, by_practice).order_by("rep_id", "practice", "_rn")
    samples: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for rep, practice, aid in zip(*_columns(sample, "rep_id", "practice", "activity_id"),
                                  strict=True):
        samples[rep][practice].append(aid)
    out.samples = {k: dict(v) for k, v in samples.items()}
    return out
