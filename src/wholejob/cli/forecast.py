"""CLI commands: forecast (bookings and pipeline Monte Carlo) and backtest."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from wholejob.cli.app import Format, FormatOption, WorkspaceOption, app, console, handle_errors
from wholejob.errors import WholejobError
from wholejob.forecast import forecast as run_forecast
from wholejob.forecast import parse_what_if, run_backtest
from wholejob.workspace import open_workspace

RepOption = Annotated[str | None, typer.Option("--rep", help="Forecast one rep (rep_id).")]
TeamOption = Annotated[str | None, typer.Option("--team", help="Forecast one team.")]


def _parse_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise WholejobError(f"--as-of {value!r} is not a date (use YYYY-MM-DD)") from None


def _money(v: float | None) -> str:
    if v is None:
        return "—"
    for div, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return f"{v / div:.2f}{unit}" if div > 1e3 else f"{v / div:.0f}{unit}"
    return f"{v:.0f}"


@app.command()
@handle_errors
def forecast(
    workspace: WorkspaceOption,
    rep: RepOption = None,
    team: TeamOption = None,
    weeks: Annotated[int, typer.Option("--weeks", help="Weeks to forecast.")] = 13,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Forecast as of this date, using only what was known then."),
    ] = None,
    what_if: Annotated[
        list[str] | None,
        typer.Option("--what-if", help="Change weekly hours, e.g. prospecting=+4 (repeatable)."),
    ] = None,
    paths: Annotated[int, typer.Option("--paths", help="Monte Carlo paths.")] = 2000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same answer).")] = 0,
    format: FormatOption = Format.table,
) -> None:
    """Forecast weekly bookings and open pipeline (p10/p50/p90), coverage and run-dry week."""
    if rep is not None and team is not None:
        raise WholejobError("give --rep or --team, not both")
    changes = parse_what_if(what_if or [])
    with open_workspace(workspace, read_only=True) as ws:
        fc = run_forecast(ws, rep=rep, team=team, weeks=weeks, as_of=_parse_date(as_of),
                          what_if=changes or None, paths=paths, seed=seed)
        currency = ws.config.currency
    s = fc.to_json()
    if format is Format.json:
        print(json.dumps(s, indent=2))
        return
    _print_forecast(s, currency)


def _print_forecast(s: dict[str, Any], currency: str) -> None:
    scope = s["scope"]["rep"] or s["scope"]["team"] or f"all {len(s['scope']['reps'])} reps"
    t = Table(title=f"Forecast for {scope} as of {s['as_of']} ({currency}, {s['paths']} paths)",
              box=box.SIMPLE_HEAD, padding=(0, 1))
    t.add_column("week to", no_wrap=True)
    for name in ("book p10", "p50", "p90", "pipe p50", "cover"):
        t.add_column(name, justify="right", no_wrap=True, min_width=max(len(name), 6))
    wi = s.get("what_if")
    if wi:
        t.add_column("if: p50", justify="right", no_wrap=True)
        t.add_column("if: pipe", justify="right", no_wrap=True)
    b, p = s["bookings"], s["open_pipeline"]
    for i, wk in enumerate(s["week_ending"]):
        cov = s["coverage"][i]
        row = [wk[5:], *(_money(b[k][i]) for k in ("p10", "p50", "p90")),
               _money(p["p50"][i]), "—" if cov is None else f"{cov:.1f}x"]
        if wi:
            row += [_money(wi["bookings"]["p50"][i]), _money(wi["open_pipeline"]["p50"][i])]
        t.add_row(*row)
    console.print(t)
    dry = s["run_dry_week"]
    console.print(
        f"Quota {_money(s['quota'])}/year; pipeline runs dry (p50 below "
        f"{s['required_coverage']:g}x a quarter's quota): "
        + ("not within the horizon" if dry is None else f"week {dry}")
    )
    if wi:
        console.print(f"What-if {wi['changes']}: p50 bookings {wi['delta_p50_bookings']:+,.0f}, "
                      f"mean {wi['delta_mean_bookings']:+,.0f}; run dry: "
                      + ("not within the horizon" if wi["run_dry_week"] is None
                         else f"week {wi['run_dry_week']}"))
    if len(s["reps"]) > 1:
        r = Table(title="Per rep (end of horizon)", box=box.SIMPLE_HEAD)
        for name in ("rep", "bookings p10", "p50", "p90", "open pipeline p50", "run dry"):
            r.add_column(name, justify="left" if name == "rep" else "right")
        for rep in s["reps"]:
            rb = rep["bookings"]
            r.add_row(rep["rep_id"], _money(rb["p10"][-1]), _money(rb["p50"][-1]),
                      _money(rb["p90"][-1]), _money(rep["open_pipeline"]["p50"][-1]),
                      "—" if rep["run_dry_week"] is None else f"week {rep['run_dry_week']}")
        console.print(r)
    for note in s["notes"]:
        console.print(f"[dim]note: {note}[/]")


@app.command()
@handle_errors
def backtest(
    workspace: WorkspaceOption,
    rep: RepOption = None,
    team: TeamOption = None,
    origins: Annotated[int, typer.Option("--origins", help="Number of rolling origins.")] = 6,
    paths: Annotated[int, typer.Option("--paths", help="Monte Carlo paths per origin.")] = 2000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    format: FormatOption = Format.table,
) -> None:
    """Backtest the forecast from rolling past origins: MAPE at 4/8/13 weeks, 80% coverage."""
    if rep is not None and team is not None:
        raise WholejobError("give --rep or --team, not both")
    with open_workspace(workspace, read_only=True) as ws:
        res = run_backtest(ws, rep=rep, team=team, origins=origins, paths=paths, seed=seed)
    out = res.to_json()
    if format is Format.json:
        print(json.dumps(out, indent=2))
        return
    t = Table(title=f"Backtest over {len(res.origins)} origins "
                    f"({res.origins[0]} .. {res.origins[-1]})", box=box.SIMPLE_HEAD)
    t.add_column("level")
    for h in res.horizons:
        t.add_column(f"MAPE {h}w", justify="right")
    t.add_column("80% interval coverage", justify="right")
    for level in ("team", "rep"):
        if not any(r["level"] == level for r in res.rows):
            continue
        mape = res.mape[level]
        cov = res.coverage[level]
        t.add_row(level, *("—" if mape[h] is None else f"{mape[h]:.1%}" for h in res.horizons),
                  "—" if cov is None else f"{cov:.0%}")
    console.print(t)
