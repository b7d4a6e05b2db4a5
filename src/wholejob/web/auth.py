"""Sign-in for the web app: signed sessions, API tokens, CSRF checks, throttling.

- **Sessions** are cookies signed with itsdangerous and the workspace's secret;
  they expire after ``session_hours`` and carry the user's ``session_key``, so
  a new password or a removed account ends them at once.
- **API tokens** come as ``Authorization: Bearer <token>``; a request that
  carries one is authenticated by it alone (cookies are then ignored), which is
  why token requests need no CSRF token.
- **CSRF**: every browser gets a random ``wj_csrf`` cookie (``SameSite=Strict``);
  forms carry ``HMAC(secret, cookie)`` as ``csrf_token`` and scripts send it as
  ``X-CSRF-Token``. Every POST/PUT/PATCH/DELETE without a bearer token must
  match, sign-in included.
- **Throttling**: after ``login_attempts`` failures for a username (or four
  times that from one address) within the window, sign-in answers 429 until the
  window passes, whether or not the account exists.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from itsdangerous import BadSignature, URLSafeTimedSerializer

from wholejob.access import User, get_user, user_for_token
from wholejob.web.state import WebState

__all__ = [
    "CSRF_COOKIE",
    "SESSION_COOKIE",
    "CsrfFailed",
    "SignInRequired",
    "Throttle",
    "csrf_protect",
    "csrf_token",
    "current_user",
    "optional_user",
    "session_cookie",
]

SESSION_COOKIE = "wj_session"
CSRF_COOKIE = "wj_csrf"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Who the local CLI is when it calls the server with server.json's token.
CLI_USER = User("wholejob-cli", "admin", None)
bearer = HTTPBearer(auto_error=False, description="An API token from `wholejob users token`.")


class SignInRequired(Exception):
    """The request needs a signed-in user (a redirect for pages, 401 for the API)."""


class CsrfFailed(Exception):
    """A state-changing browser request came without a valid CSRF token."""


def state_of(request: Request) -> WebState:
    """Return the app's :class:`WebState`."""
    state: WebState = request.app.state.web
    return state


def _serializer(state: WebState) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(state.secret, salt="wholejob-session")


def session_cookie(state: WebState, user: User) -> str:
    """Return the signed session cookie value for a user."""
    return str(_serializer(state).dumps({"u": user.username, "k": user.session_key}))


def _session_user(request: Request, state: WebState) -> User | None:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw or len(raw) > 4096:
        return None
    try:
        data: Any = _serializer(state).loads(
            raw, max_age=int(state.settings.session_hours * 3600))
    except BadSignature:  # also SignatureExpired
        return None
    if not isinstance(data, dict):
        return None
    name = str(data.get("u", ""))
    user = state.account(("user", name), lambda: get_user(state.workspace(), name))
    if user is None or not hmac.compare_digest(user.session_key, str(data.get("k", ""))):
        return None
    return user


def _resolve(request: Request, credentials: HTTPAuthorizationCredentials | None) -> User | None:
    state = state_of(request)
    if hasattr(request.state, "user"):
        cached: User | None = request.state.user
        return cached
    user: User | None
    if credentials is not None:
        cli = state.settings.cli_token
        if cli and hmac.compare_digest(cli.encode(), credentials.credentials.encode()):
            user = CLI_USER
        else:
            secret = credentials.credentials
            user = state.account(("token", hashlib.sha256(secret.encode()).hexdigest()),
                                 lambda: user_for_token(state.workspace(), secret))
        request.state.via_token = True
    elif request.headers.get("authorization"):
        user = None  # a malformed Authorization header never falls back to cookies
        request.state.via_token = True
    else:
        user = _session_user(request, state)
    request.state.user = user
    return user


def optional_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)] = None,
) -> User | None:
    """Return the signed-in user or None."""
    return _resolve(request, credentials)


def current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)] = None,
) -> User:
    """Return the signed-in user; raise :class:`SignInRequired` without one."""
    user = _resolve(request, credentials)
    if user is None:
        raise SignInRequired()
    return user


def csrf_seed(request: Request) -> str:
    """Return this browser's CSRF cookie value (set by the middleware if it was missing)."""
    seed: str = getattr(request.state, "csrf_seed", "") or request.cookies.get(CSRF_COOKIE, "")
    return seed


def new_csrf_seed() -> str:
    """Return a fresh random CSRF cookie value."""
    return secrets.token_urlsafe(24)


def csrf_token(request: Request) -> str:
    """Return the CSRF token that forms on this page must send back."""
    seed = csrf_seed(request)
    return hmac.new(state_of(request).secret, seed.encode(), hashlib.sha256).hexdigest()


async def csrf_protect(request: Request) -> None:
    """Refuse a state-changing browser request whose CSRF token does not match."""
    if request.method not in UNSAFE:
        return
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return  # authenticated by the token alone; cookies are ignored
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = request.headers.get("x-csrf-token", "")
    if not sent and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else ""
    expected = hmac.new(state_of(request).secret, cookie.encode(), hashlib.sha256).hexdigest()
    if not cookie or not sent or not hmac.compare_digest(expected, sent):
        raise CsrfFailed()


class Throttle:
    """Counts failed sign-ins per username and per address within a sliding window."""

    def __init__(self, attempts: int, window: float) -> None:
        self.attempts = attempts
        self.window = window
        self._fails: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._fails.setdefault(key, deque())
        while q and q[0] < now - self.window:
            q.popleft()
        return q

    def blocked(self, username: str, address: str) -> bool:
        """Return whether sign-in is paused for this username or address."""
        now = time.monotonic()
        with self._lock:
            return (len(self._recent("u:" + username.lower(), now)) >= self.attempts
                    or len(self._recent("a:" + address, now)) >= 4 * self.attempts)

    def fail(self, username: str, address: str) -> None:
        """Record a failed sign-in."""
        now = time.monotonic()
        with self._lock:
            if len(self._fails) > 100_000:  # bound memory under a flood of names
                self._fails.clear()
            self._recent("u:" + username.lower(), now).append(now)
            self._recent("a:" + address, now).append(now)

    def succeed(self, username: str) -> None:
        """Forget a username's failures after a good sign-in."""
        with self._lock:
            self._fails.pop("u:" + username.lower(), None)
