"""The allocation optimiser: the weekly hours per practice that maximise expected bookings.

The problem is

    maximise  f(x)   subject to   sum(x) <= budget,   lower <= x <= upper

with ``f`` the expected bookings over the horizon (concave in each practice's
hours by construction of the response curves), ``lower`` the larger of the
practice's floor and today's hours minus the move limit, ``upper`` today's hours
plus the move limit (never below the floor: a floor is reached even when that
takes a bigger move). :func:`maximise` solves it with SLSQP from two feasible
starts and keeps the better; the tests check it against hand-computed
water-filling optima of small concave problems.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize

from wholejob.errors import PlanError
from wholejob.forecast import PipelineForecaster, current_allocation
from wholejob.jobmodel import OTHER, JobModel, load_job_model
from wholejob.plan.curves import PRIOR_WEIGHT, BookingsObjective, PracticeCurve, practice_curves

__all__ = ["AllocationOptimizer", "OptimumResult", "PlanError", "feasible_start", "maximise"]

FloatArray = npt.NDArray[np.float64]
DEFAULT_WEEKLY_HOURS = 40.0  # the data contract's default for reps.weekly_hours


@dataclass(frozen=True)
class OptimumResult:
    """The solution of :func:`maximise`: the point, its value and whether SLSQP converged."""

    x: FloatArray
    value: float
    converged: bool
    message: str


def feasible_start(x: FloatArray, lower: FloatArray, upper: FloatArray, budget: float
                   ) -> FloatArray:
    """Return ``x`` clipped into the box and shrunk towards ``lower`` to fit the budget."""
    y = np.clip(x, lower, upper)
    if y.sum() > budget:
        slack, room = y.sum() - lower.sum(), budget - lower.sum()
        y = lower + (y - lower) * (room / slack if slack > 0 else 0.0)
    return np.asarray(y)


def maximise(
    fun: Callable[[FloatArray], float],
    grad: Callable[[FloatArray], FloatArray],
    lower: FloatArray,
    upper: FloatArray,
    budget: float,
    x0: FloatArray | None = None,
) -> OptimumResult:
    """Maximise a concave ``fun`` over ``lower <= x <= upper``, ``sum(x) <= budget``.

    SLSQP runs from ``x0`` (made feasible) and from the point that spreads the
    budget over the box in proportion to each variable's room; the better
    solution wins. The objective is scaled by its value at the start so the
    solver's tolerances are relative. Raises :class:`PlanError` when the floors
    alone exceed the budget or a lower bound exceeds its upper bound.
    """
    lower, upper = np.asarray(lower, float), np.asarray(upper, float)
    if (lower > upper + 1e-12).any():
        raise PlanError("a lower bound is above its upper bound")
    if lower.sum() > budget + 1e-9:
        raise PlanError(f"floors need {lower.sum():.1f} h/week, more than the "
                        f"{budget:.1f} h/week available")
    room = upper - lower
    spare = min(budget - lower.sum(), room.sum())
    spread = lower + room * (spare / room.sum() if room.sum() > 0 else 0.0)
    starts = [spread] if x0 is None else [feasible_start(np.asarray(x0, float), lower,
                                                          upper, budget), spread]
    scale = max(abs(fun(starts[0])), 1e-12)
    ones = np.ones(len(lower))
    cons = [{"type": "ineq", "fun": lambda x: budget - x.sum(), "jac": lambda x: -ones}]
    best: OptimumResult | None = None
    for s in starts:
        res = minimize(lambda x: -fun(x) / scale, s, jac=lambda x: -grad(x) / scale,
                       method="SLSQP", bounds=list(zip(lower, upper, strict=True)),
                       constraints=cons, options={"ftol": 1e-12, "maxiter": 300})
        x = feasible_start(np.asarray(res.x), lower, upper, budget)
        cand = OptimumResult(x, fun(x), bool(res.success), str(res.message))
        if best is None or cand.value > best.value:
            best = cand
    assert best is not None
    return best


class AllocationOptimizer:
    """Rebalances one rep's weekly hours to maximise expected bookings over ``weeks``.

    ``capacity_weight`` is how much of the rep's free capacity the plan may fill:
    the budget is ``logged + capacity_weight * (capacity - logged)`` where
    ``capacity = weekly_hours - other hours`` and ``logged`` the current selling
    hours (1 uses the whole capacity, 0 only rebalances today's hours). Each
    practice may move by at most ``max(max_move, max_move_share * current)``
    hours a week, and never sits below its floor (``floor_share x capacity``).
    With ``check`` the plan is simulated against the current allocation with the
    same seed and paths (common random numbers) and kept only if it is no worse
    on average; ``gain_`` holds the paired difference's quantiles.

    Fitted attributes: ``practices_``, ``current_``, ``allocation_``, ``floors_``,
    ``bounds_``, ``capacity_``, ``expected_bookings_``, ``marginal_values_``,
    ``curves_``, ``gain_``, ``no_worse_``, ``converged_``, ``notes_``.
    """

    def __init__(
        self,
        weeks: int = 26,
        capacity_weight: float = 1.0,
        max_move: float = 3.0,
        max_move_share: float = 0.3,
        prior_weight: float = PRIOR_WEIGHT,
        check: bool = True,
        paths: int = 2000,
        seed: int = 0,
    ) -> None:
        self.weeks = weeks
        self.capacity_weight = capacity_weight
        self.max_move = max_move
        self.max_move_share = max_move_share
        self.prior_weight = prior_weight
        self.check = check
        self.paths = paths
        self.seed = seed

    def _validate(self) -> None:
        if not 1 <= self.weeks <= 104:
            raise PlanError("weeks must be between 1 and 104")
        if not 0.0 <= self.capacity_weight <= 1.0:
            raise PlanError("capacity_weight must be between 0 and 1")
        if self.max_move < 0 or self.max_move_share < 0:
            raise PlanError("move limits must not be negative")

    def fit(self, forecaster: PipelineForecaster, rep_id: str, *,
            weekly_hours: float | None = None, job_model: JobModel | None = None
            ) -> AllocationOptimizer:
        """Find the rep's best weekly allocation with a fitted forecaster and return self."""
        self._validate()
        model = forecaster
        jm = job_model or load_job_model()
        if not model.has_effort_:
            raise PlanError("the workspace has no activities: hours per practice are unknown, "
                            "so there is nothing to rebalance")
        cur_all = current_allocation(model, rep_id)
        self.curves_: dict[str, PracticeCurve] = practice_curves(
            model, rep_id, jm, self.prior_weight, model.prior_elasticity)
        obj = BookingsObjective(model, rep_id, self.weeks, self.curves_)
        self.practices_ = obj.practices
        cur = obj.current
        notes: list[str] = []
        hours = DEFAULT_WEEKLY_HOURS if weekly_hours is None else float(weekly_hours)
        other = cur_all.get(OTHER, 0.0)
        capacity = max(hours - other, 0.0)
        logged = float(cur.sum())
        budget = logged + self.capacity_weight * (capacity - logged)
        floors = np.array([(jm.practices[p].floor_share or 0.0) * capacity
                           for p in self.practices_])
        limit = np.maximum(self.max_move, self.max_move_share * cur)
        lower = np.maximum(floors, np.maximum(cur - limit, 0.0))
        upper = np.maximum(cur + limit, floors)
        if lower.sum() > budget:
            notes.append(f"floors and move limits need {lower.sum():.1f} h/week, more than "
                         f"the {budget:.1f} h/week budget; the budget is raised to them")
            budget = float(lower.sum())
        opt = maximise(obj.value, obj.gradient, lower, upper, budget, cur)
        x = opt.x
        self.converged_ = opt.converged
        if not opt.converged:
            notes.append(f"optimiser: {opt.message}")
        eb_now = obj.value(cur)
        feasible_now = bool((cur >= lower - 1e-9).all() and (cur <= upper + 1e-9).all()
                            and cur.sum() <= budget + 1e-9)
        if feasible_now and eb_now > opt.value:
            x = cur.copy()  # today's hours are feasible and at least as good: keep them
        self.floors_ = dict(zip(self.practices_, floors.tolist(), strict=True))
        self.bounds_ = {p: (float(lo), float(hi))
                        for p, lo, hi in zip(self.practices_, lower, upper, strict=True)}
        self.capacity_ = {
            "weekly_hours": hours, "other_hours": round(other, 2),
            "selling_capacity": round(capacity, 2), "budget": round(budget, 2),
            "current_selling_hours": round(logged, 2),
            "recommended_selling_hours": round(float(x.sum()), 2),
        }
        self.current_ = dict(zip(self.practices_, cur.tolist(), strict=True))
        self.allocation_ = dict(zip(self.practices_, x.tolist(), strict=True))
        self.expected_bookings_ = {"current": eb_now, "recommended": obj.value(x)}
        grad = obj.gradient(x)
        self.marginal_values_ = dict(zip(self.practices_, grad.tolist(), strict=True))
        self.gain_: dict[str, float] | None = None
        self.no_worse_: bool | None = None
        if self.check:
            self._simulate_check(model, rep_id, x - cur, notes)
        self.notes_ = notes
        return self

    def _simulate_check(self, model: PipelineForecaster, rep_id: str, delta: FloatArray,
                        notes: list[str]) -> None:
        """Simulate current and recommended with common random numbers; keep the plan if no worse.

        The prior-only curves are not in the simulation (the forecast has no effect
        for those practices), so their expected multiplier is applied to the
        recommended paths.
        """
        what_if = {p: float(d) for p, d in zip(self.practices_, delta, strict=True)
                   if abs(d) > 1e-9}
        base = model.simulate(self.weeks, self.paths, self.seed, reps=[rep_id],
                              rep_quantiles=False)
        alt = model.simulate(self.weeks, self.paths, self.seed, what_if or None, reps=[rep_id],
                             rep_quantiles=False)
        x = np.array([self.allocation_[p] for p in self.practices_])
        cur = np.array([self.current_[p] for p in self.practices_])
        e = np.array([c.parameters["e"] if c.kind == "prior" else 0.0
                      for c in (self.curves_[p] for p in self.practices_)])
        prior = float(np.exp((e * np.log((1 + x) / (1 + cur))).sum()))
        b0 = np.asarray(base.team_bookings[:, -1], dtype=np.float64)
        b1 = np.asarray(alt.team_bookings[:, -1], dtype=np.float64) * prior
        diff = b1 - b0
        q = np.quantile(diff, [0.1, 0.5, 0.9])
        se = float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else 0.0
        self.gain_ = {"p10": float(q[0]), "p50": float(q[1]), "p90": float(q[2]),
                      "mean": float(diff.mean()), "mean_se": se}
        self.simulated_bookings_ = {"current": float(b0.mean()), "recommended": float(b1.mean())}
        self.no_worse_ = bool(diff.mean() >= 0.0)
        if not self.no_worse_:
            notes.append("the simulation found the recommended plan worse on average than "
                         "today's; today's allocation is kept")
            self.allocation_ = dict(self.current_)
            self.expected_bookings_["recommended"] = self.expected_bookings_["current"]

    def to_json(self, rep_id: str, digits: int = 2) -> dict[str, Any]:
        """Return the plan in the CLI's JSON shape."""
        def hrs(d: dict[str, float]) -> dict[str, float]:
            return {p: round(v, digits) for p, v in d.items()}

        gain = None if self.gain_ is None else {k: round(v, 2) for k, v in self.gain_.items()}
        return {
            "rep_id": rep_id,
            "weeks": self.weeks,
            "current": hrs(self.current_),
            "recommended": hrs(self.allocation_),
            "change": {p: round(self.allocation_[p] - self.current_[p], digits)
                       for p in self.practices_},
            "expected_bookings": {k: round(v, 2) for k, v in self.expected_bookings_.items()},
            "gain": gain,
            "simulation": None if self.gain_ is None else {
                "paths": self.paths, "seed": self.seed, "no_worse": self.no_worse_,
                "mean_bookings": {k: round(v, 2) for k, v in self.simulated_bookings_.items()},
            },
            "capacity": self.capacity_,
            "floors": hrs(self.floors_),
            "limits": {p: [round(lo, digits), round(hi, digits)]
                       for p, (lo, hi) in self.bounds_.items()},
            "marginal_values": {p: round(v, 2) for p, v in self.marginal_values_.items()},
            "curves": {p: c.to_json() for p, c in self.curves_.items()},
            "notes": list(self.notes_),
        }
