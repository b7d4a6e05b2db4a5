"""A small, deterministic hand-made scorecard for report previews and tests.

It needs no workspace: reps, weekly hours, measures and findings are drawn from
a seeded generator around the packaged job model's floors and targets, with the
gaps real data has (a rep with no activities, practices with no time of their
own, measures with no denominator).
"""

from __future__ import annotations

import random
import statistics
from datetime import date, timedelta

from wholejob.jobmodel import OTHER, PRACTICE_IDS, JobModel, load_job_model
from wholejob.scorecard import Finding, MeasureValue, PracticeScore, RepScore, Scorecard

__all__ = ["sample_findings", "sample_scorecard"]

_NAMES = ["Ada Lovell", "Ben Okafor", "Chloé Martin", "Dev Patel", "Eva Lindqvist",
          "Farid Haddad", "Grace Ho", "Hugo Brandt"]
_UNITS = {"rate": "ratio", "share": "ratio", "days": "days", "time": "days",
          "pipeline": "currency", "bookings": "currency", "size": "currency"}

_SCALE = {"ratio": 1.0, "days": 60.0, "currency": 100_000.0, "count": 10.0}


def _unit(measure_id: str) -> str:
    for word, unit in _UNITS.items():
        if word in measure_id:
            return unit
    return "count"


def sample_scorecard(
    reps: int = 5, weeks: int = 8, *, seed: int = 0, model: JobModel | None = None,
    unknown_rep: bool = True,
) -> Scorecard:
    """Return a scorecard of ``reps`` reps over ``weeks`` weeks (the last rep unknown)."""
    m = model or load_job_model()
    rng = random.Random(seed)
    start = date(2024, 1, 1)
    week_starts = [start + timedelta(weeks=i) for i in range(weeks)]
    selling = 32.0
    raw: list[dict[str, list[float | None]]] = []
    for r in range(reps):
        unknown = unknown_rep and r == reps - 1 and reps > 1
        bias = {p: rng.uniform(0.2, 2.4) for p in PRACTICE_IDS}
        rep_weeks: dict[str, list[float | None]] = {}
        for pid in (*PRACTICE_IDS, OTHER):
            p = m.practices[pid]
            if unknown or p.effort == "quality":
                rep_weeks[pid] = [None] * weeks
                continue
            base = (p.target_share or 0.05) * selling * bias.get(pid, 1.0)
            if pid == OTHER:
                base = 8.0
            rep_weeks[pid] = [round(max(0.0, rng.gauss(base, base * 0.3)), 2)
                              for _ in range(weeks)]
        raw.append(rep_weeks)

    def per_week(series: list[float | None]) -> float | None:
        known = [h for h in series if h is not None]
        return sum(known) / weeks if known else None

    medians: dict[str, float | None] = {}
    quartiles: dict[str, float | None] = {}
    for pid in (*PRACTICE_IDS, OTHER):
        vals = sorted(v for rw in raw if (v := per_week(rw[pid])) is not None)
        medians[pid] = statistics.median(vals) if vals else None
        quartiles[pid] = vals[int(len(vals) * 0.75)] if vals else None

    out: list[RepScore] = []
    for r, rep_weeks in enumerate(raw):
        selling_total = sum(per_week(rep_weeks[p]) or 0.0 for p in PRACTICE_IDS)
        practices: dict[str, PracticeScore] = {}
        for pid in (*PRACTICE_IDS, OTHER):
            p = m.practices[pid]
            hpw = per_week(rep_weeks[pid])
            floor = None if pid == OTHER else (p.floor_share or 0.0) * selling
            target = None if pid == OTHER else (p.target_share or 0.0) * selling
            measures = [
                MeasureValue(
                    measure_id=mm.id, practice=pid, name=mm.name,
                    value=None if rng.random() < 0.1 else round(rng.uniform(0.1, 0.9)
                                                                 * _SCALE[_unit(mm.id)], 3),
                    unit=_unit(mm.id), higher_is_better=mm.direction == "higher",
                    team_median=0.5 * _SCALE[_unit(mm.id)],
                    top_quartile=0.7 * _SCALE[_unit(mm.id)],
                    score=round(rng.uniform(10, 95)), record_ids={"opportunities": [f"O{r}1"]},
                    record_counts={"opportunities": 1},
                ) for mm in p.measures
            ]
            known_scores = [x.score for x in measures if x.score is not None]
            practices[pid] = PracticeScore(
                practice=pid,
                hours=None if hpw is None else round(hpw * weeks, 2),
                hours_per_week=None if hpw is None else round(hpw, 2),
                share=None if hpw is None or not selling_total or pid == OTHER
                else round(hpw / selling_total, 4),
                activities=None if hpw is None else int(hpw * weeks * 1.5),
                floor_hours_per_week=floor,
                target_hours_per_week=target,
                team_median_hours_per_week=medians[pid],
                top_quartile_hours_per_week=quartiles[pid],
                effort_score=None if hpw is None else round(rng.uniform(5, 95)),
                effectiveness_score=round(statistics.mean(known_scores)) if known_scores
                else None,
                weekly_hours=rep_weeks[pid],
                measures=measures,
            )
        below = [pid for pid in PRACTICE_IDS
                 if (ps := practices[pid]).hours_per_week is not None
                 and ps.floor_hours_per_week and ps.hours_per_week < ps.floor_hours_per_week]
        known = practices[PRACTICE_IDS[0]].hours_per_week is not None
        out.append(RepScore(
            rep_id=f"R{r + 1}", name=_NAMES[r % len(_NAMES)], team="East" if r % 2 else "West",
            manager_id="M1", role="rep", weekly_hours=40.0, quota=1_000_000.0,
            practices=practices,
            selling_hours_per_week=round(selling_total, 2) if known else None,
            other_hours_per_week=per_week(rep_weeks[OTHER]),
            balance_index=round(100 - 4.5 * len(below), 1) if known else None,
            balance_drag=[{"practice": pid, "points": 4.5,
                           "why": f"{pid} below its floor"} for pid in below[:4]],
        ))
    return Scorecard(since=week_starts[0], until=week_starts[-1] + timedelta(days=6),
                     weeks=week_starts, currency="USD", practices=list(PRACTICE_IDS), reps=out,
                     notes=["sample data"])


def sample_findings(scorecard: Scorecard) -> list[Finding]:
    """Return one neglect finding per rep below the floor on prospecting or closing."""
    out: list[Finding] = []
    for rep in scorecard.reps:
        for d in rep.balance_drag[:2]:
            ps = rep.practices[d["practice"]]
            out.append(Finding(
                rep_id=rep.rep_id, practice=d["practice"], kind="neglected",
                severity="high" if d is rep.balance_drag[0] else "medium",
                evidence={"hours_per_week": ps.hours_per_week,
                          "floor_hours_per_week": ps.floor_hours_per_week,
                          "team_median_hours_per_week": ps.team_median_hours_per_week,
                          "record_ids": {"activities": ["A1", "A2"]}},
                consequence=f"{d['practice']} at {ps.hours_per_week} h/week: pipeline thins out",
                recommendation=f"Block {ps.floor_hours_per_week:.0f} h/week for {d['practice']}",
                money_at_stake=-120_000.0,
            ))
    return out
