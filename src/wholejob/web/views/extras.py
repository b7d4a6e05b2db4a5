"""The rep page's sections that come from other library parts: forecast, plan, skills.

Each section says ``{"available": false, "reason": ...}`` when its library part is
not installed or has nothing to say, so the page shows why instead of failing.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

import ibis

from wholejob.errors import NotVisible, WholejobError
from wholejob.scorecard import Finding
from wholejob.web.context import RequestCtx, json_dict

__all__ = ["forecast_section", "plan_ics", "plan_section", "skills_section"]

FORECAST_WEEKS = 13
FORECAST_PATHS = 1000


def _missing(reason: str) -> dict[str, Any]:
    return {"available": False, "reason": reason}


def _function(module: str, name: str) -> Any:
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    return getattr(mod, name, None)


def _as_json(result: Any) -> dict[str, Any]:
    data = result.to_json() if hasattr(result, "to_json") else result
    return dict(data) if isinstance(data, dict) else {"value": data}


def forecast_section(ctx: RequestCtx, rep_id: str) -> dict[str, Any]:
    """Return the rep's forecast (weekly p10/p50/p90) with fan chart specs (cached)."""
    run = _function("wholejob.forecast", "forecast")
    if run is None:
        return _missing("the forecast is not available in this version")

    def compute() -> dict[str, Any]:
        try:
            data = _as_json(run(ctx.ws, rep=rep_id, weeks=FORECAST_WEEKS, paths=FORECAST_PATHS))
        except (WholejobError, KeyError, ValueError) as e:
            return _missing(f"no forecast for this rep: {e}")
        return {"available": True, **_fans(data), "data": data}

    result: dict[str, Any] = ctx.state.memo(("forecast", rep_id), compute)
    return result


def _fans(data: dict[str, Any]) -> dict[str, Any]:
    from wholejob.reports.charts import fan_chart

    weeks = [str(w) for w in data.get("week_ending") or []]
    out: dict[str, Any] = {"run_dry_week": data.get("run_dry_week"), "fans": []}
    if not weeks:
        return out
    unit = str(data.get("currency") or "")
    quota = data.get("quota")
    quarter = (float(quota) * 13 / 52 * float(data.get("required_coverage") or 3)
               if quota else None)
    dry = data.get("run_dry_week")
    for key, title, label, reference, ref_label in (
        ("bookings", "Bookings forecast", "cumulative bookings", data.get("horizon_quota"),
         "quota for the horizon"),
        ("open_pipeline", "Open pipeline forecast", "open pipeline", quarter,
         "coverage needed"),
    ):
        block = data.get(key)
        if not isinstance(block, dict):
            continue
        try:
            spec = fan_chart(title=title, weeks=weeks, p10=block["p10"], p50=block["p50"],
                             p90=block["p90"], y_label=label, unit=unit, name=key,
                             reference=reference, reference_label=ref_label,
                             marker=(dry - 1) if key == "open_pipeline" and dry else None,
                             marker_label="runs dry" if dry else "")
        except (KeyError, ValueError, TypeError):
            continue
        out["fans"].append(spec.to_json())
    return out


def _plan(ctx: RequestCtx, rep_id: str) -> Any:
    """Return the rep's fitted plan (cached), None when the plan library is absent."""
    make_plan = _function("wholejob.plan.report", "make_plan")
    if make_plan is None:
        return None

    def compute() -> Any:
        try:
            return make_plan(ctx.ws, rep_id)
        except (WholejobError, KeyError, ValueError) as e:
            return e

    plan = ctx.state.memo(("plan", rep_id), compute)
    if isinstance(plan, Exception):
        raise plan
    return plan


def plan_section(ctx: RequestCtx, rep_id: str) -> dict[str, Any]:
    """Return the rep's recommended weekly allocation, or why there is none."""
    try:
        plan = _plan(ctx, rep_id)
    except (WholejobError, KeyError, ValueError) as e:
        return _missing(f"no plan for this rep: {e}")
    if plan is None:
        return _missing("the plan is not available yet in this version")
    return json_dict({"available": True, "ics_url": f"/reps/{rep_id}/plan.ics",
                      **_as_json(plan)})


def plan_ics(ctx: RequestCtx, rep_id: str) -> bytes:
    """Return next week's calendar blocks of the rep's plan as iCalendar bytes."""
    try:
        plan = _plan(ctx, rep_id)
    except (WholejobError, KeyError, ValueError) as e:
        raise NotVisible(f"no plan for this rep: {e}") from None
    if plan is None:
        raise NotVisible("no plan for this rep (the plan is not available yet)")
    from datetime import date

    from wholejob.plan.calendar import calendar_blocks, next_monday, to_ics

    blocks = calendar_blocks(plan.optimizer.allocation_, next_monday(date.today()),
                             plan.timezone)
    return bytes(to_ics(blocks, rep_id=rep_id))


def skills_section(ctx: RequestCtx, rep_id: str,
                   findings: Sequence[Finding]) -> dict[str, Any]:
    """Return the rep's latest assessment per practice and a development focus.

    The focus lists :func:`wholejob.skills.development_focus`'s top practices
    (skill gap x value of an hour, from the plan), then practices with a
    finding, then the lowest assessed ones; five at most.
    """
    library: list[dict[str, Any]] = []
    run = _function("wholejob.skills", "development_focus")
    if run is not None:
        try:
            plan = _plan(ctx, rep_id)
            values = plan.optimizer.marginal_values_ if plan is not None else None
            library = [i for i in run(ctx.ws, rep_id, marginal_values=values)["focus"]
                       if i.get("impact")][:5]
        except (WholejobError, KeyError, ValueError, AttributeError):
            library = []
    t = ctx.ws.table("assessments")
    rows = (t.filter(t.rep_id == rep_id)
            .order_by([ibis.desc("assessed_on"), "practice"]).to_pyarrow().to_pylist())
    latest: dict[str, dict[str, Any]] = {}
    for r in rows:
        latest.setdefault(str(r["practice"]), r)
    focus: list[dict[str, Any]] = [
        {"practice": i["practice"], "money_at_stake": None,
         "why": f"skill {i['score']}/5, worth {i['impact']:,.0f} a week at the target"}
        for i in library]
    for f in findings:
        if f.practice not in {x["practice"] for x in focus}:
            focus.append({"practice": f.practice, "why": f"{f.kind} finding",
                          "money_at_stake": f.money_at_stake})
    for pid, r in sorted(latest.items(), key=lambda kv: float(kv[1]["score"] or 0)):
        if len(focus) >= 5:
            break
        if float(r["score"] or 0) <= 3 and pid not in {x["practice"] for x in focus}:
            focus.append({"practice": pid, "why": f"assessed {r['score']}/5",
                          "money_at_stake": None})
    return json_dict({"available": True,
                     "assessments": [latest[p] for p in sorted(latest)],
                     "focus": focus[:5]})
