"""The coaching queue: findings about a manager's reps, ranked by money at stake."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from markupsafe import Markup

from wholejob.access import scope_findings
from wholejob.web.context import ManagerCtx, Period, PeriodParams, RequestCtx, json_dict
from wholejob.web.templating import environment, render

__all__ = ["coaching_data", "router"]

router = APIRouter()
SEVERITY = {"high": 0, "medium": 1, "low": 2}


def coaching_data(ctx: RequestCtx, period: PeriodParams) -> dict[str, Any]:
    """Return the visible reps' findings, most money at stake first (unknown last)."""
    data: dict[str, Any] = ctx.state.memo(
        ("coaching", period.since, period.until, ctx.visible),
        lambda: _queue(ctx, period))
    return data


def _queue(ctx: RequestCtx, period: PeriodParams) -> dict[str, Any]:
    analysis = ctx.state.analysis(period.since, period.until)
    findings = scope_findings(analysis.findings, ctx.visible)
    findings.sort(key=lambda f: (f.money_at_stake is None, -(f.money_at_stake or 0.0),
                                 SEVERITY.get(f.severity, 3), f.rep_id, f.practice))
    names = {r.rep_id: r.name for r in analysis.scorecard.reps}
    practices = {p: analysis.model.practices[p].name for p in analysis.model.all_ids}
    queue = [{**f.to_json(), "rep_name": names.get(f.rep_id, f.rep_id),
              "practice_name": practices.get(f.practice, f.practice)} for f in findings]
    total = sum(f.money_at_stake or 0.0 for f in findings)
    return json_dict({"since": analysis.scorecard.since, "until": analysis.scorecard.until,
                     "currency": analysis.scorecard.currency, "money_at_stake": total,
                     "findings": queue})


@router.get("/api/coaching", summary="Coaching queue", tags=["coaching"])
def coaching_json(ctx: ManagerCtx, period: Period) -> dict[str, Any]:
    """Return findings about the manager's reps, ranked by money at stake."""
    return coaching_data(ctx, period)


@router.get("/coaching", include_in_schema=False)
def coaching_page(ctx: ManagerCtx, period: Period) -> Response:
    """Show the coaching queue (rendered once per period and set of reps)."""
    body: str = ctx.state.memo(
        ("coaching-html", period.since, period.until, ctx.visible),
        lambda: environment().get_template("_coaching_body.html").render(
            data=coaching_data(ctx, period), period=period))
    return render(ctx.request, "coaching.html", {"body": Markup(body)})
