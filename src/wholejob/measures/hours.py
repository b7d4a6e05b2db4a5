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


def measure_hours(inp: Inputs) -> Hours:
    """Aggregate hours by rep, practice and week; sample a few activity ids per cell."""
    out = Hours()
    a = inp.acts.filter(inp.acts.in_period)
    by_practice = a.group_by("rep_id", "practice", "week").aggregate(
        hours=a.hours.sum(), n=a.count()
    )
    tagged = a.group_by("rep_id", "week").aggregate(
        **{f"h_{p}": a.hours.sum(where=a[f"tag_{p}"]) for p in inp.model.account_ids},
        **{f"n_{p}": a[f"tag_{p}"].cast("int64").sum() for p in inp.model.account_ids},
    )
    weekly: dict[str, dict[str, dict[int, float]]] = defaultdict(lambda: defaultdict(dict))
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in by_practice.to_pyarrow().to_pylist():
        weekly[r["rep_id"]][r["practice"]][int(r["week"])] = float(r["hours"] or 0.0)
        counts[r["rep_id"]][r["practice"]] += int(r["n"])
    for r in tagged.to_pyarrow().to_pylist():
        for p in inp.model.account_ids:
            # Tagged hours replace the own-practice hours: the tag includes them.
            weekly[r["rep_id"]][f"tag_{p}"][int(r["week"])] = float(r[f"h_{p}"] or 0.0)
            counts[r["rep_id"]][f"tag_{p}"] += int(r[f"n_{p}"] or 0)
    out.reps = set(weekly)
    out.weekly = {k: dict(v) for k, v in weekly.items()}
    out.counts = {k: dict(v) for k, v in counts.items()}
    rn = ibis.row_number().over(
        group_by=["rep_id", "practice"], order_by=[ibis.desc("started_at"), "activity_id"]
    )
    sample = a.mutate(_rn=rn).filter(lambda t: t._rn < SAMPLE_SIZE)
    samples: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for r in sample.select("rep_id", "practice", "activity_id").to_pyarrow().to_pylist():
        samples[r["rep_id"]][r["practice"]].append(r["activity_id"])
    out.samples = {k: dict(v) for k, v in samples.items()}
    return out
