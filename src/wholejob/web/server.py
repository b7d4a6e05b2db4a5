"""Running the dashboard: ``server.json``, first-run setup, demo accounts, uvicorn.

While ``wholejob serve`` runs it is the workspace's one writer and announces
itself in ``<workspace>/server.json`` (pid, host, port, url and a token that
authenticates the CLI on the local API). CLI commands that find the database
locked read it to say which server holds the workspace and where.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from wholejob.access import add_user, get_user, has_users
from wholejob.workspace import Workspace

__all__ = [
    "SERVER_FILE",
    "ServerInfo",
    "demo_accounts",
    "remove_server_file",
    "run_server",
    "running_server",
    "write_server_file",
]

SERVER_FILE = "server.json"


@dataclass(frozen=True)
class ServerInfo:
    """A running dashboard as announced in ``server.json``."""

    pid: int
    host: str
    port: int
    url: str
    token: str
    started_at: str

    def describe(self) -> str:
        """Return one line naming the server, e.g. for a lock error."""
        return f"the dashboard (wholejob serve, pid {self.pid}) at {self.url}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_server(workspace: Path | str) -> ServerInfo | None:
    """Return the live server of a workspace, or None (a stale file is ignored)."""
    path = Path(workspace) / SERVER_FILE
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
        info = ServerInfo(int(data["pid"]), str(data["host"]), int(data["port"]),
                          str(data["url"]), str(data.get("token", "")),
                          str(data.get("started_at", "")))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return info if _alive(info.pid) else None


def write_server_file(workspace: Path | str, host: str, port: int, token: str) -> ServerInfo:
    """Announce this process as the workspace's server; the file is readable by its owner only."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    info = ServerInfo(os.getpid(), host, port, f"http://{shown}:{port}", token,
                      datetime.now().isoformat(timespec="seconds"))
    path = Path(workspace) / SERVER_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(info.__dict__, f, indent=2)
    return info


def remove_server_file(workspace: Path | str) -> None:
    """Remove ``server.json`` if this process wrote it."""
    path = Path(workspace) / SERVER_FILE
    with contextlib.suppress(OSError, ValueError):
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
            path.unlink()


DEMO_ROLES: tuple[tuple[str, str], ...] = (("admin", "admin"), ("manager", "manager"),
                                           ("rep", "rep"))


def demo_accounts(ws: Workspace) -> list[dict[str, str | None]]:
    """Create one account per role on a demo workspace and return their passwords.

    The manager is linked to the first rep who manages sellers, the rep to the
    first seller in that manager's team. Existing demo accounts are left alone
    (their password is then not shown).
    """
    rows = [(r["rep_id"], r["manager_id"], r["role"]) for r in ws.table("reps").select(
        "rep_id", "manager_id", "role").order_by("rep_id").to_pyarrow().to_pylist()]
    sellers = [r for r in rows if (r[2] or "rep") == "rep"]
    managers = sorted({r[1] for r in sellers if r[1]})
    manager = managers[0] if managers else None
    rep = next((r[0] for r in sellers if r[1] == manager), sellers[0][0] if sellers else None)
    links = {"admin": None, "manager": manager, "rep": rep}
    out: list[dict[str, str | None]] = []
    for name, role in DEMO_ROLES:
        username = f"demo-{name}"
        if links[role] is None and role != "admin":
            continue
        password = None
        if get_user(ws, username) is None:
            password = secrets.token_urlsafe(9)
            add_user(ws, username, password, role, links[role])
        out.append({"username": username, "password": password, "role": role,
                    "rep_id": links[role]})
    return out


def run_server(workspace: Path | str, *, host: str = "127.0.0.1", port: int = 8000,
               settings: Any = None, announce: Callable[[str], None] = print) -> None:
    """Serve the dashboard until interrupted; print the setup link when there are no users.

    Raises :class:`~wholejob.errors.WorkspaceLockedError` naming the server when
    another ``wholejob serve`` already holds the workspace.
    """
    import dataclasses

    import uvicorn

    from wholejob.errors import WorkspaceLockedError
    from wholejob.web.app import create_app, setup_token
    from wholejob.web.state import WebSettings

    path = Path(workspace)
    other = running_server(path)
    if other is not None and other.pid != os.getpid():
        raise WorkspaceLockedError(f"{path} is already served by {other.describe()}")
    token = secrets.token_urlsafe(32)
    settings = dataclasses.replace(settings or WebSettings(), cli_token=token,
                                   setup_token=setup_token())
    app = create_app(path, settings=settings)  # takes the write lock, or says who has it
    info = write_server_file(path, host, port, token)
    try:
        announce(f"wholejob dashboard for {path} at {info.url} (Ctrl-C to stop)")
        if not has_users(app.state.web.workspace()):
            announce("No accounts yet. Create the first admin with this one-time link:\n"
                     f"  {info.url}/setup?token={settings.setup_token}\n"
                     "or stop the server and run `wholejob users add NAME --role admin`.")
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    finally:
        remove_server_file(path)
