"""The dashboard in a real headless browser (Debian's Chromium driven by Playwright).

The server runs in a thread on a free loopback port. Each main page is saved as
a screenshot under ``test-artifacts/screenshots/``. The browser must be there:
in CI (``WHOLEJOB_REQUIRE_ALL=1``) a skip fails the run.
"""

from __future__ import annotations

import csv
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from test_web_support import PASSWORD, demo_workspace
from wholejob.web import create_app

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).parents[1] / "test-artifacts" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get "
                       "install chromium)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import uvicorn

    path = demo_workspace(tmp_path_factory.mktemp("browser") / "ws")
    app = create_app(path)
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                        access_log=False))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(30)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 900})
    pg = context.new_page()
    problems: list[str] = []
    pg.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: problems.append(str(e)))
    pg.set_default_timeout(60_000)
    pg.problems = problems
    yield pg
    context.close()
    # A CSP violation or a script error shows up on the console; the 404s are the
    # tests' own attempts to read other reps' pages.
    assert not [p for p in problems if "status of 404" not in p], problems


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/signin")
    if username == "admin":
        _shot(page, "signin")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#signin")
    page.wait_for_load_state("networkidle")


def test_manager_walks_from_heatmap_to_evidence(server: str, page: Any) -> None:
    _sign_in(page, server, "north")
    assert page.url.endswith("/team")
    assert page.locator("#team-table tbody tr").count() == 8
    assert page.locator("svg.chart-heatmap").count() == 1
    _shot(page, "team")
    page.click("#team-table a.sort:text('Rep')")
    page.locator("#team-table tbody a.rep-link").first.click()
    page.wait_for_load_state("networkidle")
    assert "/reps/R0000" in page.url
    assert page.locator("svg.chart-radar").count() == 1
    assert page.locator("svg.chart-lines").count() == 1
    _shot(page, "rep")
    evidence = page.locator("#findings a.evidence")
    link = evidence.first if evidence.count() else page.locator("#practices th a").first
    link.click()
    page.wait_for_load_state("networkidle")
    assert "/evidence" in page.url
    assert page.locator("h1").inner_text().startswith("Evidence")
    _shot(page, "evidence")
    page.goto(f"{server}/coaching")
    assert page.locator("h1").inner_text() == "Coaching queue"
    _shot(page, "coaching")
    page.goto(f"{server}/reps/R00009")  # South is not this manager's
    assert page.locator("h1").inner_text() == "Not found"
    page.click("#signout")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/signin")


def test_admin_uploads_an_import_and_downloads_its_rejects(server: str, page: Any,
                                                           tmp_path: Path) -> None:
    upload = tmp_path / "reps.csv"
    with upload.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["rep_id", "name", "team", "manager_id", "role", "quota"])
        w.writerow(["R00001", "Yuki Fernandez", "North", "M0001", "rep", "790000"])
        w.writerow(["R99999", "", "North", "M0001", "rep", "not-a-number"])
    _sign_in(page, server, "admin")
    page.goto(f"{server}/imports")
    _shot(page, "imports")
    page.set_input_files("#files", str(upload))
    page.click("#start-import")
    page.wait_for_url("**/imports/*")
    page.wait_for_selector("#rejects-link", timeout=120_000)
    assert page.locator("#job-status").inner_text() == "done"
    _shot(page, "import-job")
    with page.expect_download() as info:
        page.click("#rejects-link")
    text = Path(info.value.path()).read_text()
    assert "R99999" in text or "line" in text
    page.goto(f"{server}/settings")
    _shot(page, "settings")
    page.goto(f"{server}/settings/users")
    _shot(page, "users")
    page.click("#signout")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/signin")


def test_rep_sees_own_page_and_plan_calendar(server: str, page: Any) -> None:
    _sign_in(page, server, "rep1")
    assert page.url.endswith("/reps/R00001")
    _shot(page, "rep-own")
    ics = page.locator("#plan-ics")
    if ics.count():  # the plan section exists once the plan library is installed
        with page.expect_download() as info:
            ics.click()
        assert Path(info.value.path()).read_text().startswith("BEGIN:VCALENDAR")
    else:
        assert "not available" in page.locator("#plan").inner_text()
    response = page.goto(f"{server}/api/reps/R00009")
    assert response is not None and response.status == 404
    page.goto(f"{server}/reps/R00001")
    page.click("#signout")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/signin")
