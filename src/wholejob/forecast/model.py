"""The pipeline forecaster: fit on a snapshot, forecast bookings and open pipeline.

:class:`PipelineForecaster` has the scikit-learn shape: parameters in
``__init__``, :meth:`~PipelineForecaster.fit` returns the estimator, fitted
attributes end in ``_``. :func:`expected_bookings` is the fast, vectorised entry
point the plan optimiser uses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from wholejob.forecast.amounts import LognormalAmounts
from wholejob.forecast.arrivals import PRIOR_ELASTICITY, ArrivalModel
from wholejob.forecast.data import STREAM_PRACTICE, STREAMS, ForecastDataError, Snapshot
from wholejob.forecast.ladder import (
    PRIOR_STAGE_ELASTICITY,
    StageLadder,
    apply_effort,
    transition_matrices,
)
from wholejob.forecast.simulate import Moments, SimulationResult, propagate, simulate_paths

__all__ = ["PipelineForecaster"]

FloatArray = npt.NDArray[np.float64]
WhatIf = Mapping[str, float]


@dataclass(frozen=True)
class _Draws:
    """Posterior parameter draws shared by the current and the what-if forecast."""

    rate: FloatArray  # (K, R, G, S)
    split: FloatArray  # (K, R, G, S, D)
    arrival_mult: FloatArray  # (K, R, C)
    win_mult: FloatArray | None = None  # (K, R) bookings overdispersion


def _finite_cols(x: FloatArray) -> FloatArray:
    """Return 1 for weeks with data and NaN for weeks before it, shape (1, L)."""
    return np.where(np.isnan(x).all(axis=0, keepdims=True), np.nan, 1.0)


def _overdispersion(b: FloatArray, b2: FloatArray, block: int = 4) -> float:
    """Return the squared CV of bookings rates beyond compound-Poisson noise.

    Weekly bookings are summed in blocks of ``block`` weeks; the variance of block
    totals beyond what a compound-Poisson process would give (the block's sum of
    squared amounts) is attributed to rates that vary, and returned relative to
    the squared mean block total (method of moments, clipped to 0..1).
    """
    n_unit, n_weeks = b.shape
    n_blocks = n_weeks // block
    if n_blocks < 4:
        return 0.0
    bb = b[:, : n_blocks * block].reshape(n_unit, n_blocks, block).sum(axis=2)
    qq = b2[:, : n_blocks * block].reshape(n_unit, n_blocks, block).sum(axis=2)
    ok = ~np.isnan(bb).any(axis=0)
    if ok.sum() < 4:
        return 0.0
    bb, qq = bb[:, ok], qq[:, ok]
    # Remove each unit's linear trend first: recency-weighted rates follow trends,
    # so only the wobble around them is unexplained.
    t = np.arange(bb.shape[1], dtype=np.float64)
    t -= t.mean()
    slope = (bb * t).sum(axis=1, keepdims=True) / (t * t).sum()
    resid = bb - bb.mean(axis=1, keepdims=True) - slope * t
    var = (resid**2).sum(axis=1) / max(bb.shape[1] - 2, 1)
    excess = (var - qq.mean(axis=1)).sum()
    scale = (bb.mean(axis=1) ** 2).sum()
    return float(np.clip(excess / scale, 0.0, 1.0)) if scale > 0 else 0.0


class PipelineForecaster:
    """Stage-ladder and arrival model of every rep's pipeline, with Monte Carlo forecasts.

    ``draws`` posterior parameter sets are shared out over the paths; the prior
    elasticities centre the arrival response curves and the stage effort effects;
    ``use_effort=False`` ignores activities (arrival rates from history alone);
    ``response`` is the arrival curve family (``"power"``, ``"adbudg"`` or
    ``"auto"``: per stream, the one with the higher penalised likelihood);
    ``overdispersion=True`` adds gamma multipliers on bookings whose variance is
    the historical excess over compound-Poisson noise (off by default: the
    backtest showed it double counts, see ``docs/forecast.md``).
    """

    def __init__(
        self,
        draws: int = 128,
        prior_elasticity: float = PRIOR_ELASTICITY,
        stage_prior_elasticity: float = PRIOR_STAGE_ELASTICITY,
        use_effort: bool = True,
        response: str = "power",
        overdispersion: bool = False,
    ) -> None:
        self.draws = draws
        self.prior_elasticity = prior_elasticity
        self.stage_prior_elasticity = stage_prior_elasticity
        self.use_effort = use_effort
        self.response = response
        self.overdispersion = overdispersion

    def get_params(self) -> dict[str, Any]:
        """Return the constructor parameters (scikit-learn style)."""
        return {"draws": self.draws, "prior_elasticity": self.prior_elasticity,
                "stage_prior_elasticity": self.stage_prior_elasticity,
                "use_effort": self.use_effort, "response": self.response,
                "overdispersion": self.overdispersion}

    def clone(self) -> PipelineForecaster:
        """Return an unfitted copy with the same parameters."""
        return PipelineForecaster(**self.get_params())

    def fit(self, snapshot: Snapshot) -> PipelineForecaster:
        """Fit the ladder, the arrival curves and the amount distributions."""
        self.snapshot_ = snapshot
        self.practices_ = list(snapshot.practices)
        hours = snapshot.hours if self.use_effort else None
        stream_practice = [
            self.practices_.index(p) if (p := STREAM_PRACTICE[s]) in self.practices_ else -1
            for s in STREAMS
        ]
        self.arrivals_ = ArrivalModel(self.prior_elasticity, self.use_effort, self.response).fit(
            snapshot.arrivals, hours, stream_practice
        )
        self.has_effort_ = hours is not None and bool(getattr(self.arrivals_, "active_",
                                                              np.zeros(1)).any())
        current = np.zeros((len(snapshot.rep_ids), len(self.practices_)))
        if hours is not None:
            from wholejob.forecast.arrivals import _recent_mean

            current = _recent_mean(hours, np.asarray(~np.isnan(hours).any(axis=2)))
        self.current_hours_ = current
        stage_hours = current @ snapshot.stage_practices if self.has_effort_ else None
        self.ladder_ = StageLadder(prior_elasticity=self.stage_prior_elasticity).fit(
            snapshot.exposure, snapshot.moves, stage_hours
        )
        self.created_amounts_ = LognormalAmounts.from_moments(snapshot.created_log_amount)
        self.won_amounts_ = LognormalAmounts.from_moments(snapshot.won_log_amount)
        b, b2 = snapshot.won_weekly, snapshot.won_weekly_sq
        self.team_dispersion_ = self.rep_dispersion_ = 0.0
        if self.overdispersion:
            self.team_dispersion_ = _overdispersion(
                np.nansum(b, axis=0, keepdims=True) * _finite_cols(b),
                np.nansum(b2, axis=0, keepdims=True) * _finite_cols(b2))
            self.rep_dispersion_ = max(_overdispersion(b, b2) - self.team_dispersion_, 0.0)
        return self

    # -- inputs -------------------------------------------------------------------

    def delta_hours(self, what_if: WhatIf | None) -> FloatArray:
        """Return the (R, P) change in weekly hours a what-if asks for (same for every rep)."""
        delta = np.zeros((len(self.snapshot_.rep_ids), len(self.practices_)))
        for practice, hours in (what_if or {}).items():
            if practice not in self.practices_:
                raise ForecastDataError(
                    f"unknown practice {practice!r} in what-if (see `wholejob practices`)"
                )
            delta[:, self.practices_.index(practice)] += hours
        return delta

    def _draws(self, rng: np.random.Generator, k: int) -> _Draws:
        rate, split = self.ladder_.sample(rng, k)
        mult = self.arrivals_.sample_multipliers(rng, k)
        n_rep = rate.shape[1]
        win = _gamma_mean_one(rng, self.team_dispersion_, (k, 1)) * _gamma_mean_one(
            rng, self.rep_dispersion_, (k, n_rep))
        return _Draws(rate, split, mult, win)

    def _mean_draw(self) -> _Draws:
        return _Draws(self.ladder_.rate_mean()[None], self.ladder_.split_mean()[None],
                      np.ones((1, *self.arrivals_.rate_.shape)))

    def moments(self, weeks: int, draws: _Draws, delta: FloatArray | None = None,
                reps: npt.NDArray[np.int64] | None = None) -> Moments:
        """Return win and open-pipeline moments per draw, rep and week."""
        snap = self.snapshot_
        idx = np.arange(len(snap.rep_ids)) if reps is None else reps
        rate, split = draws.rate[:, idx], draws.split[:, idx]
        if delta is not None and self.has_effort_:
            mult = self.ladder_.effort_multiplier(delta @ snap.stage_practices)[idx]
            rate, split = apply_effort(rate, split, mult)
        lam_c = self.arrivals_.rates(delta)[idx][None] * draws.arrival_mult[:, idx]  # (K,R,C)
        mom = self.propagate_rates(rate, split, lam_c, idx, weeks)
        if draws.win_mult is None:
            return mom
        g = draws.win_mult[:, idx, None]
        return Moments(mom.win_lam * g, mom.win_m1 * g, mom.win_m2 * g,
                       mom.open_lam, mom.open_m1, mom.open_m2)

    def propagate_rates(self, rate: FloatArray, split: FloatArray, lam_c: FloatArray,
                        idx: npt.NDArray[np.int64], weeks: int) -> Moments:
        """Return moments for ladder rates (K, R, G, S), splits and stream arrivals (K, R, C).

        ``idx`` names the snapshot reps whose open pipeline the R axis carries.
        """
        snap = self.snapshot_
        mats = transition_matrices(rate, split)
        share = snap.segment_share  # (C, G)
        lam_g = lam_c @ share
        e1, e2 = self.created_amounts_.mean, self.created_amounts_.second_moment
        safe = np.maximum(lam_g, 1e-300)
        m1 = ((lam_c * e1) @ share) / safe
        m2 = ((lam_c * e2) @ share) / safe
        return propagate(
            mats, snap.open_count[idx], snap.open_amount[idx], snap.open_amount_sq[idx],
            lam_g, m1, m2, self.won_amounts_.mean, self.won_amounts_.second_moment, weeks,
        )

    # -- forecasting --------------------------------------------------------------

    def simulate(
        self,
        weeks: int = 13,
        paths: int = 2000,
        seed: int = 0,
        what_if: WhatIf | None = None,
        *,
        reps: Sequence[str] | None = None,
        rep_quantiles: bool = True,
        threads: int | None = None,
    ) -> SimulationResult:
        """Run the Monte Carlo for the chosen reps (default all) and return its paths.

        The same seed gives the same paths; a what-if with the same seed uses the
        same posterior draws and random numbers (common random numbers), so the
        difference shows the effect of the change, not noise. ``threads`` runs the
        per-rep quantile chunks in parallel; results do not depend on it.
        """
        if weeks < 1 or paths < 1:
            raise ForecastDataError("weeks and paths must be at least 1")
        ss = np.random.SeedSequence(seed)
        param_seed, path_seed = ss.spawn(2)
        k = max(1, min(self.draws, paths))
        draws = self._draws(np.random.default_rng(param_seed), k)
        idx = None if reps is None else np.array([self.snapshot_.rep_index(r) for r in reps])
        delta = self.delta_hours(what_if) if what_if else None
        mom = self.moments(weeks, draws, delta, idx)
        return simulate_paths(mom, paths, path_seed, rep_quantiles=rep_quantiles,
                              threads=threads)


def _gamma_mean_one(rng: np.random.Generator, cv2: float, shape: tuple[int, ...]
                    ) -> FloatArray:
    """Draw gamma multipliers with mean 1 and squared CV ``cv2`` (ones when 0)."""
    if cv2 <= 1e-9:
        return np.ones(shape)
    return np.asarray(rng.gamma(1.0 / cv2, cv2, shape))
