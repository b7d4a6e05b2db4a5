"""Consequences: what a neglected or ineffective practice threatens, in words and money.

Each finding states what its problem puts at risk downstream, using the
scorecard's own measures: pipeline created against pipeline needed for quota
coverage (prospecting, referrals, social selling), time and deals sunk in deals
later lost (qualification), renewals at risk (account growth), new-logo bookings
against target, and rate gaps turned into bookings for proposals and closing.
Money is estimated only where the scorecard holds the figures; every formula is
in ``docs/findings.md``.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any

from wholejob.scorecard import Finding, MeasureValue, PracticeScore, RepScore, Scorecard

if TYPE_CHECKING:
    from wholejob.workspace import Workspace

__all__ = [
    "OUTPUT_MEASURES",
    "QUARTER_WEEKS",
    "Peers",
    "attach_forecast_consequences",
    "consequence",
    "format_money",
    "measure_value",
    "median_of",
    "show",
]

QUARTER_WEEKS = 13  # consequences are stated for the next quarter
# A rep's own win rate turns pipeline into bookings only with enough closed deals;
# below that the team's median win rate stands in.
MIN_DEALS = 10

# The measure whose value is the practice's output, for output per hour.
OUTPUT_MEASURES: dict[str, str] = {
    "prospecting": "self_sourced_pipeline",
    "referrals": "referral_pipeline",
    "social_selling": "social_sourced_pipeline",
    "new_logos": "new_customers_won",
    "land_and_expand": "expansion_from_recent_lands",
    "closing": "bookings_vs_quota",
}


def median_of(values: Iterable[float | None]) -> float | None:
    """Return the median of the known values, None when there are none."""
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def format_money(amount: float | None, currency: str) -> str:
    """Return an amount as ``USD 12k``, ``-EUR 1.2M``; ``?`` when unknown."""
    if amount is None:
        return "?"
    a = abs(amount)
    text = f"{a / 1e6:.1f}M" if a >= 1e6 else f"{a / 1e3:.0f}k" if a >= 1e3 else f"{a:.0f}"
    return f"{'-' if amount < 0 else ''}{currency} {text}"


def measure_value(score: PracticeScore, measure_id: str | None) -> float | None:
    """Return the value of a practice's measure, None when absent or unknown."""
    m = score.measure(measure_id) if measure_id else None
    return m.value if m is not None else None




class Peers:
    """The sellers of a scorecard (managers excluded), their currency and period."""

    def __init__(self, scorecard: Scorecard) -> None:
        self.scorecard = scorecard
        self.sellers = [r for r in scorecard.reps if r.role != "manager"]
        self.currency = scorecard.currency
        self.n_weeks = max(1, len(scorecard.weeks))
        self._medians: dict[tuple[str, str], float | None] = {}
        self._figures: dict[str, float | None] = {}

    def values(self, practice: str,
               get: Callable[[PracticeScore], float | None]) -> list[float | None]:
        """Return ``get`` applied to every seller's score on the practice."""
        out = []
        for rep in self.sellers:
            s = rep.practices.get(practice)
            out.append(get(s) if s is not None else None)
        return out

    def peer_measure(self, practice: str, measure_id: str) -> float | None:
        """Return the team median of a measure (the scorecard's, else computed)."""
        key = (practice, measure_id)
        if key not in self._medians:  # asked for once per rep: walk the sellers once
            self._medians[key] = self._peer_measure(practice, measure_id)
        return self._medians[key]

    def team_figure(self, name: str, compute: Callable[[], float | None]) -> float | None:
        """Return a team-wide figure, computed on first use (rules ask once per rep)."""
        if name not in self._figures:
            self._figures[name] = compute()
        return self._figures[name]

    def _peer_measure(self, practice: str, measure_id: str) -> float | None:
        for rep in self.sellers:
            s = rep.practices.get(practice)
            m = s.measure(measure_id) if s else None
            if m is not None and m.team_median is not None:
                return m.team_median
        return median_of(self.values(practice, lambda s: measure_value(s, measure_id)))


def _measure(rep: RepScore, practice: str, measure_id: str) -> MeasureValue | None:
    s = rep.practices.get(practice)
    return s.measure(measure_id) if s is not None else None


def _win_rate(ctx: Peers, rep: RepScore) -> float | None:
    """Return the rep's win rate, else the team's: turns pipeline into expected bookings."""
    m = _measure(rep, "qualification", "win_rate")
    if m is not None and m.value is not None and (m.denominator or 0) >= MIN_DEALS:
        return m.value
    return ctx.peer_measure("qualification", "win_rate")


