"""User administration (admins): accounts, passwords and API tokens."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Path
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from wholejob.access import (
    add_user,
    create_token,
    list_tokens,
    list_users,
    remove_user,
    revoke_token,
    set_password,
)
from wholejob.errors import UserError
from wholejob.web.context import AdminCtx, RequestCtx, json_dict, jsonable
from wholejob.web.templating import render

__all__ = ["router", "users_data"]

router = APIRouter()
Username = Annotated[str, Path(max_length=100, description="A username.")]
TokenId = Annotated[str, Path(max_length=100, description="An API token id.")]


class NewUser(BaseModel):
    """A user to create."""

    model_config = ConfigDict(extra="forbid")
    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)
    role: Literal["rep", "manager", "admin"]
    rep_id: str | None = Field(default=None, max_length=200)


class NewPassword(BaseModel):
    """A new password."""

    model_config = ConfigDict(extra="forbid")
    password: str = Field(max_length=1024)


class NewToken(BaseModel):
    """A label for a new API token."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(default="", max_length=100)


def users_data(ctx: RequestCtx) -> dict[str, Any]:
    """Return every user with its API tokens (never a secret or a hash)."""
    tokens = list_tokens(ctx.ws)
    return json_dict({"users": [{**u.to_json(),
                                "tokens": [t.to_json() for t in tokens
                                           if t.username == u.username]}
                               for u in list_users(ctx.ws)],
                     "roles": ["rep", "manager", "admin"]})


@router.get("/api/users", summary="Users", tags=["users"])
def users_json(ctx: AdminCtx) -> dict[str, Any]:
    """Return every user and its API tokens."""
    return users_data(ctx)


@router.post("/api/users", summary="Add a user", tags=["users"], status_code=201)
def users_add_json(ctx: AdminCtx, user: NewUser) -> dict[str, Any]:
    """Create a user (reps and managers need a rep id)."""
    created = add_user(ctx.ws, user.username, user.password, user.role, user.rep_id)
    ctx.state.forget_users()
    return created.to_json()


@router.delete("/api/users/{username}", summary="Remove a user", tags=["users"])
def users_remove_json(ctx: AdminCtx, username: Username) -> dict[str, Any]:
    """Remove a user and its API tokens (never the last admin)."""
    remove_user(ctx.ws, username)
    ctx.state.forget_users()
    return {"removed": username}


@router.put("/api/users/{username}/password", summary="Set a password", tags=["users"])
def users_password_json(ctx: AdminCtx, username: Username,
                        body: NewPassword) -> dict[str, Any]:
    """Set a user's password; their sessions end."""
    user = set_password(ctx.ws, username, body.password)
    ctx.state.forget_users()
    return user.to_json()


@router.post("/api/users/{username}/tokens", summary="Create an API token", tags=["users"],
             status_code=201)
def users_token_json(ctx: AdminCtx, username: Username, body: NewToken) -> dict[str, Any]:
    """Create an API token; the secret is in the answer and nowhere else."""
    token, secret = create_token(ctx.ws, username, body.name)
    return {**jsonable(token.to_json()), "token": secret}


@router.delete("/api/tokens/{token_id}", summary="Revoke an API token", tags=["users"])
def token_revoke_json(ctx: AdminCtx, token_id: TokenId) -> dict[str, Any]:
    """Revoke an API token."""
    revoke_token(ctx.ws, token_id)
    ctx.state.forget_users()
    return {"revoked": token_id}


def _page(ctx: AdminCtx, *, error: str = "", notice: str = "", token: str = "",
          status: int = 200) -> Response:
    return render(ctx.request, "users.html", {"data": users_data(ctx), "error": error,
                                              "notice": notice, "token": token},
                  status_code=status)


@router.get("/settings/users", include_in_schema=False)
def users_page(ctx: AdminCtx) -> Response:
    """Show the users and the forms to manage them."""
    return _page(ctx)


@router.post("/settings/users", include_in_schema=False)
def users_add(ctx: AdminCtx, username: Annotated[str, Form(max_length=200)],
              password: Annotated[str, Form(max_length=2000)],
              role: Annotated[str, Form(max_length=20)],
              rep_id: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Add a user from the form."""
    try:
        add_user(ctx.ws, username, password, role, rep_id or None)
    except UserError as e:
        return _page(ctx, error=str(e), status=400)
    ctx.state.forget_users()
    return RedirectResponse("/settings/users", status_code=303)


@router.post("/settings/users/{username}/remove", include_in_schema=False)
def users_remove(ctx: AdminCtx, username: Username) -> Response:
    """Remove a user from the form."""
    try:
        remove_user(ctx.ws, username)
    except UserError as e:
        return _page(ctx, error=str(e), status=400)
    ctx.state.forget_users()
    return RedirectResponse("/settings/users", status_code=303)


@router.post("/settings/users/{username}/password", include_in_schema=False)
def users_password(ctx: AdminCtx, username: Username,
                   password: Annotated[str, Form(max_length=2000)]) -> Response:
    """Set a password from the form."""
    try:
        set_password(ctx.ws, username, password)
    except UserError as e:
        return _page(ctx, error=str(e), status=400)
    ctx.state.forget_users()
    return _page(ctx, notice=f"password of {username} changed")


@router.post("/settings/users/{username}/tokens", include_in_schema=False)
def users_token(ctx: AdminCtx, username: Username,
                name: Annotated[str, Form(max_length=100)] = "") -> Response:
    """Create an API token from the form and show it once."""
    try:
        _, secret = create_token(ctx.ws, username, name)
    except UserError as e:
        return _page(ctx, error=str(e), status=400)
    return _page(ctx, notice=f"API token for {username} (copy it now; it is shown once):",
                 token=secret)


@router.post("/settings/tokens/{token_id}/revoke", include_in_schema=False)
def token_revoke(ctx: AdminCtx, token_id: TokenId) -> Response:
    """Revoke an API token from the form."""
    try:
        revoke_token(ctx.ws, token_id)
    except UserError as e:
        return _page(ctx, error=str(e), status=400)
    ctx.state.forget_users()
    return RedirectResponse("/settings/users", status_code=303)
