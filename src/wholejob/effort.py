"""Effort: hours and activity counts per rep and practice, from classified activities.

Hours are the sum of ``duration_minutes / 60`` over a rep's activities classified
into a practice: labels, then rules, then the text model (see
``docs/classification.md``). Activities that nothing recognises (no label, no
rule, and the text model below its confidence floor) are counted under
``unclassified``;
activities without a duration add to the count but not to the hours. A rep with
no activities at all has *unknown* effort (``None``), never zero: the data
cannot say how that rep spends time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import ibis

from wholejob.classification import TextClassifier
from wholejob.jobmodel import JobModel, load_job_model
from wholejob.practice_assignment import classify_workspace
from wholejob.workspace import Workspace

__all__ = ["UNCLASSIFIED", "EffortTable", "classified_activities", "effort_hours"]

UNCLASSIFIED = "unclassified"


@dataclass(frozen=True)
class EffortTable:
    """Hours and activity counts per rep and practice over a period.

    ``hours[rep_id][practice]`` is ``None`` when the rep has no activities in the
    period (effort unknown), otherwise a number (0.0 means recorded but none).
    """

    practices: list[str]
    reps: list[dict[str, Any]]
    hours: dict[str, dict[str, float | None]]
    activities: dict[str, dict[str, int | None]]
    since: date | None = None
    until: date | None = None
    weeks: float | None = None
    notes: list[str] = field(default_factory=list)

    def per_week(self, rep_id: str, practice: str) -> float | None:
        """Return average hours per week (hours / weeks in the period), or None if unknown."""
        h = self.hours[rep_id][practice]
        if h is None or not self.weeks:
            return None
        return h / self.weeks

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict: one entry per rep with hours per practice."""
        return {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "weeks": self.weeks,
            "practices": self.practices,
            "reps": [
                {
                    **rep,
                    "hours": self.hours[rep["rep_id"]],
                    "activities": self.activities[rep["rep_id"]],
                }
                for rep in self.reps
            ],
            "notes": self.notes,
        }


def classified_activities(
    ws: Workspace,
    model: JobModel | None = None,
    *,
    tags: bool = False,
    text_model: TextClassifier | None = None,
) -> ibis.Table:
    """Return the workspace's activities joined with their practice, confidence and method.

    The production classification: labels, rules, then the workspace's text
    model (:func:`wholejob.practice_assignment.classify_workspace`), in one pass.
    With ``tags``, each row also carries ``tag_<practice>`` for the
    account-attribute practices, from the same pass.
    """
    model = model or load_job_model(ws.config, source=str(ws.config_path))
    acts = ws.table("activities")
    cls = classify_workspace(ws, model, text_model=text_model, tags=tags)
    cls = cls.rename(practice_="practice")
    joined = acts.drop("practice").inner_join(cls, "activity_id")
    return joined.rename(practice="practice_")


def effort_hours(
    ws: Workspace,
    *,
    since: date | None = None,
    until: date | None = None,
    model: JobModel | None = None,
) -> EffortTable:
    """Sum hours and count activities per rep and practice between two dates (inclusive)."""
    model = model or load_job_model(ws.config, source=str(ws.config_path))
    # With the account tags (unused here): the scorecard classifies with them, so
    # both read one cached classification (wholejob.classification_cache).
    acts = classified_activities(ws, model, tags=True)
    if since is not None:
        acts = acts.filter(acts.started_at.date() >= since)
    if until is not None:
        acts = acts.filter(acts.started_at.date() <= until)
    span = acts.aggregate(
        first=acts.started_at.min(), last=acts.started_at.max()
    ).to_pyarrow().to_pylist()[0]
    labelled = acts.mutate(practice=acts.practice.fill_null(UNCLASSIFIED))
    grouped = (
        labelled.group_by(["rep_id", "practice"])
        .aggregate(
            hours=labelled.duration_minutes.fill_null(0).sum() / 60.0,
            n=labelled.count(),
        )
        .to_pyarrow()
        .to_pylist()
    )
    reps = ws.table("reps").select("rep_id", "name", "team", "role").order_by("rep_id")
    rep_rows = reps.to_pyarrow().to_pylist()
    columns = [*model.all_ids, UNCLASSIFIED]
    seen = {r["rep_id"] for r in grouped}
    hours: dict[str, dict[str, float | None]] = {}
    counts: dict[str, dict[str, int | None]] = {}
    for rep in rep_rows:
        known = rep["rep_id"] in seen
        hours[rep["rep_id"]] = {p: (0.0 if known else None) for p in columns}
        counts[rep["rep_id"]] = {p: (0 if known else None) for p in columns}
    for r in grouped:
        if r["rep_id"] in hours:
            hours[r["rep_id"]][r["practice"]] = round(float(r["hours"]), 2)
            counts[r["rep_id"]][r["practice"]] = int(r["n"])
    notes = []
    if not seen:
        notes.append("no activities in this period: effort is unknown for every rep")
    weeks = _weeks(since or _as_date(span["first"]), until or _as_date(span["last"]))
    return EffortTable(columns, rep_rows, hours, counts, since, until, weeks, notes)


def _as_date(value: Any) -> date | None:
    return value.date() if value is not None else None


def _weeks(first: date | None, last: date | None) -> float | None:
    """Return the length of the period in weeks, counting both end days."""
    if first is None or last is None:
        return None
    return ((last - first).days + 1) / 7.0
