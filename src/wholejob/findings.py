"""Findings: the practices a rep neglects, overinvests in or does badly, and what it costs.

:func:`diagnose` is a pure function of a :class:`~wholejob.scorecard.Scorecard`
and the job model: it reads hours per week (and the weekly series behind them),
the practice's floor, target and team median, the effectiveness score and its
measures, and returns :class:`~wholejob.scorecard.Finding` objects sorted by
severity and money at stake. Every threshold below is a named constant with the
reason it has that value; ``docs/findings.md`` states each rule as a formula and
reports the recall and precision measured on the demo team's planted problems.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

from wholejob.consequences import (
    OUTPUT_MEASURES,
    QUARTER_WEEKS,
    Peers,
    consequence,
    measure_value,
    median_of,
    show,
)
from wholejob.jobmodel import JobModel
from wholejob.scorecard import Finding, MeasureValue, PracticeScore, RepScore, Scorecard

__all__ = [
    "KINDS",
    "SEVERITIES",
    "diagnose",
    "findings_json",
]

KINDS = ("neglected", "overinvested", "ineffective")
SEVERITIES = ("high", "medium", "low")

# -- neglected ---------------------------------------------------------------------
# The floor is already the least acceptable effort; half of it is neglect, not a
# slow week. The team median must agree (below 40 % of what peers log), so a
# practice that the whole team logs little of is not pinned on one rep.
NEGLECT_FLOOR_FRACTION = 0.5
NEGLECT_PEER_CAP = 0.4
# Closer to the floor and the peers the hours alone are not proof (classification
# noise moves a practice's hours by a third); there the results must show it too:
# effectiveness in the bottom fifth or the practice's output at most 40 % of peers'.
CORROBORATED_FLOOR_FRACTION = 0.6
CORROBORATED_PEER_CAP = 0.55
CORROBORATE_SCORE = 20.0
CORROBORATE_OUTPUT = 0.4
# Below 30 % of the team median is neglect even above the floor: some floors are
# tiny (ICP research, new-logo time) and peers are the better yardstick there.
NEGLECT_PEER_FRACTION = 0.3
# ...but only when the gap is worth an hour a week; 0.1 h against 0.4 h is noise.
# Practices that compete for the same hours: new-logo time against time on existing
# customers. Where the rep's ratio is at most half the team's median ratio and
# the practice's own hours are below the median, the time went to the rival.
COMPETING: dict[str, str] = {"new_logos": "account_growth"}
MIX_FRACTION = 0.5
MIN_GAP_HOURS = 1.0
# Sustained, not a dip: at least 60 % of the known weeks sit below the reference
# level (floor or peer level), over at least three known weeks.
SUSTAINED_SHARE = 0.6
MIN_WEEKS = 3
# A recent collapse counts even when the period's average still looks fine: the
# last four known weeks all below a quarter of the floor (a holiday is one or two weeks)
# after earlier weeks that averaged at least the floor (a change, not a habit).
RECENT_RUN_WEEKS = 4
RECENT_FLOOR_FRACTION = 0.25

# -- overinvested ------------------------------------------------------------------
# Far above the norm: 2.5 x the larger of target and team median, and at least
# 2 h/week more than it (a doubled one-hour practice is not a problem).
OVER_FACTOR = 2.5
MIN_EXCESS_HOURS = 2.0
# Diminishing return: output per hour in the practice below the peers' median
# output per hour (the response curves are concave, so the extra hours of a heavy
# investor earn less than the peers' first hours do).
DIMINISHING_RATIO = 1.0
# Without an output measure the only evidence is effectiveness no better than par.
OVER_EFFECTIVENESS_PAR = 50.0
# At four times the team median the response curves (concave by design) are flat:
# the marginal hour returns little even when the average hour still looks good.
EXTREME_FACTOR = 4.0
# -- ineffective -------------------------------------------------------------------
# A team always has a bottom, so the bottom alone is not a finding: the score must
# be in the bottom tenth, the team big enough for that to mean something, and one
# rate measure must trail the median by a third with enough records behind it.
INEFFECTIVE_SCORE_MAX = 10.0
MIN_PEERS = 5
MATERIAL_GAP = 0.35
MIN_VOLUME = 10.0
# ...and the gap must be beyond chance: the rep's rate at least 3 binomial standard
# errors below the team median (one-sided p ~ 0.001; a team of 20 reps x 18
# practices x 2-4 rates tests ~1,000 rates, so a looser bar finds bad luck).
MIN_Z = 3.0
# Differences of two rates sit around zero with either sign: no "quality rate".
DIFFERENCE_MEASURES = frozenset({"referral_win_rate_lift", "icp_win_rate_lift",
                                 "win_rate_with_discovery", "advance_after_insight"})
# Only shares of counted records have a binomial error; amount-weighted ratios,
# ratios of medians and means never make a rep ineffective on their own.
COUNT_RATES = frozenset({
    "late_stage_loss_share", "win_rate", "qualification_fields_complete",
    "discovery_before_proposal", "stalled_deals", "next_step_coverage",
    "overdue_close_dates", "skipped_stages", "stale_deals", "proposal_win_rate",
    "business_case_share", "late_stage_win_rate", "renewals_won", "social_reply_rate",
    "meetings_prepared", "meeting_next_step_rate", "interactions_with_next_step",
    "marketing_lead_conversion",
})

# -- severity and money ------------------------------------------------------------
HIGH_DEPTH = 0.25  # at most a quarter of the reference level is near-absence
MAJOR_PRACTICE_SHARE = 0.04  # target share from which a practice is a major one
HIGH_MONEY_QUOTA_SHARE = 0.10  # money at stake ≥ 10 % of quarterly quota is high
RECORD_SAMPLE = 10  # record ids per measure kept in the evidence

# When, how long and what: the concrete remedy per practice.
PLAYBOOK: dict[str, tuple[int, str, str]] = {
    "prospecting": (90, "Tue/Thu mornings", "outbound calls and emails to ICP accounts "
                    "with no open opportunity"),
    "referrals": (30, "Friday afternoons", "ask two happy customers for an introduction"),
    "icp_focus": (45, "Monday mornings", "re-tier the account list and drop non-ICP deals"),
    "qualification": (60, "Mon/Wed afternoons", "discovery calls that test need, budget, "
                      "authority and timing before any proposal"),
    "customer_understanding": (60, "Wednesday mornings", "account research and discovery "
                               "meetings on the biggest open deals"),
    "relationships": (45, "Thursday afternoons", "check-ins with a second and third contact "
                      "on each key deal"),
    "insight": (45, "Tuesday afternoons", "send one researched idea or benchmark per key "
                "account"),
    "buying_process": (45, "Wednesday afternoons", "mutual action plans with each "
                       "late-stage buyer"),
    "value_creation": (30, "after every customer call", "agree and log a dated next step"),
    "sales_process": (30, "Friday mornings", "pipeline review: next steps, close dates, "
                      "stale deals"),
    "proposals": (60, "Thursday mornings", "business cases with quantified value for each "
                  "proposal"),
    "closing": (45, "Tue/Thu afternoons", "negotiation and closing calls on late-stage deals"),
    "new_logos": (60, "Mon/Wed mornings", "meetings with non-customer accounts"),
    "account_growth": (60, "Monday afternoons", "account reviews and renewal check-ins with "
                       "key customers"),
    "social_selling": (30, "Mon/Wed/Fri mornings", "engage with buyers' posts and send "
                       "connection requests"),
    "call_planning": (20, "the afternoon before each key meeting", "write an objective, "
                      "agenda and the next step to ask for"),
    "land_and_expand": (45, "Wednesday afternoons", "expansion plans at customers landed in "
                        "the last year"),
    "marketing_alignment": (30, "Monday mornings", "follow up marketing leads the same day "
                            "and sync with marketing"),
}


def _measure_json(m: MeasureValue) -> dict[str, Any]:
    return {
        "name": m.name, "value": m.value, "unit": m.unit, "team_median": m.team_median,
        "target": m.target, "numerator": m.numerator, "denominator": m.denominator,
        "score": m.score,
        "record_ids": {t: ids[:RECORD_SAMPLE] for t, ids in m.record_ids.items()},
        "record_counts": dict(m.record_counts),
    }


class _Context(Peers):
    """What every rule needs about the team: peers, medians, the period and the model."""

    def __init__(self, scorecard: Scorecard, model: JobModel) -> None:
        super().__init__(scorecard)
        self.model = model
        # Team figures are asked for once per rep; each walks every seller, so
        # they are kept (a team of 1,000 would otherwise cost a million walks).
        self._hours: dict[str, float | None] = {}
        self._spread: dict[tuple[str, str], float] = {}
        self._mix: dict[str, float | None] = {}

    def peer_hours(self, practice: str, score: PracticeScore) -> float | None:
        """Return the team median of hours per week (the scorecard's, else computed)."""
        if score.team_median_hours_per_week is not None:
            return score.team_median_hours_per_week
        if practice not in self._hours:
            self._hours[practice] = median_of(self.values(practice, lambda s: s.hours_per_week))
        return self._hours[practice]

    def peer_spread(self, practice: str, measure_id: str) -> float:
        """Return the robust spread of peers' values (1.4826 x median absolute deviation)."""
        key = (practice, measure_id)
        if key not in self._spread:
            values = [v for v in self.values(practice, lambda s: measure_value(s, measure_id))
                      if v is not None]
            if len(values) < 3:
                self._spread[key] = 0.0
            else:
                mid = statistics.median(values)
                self._spread[key] = 1.4826 * statistics.median(abs(v - mid) for v in values)
        return self._spread[key]

    def mix(self, rep: RepScore, practice: str) -> float | None:
        """Return the practice's hours over its competing practice's hours."""
        rival = COMPETING.get(practice)
        mine, other = rep.practices.get(practice), rep.practices.get(rival or "")
        if mine is None or other is None or mine.hours_per_week is None \
                or not other.hours_per_week:
            return None
        return mine.hours_per_week / other.hours_per_week

    def peer_mix(self, practice: str) -> float | None:
        """Return the team median of :meth:`mix`."""
        if practice not in self._mix:
            self._mix[practice] = median_of(self.mix(r, practice) for r in self.sellers)
        return self._mix[practice]


def _levels(rep: RepScore, score: PracticeScore, model: JobModel) -> tuple[float | None, ...]:
    from wholejob.balance import effort_levels  # balance imports nothing from here

    return effort_levels(score, rep, model)


# -- rules -------------------------------------------------------------------------

def _neglect_rule(ctx: _Context, rep: RepScore, score: PracticeScore, h: float,
                  floor: float | None, median: float | None) -> tuple[str, float, float] | None:
    """Return (rule, reference level, neglect line) of the first neglect rule that holds."""
    if floor and median is not None and h < NEGLECT_FLOOR_FRACTION * floor \
            and h < NEGLECT_PEER_CAP * median:
        return "floor", floor, NEGLECT_FLOOR_FRACTION * floor
    if floor and median is not None and h < CORROBORATED_FLOOR_FRACTION * floor \
            and h < CORROBORATED_PEER_CAP * median and _corroborated(ctx, score):
        return "corroborated", floor, CORROBORATED_FLOOR_FRACTION * floor
    if median and h < NEGLECT_PEER_FRACTION * median and median - h >= MIN_GAP_HOURS:
        return "peers", median, NEGLECT_PEER_FRACTION * median
    rival = COMPETING.get(score.practice)
    mine, peers = ctx.mix(rep, score.practice), ctx.peer_mix(score.practice)
    if rival and mine is not None and peers and median and h < median \
            and mine <= MIX_FRACTION * peers:
        return "mix", median, h
    return None


def _low_mix_weeks(ctx: _Context, rep: RepScore, score: PracticeScore) -> int:
    """Count the weeks whose hours ratio to the competing practice is below the team's."""
    rival = rep.practices[COMPETING[score.practice]].weekly_hours
    peers = ctx.peer_mix(score.practice) or 0.0
    pairs = zip(score.weekly_hours, rival, strict=False)
    return len([1 for a, b in pairs if a is not None and b is not None and a < peers * b])


def _corroborated(ctx: _Context, score: PracticeScore) -> str | None:
    """Return what shows the shortfall in results, or None when nothing does."""
    if score.effectiveness_score is not None and score.effectiveness_score <= CORROBORATE_SCORE:
        return "effectiveness"
    mid = OUTPUT_MEASURES.get(score.practice)
    value = measure_value(score, mid)
    median = ctx.peer_measure(score.practice, mid) if mid else None
    if value is not None and median and value <= CORROBORATE_OUTPUT * median:
        return "output"
    return None


def _neglect(ctx: _Context, rep: RepScore, score: PracticeScore) -> dict[str, Any] | None:
    """Return the neglect evidence for one practice, or None when it is not neglected."""
    h = score.hours_per_week
    if h is None or ctx.model.practices[score.practice].effort == "quality":
        return None
    floor, target = _levels(rep, score, ctx.model)
    median = ctx.peer_hours(score.practice, score)
    weeks = [w for w in score.weekly_hours if w is not None]
    if len(weeks) < MIN_WEEKS:
        return None
    found = _neglect_rule(ctx, rep, score, h, floor, median)
    low_weeks = len([w for w in weeks if found is not None and w < found[1]])
    if found is not None and found[0] == "mix":
        low_weeks = _low_mix_weeks(ctx, rep, score)
    if found is None or low_weeks / len(weeks) < SUSTAINED_SHARE:
        # A recent collapse: the last weeks all below the neglect line.
        recent, before = weeks[-RECENT_RUN_WEEKS:], weeks[:-RECENT_RUN_WEEKS]
        if (not floor or median is None or len(before) < MIN_WEEKS
                or any(w >= RECENT_FLOOR_FRACTION * floor for w in recent)
                or sum(before) / len(before) < floor
                or sum(recent) / len(recent) >= NEGLECT_PEER_CAP * median):
            return None
        found = ("recent", floor, RECENT_FLOOR_FRACTION * floor)
        low_weeks = len([w for w in weeks if w < floor])
    rule, reference, line = found
    level = sum(weeks[-RECENT_RUN_WEEKS:]) / RECENT_RUN_WEEKS if rule == "recent" else h
    ev = {
        "rule": rule, "hours_per_week": round(h, 2),
        "floor_hours_per_week": _r(floor), "target_hours_per_week": _r(target),
        "team_median_hours_per_week": _r(median), "neglect_line_hours_per_week": _r(line),
        "reference_hours_per_week": _r(reference), "weeks_below_reference": low_weeks,
        "weeks_known": len(weeks), "weekly_hours": [_r(w) for w in score.weekly_hours],
        "depth": round(1.0 - level / reference, 3),
    }
    if rule == "corroborated":
        ev["corroborated_by"] = _corroborated(ctx, score)
    if rule == "mix":
        ev.update(competing_practice=COMPETING[score.practice],
                  hours_ratio=_r(ctx.mix(rep, score.practice), 3),
                  team_median_hours_ratio=_r(ctx.peer_mix(score.practice), 3))
    return ev


def _overinvest(ctx: _Context, rep: RepScore, score: PracticeScore) -> dict[str, Any] | None:
    """Return the overinvestment evidence for one practice, or None."""
    h = score.hours_per_week
    if h is None or ctx.model.practices[score.practice].effort == "quality":
        return None
    _, target = _levels(rep, score, ctx.model)
    median = ctx.peer_hours(score.practice, score)
    norm = max(target or 0.0, median or 0.0)
    if norm <= 0 or h < OVER_FACTOR * norm or h - norm < MIN_EXCESS_HOURS:
        return None
    evidence: dict[str, Any] = {
        "hours_per_week": round(h, 2), "norm_hours_per_week": round(norm, 2),
        "target_hours_per_week": _r(target), "team_median_hours_per_week": _r(median),
        "times_norm": round(h / norm, 2),
    }
    basis = _diminishing(ctx, score, h, median)
    if basis is None:
        return None
    evidence.update(basis)
    return evidence


def _diminishing(ctx: _Context, score: PracticeScore, h: float,
                 median: float | None) -> dict[str, Any] | None:
    """Return the first sign that the extra hours pay less, or None when none shows."""
    mid = OUTPUT_MEASURES.get(score.practice)
    value, peers = measure_value(score, mid), ctx.peer_measure(score.practice, mid) if mid else None
    if value is not None and peers and median:
        # Output multiple over hours multiple: below 1, each hour earns less than peers'.
        ret = (value / peers) / (h / median)
        if ret <= DIMINISHING_RATIO:
            return {"basis": "output_per_hour", "output_measure": mid,
                    "output": _r(value), "team_median_output": _r(peers),
                    "return_vs_peers": round(ret, 3)}
    for m in score.measures:
        med = m.team_median if m.team_median is not None else ctx.peer_measure(
            score.practice, m.measure_id)
        if (m.unit == "ratio" and m.value is not None and med is not None
                and m.measure_id not in DIFFERENCE_MEASURES
                and (m.value < med if m.higher_is_better else m.value > med)):
            return {"basis": "quality_rate", "rate_measure": m.measure_id,
                    "rate": _r(m.value, 4), "team_median_rate": _r(med, 4)}
    eff = score.effectiveness_score
    if eff is not None and eff <= OVER_EFFECTIVENESS_PAR:
        return {"basis": "effectiveness", "effectiveness_score": eff}
    if median and h >= EXTREME_FACTOR * median:
        return {"basis": "extreme", "times_team_median": round(h / median, 2)}
    return None


def _ineffective(ctx: _Context, rep: RepScore, score: PracticeScore) -> dict[str, Any] | None:
    """Return the ineffectiveness evidence for one practice, or None."""
    eff = score.effectiveness_score
    if eff is None or eff > INEFFECTIVE_SCORE_MAX or len(ctx.sellers) < MIN_PEERS:
        return None
    if ctx.model.practices[score.practice].effort != "quality":
        floor, _ = _levels(rep, score, ctx.model)
        h = score.hours_per_week
        if h is None or h <= 0 or (floor and h < NEGLECT_FLOOR_FRACTION * floor):
            return None  # no effort to speak of: that is neglect, not ineffectiveness
    gaps = []
    for m in score.measures:
        median = m.team_median if m.team_median is not None else ctx.peer_measure(
            score.practice, m.measure_id)
        if (m.value is None or median is None or m.measure_id not in COUNT_RATES
                or (m.denominator or 0.0) < MIN_VOLUME):
            continue
        gap = _relative_gap(m.value, median, m.higher_is_better)
        spread = ctx.peer_spread(score.practice, m.measure_id)
        z = _z_below(m.value, median, m.denominator or 0.0, m.higher_is_better, spread)
        if gap is not None and gap >= MATERIAL_GAP and z >= MIN_Z:
            gaps.append((gap, m, median))
    if not gaps:
        return None
    gaps.sort(key=lambda g: -g[0])
    gap, worst, median = gaps[0]
    return {
        "effectiveness_score": eff, "hours_per_week": _r(score.hours_per_week),
        "worst_measure": worst.measure_id, "value": _r(worst.value, 4),
        "team_median": _r(median, 4), "gap": round(gap, 3), "volume": worst.denominator,
        "measures_trailing": [g[1].measure_id for g in gaps],
    }


def _z_below(value: float, median: float, n: float, higher_is_better: bool,
             spread: float) -> float:
    """Return how many standard errors the rate trails the team median by.

    The error is the larger of the binomial error of the rep's own count and the
    spread of the peers' rates (reps differ more than coin flips do).
    """
    p = min(max(median, 0.02), 0.98)  # keep the error finite at rates of 0 or 1
    se = max(math.sqrt(p * (1 - p) / n), spread)
    return ((median - value) if higher_is_better else (value - median)) / se


def _relative_gap(value: float, median: float, higher_is_better: bool) -> float | None:
    """Return how far the value trails the median, as a share of the median's scale."""
    scale = max(abs(median), 1e-9)
    gap = (median - value) if higher_is_better else (value - median)
    return gap / scale if scale > 1e-6 else None


def _r(x: float | None, nd: int = 2) -> float | None:
    return None if x is None else round(x, nd)


# -- assembling findings -----------------------------------------------------------

def _half_hours(x: float) -> float:
    return max(0.5, math.ceil(x * 2) / 2)


def _name(model: JobModel, practice: str) -> str:
    return model.practices[practice].name.lower()


def _neglect_finding(ctx: _Context, rep: RepScore, practice: str,
                     ev: dict[str, Any]) -> Finding:
    model, name = ctx.model, _name(ctx.model, practice)
    reference = ev["reference_hours_per_week"]
    yardstick = "team median" if ev["rule"] in ("peers", "mix") else "floor"
    if ev["rule"] == "mix":
        rival = _name(model, ev["competing_practice"])
        lead = (f"{name} at {ev['hours_per_week']:.1f} h/week is {ev['hours_ratio']:.2f}x the "
                f"time on {rival} (team median {ev['team_median_hours_ratio']:.2f}x), below the "
                f"team's ratio in {ev['weeks_below_reference']} of {ev['weeks_known']} weeks")
    elif ev["rule"] == "recent":
        lead = (f"{name} collapsed to under {ev['neglect_line_hours_per_week']:.1f} h/week in "
                f"each of the last {RECENT_RUN_WEEKS} weeks (floor {reference:.1f})")
    else:
        lead = (f"{name} at {ev['hours_per_week']:.1f} h/week against a {yardstick} of "
                f"{reference:.1f}, below it in {ev['weeks_below_reference']} of "
                f"{ev['weeks_known']} weeks")
    text, money = consequence(ctx, rep, practice)
    minutes, when, how = PLAYBOOK[practice]
    need = _half_hours(reference - ev["hours_per_week"])
    blocks = max(1, math.ceil(need * 60 / minutes))
    rec = (f"block {blocks} x {minutes} min of {name} on {when} ({how}) to reach the "
           f"{reference:.1f} h/week {yardstick}")
    depth = ev["depth"]
    major = (model.practices[practice].target_share or 0) >= MAJOR_PRACTICE_SHARE
    severity = ("high" if (depth >= 1 - HIGH_DEPTH and major) or _big(rep, money)
                else "medium" if depth >= 0.5 or major else "low")
    return Finding(rep.rep_id, practice, "neglected", severity,
                   _evidence(rep, practice, ev), "; ".join([lead, *text]), rec,
                   _money(money))


def _over_finding(ctx: _Context, rep: RepScore, practice: str, ev: dict[str, Any],
                  destination: str | None) -> Finding:
    name = _name(ctx.model, practice)
    h, norm = ev["hours_per_week"], ev["norm_hours_per_week"]
    lead = f"{name} at {h:.1f} h/week, {ev['times_norm']:.1f}x the norm of {norm:.1f}"
    if ev["basis"] == "output_per_hour":
        back = (f"each hour returns {ev['return_vs_peers']:.0%} of what peers' hours return "
                f"({ev['output_measure'].replace('_', ' ')})")
        severity = ("high" if ev["times_norm"] >= 4 and ev["return_vs_peers"] <= 0.5
                    else "medium")
    elif ev["basis"] == "quality_rate":
        back = (f"{ev['rate_measure'].replace('_', ' ')} {ev['rate']:.1%} is below the team's "
                f"{ev['team_median_rate']:.1%}: more volume, lower quality per touch")
        severity = "medium"
    elif ev["basis"] == "extreme":
        back = (f"{ev['times_team_median']:.1f}x the team median, where the marginal hour "
                "returns little even though the average hour still looks good")
        severity = "low"
    else:
        back = (f"effectiveness {ev['effectiveness_score']:.0f}/100 is no better than peers "
                "who spend far less")
        severity = "low"
    freed = max(0.5, round(h - 1.5 * norm, 1))
    excess = h - norm
    cons = (f"{lead}; {back}; the {excess:.1f} h/week beyond the norm "
            f"({excess * QUARTER_WEEKS:.0f} h next quarter) earn less than the same hours "
            f"elsewhere")
    dest = (f" to {_name(ctx.model, destination)}" if destination
            else " to the practices below target")
    rec = f"cap {name} at {1.5 * norm:.1f} h/week and move the freed {freed:.1f} h{dest}"
    return Finding(rep.rep_id, practice, "overinvested", severity,
                   _evidence(rep, practice, ev), cons, rec, None)


COACHING: dict[str, str] = {
    "qualification": "review the last lost deals with your manager and add exit criteria "
                     "to discovery",
    "closing": "role-play negotiation with your manager before each late-stage call",
    "proposals": "have a peer review every proposal's business case before it is sent",
    "prospecting": "rework the outreach sequence with the team's best prospector",
}


def _ineffective_finding(ctx: _Context, rep: RepScore, practice: str,
                         ev: dict[str, Any]) -> Finding:
    name = _name(ctx.model, practice)
    score = rep.practices[practice]
    worst = score.measure(ev["worst_measure"])
    assert worst is not None
    lead = (f"{name} effectiveness {ev['effectiveness_score']:.0f}/100: "
            f"{worst.name.lower()} {show(worst, ev['value'], ctx.currency)} against a team "
            f"median of {show(worst, ev['team_median'], ctx.currency)} over "
            f"{ev['volume']:.0f} records")
    text, money = consequence(ctx, rep, practice)
    coach = COACHING.get(practice, f"pair with the team's strongest rep in {name} and review "
                                   f"{worst.name.lower()} together every week")
    rec = f"{coach}; keep the {ev['hours_per_week'] or 0:.1f} h/week but change how they are spent"
    severity = ("high" if (ev["gap"] >= 0.6 and (ev["volume"] or 0) >= 2 * MIN_VOLUME)
                or _big(rep, money) else "medium" if ev["gap"] >= 0.5 else "low")
    return Finding(rep.rep_id, practice, "ineffective", severity,
                   _evidence(rep, practice, ev), "; ".join([lead, *text]), rec, _money(money))


def _big(rep: RepScore, money: float | None) -> bool:
    return bool(money and rep.quota and money >= HIGH_MONEY_QUOTA_SHARE * rep.quota / 4)


def _money(x: float | None) -> float | None:
    return None if x is None or x <= 0 else round(x, -2) if x >= 1000 else round(x, 2)


def _evidence(rep: RepScore, practice: str, ev: dict[str, Any]) -> dict[str, Any]:
    score = rep.practices[practice]
    return {
        **ev,
        "effectiveness_score": score.effectiveness_score,
        "measures": {m.measure_id: _measure_json(m) for m in score.measures},
        "activity_ids_sample": score.activity_ids_sample[:RECORD_SAMPLE],
    }


def _destination(rep: RepScore, model: JobModel, skip: str,
                 neglected: list[str]) -> str | None:
    """Return where freed hours should go: a neglected practice, else the biggest drag."""
    if neglected:
        return neglected[0]
    from wholejob.balance import balance_profile

    ranked = sorted((b for b in balance_profile(rep, model)
                     if b.practice != skip and b.effort_shortfall),
                    key=lambda b: -(b.effort_shortfall or 0) * b.weight)
    return ranked[0].practice if ranked else None


def diagnose(scorecard: Scorecard, model: JobModel) -> list[Finding]:
    """Return every rep's findings, most severe first, then by money at stake.

    At most one finding per rep and practice: neglect wins over ineffectiveness
    (little effort explains poor results). Managers are not diagnosed.
    """
    ctx = _Context(scorecard, model)
    out: list[Finding] = []
    for rep in ctx.sellers:
        neglected: list[tuple[str, dict[str, Any]]] = []
        over: list[tuple[str, dict[str, Any]]] = []
        for pid in model.selling_ids:
            score = rep.practices.get(pid)
            if score is None:
                continue
            if (ev := _neglect(ctx, rep, score)) is not None:
                neglected.append((pid, ev))
            elif (ev := _overinvest(ctx, rep, score)) is not None:
                over.append((pid, ev))
            elif (ev := _ineffective(ctx, rep, score)) is not None:
                out.append(_ineffective_finding(ctx, rep, pid, ev))
        names = [pid for pid, _ in sorted(neglected, key=lambda x: -x[1]["depth"])]
        out += [_neglect_finding(ctx, rep, pid, ev) for pid, ev in neglected]
        out += [_over_finding(ctx, rep, pid, ev, _destination(rep, model, pid, names))
                for pid, ev in over]
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    out.sort(key=lambda f: (rank[f.severity], -(f.money_at_stake or 0.0), f.rep_id, f.practice))
    return out


def findings_json(findings: list[Finding]) -> dict[str, Any]:
    """Return the design's JSON: ``{"findings": [...]}``."""
    return {"findings": [f.to_json() for f in findings]}
