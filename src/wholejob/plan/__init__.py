"""The plan: response curves per practice, the allocation optimiser and calendar blocks.

See ``docs/plan.md`` for the curve forms, their calibration, the optimiser and
the simulation check.
"""

from __future__ import annotations

from wholejob.plan.curves import PRIOR_WEIGHT, BookingsObjective, PracticeCurve, practice_curves
from wholejob.plan.optimizer import (
    AllocationOptimizer,
    OptimumResult,
    PlanError,
    feasible_start,
    maximise,
)

__all__ = [
    "PRIOR_WEIGHT",
    "AllocationOptimizer",
    "BookingsObjective",
    "OptimumResult",
    "PlanError",
    "PracticeCurve",
    "feasible_start",
    "maximise",
    "practice_curves",
]
