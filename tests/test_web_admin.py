"""Admin pages and their JSON twins: imports with rejects, settings, users and tokens."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from test_web_support import PASSWORD, csrf_of, demo_workspace, sign_in
from wholejob.access import create_token
from wholejob.web import create_app


@pytest.fixture(scope="module")
def admin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    path = demo_workspace(tmp_path_factory.mktemp("admin") / "ws")
    app = create_app(path)
    token = create_token(app.state.web.workspace(), "admin", "tests")[1]
    with TestClient(app) as c:
        yield sign_in(c, "admin"), token


def _wait(c: TestClient, job_id: str) -> dict:
    for _ in range(600):
        job = c.get(f"/api/imports/{job_id}").json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError("import did not finish")


def test_upload_import_with_rejects(admin: tuple[TestClient, str], tmp_path: Path) -> None:
    c, _ = admin
    page = c.get("/imports")
    assert "salesforce" in page.text
    body = ("rep_id,name,team,manager_id,role,quota\n"
            "R00001,Yuki Fernandez,North,M0001,rep,790000\n"
            "R99999,,North,M0001,rep,oops\n")
    r = c.post("/imports", data={"csrf_token": csrf_of(page.text), "preset": ""},
               files=[("files", ("../../reps.csv", body.encode(), "text/csv"))],
               follow_redirects=False)
    assert r.status_code == 303
    job_id = r.headers["location"].rsplit("/", 1)[1]
    job = _wait(c, job_id)
    assert job["status"] == "done" and job["summary"]["entities"]["reps"]["rejected"] == 1
    assert job["files"] == ["reps.csv"]  # no path from the upload's name survives
    rejects = c.get(job["rejects_url"])
    assert (rejects.status_code == 200 and "R99999" in rejects.text) or "line" in rejects.text
    assert c.get(f"/imports/{job_id}").status_code == 200
    log = c.get("/api/imports").json()["log"]
    assert any(e["rejects_url"] for e in log)
    assert c.get("/imports/nope/rejects.csv").status_code == 404


def test_import_through_the_api_with_a_token(admin: tuple[TestClient, str]) -> None:
    c, token = admin
    with TestClient(c.app) as api:
        h = {"Authorization": f"Bearer {token}"}
        r = api.post("/api/imports", headers=h, data={"preset": "nonsense"},
                     files=[("files", ("reps.csv", b"rep_id,name\nR1,x\n", "text/csv"))])
        assert r.status_code == 400 and "unknown preset" in r.json()["detail"]
        r = api.post("/api/imports", headers=h,
                     files=[("files", ("notes.txt", b"hello", "text/plain"))])
        assert r.status_code == 202
        job = _wait(api_with(api, h), r.json()["job_id"])
        assert job["status"] == "failed" and job["error"]


def api_with(client: TestClient, headers: dict[str, str]) -> TestClient:
    client.headers.update(headers)
    return client


def test_settings_change_floors_icp_and_stages(admin: tuple[TestClient, str]) -> None:
    c, token = admin
    h = {"Authorization": f"Bearer {token}"}
    before = c.get("/api/settings").json()
    pro = next(p for p in before["practices"] if p["id"] == "prospecting")
    r = c.put("/api/settings", headers=h, json={"practices": {"prospecting": {
        "floor_share": pro["floor_share"], "target_share": pro["target_share"] - 0.01}}})
    assert r.status_code == 200
    after = next(p for p in r.json()["practices"] if p["id"] == "prospecting")
    assert after["target_share"] == pytest.approx(pro["target_share"] - 0.01)
    bad = c.put("/api/settings", headers=h, json={"practices": {"prospecting": {
        "floor_share": 0.5, "target_share": 0.1}}})
    assert bad.status_code == 400 and "floor" in bad.json()["detail"]
    page = c.get("/settings")
    r = c.post("/settings/icp", data={"csrf_token": csrf_of(page.text),
                                      "industries": "Software, Retail", "fit_tiers": "A"},
               follow_redirects=False)
    assert r.status_code == 303
    assert c.get("/api/settings").json()["icp"]["industries"] == ["Software", "Retail"]
    r = c.post("/settings/stages", data={"csrf_token": csrf_of(page.text),
                                         "stages": "only | open |"})
    assert r.status_code == 400
    assert c.get("/api/team").status_code == 200  # recomputed with the new settings


def test_users_and_tokens_through_the_api(admin: tuple[TestClient, str]) -> None:
    c, token = admin
    with TestClient(c.app) as api:
        h = {"Authorization": f"Bearer {token}"}
        r = api.post("/api/users", headers=h, json={"username": "newrep", "password": PASSWORD,
                                                    "role": "rep", "rep_id": "R00002"})
        assert r.status_code == 201
        assert api.post("/api/users", headers=h, json={"username": "newrep",
                                                       "password": PASSWORD,
                                                       "role": "rep",
                                                       "rep_id": "R00002"}).status_code == 400
        t = api.post("/api/users/newrep/tokens", headers=h, json={"name": "x"}).json()
        mine = {"Authorization": f"Bearer {t['token']}"}
        assert api.get("/api/reps/R00002", headers=mine).status_code == 200
        assert api.get("/api/reps/R00001", headers=mine).status_code == 404
        assert api.get("/api/users", headers=mine).status_code == 403
        assert api.put("/api/users/newrep/password", headers=h,
                       json={"password": "x"}).status_code == 400
        assert api.delete(f"/api/tokens/{t['token_id']}", headers=h).status_code == 200
        assert api.get("/api/me", headers=mine).status_code == 401
        assert api.delete("/api/users/newrep", headers=h).status_code == 200
        users = api.get("/api/users", headers=h).json()["users"]
        assert "newrep" not in {u["username"] for u in users}
        assert all("password_hash" not in u for u in users)
