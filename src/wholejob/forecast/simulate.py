"""Vectorised Monte Carlo of bookings and open pipeline, over paths, reps and weeks.

Deals move independently through the ladder, and new deals arrive as Poisson
streams; by the thinning theorem the number of deals a rep wins in a week is then
Poisson (exactly for arriving deals, and very nearly for the open ones), and so is
the number still open at the end of a week. The simulation therefore never tracks
a deal: for every posterior draw of the parameters it propagates stage-occupancy
*moments* (deal counts, summed amounts and summed squared amounts per stage)
through the weekly transition matrices, which gives per rep and week the
compound-Poisson intensity ``lam`` and the first two moments ``m1 = lam E[a]``,
``m2 = lam E[a^2]`` of bookings and of open pipeline. A draw is zero with
probability ``exp(-lam)``, otherwise a lognormal matched to the conditional mean
and variance: one uniform number and a table look-up. Team paths are drawn from the
team's summed moments (given a posterior draw, reps are independent, and a sum of
compound-Poisson processes is compound Poisson), per-rep quantiles from per-rep
draws of the first :data:`REP_QUANTILE_PATHS` paths. Paths share a posterior draw
``p % draws``, which carries parameter uncertainty into the spread.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import ndtri

__all__ = ["REP_QUANTILE_PATHS", "Moments", "SimulationResult", "propagate", "simulate_paths"]

FloatArray = npt.NDArray[np.float64]
F32 = npt.NDArray[np.float32]

_TABLE = 4096
_Z = ndtri((np.arange(_TABLE) + 0.5) / _TABLE).astype(np.float32)
QUANTILES = (0.1, 0.5, 0.9)
_CHUNK = 16  # reps per simulation chunk; fixed so results do not depend on threads
REP_QUANTILE_PATHS = 2000
# Per-rep chunks run on one thread by default: two measured no faster on a busy 2-core box.
_THREADS = 1


@dataclass(frozen=True)
class Moments:
    """Compound-Poisson moments per draw, rep and week: ``(K, R, W)`` arrays."""

    win_lam: FloatArray
    win_m1: FloatArray
    win_m2: FloatArray
    open_lam: FloatArray
    open_m1: FloatArray
    open_m2: FloatArray


def propagate(
    matrices: FloatArray,
    open_count: FloatArray,
    open_amount: FloatArray,
    open_amount_sq: FloatArray,
    arrival_rate: FloatArray,
    created_m1: FloatArray,
    created_m2: FloatArray,
    won_m1: FloatArray,
    won_m2: FloatArray,
    weeks: int,
) -> Moments:
    """Propagate occupancy moments for ``weeks`` weeks and return win and open moments.

    ``matrices`` is (K, R, G, N, N) with N = open stages + won + lost; the open
    pipeline arrays are (R, G, S); ``arrival_rate`` is (K, R, G) new deals per
    week entering the first stage at the end of each week; ``created_m1/m2`` are
    (K, R, G) amount moments of arriving deals and ``won_m1/m2`` (G,) of won ones.

    The recurrences run backwards (Kolmogorov): ``c_w = A c_{w-1} + b`` is the
    chance that a deal now in each open stage is won within ``w`` weeks and
    ``d_w = A d_{w-1}`` that it is still open, with ``A`` the open-to-open block
    and ``b`` the open-to-won column. Two vectors per draw, rep and segment replace
    four rows of occupancy moments, and every moment is a dot product with them.
    """
    k, r, g, n, _ = matrices.shape
    s = n - 2
    # Batch axes last, segments first: each update is one einsum over long rows.
    a = np.ascontiguousarray(np.transpose(matrices[..., :s, :s], (3, 4, 2, 0, 1)))
    b = np.ascontiguousarray(np.transpose(matrices[..., :s, s], (3, 2, 0, 1)))  # (S, G, K, R)
    vals = np.stack([np.transpose(np.asarray(v, dtype=np.float64), (2, 1, 0))
                     for v in (open_count, open_amount, open_amount_sq)])  # (3, S, G, R)
    lam = np.ascontiguousarray(np.transpose(np.asarray(arrival_rate, dtype=np.float64),
                                            (2, 0, 1)))  # (G, K, R)
    amounts = [np.ones_like(lam), _seg_first(created_m1, lam.shape),
               _seg_first(created_m2, lam.shape)]
    won = np.stack([np.ones(g), np.asarray(won_m1, dtype=np.float64),
                    np.asarray(won_m2, dtype=np.float64)])  # (3, G)
    cd = np.zeros((s, 2, g, k, r))  # [:, 0] won within w weeks, [:, 1] still open
    cd[:, 1] = 1.0
    nxt = np.empty_like(cd)
    gain = np.empty((s, g, k, r))
    arr_open = np.zeros((g, k, r))  # sum over j <= w of P(arrival open after j weeks)
    win = np.zeros((3, weeks, k, r))
    opn = np.zeros((3, weeks, k, r))
    for w in range(weeks):
        # Deals arriving at the end of week u have had w - u weeks to move by week w.
        arr_open += cd[0, 1]
        arr_won = lam * cd[0, 0]
        np.einsum("jigkr,ixgkr->jxgkr", a, cd, out=nxt)
        nxt[:, 0] += b
        np.subtract(nxt[:, 0], cd[:, 0], out=gain)
        cd, nxt = nxt, cd
        win[:, w] = np.einsum("vsgr,sgkr->vkr", vals, gain)
        win[:, w] += np.einsum("vg,gkr->vkr", won, arr_won)
        opn[:, w] = np.einsum("vsgr,sgkr->vkr", vals, cd[:, 1])
        for j in range(3):
            opn[j, w] += np.einsum("gkr,gkr->kr", arr_open * lam, amounts[j])
    win_t, opn_t = np.moveaxis(win, 1, -1), np.moveaxis(opn, 1, -1)  # (3, K, R, W)
    return Moments(win_lam=win_t[0], win_m1=win_t[1], win_m2=win_t[2],
                   open_lam=opn_t[0], open_m1=opn_t[1], open_m2=opn_t[2])


def _seg_first(x: FloatArray, shape: tuple[int, ...]) -> FloatArray:
    """Return a (K, R, G) array (or broadcastable) as (G, K, R)."""
    arr = np.broadcast_to(np.asarray(x, dtype=np.float64), (shape[1], shape[2], shape[0]))
    return np.ascontiguousarray(np.transpose(arr, (2, 0, 1)))


@dataclass(frozen=True)
class SimulationResult:
    """Simulated team paths and per-rep quantiles of bookings and open pipeline.

    ``team_bookings`` and ``team_pipeline`` are (paths, W): cumulative bookings and
    open pipeline summed over the reps. ``rep_bookings_q`` and ``rep_pipeline_q``
    are (R, 3, W) p10/p50/p90 per rep (None when not asked for); ``rep_*_mean``
    (R, W) means over paths.
    """

    team_bookings: F32
    team_pipeline: F32
    rep_bookings_q: F32 | None
    rep_pipeline_q: F32 | None
    rep_bookings_mean: FloatArray
    rep_pipeline_mean: FloatArray


class _Params:
    """Per-(week, draw, rep) lognormal parameters of a compound-Poisson draw, float32."""

    def __init__(self, lam: FloatArray, m1: FloatArray, m2: FloatArray) -> None:
        # Inputs are (K, R, W); store (W, K, R) so a week is one contiguous slab.
        lam, m1, m2 = (np.moveaxis(a, -1, 0) for a in (lam, m1, m2))
        p0 = np.exp(-lam)
        q = np.maximum(1.0 - p0, 1e-12)
        cm = np.maximum(m1 / q, 1e-9)
        # Compound Poisson: Var = m2, so E[X^2 | X > 0] = (m2 + m1^2) / q.
        cv2 = np.maximum((m2 + m1 * m1) / q / (cm * cm) - 1.0, 1e-9)
        s2 = np.log1p(cv2)
        self.p0 = np.ascontiguousarray(np.where(lam > 1e-12, p0, 1.0), dtype=np.float32)
        self.scale = np.ascontiguousarray(_TABLE / q, dtype=np.float32)
        self.sigma = np.ascontiguousarray(np.sqrt(s2), dtype=np.float32)
        self.mu = np.ascontiguousarray(np.log(cm) - s2 / 2, dtype=np.float32)

    def draw(self, u: F32, reps: slice) -> F32:
        """Turn uniforms ``(W, M, K, r)`` into compound-Poisson draws, in place."""
        p0 = self.p0[:, None, :, reps]
        pos = u >= p0
        u -= p0
        u *= self.scale[:, None, :, reps]
        np.clip(u, 0, _TABLE - 1, out=u)
        z = _Z[u.astype(np.intp)]
        z *= self.sigma[:, None, :, reps]
        z += self.mu[:, None, :, reps]
        np.exp(z, out=z)
        z *= pos
        return np.asarray(z, dtype=np.float32)


def simulate_paths(
    moments: Moments,
    paths: int,
    seed: int | np.random.SeedSequence,
    *,
    rep_quantiles: bool = True,
    threads: int | None = None,
) -> SimulationResult:
    """Draw ``paths`` paths of cumulative bookings and open pipeline for the chosen reps.

    Given a posterior draw, reps are independent compound-Poisson processes, so
    their sum is compound Poisson with the summed intensity and moments: team
    paths are drawn from the team's moments directly, at a cost that does not
    grow with the number of reps. Per-rep quantiles come from the first
    :data:`REP_QUANTILE_PATHS` paths drawn per rep; per-rep means are exact
    expectations over the posterior draws the paths use.
    """
    k, r, _ = moments.win_lam.shape
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    chunks = [slice(a, min(a + _CHUNK, r)) for a in range(0, r, _CHUNK)]
    team_seed, *seeds = ss.spawn(1 + len(chunks))
    team_rng = np.random.default_rng(team_seed)
    team = []
    for lam, m1, m2 in ((moments.win_lam, moments.win_m1, moments.win_m2),
                        (moments.open_lam, moments.open_m1, moments.open_m2)):
        params = _Params(*(x.sum(axis=1, keepdims=True) for x in (lam, m1, m2)))
        team.append(_draw_paths(params, team_rng, paths, k, slice(0, 1))[..., 0])
    team_b = np.cumsum(team[0], axis=0, dtype=np.float64).T.astype(np.float32)  # (paths, W)
    team_p = np.ascontiguousarray(team[1].T)
    # Paths use posterior draw p % k, so draw k weighs the number of paths it has.
    weight = np.bincount(np.arange(paths) % k, minlength=k) / paths
    rep_b_mean = np.einsum("k,krw->rw", weight, np.cumsum(moments.win_m1, axis=2))
    rep_p_mean = np.einsum("k,krw->rw", weight, moments.open_m1)
    if not rep_quantiles:
        return SimulationResult(team_b, team_p, None, None, rep_b_mean, rep_p_mean)
    win = _Params(moments.win_lam, moments.win_m1, moments.win_m2)
    opn = _Params(moments.open_lam, moments.open_m1, moments.open_m2)
    n_q = min(paths, REP_QUANTILE_PATHS)

    def run(i: int) -> tuple[F32, F32]:
        sl = chunks[i]
        rng = np.random.default_rng(seeds[i])
        b = _draw_paths(win, rng, n_q, k, sl, cumulative=True)
        p = _draw_paths(opn, rng, n_q, k, sl)
        return _quantiles(b), _quantiles(p)

    workers = threads or _THREADS
    if workers > 1 and len(chunks) > 1:
        with ThreadPoolExecutor(max_workers=workers) as ex:
            results = list(ex.map(run, range(len(chunks))))
    else:
        results = [run(i) for i in range(len(chunks))]
    return SimulationResult(
        team_bookings=team_b, team_pipeline=team_p,
        rep_bookings_q=np.concatenate([res[0] for res in results]),
        rep_pipeline_q=np.concatenate([res[1] for res in results]),
        rep_bookings_mean=rep_b_mean, rep_pipeline_mean=rep_p_mean,
    )


def _draw_paths(params: _Params, rng: np.random.Generator, paths: int, k: int,
                reps: slice, cumulative: bool = False) -> F32:
    """Return ``(W, paths, r)`` compound-Poisson draws; path ``p`` uses posterior draw ``p % k``.

    With ``cumulative`` the weekly draws are summed over the weeks of each path.
    """
    w = params.p0.shape[0]
    n = len(range(*reps.indices(params.p0.shape[2])))
    m = -(-paths // k)
    u = rng.random((w, m, k, n), dtype=np.float32)
    x = params.draw(u, reps).reshape(w, m * k, n)
    if cumulative:
        for t in range(1, w):  # row adds: np.cumsum along axis 0 is many times slower
            x[t] += x[t - 1]
    return x[:, :paths]


def _quantiles(x: F32) -> F32:
    """Return p10/p50/p90 over the paths axis of ``(W, paths, r)`` as ``(r, 3, W)``."""
    n = x.shape[1]
    ranks = [min(n - 1, max(0, round(q * (n - 1)))) for q in QUANTILES]
    # A full SIMD sort is about twice as fast as a three-point partition here.
    srt = np.sort(np.ascontiguousarray(np.moveaxis(x, 1, -1)), axis=-1)
    return np.asarray(np.moveaxis(srt[..., ranks], 0, -1), dtype=np.float32)
