"""The Typer application, the options every command shares, and error handling.

Commands live in sibling modules (one per area) and register themselves on
:data:`app`; this module imports them at the bottom so ``wholejob --help`` lists
them all.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer
from rich.console import Console

from wholejob import __version__
from wholejob.engine import ENGINE_ENV, parse_engine_url
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


def _engine(ctx: typer.Context, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        parse_engine_url(value)
    except WholejobError as e:
        raise typer.BadParameter(str(e)) from None
    # Workspaces read $WHOLEJOB_ENGINE; restore it when the command is done so an
    # in-process caller (a test, a notebook) is not left pointing elsewhere.
    before = os.environ.get(ENGINE_ENV)
    os.environ[ENGINE_ENV] = value

    def restore() -> None:
        if before is None:
            os.environ.pop(ENGINE_ENV, None)
        else:
            os.environ[ENGINE_ENV] = before

    ctx.call_on_close(restore)
    return value


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
    engine: Annotated[
        str | None,
        typer.Option(
            "--engine", callback=_engine, metavar="URL",
            help="Engine holding the records: duckdb, spark://local[N] or spark://HOST:PORT. "
                 "Default: $WHOLEJOB_ENGINE, else [engine] url in wholejob.toml "
                 "(docs/scaling.md).",
        ),
    ] = None,
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
