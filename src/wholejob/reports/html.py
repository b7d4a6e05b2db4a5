"""The HTML report: one self-contained file with the team heatmap and a section per rep.

Everything is inline (CSS and SVG); there is no script and no reference to
anything outside the file, so it opens offline, attaches to an email and prints.
The Jinja template is package data (``wholejob/templates/report.html.j2``) and
renders with autoescaping on: names, findings and evidence are data, never markup.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from wholejob.jobmodel import OTHER, JobModel, load_job_model
from wholejob.reports.charts import effort_trend, rep_radar, team_heatmap
from wholejob.reports.labels import (
    ABBREVIATIONS,
    DOCS,
    STATE_COLOURS,
    STATE_LABELS,
    effort_state,
    format_hours,
    format_money,
    format_score,
    format_value,
    scorecard_practices,
    sellers,
)
from wholejob.reports.svg import render_svg
from wholejob.scorecard import Finding, RepScore, Scorecard

__all__ = ["render_html", "write_html"]

TEMPLATE = "report.html.j2"
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
DRAG_SHOWN = 6


@functools.lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    def load(name: str) -> str:
        return resources.files("wholejob").joinpath("templates", name).read_text(
            encoding="utf-8"
        )

    return jinja2.Environment(
        loader=jinja2.FunctionLoader(load),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(
    scorecard: Scorecard,
    findings: Sequence[Finding] = (),
    model: JobModel | None = None,
    *,
    title: str = "",
    scope: str = "",
    generated_on: date | None = None,
) -> str:
    """Render the report as one HTML document (a string).

    ``scope`` names what the report covers (a team or a rep) in the heading;
    ``generated_on`` is printed when given, so the same inputs give the same file.
    """
    m = model or load_job_model()
    context = _context(scorecard, list(findings), m, title=title, scope=scope,
                       generated_on=generated_on)
    return _environment().get_template(TEMPLATE).render(**context)


def write_html(path: Path | str, scorecard: Scorecard, findings: Sequence[Finding] = (),
               model: JobModel | None = None, **options: Any) -> Path:
    """Render the report and write it to ``path`` (UTF-8); return the path."""
    out = Path(path)
    out.write_text(render_html(scorecard, findings, model, **options), encoding="utf-8")
    return out


def _period(scorecard: Scorecard) -> str:
    since = scorecard.since or (scorecard.weeks[0] if scorecard.weeks else None)
    until = scorecard.until
    if since is None and until is None:
        return "all data"
    weeks = f" ({len(scorecard.weeks)} weeks)" if scorecard.weeks else ""
    return f"{since.isoformat() if since else '…'} to {until.isoformat() if until else '…'}{weeks}"


def _context(scorecard: Scorecard, findings: list[Finding], model: JobModel, *, title: str,
             scope: str, generated_on: date | None) -> dict[str, Any]:
    practices = scorecard_practices(scorecard)
    reps = sellers(scorecard)
    heatmap = team_heatmap(scorecard, model)
    by_rep: dict[str, list[Finding]] = {}
    for f in sorted(findings, key=_finding_rank):
        by_rep.setdefault(f.rep_id, []).append(f)
    indices = [r.balance_index for r in reps if r.balance_index is not None]
    states = [s for row in heatmap.series for s in row.states]
    names = {pid: p.name for pid, p in model.practices.items()}
    return {
        "title": title or "Whole-job balance report",
        "scope": scope,
        "period": _period(scorecard),
        "currency": scorecard.currency,
        "generated_on": generated_on.isoformat() if generated_on else "",
        "notes": scorecard.notes,
        "summary": {
            "reps": len(reps),
            "median_balance": _median(indices),
            "below_floor": states.count("below_floor"),
            "unknown": states.count("unknown"),
            "findings": len(findings),
        },
        "heatmap_svg": Markup(render_svg(heatmap, id_prefix="team", xmlns=False)),
        "reps": [_rep_context(rep, scorecard, by_rep.get(rep.rep_id, []), model, practices,
                              names, i)
                 for i, rep in enumerate(reps)],
        "legend": [{"label": STATE_LABELS[s], "colour": c, "state": s}
                   for s, c in STATE_COLOURS.items() if s != "unscored"],
        "practices": [_practice_doc(pid, model) for pid in practices],
        "docs": DOCS,
    }


def _median(values: list[float]) -> str:
    if not values:
        return "?"
    v = sorted(values)
    mid = len(v) // 2
    return f"{(v[mid] if len(v) % 2 else (v[mid - 1] + v[mid]) / 2):.0f}"


def _finding_rank(f: Finding) -> tuple[int, float]:
    return SEVERITY_ORDER.get(f.severity, 3), -(abs(f.money_at_stake or 0.0))


def _rep_context(rep: RepScore, scorecard: Scorecard, findings: list[Finding], model: JobModel,
                 practices: list[str], names: dict[str, str], index: int) -> dict[str, Any]:
    rows = []
    quality = set(model.quality_ids)
    for pid in practices:
        ps = rep.practices.get(pid)
        st = effort_state(ps, quality=pid in quality)
        rows.append({
            "practice": names.get(pid, pid),
            "abbr": ABBREVIATIONS.get(pid, pid),
            "state": st.state,
            "state_label": st.label,
            "hours": "\u2013" if st.state == "not_time" else format_hours(st.hours_per_week),
            "floor": format_hours(ps.floor_hours_per_week if ps else None),
            "target": format_hours(ps.target_hours_per_week if ps else None),
            "median": format_hours(ps.team_median_hours_per_week if ps else None),
            "effort_score": format_score(ps.effort_score if ps else None),
            "effectiveness": format_score(ps.effectiveness_score if ps else None),
            "effectiveness_value": ps.effectiveness_score if ps else None,
            "measures": [{
                "name": mv.name,
                "value": format_value(mv.value, mv.unit, scorecard.currency),
                "median": format_value(mv.team_median, mv.unit, scorecard.currency),
                "top": format_value(mv.top_quartile, mv.unit, scorecard.currency),
                "score": format_score(mv.score),
                "better": "higher" if mv.higher_is_better else "lower",
            } for mv in (ps.measures if ps else [])],
        })
    drag = [{
        "practice": names.get(str(d["practice"]), str(d["practice"]))
        if d.get("practice") is not None else "",
        "points": _points(d.get("points")),
        "why": str(d.get("why", "")),
    } for d in rep.balance_drag]
    rest = drag[DRAG_SHOWN:]
    drag_rest = ""
    if rest:
        total = sum(float(d.get("points") or 0) for d in rep.balance_drag[DRAG_SHOWN:])
        drag_rest = f"{len(rest)} more practices take {total:.1f} points together: " + ", ".join(
            f"{d['practice']} {d['points']}" for d in rest)
    other = rep.practices.get(OTHER)
    return {
        "anchor": f"rep-{index + 1}",
        "rep_id": rep.rep_id,
        "name": rep.name,
        "team": rep.team or "",
        "balance_index": "?" if rep.balance_index is None else f"{rep.balance_index:.0f}",
        "selling": format_hours(rep.selling_hours_per_week),
        "other": format_hours(rep.other_hours_per_week if rep.other_hours_per_week is not None
                              else (other.hours_per_week if other else None)),
        "weekly_hours": f"{rep.weekly_hours:g}",
        "quota": format_money(rep.quota, scorecard.currency) if rep.quota else "",
        "radar_svg": Markup(render_svg(rep_radar(rep, scorecard, model),
                                       id_prefix=f"radar-{index + 1}", xmlns=False)),
        "trend_svg": Markup(render_svg(effort_trend(rep, scorecard, model),
                                       id_prefix=f"trend-{index + 1}", xmlns=False)),
        "drag": drag[:DRAG_SHOWN],
        "drag_rest": drag_rest,
        "rows": rows,
        "findings": [_finding_context(f, names, scorecard.currency) for f in findings],
    }


def _points(value: Any) -> str:
    if isinstance(value, int | float):
        return f"\u2212{abs(value):.1f}"
    return "" if value is None else str(value)


def _finding_context(f: Finding, names: dict[str, str], currency: str) -> dict[str, Any]:
    return {
        "practice": names.get(f.practice, f.practice),
        "kind": f.kind,
        "severity": f.severity,
        "consequence": f.consequence,
        "recommendation": f.recommendation,
        "money": format_money(f.money_at_stake, currency) if f.money_at_stake is not None
        else "",
        "evidence": [{"key": k.replace("_", " "), "value": _evidence_value(v)}
                     for k, v in f.evidence.items()
                     if k != "measures" and not k.endswith(("_ids", "_ids_sample"))],
        "measures": _evidence_measures(f.evidence.get("measures"), currency),
        "records": [{"key": k.replace("_", " "), "value": _evidence_value(v, 8)}
                    for k, v in f.evidence.items() if k.endswith(("_ids", "_ids_sample"))],
    }


def _evidence_measures(value: Any, currency: str) -> list[str]:
    """Spell the measures quoted as evidence, one line each with a sample of record ids."""
    if not isinstance(value, dict):
        return []
    out = []
    for mid, m in value.items():
        if not isinstance(m, dict):
            out.append(f"{mid}: {_evidence_value(m)}")
            continue
        unit = str(m.get("unit") or "")
        line = f"{m.get('name') or mid}: {format_value(m.get('value'), unit, currency)}"
        if m.get("team_median") is not None:
            line += f" (team median {format_value(m.get('team_median'), unit, currency)})"
        if m.get("numerator") is not None and m.get("denominator") is not None:
            line += f"; {_evidence_value(m['numerator'])} of {_evidence_value(m['denominator'])}"
        records = m.get("record_ids")
        if isinstance(records, dict) and any(records.values()):
            line += "; records " + _records(records, m.get("record_counts"), 5)
        out.append(line)
    return out


def _records(records: dict[str, Any], counts: Any, limit: int) -> str:
    """Spell a measure's sample of record ids; "(+N more)" counts every record behind it."""
    out = []
    for table, ids in records.items():
        if not ids:
            continue
        items = [str(i) for i in ids][:limit]
        total = counts.get(table) if isinstance(counts, dict) else None
        total = total if isinstance(total, int) else len(ids)
        more = f" (+{total - len(items)} more)" if total > len(items) else ""
        out.append(f"{table}: {', '.join(items)}{more}")
    return "; ".join(out)


def _evidence_value(value: Any, limit: int = 12) -> str:
    """Spell an evidence value in one line; long id lists are cut with a count."""
    if value is None:
        return "unknown"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if value % 1 else f"{value:,.0f}"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_evidence_value(v, limit)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        items = [str(v) for v in value]
        more = f" (+{len(items) - limit} more)" if len(items) > limit else ""
        return ", ".join(items[:limit]) + more
    return str(value)


def _practice_doc(pid: str, model: JobModel) -> dict[str, Any]:
    p = model.practices[pid]
    return {
        "id": pid,
        "abbr": ABBREVIATIONS.get(pid, pid),
        "name": p.name,
        "group": p.group,
        "effort": p.effort_summary,
        "floor": _share(p.floor_share),
        "target": _share(p.target_share),
        "measures": [{"id": mm.id, "name": mm.name, "formula": mm.formula,
                      "direction": mm.direction} for mm in p.measures],
    }


def _share(value: float | None) -> str:
    return "\u2013" if value is None else f"{value * 100:.0f}%"

