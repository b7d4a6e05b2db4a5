"""Benchmark wholejob at scale: 10 M activities, 1,000 reps, ~400,000 opportunities.

Not a test: it prints the figures of docs/benchmarks.md ("Scale"). One command
reproduces all of them (data generation is not timed; the full run takes about
15-20 minutes on 2 cores)::

    python benchmarks/scale.py                 # full size, 3 runs of each figure
    python benchmarks/scale.py --small         # a quick check on a small demo team

Figures, each the median of ``--repeat`` runs, each phase in a fresh child
process. Peak memory is the larger of the phase process's peak RSS
(``ru_maxrss``: Python, NumPy, scikit-learn and DuckDB together) and the peak of
the summed PSS of it and the worker processes it starts to predict texts (sampled
at most every 0.5 s, costing at most 5 % of a core; shared pages counted once):

* ``import``: :func:`wholejob.importing.importer.import_paths` of the generated
  Parquet files into a new workspace; rows/s over all rows read.
* ``analysis``: what ``wholejob report`` / ``diagnose`` compute for the whole
  team: :func:`wholejob.measures.build_scorecard` (classification by labels,
  rules and the text model, then every measure), :func:`wholejob.balance.with_balance`
  and :func:`wholejob.findings.diagnose`. The workspace's cached text model is
  deleted first, so training it is included, as on the first report after an import.
* ``analysis again``: the same with the fitted text model and its stored
  answers per text kept from the run before, the cached classification deleted
  (a report after an import that changed the data, less its new texts); and
  with all of ``cache/`` kept (every later report on unchanged data).
* ``aggregates``: hours and activity counts per rep x practice x week, from
  already-classified rows (the library's prepared activity table, written once
  to Parquet, not timed): the library's own aggregate
  (:func:`wholejob.measures.hours.measure_hours`, what ``build_scorecard`` uses;
  the effort samples are a separate query), a hand-written DuckDB SQL
  query and the straightforward pandas version, in the same process on the same
  rows. Also, for reference, the hand-written query on the rows re-laid with rep
  and practice as small integer codes (the encoding is not timed): how fast any
  SQL aggregate gets on this machine. The results are checked equal before any
  time is reported.
* ``forecast``: ``benchmarks/forecast.py`` (1,000 reps x 10,000 paths x 26
  weeks against a plain per-path loop on a smaller size), run as it is.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
FULL = {"reps": 1000, "weeks": 75, "burn_in_weeks": 40}
SMALL = {"reps": 20, "weeks": 12, "burn_in_weeks": 16}
# Peak memory's bar is 4 GB read strictly: 4 * 10^9 bytes (3.73 GiB).
TARGETS = {"import_analysis_s": 60.0, "vs_sql": 1.5, "vs_pandas": 10.0, "peak_gb": 4.0}


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _pss_kib(pid: int) -> int:
    """Proportional set size of one process: shared pages split among their users."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
            return next(int(ln.split()[1]) for ln in f if ln.startswith("Pss:"))
    except (OSError, StopIteration, ValueError):
        return 0  # the process ended between listing and reading


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*/children"):
            with contextlib.suppress(OSError):  # it ended meanwhile
                todo += [int(c) for c in task.read_text(encoding="ascii").split()]
    return out


class TreeMemory:
    """Peak of the summed PSS of this process and every process it started.

    ``ru_maxrss`` sees only this process; the text model predicts in worker
    processes, so the phase's real footprint is the whole tree's, each shared page
    counted once (PSS). Sampled in a thread, at most every ``every`` seconds and
    at most ``max_share`` of one core; Linux only.
    """

    def __init__(self, every: float = 0.5, max_share: float = 0.05) -> None:
        self.every, self.max_share, self.peak_kib = every, max_share, 0
        self.samples, self.cpu_s = 0, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        # The kernel walks every page table entry to answer smaps_rollup: 60 ms for
        # a 3 GB DuckDB process at rest, 120-200 ms while it works, for each
        # process. So the pause after a sample is at least 1/max_share times what
        # the sample cost, and sampling takes at most max_share of one core.
        wait = self.every
        while not self._stop.wait(wait):
            t0 = time.thread_time()
            total = sum(_pss_kib(p) for p in _descendants(os.getpid()))
            cost = time.thread_time() - t0
            self.samples, self.cpu_s = self.samples + 1, self.cpu_s + cost
            self.peak_kib = max(self.peak_kib, total)
            wait = max(self.every, cost / self.max_share)

    def start(self) -> TreeMemory:
        if Path("/proc/self/smaps_rollup").exists():
            self._thread.start()
        return self


