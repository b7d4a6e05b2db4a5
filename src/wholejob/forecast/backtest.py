"""Backtests: forecasts from rolling origins in the past, scored against what happened.

Each origin is an ``--as-of`` date: the model is fitted on what was known then
and its cumulative-bookings forecast is compared with the bookings that were
really won afterwards. Reported per level (team, rep): the mean absolute
percentage error of the median at 4, 8 and 13 weeks (outcomes of zero are left
out of the MAPE) and the share of outcomes inside the 80% interval (p10-p90).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from wholejob.forecast.data import (
    ForecastDataError,
    actual_bookings,
    classify_once,
    first_created_date,
    last_known_date,
    load_snapshot,
)
from wholejob.forecast.model import PipelineForecaster
from wholejob.workspace import Workspace

__all__ = ["HORIZONS", "BacktestResult", "run_backtest"]

FloatArray = npt.NDArray[np.float64]
HORIZONS: tuple[int, ...] = (4, 8, 13)


@dataclass
class BacktestResult:
    """Scores per level and horizon, and every forecast-outcome pair behind them."""

    origins: list[date]
    horizons: tuple[int, ...]
    mape: dict[str, dict[int, float | None]]  # level -> horizon -> MAPE
    coverage: dict[str, float | None]  # level -> share inside p10..p90, all horizons
    coverage_by_horizon: dict[str, dict[int, float | None]]
    rows: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "origins": [d.isoformat() for d in self.origins],
            "horizons": list(self.horizons),
            "mape": {lv: {str(h): v for h, v in d.items()} for lv, d in self.mape.items()},
            "coverage_80": self.coverage,
            "coverage_80_by_horizon": {
                lv: {str(h): v for h, v in d.items()} for lv, d in self.coverage_by_horizon.items()
            },
            "forecasts": self.rows,
        }


def default_origins(ws: Workspace, n: int, step_weeks: int = 4, min_history_weeks: int = 20,
                    horizon: int = 13) -> list[date]:
    """Return up to ``n`` origins, ``step_weeks`` apart, each with ``horizon`` weeks after it."""
    last = last_known_date(ws)
    first = first_created_date(ws)
    if first is None:
        raise ForecastDataError("the workspace has no opportunities: nothing to backtest")
    latest = last - timedelta(weeks=horizon)
    out = []
    for i in range(n):
        d = latest - timedelta(weeks=step_weeks * i)
        if (d - first).days < min_history_weeks * 7:
            break
        out.append(d)
    if not out:
        raise ForecastDataError(
            f"not enough history to backtest: need {min_history_weeks + horizon} weeks of "
            "opportunities"
        )
    return sorted(out)


def run_backtest(
    ws: Workspace,
    *,
    rep: str | None = None,
    team: str | None = None,
    origins: int = 6,
    step_weeks: int = 4,
    paths: int = 2000,
    seed: int = 0,
    model: PipelineForecaster | None = None,
) -> BacktestResult:
    """Forecast from each origin and score median and 80% interval against outcomes."""
    dates = default_origins(ws, origins, step_weeks, horizon=max(HORIZONS))
    weeks = max(HORIZONS)
    rows: list[dict[str, Any]] = []
    classified = classify_once(ws)  # the same for every origin; as-of filtering is per origin
    for origin in dates:
        snap = load_snapshot(ws, origin, team=team, activities=classified)
        fitted = (model or PipelineForecaster()).clone().fit(snap)
        rep_ids = snap.rep_ids if rep is None else [rep]
        sim = fitted.simulate(weeks, paths, seed, reps=rep_ids)
        actual = np.cumsum(actual_bookings(ws, origin, weeks, rep_ids), axis=1)
        assert sim.rep_bookings_q is not None
        for h in HORIZONS:
            team_q = np.quantile(sim.team_bookings[:, h - 1], [0.1, 0.5, 0.9])
            rows.append(_row(origin, "team", None, h, team_q, float(actual[:, h - 1].sum())))
            if rep is None and len(rep_ids) == 1:
                continue
            for i, rid in enumerate(rep_ids):
                q = sim.rep_bookings_q[i, :, h - 1]
                rows.append(_row(origin, "rep", rid, h, q, float(actual[i, h - 1])))
    mape: dict[str, dict[int, float | None]] = {}
    cov_h: dict[str, dict[int, float | None]] = {}
    cov: dict[str, float | None] = {}
    for level in ("team", "rep"):
        lv = [r for r in rows if r["level"] == level]
        mape[level] = {h: _mape([r for r in lv if r["horizon"] == h]) for h in HORIZONS}
        cov_h[level] = {h: _coverage([r for r in lv if r["horizon"] == h]) for h in HORIZONS}
        cov[level] = _coverage(lv)
    return BacktestResult(dates, HORIZONS, mape, cov, cov_h, rows)


def _row(origin: date, level: str, rep_id: str | None, h: int, q: npt.NDArray[Any],
         actual: float) -> dict[str, Any]:
    return {
        "origin": origin.isoformat(), "level": level, "rep_id": rep_id, "horizon": h,
        "p10": float(q[0]), "p50": float(q[1]), "p90": float(q[2]), "actual": actual,
        "inside_80": bool(q[0] <= actual <= q[2]),
    }


def _mape(rows: list[dict[str, Any]]) -> float | None:
    errs = [abs(r["p50"] - r["actual"]) / r["actual"] for r in rows if r["actual"] > 0]
    return float(np.mean(errs)) if errs else None


def _coverage(rows: list[dict[str, Any]]) -> float | None:
    return float(np.mean([r["inside_80"] for r in rows])) if rows else None
