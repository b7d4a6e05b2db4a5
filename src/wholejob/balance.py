"""Balance: how evenly a rep covers all 18 practices of the job, as one explainable index.

Every practice gets a *shortfall* between 0 (fine) and 1 (absent): how far its
effort falls below the practice's target and floor, how far its effectiveness
falls below the team median, and how far its effort runs past a sane multiple of
its target (time taken from the rest of the job). The practice's *drag* is
``100 x weight x shortfall`` where the weight is its target share of selling time
(at least :data:`MIN_WEIGHT`, so practices with no time of their own still count),
normalised over the 18 practices. The index is ``100 - sum drag``; the drags,
listed with the reason in words, are exactly what pulls the index below 100.

Unknown effort is not zero: a rep without any recorded time gets no index, and
the reason takes the place of the drag list. The formula is documented with
worked examples in ``docs/findings.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from wholejob.jobmodel import JobModel
from wholejob.scorecard import PracticeScore, RepScore, Scorecard

__all__ = [
    "EFFECTIVENESS_PAR",
    "EXCESS_SPAN",
    "EXCESS_START",
    "FLOOR_SHORTFALL",
    "MIN_WEIGHT",
    "PracticeBalance",
    "balance_index",
    "balance_profile",
    "practice_weights",
    "team_balance",
    "with_balance",
]

# Reaching the floor but not the target still leaves a quarter of the practice's
# weight on the table: the floor is the least acceptable effort, not the goal.
FLOOR_SHORTFALL = 0.25
# Effectiveness scores run 0-100 against peers; the team median (50) is par, so
# only below-median work pulls the balance down, and the bottom of the team by 1.
EFFECTIVENESS_PAR = 50.0
# How effort and effectiveness shortfalls mix when both are known. Effort leads:
# balance is first about where the time goes; effectiveness says whether it works.
EFFORT_SHARE = 0.6
EFFECTIVENESS_SHARE = 0.4
# Effort beyond EXCESS_START x target starts to crowd out the rest of the job; at
# EXCESS_START + EXCESS_SPAN times target the excess counts as fully as an absence
# would, scaled by EXCESS_WEIGHT (overinvesting costs less than neglecting).
EXCESS_START = 2.0
EXCESS_SPAN = 3.0
EXCESS_WEIGHT = 0.5
# Practices without a target share of time (value creation is a quality of all
# customer time) still belong to the whole job: each weighs at least 2 %.
MIN_WEIGHT = 0.02
# Drags below this many points are not worth a line of explanation (rounding).
MIN_DRAG_POINTS = 0.05

UNKNOWN_EFFORT = (
    "effort unknown: no activities recorded in the period, so time across the job "
    "cannot be judged (unknown is not zero)"
)


@dataclass(frozen=True)
class PracticeBalance:
    """One practice's place in a rep's balance: its shortfalls, drag and the reason."""

    practice: str
    weight: float
    hours_per_week: float | None
    floor: float | None
    target: float | None
    effort_shortfall: float | None
    effectiveness_shortfall: float | None
    excess: float | None
    shortfall: float | None
    points: float
    why: str

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "practice": self.practice,
            "weight": round(self.weight, 4),
            "hours_per_week": self.hours_per_week,
            "floor_hours_per_week": self.floor,
            "target_hours_per_week": self.target,
            "effort_shortfall": _r(self.effort_shortfall),
            "effectiveness_shortfall": _r(self.effectiveness_shortfall),
            "excess": _r(self.excess),
            "shortfall": _r(self.shortfall),
            "points": self.points,
            "why": self.why,
        }


def _r(x: float | None, nd: int = 3) -> float | None:
    return None if x is None else round(x, nd)


def practice_weights(model: JobModel) -> dict[str, float]:
    """Return each selling practice's weight in the index (target share, normalised)."""
    raw = {p: max(model.practices[p].target_share or 0.0, MIN_WEIGHT) for p in model.selling_ids}
    total = sum(raw.values())
    return {p: w / total for p, w in raw.items()}


def effort_levels(
    score: PracticeScore, rep: RepScore, model: JobModel
) -> tuple[float | None, float | None]:
    """Return the practice's (floor, target) in hours per week for this rep.

    The scorecard's own floor and target win; without them the job model's shares
    are applied to the rep's selling hours. Practices with no time of their own
    (effort ``quality``) have neither.
    """
    practice = model.practices[score.practice]
    if practice.effort == "quality":
        return None, None
    floor, target = score.floor_hours_per_week, score.target_hours_per_week
    selling = rep.selling_hours_per_week
    if floor is None and selling is not None and practice.floor_share is not None:
        floor = practice.floor_share * selling
    if target is None and selling is not None and practice.target_share is not None:
        target = practice.target_share * selling
    return floor, target


def effort_shortfall(hours: float, floor: float | None, target: float | None) -> float | None:
    """Return 0 at or above target, FLOOR_SHORTFALL at the floor, 1 at no hours."""
    if target is None or target <= 0:
        return None
    floor = min(floor if floor is not None else 0.0, target)
    if hours >= target:
        return 0.0
    if hours >= floor:
        span = target - floor
        return FLOOR_SHORTFALL * (target - hours) / span if span > 0 else 0.0
    return FLOOR_SHORTFALL + (1.0 - FLOOR_SHORTFALL) * (floor - hours) / floor


def excess_share(hours: float, target: float | None) -> float | None:
    """Return 0 up to EXCESS_START x target, rising to 1 at EXCESS_START + EXCESS_SPAN."""
    if target is None or target <= 0:
        return None
    return min(1.0, max(0.0, (hours / target - EXCESS_START) / EXCESS_SPAN))


