"""The `wholejob demo` command: generate a demo team, import it, show where time goes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from wholejob.cli.app import (
    Format,
    FormatOption,
    WorkspaceOption,
    app,
    console,
    err_console,
    handle_errors,
)
from wholejob.cli.diagnose import print_findings
from wholejob.effort import UNCLASSIFIED, EffortTable
from wholejob.errors import WorkspaceError

MAX_COLUMNS = 12
TOP_FINDINGS = 5
NOT_TIME = "\u2013"  # an en dash: a practice that is a quality of time, not time of its own


@app.command()
@handle_errors
def demo(
    workspace: WorkspaceOption,
    reps: Annotated[
        int,
        typer.Option(min=7, max=5000, help="Number of reps (7 or more, so every profile appears)."),
    ] = 12,
    weeks: Annotated[
        int, typer.Option(min=4, max=260, help="Weeks of history to generate.")
    ] = 26,
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed gives the same team.")
    ] = 7,
    replace: Annotated[
        bool, typer.Option("--replace", help="Wipe an existing workspace that already holds data.")
    ] = False,
    format: FormatOption = Format.table,
    serve: Annotated[
        bool, typer.Option("--serve", help="Then serve the dashboard on 127.0.0.1:8000 "
                           "with a demo account for each role.")
    ] = False,
) -> None:
    """Make a realistic demo team, import it, and show its balance and top findings."""
    from wholejob.balance import with_balance
    from wholejob.demo import generate_demo
    from wholejob.effort import effort_hours
    from wholejob.findings import diagnose
    from wholejob.importing.importer import import_paths
    from wholejob.jobmodel import load_job_model
    from wholejob.measures import build_scorecard
    from wholejob.workspace import DATABASE_FILE, init_workspace

    _refuse_to_overwrite(workspace, replace, DATABASE_FILE)
    data_dir = workspace / "demo-data"
    with _progress() as progress:
        task = progress.add_task("generating demo team", total=1.0)

        def on_generate(step: str, fraction: float) -> None:
            progress.update(task, description=f"generating: {step}", completed=fraction)

        result = generate_demo(data_dir, reps=reps, weeks=weeks, seed=seed, progress=on_generate)
        progress.update(task, completed=1.0)
        ws = init_workspace(workspace)
        itask = progress.add_task("importing", total=1.0)

        def on_import(step: str, done: int, total: int) -> None:
            progress.update(itask, description=f"importing: {step}",
                            completed=done / total if total else 1.0)

        summary = import_paths(ws, [data_dir], progress=on_import)
        progress.update(itask, completed=1.0)
    with ws:
        model = load_job_model(ws.config, source=str(ws.config_path))
        hours = effort_hours(ws, model=model)
        quality = model.quality_ids
        scorecard = with_balance(build_scorecard(ws, model=model), model)
        findings = diagnose(scorecard, model)
    balance = {r.rep_id: r.balance_index for r in scorecard.reps}
    if format is Format.json:
        print(json.dumps({
            "workspace": str(ws.path),
            "import": summary.to_json(),
            "profiles": result.profiles,
            "hours": hours.to_json(),
            "balance": balance,
            "findings": [f.to_json() for f in findings],
        }, indent=2, default=str))
        return
    _print_hours(hours, result.profiles, quality, balance)
    if findings:
        console.print()
        print_findings(findings[:TOP_FINDINGS], scorecard, len(findings))
    console.print(
        f"\nImported {sum(e['read'] for e in summary.to_json()['entities'].values()):,} rows "
        f"into [bold]{ws.path}[/] ({len(result.profiles)} reps, {weeks} weeks, seed {seed})."
    )
    first = next((r["rep_id"] for r in hours.reps if r["rep_id"] in result.profiles), "R00001")
    console.print(
        "Next: [bold]wholejob report[/] (team heatmap; [bold]--format html --out report.html[/]), "
        f"[bold]wholejob diagnose[/], [bold]wholejob forecast --rep {first}[/], "
        f"[bold]wholejob plan --rep {first}[/]; the generated files are in {data_dir}."
    )
    if serve:
        _serve(ws.path)


def _serve(path: Path) -> None:
    """Create a demo account per role, print them, and serve the dashboard."""
    from wholejob.web.server import demo_accounts, run_server
    from wholejob.workspace import open_workspace

    with open_workspace(path) as ws:
        accounts = demo_accounts(ws)
    console.print("\nDemo accounts (sign in at http://127.0.0.1:8000/signin):")
    for a in accounts:
        secret = a["password"] or "(unchanged; `wholejob users set-password` to reset)"
        rep = f", rep {a['rep_id']}" if a["rep_id"] else ""
        console.print(f"  {a['role']:<8} {a['username']:<14} password {secret}{rep}",
                      highlight=False)
    run_server(path, announce=lambda text: console.print(text, highlight=False))


def _index(value: float | None) -> str:
    return "?" if value is None else f"{value:.0f}"


def _refuse_to_overwrite(workspace: Path, replace: bool, database_file: str) -> None:
    db = workspace / database_file
    if not db.exists():
        return
    if not replace:
        raise WorkspaceError(
            f"{workspace} already holds a workspace; pass --replace to wipe it "
            "or --workspace DIR to use another folder"
        )
    db.unlink()
    shutil.rmtree(workspace / "demo-data", ignore_errors=True)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
        console=err_console, transient=True,
    )


def _print_hours(
    effort: EffortTable,
    profiles: dict[str, str],
    quality: list[str],
    balance: dict[str, float | None],
) -> None:
    sellers = [r for r in effort.reps if r["role"] != "manager"]
    shown = sellers[:MAX_COLUMNS]
    weeks = f"{effort.weeks:.0f}" if effort.weeks else "?"
    table = Table(
        title=f"Hours per week by practice ({weeks} weeks of activities)",
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
        pad_edge=False,
    )
    table.add_column("practice", style="bold", no_wrap=True)
    heads = [str(i) for i in range(1, len(shown) + 1)]
    for head in heads:
        table.add_column(head, justify="right", no_wrap=True)
    for practice in effort.practices:
        cells = []
        for rep in shown:
            value = effort.per_week(rep["rep_id"], practice)
            if practice in quality:
                cells.append(NOT_TIME)
            else:
                cells.append("?" if value is None else f"{value:.1f}")
        style = "dim" if practice in ("other", UNCLASSIFIED, *quality) else None
        table.add_row(practice, *cells, style=style)
    table.add_section()
    table.add_row(
        "balance index (0-100)",
        *[_index(balance.get(rep["rep_id"])) for rep in shown],
        style="bold",
    )
    # Piped output defaults to 80 columns; widen rather than truncate the numbers.
    needed = 24 + 6 * len(shown)
    out = console if console.is_terminal else Console(width=max(console.width, needed))
    out.print(table)
    for h, rep in zip(heads, shown, strict=True):
        profile = profiles.get(rep["rep_id"], "?")
        console.print(f"  [bold]{h:>2}[/] {rep['rep_id']} {rep['name']} [italic]({profile})[/]")
    console.print(
        "[dim]h/week = hours of activities classified into the practice / weeks in the period; "
        f"'?' = no activities (unknown); '{NOT_TIME}' = a quality of all customer time, "
        "not time of its own.[/]"
    )
    if len(sellers) > MAX_COLUMNS:
        console.print(f"(first {MAX_COLUMNS} of {len(sellers)} reps; --format json lists everyone)")
