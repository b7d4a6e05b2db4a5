"""CLI commands: `wholejob users add|list|remove|set-password|token` (dashboard accounts).

When `wholejob serve` holds the workspace, these commands go through the
server's local API (authenticated by the token in ``server.json``) instead of
failing on the database lock.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

import typer
from rich.table import Table

from wholejob.cli.app import Format, FormatOption, WorkspaceOption, app, console, handle_errors
from wholejob.errors import UserError, WorkspaceLockedError
from wholejob.workspace import Workspace, open_workspace

users_app = typer.Typer(
    help="Manage dashboard accounts: roles rep, manager, admin; passwords; API tokens.",
    no_args_is_help=True,
)
app.add_typer(users_app, name="users")

T = TypeVar("T")
Username = Annotated[str, typer.Argument(help="The account's username.")]


def _call_server(workspace: Path, method: str, path: str,
                 body: dict[str, Any] | None = None) -> Any:
    """Send one request to the workspace's running server, as the local CLI."""
    from wholejob.web.server import running_server

    info = running_server(workspace)
    if info is None:
        return None
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        info.url + path, data=data, method=method,
        headers={"Authorization": f"Bearer {info.token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as e:
        try:
            detail = json.loads(e.read()).get("detail", e.reason)
        except ValueError:
            detail = e.reason
        raise UserError(str(detail) if isinstance(detail, str) else json.dumps(detail)) from None
    except OSError as e:
        raise WorkspaceLockedError(
            f"{workspace} is held by {info.describe()}, which does not answer ({e}); "
            "stop it and try again") from None


def _run(workspace: Path, local: Callable[[Workspace], T], method: str, path: str,
         body: dict[str, Any] | None = None) -> T | Any:
    """Run ``local`` on the workspace, or send the request to its server when it is locked."""
    try:
        ws = open_workspace(workspace)
    except WorkspaceLockedError:
        answer = _call_server(workspace, method, path, body)
        if answer is None:
            raise
        return answer
    with ws:
        return local(ws)


def _password(password: str | None) -> str:
    if password is not None:
        return password
    value: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@users_app.command("add")
@handle_errors
def add(
    username: Username,
    workspace: WorkspaceOption,
    role: Annotated[str, typer.Option("--role", help="rep, manager or admin.")] = "rep",
    rep_id: Annotated[str | None, typer.Option(
        "--rep-id", help="The rep id whose data the account sees (reps and managers).")] = None,
    password: Annotated[str | None, typer.Option(
        "--password", help="The password; prompted for (hidden) when left out.")] = None,
) -> None:
    """Add an account; a manager sees its reporting tree, a rep only itself."""
    from wholejob.access import add_user

    secret = _password(password)
    answer = _run(workspace, lambda ws: add_user(ws, username, secret, role, rep_id).to_json(),
                  "POST", "/api/users",
                  {"username": username, "password": secret, "role": role, "rep_id": rep_id})
    console.print(f"added {answer['username']} ({answer['role']}"
                  + (f", rep {answer['rep_id']}" if answer.get("rep_id") else "") + ")",
                  highlight=False)


@users_app.command("list")
@handle_errors
def list_(workspace: WorkspaceOption, format: FormatOption = Format.table) -> None:
    """List accounts with their role, rep and API tokens."""
    from wholejob.access import list_tokens, list_users

    def local(ws: Workspace) -> dict[str, Any]:
        tokens = list_tokens(ws)
        return {"users": [{**u.to_json(), "tokens": [t.to_json() for t in tokens
                                                     if t.username == u.username]}
                          for u in list_users(ws)]}

    answer = _run(workspace, local, "GET", "/api/users")
    if format is Format.json:
        print(json.dumps({"users": answer["users"]}, indent=2, default=str))
        return
    table = Table(title="Users")
    for col in ("username", "role", "rep_id", "tokens"):
        table.add_column(col)
    for u in answer["users"]:
        table.add_row(u["username"], u["role"], u["rep_id"] or "",
                      ", ".join(t["token_id"] for t in u["tokens"]))
    console.print(table)


@users_app.command("remove")
@handle_errors
def remove(username: Username, workspace: WorkspaceOption) -> None:
    """Remove an account and its API tokens (never the last admin)."""
    from wholejob.access import remove_user

    _run(workspace, lambda ws: remove_user(ws, username), "DELETE",
         f"/api/users/{quote(username, safe='')}")
    console.print(f"removed {username}", highlight=False)


@users_app.command("set-password")
@handle_errors
def set_password_(
    username: Username,
    workspace: WorkspaceOption,
    password: Annotated[str | None, typer.Option(
        "--password", help="The new password; prompted for (hidden) when left out.")] = None,
) -> None:
    """Set an account's password; its signed-in sessions end."""
    from wholejob.access import set_password

    secret = _password(password)
    _run(workspace, lambda ws: set_password(ws, username, secret), "PUT",
         f"/api/users/{quote(username, safe='')}/password", {"password": secret})
    console.print(f"password of {username} changed", highlight=False)


@users_app.command("token")
@handle_errors
def token(
    username: Username,
    workspace: WorkspaceOption,
    name: Annotated[str, typer.Option("--name", help="A label, e.g. the script's name.")] = "",
    revoke: Annotated[str | None, typer.Option(
        "--revoke", help="Revoke the token with this id instead of creating one.")] = None,
) -> None:
    """Create an API token for scripts (Authorization: Bearer TOKEN); it is printed once."""
    from wholejob.access import create_token, revoke_token

    if revoke is not None:
        _run(workspace, lambda ws: revoke_token(ws, revoke), "DELETE",
             f"/api/tokens/{quote(revoke, safe='')}")
        console.print(f"revoked token {revoke}", highlight=False)
        return

    def local(ws: Workspace) -> dict[str, Any]:
        facts, secret = create_token(ws, username, name)
        return {**facts.to_json(), "token": secret}

    answer = _run(workspace, local, "POST", f"/api/users/{quote(username, safe='')}/tokens",
                  {"name": name})
    # The bare token on stdout, so scripts can capture it: TOKEN=$(wholejob users token ...)
    print(answer["token"])
