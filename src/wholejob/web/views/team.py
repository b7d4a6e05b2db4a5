"""The team overview: reps x practices heatmap, balance index per rep, sortable, filtered."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from markupsafe import Markup

from wholejob.access import scope_findings, scope_scorecard
from wholejob.reports.charts import team_heatmap
from wholejob.reports.labels import effort_state, quality_ids, sellers
from wholejob.web.context import Ctx, Period, PeriodParams, RequestCtx, json_dict
from wholejob.web.templating import environment, render

__all__ = ["router", "team_data"]

router = APIRouter()
HEATMAP_LIMIT = 100  # a taller SVG is unreadable; the table shows every rep
SORTS = ("name", "team", "balance_index", "findings", "money_at_stake")
TeamQuery = Annotated[str | None, Query(max_length=200, description="Only reps of this team.")]
SortQuery = Annotated[str, Query(max_length=100,
                                 description="name, team, balance_index, findings, "
                                             "money_at_stake or a practice id.")]
OrderQuery = Annotated[Literal["asc", "desc"], Query(description="Sort order.")]


def _band(score: float | None) -> str:
    if score is None:
        return "unknown"
    return "low" if score < 34 else ("mid" if score < 67 else "high")


def team_data(ctx: RequestCtx, period: PeriodParams, *, team: str | None = None,
              sort: str = "balance_index", order: str = "asc") -> dict[str, Any]:
    """Return the team overview of the reps the user may see (the page and its JSON)."""
    analysis = ctx.state.analysis(period.since, period.until)
    visible = ctx.visible
    model = analysis.model
    scoped = scope_scorecard(analysis.scorecard, visible)
    teams = sorted({r.team for r in sellers(scoped) if r.team})
    if team:
        scoped = scope_scorecard(scoped, {r.rep_id for r in scoped.reps if r.team == team})
    findings = scope_findings(analysis.findings, {r.rep_id for r in scoped.reps})
    quality = quality_ids(model)
    counts: dict[str, int] = {}
    money: dict[str, float] = {}
    for f in findings:
        counts[f.rep_id] = counts.get(f.rep_id, 0) + 1
        if f.money_at_stake is not None:
            money[f.rep_id] = money.get(f.rep_id, 0.0) + f.money_at_stake
    rows = []
    for rep in sellers(scoped) if scoped.reps else []:
        practices = {}
        for pid in scoped.practices:
            s = rep.practices.get(pid)
            state = effort_state(s, quality=pid in quality)
            practices[pid] = {
                "hours_per_week": s.hours_per_week if s else None,
                "share": s.share if s else None,
                "floor_hours_per_week": s.floor_hours_per_week if s else None,
                "target_hours_per_week": s.target_hours_per_week if s else None,
                "effort_score": s.effort_score if s else None,
                "effectiveness_score": s.effectiveness_score if s else None,
                "effort_state": state.state,
                "effectiveness_band": _band(s.effectiveness_score if s else None),
            }
        rows.append({
            "rep_id": rep.rep_id, "name": rep.name, "team": rep.team,
            "manager_id": rep.manager_id, "balance_index": rep.balance_index,
            "findings": counts.get(rep.rep_id, 0),
            "money_at_stake": money.get(rep.rep_id) if rep.rep_id in money else None,
            "practices": practices,
        })
    # Unknown values sort last whatever the order.
    known = [r for r in rows if _sort_key(r, sort)[0] == 0]
    known.sort(key=lambda r: _sort_key(r, sort)[1], reverse=order == "desc")
    rows = known + [r for r in rows if _sort_key(r, sort)[0] == 1]
    return json_dict({
        "since": scoped.since, "until": scoped.until, "weeks": len(scoped.weeks),
        "currency": scoped.currency, "teams": teams, "team": team,
        "sort": sort, "order": order,
        "practices": [{"id": p, "name": model.practices[p].name,
                       "group": model.practices[p].group, "quality": p in quality}
                      for p in scoped.practices],
        "reps": rows,
        "heatmap": team_heatmap(scoped, model).to_json() if rows else None,
        "notes": scoped.notes,
    })


def _sort_key(row: dict[str, Any], sort: str) -> tuple[int, Any]:
    if sort in ("name", "team"):
        value = row.get(sort)
        return (1, "") if value is None else (0, str(value).lower())
    if sort in ("balance_index", "findings", "money_at_stake"):
        value = row.get(sort)
    else:
        cell = row["practices"].get(sort)
        value = cell["effort_score"] if cell else None
    return (1, 0.0) if value is None else (0, float(value))


def _key(ctx: RequestCtx, period: PeriodParams, *parts: Any) -> tuple[Any, ...]:
    return ("team", period.since, period.until, ctx.visible, *parts)


def cached_team_data(ctx: RequestCtx, period: PeriodParams, team: str | None, sort: str,
                     order: str) -> dict[str, Any]:
    """Return :func:`team_data`, cached per version, period, visible reps and view."""
    data: dict[str, Any] = ctx.state.memo(
        _key(ctx, period, "data", team, sort, order),
        lambda: team_data(ctx, period, team=team, sort=sort, order=order))
    return data


@router.get("/api/team", summary="Team overview", tags=["team"])
def team_json(ctx: Ctx, period: Period, team: TeamQuery = None,
              sort: SortQuery = "balance_index", order: OrderQuery = "asc") -> dict[str, Any]:
    """Return reps x practices effort and effectiveness, balance index and findings per rep."""
    # The encoded answer is cached too: encoding 500 reps costs more than serving them.
    body: bytes = ctx.state.memo(
        _key(ctx, period, "json", team, sort, order),
        lambda: json.dumps(cached_team_data(ctx, period, team, sort, order),
                           separators=(",", ":")).encode())
    return Response(body, media_type="application/json")  # type: ignore[return-value]


@router.get("/team", include_in_schema=False)
def team_page(ctx: Ctx, period: Period, team: TeamQuery = None,
              sort: SortQuery = "balance_index", order: OrderQuery = "asc") -> Response:
    """Show the team overview (the table and heatmap are rendered once per view)."""
    body: str = ctx.state.memo(
        _key(ctx, period, "html", team, sort, order),
        lambda: environment().get_template("_team_body.html").render(
            data=cached_team_data(ctx, period, team, sort, order), period=period,
            heatmap_limit=HEATMAP_LIMIT))
    return render(ctx.request, "team.html", {"body": Markup(body)})
