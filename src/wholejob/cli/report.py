"""The `wholejob report` command: balance scorecards as a table, JSON or an HTML file."""

from __future__ import annotations

import json
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from wholejob.cli.app import WorkspaceOption, app, console, err_console, handle_errors
from wholejob.errors import WholejobError

if TYPE_CHECKING:
    from wholejob.jobmodel import JobModel
    from wholejob.scorecard import Finding, Scorecard


class ReportFormat(StrEnum):
    """Output formats of `wholejob report` (the shared two plus a standalone HTML file)."""

    table = "table"
    json = "json"
    html = "html"


def parse_day(value: str | None, option: str) -> date | None:
    """Parse an ISO date given to ``option``; a bad one is a one-line error."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise WholejobError(
            f"{option}: {value!r} is not a date; use ISO 8601, e.g. 2024-01-31"
        ) from None


@app.command()
@handle_errors
def report(
    workspace: WorkspaceOption,
    rep: Annotated[
        str | None, typer.Option("--rep", help="Report one rep (by rep_id) against peers.")
    ] = None,
    team: Annotated[
        str | None, typer.Option("--team", help="Report one team (reps and peers).")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="First day of the period (YYYY-MM-DD).")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Last day of the period (YYYY-MM-DD).")
    ] = None,
    format: Annotated[
        ReportFormat,
        typer.Option("--format", "-f", help="Output format: table, json or html (needs --out)."),
    ] = ReportFormat.table,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write to this file instead of the terminal."),
    ] = None,
) -> None:
    """Show balance scorecards: effort and effectiveness on all 18 practices per rep."""
    start, end = parse_day(since, "--since"), parse_day(until, "--until")
    if start and end and start > end:
        raise WholejobError(f"--since {start} is after --until {end}")
    if rep and team:
        raise WholejobError("give --rep or --team, not both")
    if format is ReportFormat.html and out is None:
        raise WholejobError("--format html writes a file; give it with --out FILE")
    scorecard, findings, model = _compute(workspace, start, end, rep, team)
    if format is ReportFormat.json:
        from wholejob.reports.document import report_json

        text = json.dumps(report_json(scorecard, findings), indent=2, default=str)
        _emit(text, out)
    elif format is ReportFormat.html:
        assert out is not None
        from wholejob.reports.html import write_html

        scope = f"rep {rep}" if rep else f"team {team}" if team else ""
        write_html(out, scorecard, findings, model, scope=scope, generated_on=date.today())
        err_console.print(f"Wrote the report to [bold]{out}[/].", highlight=False)
    else:
        _print_table(scorecard, findings, model, rep, out)


def _compute(workspace: Path, since: date | None, until: date | None, rep: str | None,
             team: str | None) -> tuple[Scorecard, list[Finding], JobModel]:
    from wholejob.balance import with_balance
    from wholejob.findings import diagnose
    from wholejob.jobmodel import load_job_model
    from wholejob.measures import build_scorecard
    from wholejob.workspace import open_workspace

    # Writable: opening applies any pending schema migration the report relies on.
    with open_workspace(workspace) as ws:
        model = load_job_model(ws.config, source=str(ws.config_path))
        try:
            scorecard = build_scorecard(ws, since=since, until=until, rep=rep, team=team,
                                        model=model)
        except KeyError as e:
            what = f"rep {rep!r}" if rep else f"team {team!r}" if team else str(e)
            raise WholejobError(f"no {what} in {workspace}") from None
    scorecard = with_balance(scorecard, model)
    return scorecard, diagnose(scorecard, model), model


def _emit(text: str, out: Path | None) -> None:
    if out is None:
        print(text)
        return
    out.write_text(text + "\n", encoding="utf-8")
    err_console.print(f"Wrote the report to [bold]{out}[/].", highlight=False)


def _print_table(scorecard: Scorecard, findings: list[Finding], model: JobModel,
                 rep: str | None, out: Path | None) -> None:
    from wholejob.reports.labels import sellers
    from wholejob.reports.terminal import (
        abbreviation_legend,
        rep_card,
        team_table,
        team_table_width,
    )

    needed = team_table_width(scorecard)
    if out is not None:
        target = Console(file=out.open("w", encoding="utf-8"), width=max(needed, 100),
                         no_color=True)
    elif console.is_terminal:
        target = console
    else:
        # Piped output defaults to 80 columns; widen rather than truncate the numbers.
        target = Console(width=max(console.width, needed))
    try:
        for note in scorecard.notes:
            target.print(f"[dim]note: {note}[/]", highlight=False)
        if rep is not None:
            chosen = next((r for r in scorecard.reps if r.rep_id == rep), None)
            if chosen is None:
                raise WholejobError(f"no rep {rep!r} in the report")
            target.print(rep_card(chosen, scorecard, findings, model))
            return
        target.print(team_table(scorecard, model))
        target.print(abbreviation_legend(scorecard, model))
        shown = {r.rep_id for r in sellers(scorecard)}
        top = [f for f in findings if f.rep_id in shown][:5]
        if top:
            names = {r.rep_id: r.name for r in scorecard.reps}
            practice = {pid: p.name for pid, p in model.practices.items()}
            target.print(f"\n[bold]Top findings[/] ({len(top)} of {len(findings)}; "
                         "`wholejob report --rep ID` for one rep):")
            for f in top:
                target.print(f"  [bold]{f.severity}[/] {names.get(f.rep_id, f.rep_id)} · "
                             f"{f.kind} {practice.get(f.practice, f.practice)}: {f.consequence}",
                             highlight=False)
    finally:
        if out is not None:
            target.file.close()
            err_console.print(f"Wrote the report to [bold]{out}[/].", highlight=False)
