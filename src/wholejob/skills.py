"""Skills: assessments per rep and practice, their trends, and a development focus.

Assessments (score 1-5, by the rep, their manager or a peer) go in through the
importer, so one recorded by hand gets exactly the validation of an imported
file. :func:`skills_summary` gives per rep and practice the latest score by
source and the trend over time (first -> latest, and the least-squares slope in
points per quarter, read from manager scores when there are two or more, else
self scores, else all). :func:`development_focus` ranks a
rep's practices by the skill gap (target 4 minus the latest manager-or-self
score) times the practice's marginal value from the plan (d expected bookings /
d hour at the recommended allocation): improving what is both weak and worth
the most first.
"""

from __future__ import annotations

import csv
import shutil
import tempfile
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from wholejob.errors import WholejobError
from wholejob.importing.importer import import_paths
from wholejob.importing.sources import entity_for_file
from wholejob.importing.summary import ImportSummary
from wholejob.workspace import Workspace

__all__ = [
    "SKILL_TARGET",
    "SOURCES",
    "add_assessment",
    "development_focus",
    "import_assessments",
    "load_assessments",
    "skills_summary",
]

SKILL_TARGET = 4  # "proficient": the level every practice of the whole job should reach
SOURCES = ("self", "manager", "peer")
QUARTER_DAYS = 365.25 / 4
COLUMNS = ("rep_id", "practice", "score", "assessed_on", "assessor_id", "source", "note")


def _first_reject(path: Path) -> str:
    """Return the first reject's column and reason from a rejects CSV."""
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            col = row.get("column") or ""
            return f"{col}: {row.get('reason')}" if col else str(row.get("reason"))
    return "rejected"


def add_assessment(
    ws: Workspace,
    rep_id: str,
    practice: str,
    score: int,
    *,
    source: str = "self",
    assessor_id: str | None = None,
    on: date | None = None,
    note: str | None = None,
) -> ImportSummary:
    """Record one assessment through the importer; raise :class:`WholejobError` if rejected.

    ``on`` defaults to today; a self assessment's assessor defaults to the rep.
    Recording the same (rep, practice, date, source, assessor) again updates it.
    """
    if source == "self" and assessor_id is None:
        assessor_id = rep_id
    row = {"rep_id": rep_id, "practice": practice, "score": str(score),
           "assessed_on": (on or date.today()).isoformat(), "assessor_id": assessor_id or "",
           "source": source, "note": note or ""}
    with tempfile.TemporaryDirectory(prefix="wholejob-skills-") as tmp:
        path = Path(tmp) / "assessments.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=COLUMNS)
            w.writeheader()
            w.writerow(row)
        rejects = Path(tmp) / "rejects.csv"
        summary = import_paths(ws, [path], rejects_path=rejects)
        if summary.rejected or summary.problems:
            why = (_first_reject(rejects) if rejects.exists()
                   else "; ".join(summary.problems) or "rejected")
            raise WholejobError(f"assessment not recorded: {why}")
    return summary


def import_assessments(ws: Workspace, path: Path) -> ImportSummary:
    """Import an assessments CSV or Parquet file, whatever its name, through the importer."""
    path = Path(path)
    if not path.exists():
        raise WholejobError(f"{path}: no such file")
    if entity_for_file(path) == "assessments":
        return import_paths(ws, [path])
    with tempfile.TemporaryDirectory(prefix="wholejob-skills-") as tmp:
        named = Path(tmp) / f"assessments{path.suffix.lower()}"
        shutil.copyfile(path, named)
        return import_paths(ws, [named])


def load_assessments(ws: Workspace, rep: str | None = None, team: str | None = None
                     ) -> list[dict[str, Any]]:
    """Return assessments (oldest first), optionally for one rep or the reps of one team."""
    a = ws.table("assessments")
    if rep is not None:
        a = a.filter(a.rep_id == rep)
    if team is not None:
        r = ws.table("reps")
        ids = r.filter(r.team == team).rep_id
        a = a.filter(a.rep_id.isin(ids))
    a = a.order_by(["rep_id", "practice", "assessed_on", "source"])
    return list(a.to_pyarrow().to_pylist())


def _slope_per_quarter(rows: list[dict[str, Any]]) -> float | None:
    """Return the least-squares slope of score on time, in points per quarter."""
    days = np.array([r["assessed_on"].toordinal() for r in rows], dtype=np.float64)
    if len(rows) < 2 or np.ptp(days) == 0:
        return None
    y = np.array([r["score"] for r in rows], dtype=np.float64)
    t = (days - days.mean()) / QUARTER_DAYS
    return round(float((t * (y - y.mean())).sum() / (t * t).sum()), 3)


