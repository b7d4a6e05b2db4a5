"""Benchmark the pipeline forecast: 1,000 reps x 10,000 paths x 26 weeks, and a plain loop.

Not a test: it prints timings for docs/forecast.md and docs/benchmarks.md.

    python benchmarks/forecast.py                    # makes a 12-rep demo in a temp dir
    python benchmarks/forecast.py --workspace DIR    # or reads an existing workspace
    python benchmarks/forecast.py --repeat 5 --threads 1 2

The 1,000-rep team is the workspace's snapshot with its reps resampled (seeded),
so fitting and simulating see realistic pipelines, arrivals and hours. Reported:

* ``fit``: the estimator on 1,000 reps (ladder, response curves, amounts);
* ``simulate``: ``PipelineForecaster.simulate`` with the default 128 posterior
  draws and per-rep quantiles (posterior draws, moment propagation, team paths,
  per-rep quantile paths), median of ``--repeat`` runs, per thread count;
* peak memory of one simulate call (``tracemalloc``, NumPy's allocations
  included) and the process's peak RSS;
* the same path step as a plain Python loop (per path, rep and week, one
  compound-Poisson draw from the same moments) on 50 reps x 200 paths, and the
  speed-up per path-week. The loop is given the moments for free, so the
  speed-up is a lower bound.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from wholejob.forecast import PipelineForecaster, Snapshot, load_snapshot
from wholejob.forecast.simulate import Moments
from wholejob.workspace import init_workspace, open_workspace

FloatArray = npt.NDArray[np.float64]


def demo_snapshot(workspace: Path | None) -> Snapshot:
    """Return the snapshot of ``workspace``, or of a fresh 12-rep, 26-week demo."""
    if workspace is not None:
        with open_workspace(workspace, read_only=True) as ws:
            return load_snapshot(ws)
    from wholejob.demo import generate_demo
    from wholejob.importing.importer import import_paths

    with tempfile.TemporaryDirectory() as tmp:
        generate_demo(Path(tmp) / "data", reps=12, weeks=26, seed=7)
        ws = init_workspace(Path(tmp) / "ws")
        import_paths(ws, [Path(tmp) / "data"])
        try:
            return load_snapshot(ws)
        finally:
            ws.close()


def resample_reps(snap: Snapshot, n: int, seed: int = 0) -> Snapshot:
    """Return a snapshot with ``n`` reps drawn with replacement from ``snap``'s reps."""
    idx = np.random.default_rng(seed).integers(0, len(snap.rep_ids), n)

    def take(a: FloatArray) -> FloatArray:
        return np.ascontiguousarray(a[idx])

    return dataclasses.replace(
        snap, rep_ids=[f"B{i:05d}" for i in range(n)], teams=[snap.teams[i] for i in idx],
        quota=take(snap.quota), open_count=take(snap.open_count),
        open_amount=take(snap.open_amount), open_amount_sq=take(snap.open_amount_sq),
        exposure=take(snap.exposure), moves=take(snap.moves), arrivals=take(snap.arrivals),
        hours=None if snap.hours is None else take(snap.hours),
        won_weekly=take(snap.won_weekly), won_weekly_sq=take(snap.won_weekly_sq),
    )


def loop_paths(mom: Moments, paths: int, seed: int) -> tuple[list[float], list[list[float]]]:
    """Return team cumulative bookings at the last week and per-rep p50s, one path at a time.

    The obvious implementation: for every path, rep and week draw zero with
    probability exp(-lam), else a lognormal with the conditional mean and variance.
    """
    rnd = random.Random(seed)
    k, r, w = mom.win_lam.shape
    nd = NormalDist()
    team_end: list[float] = []
    rep_paths: list[list[float]] = [[] for _ in range(r)]
    for p in range(paths):
        d = p % k
        team = 0.0
        for i in range(r):
            cum = 0.0
            for t in range(w):
                lam = float(mom.win_lam[d, i, t])
                m1 = float(mom.win_m1[d, i, t])
                m2 = float(mom.win_m2[d, i, t])
                q = 1.0 - math.exp(-lam)
                if lam <= 1e-12 or rnd.random() >= q:
                    continue
                cm = m1 / q
                cv2 = max((m2 + m1 * m1) / q / (cm * cm) - 1.0, 1e-9)
                s2 = math.log1p(cv2)
                z = nd.inv_cdf(min(max(rnd.random(), 1e-12), 1 - 1e-12))
                cum += math.exp(math.log(cm) - s2 / 2 + math.sqrt(s2) * z)
            # Open pipeline: one more draw per rep and week in the real thing.
            for t in range(w):
                lam = float(mom.open_lam[d, i, t])
                if lam > 1e-12 and rnd.random() < 1.0 - math.exp(-lam):
                    nd.inv_cdf(min(max(rnd.random(), 1e-12), 1 - 1e-12))
            rep_paths[i].append(cum)
            team += cum
        team_end.append(team)
    p50 = [[statistics.median(x)] for x in rep_paths]
    return team_end, p50


