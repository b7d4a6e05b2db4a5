"""Sign-in, sign-out, first-run setup, the home redirect and ``/api/me``."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from wholejob.access import User, add_user, authenticate, has_users
from wholejob.web.auth import SESSION_COOKIE, session_cookie, state_of
from wholejob.web.context import Ctx
from wholejob.web.templating import render

__all__ = ["router"]

router = APIRouter()
FAILED = "Sign-in failed: the username or password is wrong."
PAUSED = "Too many failed sign-ins: wait a few minutes and try again."


def _safe_next(target: str | None) -> str:
    # Only local paths: an open redirect would let a link send users elsewhere.
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


def home_of(user: User) -> str:
    """Return the page a user lands on after signing in."""
    if user.role == "rep" and user.rep_id:
        return f"/reps/{user.rep_id}"
    return "/team"


def _signed_in(request: Request, user: User, target: str) -> Response:
    state = state_of(request)
    response = RedirectResponse(target if target != "/" else home_of(user), status_code=303)
    response.set_cookie(SESSION_COOKIE, session_cookie(state, user), httponly=True,
                        samesite="lax", secure=state.settings.secure_cookies, path="/",
                        max_age=int(state.settings.session_hours * 3600))
    return response


@router.get("/", include_in_schema=False)
def home(request: Request) -> Response:
    """Send a signed-in user to their home page, anyone else to sign-in."""
    from wholejob.web.auth import optional_user

    user = optional_user(request, None)
    return RedirectResponse(home_of(user) if user else "/signin", status_code=303)


def _signin_page(request: Request, *, error: str = "", next_: str = "/", status: int = 200,
                 username: str = "") -> Response:
    state = state_of(request)
    return render(request, "signin.html", {
        "error": error, "next": _safe_next(next_), "username": username,
        "no_users": not has_users(state.workspace()),
    }, status_code=status, user=None)


@router.get("/signin", include_in_schema=False)
def signin_form(request: Request, next: str = "/") -> Response:
    """Show the sign-in form."""
    return _signin_page(request, next_=next)


@router.post("/signin", include_in_schema=False)
def signin(request: Request, username: Annotated[str, Form(max_length=200)],
           password: Annotated[str, Form(max_length=2000)],
           next: Annotated[str, Form(max_length=2000)] = "/") -> Response:
    """Check the password (throttled) and start a session; one message for every failure."""
    state = state_of(request)
    throttle = request.app.state.throttle
    address = request.client.host if request.client else "?"
    if throttle.blocked(username, address):
        return _signin_page(request, error=PAUSED, next_=next, status=429, username=username)
    user = authenticate(state.workspace(), username, password)
    if user is None:
        throttle.fail(username, address)
        return _signin_page(request, error=FAILED, next_=next, status=400, username=username)
    throttle.succeed(username)
    return _signed_in(request, user, _safe_next(next))


@router.post("/signout", include_in_schema=False)
def signout(request: Request) -> Response:
    """End the session."""
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _setup_allowed(request: Request, token: str) -> bool:
    state = state_of(request)
    expected = state.settings.setup_token
    return bool(expected and token and hmac.compare_digest(expected, token)
                and not has_users(state.workspace()))


@router.get("/setup", include_in_schema=False)
def setup_form(request: Request, token: str = "") -> Response:
    """Show the first-admin form, reachable only through the one-time setup link."""
    if not _setup_allowed(request, token):
        return render(request, "error.html", {
            "status": 404, "message": "this setup link is not valid (accounts exist already, "
                                      "or the server was restarted with a new link)"},
            status_code=404, user=None)
    return render(request, "setup.html", {"token": token, "error": ""}, user=None)


@router.post("/setup", include_in_schema=False)
def setup(request: Request, token: Annotated[str, Form(max_length=200)],
          username: Annotated[str, Form(max_length=200)],
          password: Annotated[str, Form(max_length=2000)],
          confirm: Annotated[str, Form(max_length=2000)]) -> Response:
    """Create the first admin and sign it in."""
    from wholejob.errors import UserError

    if not _setup_allowed(request, token):
        return render(request, "error.html", {"status": 404,
                                              "message": "this setup link is not valid"},
                      status_code=404, user=None)
    state = state_of(request)
    try:
        if password != confirm:
            raise UserError("the two passwords differ")
        user = add_user(state.workspace(), username, password, "admin")
    except UserError as e:
        return render(request, "setup.html", {"token": token, "error": str(e)},
                      status_code=400, user=None)
    return _signed_in(request, user, "/team")


@router.get("/api/me", summary="The signed-in user", tags=["account"])
def me(ctx: Ctx) -> dict[str, Any]:
    """Return the signed-in user and how many reps it may see."""
    return {"user": ctx.user.to_json(), "visible_reps": sorted(ctx.visible)}
