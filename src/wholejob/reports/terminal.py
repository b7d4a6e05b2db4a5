"""Terminal views of a scorecard as Rich renderables: the team grid and one rep's card.

Colour carries the effort state (see :mod:`wholejob.reports.labels`), but never
alone: a cell below the floor also ends in ``↓`` and one at twice the target or
more in ``↑``, so piped output and colour-blind readers lose nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from wholejob.jobmodel import JobModel, load_job_model
from wholejob.reports.labels import (
    ABBREVIATIONS,
    EffortState,
    effort_state,
    format_hours,
    format_money,
    format_score,
    format_value,
    scorecard_practices,
    sellers,
)
from wholejob.scorecard import Finding, RepScore, Scorecard

__all__ = [
    "STATE_STYLES",
    "abbreviation_legend",
    "rep_card",
    "team_table",
    "team_table_width",
]

STATE_STYLES: dict[str, str] = {
    "below_floor": "bold red",
    "floor_to_target": "yellow",
    "at_target": "green",
    "well_above": "bold blue",
    "unknown": "dim",
    "not_time": "dim",
    "unscored": "",
}
MARKS: dict[str, str] = {"below_floor": "↓", "well_above": "↑"}
SEVERITY_STYLES = {"high": "bold red", "medium": "yellow", "low": "cyan"}


def _cell(st: EffortState) -> Text:
    if st.state == "unknown":
        return Text("?", style=STATE_STYLES["unknown"])
    if st.state == "not_time":
        return Text("\u2013", style=STATE_STYLES["not_time"])
    return Text(format_hours(st.hours_per_week) + MARKS.get(st.state, " "),
                style=STATE_STYLES[st.state])


def _balance(value: float | None) -> Text:
    if value is None:
        return Text("?", style="dim")
    style = "bold red" if value < 60 else "yellow" if value < 80 else "green"
    return Text(f"{value:.0f}", style=style)


def team_table_width(scorecard: Scorecard) -> int:
    """Return the width the team table needs, so piped output can be widened to fit."""
    name = max([4, *(len(r.name) for r in sellers(scorecard))])
    return name + 4 + 7 * len(scorecard_practices(scorecard)) + 8


def team_table(scorecard: Scorecard, model: JobModel | None = None) -> Table:
    """Return the reps x practices grid of hours per week, coloured against the floors."""
    m = model or load_job_model()
    quality = set(m.quality_ids)
    practices = scorecard_practices(scorecard)
    weeks = len(scorecard.weeks)
    table = Table(
        title=f"Hours per week by practice against floor and target ({weeks} weeks"
              f"{', ' + _period(scorecard) if _period(scorecard) else ''})",
        box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False,
    )
    table.add_column("rep", style="bold", no_wrap=True)
    for pid in practices:
        table.add_column(ABBREVIATIONS.get(pid, pid), justify="right", no_wrap=True)
    table.add_column("bal", justify="right", no_wrap=True)
    for rep in sellers(scorecard):
        cells = [_cell(effort_state(rep.practices.get(p), quality=p in quality))
                 for p in practices]
        table.add_row(rep.name, *cells, _balance(rep.balance_index))
    return table


def _period(scorecard: Scorecard) -> str:
    if scorecard.since is None and scorecard.until is None:
        return ""
    since = scorecard.since.isoformat() if scorecard.since else "…"
    until = scorecard.until.isoformat() if scorecard.until else "…"
    return f"{since} to {until}"


def abbreviation_legend(scorecard: Scorecard, model: JobModel | None = None) -> Text:
    """Return the legend: colours and marks, then every abbreviation with its practice."""
    m = model or load_job_model()
    text = Text()
    text.append("cells: hours/week; ")
    text.append("red↓ below floor", style=STATE_STYLES["below_floor"])
    text.append(", ")
    text.append("yellow floor to target", style=STATE_STYLES["floor_to_target"])
    text.append(", ")
    text.append("green at target", style=STATE_STYLES["at_target"])
    text.append(", ")
    text.append("blue↑ 2\u00d7 target or more", style=STATE_STYLES["well_above"])
    text.append("; ? = unknown (no activities); \u2013 = a quality of all customer time, "
                "not time of its own; bal = balance index 0-100.\n", style="dim")
    pairs = [f"{ABBREVIATIONS.get(p, p)} {m.practices[p].name}"
             for p in scorecard_practices(scorecard)]
    text.append(" · ".join(pairs), style="dim")
    return text


def _drag_lines(rep: RepScore, names: dict[str, str], limit: int = 5) -> list[Text]:
    out = []
    for d in rep.balance_drag[:limit]:
        practice, points = d.get("practice"), d.get("points")
        line = Text("  ")
        if isinstance(points, int | float):
            line.append(f"\u2212{points:>4.1f}  ", style="red")
        if practice is not None:
            line.append(names.get(str(practice), str(practice)), style="bold")
            line.append(": ")
        line.append(str(d.get("why", "")))
        out.append(line)
    more = len(rep.balance_drag) - limit
    if more > 0:
        out.append(Text(f"  (+{more} more; --format json lists them all)", style="dim"))
    return out


def rep_card(rep: RepScore, scorecard: Scorecard, findings: Sequence[Finding] = (),
             model: JobModel | None = None, *, top: int = 5) -> RenderableType:
    """Return one rep's view: effort vs floor and peers, effectiveness, balance, findings."""
    m = model or load_job_model()
    quality = set(m.quality_ids)
    names = {pid: p.name for pid, p in m.practices.items()}
    head = Text()
    head.append(f"{rep.name} ", style="bold")
    head.append(f"({rep.rep_id}{', ' + rep.team if rep.team else ''})", style="dim")
    head.append("  balance index ")
    head.append_text(_balance(rep.balance_index))
    head.append(f"   selling {format_hours(rep.selling_hours_per_week)} h/wk · other "
                f"{format_hours(rep.other_hours_per_week)} h/wk · capacity "
                f"{rep.weekly_hours:g} h/wk")
    if rep.quota:
        head.append(f" · quota {format_money(rep.quota, scorecard.currency)}")
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False,
                  title=f"Effort and effectiveness vs peers ({_period(scorecard) or 'all data'})")
    table.add_column("practice", style="bold", no_wrap=True)
    for col in ("h/wk", "floor", "target", "team med"):
        table.add_column(col, justify="right", no_wrap=True)
    table.add_column("effect.", justify="right", no_wrap=True)
    table.add_column("key measure (rep · team median)", overflow="fold")
    for pid in scorecard_practices(scorecard):
        ps = rep.practices.get(pid)
        st = effort_state(ps, quality=pid in quality)
        key = ""
        if ps is not None:
            mv = next((x for x in ps.measures if x.value is not None), None)
            if mv is not None:
                key = (f"{mv.name}: {format_value(mv.value, mv.unit, scorecard.currency)} · "
                       f"{format_value(mv.team_median, mv.unit, scorecard.currency)}")
        levels = [ps.floor_hours_per_week, ps.target_hours_per_week,
                  ps.team_median_hours_per_week] if ps else [None, None, None]
        table.add_row(
            names.get(pid, pid),
            _cell(st),
            *(("\u2013" if st.state == "not_time" else format_hours(v)) for v in levels),
            _score(ps.effectiveness_score if ps else None),
            Text(key, style="dim") if key else Text("none computed", style="dim italic"),
        )
    parts: list[RenderableType] = [head, table]
    drag = _drag_lines(rep, names)
    parts.append(Text("What pulls the balance index down:", style="bold"))
    parts.extend(drag or [Text("  nothing", style="dim")])
    mine = [f for f in findings if f.rep_id == rep.rep_id]
    parts.append(Text(f"Top findings ({min(top, len(mine))} of {len(mine)}):", style="bold"))
    if not mine:
        parts.append(Text("  none", style="dim"))
    for f in mine[:top]:
        line = Text("  ")
        line.append(f"{f.severity:<6} ", style=SEVERITY_STYLES.get(f.severity, ""))
        line.append(f"{f.kind} {names.get(f.practice, f.practice)}", style="bold")
        if f.money_at_stake is not None:
            line.append(f" ({format_money(f.money_at_stake, scorecard.currency)})")
        line.append(f": {f.consequence}\n    → {f.recommendation}")
        parts.append(line)
    return Group(*parts)


def _score(value: float | None) -> Text:
    if value is None:
        return Text("?", style="dim")
    style = "red" if value < 35 else "green" if value >= 65 else ""
    return Text(format_score(value), style=style)
