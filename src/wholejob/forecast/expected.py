"""Exact expected bookings for weekly allocations of hours: the plan optimiser's view.

Expectations use the posterior-mean parameters (no sampling), so they are smooth
in the hours and cheap: many allocations of one rep ride on the draw axis of one
vectorised propagation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import numpy.typing as npt

from wholejob.errors import ForecastDataError
from wholejob.forecast.ladder import apply_effort
from wholejob.forecast.model import PipelineForecaster

__all__ = [
    "central_gradient",
    "current_allocation",
    "expected_bookings",
    "expected_bookings_many",
    "marginal_bookings",
]

FloatArray = npt.NDArray[np.float64]
_STEP = 0.05  # hours per week of a finite-difference step


def current_allocation(model: PipelineForecaster, rep_id: str) -> dict[str, float]:
    """Return the rep's current weekly hours per practice (mean of the last 13 weeks)."""
    r = model.snapshot_.rep_index(rep_id)
    return {p: float(h) for p, h in zip(model.practices_, model.current_hours_[r], strict=True)}


def expected_bookings_many(
    model: PipelineForecaster,
    rep_id: str,
    allocations: npt.ArrayLike,
    practices: Sequence[str],
    weeks: int,
) -> FloatArray:
    """Return expected bookings over ``weeks`` weeks for each row of ``allocations``.

    ``allocations`` is (k, len(practices)) hours per week; practices not listed
    keep the rep's current hours. All k allocations are evaluated in one
    vectorised pass (posterior-mean parameters, exact expectation).
    """
    m = model
    r = m.snapshot_.rep_index(rep_id)
    alloc = np.atleast_2d(np.asarray(allocations, dtype=np.float64))
    if alloc.shape[1] != len(practices):
        raise ForecastDataError(
            f"allocations have {alloc.shape[1]} columns for {len(practices)} practices")
    if len(set(practices)) != len(practices):
        raise ForecastDataError("a practice is listed twice in the allocation columns")
    cols = []
    for p in practices:
        if p not in m.practices_:
            raise ForecastDataError(f"unknown practice {p!r} in allocation")
        cols.append(m.practices_.index(p))
    k = len(alloc)
    delta = np.zeros((k, len(m.practices_)))
    delta[:, cols] = alloc - m.current_hours_[r, cols]
    lad = m.ladder_
    rate = np.repeat(lad.rate_mean()[[r]], k, axis=0)  # allocations on the rep axis
    split = np.repeat(lad.split_mean()[[r]], k, axis=0)
    if m.has_effort_:
        mult = lad.effort_multiplier_for(r, delta @ m.snapshot_.stage_practices)
        rate, split = apply_effort(rate, split, mult)
    lam_c = m.arrivals_.rates_for(r, delta)  # (k, C)
    mom = m.propagate_rates(rate[:, None], split[:, None], lam_c[:, None],
                            np.array([r]), weeks)
    return np.asarray(mom.win_m1.sum(axis=(1, 2)), dtype=np.float64)


def expected_bookings(
    fitted_model: PipelineForecaster,
    rep_id: str,
    allocation: Mapping[str, float] | Sequence[Mapping[str, float]],
    weeks: int,
) -> float | FloatArray:
    """Return expected bookings over ``weeks`` weeks if the rep spent ``allocation`` hours.

    ``allocation`` maps practices to hours per week; practices it leaves out keep
    their current hours. A sequence of allocations returns an array (one
    vectorised pass, see :func:`expected_bookings_many`).
    """
    single = isinstance(allocation, Mapping)
    allocs: Sequence[Mapping[str, float]] = (
        [allocation] if isinstance(allocation, Mapping) else allocation
    )
    names = sorted({p for a in allocs for p in a})
    now = current_allocation(fitted_model, rep_id) if names else {}
    rows = np.array([[a.get(p, now.get(p, 0.0)) for p in names] for a in allocs],
                    dtype=np.float64).reshape(len(allocs), len(names))
    out = expected_bookings_many(fitted_model, rep_id, rows, names, weeks)
    return float(out[0]) if single else out


def marginal_bookings(
    model: PipelineForecaster,
    rep_id: str,
    allocation: Mapping[str, float],
    weeks: int,
) -> dict[str, float]:
    """Return d expected bookings / d weekly hour for every practice at ``allocation``.

    Central differences of :func:`expected_bookings_many` (one vectorised call for
    all practices; forward at zero hours). Practices that drive nothing in the
    fitted model get 0.
    """
    now = current_allocation(model, rep_id)
    names = list(model.practices_)
    x = np.array([allocation.get(p, now[p]) for p in names], dtype=np.float64)
    grad = central_gradient(
        lambda pts: expected_bookings_many(model, rep_id, pts, names, weeks), x, _STEP)
    return {p: float(g) for p, g in zip(names, grad, strict=True)}


def central_gradient(values: Callable[[FloatArray], FloatArray], x: FloatArray,
                     step: float) -> FloatArray:
    """Central differences of a vectorised function of hours, in one call of ``values``.

    ``values`` maps points (one per row) to numbers. Hours cannot go below zero,
    so the backward point is clipped at 0 and the difference divides by the
    actual span.
    """
    n = len(x)
    lo = np.maximum(x - step, 0.0)
    hi = x + step
    pts = np.concatenate([np.tile(x, (n, 1)), np.tile(x, (n, 1))])
    pts[np.arange(n), np.arange(n)] = hi
    pts[n + np.arange(n), np.arange(n)] = lo
    v = values(pts)
    return np.asarray((v[:n] - v[n:]) / (hi - lo), dtype=np.float64)
