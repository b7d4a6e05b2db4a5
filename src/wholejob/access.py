"""Users, roles, API tokens, and which reps each user may see.

Accounts live in the workspace database (tables ``users``, ``api_tokens`` and
``auth_meta``). A user has one role:

- ``rep``: sees only the rep it is linked to (``rep_id``);
- ``manager``: sees its own rep and every rep in its reporting tree, following
  ``reps.manager_id`` down recursively;
- ``admin``: sees every rep and may import, configure and manage users.

:func:`visible_reps` is the single answer to "whom may this user see"; the web
dashboard and the JSON API apply it inside the data functions every route calls
(:func:`scope_scorecard`, :func:`scope_findings`, :func:`require_rep`), so a page
and its JSON twin cannot disagree. Passwords are hashed with Argon2id; API
tokens are random and stored only as SHA-256 digests (they carry 256 bits of
entropy, so a slow hash adds nothing and would slow every API call).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from wholejob.errors import AccessDenied, NotVisible, UserError
from wholejob.scorecard import Finding, Scorecard
from wholejob.workspace import Workspace

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "ROLES",
    "ApiToken",
    "User",
    "add_user",
    "authenticate",
    "create_token",
    "get_user",
    "has_users",
    "list_tokens",
    "list_users",
    "remove_user",
    "reporting_tree",
    "require_rep",
    "require_role",
    "revoke_token",
    "scope_findings",
    "scope_scorecard",
    "session_secret",
    "set_password",
    "user_for_token",
    "visible_reps",
]

ROLES: tuple[str, ...] = ("rep", "manager", "admin")
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
TOKEN_PREFIX = "wjt"
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.@+-]{0,63}$")
_HASHER = argon2.PasswordHasher()
# Verified against when the username is unknown, so a wrong username costs the
# same time as a wrong password and sign-in does not reveal which accounts exist.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class User:
    """A dashboard account: name, role, linked rep, and a key that changes with the password."""

    username: str
    role: str
    rep_id: str | None
    created_at: datetime | None = None
    password_changed_at: datetime | None = None
    # A digest of the password hash: sessions carry it, so a new password or a
    # removed account ends every session signed with the old one.
    session_key: str = field(default="", repr=False, compare=False)

    @property
    def is_admin(self) -> bool:
        """Whether the user is an admin."""
        return self.role == "admin"

    @property
    def is_manager(self) -> bool:
        """Whether the user manages reps (managers and admins)."""
        return self.role in ("manager", "admin")

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict (never the password hash)."""
        return {
            "username": self.username,
            "role": self.role,
            "rep_id": self.rep_id,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "password_changed_at": (self.password_changed_at.isoformat()
                                    if self.password_changed_at else None),
        }


@dataclass(frozen=True)
class ApiToken:
    """An API token's public facts (the secret itself is shown once, at creation)."""

    token_id: str
    username: str
    name: str
    created_at: datetime | None
    last_used_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "token_id": self.token_id,
            "username": self.username,
            "name": self.name,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "last_used_at": self.last_used_at.isoformat() if self.last_used_at else None,
        }


_USER_COLUMNS = "username, role, rep_id, created_at, password_changed_at, password_hash"


def _user(row: tuple[Any, ...]) -> User:
    return User(row[0], row[1], row[2], row[3], row[4],
                hashlib.sha256(str(row[5]).encode()).hexdigest()[:16])


def _normal_name(username: str) -> str:
    name = username.strip().lower()
    if not _USERNAME.match(name):
        raise UserError(
            f"invalid username {username!r}: use 1-64 letters, digits or . _ @ + -, "
            "starting with a letter or digit"
        )
    return name


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"password too short: use at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UserError(f"password too long: use at most {MAX_PASSWORD_LENGTH} characters")


def _rep_exists(ws: Workspace, rep_id: str) -> bool:
    reps = ws.table("reps")  # on the workspace's engine, which may not be DuckDB
    return bool(reps.filter(reps.rep_id == rep_id).count().to_pyarrow().as_py())


def has_users(ws: Workspace) -> bool:
    """Return whether any account exists (the dashboard offers first-run setup if not)."""
    return bool(ws.raw.execute("SELECT count(*) FROM users").fetchall()[0][0])


