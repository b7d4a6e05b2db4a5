"""A rep's plan from a workspace: fit the forecast, optimise, check, and report.

:func:`make_plan` is what ``wholejob plan`` and the skills focus call: it reads
the rep's weekly hours from the ``reps`` table, fits the forecast on the
workspace as of ``as_of``, runs :class:`~wholejob.plan.AllocationOptimizer` and
returns a :class:`Plan` whose ``to_json`` is the command's JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from wholejob.forecast import ForecastDataError, PipelineForecaster, load_snapshot
from wholejob.jobmodel import load_job_model
from wholejob.plan.calendar import calendar_blocks, next_monday, write_ics
from wholejob.plan.optimizer import DEFAULT_WEEKLY_HOURS, AllocationOptimizer, PlanError
from wholejob.workspace import Workspace

__all__ = ["Plan", "make_plan", "rep_weekly_hours"]


@dataclass
class Plan:
    """A fitted plan: the optimiser, the rep and what the workspace knew."""

    rep_id: str
    as_of: date
    currency: str
    timezone: str
    optimizer: AllocationOptimizer

    def to_json(self) -> dict[str, Any]:
        """Return the plan JSON (``rep_id``, ``current``, ``recommended``, ...)."""
        out = self.optimizer.to_json(self.rep_id)
        return {"rep_id": out.pop("rep_id"), "as_of": self.as_of.isoformat(),
                "currency": self.currency, **out}

    def write_ics(self, path: Path, week_start: date | None = None) -> Path:
        """Write next week's calendar blocks of the recommended hours to ``path``."""
        start = week_start or next_monday(date.today())
        blocks = calendar_blocks(self.optimizer.allocation_, start, self.timezone)
        return write_ics(blocks, path, rep_id=self.rep_id)


def rep_weekly_hours(ws: Workspace, rep_id: str) -> float:
    """Return the rep's weekly hours from the ``reps`` table (40 when empty)."""
    r = ws.table("reps")
    rows = r.filter(r.rep_id == rep_id).select("weekly_hours").to_pyarrow().to_pylist()
    if not rows:
        raise PlanError(f"no rep with id {rep_id!r}")
    value = rows[0]["weekly_hours"]
    return float(value) if value is not None else DEFAULT_WEEKLY_HOURS


def make_plan(
    ws: Workspace,
    rep_id: str,
    *,
    weeks: int = 26,
    max_move: float = 3.0,
    max_move_share: float = 0.3,
    capacity_weight: float = 1.0,
    paths: int = 2000,
    seed: int = 0,
    as_of: date | None = None,
    check: bool = True,
) -> Plan:
    """Fit the forecast on the workspace and return the rep's optimised weekly plan."""
    hours = rep_weekly_hours(ws, rep_id)
    snap = load_snapshot(ws, as_of)
    if rep_id not in snap.rep_ids:
        raise ForecastDataError(f"rep {rep_id!r} is not a seller in the forecast "
                                "(managers have no plan)")
    model = PipelineForecaster().fit(snap)
    jm = load_job_model(ws.config, source=str(ws.config_path))
    opt = AllocationOptimizer(weeks=weeks, capacity_weight=capacity_weight, max_move=max_move,
                              max_move_share=max_move_share, check=check, paths=paths,
                              seed=seed).fit(model, rep_id, weekly_hours=hours, job_model=jm)
    return Plan(rep_id, snap.as_of, ws.config.currency, ws.config.timezone, opt)
