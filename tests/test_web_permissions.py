"""Every route for every role: the permission matrix, through pages, the API and tokens."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from test_web_support import ACCOUNTS, ALL_REPS, PASSWORD, VISIBLE, demo_workspace, sign_in
from wholejob.access import create_token
from wholejob.web import create_app

ROLE_OF = {name: role for name, (role, _) in ACCOUNTS.items()}
# Routes open to a role set; a role outside the set gets 403.
ROLE_ROUTES: list[tuple[str, set[str]]] = [
    ("/team", {"rep", "manager", "admin"}),
    ("/api/team", {"rep", "manager", "admin"}),
    ("/api/me", {"rep", "manager", "admin"}),
    ("/coaching", {"manager", "admin"}),
    ("/api/coaching", {"manager", "admin"}),
    ("/imports", {"admin"}),
    ("/api/imports", {"admin"}),
    ("/settings", {"admin"}),
    ("/api/settings", {"admin"}),
    ("/settings/users", {"admin"}),
    ("/api/users", {"admin"}),
]
# Routes about one rep: 200 when visible, 404 (never data) otherwise.
REP_ROUTES = ["/reps/{rep}", "/api/reps/{rep}", "/reps/{rep}/evidence?practice=prospecting",
              "/api/reps/{rep}/evidence?practice=prospecting&measure=self_sourced_pipeline"]
PROBES = ["R00001", "R00009", "M0001", "H0001", "NOPE"]
SCORED = {r for r in ALL_REPS if r.startswith("R")}  # managers sell nothing: no rep page


@pytest.fixture(scope="module")
def app_and_tokens(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, dict]]:
    path = demo_workspace(tmp_path_factory.mktemp("perm") / "ws")
    app = create_app(path)
    ws = app.state.web.workspace()
    tokens = {name: create_token(ws, name, "tests")[1] for name in ACCOUNTS}
    with TestClient(app) as client:
        client.get("/api/team", headers={"Authorization": f"Bearer {tokens['admin']}"})
        yield app, tokens


@pytest.fixture(scope="module")
def clients(app_and_tokens: tuple[object, dict]) -> Iterator[dict[str, TestClient]]:
    app, _ = app_and_tokens
    out = {}
    for name in ACCOUNTS:
        out[name] = sign_in(TestClient(app), name)
    yield out
    for c in out.values():
        c.close()


@pytest.mark.parametrize("user", list(ACCOUNTS))
@pytest.mark.parametrize(("route", "roles"), ROLE_ROUTES)
def test_role_routes(clients: dict[str, TestClient], user: str, route: str,
                     roles: set[str]) -> None:
    r = clients[user].get(route, follow_redirects=False)
    expected = 200 if ROLE_OF[user] in roles else 403
    assert r.status_code == expected, (user, route, r.text[:300])


@pytest.mark.parametrize("user", list(ACCOUNTS))
@pytest.mark.parametrize("template", REP_ROUTES)
@pytest.mark.parametrize("rep", PROBES)
def test_rep_routes_show_only_visible_reps(clients: dict[str, TestClient], user: str,
                                           template: str, rep: str) -> None:
    r = clients[user].get(template.format(rep=rep), follow_redirects=False)
    # A manager's own activities have evidence, but managers have no scorecard page.
    if rep in VISIBLE[user] and (rep in SCORED or "evidence" in template):
        assert r.status_code == 200, (user, rep, r.text[:300])
    else:
        assert r.status_code == 404, (user, rep, r.status_code)
        # Nothing about the rep leaks: not its name, not its figures.
        assert "balance_index" not in r.text and "Effort and effectiveness" not in r.text


@pytest.mark.parametrize("user", list(ACCOUNTS))
def test_api_tokens_follow_the_same_matrix(app_and_tokens: tuple[object, dict],
                                           user: str) -> None:
    app, tokens = app_and_tokens
    with TestClient(app) as c:
        headers = {"Authorization": f"Bearer {tokens[user]}"}
        for rep in PROBES:
            r = c.get(f"/api/reps/{rep}", headers=headers)
            ok = rep in VISIBLE[user] and rep in SCORED
            assert r.status_code == (200 if ok else 404), (user, rep)
        team = c.get("/api/team", headers=headers).json()
        shown = {r["rep_id"] for r in team["reps"]}
        assert shown <= VISIBLE[user]
        assert shown == {r for r in VISIBLE[user] if r.startswith("R")}
        me = c.get("/api/me", headers=headers).json()
        assert set(me["visible_reps"]) == VISIBLE[user]


@pytest.mark.parametrize("user", ["head", "north", "south", "admin"])
def test_coaching_queue_lists_only_the_managers_reps(clients: dict[str, TestClient],
                                                      user: str) -> None:
    data = clients[user].get("/api/coaching").json()
    assert {f["rep_id"] for f in data["findings"]} <= VISIBLE[user]
    money = [f["money_at_stake"] for f in data["findings"] if f["money_at_stake"] is not None]
    assert money == sorted(money, reverse=True)


def test_page_and_json_twin_agree(clients: dict[str, TestClient]) -> None:
    c = clients["north"]
    data = c.get("/api/team").json()
    page = c.get("/team").text
    for rep in data["reps"]:
        assert f'href="/reps/{rep["rep_id"]}"' in page
    assert "R00009" not in page


def test_filters_and_sorting(clients: dict[str, TestClient]) -> None:
    c = clients["admin"]
    south = c.get("/api/team", params={"team": "South"}).json()
    assert [r["rep_id"] for r in south["reps"]] == ["R00009"]
    by_name = c.get("/api/team", params={"sort": "name", "order": "desc"}).json()["reps"]
    names = [r["name"].lower() for r in by_name]
    assert names == sorted(names, reverse=True)
    period = c.get("/api/team", params={"since": "2020-01-01", "until": "2020-03-01"})
    assert period.status_code == 200
    bad = c.get("/api/team", params={"since": "2021-01-01", "until": "2020-01-01"})
    assert bad.status_code == 400


def test_signed_out_pages_redirect_and_api_says_401(app_and_tokens: tuple[object, dict]) -> None:
    app, _ = app_and_tokens
    with TestClient(app) as c:
        for route, _ in ROLE_ROUTES:
            r = c.get(route, follow_redirects=False)
            if route.startswith("/api/"):
                assert r.status_code == 401
            else:
                assert r.status_code == 303 and r.headers["location"].startswith("/signin")
        for template in REP_ROUTES:
            r = c.get(template.format(rep="R00001"), follow_redirects=False)
            assert r.status_code in (303, 401)
        assert c.get("/api/team", headers={"Authorization": "Bearer nonsense"}).status_code == 401
        assert c.get("/api/team", headers={"Authorization": "Basic eDp5"}).status_code == 401


def test_a_bearer_token_ignores_cookies(app_and_tokens: tuple[object, dict],
                                        clients: dict[str, TestClient]) -> None:
    _, tokens = app_and_tokens
    admin = clients["admin"]
    r = admin.get("/api/reps/R00009", headers={"Authorization": f"Bearer {tokens['rep1']}"})
    assert r.status_code == 404


def test_every_rep_in_the_workspace_is_probed() -> None:
    assert set(PROBES) - {"NOPE"} <= ALL_REPS
    assert PASSWORD
