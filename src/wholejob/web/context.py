"""What every route receives: the signed-in user, the workspace and the reps it may see."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Query, Request

from wholejob.access import User, require_role
from wholejob.errors import UserError
from wholejob.web.auth import current_user, state_of
from wholejob.web.state import WebState
from wholejob.workspace import Workspace

__all__ = ["AdminCtx", "Ctx", "ManagerCtx", "Period", "RequestCtx", "json_dict", "jsonable"]

EARLIEST = date(1990, 1, 1)
LATEST = date(2100, 12, 31)


@dataclass(frozen=True)
class RequestCtx:
    """The signed-in user with the app state and this thread's workspace."""

    request: Request
    state: WebState
    user: User

    @property
    def ws(self) -> Workspace:
        """This thread's workspace."""
        return self.state.workspace()

    @property
    def visible(self) -> frozenset[str]:
        """The rep ids the user may see (:func:`wholejob.access.visible_reps`)."""
        return self.state.visible(self.user)


def _ctx(request: Request, user: Annotated[User, Depends(current_user)]) -> RequestCtx:
    return RequestCtx(request, state_of(request), user)


def _manager_ctx(ctx: Annotated[RequestCtx, Depends(_ctx)]) -> RequestCtx:
    require_role(ctx.user, "manager", "admin")
    return ctx


def _admin_ctx(ctx: Annotated[RequestCtx, Depends(_ctx)]) -> RequestCtx:
    require_role(ctx.user, "admin")
    return ctx


Ctx = Annotated[RequestCtx, Depends(_ctx)]
ManagerCtx = Annotated[RequestCtx, Depends(_manager_ctx)]
AdminCtx = Annotated[RequestCtx, Depends(_admin_ctx)]


@dataclass(frozen=True)
class PeriodParams:
    """The period a page covers; unset bounds come from the data."""

    since: date | None
    until: date | None

    def query(self) -> str:
        """Return the period as a query string fragment (empty when unset)."""
        parts = [f"{k}={v.isoformat()}" for k, v in (("since", self.since),
                                                      ("until", self.until)) if v]
        return "&".join(parts)


def _period(
    since: Annotated[date | None, Query(description="First day of the period (ISO date).")] = None,
    until: Annotated[date | None, Query(description="Last day of the period (ISO date).")] = None,
) -> PeriodParams:
    for d in (since, until):
        if d is not None and not EARLIEST <= d <= LATEST:
            raise UserError(f"date {d.isoformat()} is out of range "
                            f"({EARLIEST.isoformat()} to {LATEST.isoformat()})")
    if since is not None and until is not None and since > until:
        raise UserError(f"since {since.isoformat()} is after until {until.isoformat()}")
    return PeriodParams(since, until)


Period = Annotated[PeriodParams, Depends(_period)]


def jsonable(value: Any) -> Any:
    """Return ``value`` with NaN and infinities as None and dates as ISO strings."""
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def json_dict(value: dict[str, Any]) -> dict[str, Any]:
    """Return :func:`jsonable` of a dict, typed as a dict."""
    out: dict[str, Any] = jsonable(value)
    return out
