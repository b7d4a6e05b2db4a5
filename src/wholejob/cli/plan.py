"""The `wholejob plan` command: a rebalanced week that maximises expected bookings."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from wholejob.cli.app import Format, FormatOption, WorkspaceOption, app, console, handle_errors
from wholejob.errors import WholejobError


def _parse_date(value: str | None, flag: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise WholejobError(f"{flag} {value!r} is not a date (use YYYY-MM-DD)") from None


@app.command()
@handle_errors
def plan(
    workspace: WorkspaceOption,
    rep: Annotated[str, typer.Option("--rep", help="The rep to plan for (rep_id).")],
    weeks: Annotated[int, typer.Option("--weeks", help="Horizon of expected bookings "
                                       "(weeks).")] = 26,
    max_move: Annotated[float, typer.Option("--max-move", help="Hours a practice may move "
                                            "per week (or 30% of it, if more).")] = 3.0,
    capacity_weight: Annotated[float, typer.Option(
        "--capacity-weight", help="Share of free capacity (weekly hours - other - logged "
        "selling) the plan may fill: 1 all, 0 rebalance only.")] = 1.0,
    ics: Annotated[Path | None, typer.Option("--ics", help="Write next week's calendar "
                                             "blocks to this .ics file.")] = None,
    week_of: Annotated[str | None, typer.Option("--week-of", help="Monday of the calendar "
                                                "week (default: next Monday).")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Plan with what was known on "
                                              "this date.")] = None,
    paths: Annotated[int, typer.Option("--paths", help="Monte Carlo paths of the check.")] = 2000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    format: FormatOption = Format.table,
) -> None:
    """Recommend next week's hours per practice that maximise expected bookings."""
    from wholejob.plan.report import make_plan
    from wholejob.workspace import open_workspace

    with open_workspace(workspace, read_only=True) as ws:
        p = make_plan(ws, rep, weeks=weeks, max_move=max_move, capacity_weight=capacity_weight,
                      paths=paths, seed=seed, as_of=_parse_date(as_of, "--as-of"))
    out = p.to_json()
    if ics is not None:
        p.write_ics(ics, _parse_date(week_of, "--week-of"))
        out["ics"] = str(ics)
    if format is Format.json:
        print(json.dumps(out, indent=2))
        return
    _print(out)


def _print(out: dict[str, Any]) -> None:
    cur = out["currency"]
    t = Table(title=f"Plan for {out['rep_id']} (hours/week; expected bookings over "
                    f"{out['weeks']} weeks)", box=box.SIMPLE_HEAD)
    for name in ("practice", "now", "plan", "change", "floor", f"{cur}/extra h"):
        t.add_column(name, justify="left" if name == "practice" else "right", no_wrap=True)
    for p, now in out["current"].items():
        new, d = out["recommended"][p], out["change"][p]
        t.add_row(p, f"{now:.1f}", f"{new:.1f}", "" if abs(d) < 0.05 else f"{d:+.1f}",
                  f"{out['floors'][p]:.1f}", f"{out['marginal_values'][p]:,.0f}")
    console.print(t)
    eb, cap = out["expected_bookings"], out["capacity"]
    console.print(f"Selling hours {cap['current_selling_hours']:.1f} -> "
                  f"{cap['recommended_selling_hours']:.1f} of {cap['selling_capacity']:.1f} "
                  f"available ({cap['weekly_hours']:g} weekly - {cap['other_hours']:.1f} other)")
    console.print(f"Expected bookings {cur} {eb['current']:,.0f} -> {eb['recommended']:,.0f}")
    g = out.get("gain")
    if g:
        console.print(f"Simulated gain (paired, {out['simulation']['paths']} paths): "
                      f"p10 {g['p10']:+,.0f}  p50 {g['p50']:+,.0f}  p90 {g['p90']:+,.0f}")
    if out.get("ics"):
        console.print(f"Calendar blocks written to {out['ics']}")
    for note in out["notes"]:
        console.print(f"[dim]note: {note}[/]")
