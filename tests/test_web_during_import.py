"""The dashboard keeps answering while a large import runs in the server.

``wholejob serve`` runs in a subprocess on a free loopback port over the demo
workspace. An admin starts an import of a few hundred thousand activities
through ``POST /api/imports`` (the server imports in a worker thread with its
own connection); while the job reports ``running``, the team page and its JSON
twin are requested over and over with a short timeout, and every answer must be
a 200 within :data:`LIMIT` seconds. The job must have been seen running while
pages answered and must end ``done`` with every row imported, so the test cannot
pass without an import actually overlapping the requests.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from test_web_support import demo_workspace
from wholejob.access import create_token
from wholejob.workspace import open_workspace

pytestmark = pytest.mark.slow

ROWS = 300_000
LIMIT = 10.0  # seconds a page may take while the import runs
REPS = [f"R0000{i}" for i in range(1, 10)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _activities(path: Path) -> Path:
    rng = np.random.default_rng(11)
    start = np.datetime64("2023-01-02T08:00:00") + rng.integers(
        0, 300 * 24 * 60, ROWS).astype("timedelta64[m]")
    pacsv.write_csv(pa.table({
        "activity_id": np.char.add("BIG", np.arange(ROWS).astype(str)),
        "rep_id": np.array(REPS)[rng.integers(0, len(REPS), ROWS)],
        "type": np.array(["call", "email", "task"])[rng.integers(0, 3, ROWS)],
        "started_at": np.datetime_as_string(start),
        "duration_minutes": rng.integers(1, 60, ROWS).astype(str),
        "practice": np.array(["prospecting", "closing", "other"])[rng.integers(0, 3, ROWS)],
    }), path)
    return path


def _get(url: str, token: str, timeout: float = LIMIT) -> tuple[int, float, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    t0 = time.monotonic()
    with urllib.request.urlopen(request, timeout=timeout) as response:
        body = response.read()
        return response.status, time.monotonic() - t0, body


def _post_file(url: str, token: str, path: Path) -> dict[str, Any]:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; "
            f"filename=\"activities.csv\"\r\nContent-Type: text/csv\r\n\r\n").encode()
    body += path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Authorization": f"Bearer {token}",
        "Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(request, timeout=120) as response:
        assert response.status == 202
        return json.loads(response.read())  # type: ignore[no-any-return]


def test_pages_answer_while_an_import_runs(tmp_path: Path) -> None:
    ws_path = demo_workspace(tmp_path / "ws")
    with open_workspace(ws_path) as ws:
        token = create_token(ws, "admin", "during-import")[1]
        before = int(ws.raw.execute("SELECT count(*) FROM activities").fetchall()[0][0])
    data = _activities(tmp_path / "activities.csv")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from wholejob.cli.app import main; main()", "serve",
         "-w", str(ws_path), "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=log, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, "wholejob serve exited"
            try:
                urllib.request.urlopen(f"{base}/signin", timeout=2).read()
                break
            except OSError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        for path in ("/team", "/api/team"):  # warm the caches, as a user would have
            assert _get(base + path, token, timeout=120)[0] == 200

        job = _post_file(f"{base}/api/imports", token, data)
        job_url = f"{base}/api/imports/{job['job_id']}"
        answered_while_running = 0
        slowest = 0.0
        deadline = time.monotonic() + 300
        status = job["status"]
        while status in ("queued", "running"):
            assert time.monotonic() < deadline, "the import did not finish"
            for path in ("/api/team", "/team"):
                code, took, body = _get(base + path, token)
                assert code == 200 and body
                slowest = max(slowest, took)
            status = json.loads(_get(job_url, token)[2])["status"]
            if status == "running":  # still running after the pages answered
                answered_while_running += 1
        final = json.loads(_get(job_url, token, timeout=60)[2])
        assert final["status"] == "done", final
        assert final["summary"]["entities"]["activities"]["inserted"] == ROWS
        assert answered_while_running >= 3, (
            f"only {answered_while_running} rounds of pages overlapped the import")
        assert slowest < LIMIT
        print(f"{answered_while_running} rounds answered while importing; slowest {slowest:.2f} s")
        with urllib.request.urlopen(urllib.request.Request(
                f"{base}/api/team", headers={"Authorization": f"Bearer {token}"}),
                timeout=300) as r:
            assert r.status == 200
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(30)
        log.close()
    with open_workspace(ws_path) as ws:
        after = int(ws.raw.execute("SELECT count(*) FROM activities").fetchall()[0][0])
    assert after == before + ROWS
