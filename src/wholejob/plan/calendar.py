"""Calendar blocks: a week of the recommended hours, as iCalendar events.

Each practice's weekly hours are rounded to whole blocks of ``block_minutes``
(30 by default; practices under half a block get none) and cut into sessions of
at most ``session_minutes``. Sessions are laid out Monday to Friday inside the
working day of the workspace's time zone, each on the day with the most room
left, so a practice spreads over the week. One VEVENT per session, with a
stable UID, a DTSTAMP and TZID-qualified start and end.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

__all__ = ["Block", "calendar_blocks", "next_monday", "to_ics", "write_ics"]

_NAMESPACE = uuid.UUID("7f1d2c3e-52a8-4b61-9a0e-2a7d8b6c4f10")


@dataclass(frozen=True)
class Block:
    """One calendar block: a practice from ``start`` to ``end`` (time-zone aware)."""

    practice: str
    start: datetime
    end: datetime

    @property
    def hours(self) -> float:
        """Length of the block in hours."""
        return (self.end - self.start).total_seconds() / 3600.0


def next_monday(today: date) -> date:
    """Return the Monday after ``today`` (a week later when today is a Monday)."""
    return today + timedelta(days=7 - today.weekday())


def rounded_blocks(hours: float, block_minutes: int = 30) -> int:
    """Return how many whole blocks ``hours`` rounds to (half a block rounds up)."""
    return max(0, math.floor(hours * 60 / block_minutes + 0.5))


def calendar_blocks(
    allocation: Mapping[str, float],
    week_start: date,
    timezone: str = "UTC",
    *,
    block_minutes: int = 30,
    session_minutes: int = 90,
    day_start: time = time(9, 0),
    min_day_hours: float = 8.0,
) -> list[Block]:
    """Return the week's blocks for ``allocation`` (practice -> hours per week).

    The working day starts at ``day_start`` and lasts at least ``min_day_hours``,
    longer when the week's hours need it (never past midnight). Sessions are
    multiples of ``block_minutes`` no longer than ``session_minutes``.
    """
    if block_minutes <= 0 or session_minutes < block_minutes:
        raise ValueError("block_minutes must be positive and at most session_minutes")
    tz = ZoneInfo(timezone)
    per_session = session_minutes // block_minutes
    sessions: list[tuple[str, int]] = []  # (practice, blocks)
    for practice, hours in allocation.items():
        n = rounded_blocks(hours, block_minutes)
        k = math.ceil(n / per_session) if n else 0
        for i in range(k):  # equal sessions, the first ones one block longer
            size = n // k + (1 if i < n % k else 0)
            sessions.append((practice, size))
    total = sum(b for _, b in sessions)
    day_blocks = max(math.ceil(min_day_hours * 60 / block_minutes), math.ceil(total / 5))
    start_min = day_start.hour * 60 + day_start.minute
    day_blocks = min(day_blocks, (24 * 60 - start_min) // block_minutes)
    used = [0] * 5
    # Longest sessions first so they find room; ties keep allocation order.
    order = sorted(range(len(sessions)), key=lambda i: -sessions[i][1])
    out: list[Block] = []
    for i in order:
        practice, size = sessions[i]
        day = min(range(5), key=lambda d: (used[d], d))
        if used[day] + size > day_blocks:
            raise ValueError("the week's hours do not fit in five working days")
        begin = datetime.combine(week_start + timedelta(days=day), day_start, tz) + timedelta(
            minutes=used[day] * block_minutes)
        used[day] += size
        out.append(Block(practice, begin, begin + timedelta(minutes=size * block_minutes)))
    out.sort(key=lambda b: b.start)
    return out


def _label(practice: str) -> str:
    return practice.replace("_", " ")


def to_ics(blocks: list[Block], *, rep_id: str, stamp: datetime | None = None) -> bytes:
    """Return an iCalendar file with one VEVENT per block."""
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//wholejob//plan//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"wholejob plan {rep_id}")
    now = stamp or datetime.now(UTC)
    for b in blocks:
        ev = Event()
        ev.add("uid", f"{uuid.uuid5(_NAMESPACE, f'{rep_id}|{b.practice}|{b.start.isoformat()}')}"
                      "@wholejob")
        ev.add("dtstamp", now)
        ev.add("dtstart", b.start)
        ev.add("dtend", b.end)
        ev.add("summary", f"wholejob: {_label(b.practice)} ({b.hours:g} h)")
        ev.add("description", f"Planned {_label(b.practice)} time from `wholejob plan "
                              f"--rep {rep_id}`.")
        ev.add("categories", ["wholejob", b.practice])
        ev.add("transp", "OPAQUE")
        cal.add_component(ev)
    if hasattr(cal, "add_missing_timezones"):
        cal.add_missing_timezones()  # VTIMEZONE for each TZID, so every app resolves it
    return bytes(cal.to_ical())


def write_ics(blocks: list[Block], path: Path, *, rep_id: str) -> Path:
    """Write :func:`to_ics` to ``path`` and return the path."""
    path = Path(path)
    path.write_bytes(to_ics(blocks, rep_id=rep_id))
    return path