def _avg_deal(ctx: Peers, rep: RepScore) -> float | None:
    """Return the rep's average won deal (won amount / won count), else the team median."""
    def one(r: RepScore) -> float | None:
        booked = _measure(r, "closing", "bookings_vs_quota")
        won = _measure(r, "qualification", "win_rate")
        if booked is None or won is None or not booked.numerator or not won.numerator:
            return None
        return booked.numerator / won.numerator
    return one(rep) or ctx.team_figure("avg_deal", lambda: median_of(one(r) for r in ctx.sellers))


def _per_quarter(ctx: Peers, m: MeasureValue, amount: float) -> float:
    """Scale a period amount to a quarter (per-week measures are already weekly)."""
    weeks = 1 if m.unit == "per_week" else ctx.n_weeks
    return amount * QUARTER_WEEKS / weeks


def _vs(ctx: Peers, rep: RepScore, practice: str, mid: str) -> tuple[
        MeasureValue | None, float | None]:
    m = _measure(rep, practice, mid)
    if m is None or m.value is None:
        return None, None
    median = m.team_median if m.team_median is not None else ctx.peer_measure(practice, mid)
    return m, median


def show(m: MeasureValue, x: float | None, currency: str) -> str:
    if x is None:
        return "?"
    if m.unit == "ratio":
        return f"{x:.0%}"
    if m.unit == "currency":
        return format_money(x, currency)
    if m.unit == "days":
        return f"{x:.0f} days"
    return f"{x:.3g}"


def _pipeline_consequence(ctx: Peers, rep: RepScore, practice: str) -> tuple[
        list[str], float | None]:
    """Pipeline a neglected generating practice fails to create, and its bookings."""
    cur, wr = ctx.currency, _win_rate(ctx, rep)
    mid = OUTPUT_MEASURES[practice]
    m, median = _vs(ctx, rep, practice, mid)
    text: list[str] = []
    money = None
    if m is not None:
        per = "/week" if m.unit == "per_week" else " in the period"
        text.append(f"{m.name.lower()} {format_money(m.value, cur)}{per} "
                    f"(team median {format_money(median, cur)})")
        if median is not None and m.value is not None and median > m.value and wr is not None:
            money = _per_quarter(ctx, m, median - m.value) * wr
    need = _measure(rep, practice, "pipeline_vs_needed")
    if need is not None and need.value is not None:
        text.append(f"{need.value:.0%} of the pipeline needed for quota coverage"
                    + (f" ({format_money(need.numerator, cur)} created of "
                       f"{format_money(need.denominator, cur)} needed)"
                       if need.numerator is not None and need.denominator else ""))
        if need.denominator and need.numerator is not None and wr is not None:
            money = max(0.0, need.denominator - need.numerator) * wr
    if money is not None and wr is not None:
        text.append(f"expected bookings next quarter {format_money(-money, cur)} "
                    f"at a {wr:.0%} win rate")
    return text, money


def _rate_consequence(ctx: Peers, rep: RepScore, practice: str, mid: str,
                      what: str) -> tuple[list[str], float | None]:
    """A rate below the team's, and the bookings the gap costs over a quarter."""
    m, median = _vs(ctx, rep, practice, mid)
    if m is None or m.value is None:
        return [], None
    text = [f"{what} {show(m, m.value, ctx.currency)} (team median "
            f"{show(m, median, ctx.currency)}"
            + (f", {m.numerator:.0f} of {m.denominator:.0f})" if m.denominator else ")")]
    deal = _avg_deal(ctx, rep)
    if median is None or not m.denominator or deal is None or median <= m.value:
        return text, None
    money = (median - m.value) * m.denominator * deal * QUARTER_WEEKS / ctx.n_weeks
    text.append(f"at the team's rate that is {format_money(money, ctx.currency)} more "
                "bookings a quarter")
    return text, money


