"""Every implemented measure, by id, in the order of its family."""

from __future__ import annotations

from wholejob.measures import accounts, activity, deals, pipeline
from wholejob.measures.spec import MeasureSpec

__all__ = ["FAMILIES", "MEASURES"]

MEASURES: dict[str, MeasureSpec] = {
    s.measure_id: s
    for s in (*pipeline.SPECS, *deals.SPECS, *accounts.SPECS, *activity.SPECS)
}
FAMILIES: tuple[str, ...] = ("pipeline", "deals", "engagement", "touches")
