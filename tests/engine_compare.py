"""Compare the analysis of one workspace on two engines (e.g. DuckDB and Spark).

A plain helper module (not a test file): each ``assert_*`` function takes two
workspace-like objects, or what the analysis made of them, and raises
``AssertionError`` listing every difference with its path (``reps[R00003].
practices[prospecting].measures[win_rate].value: 0.25 != 0.2500001``).

What "equal" means:

- strings, ints, bools, dates, ``None`` and the order of lists are exactly equal
  (unknown must stay unknown on both engines);
- floats agree within ``rel=REL_TOL`` *or* ``abs=ABS_TOL`` (both 1e-9): the engines
  add floating-point numbers in different orders (parallel partial sums on
  Spark), so sums of ~10^4 hours or ~10^7 dollars differ in the last bits
  (~1e-16 relative), far inside 1e-9; anything larger is a real difference;
- lists keep their order: the library sorts what an engine leaves unordered
  (``record_ids`` of measures, the ids of a trace), so even the ids a finding
  quotes must match;
- NumPy arrays have the same shape, NaN in the same places and the other values
  within the same tolerance.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import numpy as np

REL_TOL = 1e-9
ABS_TOL = 1e-9
MAX_REPORTED = 40

__all__ = [
    "ABS_TOL",
    "REL_TOL",
    "assert_balance_equal",
    "assert_classification_equal",
    "assert_findings_equal",
    "assert_same",
    "assert_scorecards_equal",
    "assert_snapshots_equal",
    "assert_traces_equal",
    "compare_analysis",
    "differences",
]


def _label(item: Any) -> str | None:
    """A readable key for list items that have one (reps, measures, findings)."""
    for attr in ("rep_id", "measure_id"):
        v = getattr(item, attr, None)
        if isinstance(v, str):
            extra = getattr(item, "practice", None) if attr == "rep_id" else None
            kind = getattr(item, "kind", None)
            if extra is not None and kind is not None:  # a Finding
                return f"{v}/{extra}/{kind}"
            return v
    return None


def differences(a: Any, b: Any, path: str = "", *, rel: float = REL_TOL,
                abs_: float = ABS_TOL) -> list[str]:
    """Return every difference between ``a`` and ``b`` as ``path: a != b`` lines."""
    out: list[str] = []
    _diff(a, b, path or "value", out, rel, abs_)
    return out


def _diff(a: Any, b: Any, path: str, out: list[str], rel: float, abs_: float) -> None:
    if a is None or b is None:
        if not (a is None and b is None):
            out.append(f"{path}: {a!r} != {b!r} (unknown on one engine only)")
        return
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        _diff_array(np.asarray(a), np.asarray(b), path, out, rel, abs_)
        return
    if isinstance(a, bool) or isinstance(b, bool):
        if a is not b and a != b:
            out.append(f"{path}: {a!r} != {b!r}")
        return
    if isinstance(a, float | np.floating) or isinstance(b, float | np.floating):
        if not isinstance(a, int | float | np.number) or not isinstance(b, int | float | np.number):
            out.append(f"{path}: {a!r} != {b!r} (types {type(a).__name__}, {type(b).__name__})")
            return
        fa, fb = float(a), float(b)
        if math.isnan(fa) or math.isnan(fb):
            if not (math.isnan(fa) and math.isnan(fb)):
                out.append(f"{path}: {fa!r} != {fb!r} (NaN on one engine only)")
            return
        if not math.isclose(fa, fb, rel_tol=rel, abs_tol=abs_):
            out.append(f"{path}: {fa!r} != {fb!r} (diff {fb - fa:.3g})")
        return
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        if type(a) is not type(b):
            out.append(f"{path}: {type(a).__name__} != {type(b).__name__}")
            return
        for f in dataclasses.fields(a):
            _diff(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}", out, rel, abs_)
        return
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        ka, kb = set(a), set(b)
        for k in sorted(ka - kb, key=str):
            out.append(f"{path}[{k!r}]: only on the first engine ({a[k]!r})")
        for k in sorted(kb - ka, key=str):
            out.append(f"{path}[{k!r}]: only on the second engine ({b[k]!r})")
        for k in sorted(ka & kb, key=str):
            _diff(a[k], b[k], f"{path}[{k!r}]", out, rel, abs_)
        return
    if (isinstance(a, Sequence) and isinstance(b, Sequence)
            and not isinstance(a, str | bytes) and not isinstance(b, str | bytes)):
        la, lb = list(a), list(b)
        if len(la) != len(lb):
            out.append(f"{path}: {len(la)} items != {len(lb)} items"
                       + (f" ({_short(la)} vs {_short(lb)})" if len(la) + len(lb) < 40 else ""))
            return
        for i, (x, y) in enumerate(zip(la, lb, strict=True)):
            key = _label(x)
            sub = f"{path}[{key}]" if key is not None and key == _label(y) else f"{path}[{i}]"
            _diff(x, y, sub, out, rel, abs_)
        return
    if isinstance(a, datetime | date) or isinstance(b, datetime | date):
        if type(a) is not type(b) or a != b:
            out.append(f"{path}: {a!r} != {b!r}")
        return
    if a != b:
        out.append(f"{path}: {a!r} != {b!r}")


def _short(items: list[Any]) -> str:
    return repr(items)


def _diff_array(a: np.ndarray, b: np.ndarray, path: str, out: list[str], rel: float,
                abs_: float) -> None:
    if a.shape != b.shape:
        out.append(f"{path}: shape {a.shape} != {b.shape}")
        return
    if a.dtype.kind not in "fciub" or b.dtype.kind not in "fciub":
        bad = np.argwhere(a != b)
        for idx in bad[:5]:
            out.append(f"{path}[{tuple(int(i) for i in idx)}]: {a[tuple(idx)]!r} != "
                       f"{b[tuple(idx)]!r}")
        return
    fa, fb = a.astype(np.float64), b.astype(np.float64)
    nan_a, nan_b = np.isnan(fa), np.isnan(fb)
    close = np.isclose(fa, fb, rtol=rel, atol=abs_) & ~nan_a & ~nan_b
    # np.isclose is asymmetric; also accept math.isclose's symmetric bound.
    sym = np.abs(fa - fb) <= np.maximum(rel * np.maximum(np.abs(fa), np.abs(fb)), abs_)
    ok = (nan_a & nan_b) | close | (sym & ~nan_a & ~nan_b)
    bad = np.argwhere(~ok)
    if len(bad):
        out.append(f"{path}: {len(bad)} of {fa.size} elements differ")
        for idx in bad[:5]:
            t = tuple(int(i) for i in idx)
            out.append(f"{path}{list(t)}: {fa[t]!r} != {fb[t]!r}")


def assert_same(a: Any, b: Any, what: str, *, rel: float = REL_TOL,
                abs_: float = ABS_TOL) -> None:
    """Assert ``a`` and ``b`` are equal in the sense of this module's docstring."""
    diffs = differences(a, b, what, rel=rel, abs_=abs_)
    if diffs:
        shown = "\n  ".join(diffs[:MAX_REPORTED])
        more = f"\n  ... and {len(diffs) - MAX_REPORTED} more" if len(diffs) > MAX_REPORTED else ""
        raise AssertionError(
            f"{what} differs between the engines ({len(diffs)} differences, "
            f"rel {rel:g} / abs {abs_:g}):\n  {shown}{more}"
        )


