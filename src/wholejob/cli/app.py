"""The Typer application, the options every command shares, and error handling.

Commands live in sibling modules (one per area) and register themselves on
:data:`app`; this module imports them at the bottom so ``wholejob --help`` lists
them all.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer
from rich.console import Console

from wholejob import __version__
from wholejob.errors import WholejobError
from wholejob.workspace import default_workspace_path

__all__ = ["Format", "FormatOption", "WorkspaceOption", "app", "console", "err_console", "main"]

app = typer.Typer(
    name="wholejob",
    help="See how each salesperson spends time and performs across the whole sales job.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)


class Format(StrEnum):
    """Output formats of reporting commands."""

    table = "table"
    json = "json"


WorkspaceOption = Annotated[
    Path,
    typer.Option(
        "--workspace",
        "-w",
        help="Workspace folder. Default: $WHOLEJOB_WORKSPACE or ./wholejob-workspace.",
        default_factory=default_workspace_path,
        show_default=False,
    ),
]
FormatOption = Annotated[
    Format, typer.Option("--format", "-f", help="Output format: table or json.")
]

P = ParamSpec("P")
R = TypeVar("R")


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn a :class:`WholejobError` into one line on stderr and its exit code."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except WholejobError as e:
            err_console.print(f"[bold red]error:[/] {e}", highlight=False, soft_wrap=True)
            raise typer.Exit(e.exit_code) from None

    return wrapper


def _version(value: bool) -> None:
    if value:
        console.print(f"wholejob {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """See how each salesperson spends time and performs across the whole sales job."""


def main() -> None:
    """Entry point of the ``wholejob`` console script."""
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)


# Register the commands (import for side effects, after `app` exists).
from wholejob.cli import (  # noqa: E402, F401
    classify,
    demo,
    diagnose,
    forecast,
    imports,
    plan,
    practices,
    report,
    serve,
    setup,
    skills,
    users,
)
