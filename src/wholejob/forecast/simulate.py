"""Vectorised Monte Carlo of bookings and open pipeline, over paths, reps and weeks.

Deals move independently through the ladder, and new deals arrive as Poisson
streams; by the thinning theorem the number of deals a rep wins in a week is then
Poisson (exactly for arriving deals, and very nearly for the open ones), and so is
the number still open at the end of a week. The simulation therefore never tracks
a deal: for every posterior draw of the parameters it propagates stage-occupancy
*moments* (deal counts, summed amounts and summed squared amounts per stage)
through the weekly transition matrices, which gives per rep and week the
compound-Poisson intensity ``lam`` and the first two moments ``m1 = lam E[a]``,
``m2 = lam E[a^2]`` of bookings and of open pipeline. Each path then draws one
value per rep and week: zero with probability ``exp(-lam)``, otherwise a lognormal
matched to the conditional mean and variance, so every draw is one uniform number
and a table look-up. Paths share a posterior draw ``p % draws``, which carries
parameter uncertainty into the spread.
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
    """
    k, r, g, n, _ = matrices.shape
    s = n - 2
    won = s
    state = np.zeros((k, r, g, 4, n))
    state[..., 0, :s] = open_count
    state[..., 1, :s] = open_amount
    state[..., 2, :s] = open_amount_sq
    shape = (k, r, weeks)
    win = [np.zeros(shape) for _ in range(4)]
    opn = [np.zeros(shape) for _ in range(4)]
    for w in range(weeks):
        nxt = state @ matrices
        gained = nxt[..., won] - state[..., won]  # (K, R, G, 4)
        nxt[..., 3, 0] += arrival_rate
        state = nxt
        open_now = state[..., :s].sum(axis=-1)  # (K, R, G, 4)
        for i in range(4):
            win[i][..., w] = gained[..., i].sum(axis=-1) if i < 3 else 0.0
            opn[i][..., w] = open_now[..., i].sum(axis=-1) if i < 3 else 0.0
        arr_won, arr_open = gained[..., 3], open_now[..., 3]
        win[3][..., w] = arr_won.sum(axis=-1)
        opn[3][..., w] = arr_open.sum(axis=-1)
        win[1][..., w] += (arr_won * won_m1).sum(axis=-1)
        win[2][..., w] += (arr_won * won_m2).sum(axis=-1)
        opn[1][..., w] += (arr_open * created_m1).sum(axis=-1)
        opn[2][..., w] += (arr_open * created_m2).sum(axis=-1)
    return Moments(
        win_lam=win[0] + win[3], win_m1=win[1], win_m2=win[2],
        open_lam=opn[0] + opn[3], open_m1=opn[1], open_m2=opn[2],
    )


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
    """Draw ``paths`` paths of cumulative bookings and open pipeline for every rep.

    Per-rep quantiles come from the first :data:`REP_QUANTILE_PATHS` paths (sorting
    every path of a thousand reps would cost more than drawing them); team paths
    and per-rep means use all paths.
    """
    k, r, w = moments.win_lam.shape
    m = -(-paths // k)
    win = _Params(moments.win_lam, moments.win_m1, moments.win_m2)
    opn = _Params(moments.open_lam, moments.open_m1, moments.open_m2)
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    chunks = [slice(a, min(a + _CHUNK, r)) for a in range(0, r, _CHUNK)]
    seeds = ss.spawn(len(chunks))
    n_q = min(paths, REP_QUANTILE_PATHS)

    def run(i: int) -> tuple[F32, F32, F32 | None, F32 | None, FloatArray, FloatArray]:
        sl = chunks[i]
        rng = np.random.default_rng(seeds[i])
        n = sl.stop - sl.start
        out = []
        for params in (win, opn):
            u = rng.random((w, m, k, n), dtype=np.float32)
            x = params.draw(u, sl)
            if params is win:
                for t in range(1, w):
                    x[t] += x[t - 1]
            out.append(x.reshape(w, m * k, n)[:, :paths])
        b, p = out
        bq = _quantiles(b[:, :n_q]) if rep_quantiles else None
        pq = _quantiles(p[:, :n_q]) if rep_quantiles else None
        return (b.sum(axis=2, dtype=np.float64).T.astype(np.float32),
                p.sum(axis=2, dtype=np.float64).T.astype(np.float32), bq, pq,
                b.mean(axis=1, dtype=np.float64).T, p.mean(axis=1, dtype=np.float64).T)

    # One thread by default: the draws are memory-bound and two threads measured slower.
    workers = threads or 1
    if workers > 1 and len(chunks) > 1:
        with ThreadPoolExecutor(max_workers=workers) as ex:
            results = list(ex.map(run, range(len(chunks))))
    else:
        results = [run(i) for i in range(len(chunks))]
    team_b = np.asarray(np.sum([res[0] for res in results], axis=0, dtype=np.float64),
                        dtype=np.float32)
    team_p = np.asarray(np.sum([res[1] for res in results], axis=0, dtype=np.float64),
                        dtype=np.float32)
    rbq = np.concatenate([res[2] for res in results if res[2] is not None]) \
        if rep_quantiles else None
    rpq = np.concatenate([res[3] for res in results if res[3] is not None]) \
        if rep_quantiles else None
    return SimulationResult(
        team_bookings=team_b, team_pipeline=team_p,
        rep_bookings_q=rbq, rep_pipeline_q=rpq,
        rep_bookings_mean=np.concatenate([res[4] for res in results]),
        rep_pipeline_mean=np.concatenate([res[5] for res in results]),
    )


def _quantiles(x: F32) -> F32:
    """Return p10/p50/p90 over the paths axis of ``(W, paths, r)`` as ``(r, 3, W)``."""
    n = x.shape[1]
    ranks = [min(n - 1, max(0, round(q * (n - 1)))) for q in QUANTILES]
    part = np.partition(np.ascontiguousarray(np.moveaxis(x, 1, -1)), ranks, axis=-1)
    return np.asarray(np.moveaxis(part[..., ranks], 0, -1), dtype=np.float32)