# --- classification -----------------------------------------------------------------

def _classified_rows(ws: Any) -> dict[str, dict[str, Any]]:
    from wholejob.practice_assignment import classify_workspace

    t = classify_workspace(ws)
    rows = t.to_pyarrow().to_pylist()
    return {r["activity_id"]: r for r in rows}


def assert_classification_equal(ws_a: Any, ws_b: Any, *, rel: float = REL_TOL,
                                abs_: float = ABS_TOL) -> dict[str, dict[str, Any]]:
    """Classify both workspaces; every activity's practice, method, rule and confidence match.

    Returns the first engine's rows by activity id.
    """
    a, b = _classified_rows(ws_a), _classified_rows(ws_b)
    assert_same(a, b, "classify_workspace", rel=rel, abs_=abs_)
    return a


# --- scorecard, balance, findings ---------------------------------------------------

def assert_scorecards_equal(a: Any, b: Any, *, rel: float = REL_TOL,
                            abs_: float = ABS_TOL) -> None:
    """Every rep x practice hours, shares, scores and measure values are equal."""
    assert [r.rep_id for r in a.reps] == [r.rep_id for r in b.reps], "reps differ"
    assert_same(a, b, "scorecard", rel=rel, abs_=abs_)


def assert_balance_equal(a: Any, b: Any, model: Any, *, rel: float = REL_TOL,
                         abs_: float = ABS_TOL) -> None:
    """Each rep's balance index and drags (practice, points, why) are equal."""
    from wholejob.balance import balance_index, team_balance

    for ra, rb in zip(a.reps, b.reps, strict=True):
        assert_same(balance_index(ra, model), balance_index(rb, model),
                    f"balance_index[{ra.rep_id}]", rel=rel, abs_=abs_)
    assert_same(team_balance(a, model), team_balance(b, model), "team_balance",
                rel=rel, abs_=abs_)