TREE = TreeMemory()


def _emit(result: dict[str, Any]) -> None:
    tree = TREE.peak_kib / 1024
    print("RESULT " + json.dumps({**result, "peak_rss_mib": _rss_mib(), "peak_tree_pss_mib": tree,
                                  "peak_mib": max(_rss_mib(), tree),
                                  "memory_samples": TREE.samples,
                                  "memory_sampling_cpu_s": TREE.cpu_s}), flush=True)


# --- phases, each run in its own child process -------------------------------------------


def phase_generate(data: Path, size: dict[str, int]) -> None:
    """Write the demo team's Parquet files (not timed)."""
    from wholejob.demo import generate_demo

    r = generate_demo(data, reps=size["reps"], weeks=size["weeks"],
                      burn_in_weeks=size["burn_in_weeks"], fmt="parquet")
    _emit({"rows": r.rows, "seconds": r.seconds})


def phase_import(data: Path, workspace: Path) -> None:
    """Import the files into a fresh workspace."""
    from wholejob.importing.importer import import_paths
    from wholejob.workspace import init_workspace

    shutil.rmtree(workspace, ignore_errors=True)
    ws = init_workspace(workspace)
    t0 = time.perf_counter()
    summary = import_paths(ws, [data])
    seconds = time.perf_counter() - t0
    ws.close()
    counts = summary.to_json()["entities"]
    _emit({"seconds": seconds, "rows": sum(e["read"] for e in counts.values()),
           "rejected": sum(e["rejected"] for e in counts.values()),
           "activities": counts["activities"]["read"]})


def phase_analysis(workspace: Path, export: Path | None = None, *, warm: str = "") -> None:
    """Classification + scorecard + balance + findings for the whole team, cold model.

    With ``warm="answers"``, the fitted text model and its stored answers per text
    are kept from the previous run but the classification is not (what a report
    after an import that changed the data costs, less the few new texts); with
    ``warm="all"``, the whole ``cache/`` is kept, the classification too (what
    every later report on unchanged data costs).

    With ``export``, the library's classified, prepared activity table is kept
    past the scorecard (its release is deferred until the timing has ended) and
    written to that Parquet file afterwards, so the aggregate comparison reads
    exactly the rows the analysis classified without classifying them again.
    """
    from wholejob.balance import with_balance
    from wholejob.classification_cache import PREFIX as CLASSIFIED_PREFIX
    from wholejob.findings import diagnose
    from wholejob.jobmodel import load_job_model
    from wholejob.measures import build_scorecard
    from wholejob.measures.base import Inputs
    from wholejob.workspace import open_workspace

    kept: list[Inputs] = []
    release = Inputs.release
    if export is not None:
        Inputs.release = lambda self: kept.append(self)  # type: ignore[method-assign]
    if not warm:
        shutil.rmtree(workspace / "cache", ignore_errors=True)
    elif warm == "answers":
        for path in (workspace / "cache").glob(f"{CLASSIFIED_PREFIX}*"):
            path.unlink()
    with open_workspace(workspace, read_only=True) as ws:
        t0 = time.perf_counter()
        model = load_job_model(ws.config, source=str(ws.config_path))
        scorecard = with_balance(build_scorecard(ws, model=model), model)
        findings = diagnose(scorecard, model)
        seconds = time.perf_counter() - t0
        peak = max(_rss_mib(), TREE.peak_kib / 1024)  # before the export below
        if export is not None:
            inp = kept[0]
            cols = ["activity_id", "rep_id", "practice", "week", "hours", "in_period",
                    *[f"tag_{p}" for p in model.account_ids], "started_at"]
            ws.con.raw_sql(f"COPY (SELECT {', '.join(cols)} FROM {inp.acts.get_name()}) "
                           f"TO '{export}' (FORMAT parquet)")
            release(inp)
    _emit({"seconds": seconds, "reps": len(scorecard.reps), "findings": len(findings),
           "analysis_peak_rss_mib": peak, "account_practices": model.account_ids})


