"""Sign-in, sessions, CSRF, throttling, first-run setup and security headers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from test_web_support import csrf_of, sign_in
from wholejob.access import add_user, set_password
from wholejob.importing.importer import import_paths
from wholejob.web import WebSettings, create_app
from wholejob.workspace import Workspace

PASSWORD = "s3cret-enough"


@pytest.fixture
def small(workspace: Workspace, canonical: Path) -> Path:
    """The tiny canonical team with an admin (no scorecard needed for these tests)."""
    import_paths(workspace, [canonical])
    add_user(workspace, "ada", PASSWORD, "admin")
    add_user(workspace, "ravi", PASSWORD, "rep", "R1")
    workspace.close()
    return workspace.path


@pytest.fixture
def client(small: Path) -> Iterator[TestClient]:
    with TestClient(create_app(small)) as c:
        yield c


def test_sign_in_and_out(client: TestClient) -> None:
    sign_in(client, "ada", PASSWORD)
    assert client.get("/api/me").json()["user"]["username"] == "ada"
    page = client.get("/settings/users")
    r = client.post("/signout", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/api/me").status_code == 401


def test_wrong_username_and_wrong_password_look_the_same(client: TestClient) -> None:
    token = csrf_of(client.get("/signin").text)
    a = client.post("/signin", data={"username": "ada", "password": "wrong-one!",
                                     "csrf_token": token})
    b = client.post("/signin", data={"username": "nobody", "password": "wrong-one!",
                                     "csrf_token": token})
    assert a.status_code == b.status_code == 400

    def message(html: str) -> str:
        found = re.search(r'role="alert">([^<]*)<', html)
        assert found
        return found.group(1)

    assert message(a.text) == message(b.text)


def test_sign_in_is_throttled_even_for_unknown_users(client: TestClient) -> None:
    token = csrf_of(client.get("/signin").text)
    for name in ("ada", "ghost"):
        codes = [client.post("/signin", data={"username": name, "password": "nope-nope",
                                              "csrf_token": token}).status_code
                 for _ in range(6)]
        assert codes[:5] == [400] * 5 and codes[5] == 429
    # Even the right password waits until the window passes.
    r = client.post("/signin", data={"username": "ada", "password": PASSWORD,
                                     "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 429


def test_csrf_is_required_for_every_browser_post(client: TestClient) -> None:
    assert client.post("/signin", data={"username": "ada", "password": PASSWORD}).status_code \
        == 403
    sign_in(client, "ada", PASSWORD)
    for path, data in [("/settings/users", {"username": "x1", "password": "12345678",
                                            "role": "admin"}),
                       ("/signout", {}), ("/settings/icp", {"industries": "x"})]:
        assert client.post(path, data=data).status_code == 403
        assert client.post(path, data={**data, "csrf_token": "0" * 64}).status_code == 403
    r = client.post("/api/users", json={"username": "x2", "password": "12345678",
                                        "role": "admin"})
    assert r.status_code == 403  # a cookie session needs X-CSRF-Token on the API too
    token = csrf_of(client.get("/settings/users").text)
    r = client.post("/api/users", json={"username": "x2", "password": "12345678",
                                        "role": "admin"}, headers={"X-CSRF-Token": token})
    assert r.status_code == 201


def test_a_new_password_ends_old_sessions(client: TestClient, small: Path) -> None:
    sign_in(client, "ravi", PASSWORD)
    assert client.get("/api/me").status_code == 200
    state = client.app.state.web  # type: ignore[attr-defined]
    set_password(state.workspace(), "ravi", "another-password")
    state.forget_users()  # what the users API does after a change
    assert client.get("/api/me").status_code == 401


def test_a_tampered_or_expired_session_is_refused(small: Path) -> None:
    app = create_app(small, settings=WebSettings(session_hours=-1))
    with TestClient(app) as c:
        sign_in(c, "ada", PASSWORD)
        assert c.get("/api/me").status_code == 401  # expired at once
    with TestClient(create_app(small)) as c:
        c.cookies.set("wj_session", "eyJ1IjoiYWRhIn0.forged.signature")
        assert c.get("/api/me").status_code == 401


def test_security_headers(client: TestClient) -> None:
    r = client.get("/signin")
    csp = r.headers["content-security-policy"]
    assert "unsafe-inline" not in csp and "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    sign_in(client, "ada", PASSWORD)


def test_pages_have_no_inline_script_or_style(client: TestClient) -> None:
    sign_in(client, "ada", PASSWORD)
    for path in ("/signin", "/settings", "/settings/users", "/imports"):
        html = client.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert "style=" not in html and "<style" not in html, path


def test_open_redirects_are_refused(client: TestClient) -> None:
    token = csrf_of(client.get("/signin").text)
    r = client.post("/signin", data={"username": "ada", "password": PASSWORD,
                                     "csrf_token": token, "next": "//evil.example/x"},
                    follow_redirects=False)
    assert r.headers["location"] == "/team"


def test_first_run_setup_link(workspace: Workspace) -> None:
    path = workspace.path
    workspace.close()
    app = create_app(path, settings=WebSettings(setup_token="the-token"))
    with TestClient(app) as c:
        assert "No accounts yet" in c.get("/signin").text
        assert c.get("/setup?token=wrong").status_code == 404
        page = c.get("/setup?token=the-token")
        assert page.status_code == 200
        form = {"token": "the-token", "username": "root", "password": "long-enough",
                "confirm": "long-enough", "csrf_token": csrf_of(page.text)}
        r = c.post("/setup", data=form, follow_redirects=False)
        assert r.status_code == 303
        assert c.get("/api/me").json()["user"]["role"] == "admin"
        assert c.get("/setup?token=the-token").status_code == 404  # one time only
        assert c.post("/setup", data={**form, "username": "two"}).status_code == 404


def test_no_setup_link_without_a_token(workspace: Workspace) -> None:
    path = workspace.path
    workspace.close()
    with TestClient(create_app(path)) as c:
        assert c.get("/setup?token=").status_code == 404
        assert c.get("/setup").status_code == 404
