"""The `wholejob diagnose` command: what each rep neglects, overdoes or does badly."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from wholejob.cli.app import Format, FormatOption, WorkspaceOption, app, console, handle_errors
from wholejob.errors import WholejobError
from wholejob.scorecard import Finding, Scorecard

SEVERITY_STYLE = {"high": "bold red", "medium": "yellow", "low": "dim"}
DATE_FORMATS = ["%Y-%m-%d"]
WIDTH = 140


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


@app.command()
@handle_errors
def diagnose(
    workspace: WorkspaceOption,
    rep: Annotated[
        str | None,
        typer.Option("--rep", help="Only this rep's findings (judged against the team)."),
    ] = None,
    team: Annotated[str | None, typer.Option("--team", help="Only this team.")] = None,
    since: Annotated[
        datetime | None,
        typer.Option("--since", formats=DATE_FORMATS, help="First day of the period (YYYY-MM-DD)."),
    ] = None,
    until: Annotated[
        datetime | None,
        typer.Option("--until", formats=DATE_FORMATS, help="Last day of the period (YYYY-MM-DD)."),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=0, help="Show at most this many findings in the table "
                          "(0 = all); JSON lists them all.")
    ] = 0,
    no_forecast: Annotated[
        bool, typer.Option("--no-forecast", help="Skip the forecast consequences (bookings "
                           "and coverage now vs at the floor); faster.")
    ] = False,
    paths: Annotated[int, typer.Option("--paths", help="Monte Carlo paths of the forecast "
                                       "consequences.")] = 2000,
    format: FormatOption = Format.table,
) -> None:
    """List findings: neglected, overinvested and ineffective practices, worst first."""
    from wholejob.balance import with_balance
    from wholejob.consequences import attach_forecast_consequences
    from wholejob.findings import diagnose as find
    from wholejob.findings import findings_json
    from wholejob.jobmodel import load_job_model
    from wholejob.measures import build_scorecard
    from wholejob.workspace import open_workspace

    with open_workspace(workspace, read_only=True) as ws:
        model = load_job_model(ws.config, source=str(ws.config_path))
        # A rep is judged against the team, so the scorecard always holds the peers.
        scorecard = build_scorecard(ws, since=_day(since), until=_day(until), team=team,
                                    model=model)
        if rep is not None and rep not in {r.rep_id for r in scorecard.reps}:
            raise WholejobError(f"no rep {rep!r} in the workspace (or not in team {team!r})"
                                if team else f"no rep {rep!r} in the workspace")
        scorecard = with_balance(scorecard, model)
        findings = [f for f in find(scorecard, model) if rep is None or f.rep_id == rep]
        if not no_forecast:
            # Money and time from the pipeline forecast: now vs at the floor (what-if).
            findings = attach_forecast_consequences(findings, ws, paths=paths,
                                                    as_of=_day(until))
    if format is Format.json:
        out = {
            **findings_json(findings),
            "since": scorecard.since.isoformat() if scorecard.since else None,
            "until": scorecard.until.isoformat() if scorecard.until else None,
            "currency": scorecard.currency,
            "balance": {r.rep_id: r.balance_index for r in scorecard.reps
                        if rep is None or r.rep_id == rep},
        }
        print(json.dumps(out, indent=2, default=str))
        return
    print_findings(findings[:limit] if limit else findings, scorecard, len(findings))


def print_findings(findings: list[Finding], scorecard: Scorecard, total: int) -> None:
    """Print findings as a table, worst first, with each rep's balance index."""
    names = {r.rep_id: r.name for r in scorecard.reps}
    balance = {r.rep_id: r.balance_index for r in scorecard.reps}
    period = (f"{scorecard.since} to {scorecard.until}" if scorecard.since and scorecard.until
              else "all data")
    if not findings:
        console.print(f"No findings for {period}: every rep covers the whole job.")
        return
    table = Table(title=f"Findings, {period} (worst first)", box=box.SIMPLE_HEAD,
                  show_lines=True)
    table.add_column("sev", no_wrap=True)
    table.add_column("rep", no_wrap=True)
    table.add_column("practice", no_wrap=True)
    table.add_column("at stake", justify="right", no_wrap=True)
    table.add_column("what it threatens / what to do", min_width=40)
    for f in findings:
        idx = balance.get(f.rep_id)
        who = f"{names.get(f.rep_id, f.rep_id)}\n{f.rep_id}" + (
            f"\nbalance {idx:.0f}" if idx is not None else "")
        money = (f"{scorecard.currency} {f.money_at_stake:,.0f}"
                 if f.money_at_stake is not None else "-")
        table.add_row(f"[{SEVERITY_STYLE[f.severity]}]{f.severity}[/]", who,
                      f"{f.practice}\n[italic]{f.kind}[/]", money,
                      f"{f.consequence}\n[bold]-> {f.recommendation}[/]")
    # Piped output defaults to 80 columns; widen so the text stays readable.
    out = console if console.is_terminal else Console(width=max(console.width, WIDTH))
    out.print(table)
    if total > len(findings):
        console.print(f"(first {len(findings)} of {total}; --limit 0 or --format json for all)")
    console.print("[dim]Rules, thresholds and money estimates: docs/findings.md[/]")
