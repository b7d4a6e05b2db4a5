"""The app factory: :func:`create_app` builds the dashboard and API for one workspace.

Pages are server-rendered; every page has a JSON twin under ``/api/`` that the
OpenAPI schema (``/api/openapi.json``) describes. Every asset is served from the
package, so the dashboard works with no internet access.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from wholejob import __version__
from wholejob.errors import AccessDenied, NotVisible, UserError, WholejobError
from wholejob.web.auth import (
    CSRF_COOKIE,
    CsrfFailed,
    SignInRequired,
    Throttle,
    csrf_protect,
    new_csrf_seed,
)
from wholejob.web.state import WebSettings, WebState
from wholejob.web.templating import render

__all__ = ["create_app"]

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
       "base-uri 'none'; object-src 'none'")


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error(request: Request, status: int, message: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"detail": message}, status_code=status)
    return render(request, "error.html", {"status": status, "message": message},
                  status_code=status)


def create_app(workspace_path: Path | str, *, settings: WebSettings | None = None) -> FastAPI:
    """Build the dashboard for the workspace at ``workspace_path``.

    The app opens the workspace for writing at once (it is the workspace's one
    writer while it runs) and closes it on shutdown.
    """
    settings = settings or WebSettings()
    state = WebState(Path(workspace_path), settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        state.jobs.wait()
        state.close()

    app = FastAPI(
        title="wholejob",
        version=__version__,
        description="Whole-job balance of a sales team: scorecards, findings, forecasts, "
                    "imports and settings. Authenticate with `Authorization: Bearer TOKEN` "
                    "(`wholejob users token USER`).",
        docs_url=None,  # the Swagger UI loads scripts from a CDN; the schema is enough
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
        dependencies=[Depends(csrf_protect)],
    )
    app.state.web = state
    app.state.throttle = Throttle(settings.login_attempts, settings.login_window_seconds)

    @app.middleware("http")
    async def security(request: Request,
                       call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        new_seed = None
        if not request.cookies.get(CSRF_COOKIE):
            new_seed = new_csrf_seed()
            request.state.csrf_seed = new_seed
        response = await call_next(request)
        h = response.headers
        h.setdefault("Content-Security-Policy", CSP)
        h["X-Frame-Options"] = "DENY"
        h["X-Content-Type-Options"] = "nosniff"
        h["Referrer-Policy"] = "same-origin"
        h["Cross-Origin-Opener-Policy"] = "same-origin"
        h["Cross-Origin-Resource-Policy"] = "same-origin"
        h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
        if settings.secure_cookies:
            h["Strict-Transport-Security"] = "max-age=31536000"
        if not request.url.path.startswith("/static/"):
            h["Cache-Control"] = "no-store"
        if new_seed is not None:
            response.set_cookie(CSRF_COOKIE, new_seed, httponly=True, samesite="strict",
                                secure=settings.secure_cookies, path="/")
        return response

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": "sign in required (session or bearer token)"},
                                status_code=401, headers={"WWW-Authenticate": "Bearer"})
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/signin?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(CsrfFailed)
    async def _csrf(request: Request, exc: CsrfFailed) -> Response:
        return _error(request, 403, "the form expired or came from another site "
                                    "(CSRF check failed): reload the page and try again")

    @app.exception_handler(NotVisible)
    async def _not_visible(request: Request, exc: NotVisible) -> Response:
        return _error(request, 404, str(exc))

    @app.exception_handler(AccessDenied)
    async def _denied(request: Request, exc: AccessDenied) -> Response:
        return _error(request, 403, str(exc))

    @app.exception_handler(UserError)
    async def _user_error(request: Request, exc: UserError) -> Response:
        return _error(request, 400, str(exc))

    @app.exception_handler(WholejobError)
    async def _wholejob_error(request: Request, exc: WholejobError) -> Response:
        return _error(request, 400, str(exc))

    static = resources.files("wholejob.web").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")

    from wholejob.web.views import coaching, imports, reps, settings_page, signin, team, users

    for module in (signin, team, reps, coaching, imports, settings_page, users):
        app.include_router(module.router)
    return app


def setup_token() -> str:
    """Return a fresh one-time token for the first-run setup link."""
    return secrets.token_urlsafe(24)
