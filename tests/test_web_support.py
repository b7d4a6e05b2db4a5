"""Shared helpers of the web tests: a demo workspace with one account per kind of user.

The demo team (9 reps, seed 7) has two teams: North (M0001 manages R00001-R00008)
and South (M0002 manages R00009); H0001 heads both managers.
"""

from __future__ import annotations

import atexit
import functools
import re
import shutil
import tempfile
from pathlib import Path

from fastapi.testclient import TestClient

from wholejob.access import add_user
from wholejob.demo import generate_demo
from wholejob.importing.importer import import_paths
from wholejob.workspace import init_workspace

PASSWORD = "correct horse battery"
# username -> (role, rep_id)
ACCOUNTS: dict[str, tuple[str, str | None]] = {
    "admin": ("admin", None),
    "head": ("manager", "H0001"),
    "north": ("manager", "M0001"),
    "south": ("manager", "M0002"),
    "rep1": ("rep", "R00001"),
    "rep9": ("rep", "R00009"),
}
NORTH = {f"R0000{i}" for i in range(1, 9)}
ALL_REPS = NORTH | {"R00009", "M0001", "M0002", "H0001"}
VISIBLE: dict[str, set[str]] = {
    "admin": ALL_REPS,
    "head": ALL_REPS,
    "north": NORTH | {"M0001"},
    "south": {"R00009", "M0002"},
    "rep1": {"R00001"},
    "rep9": {"R00009"},
}
_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


@functools.lru_cache(maxsize=1)
def _template() -> Path:
    root = Path(tempfile.mkdtemp(prefix="wholejob-web-"))
    atexit.register(shutil.rmtree, root, True)
    data = root / "data"
    generate_demo(data, reps=9, weeks=8, seed=7)
    ws = init_workspace(root / "ws")
    try:
        import_paths(ws, [data])
        for name, (role, rep_id) in ACCOUNTS.items():
            add_user(ws, name, PASSWORD, role, rep_id)
    finally:
        ws.close()
    return root / "ws"


def demo_workspace(dest: Path) -> Path:
    """Copy the demo workspace (built once per test process) to ``dest``."""
    shutil.copytree(_template(), dest)
    return dest


def csrf_of(html: str) -> str:
    """Return the CSRF token of a rendered page."""
    match = _CSRF.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> TestClient:
    """Sign a test client in through the form, as a browser would."""
    page = client.get("/signin")
    r = client.post("/signin", data={"username": username, "password": password,
                                     "csrf_token": csrf_of(page.text)},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    return client
