"""CLI command: import files or folders into the workspace."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn
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
from wholejob.errors import MappingError
from wholejob.importing.importer import SourceMapping, import_paths
from wholejob.importing.summary import ImportSummary
from wholejob.workspace import open_workspace


def _load_mapping(mapping: Path | None, preset: str | None) -> SourceMapping | None:
    if mapping is not None and preset is not None:
        raise MappingError("use either --mapping or --preset, not both")
    if mapping is None and preset is None:
        return None
    # Imported here so `wholejob import` of canonical files never depends on it.
    from wholejob.importing import mapping as mapping_module

    if mapping is not None:
        loaded: SourceMapping = mapping_module.load_mapping(mapping)
    else:
        assert preset is not None
        loaded = mapping_module.load_preset(preset)
    return loaded


def _print_table(summary: ImportSummary) -> None:
    t = Table(title="Import")
    t.add_column("entity")
    for name in ("read", "inserted", "updated", "unchanged", "rejected"):
        t.add_column(name, justify="right")
    for entity, c in summary.entities.items():
        t.add_row(entity, *(f"{n:,}" for n in (c.read, c.inserted, c.updated,
                                                c.unchanged, c.rejected)))
    console.print(t)
    for problem in summary.problems:
        console.print(f"[yellow]file rejected:[/] {problem}", highlight=False)
    for warning in summary.warnings:
        console.print(f"[yellow]warning:[/] {warning}", highlight=False)
    for ref, n in summary.unknown_references.items():
        console.print(f"[yellow]unknown references kept:[/] {ref}: {n:,}", highlight=False)
    if summary.rejects_file:
        console.print(f"Rejected rows and files: {summary.rejects_file}", highlight=False)
    if summary.warnings_file:
        console.print(f"Warnings: {summary.warnings_file}", highlight=False)


@app.command("import")
@handle_errors
def import_(
    paths: Annotated[
        list[Path], typer.Argument(help="CSV or Parquet files, or folders holding them.")
    ],
    workspace: WorkspaceOption,
    mapping: Annotated[
        Path | None, typer.Option("--mapping", help="Mapping file for a CRM export.")
    ] = None,
    preset: Annotated[
        str | None, typer.Option("--preset", help="Built-in mapping, e.g. salesforce, hubspot.")
    ] = None,
    rejects: Annotated[
        Path | None,
        typer.Option("--rejects", help="Where to write rejected rows (CSV). "
                     "Default: a timestamped file in the workspace's rejects folder."),
    ] = None,
    format: FormatOption = Format.table,
) -> None:
    """Import files or folders; rejected rows go to a rejects file, the rest lands at once.

    Exit code 0 when everything was accepted, 2 when rows or files were rejected
    (the rest was imported), 1 when the import failed and nothing changed.
    """
    source_mapping = _load_mapping(mapping, preset)
    with open_workspace(workspace) as ws, Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task("importing", total=None)

        def progress(what: str, done: int, total: int) -> None:
            bar.update(task, description=what, completed=done, total=total)

        summary = import_paths(ws, paths, mapping=source_mapping, rejects_path=rejects,
                               progress=progress)
    if format is Format.json:
        print(json.dumps(summary.to_json(), indent=2))
    else:
        _print_table(summary)
    raise typer.Exit(summary.exit_code)
