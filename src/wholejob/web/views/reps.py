"""The rep page and its drill-down: balance, trend, peers, findings, evidence, forecast, plan."""

from __future__ import annotations

from typing import Annotated, Any

import ibis
from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from wholejob.access import require_rep
from wholejob.errors import NotVisible
from wholejob.reports.charts import effort_trend, rep_radar
from wholejob.reports.labels import quality_ids
from wholejob.web.context import Ctx, Period, PeriodParams, RequestCtx, json_dict
from wholejob.web.templating import render
from wholejob.web.views.extras import forecast_section, plan_ics, plan_section, skills_section

__all__ = ["evidence_data", "rep_data", "router"]

router = APIRouter()
RepId = Annotated[str, Path(max_length=200, description="A rep id.")]
EVIDENCE_LIMIT = 200
# Which column says whose a record is, for the tables the evidence shows.
OWNER = {"activities": ("activity_id", "rep_id"),
         "opportunities": ("opportunity_id", "owner_id"),
         "accounts": ("account_id", "owner_id")}


def rep_data(ctx: RequestCtx, rep_id: str, period: PeriodParams) -> dict[str, Any]:
    """Return one rep's page data; :class:`NotVisible` unless the user may see the rep."""
    require_rep(ctx.visible, rep_id)  # before the cache: visibility is per user
    data: dict[str, Any] = ctx.state.memo(("rep", rep_id, period.since, period.until),
                                          lambda: _rep_payload(ctx, rep_id, period))
    return data


def _rep_payload(ctx: RequestCtx, rep_id: str, period: PeriodParams) -> dict[str, Any]:
    analysis = ctx.state.analysis(period.since, period.until)
    scorecard, model = analysis.scorecard, analysis.model
    try:
        rep = scorecard.rep(rep_id)
    except KeyError:
        raise NotVisible(f"no rep {rep_id!r}") from None
    quality = quality_ids(model)
    findings = sorted((f for f in analysis.findings if f.rep_id == rep_id),
                      key=lambda f: -(f.money_at_stake or 0.0))
    practices = []
    for pid in scorecard.practices:
        s = rep.practices.get(pid)
        if s is None:
            continue
        practices.append({
            "id": pid, "name": model.practices[pid].name, "quality": pid in quality,
            "hours_per_week": s.hours_per_week, "share": s.share,
            "floor_hours_per_week": s.floor_hours_per_week,
            "target_hours_per_week": s.target_hours_per_week,
            "team_median_hours_per_week": s.team_median_hours_per_week,
            "effort_score": s.effort_score, "effectiveness_score": s.effectiveness_score,
            "measures": [{**m.to_json(), "record_count": sum(m.record_counts.values())}
                         for m in s.measures],
        })
    return json_dict({
        "rep": {k: v for k, v in rep.to_json().items() if k != "practices"},
        "since": scorecard.since, "until": scorecard.until, "currency": scorecard.currency,
        "practices": practices,
        "findings": [f.to_json() for f in findings],
        "charts": {
            "radar": rep_radar(rep, scorecard, model).to_json(),
            "trend": effort_trend(rep, scorecard, model).to_json(),
        },
        "forecast": forecast_section(ctx, rep_id),
        "plan": plan_section(ctx, rep_id),
        "skills": skills_section(ctx, rep_id, findings),
    })


def evidence_data(ctx: RequestCtx, rep_id: str, practice: str, measure: str | None,
                  period: PeriodParams) -> dict[str, Any]:
    """Return the records behind a rep's effort on a practice, or behind one measure.

    Only records owned by reps the user may see are listed, whatever the trace
    returns.
    """
    from wholejob.measures import trace

    require_rep(ctx.visible, rep_id)
    model = ctx.state.model()
    if practice not in model.all_ids:
        raise NotVisible(f"no practice {practice!r}")
    try:
        ids = trace(ctx.ws, rep_id, practice, measure, since=period.since, until=period.until,
                    model=model)
    except KeyError as e:
        raise NotVisible(f"nothing to trace: {e.args[0] if e.args else e}") from None
    visible = sorted(ctx.visible)
    tables: dict[str, Any] = {}
    for table, record_ids in ids.items():
        entry: dict[str, Any] = {"total": len(record_ids), "records": [], "ids": []}
        if table in OWNER:
            key, owner = OWNER[table]
            t = ctx.ws.table(table)
            wanted = record_ids[:EVIDENCE_LIMIT]
            rows = (t.filter(t[key].isin(wanted) & t[owner].isin(visible))
                    .order_by(ibis.asc(key)).to_pyarrow().to_pylist()) if wanted else []
            entry["records"] = rows
        else:
            entry["ids"] = record_ids[:EVIDENCE_LIMIT]
        entry["shown"] = len(entry["records"]) or len(entry["ids"])
        tables[table] = entry
    name = model.practices[practice].name
    measure_name = next((m.name for m in model.practices[practice].measures
                         if m.id == measure), None)
    return json_dict({"rep_id": rep_id, "practice": practice, "practice_name": name,
                     "measure": measure, "measure_name": measure_name,
                     "since": period.since, "until": period.until, "tables": tables})


@router.get("/api/reps/{rep_id}", summary="One rep's scorecard", tags=["reps"])
def rep_json(ctx: Ctx, rep_id: RepId, period: Period) -> dict[str, Any]:
    """Return a rep's practices, measures, findings, chart specs, forecast, plan and skills."""
    return rep_data(ctx, rep_id, period)


@router.get("/reps/{rep_id}", include_in_schema=False)
def rep_page(ctx: Ctx, rep_id: RepId, period: Period) -> Response:
    """Show a rep's page."""
    return render(ctx.request, "rep.html", {"data": rep_data(ctx, rep_id, period),
                                            "period": period})


PracticeQuery = Annotated[str, Query(max_length=100, description="A practice id.")]
MeasureQuery = Annotated[str | None, Query(max_length=100, description="A measure id.")]


@router.get("/api/reps/{rep_id}/evidence", summary="Records behind a number",
            tags=["reps"])
def evidence_json(ctx: Ctx, rep_id: RepId, practice: PracticeQuery, period: Period,
                  measure: MeasureQuery = None) -> dict[str, Any]:
    """Return the activities and opportunities behind a rep's effort or measure."""
    return evidence_data(ctx, rep_id, practice, measure, period)


@router.get("/reps/{rep_id}/evidence", include_in_schema=False)
def evidence_page(ctx: Ctx, rep_id: RepId, practice: PracticeQuery, period: Period,
                  measure: MeasureQuery = None) -> Response:
    """Show the records behind a number."""
    return render(ctx.request, "evidence.html",
                  {"data": evidence_data(ctx, rep_id, practice, measure, period),
                   "period": period})


@router.get("/api/reps/{rep_id}/plan.ics", summary="The rep's plan as calendar blocks",
            tags=["reps"], response_class=Response,
            responses={200: {"content": {"text/calendar": {}}}})
@router.get("/reps/{rep_id}/plan.ics", include_in_schema=False)
def plan_calendar(ctx: Ctx, rep_id: RepId) -> Response:
    """Download the rep's recommended weekly plan as an iCalendar file."""
    require_rep(ctx.visible, rep_id)
    body = plan_ics(ctx, rep_id)
    return Response(body, media_type="text/calendar", headers={
        "Content-Disposition": f'attachment; filename="plan-{_file_part(rep_id)}.ics"'})


def _file_part(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)[:60]
