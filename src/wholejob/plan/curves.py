"""Response curves per practice and the expected-bookings objective the plan maximises.

Every selling practice with time of its own gets a concave response curve:

* **arrivals** (prospecting, referrals, social selling, marketing alignment,
  account growth): the forecast's fitted power curve of its source stream,
  ``rate(h) = m_rep * (base + scale * h ** b)`` with ``b`` centred on the
  personal-selling elasticity 0.34 (Albers, Mantrala & Sridhar 2010);
* **conversion** (practices the job model says drive conversion or velocity at a
  stage): the forecast's effort effect, forward exit rates scaled by
  ``((1 + h') / (1 + h)) ** e`` with ``e`` fitted across reps and shrunk to 0.15;
* **prior** (practices the forecast has no fitted effect for): a power curve on
  bookings, ``((1 + h') / (1 + h)) ** e_p`` with
  ``e_p = prior_weight * 0.34 * target_share_p``: the meta-analytic elasticity of
  selling effort split over the practices by their target shares (a Cobb-Douglas
  whose own optimum is the job model's targets), at half weight by default because
  the team's data say nothing about them.

:class:`BookingsObjective` evaluates expected bookings over the horizon for any
allocation: the forecast's exact expectation (arrival and conversion curves,
through the stage ladder) times the prior curves' multipliers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from wholejob.forecast import (
    PRIOR_ELASTICITY,
    STREAM_PRACTICE,
    STREAMS,
    PipelineForecaster,
    central_gradient,
    current_allocation,
    expected_bookings_many,
)
from wholejob.jobmodel import OTHER, JobModel

__all__ = ["PRIOR_WEIGHT", "BookingsObjective", "PracticeCurve", "practice_curves"]

FloatArray = npt.NDArray[np.float64]

# Half weight: a prior-only practice has no evidence from the team's own data, so
# its curve should keep it alive at the margin without outbidding fitted curves.
PRIOR_WEIGHT = 0.5
_STEP = 0.01  # hours: finite-difference step of the gradient


@dataclass(frozen=True)
class PracticeCurve:
    """How one practice's weekly hours move expected bookings, and where that comes from.

    ``kind`` is ``arrivals``, ``conversion``, ``arrivals+conversion`` or ``prior``;
    ``parameters`` holds the fitted (or prior) numbers behind it.
    """

    practice: str
    kind: str
    form: str
    parameters: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {"kind": self.kind, "form": self.form, "parameters": self.parameters}


def _r(x: float, nd: int = 4) -> float:
    return round(float(x), nd)


def practice_curves(model: PipelineForecaster, rep_id: str, job_model: JobModel,
                    prior_weight: float = PRIOR_WEIGHT,
                    prior_elasticity: float = PRIOR_ELASTICITY) -> dict[str, PracticeCurve]:
    """Return each selling practice's response curve for the rep (quality practices left out)."""
    r = model.snapshot_.rep_index(rep_id)
    snap = model.snapshot_
    out: dict[str, PracticeCurve] = {}
    for p in job_model.selling_ids:
        if job_model.practices[p].effort == "quality" or p not in model.practices_:
            continue
        j = model.practices_.index(p)
        parts: list[str] = []
        params: dict[str, Any] = {}
        for c, stream in enumerate(STREAMS):
            if STREAM_PRACTICE[stream] != p:
                continue
            curve = model.arrivals_.curve_for(r, c)
            if curve is not None:
                parts.append("arrivals")
                params[f"{stream}_stream"] = {
                    "base": _r(curve.base), "scale": _r(curve.scale),
                    "exponent": _r(curve.exponent), "rep_multiplier": _r(curve.multiplier),
                }
        stages = [snap.stages[s] for s in np.flatnonzero(snap.stage_practices[j])]
        if stages and model.has_effort_:
            parts.append("conversion")
            el = model.ladder_.elasticity_
            params["stages"] = {snap.stages[s]: _r(el[s])
                                for s in np.flatnonzero(snap.stage_practices[j])}
        if parts:
            kind = "+".join(parts)
            form = ("arrivals: m * (base + scale * h ** exponent); " if "arrivals" in parts
                    else "")
            if "conversion" in parts:
                form += "forward stage exit rate x ((1 + h') / (1 + h)) ** e"
            out[p] = PracticeCurve(p, kind, form.strip("; "), params)
        else:
            share = job_model.practices[p].target_share or 0.0
            e = prior_weight * prior_elasticity * share
            out[p] = PracticeCurve(p, "prior", "bookings x ((1 + h') / (1 + h)) ** e",
                                   {"e": _r(e, 5), "target_share": share,
                                    "prior_weight": prior_weight})
    return out


class BookingsObjective:
    """Expected bookings over ``weeks`` for a rep's weekly allocation of hours.

    Decision variables are the practices in ``practices`` (hours per week); every
    other practice keeps its current hours. ``value`` is the forecast's exact
    expectation times the prior curves' multipliers; ``gradient`` is a central
    finite difference evaluated in one batched call to the forecast.
    """

    def __init__(self, model: PipelineForecaster, rep_id: str, weeks: int,
                 curves: dict[str, PracticeCurve]) -> None:
        self.model = model
        self.rep_id = rep_id
        self.weeks = weeks
        self.practices = [p for p in curves if p != OTHER]
        cur = current_allocation(model, rep_id)
        self.current = np.array([cur[p] for p in self.practices])
        self.prior_e = np.array([
            curves[p].parameters["e"] if curves[p].kind == "prior" else 0.0
            for p in self.practices
        ])

    def _local(self, xs: FloatArray) -> FloatArray:
        """Return the forecast's exact expected bookings for each allocation (one batch)."""
        return expected_bookings_many(self.model, self.rep_id, xs, self.practices, self.weeks)

    def as_allocations(self, xs: FloatArray) -> list[dict[str, float]]:
        """Return the rows of ``xs`` as practice -> hours dicts."""
        return [{p: float(h) for p, h in zip(self.practices, x, strict=True)} for x in xs]

    def _prior(self, xs: FloatArray) -> FloatArray:
        ratio = (1.0 + np.maximum(xs, 0.0)) / (1.0 + self.current)
        return np.asarray(np.exp((self.prior_e * np.log(ratio)).sum(axis=-1)))

    def values(self, xs: Sequence[FloatArray] | FloatArray) -> FloatArray:
        """Return expected bookings for each allocation (rows of ``xs``)."""
        arr = np.atleast_2d(np.asarray(xs, dtype=np.float64))
        return np.asarray(self._local(arr) * self._prior(arr))

    def value(self, x: FloatArray) -> float:
        """Return expected bookings for one allocation."""
        return float(self.values(x[None])[0])

    def gradient(self, x: FloatArray) -> FloatArray:
        """Return d expected bookings / d hours per practice at ``x`` (central differences)."""
        return central_gradient(self.values, x, _STEP)