def consequence(ctx: Peers, rep: RepScore, practice: str) -> tuple[list[str], float | None]:
    """Return what the problem threatens downstream, in words and numbers, and money."""
    cur = ctx.currency
    if practice in ("prospecting", "referrals", "social_selling"):
        return _pipeline_consequence(ctx, rep, practice)
    if practice == "qualification":
        text: list[str] = []
        late = _measure(rep, practice, "late_stage_loss_share")
        if late is not None and late.value is not None and late.denominator:
            text.append(f"{late.numerator or 0:.0f} of {late.denominator:.0f} lost deals died at "
                        f"proposal or later ({late.value:.0%})")
        days, dmed = _vs(ctx, rep, practice, "days_on_lost_deals")
        if days is not None:
            text.append(f"{show(days, days.value, cur)} sunk in each deal later lost "
                        f"(team median {show(days, dmed, cur)})")
        more, money = _rate_consequence(ctx, rep, practice, "win_rate", "win rate")
        return text + more, money
    if practice == "account_growth":
        ret = _measure(rep, practice, "gross_retention")
        if ret is not None and ret.denominator and ret.numerator is not None:
            risk = max(0.0, ret.denominator - ret.numerator)
            due = format_money(ret.denominator, cur)
            return [f"renewals at risk {format_money(risk, cur)} of {due} due "
                    f"(gross retention {ret.value or 0:.0%})"], risk or None
        return _rate_consequence(ctx, rep, practice, "renewals_won", "renewal win rate")
    if practice in ("new_logos", "land_and_expand"):
        m, median = _vs(ctx, rep, practice, OUTPUT_MEASURES[practice])
        if m is None or m.value is None:
            return [], None
        goal = m.target if m.target is not None else median
        gap = goal - m.value if goal is not None and goal > m.value else None
        won_money = practice == "new_logos" and m.unit == "currency"
        money = gap if won_money else None
        return [f"{m.name.lower()} {show(m, m.value, cur)} against "
                f"{'target' if m.target is not None else 'team median'} "
                f"{show(m, goal, cur)}"], money
    rates = {"proposals": ("proposal_win_rate", "proposal win rate"),
             "closing": ("late_stage_win_rate", "late-stage win rate")}
    if practice in rates:
        return _rate_consequence(ctx, rep, practice, *rates[practice])
    # Every other practice: its measures against the team, no money estimate.
    score = rep.practices[practice]
    text = []
    for m in score.measures:
        if m.value is not None:
            med = m.team_median if m.team_median is not None else ctx.peer_measure(
                practice, m.measure_id)
            text.append(f"{m.name.lower()} {show(m, m.value, cur)} "
                        f"(team median {show(m, med, cur)})")
    return text[:3], None


# -- forecast consequences ---------------------------------------------------------
# The gap "shows" in the first week the pipeline as things are runs dry (below the
# required coverage) while at the floor it does not, or the p50 open pipeline
# trails the one at the floor by 5 %, or p50 cumulative bookings trail by 2 %:
# differences a manager would see in a pipeline review, not rounding noise.
GAP_SHOWS_PIPELINE = 0.05
GAP_SHOWS_BOOKINGS = 0.02
_SEVERITY_RANK = {"high": 0, "medium": 1, "low": 2}


def _money_at_stake(x: float) -> float | None:
    return None if x <= 0 else round(x, -2) if x >= 1000 else round(x, 2)


def _end_q(values: Any, q: float) -> float:
    import numpy as np

    return float(np.quantile(np.asarray(values, dtype=np.float64), q))


