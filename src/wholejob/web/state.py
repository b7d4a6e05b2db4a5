"""The server's state: settings, one database connection per thread, and the analysis cache.

The server process is the workspace's single writer (see ``docs/web.md``). Each
worker thread gets its own :class:`~wholejob.workspace.Workspace` on the same
DuckDB database (one instance, shared in-process), so reads run while an import
writes in its own thread, and DuckDB's MVCC shows each reader a consistent state.

Scorecards and findings are computed once per workspace version and period and
kept in a small LRU cache; an import or a settings change bumps the version.
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wholejob.access import User, session_secret, visible_reps
from wholejob.errors import WholejobError
from wholejob.jobmodel import JobModel, load_job_model
from wholejob.scorecard import Finding, Scorecard
from wholejob.workspace import Workspace, open_workspace

if TYPE_CHECKING:
    from wholejob.web.jobs import ImportJobs

__all__ = ["Analysis", "WebSettings", "WebState"]


@dataclass(frozen=True)
class WebSettings:
    """How the dashboard behaves: sessions, cookies, uploads, sign-in throttling."""

    session_hours: float = 12.0
    secure_cookies: bool = False  # set behind HTTPS so cookies never travel in clear
    max_upload_mb: int = 200
    login_attempts: int = 5  # failures per username (and 4x per address) per window
    login_window_seconds: int = 300
    cache_size: int = 8
    setup_token: str | None = None  # the first-run link's token; None: no setup link
    cli_token: str | None = None  # server.json's token: the local CLI acts as an admin


@dataclass(frozen=True)
class Analysis:
    """One period's scorecard (with balance) and findings, for every rep."""

    scorecard: Scorecard
    findings: list[Finding]
    model: JobModel
    version: tuple[int, int]
    extras: dict[str, Any] = field(default_factory=dict)


class WebState:
    """What the app shares between requests: the workspace, caches and import jobs."""

    def __init__(self, path: Path, settings: WebSettings) -> None:
        self.path = Path(path)
        self.settings = settings
        self._local = threading.local()
        self._open: list[Workspace] = []
        self._lock = threading.Lock()
        self._compute_lock = threading.Lock()
        self._counter = 0
        self._cache: OrderedDict[tuple[Any, ...], Analysis] = OrderedDict()
        self._visible: OrderedDict[tuple[Any, ...], frozenset[str]] = OrderedDict()
        self._memo: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._users: dict[tuple[Any, ...], User | None] = {}
        # Opened for writing here, once: migrations run and the lock is taken now.
        first = open_workspace(self.path)
        self._remember(first, self._config_mtime())
        self.secret = session_secret(first)
        from wholejob.web.jobs import ImportJobs

        self.jobs: ImportJobs = ImportJobs(self)

    def _config_mtime(self) -> int:
        try:
            return (self.path / "wholejob.toml").stat().st_mtime_ns
        except OSError:
            return 0

    def _remember(self, ws: Workspace, mtime: int) -> None:
        self._local.ws = ws
        self._local.mtime = mtime
        with self._lock:
            self._open.append(ws)

    def workspace(self) -> Workspace:
        """Return this thread's workspace, reopened when the config file changed."""
        mtime = self._config_mtime()
        ws: Workspace | None = getattr(self._local, "ws", None)
        if ws is not None and self._local.mtime == mtime:
            return ws
        if ws is not None:
            with self._lock, contextlib.suppress(ValueError):
                self._open.remove(ws)
            ws.close()
        fresh = Workspace(self.path)
        _ = fresh.config
        self._remember(fresh, mtime)
        return fresh

    def version(self) -> tuple[int, int]:
        """Return the workspace version: bumped on import and on settings changes."""
        return (self._counter, self._config_mtime())

    def bump(self) -> None:
        """Mark the data or configuration as changed; cached analyses are dropped."""
        with self._lock:
            self._counter += 1
            self._cache.clear()
            self._visible.clear()
            self._memo.clear()

    def model(self) -> JobModel:
        """Return the job model of the workspace's configuration."""
        ws = self.workspace()
        return load_job_model(ws.config, source=str(ws.config_path))

    def analysis(self, since: date | None = None, until: date | None = None) -> Analysis:
        """Return the scorecard and findings of every rep for a period (cached)."""
        key = (self.version(), since, until)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        # One computation at a time: twenty clients asking for a cold period wait
        # for one result instead of computing it twenty times.
        with self._compute_lock:
            with self._lock:
                hit = self._cache.get(key)
            if hit is not None:
                return hit
            result = self._compute(since, until, key[0])
            with self._lock:
                self._cache[key] = result
                while len(self._cache) > self.settings.cache_size:
                    self._cache.popitem(last=False)
            return result

    def _compute(self, since: date | None, until: date | None,
                 version: tuple[int, int]) -> Analysis:
        from wholejob.balance import with_balance
        from wholejob.findings import diagnose
        from wholejob.measures import build_scorecard

        ws = self.workspace()
        model = load_job_model(ws.config, source=str(ws.config_path))
        try:
            card = build_scorecard(ws, since=since, until=until, model=model)
        except ValueError as e:  # e.g. a period that ends before the data starts
            raise WholejobError(f"cannot measure this period: {e}") from None
        scorecard = with_balance(card, model)
        return Analysis(scorecard, diagnose(scorecard, model), model, version)

    def memo(self, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        """Return ``compute()`` cached under ``key`` until the workspace version changes."""
        full = (self.version(), *key)
        with self._lock:
            if full in self._memo:
                return self._memo[full]
        value = compute()
        with self._lock:
            self._memo[full] = value
            while len(self._memo) > 512:
                self._memo.popitem(last=False)
        return value

    def account(self, key: tuple[Any, ...], compute: Callable[[], User | None]) -> User | None:
        """Return a cached account lookup (by session or token); see :meth:`forget_users`."""
        with self._lock:
            if key in self._users:
                return self._users[key]
        user = compute()
        with self._lock:
            if len(self._users) > 4096:
                self._users.clear()
            self._users[key] = user
        return user

    def forget_users(self) -> None:
        """Drop cached account lookups (a user, password or token changed)."""
        with self._lock:
            self._users.clear()

    def visible(self, user: User) -> frozenset[str]:
        """Return the reps a user may see (cached per workspace version)."""
        key = (self.version(), user.username, user.role, user.rep_id)
        with self._lock:
            hit = self._visible.get(key)
        if hit is not None:
            return hit
        result = frozenset(visible_reps(self.workspace(), user))
        with self._lock:
            self._visible[key] = result
            while len(self._visible) > 256:
                self._visible.popitem(last=False)
        return result

    def close(self) -> None:
        """Close every thread's connection (the server is shutting down)."""
        with self._lock:
            open_now, self._open = self._open, []
        for ws in open_now:
            with contextlib.suppress(Exception):
                ws.close()
