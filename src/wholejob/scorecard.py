"""The scorecard: every rep's effort and effectiveness on every practice, as plain data.

A :class:`Scorecard` is what the measures compute (``wholejob.measures``) and what
balance, findings and reports read. It holds no database handle, so findings and
reports are pure functions of it and are tested on hand-built scorecards.

Unknown is ``None`` everywhere: a rep without activities has unknown hours, a
measure with no denominator has an unknown value. Zero means "recorded, and none".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

__all__ = [
    "RECORD_ID_SAMPLE",
    "Finding",
    "MeasureValue",
    "PracticeScore",
    "RepScore",
    "Scorecard",
]

# Record ids a scorecard keeps per measure (the first, in sorted order); the
# counts are always complete. Enough for the evidence findings quote.
RECORD_ID_SAMPLE = 10


@dataclass(frozen=True)
class MeasureValue:
    """One effectiveness measure of one rep on one practice, with its evidence.

    ``value`` is ``numerator / denominator`` for ratio measures (``None`` when the
    denominator is zero or unknown). ``record_counts`` counts the records behind
    the figure by table, e.g. ``{"opportunities": 1234}``; ``record_ids`` holds
    the first :data:`RECORD_ID_SAMPLE` of their ids in sorted order, e.g.
    ``{"opportunities": ["O1", "O7"]}``. The full list of one rep's measure is
    :func:`wholejob.measures.trace`'s.
    """

    measure_id: str
    practice: str
    name: str
    value: float | None
    unit: str = ""  # "ratio", "currency", "count", "days", "hours", "per_week"
    higher_is_better: bool = True
    numerator: float | None = None
    denominator: float | None = None
    team_median: float | None = None
    top_quartile: float | None = None
    target: float | None = None
    score: float | None = None  # 0-100 against peers, None when unknown
    record_ids: dict[str, list[str]] = field(default_factory=dict)
    record_counts: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "measure_id": self.measure_id,
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "higher_is_better": self.higher_is_better,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "team_median": self.team_median,
            "top_quartile": self.top_quartile,
            "target": self.target,
            "score": self.score,
            "record_ids": self.record_ids,
            "record_counts": self.record_counts,
        }


@dataclass(frozen=True)
class PracticeScore:
    """A rep's effort and effectiveness on one practice over the scorecard's period.

    Hours per week are hours / weeks in the period. ``share`` is the share of the
    rep's *selling* time (all practices except ``other``). Scores run 0-100.
    """

    practice: str
    hours: float | None
    hours_per_week: float | None
    share: float | None
    activities: int | None
    floor_hours_per_week: float | None
    target_hours_per_week: float | None
    team_median_hours_per_week: float | None
    top_quartile_hours_per_week: float | None
    effort_score: float | None
    effectiveness_score: float | None
    weekly_hours: list[float | None] = field(default_factory=list)  # aligned to Scorecard.weeks
    measures: list[MeasureValue] = field(default_factory=list)
    activity_ids_sample: list[str] = field(default_factory=list)

    def measure(self, measure_id: str) -> MeasureValue | None:
        """Return the measure with this id, if computed."""
        return next((m for m in self.measures if m.measure_id == measure_id), None)

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict (the design's per-practice object)."""
        return {
            "hours": self.hours,
            "hours_per_week": self.hours_per_week,
            "share": self.share,
            "activities": self.activities,
            "effort_score": self.effort_score,
            "effectiveness_score": self.effectiveness_score,
            "floor_hours_per_week": self.floor_hours_per_week,
            "target_hours_per_week": self.target_hours_per_week,
            "team_median_hours_per_week": self.team_median_hours_per_week,
            "top_quartile_hours_per_week": self.top_quartile_hours_per_week,
            "weekly_hours": self.weekly_hours,
            "measures": {m.measure_id: m.to_json() for m in self.measures},
            "activity_ids_sample": self.activity_ids_sample,
        }


@dataclass(frozen=True)
class Finding:
    """Something neglected, overinvested or ineffective, with evidence and a remedy.

    ``kind`` is ``neglected``, ``overinvested`` or ``ineffective``; ``severity`` is
    ``high``, ``medium`` or ``low``; ``evidence`` holds the figures and record ids.
    """

    rep_id: str
    practice: str
    kind: str
    severity: str
    evidence: dict[str, Any]
    consequence: str
    recommendation: str
    money_at_stake: float | None = None

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict (the design's finding object)."""
        return {
            "rep_id": self.rep_id,
            "practice": self.practice,
            "kind": self.kind,
            "severity": self.severity,
            "evidence": self.evidence,
            "consequence": self.consequence,
            "recommendation": self.recommendation,
            "money_at_stake": self.money_at_stake,
        }


@dataclass(frozen=True)
class RepScore:
    """One rep's scorecard: identity, capacity, balance, and every practice."""

    rep_id: str
    name: str
    team: str | None
    manager_id: str | None
    role: str
    weekly_hours: float
    quota: float | None
    practices: dict[str, PracticeScore]
    selling_hours_per_week: float | None = None
    other_hours_per_week: float | None = None
    balance_index: float | None = None
    balance_drag: list[dict[str, Any]] = field(default_factory=list)  # [{practice, points, why}]

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict (the design's per-rep object)."""
        return {
            "rep_id": self.rep_id,
            "name": self.name,
            "team": self.team,
            "manager_id": self.manager_id,
            "role": self.role,
            "weekly_hours": self.weekly_hours,
            "quota": self.quota,
            "balance_index": self.balance_index,
            "balance_drag": self.balance_drag,
            "selling_hours_per_week": self.selling_hours_per_week,
            "other_hours_per_week": self.other_hours_per_week,
            "practices": {p: s.to_json() for p, s in self.practices.items()},
        }


@dataclass(frozen=True)
class Scorecard:
    """Effort and effectiveness for a set of reps over a period, week by week.

    ``weeks`` are the first days of the weeks in the period (the workspace's week
    start); every ``weekly_hours`` list is aligned to it.
    """

    since: date | None
    until: date | None
    weeks: list[date]
    currency: str
    practices: list[str]  # the 18 practice ids, in job-model order (``other`` separate)
    reps: list[RepScore]
    notes: list[str] = field(default_factory=list)

    def rep(self, rep_id: str) -> RepScore:
        """Return the rep with this id (KeyError if absent)."""
        for r in self.reps:
            if r.rep_id == rep_id:
                return r
        raise KeyError(rep_id)

    def to_json(self) -> dict[str, Any]:
        """Return the design's report JSON: ``{"reps": [...]}`` plus period metadata."""
        return {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "weeks": [w.isoformat() for w in self.weeks],
            "currency": self.currency,
            "practices": self.practices,
            "reps": [r.to_json() for r in self.reps],
            "notes": self.notes,
        }