def attach_forecast_consequences(
    findings: list[Finding],
    ws: Workspace,
    *,
    weeks: int = QUARTER_WEEKS,
    paths: int = 2000,
    seed: int = 0,
    as_of: date | None = None,
    required_coverage: float = 3.0,
) -> list[Finding]:
    """Return the findings with the forecast's bookings and coverage, now vs at the floor.

    For every *neglected* finding the rep is forecast twice with the same seed
    and paths (common random numbers): as things are, and with the practice's
    hours raised to the finding's reference level (floor or team median) via a
    what-if of ``reference - hours``. ``evidence["forecast"]`` gets the p50
    cumulative bookings at the horizon, the gap, the coverage at the horizon
    (p50 open pipeline / a quarter's quota) and ``gap_shows_week``;
    ``money_at_stake`` becomes the mean paired bookings difference when the
    practice moves the forecast. Other findings, reps outside the forecast and
    workspaces without activities pass through unchanged. The result is sorted
    like :func:`wholejob.findings.diagnose` (severity, then money at stake).
    """
    import numpy as np

    from wholejob.forecast import PipelineForecaster, load_snapshot
    from wholejob.forecast.data import ForecastDataError

    todo = {id(f) for f in findings if f.kind == "neglected"
            and f.evidence.get("reference_hours_per_week") is not None}
    if not todo:
        return list(findings)
    try:
        snap = load_snapshot(ws, as_of)
    except ForecastDataError:
        return list(findings)
    model = PipelineForecaster().fit(snap)
    if not model.has_effort_:
        return list(findings)
    base_cache: dict[str, Any] = {}
    cur = ws.config.currency
    out: list[Finding] = []
    for f in findings:
        if id(f) not in todo or f.rep_id not in snap.rep_ids or f.practice not in model.practices_:
            out.append(f)
            continue
        r = snap.rep_index(f.rep_id)
        quarter_quota = float(snap.quota[r]) * 13 / 52 if np.isfinite(snap.quota[r]) else None
        if f.rep_id not in base_cache:
            base_cache[f.rep_id] = model.simulate(weeks, paths, seed, reps=[f.rep_id],
                                                  rep_quantiles=False)
        base = base_cache[f.rep_id]
        add = max(0.0, float(f.evidence["reference_hours_per_week"])
                  - float(f.evidence.get("hours_per_week") or 0.0))
        alt = model.simulate(weeks, paths, seed, {f.practice: add}, reps=[f.rep_id],
                             rep_quantiles=False)
        info = _forecast_evidence(base, alt, add, weeks, quarter_quota, required_coverage)
        ev = {**f.evidence, "forecast": info}
        money = f.money_at_stake
        if info["mean_gap"] > 0:
            ev["forecast"]["money_at_stake_scorecard"] = money
            money = _money_at_stake(info["mean_gap"])
        now = format_money(info["bookings_p50_now"], cur)
        at_floor = format_money(info["bookings_p50_at_floor"], cur)
        text = (f"forecast over {weeks} weeks: bookings p50 {now} as things are vs {at_floor} with "
                f"{add:.1f} h/week more"
                + (f", the gap shows in week {info['gap_shows_week']}"
                   if info["gap_shows_week"] else ""))
        out.append(replace(f, evidence=ev, money_at_stake=money,
                           consequence=f"{f.consequence}; {text}"))
    out.sort(key=lambda f: (_SEVERITY_RANK.get(f.severity, 3), -(f.money_at_stake or 0.0),
                            f.rep_id, f.practice))
    return out


def _forecast_evidence(base: Any, alt: Any, add: float, weeks: int,
                       quarter_quota: float | None, required: float) -> dict[str, Any]:
    """Return the forecast figures of one finding from the two simulations."""
    import numpy as np

    b0, b1 = base.team_bookings[:, -1], alt.team_bookings[:, -1]
    p0 = np.quantile(base.team_pipeline, 0.5, axis=0)  # p50 open pipeline per week
    p1 = np.quantile(alt.team_pipeline, 0.5, axis=0)
    c0 = np.quantile(base.team_bookings, 0.5, axis=0)  # p50 cumulative bookings per week
    c1 = np.quantile(alt.team_bookings, 0.5, axis=0)
    now, at_floor = _end_q(b0, 0.5), _end_q(b1, 0.5)

    def cover(p: Any) -> float | None:
        return round(float(p[-1]) / quarter_quota, 3) if quarter_quota else None

    shows: int | None = None
    need = required * quarter_quota if quarter_quota else None
    for t in range(weeks):
        dry_now = need is not None and p0[t] < need <= p1[t]
        trails = p1[t] > 0 and (p1[t] - p0[t]) >= GAP_SHOWS_PIPELINE * p1[t]
        behind = c1[t] > 0 and (c1[t] - c0[t]) >= GAP_SHOWS_BOOKINGS * c1[t]
        if dry_now or trails or behind:
            shows = t + 1
            break
    diff = np.asarray(b1, dtype=np.float64) - np.asarray(b0, dtype=np.float64)
    return {
        "weeks": weeks,
        "added_hours_per_week": round(add, 2),
        "bookings_p50_now": round(now, 2),
        "bookings_p50_at_floor": round(at_floor, 2),
        "gap": round(at_floor - now, 2),
        "mean_gap": round(float(diff.mean()), 2),
        "open_pipeline_p50_now": round(float(p0[-1]), 2),
        "open_pipeline_p50_at_floor": round(float(p1[-1]), 2),
        "open_pipeline_gap": round(float(p1[-1] - p0[-1]), 2),
        "coverage_now": cover(p0),
        "coverage_at_floor": cover(p1),
        "gap_shows_week": shows,
    }
