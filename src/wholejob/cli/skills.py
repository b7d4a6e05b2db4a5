"""CLI commands: `wholejob skills ...` (assessments, trends, focus) and `wholejob coaching`."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from wholejob.cli.app import Format, FormatOption, WorkspaceOption, app, console, handle_errors
from wholejob.errors import WholejobError

skills_app = typer.Typer(help="Skill assessments per practice: record, import, show, focus.",
                         no_args_is_help=True)
app.add_typer(skills_app, name="skills")

RepOption = Annotated[str, typer.Option("--rep", help="The rep (rep_id).")]


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise WholejobError(f"{value!r} is not a date (use YYYY-MM-DD)") from None


@skills_app.command("add")
@handle_errors
def add(
    workspace: WorkspaceOption,
    rep: RepOption,
    practice: Annotated[str, typer.Option("--practice", help="Practice id (see `wholejob "
                                          "practices`).")],
    score: Annotated[int, typer.Option("--score", help="Score 1-5.")],
    source: Annotated[str, typer.Option("--source", help="self, manager or peer.")] = "self",
    assessor: Annotated[str | None, typer.Option("--assessor", help="Who assessed (rep_id); "
                                                 "default the rep for self.")] = None,
    on: Annotated[str | None, typer.Option("--on", help="Date assessed (YYYY-MM-DD; default "
                                           "today).")] = None,
    note: Annotated[str | None, typer.Option("--note", help="A note.")] = None,
    format: FormatOption = Format.table,
) -> None:
    """Record one skill assessment (validated like an imported row)."""
    from wholejob.skills import add_assessment
    from wholejob.workspace import open_workspace

    with open_workspace(workspace) as ws:
        summary = add_assessment(ws, rep, practice, score, source=source, assessor_id=assessor,
                                 on=_day(on), note=note)
    counts = summary.entities["assessments"]
    if format is Format.json:
        print(json.dumps({"recorded": counts.to_json()}, indent=2))
        return
    what = "updated" if counts.updated else "unchanged" if counts.unchanged else "recorded"
    console.print(f"{what}: {rep} {practice} = {score} ({source})")


@skills_app.command("import")
@handle_errors
def import_(
    workspace: WorkspaceOption,
    file: Annotated[Path, typer.Argument(help="Assessments CSV or Parquet file.")],
    format: FormatOption = Format.table,
) -> None:
    """Import an assessments file through the importer (any file name)."""
    from wholejob.skills import import_assessments
    from wholejob.workspace import open_workspace

    with open_workspace(workspace) as ws:
        summary = import_assessments(ws, file)
    if format is Format.json:
        print(json.dumps(summary.to_json(), indent=2))
    else:
        c = summary.entities.get("assessments")
        console.print(f"assessments: {c.to_json() if c else {}}"
                      + (f"; rejects in {summary.rejects_file}" if summary.rejects_file else ""))
    if summary.exit_code:
        raise typer.Exit(summary.exit_code)


@skills_app.command("show")
@handle_errors
def show(
    workspace: WorkspaceOption,
    rep: Annotated[str | None, typer.Option("--rep", help="Only this rep.")] = None,
    team: Annotated[str | None, typer.Option("--team", help="Only this team.")] = None,
    format: FormatOption = Format.table,
) -> None:
    """Show the latest score per practice by source and the trend over time."""
    from wholejob.skills import skills_summary
    from wholejob.workspace import open_workspace

    with open_workspace(workspace, read_only=True) as ws:
        out = skills_summary(ws, rep, team)
    if format is Format.json:
        print(json.dumps(out, indent=2))
        return
    if not out["reps"]:
        console.print("No assessments yet (wholejob skills add / skills import).")
    for r in out["reps"]:
        t = Table(title=f"Skills of {r['rep_id']}", box=box.SIMPLE_HEAD)
        for name in ("practice", "self", "manager", "peer", "first -> latest", "per quarter"):
            t.add_column(name, justify="left" if name == "practice" else "right", no_wrap=True)
        for p, s in r["practices"].items():
            tr = s["trend"]
            slope = tr["slope_per_quarter"]
            t.add_row(p, *(str(s["latest"][k]["score"]) if k in s["latest"] else "-"
                           for k in ("self", "manager", "peer")),
                      f"{tr['first']['score']} -> {tr['latest']['score']}",
                      "-" if slope is None else f"{slope:+.2f}")
        console.print(t)


@skills_app.command("focus")
@handle_errors
def focus(
    workspace: WorkspaceOption,
    rep: RepOption,
    weeks: Annotated[int, typer.Option("--weeks", help="Plan horizon for marginal values.")] = 26,
    paths: Annotated[int, typer.Option("--paths", help="Monte Carlo paths of the plan "
                                       "check.")] = 500,
    format: FormatOption = Format.table,
) -> None:
    """Rank development focus: skill gap (4 - score) x marginal value of an hour."""
    from wholejob.skills import development_focus
    from wholejob.workspace import open_workspace

    with open_workspace(workspace, read_only=True) as ws:
        out = development_focus(ws, rep, weeks=weeks, paths=paths)
        currency = ws.config.currency
    if format is Format.json:
        print(json.dumps(out, indent=2))
        return
    t = Table(title=f"Development focus for {rep} (target {out['target']})", box=box.SIMPLE_HEAD)
    for name in ("#", "practice", "score", "gap", f"{currency}/extra h", "impact"):
        t.add_column(name, justify="left" if name == "practice" else "right", no_wrap=True)
    for i in out["focus"]:
        t.add_row(str(i["rank"]), i["practice"], _s(i["score"]), _s(i["gap"]),
                  _money(i["marginal_value"]), _money(i["impact"]))
    console.print(t)


def _s(v: Any) -> str:
    return "-" if v is None else str(v)


def _money(v: float | None) -> str:
    return "-" if v is None else f"{v:,.0f}"


@app.command()
@handle_errors
def coaching(
    workspace: WorkspaceOption,
    team: Annotated[str | None, typer.Option("--team", help="Only this team.")] = None,
    no_forecast: Annotated[bool, typer.Option("--no-forecast", help="Skip the forecast "
                                              "consequences (faster).")] = False,
    limit: Annotated[int, typer.Option("--limit", min=0, help="Show at most this many "
                                       "(0 = all).")] = 20,
    format: FormatOption = Format.table,
) -> None:
    """The manager's coaching queue: the team's findings ranked by money at stake."""
    from wholejob.coaching import coaching_queue, queue_json
    from wholejob.workspace import open_workspace

    with open_workspace(workspace, read_only=True) as ws:
        queue = coaching_queue(ws, team=team, forecast=not no_forecast)
        currency = ws.config.currency
    out = queue_json(queue[:limit] if limit else queue, currency)
    if format is Format.json:
        print(json.dumps(out, indent=2, default=str))
        return
    if not out["queue"]:
        console.print("Nothing to coach: no findings.")
        return
    t = Table(title="Coaching queue (money at stake first)", box=box.SIMPLE_HEAD, show_lines=True)
    for name in ("#", "rep", "practice", "kind", "sev", "at stake", "do"):
        t.add_column(name, no_wrap=name != "do")
    for q in out["queue"]:
        t.add_row(str(q["rank"]), q["rep_id"], q["practice"], q["kind"], q["severity"],
                  "-" if q["money_at_stake"] is None
                  else f"{currency} {q['money_at_stake']:,.0f}", q["recommendation"])
    # Piped output defaults to 80 columns; widen so the recommendations stay readable.
    (console if console.is_terminal else Console(width=max(console.width, 140))).print(t)
