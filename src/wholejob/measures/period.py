"""The scorecard's period and its weeks, bucketed on the workspace's week start.

A period runs from ``since`` to ``until``, both inclusive. When a bound is not
given it comes from the data: the first and last activity day, or, in a
workspace without activities, the first opportunity creation and the last
recorded opportunity event. Weeks start on the configured ``week_start``
(Monday or Sunday); the first and last week may be partial. Hours per week
divide by the period's length in days / 7, so a partial week does not inflate
them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir

from wholejob.workspace import Workspace

__all__ = ["Period", "resolve_period", "week_index", "week_start_of"]

_WEEKDAY = {"monday": 0, "sunday": 6}


@dataclass(frozen=True)
class Period:
    """A resolved period: its bounds, its week starts and its length in weeks."""

    since: date
    until: date
    weeks: list[date]

    @property
    def days(self) -> int:
        """Days in the period, counting both ends."""
        return (self.until - self.since).days + 1

    @property
    def n_weeks(self) -> float:
        """Length of the period in weeks (days / 7)."""
        return self.days / 7.0

    @property
    def first_week(self) -> date:
        """The first day of the week holding ``since``."""
        return self.weeks[0]


def week_start_of(day: date, week_start: str) -> date:
    """Return the first day of the week holding ``day``."""
    offset = (day.weekday() - _WEEKDAY[week_start]) % 7
    return day - timedelta(days=offset)


def week_index(day: ir.DateValue, period: Period) -> ir.IntegerValue:
    """Return the engine expression for the index of ``day``'s week in ``period.weeks``.

    Counting days from the first week start and dividing by 7 works on every
    engine, unlike a week truncation whose first weekday differs between engines.
    """
    days: ir.IntegerValue = day.delta(ibis.date(period.first_week), unit="day")
    return days // 7


def _as_date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return None


def resolve_period(
    ws: Workspace, since: date | None, until: date | None
) -> Period | None:
    """Resolve missing bounds from the data; None when the workspace holds no dated records."""
    if since is None or until is None:
        acts = ws.table("activities")
        a = acts.aggregate(first=acts.started_at.min(), last=acts.started_at.max())
        row = a.to_pyarrow().to_pylist()[0]
        first, last = _as_date(row["first"]), _as_date(row["last"])
        if first is None:
            opps = ws.table("opportunities")
            hist = ws.table("opportunity_history")
            closed = opps.status.fill_null("") != "open"
            o = opps.aggregate(
                first=opps.created_on.min(),
                last_created=opps.created_on.max(),
                last_closed=opps.close_date.max(where=closed),
            ).to_pyarrow().to_pylist()[0]
            h = hist.aggregate(last=hist.entered_at.max()).to_pyarrow().to_pylist()[0]
            first = _as_date(o["first"])
            ends = [_as_date(o["last_created"]), _as_date(o["last_closed"]), _as_date(h["last"])]
            known = [d for d in ends if d is not None]
            last = max(known) if known else None
        since = since or first
        until = until or last
    if since is None or until is None:
        return None
    if until < since:
        raise ValueError(f"until {until} is before since {since}")
    return Period(since, until, _weeks(since, until, ws.config.week_start))


def _weeks(since: date, until: date, week_start: str) -> list[date]:
    first = week_start_of(since, week_start)
    n = (until - first).days // 7 + 1
    return [first + timedelta(days=7 * i) for i in range(n)]
