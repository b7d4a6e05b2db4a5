"""Settings (admins): practice floors and targets, ICP rules and the stage ladder."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from wholejob.config import IcpRules, Stage, WorkspaceConfig, format_validation_error
from wholejob.errors import ConfigError
from wholejob.jobmodel import load_job_model
from wholejob.web.context import AdminCtx, RequestCtx, json_dict
from wholejob.web.templating import render

__all__ = ["SettingsUpdate", "apply_settings", "router", "settings_data"]

router = APIRouter()


class Shares(BaseModel):
    """A practice's floor and target as shares (0-1) of selling time."""

    model_config = ConfigDict(extra="forbid")
    floor_share: float = Field(ge=0, le=1)
    target_share: float = Field(ge=0, le=1)


class SettingsUpdate(BaseModel):
    """A change to the settings: any part left out stays as it is."""

    model_config = ConfigDict(extra="forbid")
    practices: dict[str, Shares] | None = None
    icp: IcpRules | None = None
    stages: list[Stage] | None = Field(default=None, min_length=3, max_length=50)


def settings_data(ctx: RequestCtx) -> dict[str, Any]:
    """Return the settings an admin can change, with the job model's current values."""
    config = ctx.ws.config
    model = load_job_model(config, source=str(ctx.ws.config_path))
    return json_dict({
        "name": config.name, "currency": config.currency, "timezone": config.timezone,
        "week_start": config.week_start,
        "practices": [{"id": pid, "name": p.name, "group": p.group, "effort": p.effort,
                       "floor_share": p.floor_share, "target_share": p.target_share}
                      for pid, p in model.practices.items() if pid in model.practice_ids],
        "icp": config.icp.model_dump(mode="json"),
        "stages": [s.model_dump(mode="json") for s in config.stages],
    })


def apply_settings(ctx: RequestCtx, update: SettingsUpdate) -> WorkspaceConfig:
    """Validate and save a settings change; cached scorecards are recomputed after it."""
    ws = ctx.ws
    data = ws.config.model_dump(mode="json")
    model = load_job_model(ws.config, source=str(ws.config_path))
    if update.practices is not None:
        for pid, shares in update.practices.items():
            if pid not in model.practice_ids:
                raise ConfigError(f"practices.{pid}: unknown practice id")
            entry = dict(data["practices"].get(pid, {}))
            entry.update(floor_share=shares.floor_share, target_share=shares.target_share)
            data["practices"][pid] = entry
    if update.icp is not None:
        data["icp"] = update.icp.model_dump(mode="json")
    if update.stages is not None:
        data["stages"] = [s.model_dump(mode="json") for s in update.stages]
    try:
        config = WorkspaceConfig.model_validate(data)
    except ValidationError as e:
        raise ConfigError(format_validation_error(e, "settings")) from None
    load_job_model(config, source="settings")  # refuses floors above targets, sums > 1
    ws.save_config(config)
    ctx.state.bump()
    return config


@router.get("/api/settings", summary="Settings", tags=["settings"])
def settings_json(ctx: AdminCtx) -> dict[str, Any]:
    """Return practice floors and targets, ICP rules and the stage ladder."""
    return settings_data(ctx)


@router.put("/api/settings", summary="Change settings", tags=["settings"])
def settings_update_json(ctx: AdminCtx, update: SettingsUpdate) -> dict[str, Any]:
    """Change practice floors and targets, ICP rules or the stage ladder."""
    apply_settings(ctx, update)
    return settings_data(ctx)


@router.get("/settings", include_in_schema=False)
def settings_page(ctx: AdminCtx) -> Response:
    """Show the settings forms."""
    return render(ctx.request, "settings.html", {"data": settings_data(ctx), "error": "",
                                                 "saved": ctx.request.query_params.get("saved")})


def _number(form: Any, key: str) -> float | None:
    raw = str(form.get(key, "")).strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{key}: {raw!r} is not a number") from None


def _words(form: Any, key: str) -> list[str]:
    return [w.strip() for w in str(form.get(key, "")).split(",") if w.strip()]


def _from_form(section: str, form: Any, ctx: RequestCtx) -> SettingsUpdate:
    if section == "practices":
        shares = {}
        for pid in load_job_model(ctx.ws.config).practice_ids:
            floor, target = _number(form, f"floor_{pid}"), _number(form, f"target_{pid}")
            if floor is not None and target is not None:
                shares[pid] = {"floor_share": floor / 100, "target_share": target / 100}
        return SettingsUpdate.model_validate({"practices": shares})
    if section == "icp":
        icp = {"industries": _words(form, "industries"), "regions": _words(form, "regions"),
               "min_employees": _number(form, "min_employees"),
               "max_employees": _number(form, "max_employees"),
               "min_annual_revenue": _number(form, "min_annual_revenue"),
               "fit_tiers": [t.upper() for t in _words(form, "fit_tiers")]}
        return SettingsUpdate.model_validate({"icp": icp})
    stages = []
    for n, line in enumerate(str(form.get("stages", "")).splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) < 2:
            raise ConfigError(f"stages line {n}: write 'name | open/won/lost | aliases'")
        aliases = [a.strip() for a in (parts[2] if len(parts) > 2 else "").split(",")
                   if a.strip()]
        stages.append({"name": parts[0], "status": parts[1], "aliases": aliases})
    return SettingsUpdate.model_validate({"stages": stages})


@router.post("/settings/{section}", include_in_schema=False)
async def settings_save(ctx: AdminCtx, section: str, request: Request) -> Response:
    """Save one settings form (practices, icp or stages)."""
    if section not in ("practices", "icp", "stages"):
        return render(request, "error.html", {"status": 404, "message": "no such settings"},
                      status_code=404)
    form = await request.form()
    try:
        apply_settings(ctx, _from_form(section, form, ctx))
    except (ConfigError, ValidationError) as e:
        message = (format_validation_error(e, section) if isinstance(e, ValidationError)
                   else str(e))
        return render(request, "settings.html", {"data": settings_data(ctx), "error": message,
                                                 "saved": None}, status_code=400)
    return RedirectResponse(f"/settings?saved={section}", status_code=303)