def _sql_baseline(con: Any, tags: list[str]) -> Any:
    """The hand-written query: one GROUP BY for practices, one per account practice."""
    tagged = " UNION ALL ".join(
        f"SELECT rep_id, 'tag_{p}' AS practice, week, sum(hours) AS hours, count(*) AS n "
        f"FROM acts WHERE in_period AND tag_{p} GROUP BY rep_id, week" for p in tags
    )
    sql = ("SELECT rep_id, practice, week, sum(hours) AS hours, count(*) AS n FROM acts "
           f"WHERE in_period GROUP BY rep_id, practice, week UNION ALL {tagged}")
    return con.sql(sql).to_arrow_table()


def _encode(con: Any) -> dict[str, list[str]]:
    """Add ``coded``: ``acts`` with rep and practice as small integer codes (not timed).

    The reference for how fast any SQL aggregate can be here: the same rows as
    an expert would lay them out for grouping, with each code's name returned.
    """
    names: dict[str, list[str]] = {}
    for c in ("rep_id", "practice"):
        con.sql(f"CREATE TABLE code_{c} AS SELECT {c}, CAST(row_number() OVER (ORDER BY {c}) "
                f"- 1 AS SMALLINT) AS code FROM (SELECT DISTINCT {c} FROM acts)")
        names[c] = [r[0] for r in con.sql(f"SELECT {c} FROM code_{c} ORDER BY code").fetchall()]
    con.sql("CREATE TABLE coded AS SELECT r.code AS rep, p.code AS practice, "
            "CAST(a.week AS SMALLINT) AS week, a.* EXCLUDE (rep_id, practice, week) FROM acts a "
            "JOIN code_rep_id r USING (rep_id) JOIN code_practice p USING (practice)")
    return names


def _sql_codes(con: Any, tags: list[str]) -> Any:
    """One scan over the coded rows; each tag's rep-week totals rolled up from its cells.

    A tag's practice code is ``-1 - i`` for the ``i``-th tag.
    """
    agg = ", ".join(["sum(hours) AS hours", "count(*) AS n"]
                    + [f"sum(hours) FILTER (WHERE tag_{p}) AS h_{p}" for p in tags]
                    + [f"count(*) FILTER (WHERE tag_{p}) AS n_{p}" for p in tags])
    tagged = "".join(
        f" UNION ALL SELECT rep, CAST({-1 - i} AS SMALLINT), week, sum(h_{p}), sum(n_{p}) "
        f"FROM cells WHERE n_{p} > 0 GROUP BY rep, week" for i, p in enumerate(tags))
    return con.sql(f"WITH cells AS (SELECT rep, practice, week, {agg} FROM coded "
                   "WHERE in_period GROUP BY rep, practice, week) "
                   f"SELECT rep, practice, week, hours, n FROM cells{tagged}").to_arrow_table()


def _cells_of_codes(t: Any, names: dict[str, list[str]], tags: list[str]) -> Cells:
    """The coded result as named cells (tag ``i`` is practice code ``-1 - i``)."""
    reps, practices = names["rep_id"], names["practice"]
    return {(reps[r], practices[p] if p >= 0 else f"tag_{tags[-1 - p]}", int(w)): (h, int(n))
            for r, p, w, h, n in zip(*(t.column(c).to_pylist() for c in t.column_names),
                                     strict=True)}


def _pandas_baseline(df: Any, tags: list[str]) -> Any:
    """What an analyst writes: groupby per practice, then per tagged practice."""
    import pandas as pd

    a = df[df["in_period"]]
    parts = [a.groupby(["rep_id", "practice", "week"])["hours"].agg(["sum", "size"])
             .reset_index()]
    for p in tags:
        t = a[a[f"tag_{p}"]].groupby(["rep_id", "week"])["hours"].agg(["sum", "size"])
        parts.append(t.reset_index().assign(practice=f"tag_{p}"))
    return pd.concat(parts, ignore_index=True)