def _trend_series(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the assessments a trend is read from: one source, so offsets do not fake one.

    Self scores tend to run above managers', so a series mixing them shows
    trends that are only changes of assessor. Manager scores are used when there
    are at least two, else self scores, else everything.
    """
    for source in ("manager", "self"):
        picked = [r for r in rows if r["source"] == source]
        if len(picked) >= 2:
            return picked
    return rows


def _practice_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    latest: dict[str, dict[str, Any]] = {}
    for r in rows:  # oldest first, so the last one per source wins
        latest[r["source"] or "unknown"] = {"score": r["score"],
                                            "on": r["assessed_on"].isoformat(),
                                            "assessor_id": r["assessor_id"]}
    series = _trend_series(rows)
    first, last = series[0], series[-1]
    return {
        "latest": latest,
        "trend": {
            "source": first["source"] if len({r["source"] for r in series}) == 1 else "all",
            "first": {"score": first["score"], "on": first["assessed_on"].isoformat()},
            "latest": {"score": last["score"], "on": last["assessed_on"].isoformat()},
            "change": last["score"] - first["score"],
            "slope_per_quarter": _slope_per_quarter(series),
            "assessments": len(series),
        },
    }


def skills_summary(ws: Workspace, rep: str | None = None, team: str | None = None
                   ) -> dict[str, Any]:
    """Return ``{"reps": [{"rep_id", "practices": {PRACTICE: {latest, trend}}}]}``."""
    grouped: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for row in load_assessments(ws, rep, team):
        grouped[row["rep_id"]][row["practice"]].append(row)
    if rep is not None and rep not in grouped:
        r = ws.table("reps")
        if int(r.filter(r.rep_id == rep).count().execute()) == 0:
            raise WholejobError(f"no rep with id {rep!r}")
    return {"reps": [
        {"rep_id": rid, "practices": {p: _practice_summary(rows)
                                      for p, rows in sorted(by_p.items())}}
        for rid, by_p in sorted(grouped.items())
    ]}


def latest_manager_or_self(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Return the newest manager or self assessment (a manager's wins on the same day)."""
    pool = [r for r in rows if r["source"] in ("manager", "self")]
    if not pool:
        return None
    return max(pool, key=lambda r: (r["assessed_on"], r["source"] == "manager"))


def development_focus(
    ws: Workspace,
    rep_id: str,
    *,
    marginal_values: dict[str, float] | None = None,
    target: int = SKILL_TARGET,
    **plan_options: Any,
) -> dict[str, Any]:
    """Return the rep's practices ranked by skill gap x marginal value of an hour.

    ``marginal_values`` (currency per extra hour a week, at the recommended
    allocation) default to :func:`wholejob.plan.report.make_plan`'s, with
    ``plan_options`` passed on. Practices without a manager or self score, or
    without a marginal value (no time of their own), come last with
    ``impact = None``.
    """
    if marginal_values is None:
        from wholejob.plan.report import make_plan

        plan = make_plan(ws, rep_id, **plan_options)
        marginal_values = plan.optimizer.marginal_values_
    rows_by_p: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in load_assessments(ws, rep_id):
        rows_by_p[row["practice"]].append(row)
    from wholejob.jobmodel import load_job_model

    jm = load_job_model(ws.config, source=str(ws.config_path))
    items: list[dict[str, Any]] = []
    for p in jm.selling_ids:
        latest = latest_manager_or_self(rows_by_p.get(p, []))
        gap = None if latest is None else max(0, target - int(latest["score"]))
        mv = marginal_values.get(p)
        impact = None if gap is None or mv is None else round(gap * max(mv, 0.0), 2)
        items.append({
            "practice": p, "score": None if latest is None else latest["score"],
            "source": None if latest is None else latest["source"],
            "assessed_on": None if latest is None else latest["assessed_on"].isoformat(),
            "gap": gap, "marginal_value": None if mv is None else round(mv, 2),
            "impact": impact,
        })
    items.sort(key=lambda i: (i["impact"] is None, -float(i["impact"] or 0.0), i["practice"]))
    for rank, i in enumerate(items, start=1):
        i["rank"] = rank
    return {"rep_id": rep_id, "target": target, "focus": items}
