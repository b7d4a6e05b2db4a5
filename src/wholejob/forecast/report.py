"""The forecast a user asks for: quantiles per week, coverage, run-dry week, what-if.

Definitions (also in ``docs/forecast.md``):

* bookings are cumulative from the as-of date: the sum of won amounts up to the
  end of each forecast week;
* open pipeline is the summed amount of deals open at the end of each week;
* coverage in week ``t`` is p50 open pipeline divided by the quota still to book
  in the horizon, ``quota * weeks / 52 - p50 bookings to t`` (None when nothing
  remains or the quota is unknown);
* ``run_dry_week`` is the first week whose p50 open pipeline falls below
  ``required_coverage`` (default 3) times a rolling quarter of quota,
  ``quota * 13 / 52``; None when it does not happen within the horizon.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from wholejob.forecast.data import ForecastDataError, load_snapshot
from wholejob.forecast.model import PipelineForecaster
from wholejob.forecast.simulate import SimulationResult
from wholejob.workspace import Workspace

__all__ = ["REQUIRED_COVERAGE", "Forecast", "forecast", "parse_what_if"]

FloatArray = npt.NDArray[np.float64]
REQUIRED_COVERAGE = 3.0
_WHAT_IF = re.compile(r"^\s*([a-z_]+)\s*=\s*([+-]?\d+(?:\.\d+)?)\s*$")


def parse_what_if(items: Sequence[str]) -> dict[str, float]:
    """Parse ``PRACTICE=±HOURS`` items into a dict of weekly hour changes."""
    out: dict[str, float] = {}
    for item in items:
        m = _WHAT_IF.match(item)
        if not m:
            raise ForecastDataError(
                f"what-if {item!r} is not PRACTICE=±HOURS (for example prospecting=+4)"
            )
        out[m.group(1)] = out.get(m.group(1), 0.0) + float(m.group(2))
    return out


def _q(x: npt.NDArray[Any]) -> dict[str, list[float]]:
    q = np.quantile(np.asarray(x, dtype=np.float64), [0.1, 0.5, 0.9], axis=0)
    return {k: [round(float(v), 2) for v in row] for k, row in zip(("p10", "p50", "p90"), q,
                                                                  strict=True)}


def _rep_q(q: npt.NDArray[Any] | None, i: int) -> dict[str, list[float]]:
    assert q is not None
    return {k: [round(float(v), 2) for v in q[i, j]] for j, k in enumerate(("p10", "p50", "p90"))}


def _run_dry(p50_open: Sequence[float], quota: float, required: float) -> int | None:
    if not np.isfinite(quota) or quota <= 0:
        return None
    need = required * quota * 13 / 52
    for t, v in enumerate(p50_open, start=1):
        if v < need:
            return t
    return None


def _coverage(p50_open: Sequence[float], p50_book: Sequence[float], quota: float,
              weeks: int) -> list[float | None]:
    out: list[float | None] = []
    for o, b in zip(p50_open, p50_book, strict=True):
        remaining = quota * weeks / 52 - b if np.isfinite(quota) else float("nan")
        out.append(round(o / remaining, 3) if remaining > 0 else None)
    return out


@dataclass
class Forecast:
    """A forecast's JSON-ready summary, plus the fitted model and simulation behind it."""

    summary: dict[str, Any]
    model: PipelineForecaster
    result: SimulationResult
    what_if_result: SimulationResult | None = None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Return the summary dict."""
        return self.summary


def _block(sim: SimulationResult, quota: float, weeks: int, required: float
           ) -> dict[str, Any]:
    b, p = _q(sim.team_bookings), _q(sim.team_pipeline)
    return {
        "bookings": b,
        "open_pipeline": p,
        "coverage": _coverage(p["p50"], b["p50"], quota, weeks),
        "run_dry_week": _run_dry(p["p50"], quota, required),
    }


def forecast(
    ws: Workspace,
    *,
    rep: str | None = None,
    team: str | None = None,
    weeks: int = 13,
    as_of: date | None = None,
    what_if: Mapping[str, float] | None = None,
    paths: int = 2000,
    seed: int = 0,
    required_coverage: float = REQUIRED_COVERAGE,
    model: PipelineForecaster | None = None,
) -> Forecast:
    """Fit on what was known at ``as_of`` and forecast a rep, a team or every seller."""
    if weeks < 1 or weeks > 104:
        raise ForecastDataError("weeks must be between 1 and 104")
    snap = load_snapshot(ws, as_of)  # all sellers: they are the prior every rep shrinks to
    fitted = (model or PipelineForecaster()).clone().fit(snap)
    if rep is not None:
        snap.rep_index(rep)
        chosen = [rep]
    elif team is not None:
        chosen = [r for r, t in zip(snap.rep_ids, snap.teams, strict=True) if t == team]
        if not chosen:
            raise ForecastDataError(f"no reps in team {team!r}")
    else:
        chosen = list(snap.rep_ids)
    idx = [snap.rep_index(r) for r in chosen]
    quotas = snap.quota[idx]
    quota = float(np.nansum(quotas)) if np.isfinite(quotas).any() else float("nan")
    sim = fitted.simulate(weeks, paths, seed, reps=chosen)
    base = _block(sim, quota, weeks, required_coverage)
    week_ending = [(snap.as_of + timedelta(weeks=w)).isoformat() for w in range(1, weeks + 1)]
    reps_out = []
    for i, r in enumerate(chosen):
        rb, rp = _rep_q(sim.rep_bookings_q, i), _rep_q(sim.rep_pipeline_q, i)
        rq = float(snap.quota[idx[i]])
        reps_out.append({
            "rep_id": r, "team": snap.teams[idx[i]],
            "quota": None if not np.isfinite(rq) else rq,
            "bookings": rb, "open_pipeline": rp,
            "coverage": _coverage(rp["p50"], rb["p50"], rq, weeks),
            "run_dry_week": _run_dry(rp["p50"], rq, required_coverage),
        })
    notes = []
    if not fitted.has_effort_:
        notes.append("no activities: arrival rates come from opportunity history alone, "
                     "and what-if changes of effort have no effect")
    summary: dict[str, Any] = {
        "scope": {"rep": rep, "team": team, "reps": chosen},
        "as_of": snap.as_of.isoformat(),
        "weeks": weeks,
        "paths": paths,
        "seed": seed,
        "currency": ws.config.currency,
        "week_ending": week_ending,
        "quota": None if not np.isfinite(quota) else quota,
        "horizon_quota": None if not np.isfinite(quota) else round(quota * weeks / 52, 2),
        "required_coverage": required_coverage,
        **base,
        "p10": base["bookings"]["p10"],
        "p50": base["bookings"]["p50"],
        "p90": base["bookings"]["p90"],
        "reps": reps_out,
        "notes": notes,
    }
    wsim = None
    if what_if:
        wsim = fitted.simulate(weeks, paths, seed, dict(what_if), reps=chosen)
        shifted = _block(wsim, quota, weeks, required_coverage)
        summary["what_if"] = {
            "changes": dict(what_if),
            **shifted,
            "delta_p50_bookings": round(
                shifted["bookings"]["p50"][-1] - base["bookings"]["p50"][-1], 2),
            "delta_mean_bookings": round(
                float(wsim.team_bookings[:, -1].mean() - sim.team_bookings[:, -1].mean()), 2),
        }
    return Forecast(summary, fitted, sim, wsim, notes)