def get_user(ws: Workspace, username: str) -> User | None:
    """Return the user with this name (any case), or None."""
    rows = ws.raw.execute(
        f"SELECT {_USER_COLUMNS} FROM users WHERE username = ?", [username.strip().lower()]
    ).fetchall()
    return _user(rows[0]) if rows else None


def list_users(ws: Workspace) -> list[User]:
    """Return every user, by name."""
    rows = ws.raw.execute(f"SELECT {_USER_COLUMNS} FROM users ORDER BY username").fetchall()
    return [_user(r) for r in rows]


def add_user(ws: Workspace, username: str, password: str, role: str,
             rep_id: str | None = None) -> User:
    """Create a user; reps and managers must be linked to an existing rep id.

    Raises :class:`UserError` for a taken or invalid name, an unknown role, a
    weak password or a missing or unknown rep id.
    """
    name = _normal_name(username)
    if role not in ROLES:
        raise UserError(f"unknown role {role!r} (use one of: {', '.join(ROLES)})")
    _check_password(password)
    rep_id = rep_id.strip() if rep_id and rep_id.strip() else None
    if role in ("rep", "manager") and rep_id is None:
        raise UserError(f"a {role} needs --rep-id: the rep id whose data the account sees")
    if rep_id is not None and not _rep_exists(ws, rep_id):
        raise UserError(f"unknown rep id {rep_id!r}: import the reps first, or check the id")
    if get_user(ws, name) is not None:
        raise UserError(f"user {name!r} already exists")
    now = datetime.now()
    ws.raw.execute(
        "INSERT INTO users (username, role, rep_id, password_hash, created_at, "
        "password_changed_at) VALUES (?, ?, ?, ?, ?, ?)",
        [name, role, rep_id, _HASHER.hash(password), now, now],
    )
    user = get_user(ws, name)
    assert user is not None
    return user


def _require_user(ws: Workspace, username: str) -> User:
    user = get_user(ws, username)
    if user is None:
        raise UserError(f"no user {username!r}")
    return user


def remove_user(ws: Workspace, username: str) -> None:
    """Remove a user and its API tokens; the last admin cannot be removed."""
    user = _require_user(ws, username)
    if user.is_admin:
        admins = ws.raw.execute("SELECT count(*) FROM users WHERE role = 'admin'").fetchall()
        if admins[0][0] <= 1:
            raise UserError(f"{user.username!r} is the last admin; add another admin first")
    with ws.transaction() as tx:
        tx.execute("DELETE FROM api_tokens WHERE username = ?", [user.username])
        tx.execute("DELETE FROM users WHERE username = ?", [user.username])


def set_password(ws: Workspace, username: str, password: str) -> User:
    """Set a user's password; every session signed with the old one ends."""
    user = _require_user(ws, username)
    _check_password(password)
    ws.raw.execute(
        "UPDATE users SET password_hash = ?, password_changed_at = ? WHERE username = ?",
        [_HASHER.hash(password), datetime.now(), user.username],
    )
    return _require_user(ws, user.username)


def authenticate(ws: Workspace, username: str, password: str) -> User | None:
    """Return the user when the password matches, else None (same cost either way)."""
    if len(password) > MAX_PASSWORD_LENGTH:
        return None
    rows = ws.raw.execute(
        f"SELECT {_USER_COLUMNS} FROM users WHERE username = ?", [username.strip().lower()]
    ).fetchall()
    stored = str(rows[0][5]) if rows else _DUMMY_HASH
    try:
        _HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if not rows:
        return None
    if _HASHER.check_needs_rehash(stored):
        ws.raw.execute("UPDATE users SET password_hash = ? WHERE username = ?",
                       [_HASHER.hash(password), rows[0][0]])
        return get_user(ws, rows[0][0])
    return _user(rows[0])


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(ws: Workspace, username: str, name: str = "") -> tuple[ApiToken, str]:
    """Create an API token for a user; return its facts and the secret (shown only now)."""
    user = _require_user(ws, username)
    token_id = secrets.token_hex(6)
    secret = f"{TOKEN_PREFIX}_{token_id}_{secrets.token_urlsafe(32)}"
    now = datetime.now()
    ws.raw.execute(
        "INSERT INTO api_tokens (token_id, username, token_hash, name, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        [token_id, user.username, _digest(secret), name.strip()[:100], now],
    )
    return ApiToken(token_id, user.username, name.strip()[:100], now, None), secret