Cells = dict[tuple[str, str, int], tuple[float, int]]


def _cells_of_arrow(t: Any) -> Cells:
    cols = (t.column(c).to_pylist() for c in ("rep_id", "practice", "week", "hours", "n"))
    return {(r, p, int(w)): (h, int(n)) for r, p, w, h, n in zip(*cols, strict=True)}


def _cells_of_pandas(df: Any) -> Cells:
    return {(r, p, int(w)): (h, int(n)) for r, p, w, h, n in zip(
        df["rep_id"], df["practice"], df["week"], df["sum"], df["size"], strict=True)}


def _library(inp: Any) -> Any:
    from wholejob.measures.hours import measure_hours

    return measure_hours(inp)


def _cells_of_hours(h: Any) -> tuple[Cells, dict[tuple[str, str], int]]:
    cells = _cells_of_arrow(h.to_arrow())
    counts = {(r, p): n for r in h.reps for p in h.keys if (n := h.count(r, p))}
    return cells, counts


def _same(a: dict[Any, tuple[float, int]], b: dict[Any, tuple[float, int]], what: str) -> None:
    def hours(d: dict[Any, tuple[float, int]]) -> dict[Any, float]:
        return {k: v[0] for k, v in d.items() if v[0]}  # a zero-hour cell is no cell

    ha, hb = hours(a), hours(b)
    if ha.keys() != hb.keys():
        raise AssertionError(f"{what}: {len(ha.keys() ^ hb.keys())} cells differ")
    bad = [k for k in ha if abs(ha[k] - hb[k]) > 1e-6 * max(1.0, abs(hb[k]))]
    if bad:
        raise AssertionError(f"{what}: {len(bad)} cells differ, e.g. {bad[0]}")


def _counts(d: dict[tuple[str, str, int], tuple[float, int]]) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = {}
    for (r, p, _), (_, n) in d.items():
        out[(r, p)] = out.get((r, p), 0) + n
    return {k: v for k, v in out.items() if v}


def phase_aggregates(parquet: Path, repeat: int, tags: list[str]) -> None:
    """Time the library, hand-written SQL and pandas on the same classified rows."""
    import ibis
    import pandas as pd

    from wholejob.jobmodel import load_job_model
    from wholejob.measures.base import Inputs

    con = ibis.duckdb.connect()
    con.raw_sql(f"CREATE TABLE acts AS SELECT * FROM read_parquet('{parquet}')")
    model = load_job_model(None)
    inp = Inputs(ws=None, model=model, period=None, ladder=None,  # type: ignore[arg-type]
                 acts=con.table("acts"), opps=None, hist=None,  # type: ignore[arg-type]
                 has_activities=True, has_opportunities=True, has_history=True)
    df = pd.read_parquet(parquet)
    raw = con.con
    names = _encode(raw)
    times: dict[str, list[float]] = {"wholejob": [], "sql": [], "sql_codes": [], "pandas": []}
    results: dict[str, Any] = {}
    for _ in range(repeat):
        for name, fn in (("wholejob", lambda: _library(inp)),
                         ("sql", lambda: _sql_baseline(raw, tags)),
                         ("sql_codes", lambda: _sql_codes(raw, tags)),
                         ("pandas", lambda: _pandas_baseline(df, tags))):
            t0 = time.perf_counter()
            results[name] = fn()
            times[name].append(time.perf_counter() - t0)
    # Checked after timing: each result in its own natural form, compared cell by cell.
    lib_hours, lib_counts = _cells_of_hours(results["wholejob"])
    sql, pandas_ = _cells_of_arrow(results["sql"]), _cells_of_pandas(results["pandas"])
    _same(lib_hours, sql, "wholejob vs SQL")
    _same(pandas_, sql, "pandas vs SQL")
    coded = _cells_of_codes(results["sql_codes"], names, tags)
    _same(coded, sql, "SQL on codes vs SQL")
    if _counts(coded) != _counts(sql):
        raise AssertionError("SQL on codes vs SQL: activity counts differ")
    if _counts(sql) != lib_counts or _counts(lib_hours) != lib_counts:
        raise AssertionError("wholejob vs SQL: activity counts differ")
    if _counts(pandas_) != _counts(sql):
        raise AssertionError("pandas vs SQL: activity counts differ")
    _emit({"times": times, "cells": len(sql), "rows": len(df), "equal": True})