def _practice_balance(
    score: PracticeScore, rep: RepScore, model: JobModel, weight: float
) -> PracticeBalance:
    floor, target = effort_levels(score, rep, model)
    hours = score.hours_per_week
    effort = excess = None
    if hours is not None:
        effort = effort_shortfall(hours, floor, target)
        excess = excess_share(hours, target)
    effect = None
    if score.effectiveness_score is not None:
        effect = min(1.0, max(0.0, (EFFECTIVENESS_PAR - score.effectiveness_score)
                              / EFFECTIVENESS_PAR))
    parts = [(EFFORT_SHARE, effort), (EFFECTIVENESS_SHARE, effect)]
    known = [(w, v) for w, v in parts if v is not None]
    shortfall: float | None = None
    if known:
        base = sum(w * v for w, v in known) / sum(w for w, _ in known)
        shortfall = min(1.0, base + EXCESS_WEIGHT * (excess or 0.0))
    points = round(100.0 * weight * (shortfall or 0.0), 1)
    return PracticeBalance(
        practice=score.practice, weight=weight, hours_per_week=hours, floor=floor,
        target=target, effort_shortfall=effort, effectiveness_shortfall=effect,
        excess=excess, shortfall=shortfall, points=points,
        why=_why(score, hours, floor, target, effort, effect, excess),
    )


def _why(
    score: PracticeScore, hours: float | None, floor: float | None, target: float | None,
    effort: float | None, effect: float | None, excess: float | None,
) -> str:
    bits: list[str] = []
    if effort and hours is not None and target is not None:
        level = (f"below the {floor:.1f} h floor" if floor is not None and hours < floor
                 else f"below the {target:.1f} h target")
        bits.append(f"{hours:.1f} h/week, {level}")
    if excess and hours is not None and target is not None:
        bits.append(f"{hours:.1f} h/week is {hours / target:.1f}x the {target:.1f} h target, "
                    "crowding out the rest of the job")
    if effect and score.effectiveness_score is not None:
        bits.append(f"effectiveness {score.effectiveness_score:.0f}/100 against peers "
                    f"(par {EFFECTIVENESS_PAR:.0f})")
    if not bits and hours is None and effect is None:
        return "not measurable in this period"
    return "; ".join(bits)


def balance_profile(rep: RepScore, model: JobModel) -> list[PracticeBalance]:
    """Return the rep's balance on each of the 18 practices, in job-model order.

    A practice missing from the rep's scorecard has no shortfall and no drag.
    """
    weights = practice_weights(model)
    out = []
    for pid in model.selling_ids:
        score = rep.practices.get(pid)
        if score is None:
            out.append(PracticeBalance(pid, weights[pid], None, None, None, None, None, None,
                                       None, 0.0, "not in the scorecard"))
            continue
        out.append(_practice_balance(score, rep, model, weights[pid]))
    return out


def effort_known(rep: RepScore, model: JobModel) -> bool:
    """Return whether any of the rep's practices with time of their own has known hours."""
    timed = [p for p in model.selling_ids if model.practices[p].effort != "quality"]
    return any(
        (s := rep.practices.get(p)) is not None and s.hours_per_week is not None for p in timed
    )


def balance_index(rep: RepScore, model: JobModel) -> tuple[float | None, list[dict[str, Any]]]:
    """Return the rep's balance index (0-100) and the drag of each practice pulling it down.

    The drag list holds ``{"practice", "points", "why"}`` sorted by points, largest
    first, and its points sum to ``100 - index`` exactly (both are rounded to
    0.1). When the rep's effort is unknown the index is ``None`` and the list holds
    one entry with ``practice`` and ``points`` set to ``None`` and the reason.
    """
    if not effort_known(rep, model):
        return None, [{"practice": None, "points": None, "why": UNKNOWN_EFFORT}]
    profile = balance_profile(rep, model)
    dragging = sorted((b for b in profile if b.points >= MIN_DRAG_POINTS),
                      key=lambda b: (-b.points, b.practice))
    index = round(100.0 - sum(b.points for b in dragging), 1)
    drag = [{"practice": b.practice, "points": b.points, "why": b.why} for b in dragging]
    return max(0.0, index), drag


def with_balance(scorecard: Scorecard, model: JobModel) -> Scorecard:
    """Return a copy of the scorecard with every rep's balance index and drag filled in."""
    reps = []
    for rep in scorecard.reps:
        index, drag = balance_index(rep, model)
        reps.append(replace(rep, balance_index=index, balance_drag=drag))
    return replace(scorecard, reps=reps)


def team_balance(scorecard: Scorecard, model: JobModel) -> dict[str, Any]:
    """Return the team view: reps x practices of shortfall and drag, with each rep's index.

    ``{"practices": [...], "reps": [{"rep_id", "name", "balance_index", "practices":
    {PRACTICE_ID: {"shortfall", "points", ...}}}]}``; a rep with unknown effort has
    ``balance_index`` None and its reason under ``"reason"``.
    """
    rows = []
    for rep in scorecard.reps:
        index, drag = balance_index(rep, model)
        row: dict[str, Any] = {"rep_id": rep.rep_id, "name": rep.name, "team": rep.team,
                               "balance_index": index}
        if index is None:
            row["reason"] = drag[0]["why"]
            row["practices"] = {}
        else:
            row["practices"] = {b.practice: b.to_json() for b in balance_profile(rep, model)}
        rows.append(row)
    return {"practices": model.selling_ids, "reps": rows}
