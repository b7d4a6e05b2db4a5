"""Build the scorecard: effort and effectiveness of every rep on every practice.

The work runs in the engine as a bounded number of grouped queries whatever the
number of reps: a few to prepare the shared tables (:mod:`.base`), one for
hours (:mod:`.hours`), one for the effort samples and one per measure family
(pipeline, deals, engagement, touches), each the union of its measures with
record counts and a bounded sample of record ids. Python then only assembles
aggregated rows into :class:`~wholejob.scorecard.Scorecard` and scores them
against peers (each measure's peers summarised once).

Peers are the reps a rep is compared with: the team given by ``team``, the
rep's own team when ``rep`` is given (everyone when the rep has no team), else
every rep in scope. Reps in scope have role ``rep`` (or none); managers come in
only when they own activities or opportunities.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import ibis

from wholejob.jobmodel import OTHER, JobModel, Measure, load_job_model
from wholejob.measures import scoring
from wholejob.measures.base import Inputs, prepare_inputs
from wholejob.measures.hours import Hours, effort_filter, measure_hours, sample_effort
from wholejob.measures.period import Period, resolve_period
from wholejob.measures.registry import FAMILIES, MEASURES
from wholejob.measures.spec import MeasureSpec
from wholejob.scorecard import (
    RECORD_ID_SAMPLE,
    MeasureValue,
    PracticeScore,
    RepScore,
    Scorecard,
)
from wholejob.workspace import Workspace

__all__ = ["build_scorecard", "trace"]

DEFAULT_WEEKLY_HOURS = 40.0

Row = dict[str, Any]


@dataclass(frozen=True)
class _Scope:
    reps: list[Row]  # reps reported, in rep_id order
    peers: list[str]  # rep ids compared with
    all_reps: bool  # peers are every rep in scope (no engine-side filter needed)


def _active_rep_ids(ws: Workspace) -> set[str]:
    a = ws.table("activities").select(rid=ibis._.rep_id)
    o = ws.table("opportunities").select(rid=ibis._.owner_id)
    rows = a.union(o).distinct().to_pyarrow().to_pylist()
    return {r["rid"] for r in rows}


def _scope(ws: Workspace, rep: str | None, team: str | None) -> _Scope:
    reps = ws.table("reps").order_by("rep_id").to_pyarrow().to_pylist()
    active = _active_rep_ids(ws)
    in_scope = [r for r in reps if r["role"] != "manager" or r["rep_id"] in active]
    if rep is not None:
        mine = [r for r in in_scope if r["rep_id"] == rep]
        if not mine:
            known = next((r for r in reps if r["rep_id"] == rep), None)
            if known is None:
                raise KeyError(f"unknown rep {rep!r}")
            mine = [known]  # an inactive manager asked for by id is still shown
        own_team = mine[0]["team"]
        peers = [r for r in in_scope if own_team is None or r["team"] == own_team]
        peer_ids = sorted({r["rep_id"] for r in peers} | {rep})
        return _Scope(mine, peer_ids, own_team is None and rep in {r["rep_id"] for r in in_scope})
    if team is not None:
        members = [r for r in in_scope if r["team"] == team]
        if not members:
            raise KeyError(f"unknown team {team!r} (or it has no reps)")
        return _Scope(members, [r["rep_id"] for r in members], False)
    return _Scope(in_scope, [r["rep_id"] for r in in_scope], True)


def _run_measures(inp: Inputs, specs: list[MeasureSpec]) -> dict[tuple[str, str], Row]:
    """Run each family's measures as one union query; key rows by (rep, measure)."""
    out: dict[tuple[str, str], Row] = {}
    for family in FAMILIES:
        parts = [
            s.compute(inp).mutate(measure_id=ibis.literal(s.measure_id))
            for s in specs if s.family == family
        ]
        if not parts:
            continue
        query = parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]
        # Keep the count and a bounded sample of the ids: at 10 M activities
        # the full lists run to tens of millions of ids; trace() returns them.
        ids = query.ids
        query = query.mutate(
            n_ids=ibis.ifelse(ids.isnull(), 0, ids.length()),
            ids=ids.sort()[:RECORD_ID_SAMPLE],
        )
        for r in query.to_pyarrow().to_pylist():
            out[(r["rep_id"], r["measure_id"])] = r
    return out


def _specs(model: JobModel, notes: list[str]) -> list[MeasureSpec]:
    specs = []
    for pid in model.practice_ids:
        for m in model.practices[pid].measures:
            spec = MEASURES.get(m.id)
            if spec is None:
                notes.append(f"measure {pid}.{m.id} has no implementation; it is not computed")
            else:
                specs.append(spec)
    return specs


def _value(spec: MeasureSpec, row: Row | None, rep_id: str, inp: Inputs,
           hours: Hours) -> Row | None:
    """Return the measure's row for a rep after the unknown-vs-zero rules, or None."""
    if spec.needs_activities and rep_id not in hours.reps:
        return None
    if spec.table == "opportunities" and not inp.has_opportunities:
        return None
    if row is not None:
        return row
    if spec.zero_when_absent:
        return {"numerator": 0.0, "denominator": None, "value": 0.0, "ids": [], "n_ids": 0}
    return None


