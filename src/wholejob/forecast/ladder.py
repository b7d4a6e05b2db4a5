"""The stage ladder: per-rep time in stage and stage conversion, shrunk towards the team.

Each open stage has, per rep and segment, a weekly *exit rate* (how fast deals
leave the stage) and a *destination split* (where they go: a later or earlier
open stage, won or lost). Both are estimated with empirical-Bayes shrinkage:

* exits are Poisson in the deal-weeks spent in the stage, with a Gamma prior
  centred on the team rate (gamma-Poisson);
* destinations are multinomial with a Dirichlet prior centred on the team split
  (the Dirichlet-multinomial, which for "lost or not" is the beta-binomial).

The prior strengths (in deal-weeks and in deals) are estimated by the method of
moments from how much reps really differ beyond sampling noise, so a rep with few
deals sits near the team and a rep with many speaks for themself. Effort effects
scale the forward part of the exit rate by ``((1 + h') / (1 + h)) ** e`` where
``h`` is the weekly hours of the practices that drive the stage and ``e`` an
elasticity fitted across reps (shrunk towards :data:`PRIOR_STAGE_ELASTICITY`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = [
    "PRIOR_STAGE_ELASTICITY",
    "StageLadder",
    "beta_binomial_strength",
    "gamma_poisson_strength",
    "transition_matrices",
]

FloatArray = npt.NDArray[np.float64]

PRIOR_STAGE_ELASTICITY = 0.15
_MIN_STRENGTH, _MAX_STRENGTH = 2.0, 400.0
_DEFAULT_RATE = 0.2  # weekly exit rate of a stage nobody has data for


def beta_binomial_strength(successes: FloatArray, trials: FloatArray) -> FloatArray:
    """Return the beta-binomial prior strength per column, by the method of moments.

    Rows are reps. With team proportion ``m``, the between-rep variance of the
    proportions beyond binomial noise is ``m (1 - m) / (kappa + 1)``; reps that
    differ no more than noise give the maximum strength (full pooling).
    """
    n = trials.sum(axis=0)
    m = np.divide(successes.sum(axis=0), n, out=np.full(n.shape, 0.5), where=n > 0)
    prop = np.divide(successes, trials, out=np.zeros_like(successes), where=trials > 0)
    w = trials / np.maximum(n, 1e-12)
    between = (w * (prop - m) ** 2).sum(axis=0)
    noise = (w * m * (1 - m) / np.maximum(trials, 1.0)).sum(axis=0)
    excess = between - noise
    kappa = np.divide(m * (1 - m), excess, out=np.full(n.shape, _MAX_STRENGTH),
                      where=excess > 1e-12) - 1.0
    return np.asarray(np.clip(kappa, _MIN_STRENGTH, _MAX_STRENGTH))


def gamma_poisson_strength(events: FloatArray, exposure: FloatArray) -> FloatArray:
    """Return the gamma-Poisson prior strength (in exposure units) per column.

    With team rate ``m``, rep rates vary beyond Poisson noise by ``m / kappa``.
    """
    e = exposure.sum(axis=0)
    m = np.divide(events.sum(axis=0), e, out=np.full(e.shape, _DEFAULT_RATE), where=e > 0)
    rate = np.divide(events, exposure, out=np.zeros_like(events), where=exposure > 0)
    w = exposure / np.maximum(e, 1e-12)
    between = (w * (rate - m) ** 2).sum(axis=0)
    noise = (w * m / np.maximum(exposure, 1.0)).sum(axis=0)
    excess = between - noise
    kappa = np.divide(m, excess, out=np.full(e.shape, _MAX_STRENGTH), where=excess > 1e-12)
    return np.asarray(np.clip(kappa, _MIN_STRENGTH, _MAX_STRENGTH))


def transition_matrices(rate: FloatArray, split: FloatArray) -> FloatArray:
    """Return weekly transition matrices ``(..., S + 2, S + 2)`` from rates and splits.

    ``rate`` is (..., S) exit rates per week and ``split`` (..., S, S + 2) where
    exits go; won and lost (the last two states) absorb. Deals move in continuous
    time (a continuous-time Markov chain with generator ``rate * (split - I)``),
    so a week's matrix is the matrix exponential of the generator: a deal can pass
    several stages in one week, and the mean time in a stage is ``1 / rate``, the
    inverse of the exits-per-deal-week estimate.
    """
    n_open = rate.shape[-1]
    n = n_open + 2
    m = n_open + 1  # open stages and won; lost is what is left of each row
    q = np.zeros((*rate.shape[:-1], m, m))
    q[..., :n_open, :] = rate[..., None] * split[..., :m]
    idx = np.arange(n_open)
    q[..., idx, idx] = 0.0
    q[..., idx, idx] = -rate * (1.0 - split[..., idx, idx])
    e = _expm(q)
    out = np.zeros((*rate.shape[:-1], n, n))
    out[..., :m, :m] = e
    out[..., :n_open, n - 1] = np.maximum(1.0 - e[..., :n_open, :].sum(axis=-1), 0.0)
    out[..., n - 1, n - 1] = 1.0
    return out


def _expm(q: FloatArray) -> FloatArray:
    """Return ``exp(q)`` for a stack of small matrices (scaling and squaring, Taylor).

    One scaling for the whole stack keeps it vectorised; after scaling every
    matrix has norm at most 1/4, where seven Taylor terms are exact to ~1e-10.
    """
    norm = float(np.abs(q).sum(axis=-1).max()) if q.size else 0.0
    s = max(0, int(np.ceil(np.log2(max(norm, 1e-300) / 0.25))))
    x = q * (0.5**s)
    m = q.shape[-1]
    diag = (..., np.arange(m), np.arange(m))
    e = x / 7.0
    e[diag] += 1.0
    buf = np.empty_like(e)
    for k in range(6, 0, -1):  # Horner: I + x (I + x/2 (I + ... x/7))
        np.matmul(x, e, out=buf)
        buf *= 1.0 / k
        buf[diag] += 1.0
        e, buf = buf, e
    for _ in range(s):
        np.matmul(e, e, out=buf)
        e, buf = buf, e
    return e


class StageLadder:
    """Per-rep stage exit rates and destination splits with empirical-Bayes shrinkage.

    Parameters fix the prior strengths instead of estimating them: ``rate_strength``
    in deal-weeks, ``split_strength`` in deals.
    """

    def __init__(
        self,
        rate_strength: float | None = None,
        split_strength: float | None = None,
        prior_elasticity: float = PRIOR_STAGE_ELASTICITY,
    ) -> None:
        self.rate_strength = rate_strength
        self.split_strength = split_strength
        self.prior_elasticity = prior_elasticity

    def fit(
        self, exposure: FloatArray, moves: FloatArray, stage_hours: FloatArray | None = None
    ) -> StageLadder:
        """Fit on deal-weeks (R, G, S), stage moves (R, G, S, S + 2) and stage effort (R, S)."""
        n_open = exposure.shape[-1]
        exits = moves.sum(axis=-1)
        team_exits, team_exp = exits.sum(axis=0), exposure.sum(axis=0)
        team_rate = np.divide(team_exits, team_exp, out=np.full(team_exits.shape, _DEFAULT_RATE),
                              where=team_exp > 0)
        team_split = moves.sum(axis=0) + _default_split(n_open) * 0.5
        team_split /= team_split.sum(axis=-1, keepdims=True)
        kr = (np.full(team_rate.shape, self.rate_strength) if self.rate_strength is not None
              else gamma_poisson_strength(exits, exposure))
        lost = moves[..., -1]
        ks = (np.full(team_rate.shape, self.split_strength) if self.split_strength is not None
              else beta_binomial_strength(lost, exits))
        self.team_rate_ = team_rate
        self.team_split_ = team_split
        self.rate_strength_ = kr
        self.split_strength_ = ks
        # Gamma posterior of each rep's exit rate, Dirichlet posterior of its split.
        self.rate_shape_ = kr * team_rate + exits
        self.rate_rate_ = kr + exposure
        self.split_alpha_ = ks[..., None] * team_split + moves
        self.exposure_ = exposure
        self.elasticity_ = self._fit_elasticity(stage_hours)
        self.stage_hours_ = stage_hours
        return self

    def _fit_elasticity(self, stage_hours: FloatArray | None) -> FloatArray:
        """Return the per-stage elasticity of the forward exit rate to stage effort."""
        n_open = self.team_rate_.shape[-1]
        prior = np.full(n_open, self.prior_elasticity)
        if stage_hours is None or stage_hours.shape[0] < 3:
            return prior
        fwd = self.rate_shape_ / self.rate_rate_ * (1.0 - self.split_mean()[..., -1])
        w = self.exposure_.sum(axis=1)  # (R, S)
        y = np.log(np.maximum(fwd.mean(axis=1), 1e-6))
        x = np.log1p(np.nan_to_num(stage_hours))
        out = prior.copy()
        for s in range(n_open):
            ws, xs, ys = w[:, s], x[:, s], y[:, s]
            if ws.sum() <= 0 or np.ptp(xs) < 1e-6:
                continue
            xm, ym = np.average(xs, weights=ws), np.average(ys, weights=ws)
            sxx = np.average((xs - xm) ** 2, weights=ws)
            slope = np.average((xs - xm) * (ys - ym), weights=ws) / sxx
            # Precision weighting: the spread of effort across reps is the evidence.
            k = len(xs) * sxx / (len(xs) * sxx + 1.0)
            out[s] = np.clip(k * slope + (1 - k) * prior[s], 0.0, 0.6)
        return out

    def rate_mean(self) -> FloatArray:
        """Return the posterior mean weekly exit rate per rep, segment and stage."""
        return np.asarray(self.rate_shape_ / self.rate_rate_)

    def split_mean(self) -> FloatArray:
        """Return the posterior mean destination split per rep, segment and stage."""
        a = self.split_alpha_
        return np.asarray(a / a.sum(axis=-1, keepdims=True))

    def sample(self, rng: np.random.Generator, draws: int) -> tuple[FloatArray, FloatArray]:
        """Draw ``draws`` posterior sets of rates (K, R, G, S) and splits (K, R, G, S, D)."""
        rate = rng.gamma(self.rate_shape_, 1.0 / self.rate_rate_, (draws, *self.rate_shape_.shape))
        g = rng.gamma(np.maximum(self.split_alpha_, 1e-9), 1.0,
                      (draws, *self.split_alpha_.shape))
        g *= self.split_alpha_ > 0
        split = g / np.maximum(g.sum(axis=-1, keepdims=True), 1e-300)
        return rate, split

    def effort_multiplier(self, delta_hours: FloatArray) -> FloatArray:
        """Return the forward-rate multiplier per rep and stage for a change in stage effort."""
        if self.stage_hours_ is None:
            return np.ones_like(delta_hours)
        h = np.nan_to_num(self.stage_hours_)
        ratio = np.maximum(1.0 + h + delta_hours, 1e-3) / (1.0 + h)
        return np.asarray(ratio ** self.elasticity_)


    def effort_multiplier_for(self, rep: int, delta_hours: FloatArray) -> FloatArray:
        """Return forward-rate multipliers (k, S) of one rep for k changes in stage effort."""
        if self.stage_hours_ is None:
            return np.ones_like(delta_hours)
        h = np.nan_to_num(self.stage_hours_[rep])
        ratio = np.maximum(1.0 + h + delta_hours, 1e-3) / (1.0 + h)
        return np.asarray(ratio ** self.elasticity_)


def apply_effort(rate: FloatArray, split: FloatArray, multiplier: FloatArray
                 ) -> tuple[FloatArray, FloatArray]:
    """Return rates and splits with forward exits scaled by ``multiplier`` ``(R, S)``.

    Losses keep their rate; moves to other open stages and to won are scaled.
    """
    m = multiplier[:, None, :]  # broadcast over segments (and leading draw axes)
    lost_rate = rate * split[..., -1]
    fwd = rate[..., None] * split[..., :-1] * m[..., None]
    new_rate = lost_rate + fwd.sum(axis=-1)
    parts = np.concatenate([fwd, lost_rate[..., None]], axis=-1)
    new_split = parts / np.maximum(new_rate[..., None], 1e-300)
    return new_rate, new_split


def _default_split(n_open: int) -> FloatArray:
    """Return the split of a stage with no data: on to the next stage or lost."""
    out = np.zeros((n_open, n_open + 2))
    for s in range(n_open):
        out[s, s + 1] = 0.7
        out[s, -1] = 0.3
    return out
