"""CLI command: `wholejob serve` runs the web dashboard and JSON API on a workspace."""

from __future__ import annotations

from typing import Annotated

import typer

from wholejob.cli.app import WorkspaceOption, app, console, handle_errors


@app.command()
@handle_errors
def serve(
    workspace: WorkspaceOption,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    secure_cookies: Annotated[bool, typer.Option(
        "--secure-cookies", help="Send cookies over HTTPS only (behind a TLS proxy).")] = False,
    session_hours: Annotated[float, typer.Option(
        min=0.1, max=24 * 30, help="Hours a sign-in lasts.")] = 12.0,
) -> None:
    """Serve the dashboard; with no accounts yet, print a one-time setup link for the first admin.

    The server is the workspace's one writer while it runs: other wholejob
    commands on the same workspace say so (`wholejob users` goes through it).
    """
    from wholejob.web.server import run_server
    from wholejob.web.state import WebSettings
    settings = WebSettings(secure_cookies=secure_cookies, session_hours=session_hours)
    run_server(workspace, host=host, port=port, settings=settings,
               announce=lambda text: console.print(text, highlight=False, soft_wrap=True))