def _measures(
    practice: str, model: JobModel, specs: dict[str, MeasureSpec], rows: dict[str, Row | None],
    peers: _PeerStats, table_of: dict[str, str],
) -> list[MeasureValue]:
    out = []
    for m in model.practices[practice].measures:
        spec = specs.get(m.id)
        if spec is None:
            continue
        out.append(_measure_value(m, spec, rows.get(m.id), peers, table_of[m.id]))
    return out


class _PeerStats:
    """Peer summaries of each measure, made once per measure and direction, not per rep."""

    def __init__(self, values: dict[str, list[float | None]]):
        self.values = values
        self._made: dict[tuple[str, bool], scoring.PeerValues] = {}

    def of(self, measure_id: str, higher: bool) -> scoring.PeerValues:
        key = (measure_id, higher)
        if key not in self._made:
            self._made[key] = scoring.PeerValues(self.values[measure_id], higher)
        return self._made[key]


def _measure_value(m: Measure, spec: MeasureSpec, row: Row | None,
                   peer_stats: _PeerStats, table: str) -> MeasureValue:
    higher = m.direction == "higher"
    peers = peer_stats.of(m.id, higher)
    value = None if row is None else row["value"]
    return MeasureValue(
        measure_id=m.id, practice=spec.practice, name=m.name, value=value, unit=spec.unit,
        higher_is_better=higher,
        numerator=None if row is None else row["numerator"],
        denominator=None if row is None else row["denominator"],
        team_median=peers.median,
        top_quartile=peers.top_quartile,
        target=spec.target,
        score=peers.score(value),
        # The engine sorted them: an aggregated collect has no order on any engine.
        record_ids={table: list(row["ids"] or [])} if row is not None else {},
        record_counts={table: int(row["n_ids"])} if row is not None else {},
    )


def build_scorecard(
    ws: Workspace,
    *,
    since: date | None = None,
    until: date | None = None,
    rep: str | None = None,
    team: str | None = None,
    model: JobModel | None = None,
) -> Scorecard:
    """Compute every rep's effort and effectiveness on all 18 practices.

    ``since``/``until`` bound the period (inclusive; missing bounds come from
    the data, see :mod:`wholejob.measures.period`). ``rep`` or ``team`` limit the
    reps reported and set the peers they are compared with. Unknown is None:
    reps without activities have unknown effort, while everything computable
    from opportunities is still computed. Raises ``KeyError`` for an unknown
    rep or team.
    """
    model = model or load_job_model(ws.config, source=str(ws.config_path))
    notes: list[str] = []
    scope = _scope(ws, rep, team)
    period = resolve_period(ws, since, until)
    if period is None:
        notes.append("no activities or opportunities: nothing to measure")
        return Scorecard(since, until, [], ws.config.currency, model.practice_ids,
                         [_empty_rep(r, model) for r in scope.reps], notes)
    specs = _specs(model, notes)
    inp = prepare_inputs(ws, model, period, None if scope.all_reps else scope.peers)
    try:
        hours = measure_hours(inp)
        samples = sample_effort(inp)
        raw = _run_measures(inp, specs)
    finally:
        inp.release()
    if not inp.has_activities:
        notes.append("no activities in this period: effort is unknown for every rep")
    if not inp.has_opportunities:
        notes.append("no opportunities: measures of deals and pipeline are unknown")
    by_id = {s.measure_id: s for s in specs}
    table_of = {s.measure_id: s.table for s in specs}
    # Every peer's rows after the unknown-vs-zero rules, for medians and scores.
    rows: dict[str, dict[str, Row | None]] = {
        rid: {s.measure_id: _value(s, raw.get((rid, s.measure_id)), rid, inp, hours)
              for s in specs}
        for rid in scope.peers
    }
    peer_values = {
        s.measure_id: [
            (row["value"] if (row := rows[rid][s.measure_id]) is not None else None)
            for rid in scope.peers
        ]
        for s in specs
    }
    peer_stats = _PeerStats(peer_values)
    effort = _Effort(model, period, hours, scope.peers)
    reps = []
    for r in scope.reps:
        rid = r["rep_id"]
        practices = {
            p: effort.practice_score(
                r, p, _measures(p, model, by_id, rows.get(rid, {}), peer_stats, table_of),
                samples.get(rid, {}).get(p, []),
            )
            for p in model.practice_ids
        }
        reps.append(RepScore(
            rep_id=rid, name=r["name"], team=r["team"], manager_id=r["manager_id"],
            role=r["role"] or "rep", weekly_hours=_weekly_hours(r), quota=r["quota"],
            practices=practices,
            selling_hours_per_week=effort.per_week(hours.selling(rid)),
            other_hours_per_week=effort.per_week(hours.total(rid, OTHER)),
        ))
    return Scorecard(period.since, period.until, period.weeks, ws.config.currency,
                     model.practice_ids, reps, notes)


def _weekly_hours(r: Row) -> float:
    return float(r["weekly_hours"]) if r["weekly_hours"] else DEFAULT_WEEKLY_HOURS


