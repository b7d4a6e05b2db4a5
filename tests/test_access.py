"""Accounts, tokens and who sees whom (wholejob.access), on the tiny canonical team."""

from __future__ import annotations

from pathlib import Path

import pytest

from wholejob import access
from wholejob.errors import AccessDenied, NotVisible, UserError
from wholejob.importing.importer import import_paths
from wholejob.reports.sample import sample_findings, sample_scorecard
from wholejob.workspace import SCHEMA_VERSION, Workspace

PW = "long enough pw"


@pytest.fixture
def ws(workspace: Workspace, canonical: Path) -> Workspace:
    import_paths(workspace, [canonical])  # M1 manages R1 and R2
    return workspace


def test_the_migration_creates_the_account_tables(workspace: Workspace) -> None:
    assert workspace.schema_version == SCHEMA_VERSION
    assert not access.has_users(workspace)


def test_add_list_authenticate_remove(ws: Workspace) -> None:
    admin = access.add_user(ws, "Ada", PW, "admin")
    assert admin.username == "ada" and admin.is_admin
    access.add_user(ws, "ravi", PW, "rep", "R1")
    assert [u.username for u in access.list_users(ws)] == ["ada", "ravi"]
    assert access.authenticate(ws, "ADA", PW) == admin
    assert access.authenticate(ws, "ada", "wrong password") is None
    assert access.authenticate(ws, "nobody", PW) is None
    stored = ws.raw.execute("SELECT password_hash FROM users").fetchall()
    assert all(str(h[0]).startswith("$argon2id$") for h in stored)
    access.remove_user(ws, "ravi")
    assert access.get_user(ws, "ravi") is None


@pytest.mark.parametrize(("args", "message"), [
    (("bad name!", PW, "admin", None), "invalid username"),
    (("x", "short", "admin", None), "too short"),
    (("x", PW, "boss", None), "unknown role"),
    (("x", PW, "rep", None), "needs --rep-id"),
    (("x", PW, "manager", "NOPE"), "unknown rep id"),
])
def test_bad_accounts_are_refused(ws: Workspace, args: tuple, message: str) -> None:
    with pytest.raises(UserError, match=message):
        access.add_user(ws, *args)


def test_duplicates_and_the_last_admin(ws: Workspace) -> None:
    access.add_user(ws, "ada", PW, "admin")
    with pytest.raises(UserError, match="already exists"):
        access.add_user(ws, "ADA", PW, "admin")
    with pytest.raises(UserError, match="last admin"):
        access.remove_user(ws, "ada")
    access.add_user(ws, "bob", PW, "admin")
    access.remove_user(ws, "ada")
    with pytest.raises(UserError, match="no user"):
        access.set_password(ws, "ada", PW)


def test_password_change_rotates_the_session_key(ws: Workspace) -> None:
    before = access.add_user(ws, "ada", PW, "admin")
    after = access.set_password(ws, "ada", "another password")
    assert before.session_key != after.session_key
    assert access.authenticate(ws, "ada", PW) is None


def test_tokens(ws: Workspace) -> None:
    access.add_user(ws, "ravi", PW, "rep", "R1")
    facts, secret = access.create_token(ws, "ravi", "cron")
    assert access.user_for_token(ws, secret).username == "ravi"  # type: ignore[union-attr]
    assert access.user_for_token(ws, secret + "x") is None
    assert access.user_for_token(ws, "garbage") is None
    stored = ws.raw.execute("SELECT token_hash FROM api_tokens").fetchall()[0][0]
    assert secret not in stored
    assert [t.token_id for t in access.list_tokens(ws, "ravi")] == [facts.token_id]
    access.revoke_token(ws, facts.token_id)
    assert access.user_for_token(ws, secret) is None
    access.create_token(ws, "ravi")
    access.add_user(ws, "ada", PW, "admin")
    access.remove_user(ws, "ravi")  # takes its tokens along
    assert access.list_tokens(ws) == []


def test_visible_reps_by_role(ws: Workspace) -> None:
    admin = access.add_user(ws, "ada", PW, "admin")
    manager = access.add_user(ws, "maria", PW, "manager", "M1")
    rep = access.add_user(ws, "ravi", PW, "rep", "R1")
    assert access.visible_reps(ws, admin) == {"M1", "R1", "R2"}
    assert access.visible_reps(ws, manager) == {"M1", "R1", "R2"}
    assert access.visible_reps(ws, rep) == {"R1"}
    assert access.visible_reps(ws, access.User("ghost", "rep", "GONE")) == set()
    assert access.visible_reps(ws, access.User("ghost", "manager", None)) == set()


def test_reporting_tree_is_recursive_and_cycle_safe() -> None:
    managers = {"H": None, "M1": "H", "M2": "H", "A": "M1", "B": "M1", "C": "M2",
                "X": "Y", "Y": "X"}
    assert access.reporting_tree(managers, "H") == {"H", "M1", "M2", "A", "B", "C"}
    assert access.reporting_tree(managers, "M1") == {"M1", "A", "B"}
    assert access.reporting_tree(managers, "X") == {"X", "Y"}
    assert access.reporting_tree(managers, "nobody") == set()


def test_scoping_helpers() -> None:
    card = sample_scorecard(reps=4)
    ids = [r.rep_id for r in card.reps]
    scoped = access.scope_scorecard(card, {ids[0]})
    assert [r.rep_id for r in scoped.reps] == [ids[0]]
    findings = sample_findings(card)
    assert all(f.rep_id == ids[1] for f in access.scope_findings(findings, {ids[1]}))
    access.require_rep({"R1"}, "R1")
    with pytest.raises(NotVisible):
        access.require_rep({"R1"}, "R2")
    with pytest.raises(AccessDenied):
        access.require_role(access.User("r", "rep", "R1"), "admin")


def test_session_secret_is_created_once(ws: Workspace) -> None:
    assert access.session_secret(ws) == access.session_secret(ws)
    assert len(access.session_secret(ws)) == 32