# --- the parent: run phases, take medians, print the summary ------------------------------


def _child(*args: str) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--phase", *args]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(args[:1])} failed:\n{out.stderr[-4000:]}")
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("RESULT "))
    result: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
    return result


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _stats(xs: list[float]) -> str:
    return f"{statistics.median(xs):.2f} s (min {min(xs):.2f}, max {max(xs):.2f}, n={len(xs)})"


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run every figure and return them (also printed as they come)."""
    size = SMALL if args.small else FULL
    work: Path = args.work
    data = args.data or work / ("data-small" if args.small else "data")
    work.mkdir(parents=True, exist_ok=True)
    print(f"machine: {platform.python_version()}, nproc {os.cpu_count()}, load {_load()}")
    if not (data / "activities.parquet").is_file():
        print(f"generating {size} into {data} (not timed) ...", flush=True)
        g = _child("generate", str(data), json.dumps(size))
        print(f"  rows {g['rows']}, {g['seconds']:.0f} s")
    res: dict[str, Any] = {"size": size, "load_before": _load()}
    ws = work / "ws"
    imp = [_child("import", str(data), str(ws)) for _ in range(args.repeat)]
    res["import"] = imp
    t_imp = statistics.median(r["seconds"] for r in imp)
    rows = imp[0]["rows"]
    print(f"import: {_stats([r['seconds'] for r in imp])}; {rows:,} rows "
          f"({imp[0]['activities']:,} activities), {rows / t_imp:,.0f} rows/s; "
          f"peak memory {max(r['peak_mib'] for r in imp):,.0f} MiB", flush=True)
    parquet = work / "classified.parquet"
    # The last run also writes the classified rows for the aggregates (after its timing).
    n_ana = args.analysis_repeat or args.repeat
    ana = [_child("analysis", str(ws), *([str(parquet)] if i == n_ana - 1 else []))
           for i in range(n_ana)]
    res["analysis"] = ana
    t_ana = statistics.median(r["seconds"] for r in ana)
    print(f"analysis: {_stats([r['seconds'] for r in ana])}; {ana[0]['reps']} reps, "
          f"{ana[0]['findings']} findings; peak memory "
          f"{max(r['analysis_peak_rss_mib'] for r in ana):,.0f} MiB", flush=True)
    answers = [_child("analysis-answers", str(ws)) for _ in range(n_ana)]
    res["analysis_answers"] = answers
    print(f"analysis again, text model and its answers cached, classification not: "
          f"{_stats([r['seconds'] for r in answers])}; peak memory "
          f"{max(r['analysis_peak_rss_mib'] for r in answers):,.0f} MiB", flush=True)
    warm = [_child("analysis-warm", str(ws)) for _ in range(n_ana)]
    res["analysis_warm"] = warm
    print(f"analysis again, data unchanged (classification cached too): "
          f"{_stats([r['seconds'] for r in warm])}; peak memory "
          f"{max(r['analysis_peak_rss_mib'] for r in warm):,.0f} MiB", flush=True)
    tags = json.dumps(ana[-1]["account_practices"])
    agg = _child("aggregates", str(parquet), str(args.agg_repeat), tags)
    res["aggregates"] = agg
    med = {k: statistics.median(v) for k, v in agg["times"].items()}
    print(f"aggregates on {agg['rows']:,} classified rows, {agg['cells']:,} cells, equal: "
          + "; ".join(f"{k} {_stats(v)}" for k, v in agg["times"].items()), flush=True)
    peak = max([r["peak_mib"] for r in imp]
               + [r["analysis_peak_rss_mib"] for r in ana + answers + warm])
    peak /= 1024  # GiB
    peak_gb = peak * 1024**3 / 1e9
    res["summary"] = summary = {
        "import_analysis_s": t_imp + t_ana, "import_rows_per_s": rows / t_imp,
        "import_answers_s": t_imp + statistics.median(r["seconds"] for r in answers),
        "import_warm_s": t_imp + statistics.median(r["seconds"] for r in warm),
        "vs_sql": med["wholejob"] / med["sql"], "vs_pandas": med["pandas"] / med["wholejob"],
        "sql_codes_vs_pandas": med["pandas"] / med["sql_codes"],
        "peak_gib": peak, "peak_gb": peak_gb,
    }
    res["load_after"] = _load()
    print(f"\nload average before {res['load_before']}, after {res['load_after']}")
    print("| target | measured | met |\n|---|---|---|")
    print(f"| import + analysis < {TARGETS['import_analysis_s']:.0f} s | "
          f"{summary['import_analysis_s']:.1f} s | "
          f"{summary['import_analysis_s'] < TARGETS['import_analysis_s']} |")
    print(f"| (not the target: import + analysis again, answers cached / classification "
          f"cached) | {summary['import_answers_s']:.1f} s / {summary['import_warm_s']:.1f} s | |")
    print(f"| aggregates within {TARGETS['vs_sql']}x of SQL | {summary['vs_sql']:.2f}x | "
          f"{summary['vs_sql'] <= TARGETS['vs_sql']} |")
    print(f"| >= {TARGETS['vs_pandas']:.0f}x faster than pandas | {summary['vs_pandas']:.1f}x | "
          f"{summary['vs_pandas'] >= TARGETS['vs_pandas']} |")
    print(f"| (not a target: hand-written SQL on integer codes vs pandas) | "
          f"{summary['sql_codes_vs_pandas']:.1f}x faster | |")
    print(f"| peak memory < {TARGETS['peak_gb']:.0f} GB | {peak_gb:.2f} GB ({peak:.2f} GiB) | "
          f"{peak_gb < TARGETS['peak_gb']} |", flush=True)
    if not args.skip_forecast:
        fc = [sys.executable, str(HERE / "forecast.py"), "--repeat", str(args.repeat)]
        if args.small:
            fc += ["--reps", "100", "--paths", "1000", "--threads", "1"]
        print("\nforecast (benchmarks/forecast.py):", flush=True)
        subprocess.run(fc, check=True)
    if args.json is not None:
        args.json.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    return res


def main(argv: list[str] | None = None) -> int:
    """Parse arguments; run one phase (child) or the whole benchmark (parent)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--phase"]:
        name, *rest = argv[1:]
        TREE.start()
        if name == "generate":
            phase_generate(Path(rest[0]), json.loads(rest[1]))
        elif name == "import":
            phase_import(Path(rest[0]), Path(rest[1]))
        elif name == "analysis":
            phase_analysis(Path(rest[0]), Path(rest[1]) if len(rest) > 1 else None)
        elif name == "analysis-answers":
            phase_analysis(Path(rest[0]), warm="answers")
        elif name == "analysis-warm":
            phase_analysis(Path(rest[0]), warm="all")
        elif name == "aggregates":
            phase_aggregates(Path(rest[0]), int(rest[1]), json.loads(rest[2]))
        else:
            raise SystemExit(f"unknown phase {name!r}")
        return 0
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--small", action="store_true", help="a small team: a quick check")
    ap.add_argument("--work", type=Path, default=Path("/tmp/wholejob-scale"),
                    help="folder for generated data and workspaces (default %(default)s)")
    ap.add_argument("--data", type=Path, help="use (or generate) the demo files here")
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs of import and analysis (median; default %(default)s)")
    ap.add_argument("--analysis-repeat", type=int,
                    help="runs of each analysis (default: --repeat)")
    ap.add_argument("--agg-repeat", type=int, default=5,
                    help="runs of each aggregate implementation (median; default %(default)s)")
    ap.add_argument("--skip-forecast", action="store_true")
    ap.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    run(ap.parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
