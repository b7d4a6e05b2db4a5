"""Commands that create and inspect a workspace: init, status."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from wholejob.cli.app import Format, FormatOption, WorkspaceOption, app, console, handle_errors
from wholejob.engine import describe
from wholejob.workspace import default_workspace_path, init_workspace, open_workspace


@app.command()
@handle_errors
def init(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="Folder to create. Default: $WHOLEJOB_WORKSPACE or ./wholejob-workspace."
        ),
    ] = None,
) -> None:
    """Create a workspace: a folder with wholejob.toml and an empty database."""
    target = path if path is not None else default_workspace_path()
    with init_workspace(target) as ws:
        console.print(f"Workspace ready at [bold]{ws.path}[/] (schema {ws.schema_version}).")
        console.print(f"Edit {ws.config_path} to set currency, time zone, stages and ICP rules.")
        console.print("Next: [bold]wholejob import PATH[/] or [bold]wholejob demo[/].")


@app.command()
@handle_errors
def status(
    workspace: WorkspaceOption,
    format: FormatOption = Format.table,
) -> None:
    """Show what a workspace holds: rows per table, schema version, last import."""
    with open_workspace(workspace, read_only=True) as ws:
        counts = ws.counts()
        log = ws.import_log()
        info: dict[str, Any] = {
            "workspace": str(ws.path),
            "schema_version": ws.schema_version,
            "currency": ws.config.currency,
            "timezone": ws.config.timezone,
            "engine": describe(ws.engine),
            "tables": counts,
            "last_import": log[0] if log else None,
        }
    if format is Format.json:
        print(json.dumps(info, indent=2))
        return
    t = Table(title=f"Workspace {info['workspace']}")
    t.add_column("table")
    t.add_column("rows", justify="right")
    for name, n in counts.items():
        t.add_row(name, f"{n:,}")
    console.print(t)
    last = info["last_import"]
    when = (datetime.fromisoformat(last["finished_at"]).strftime("%Y-%m-%d %H:%M:%S")
            + f" local time, import {last['import_id']}" if last else "never")
    console.print(f"Last import: {when}")
    eng = info["engine"]
    where = f" ({eng['master']}, tables in {eng['storage']})" if "master" in eng else ""
    external = ", ".join(f"{k} = {v}" for k, v in eng["external_tables"].items())
    console.print(f"Engine: {eng['kind']}{where}" + (f"; read in place: {external}"
                                                       if external else ""))
