"""New-opportunity arrivals: response curves from effort to weekly Poisson rates.

Each source stream (outbound, referral, social, marketing, customer, ...) arrives
at a Poisson rate per rep and week. Where the stream is driven by a practice and
the workspace has activities, the rate follows a concave power curve

    rate(h) = exp(u_rep) * (base + scale * h ** exponent),   0 < exponent < 1,

fitted by maximum a posteriori on weekly rep data: the exponent has a normal
prior on its logit centred on 0.34 (the mean personal-selling elasticity in the
meta-analysis of Albers, Mantrala & Sridhar, 2010), rep effects ``u`` a normal
prior with standard deviation 0.5. Streams without a driving practice, and every
stream when there are no activities, use the rep's own history with a gamma prior
centred on the team rate (gamma-Poisson shrinkage).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize
from scipy.special import expit, gammaln, logit

from wholejob.forecast.ladder import gamma_poisson_strength

__all__ = ["PRIOR_ELASTICITY", "RESPONSES", "AdbudgResponse", "ArrivalModel", "PowerResponse",
           "Response"]

FloatArray = npt.NDArray[np.float64]

PRIOR_ELASTICITY = 0.34  # Albers, Mantrala & Sridhar (2010), personal selling
_PRIOR_LOGIT_SD = 0.5
_REP_SD = 0.5
_HALF_LIFE_WEEKS = 26.0
_CURRENT_WEEKS = 13  # current hours: mean over the last 13 weeks with activity data
RESPONSES: tuple[str, ...] = ("power", "adbudg", "auto")
_N_PARAMS = {"power": 3, "adbudg": 4}


@dataclass(frozen=True)
class PowerResponse:
    """A concave response curve: ``multiplier * (base + scale * hours ** exponent)``."""

    base: float
    scale: float
    exponent: float
    multiplier: float = 1.0

    def __call__(self, hours: FloatArray | float) -> FloatArray:
        """Return the expected arrivals per week at ``hours`` per week (negative clips to 0)."""
        h = np.maximum(np.asarray(hours, dtype=np.float64), 0.0)
        return np.asarray(self.multiplier * (self.base + self.scale * h ** self.exponent))

    def marginal(self, hours: FloatArray | float) -> FloatArray:
        """Return the derivative of the rate with respect to hours (infinite at 0 hours)."""
        h = np.maximum(np.asarray(hours, dtype=np.float64), 1e-9)
        return np.asarray(self.multiplier * self.scale * self.exponent * h ** (self.exponent - 1))

    def elasticity(self, hours: float) -> float:
        """Return d log rate / d log hours at ``hours``."""
        rate = float(self(hours))
        return float(self.marginal(hours)) * hours / rate if rate > 0 else 0.0


@dataclass(frozen=True)
class AdbudgResponse:
    """An ADBUDG response curve (Little 1970) with a concave shape ``0 < shape <= 1``.

    ``multiplier * (low + (high - low) * h**shape / (half**shape + h**shape))``:
    ``low`` arrivals at no effort, approaching ``high``; ``half`` is the hours at
    which half of the gap is closed.
    """

    low: float
    high: float
    shape: float
    half: float
    multiplier: float = 1.0

    def _g(self, hours: FloatArray | float) -> FloatArray:
        h = np.maximum(np.asarray(hours, dtype=np.float64), 0.0)
        x = (h / self.half) ** self.shape
        return np.asarray(x / (1.0 + x))

    def __call__(self, hours: FloatArray | float) -> FloatArray:
        """Return the expected arrivals per week at ``hours`` per week (negative clips to 0)."""
        return np.asarray(self.multiplier * (self.low + (self.high - self.low) * self._g(hours)))

    def marginal(self, hours: FloatArray | float) -> FloatArray:
        """Return the derivative of the rate with respect to hours (infinite at 0 if shape < 1)."""
        h = np.maximum(np.asarray(hours, dtype=np.float64), 1e-9)
        g = self._g(h)
        return np.asarray(self.multiplier * (self.high - self.low) * self.shape * g * (1 - g) / h)

    def elasticity(self, hours: float) -> float:
        """Return d log rate / d log hours at ``hours``."""
        rate = float(self(hours))
        return float(self.marginal(hours)) * hours / rate if rate > 0 else 0.0


Response = PowerResponse | AdbudgResponse


def _fit_power(y: FloatArray, h: FloatArray, mask: FloatArray, prior_b: float
               ) -> tuple[PowerResponse, FloatArray, float]:
    """Return the MAP power curve, rep effects and log-likelihood.

    ``y`` and ``h`` are (R, W) counts and hours; ``mask`` is 1 where the week counts.
    """
    n_rep = y.shape[0]
    mean_y = max(float((y * mask).sum() / max(mask.sum(), 1.0)), 1e-3)
    mean_h = max(float((h * mask).sum() / max(mask.sum(), 1.0)), 1e-3)
    lb0, la0 = math.log(0.2 * mean_y), math.log(0.8 * mean_y / mean_h ** prior_b)
    x0 = np.concatenate([[lb0, la0, float(logit(prior_b))], np.zeros(n_rep)])
    hp = np.maximum(h, 0.0)
    logh = np.log(np.maximum(hp, 1e-9))
    lgy = gammaln(y + 1.0)

    def nlp(x: FloatArray) -> tuple[float, FloatArray]:
        b0, a, b = math.exp(x[0]), math.exp(x[1]), float(expit(x[2]))
        u = x[3:]
        hb = np.where(hp > 0, np.exp(b * logh), 0.0)
        core = b0 + a * hb
        eu = np.exp(u)[:, None]
        lam = eu * core
        ll = mask * (y * np.log(np.maximum(lam, 1e-12)) - lam - lgy)
        resid = mask * (y / np.maximum(lam, 1e-12) - 1.0)  # d ll / d lam * lam
        g = np.empty_like(x)
        g[0] = -(resid * b0 / core).sum()
        g[1] = -(resid * a * hb / core).sum()
        g[2] = -(resid * a * hb * np.where(hp > 0, logh, 0.0) / core).sum() * b * (1 - b)
        g[3:] = -resid.sum(axis=1)
        prior = (
            (x[2] - logit(prior_b)) ** 2 / (2 * _PRIOR_LOGIT_SD**2)
            + (u**2).sum() / (2 * _REP_SD**2)
            + ((x[0] - lb0) ** 2 + (x[1] - la0) ** 2) / (2 * 3.0**2)
        )
        g[2] += (x[2] - logit(prior_b)) / _PRIOR_LOGIT_SD**2
        g[3:] += u / _REP_SD**2
        g[0] += (x[0] - lb0) / 9.0
        g[1] += (x[1] - la0) / 9.0
        return float(-ll.sum() + prior), g

    # Bounds keep the line search away from overflow on large teams.
    bounds = [(lb0 - 15, lb0 + 15), (la0 - 15, la0 + 15), (-8.0, 8.0)] + [(-5.0, 5.0)] * n_rep
    res = minimize(nlp, x0, jac=True, method="L-BFGS-B", bounds=bounds)
    x = res.x
    curve = PowerResponse(math.exp(x[0]), math.exp(x[1]), float(expit(x[2])))
    return curve, np.asarray(x[3:]), _loglik(curve, x[3:], y, h, mask, lgy)


def _loglik(curve: Response, u: FloatArray, y: FloatArray, h: FloatArray, mask: FloatArray,
            lgy: FloatArray) -> float:
    """Return the Poisson log-likelihood of the weekly counts under a fitted curve."""
    lam = np.maximum(np.exp(u)[:, None] * curve(h), 1e-12)
    return float((mask * (y * np.log(lam) - lam - lgy)).sum())


def _fit_adbudg(y: FloatArray, h: FloatArray, mask: FloatArray
                ) -> tuple[AdbudgResponse, FloatArray, float]:
    """Return the MAP ADBUDG curve, rep effects and log-likelihood.

    Parameters: ``log low``, ``log (high - low)``, ``logit shape`` (prior
    N(0, 1): shape 0.5 at the median), ``log half`` (prior N(log mean hours, 1)).
    """
    n_rep = y.shape[0]
    mean_y = max(float((y * mask).sum() / max(mask.sum(), 1.0)), 1e-3)
    mean_h = max(float((h * mask).sum() / max(mask.sum(), 1.0)), 1e-3)
    p0 = np.array([math.log(0.3 * mean_y), math.log(1.4 * mean_y), 0.0, math.log(mean_h)])
    x0 = np.concatenate([p0, np.zeros(n_rep)])
    hp = np.maximum(h, 0.0)
    pos = hp > 0
    logh = np.where(pos, np.log(np.maximum(hp, 1e-9)), 0.0)
    lgy = gammaln(y + 1.0)

    def nlp(x: FloatArray) -> tuple[float, FloatArray]:
        lo, span, c, lhalf = math.exp(x[0]), math.exp(x[1]), float(expit(x[2])), x[3]
        u = x[4:]
        g = np.where(pos, expit(c * (logh - lhalf)), 0.0)
        core = lo + span * g
        lam = np.exp(u)[:, None] * core
        ll = mask * (y * np.log(np.maximum(lam, 1e-12)) - lam - lgy)
        resid = mask * (y / np.maximum(lam, 1e-12) - 1.0)
        dg = np.where(pos, g * (1 - g), 0.0) * span / core
        grad = np.empty_like(x)
        grad[0] = -(resid * lo / core).sum()
        grad[1] = -(resid * span * g / core).sum()
        grad[2] = -(resid * dg * (logh - lhalf)).sum() * c * (1 - c)
        grad[3] = (resid * dg * c).sum()
        grad[4:] = -resid.sum(axis=1)
        d = x[:4] - p0
        w = np.array([1 / 9.0, 1 / 9.0, 1.0, 1.0])  # weak on levels, unit on shape and half
        prior = 0.5 * float((w * d * d).sum()) + float((u**2).sum()) / (2 * _REP_SD**2)
        grad[:4] += w * d
        grad[4:] += u / _REP_SD**2
        return float(-ll.sum() + prior), grad

    bounds = [(p0[0] - 15, p0[0] + 15), (p0[1] - 15, p0[1] + 15), (-8.0, 8.0),
              (p0[3] - 8, p0[3] + 8)] + [(-5.0, 5.0)] * n_rep
    x = minimize(nlp, x0, jac=True, method="L-BFGS-B", bounds=bounds).x
    lo, span = math.exp(x[0]), math.exp(x[1])
    curve = AdbudgResponse(lo, lo + span, float(expit(x[2])), math.exp(x[3]))
    return curve, np.asarray(x[4:]), _loglik(curve, x[4:], y, h, mask, lgy)


class ArrivalModel:
    """Weekly arrival rates per rep and stream, from response curves or from history.

    ``stream_practice`` maps each stream index to the index of its driving practice
    (or -1). Fitted: ``curves_`` (per stream, a team :class:`PowerResponse` or None),
    ``rep_effect_`` (R, C) multipliers, ``current_hours_`` (R, C) the hours each
    curve is evaluated at today, ``rate_`` (R, C) the expected rate today and
    ``rate_shape_`` (R, C) the gamma shape of its uncertainty (events seen).
    """

    def __init__(self, prior_elasticity: float = PRIOR_ELASTICITY, use_effort: bool = True,
                 response: str = "power") -> None:
        if response not in RESPONSES:
            raise ValueError(f"response must be one of {RESPONSES}, not {response!r}")
        self.prior_elasticity = prior_elasticity
        self.use_effort = use_effort
        self.response = response

    def fit(self, arrivals: FloatArray, hours: FloatArray | None,
            stream_practice: list[int]) -> ArrivalModel:
        """Fit on arrivals ``(R, L, C)`` (NaN weeks ignored) and hours ``(R, L, P)``."""
        n_rep, n_weeks, n_str = arrivals.shape
        seen = ~np.isnan(arrivals)
        counts = np.where(seen, arrivals, 0.0)
        # Recent weeks weigh more (half-life 26 weeks), so growing books are followed.
        decay = (0.5 ** (np.arange(n_weeks) / _HALF_LIFE_WEEKS))[None, :, None]
        weeks = (seen * decay).sum(axis=1)  # (R, C) effective weeks
        events = (counts * decay).sum(axis=1)
        kappa = gamma_poisson_strength(events, weeks)
        team = events.sum(axis=0) / np.maximum(weeks.sum(axis=0), 1.0)
        # History only: gamma-Poisson posterior per rep and stream.
        shape = kappa * team + events
        rate_rate = kappa + weeks
        self.curves_: list[Response | None] = [None] * n_str
        self.loglik_: dict[str, dict[str, float]] = {}
        self.rep_effect_ = np.ones((n_rep, n_str))
        self.current_hours_ = np.zeros((n_rep, n_str))
        self.rate_ = shape / rate_rate
        self.rate_shape_ = np.maximum(shape, 0.5)
        self.driven_ = np.zeros(n_str, dtype=bool)
        self.stream_practice_ = list(stream_practice)
        if hours is None or not self.use_effort:
            return self
        has_hours = np.asarray(~np.isnan(hours).any(axis=2))  # (R, L)
        active = np.nansum(hours, axis=(1, 2)) > 0  # reps with no activities: unknown
        recent = _recent_mean(hours, has_hours)
        for c, p in enumerate(stream_practice):
            if p < 0:
                continue
            mask = (has_hours & seen[:, :, c] & active[:, None]) * decay[:, :, 0]
            if mask.sum() < 8 or counts[:, :, c][mask > 0].sum() < 5:
                continue
            y = counts[:, :, c]
            h = np.nan_to_num(hours[:, :, p])
            curve, u = self._fit_curve(y, h, mask, c)
            self.curves_[c] = curve
            self.driven_[c] = True
            eff = np.where(active, np.exp(u), 1.0)
            self.rep_effect_[:, c] = eff
            self.current_hours_[:, c] = recent[:, p]
            fitted = eff * curve(recent[:, p])
            # Reps without activities keep their history rate.
            self.rate_[:, c] = np.where(active, fitted, self.rate_[:, c])
            y_seen = (y * mask).sum(axis=1)
            self.rate_shape_[:, c] = np.where(active, np.maximum(y_seen, 1.0),
                                              self.rate_shape_[:, c])
        self.active_ = active
        return self

    def _fit_curve(self, y: FloatArray, h: FloatArray, mask: FloatArray, c: int
                   ) -> tuple[Response, FloatArray]:
        """Fit the chosen family (or both, for "auto") on one stream; keep log-likelihoods."""
        fits: dict[str, tuple[Response, FloatArray, float]] = {}
        if self.response in ("power", "auto"):
            fits["power"] = _fit_power(y, h, mask, self.prior_elasticity)
        if self.response in ("adbudg", "auto"):
            fits["adbudg"] = _fit_adbudg(y, h, mask)
        self.loglik_[str(c)] = {k: v[2] for k, v in fits.items()}
        # "auto": the higher log-likelihood after one point per extra parameter (AIC).
        best = max(fits, key=lambda k: fits[k][2] - _N_PARAMS[k])
        return fits[best][0], fits[best][1]

    def response_for(self, rep: int, stream: int) -> Response | None:
        """Return the rep's own response curve for a stream, of either family.

        None when the stream is not effort-driven or the rep has no activities.
        """
        c = self.curves_[stream]
        if c is None or not getattr(self, "active_", np.zeros(0, bool))[rep]:
            return None
        return replace(c, multiplier=float(self.rep_effect_[rep, stream]))

    def curve_for(self, rep: int, stream: int) -> PowerResponse | None:
        """Return the rep's own power response curve for a stream.

        None when the stream is not effort-driven, or when it uses an ADBUDG
        curve (``response="adbudg"`` or ``"auto"``); :meth:`response_for` returns
        either family.
        """
        c = self.response_for(rep, stream)
        return c if isinstance(c, PowerResponse) else None

    def rates_for(self, rep: int, delta_hours: FloatArray) -> FloatArray:
        """Return one rep's expected rates (k, C) for k changes of practice hours (k, P)."""
        k = delta_hours.shape[0]
        out = np.repeat(self.rate_[[rep]], k, axis=0)
        if not getattr(self, "active_", np.zeros(rep + 1, bool))[rep]:
            return out
        for c, p in enumerate(self.stream_practice_):
            curve = self.curves_[c]
            if curve is None or p < 0:
                continue
            h = self.current_hours_[rep, c]
            old = float(curve(h))
            if old > 0:
                out[:, c] = self.rate_[rep, c] * curve(h + delta_hours[:, p]) / old
        return out

    def rates(self, delta_hours: FloatArray | None = None) -> FloatArray:
        """Return expected weekly rates (R, C), with practice hours changed by ``delta_hours``.

        ``delta_hours`` is (R, P) hours per week added to each practice.
        """
        if delta_hours is None:
            return np.asarray(self.rate_.copy())
        out = self.rate_.copy()
        for c, p in enumerate(self.stream_practice_):
            curve = self.curves_[c]
            if curve is None or p < 0:
                continue
            h = self.current_hours_[:, c]
            new = self.rep_effect_[:, c] * curve(h + delta_hours[:, p])
            old = self.rep_effect_[:, c] * curve(h)
            # Scale the rep's rate by the curve's ratio so that history-only reps and
            # curve reps respond alike.
            ratio = np.divide(new, old, out=np.ones_like(new), where=old > 0)
            out[:, c] = np.where(self.active_, self.rate_[:, c] * ratio, self.rate_[:, c])
        return np.asarray(out)

    def sample_multipliers(self, rng: np.random.Generator, draws: int) -> FloatArray:
        """Draw posterior rate multipliers (K, R, C) with mean 1 (parameter uncertainty)."""
        shape = self.rate_shape_
        return np.asarray(rng.gamma(shape, 1.0 / shape, (draws, *shape.shape)))


def _recent_mean(hours: FloatArray, has_hours: npt.NDArray[np.bool_]) -> FloatArray:
    """Return each rep's mean weekly hours per practice over its latest weeks with data."""
    n_rep, _, n_prac = hours.shape
    out = np.zeros((n_rep, n_prac))
    for r in range(n_rep):
        idx = np.flatnonzero(has_hours[r])[:_CURRENT_WEEKS]  # week 0 is the latest
        if len(idx):
            out[r] = hours[r, idx].mean(axis=0)
    return out