def _empty_rep(r: Row, model: JobModel) -> RepScore:
    empty = {
        p: PracticeScore(p, None, None, None, None, None, None, None, None, None, None)
        for p in model.practice_ids
    }
    return RepScore(r["rep_id"], r["name"], r["team"], r["manager_id"], r["role"] or "rep",
                    _weekly_hours(r), r["quota"], empty)


class _Effort:
    """Effort figures of reps from aggregated hours, with the peers' medians."""

    def __init__(self, model: JobModel, period: Period, hours: Hours, peers: list[str]):
        self.model, self.period, self.hours = model, period, hours
        self.key = {p: (f"tag_{p}" if p in model.account_ids else p) for p in model.all_ids}
        self.peer_hpw = {
            p: scoring.PeerValues([self.per_week(hours.total(rid, self.key[p]))
                                   for rid in peers])
            for p in model.all_ids
        }
        # Typical non-selling time: the peers' median `other` hours per week.
        self.typical_other = self.peer_hpw[OTHER].median

    def per_week(self, h: float | None) -> float | None:
        """Hours per week over the period, rounded to 0.01."""
        return None if h is None else round(h / self.period.n_weeks, 2)

    def practice_score(self, r: Row, p: str, measures: list[MeasureValue],
                       sample: list[str]) -> PracticeScore:
        """Assemble one practice of one rep."""
        rid = r["rep_id"]
        practice = self.model.practices[p]
        eff = scoring.effectiveness_score([m.score for m in measures])
        n_weeks = len(self.period.weeks)
        if practice.effort == "quality":
            return PracticeScore(p, None, None, None, None, None, None, None, None, None, eff,
                                 weekly_hours=[None] * n_weeks, measures=measures)
        capacity = _weekly_hours(r) - (self.typical_other or 0.0)
        capacity = max(capacity, 0.0)
        if practice.effort == "account":
            floor_s, target_s = practice.attribute_floor, practice.attribute_target
        else:
            floor_s, target_s = practice.floor_share, practice.target_share
        floor = None if floor_s is None else round(floor_s * capacity, 2)
        target = None if target_s is None else round(target_s * capacity, 2)
        key = self.key[p]
        h = self.hours.total(rid, key)
        hpw = self.per_week(h)
        selling = self.hours.selling(rid)
        weeks = self.hours.weekly(rid, key, n_weeks)
        weekly: list[float | None] = (
            [round(h, 2) for h in weeks] if weeks is not None else [None] * n_weeks
        )
        return PracticeScore(
            practice=p,
            hours=None if h is None else round(h, 2),
            hours_per_week=hpw,
            share=None if h is None or not selling else round(h / selling, 4),
            activities=self.hours.count(rid, key),
            floor_hours_per_week=floor,
            target_hours_per_week=target,
            team_median_hours_per_week=self.peer_hpw[p].median,
            top_quartile_hours_per_week=self.peer_hpw[p].top_quartile,
            effort_score=scoring.effort_score(hpw, floor, target),
            effectiveness_score=eff,
            weekly_hours=weekly,
            measures=measures,
            activity_ids_sample=sample,
        )


def trace(
    ws: Workspace,
    rep_id: str,
    practice: str,
    measure_id: str | None = None,
    *,
    since: date | None = None,
    until: date | None = None,
    model: JobModel | None = None,
) -> dict[str, list[str]]:
    """Return the ids of the records behind a rep's effort or one measure, by table.

    Without ``measure_id``: the activities counted as effort on ``practice`` in
    the period (``{"activities": [...]}``; empty for a practice with no time of
    its own). With it: the records behind the measure, as in
    :attr:`MeasureValue.record_ids`. Raises ``KeyError`` for an unknown rep,
    practice or measure.
    """
    model = model or load_job_model(ws.config, source=str(ws.config_path))
    if practice not in model.all_ids:
        raise KeyError(f"unknown practice {practice!r}")
    spec = None
    if measure_id is not None:
        if measure_id not in {m.id for m in model.practices[practice].measures}:
            raise KeyError(f"practice {practice!r} has no measure {measure_id!r}")
        spec = MEASURES.get(measure_id)
        if spec is None:
            raise KeyError(f"measure {measure_id!r} has no implementation")
    scope = _scope(ws, rep_id, None)
    period = resolve_period(ws, since, until)
    if period is None:
        return {}
    inp = prepare_inputs(ws, model, period, None if scope.all_reps else scope.peers)
    try:
        if spec is None:
            if model.practices[practice].effort == "quality":
                return {"activities": []}
            a = effort_filter(inp, practice)
            a = a.filter(a.rep_id == rep_id).order_by("started_at", "activity_id")
            ids = a.select("activity_id").to_pyarrow().column(0).to_pylist()
            return {"activities": [str(i) for i in ids]}
        t = spec.compute(inp)
        rows = t.filter(t.rep_id == rep_id).to_pyarrow().to_pylist()
        return {spec.table: sorted(str(i) for i in (rows[0]["ids"] or [])) if rows else []}
    finally:
        inp.release()