def list_tokens(ws: Workspace, username: str | None = None) -> list[ApiToken]:
    """Return API tokens (of one user, or all), oldest first."""
    sql = "SELECT token_id, username, name, created_at, last_used_at FROM api_tokens"
    params: list[Any] = []
    if username is not None:
        sql += " WHERE username = ?"
        params.append(username.strip().lower())
    rows = ws.raw.execute(sql + " ORDER BY created_at, token_id", params).fetchall()
    return [ApiToken(r[0], r[1], r[2] or "", r[3], r[4]) for r in rows]


def revoke_token(ws: Workspace, token_id: str) -> None:
    """Delete an API token by id."""
    rows = ws.raw.execute("SELECT count(*) FROM api_tokens WHERE token_id = ?",
                          [token_id]).fetchall()
    if not rows[0][0]:
        raise UserError(f"no API token {token_id!r}")
    ws.raw.execute("DELETE FROM api_tokens WHERE token_id = ?", [token_id])


def user_for_token(ws: Workspace, token: str) -> User | None:
    """Return the user an API token belongs to, or None for an unknown token."""
    parts = token.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or len(token) > 200:
        return None
    rows = ws.raw.execute(
        "SELECT token_hash, username FROM api_tokens WHERE token_id = ?", [parts[1]]
    ).fetchall()
    if not rows or not hmac.compare_digest(str(rows[0][0]), _digest(token.strip())):
        return None
    return get_user(ws, str(rows[0][1]))


def session_secret(ws: Workspace) -> bytes:
    """Return the workspace's secret for signing sessions, creating it on first use."""
    rows = ws.raw.execute("SELECT value FROM auth_meta WHERE key = 'session_secret'").fetchall()
    if rows:
        return bytes.fromhex(str(rows[0][0]))
    secret = secrets.token_bytes(32)
    ws.raw.execute("INSERT INTO auth_meta VALUES ('session_secret', ?)", [secret.hex()])
    return secret


def reporting_tree(managers: Mapping[str, str | None], root: str) -> set[str]:
    """Return ``root`` and every rep whose manager chain leads to it (cycle-safe)."""
    children: dict[str, list[str]] = {}
    for rep, manager in managers.items():
        if manager:
            children.setdefault(manager, []).append(rep)
    seen = {root} if root in managers else set()
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return seen


def visible_reps(ws: Workspace, user: User) -> set[str]:
    """Return the rep ids the user may see: own, own reporting tree, or all."""
    rows = ws.table("reps").select("rep_id", "manager_id").to_pyarrow().to_pylist()
    managers = {str(r["rep_id"]): (str(r["manager_id"]) if r["manager_id"] is not None
                                   else None) for r in rows}
    if user.is_admin:
        return set(managers)
    if user.rep_id is None:
        return set()
    if user.role == "manager":
        return reporting_tree(managers, user.rep_id)
    return {user.rep_id} if user.rep_id in managers else set()


def require_role(user: User, *roles: str) -> None:
    """Raise :class:`AccessDenied` unless the user has one of ``roles``."""
    if user.role not in roles:
        raise AccessDenied(f"this needs the {' or '.join(roles)} role")


def require_rep(visible: Iterable[str], rep_id: str) -> None:
    """Raise :class:`NotVisible` unless ``rep_id`` is among the visible reps.

    An unknown rep and a rep the user may not see give the same error, so ids
    cannot be probed.
    """
    if rep_id not in set(visible):
        raise NotVisible(f"no rep {rep_id!r}")


def scope_scorecard(scorecard: Scorecard, visible: Iterable[str]) -> Scorecard:
    """Return the scorecard with only the visible reps (peer medians stay team-wide)."""
    keep = set(visible)
    return replace(scorecard, reps=[r for r in scorecard.reps if r.rep_id in keep])


def scope_findings(findings: Iterable[Finding], visible: Iterable[str]) -> list[Finding]:
    """Return the findings about visible reps."""
    keep = set(visible)
    return [f for f in findings if f.rep_id in keep]
