"""Labels shared by every report: practice abbreviations, effort states, number formats.

The terminal table, the SVG charts and the HTML report all speak of a practice's
effort in the same five states, so a red cell means the same thing everywhere:

- ``below_floor``: hours per week under the practice's floor;
- ``floor_to_target``: at or above the floor, under the target;
- ``at_target``: at or above the target, under twice the target;
- ``well_above``: twice the target or more (a candidate for overinvestment);
- ``unknown``: no activities, so the data cannot say (never shown as zero);
- ``not_time``: a quality of all customer time with no hours of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from wholejob.jobmodel import OTHER, PRACTICE_IDS, JobModel, load_job_model
from wholejob.scorecard import PracticeScore, RepScore, Scorecard

__all__ = [
    "ABBREVIATIONS",
    "DOCS",
    "STATE_COLOURS",
    "STATE_LABELS",
    "EffortState",
    "effort_state",
    "format_hours",
    "format_money",
    "format_score",
    "format_value",
    "practice_groups",
    "practice_names",
    "quality_ids",
    "scorecard_practices",
    "sellers",
]

# Three letters so 18 columns fit a terminal; unique and guessable from the name.
ABBREVIATIONS: dict[str, str] = {
    "prospecting": "PRO",
    "referrals": "REF",
    "icp_focus": "ICP",
    "qualification": "QUA",
    "customer_understanding": "CUS",
    "relationships": "REL",
    "insight": "INS",
    "buying_process": "BUY",
    "value_creation": "VAL",
    "sales_process": "PRC",
    "proposals": "PRP",
    "closing": "CLO",
    "new_logos": "NEW",
    "account_growth": "GRO",
    "social_selling": "SOC",
    "call_planning": "PLN",
    "land_and_expand": "L&E",
    "marketing_alignment": "MKT",
    OTHER: "OTH",
}

# Names of the documentation pages that define what the reports show.
DOCS: dict[str, str] = {
    "job_model": "docs/job-model.md",
    "measures": "docs/measures.md",
    "balance": "docs/findings.md",
    "findings": "docs/findings.md",
}

STATE_LABELS: dict[str, str] = {
    "below_floor": "below floor",
    "floor_to_target": "floor to target",
    "at_target": "at target",
    "well_above": "2\u00d7 target or more",
    "unknown": "unknown",
    "not_time": "not time of its own",
    "unscored": "no floor set",
}

# Colour-blind-safer than pure red/green: the hues also differ in lightness.
STATE_COLOURS: dict[str, str] = {
    "below_floor": "#c0392b",
    "floor_to_target": "#f0b429",
    "at_target": "#2e8b57",
    "well_above": "#2c6fbb",
    "unknown": "#bdbdbd",
    "not_time": "#eeeeee",
    "unscored": "#d9d9d9",
}


@dataclass(frozen=True)
class EffortState:
    """Where a rep's weekly hours on a practice sit against its floor and target.

    ``position`` runs 0-1 below the floor (hours / floor), 1-2 from floor to
    target, 2-3 from target to twice the target (capped at 3); ``None`` when the
    hours or the floor are unknown.
    """

    state: str
    position: float | None
    hours_per_week: float | None

    @property
    def label(self) -> str:
        """The state in words, e.g. ``below floor``."""
        return STATE_LABELS[self.state]


def effort_state(score: PracticeScore | None, *, quality: bool = False) -> EffortState:
    """Classify a practice score's weekly hours against its floor and target."""
    if quality:
        return EffortState("not_time", None, None)
    if score is None or score.hours_per_week is None:
        return EffortState("unknown", None, None)
    h = score.hours_per_week
    floor, target = score.floor_hours_per_week, score.target_hours_per_week
    if floor is None and target is None:
        return EffortState("unscored", None, h)
    floor = floor if floor is not None else 0.0
    target = target if target is not None and target >= floor else floor
    if h < floor:
        return EffortState("below_floor", h / floor if floor > 0 else 0.0, h)
    if h < target:
        return EffortState("floor_to_target", 1.0 + (h - floor) / (target - floor), h)
    if target <= 0:
        return EffortState("at_target", 2.0, h)
    if h >= 2 * target:
        return EffortState("well_above", 3.0, h)
    return EffortState("at_target", 2.0 + (h - target) / target, h)


def practice_names(model: JobModel | None = None) -> dict[str, str]:
    """Return display names by practice id (the packaged model's when none is given)."""
    m = model or load_job_model()
    return {pid: p.name for pid, p in m.practices.items()}


def practice_groups(model: JobModel | None = None) -> dict[str, str]:
    """Return the group of every practice id, ``other`` included."""
    m = model or load_job_model()
    return {pid: p.group for pid, p in m.practices.items()}


def quality_ids(model: JobModel | None = None) -> set[str]:
    """Return the practices that are a quality of time rather than time of their own."""
    m = model or load_job_model()
    return set(m.quality_ids)


def sellers(scorecard: Scorecard) -> list[RepScore]:
    """Return the reps who sell (managers left out unless there is no one else)."""
    reps = [r for r in scorecard.reps if r.role != "manager"]
    return reps or list(scorecard.reps)


def scorecard_practices(scorecard: Scorecard) -> list[str]:
    """Return the scorecard's selling practice ids, falling back to the job model's 18."""
    return [p for p in scorecard.practices if p != OTHER] or list(PRACTICE_IDS)


def format_hours(value: float | None) -> str:
    """Format hours per week to one decimal, ``?`` when unknown."""
    return "?" if value is None else f"{value:.1f}"


def format_score(value: float | None) -> str:
    """Format a 0-100 score as a whole number, ``?`` when unknown."""
    return "?" if value is None else f"{value:.0f}"


def _compact(value: float) -> str:
    """Spell a number briefly: ``28.6k``, ``1.2M``, ``3.4``."""
    v = abs(value)
    if v >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if v >= 10_000:
        return f"{value / 1000:.0f}k"
    if v >= 1000:
        return f"{value / 1000:.1f}k"
    return f"{value:.1f}"


def format_money(value: float | None, currency: str) -> str:
    """Format an amount with thousands separators and the currency code, e.g. ``USD 180k``."""
    if value is None:
        return "?"
    sign = "-" if value < 0 else ""
    v = abs(value)
    if v >= 1_000_000:
        text = f"{v / 1_000_000:.1f}M"
    elif v >= 10_000:
        text = f"{v / 1000:.0f}k"
    else:
        text = f"{v:,.0f}"
    return f"{sign}{currency} {text}".strip()


def format_value(value: float | None, unit: str, currency: str = "") -> str:
    """Format a measure's value by its unit (ratio as %, currency, days, counts)."""
    if value is None:
        return "?"
    if unit == "ratio":
        return f"{value * 100:.0f}%"
    if unit == "currency":
        return format_money(value, currency)
    if unit == "days":
        return f"{value:.0f} d"
    if unit == "hours":
        return f"{value:.1f} h"
    if unit == "per_week":
        return f"{_compact(value)}/wk"
    if unit == "count":
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