def machine() -> dict[str, str]:
    """Return the facts the docs put next to the numbers."""
    model = "unknown"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        model = next((ln.split(":", 1)[1].strip() for ln in out.splitlines()
                      if ln.startswith("Model name")), model)
    except OSError:
        pass
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "nproc": str(os.cpu_count()), "cpu": model, "ram": f"{ram:.0f} GiB",
        "python": platform.python_version(), "numpy": np.__version__,
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a Markdown summary."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workspace", type=Path)
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--paths", type=int, default=10_000)
    ap.add_argument("--weeks", type=int, default=26)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--loop-reps", type=int, default=50)
    ap.add_argument("--loop-paths", type=int, default=200)
    args = ap.parse_args(argv)

    info = machine()
    print("machine: " + ", ".join(f"{k} {v}" for k, v in info.items()))
    snap = resample_reps(demo_snapshot(args.workspace), args.reps)
    t0 = time.perf_counter()
    model = PipelineForecaster().fit(snap)
    fit_s = time.perf_counter() - t0
    print(f"fit on {args.reps} reps: {fit_s:.2f} s")

    rows = []
    for threads in args.threads:
        times = []
        for i in range(args.repeat):
            t0 = time.perf_counter()
            model.simulate(args.weeks, args.paths, seed=i, threads=threads)
            times.append(time.perf_counter() - t0)
        rows.append((threads, statistics.median(times), min(times), max(times)))
        print(f"simulate {args.reps} reps x {args.paths} paths x {args.weeks} weeks, "
              f"{threads} thread(s): median {rows[-1][1]:.2f} s "
              f"(min {rows[-1][2]:.2f}, max {rows[-1][3]:.2f}, {args.repeat} runs)")
    tracemalloc.start()
    model.simulate(args.weeks, args.paths, seed=0)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10  # KiB on Linux
    print(f"peak traced memory of one simulate: {peak / 2**20:.0f} MiB; "
          f"process peak RSS: {rss:.0f} MiB")

    # The plain loop, on a smaller team, from the same model's moments.
    small = PipelineForecaster().fit(resample_reps(snap, args.loop_reps, seed=1))
    draws = small._draws(np.random.default_rng(0), small.draws)
    mom = small.moments(args.weeks, draws)
    t0 = time.perf_counter()
    loop_team, _ = loop_paths(mom, args.loop_paths, 0)
    loop_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    vec = small.simulate(args.weeks, args.loop_paths, seed=0)
    vec_small_s = time.perf_counter() - t0
    loop_pw = loop_s / (args.loop_paths * args.loop_reps * args.weeks)
    best = min(r[1] for r in rows)
    vec_pw = best / (args.paths * args.reps * args.weeks)
    print(f"plain loop, {args.loop_reps} reps x {args.loop_paths} paths x {args.weeks} weeks: "
          f"{loop_s:.2f} s ({loop_pw * 1e6:.2f} us per rep-path-week); vectorised on the same "
          f"size {vec_small_s:.3f} s")
    print(f"vectorised at full size: {vec_pw * 1e9:.2f} ns per rep-path-week; "
          f"speed-up {loop_pw / vec_pw:,.0f}x")
    print(f"check, team mean bookings at week {args.weeks}: loop "
          f"{np.mean(loop_team):,.0f}, vectorised {vec.team_bookings[:, -1].mean():,.0f}")
    print(f"load after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