def assert_findings_equal(a: Any, b: Any, *, rel: float = REL_TOL,
                          abs_: float = ABS_TOL) -> None:
    """The same findings (rep, practice, kind, severity, text, evidence) and money."""
    key: Callable[[Any], tuple[str, str, str]] = lambda f: (f.rep_id, f.practice, f.kind)  # noqa: E731
    ka, kb = [key(f) for f in a], [key(f) for f in b]
    missing, extra = sorted(set(ka) - set(kb)), sorted(set(kb) - set(ka))
    if missing or extra:
        raise AssertionError(
            f"findings differ: only on the first engine {missing}, only on the second {extra}"
        )
    assert_same(list(a), list(b), "findings", rel=rel, abs_=abs_)


def assert_traces_equal(ws_a: Any, ws_b: Any, cases: Sequence[tuple[str, str, str | None]],
                        **kwargs: Any) -> None:
    """``trace(ws, rep, practice, measure)`` gives the same ids, in the same order."""
    from wholejob.measures import trace

    for rep_id, practice, measure in cases:
        ta = trace(ws_a, rep_id, practice, measure, **kwargs)
        tb = trace(ws_b, rep_id, practice, measure, **kwargs)
        assert_same(ta, tb, f"trace({rep_id}, {practice}, {measure})")


# --- forecast inputs ----------------------------------------------------------------

def assert_snapshots_equal(a: Any, b: Any, *, rel: float = REL_TOL,
                           abs_: float = ABS_TOL) -> None:
    """Two forecast snapshots (:class:`wholejob.forecast.data.Snapshot`) hold equal arrays."""
    assert_same(a, b, "snapshot", rel=rel, abs_=abs_)


# --- everything ---------------------------------------------------------------------

def compare_analysis(ws_a: Any, ws_b: Any, *, rel: float = REL_TOL,
                     abs_: float = ABS_TOL) -> None:
    """Run and compare the whole analysis of two workspaces (one engine each).

    Classification, the team scorecard, balance, findings (with the forecast's
    money where it runs), a few traces and the forecast snapshot.
    """
    from wholejob.balance import with_balance
    from wholejob.findings import diagnose
    from wholejob.forecast.data import load_snapshot
    from wholejob.jobmodel import load_job_model
    from wholejob.measures import build_scorecard

    assert_classification_equal(ws_a, ws_b, rel=rel, abs_=abs_)
    model = load_job_model(ws_a.config, source=str(ws_a.config_path))
    sa, sb = build_scorecard(ws_a), build_scorecard(ws_b)
    assert_scorecards_equal(sa, sb, rel=rel, abs_=abs_)
    assert_balance_equal(sa, sb, model, rel=rel, abs_=abs_)
    ba, bb = with_balance(sa, model), with_balance(sb, model)
    assert_findings_equal(diagnose(ba, model), diagnose(bb, model), rel=rel, abs_=abs_)
    rep = sa.reps[0].rep_id
    assert_traces_equal(ws_a, ws_b, [(rep, "prospecting", None), (rep, "icp_focus", None),
                                     (rep, "qualification", "win_rate")])
    assert_snapshots_equal(load_snapshot(ws_a), load_snapshot(ws_b), rel=rel, abs_=abs_)
