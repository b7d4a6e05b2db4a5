"""`wholejob users ...` and `wholejob serve`: accounts from the terminal, one writer."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wholejob.cli.app import app
from wholejob.importing.importer import import_paths
from wholejob.workspace import Workspace

runner = CliRunner()
PW = "long enough pw"


@pytest.fixture
def ws_path(workspace: Workspace, canonical: Path) -> Path:
    import_paths(workspace, [canonical])
    workspace.close()
    return workspace.path


def _run(*args: str, input: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), input=input)
    return result.exit_code, result.output


def test_users_add_list_token_password_remove(ws_path: Path) -> None:
    w = ["-w", str(ws_path)]
    assert _run("users", "add", "ada", "--role", "admin", "--password", PW, *w)[0] == 0
    code, out = _run("users", "add", "ravi", "--role", "rep", "--rep-id", "R1", *w,
                     input=f"{PW}\n{PW}\n")
    assert code == 0 and "ravi" in out
    code, out = _run("users", "list", "--format", "json", *w)
    users = {u["username"]: u for u in json.loads(out)["users"]}
    assert users["ravi"]["rep_id"] == "R1" and users["ada"]["role"] == "admin"
    assert "password_hash" not in out
    code, out = _run("users", "token", "ravi", "--name", "cron", *w)
    assert code == 0 and out.strip().startswith("wjt_")
    assert _run("users", "set-password", "ravi", "--password", "new password!", *w)[0] == 0
    assert _run("users", "remove", "ravi", *w)[0] == 0
    code, out = _run("users", "remove", "ada", *w)
    assert code == 1 and "last admin" in out and len(out.strip().splitlines()) == 1


def test_errors_are_one_line(ws_path: Path) -> None:
    code, out = _run("users", "add", "x", "--role", "rep", "--password", PW, "-w", str(ws_path))
    assert code == 1 and "needs --rep-id" in out
    code, out = _run("users", "remove", "ghost", "-w", str(ws_path))
    assert code == 1 and "no user" in out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_serve_first_run_and_users_go_through_the_server(ws_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "COLUMNS": "200", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from wholejob.cli.app import main; main()", "serve",
         "-w", str(ws_path), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()  # type: ignore[union-attr]
            lines.append(line)
            if "/setup?token=" in line:
                break
        text = "".join(lines)
        assert "No accounts yet" in text and f"http://127.0.0.1:{port}/setup?token=" in text
        info = json.loads((ws_path / "server.json").read_text())
        assert info["pid"] == proc.pid and info["port"] == port
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/signin", timeout=2)
                break
            except OSError:
                time.sleep(0.1)
        # The server holds the database: `wholejob users` goes through its API.
        code, out = _run("users", "add", "ada", "--role", "admin", "--password", PW,
                         "-w", str(ws_path))
        assert code == 0, out
        code, out = _run("users", "list", "--format", "json", "-w", str(ws_path))
        assert [u["username"] for u in json.loads(out)["users"]] == ["ada"]
        code, out = _run("users", "add", "ada", "--role", "admin", "--password", PW,
                         "-w", str(ws_path))
        assert code == 1 and "already exists" in out
        # Other write commands get one clear line, not a traceback.
        code, out = _run("import", str(ws_path), "-w", str(ws_path))
        assert code == 1 and "in use" in out and "Traceback" not in out
        # A second server on the same workspace is refused, naming the first.
        code, out = _run("serve", "-w", str(ws_path), "--port", str(_free_port()))
        assert code == 1 and "already served" in out and str(proc.pid) in out
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
        proc.stdout.close()  # type: ignore[union-attr]
    assert not (ws_path / "server.json").exists()


def test_demo_accounts_one_per_role(tmp_path: Path) -> None:
    from test_web_support import demo_workspace
    from wholejob.access import authenticate
    from wholejob.web.server import demo_accounts
    from wholejob.workspace import open_workspace

    with open_workspace(demo_workspace(tmp_path / "ws")) as ws:
        accounts = demo_accounts(ws)
        assert [a["role"] for a in accounts] == ["admin", "manager", "rep"]
        manager = next(a for a in accounts if a["role"] == "manager")
        assert manager["rep_id"] == "M0001"
        for a in accounts:
            assert authenticate(ws, str(a["username"]), str(a["password"])) is not None
        again = demo_accounts(ws)  # existing accounts are kept, passwords not shown
        assert all(a["password"] is None for a in again)
