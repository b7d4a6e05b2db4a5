"""The demo sales team: reps and managers, their weekly hours, skills and assessments.

Every rep gets a behaviour profile, an individual variation of the profile's time
allocation, a realised number of hours per practice for every simulated week
(holidays included) and a skill level per practice. The pipeline simulation and
the activity generator both read these arrays, so the time a rep logs is the
time that drives their outcomes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from wholejob.demo.profiles import (
    ALL_PRACTICES,
    PRACTICES,
    PROFILE_NAMES,
    PROFILES,
    assign_profiles,
)
from wholejob.demo.text import load_phrases

__all__ = ["TEAM_SIZE", "Calendar", "Team", "build_assessments", "build_team"]

TEAM_SIZE = 8
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Calendar:
    """The simulated weeks: a burn-in before the visible window, then ``weeks`` weeks.

    The burn-in fills the pipeline and the customer base before the window opens,
    so the first visible week already looks like a running business.
    """

    end: date
    weeks: int
    burn_in: int

    @property
    def total(self) -> int:
        """Number of simulated weeks, burn-in included."""
        return self.weeks + self.burn_in

    @property
    def sim_start(self) -> np.datetime64:
        """Monday of the first simulated week."""
        return np.datetime64(self.end - timedelta(weeks=self.total), "D")

    @property
    def window_start(self) -> date:
        """Monday of the first week that has activities."""
        return self.end - timedelta(weeks=self.weeks)


@dataclass(frozen=True)
class Team:
    """Sellers (the simulated reps) and everything the simulation needs about them."""

    rep_ids: list[str]
    profiles: list[str]
    profile_idx: IntArray
    region: IntArray
    weekly_hours: FloatArray
    allocation: FloatArray  # (reps, practices + other), shares summing to 1
    hours: FloatArray  # (reps, weeks, practices + other), realised hours per week
    skill: FloatArray  # (reps, practices + other), 0..1
    tag_rate: FloatArray  # share of a rep's activities carrying an explicit practice
    customer_book: FloatArray  # multiplier on the number of customers owned
    manager_ids: list[str]
    reps_table: pa.Table  # sellers and managers, in contract columns

    @property
    def n(self) -> int:
        """Number of sellers."""
        return len(self.rep_ids)


def _names(rng: np.random.Generator, n: int) -> list[str]:
    ph = load_phrases()
    first, last = ph.names("first"), ph.names("last")
    fi = rng.integers(0, len(first), n)
    la = rng.integers(0, len(last), n)
    return [f"{first[a]} {last[b]}" for a, b in zip(fi, la, strict=True)]


def _emails(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        base = name.lower().replace(" ", ".")
        k = seen.get(base, 0)
        seen[base] = k + 1
        out.append(f"{base}{k + 1 if k else ''}@demo-sales.example")
    return out


def build_team(reps: int, cal: Calendar, rng: np.random.Generator) -> Team:
    """Create ``reps`` sellers in teams of eight, their managers and a head of sales."""
    ph = load_phrases()
    profiles = assign_profiles(reps, rng)
    pidx = np.array([PROFILE_NAMES.index(p) for p in profiles], dtype=np.int64)
    n_prac = len(ALL_PRACTICES)

    base = np.stack([PROFILES[p].allocation() for p in PROFILE_NAMES])[pidx]
    # Individual taste varies around the profile, but a zero stays a zero.
    alloc = base * rng.lognormal(0.0, 0.15, (reps, n_prac))
    alloc /= alloc.sum(axis=1, keepdims=True)
    weekly = np.clip(np.round(rng.normal(40.0, 2.5, reps) * 2) / 2, 32.0, 50.0)

    # Realised weekly hours: daily noise per practice, and the odd holiday week.
    noise = rng.lognormal(0.0, 0.25, (reps, cal.total, n_prac))
    week_factor = np.where(
        rng.random((reps, cal.total)) < 0.04, 0.1, rng.normal(1.0, 0.05, (reps, cal.total))
    )
    hours = alloc[:, None, :] * noise
    hours *= (weekly[:, None] * week_factor / hours.sum(axis=2))[:, :, None]

    general = rng.normal(0.6, 0.08, reps)
    offsets = np.stack([PROFILES[p].skill_offsets() for p in PROFILE_NAMES])[pidx]
    skill = np.clip(general[:, None] + offsets + rng.normal(0, 0.08, (reps, n_prac)), 0.05, 0.98)

    # A quarter of reps tag most of their activities; the rest almost never do.
    tag_rate = np.where(rng.random(reps) < 0.25, 0.65, 0.03)
    book = np.array([PROFILES[p].customer_book for p in profiles])
    region = rng.integers(0, len(ph.names("regions")), reps)

    rep_ids = [f"R{i + 1:05d}" for i in range(reps)]
    n_teams = max(1, -(-reps // TEAM_SIZE))
    team_names = ph.names("teams")
    team_of = [
        f"{team_names[t % len(team_names)]}"
        + (f" {t // len(team_names) + 1}" if t >= len(team_names) else "")
        for t in range(n_teams)
    ]
    mgr_ids = [f"M{t + 1:04d}" for t in range(n_teams)]
    head_id = "H0001"
    rep_team = np.arange(reps) // TEAM_SIZE
    tenure_days = rng.integers(120, 8 * 365, reps)
    quota = np.round(rng.normal(800_000, 120_000, reps) / 10_000) * 10_000
    end = np.datetime64(cal.end, "D")

    names = _names(rng, reps + n_teams + 1)
    ids = [*rep_ids, *mgr_ids, head_id]
    team_col = [*(team_of[t] for t in rep_team), *team_of, None]
    mgr_col = [*(mgr_ids[t] for t in rep_team), *([head_id] * n_teams), None]
    role = ["rep"] * reps + ["manager"] * (n_teams + 1)
    team_quota = np.bincount(rep_team, weights=quota, minlength=n_teams)
    quota_col = np.concatenate([quota, team_quota, [quota.sum()]])
    hours_col = np.concatenate([weekly, np.full(n_teams + 1, 45.0)])
    hired = np.concatenate(
        [end - tenure_days, end - rng.integers(3 * 365, 12 * 365, n_teams + 1)]
    ).astype("datetime64[D]")
    reps_table = pa.table(
        {
            "rep_id": pa.array(ids, pa.string()),
            "name": pa.array(names, pa.string()),
            "email": pa.array(_emails(names), pa.string()),
            "team": pa.array(team_col, pa.string()),
            "manager_id": pa.array(mgr_col, pa.string()),
            "role": pa.array(role, pa.string()),
            "quota": pa.array(quota_col, pa.float64()),
            "weekly_hours": pa.array(hours_col, pa.float64()),
            "hired_on": pa.array(hired, pa.date32()),
        }
    )
    return Team(
        rep_ids=rep_ids,
        profiles=profiles,
        profile_idx=pidx,
        region=region,
        weekly_hours=weekly,
        allocation=alloc,
        hours=hours,
        skill=skill,
        tag_rate=tag_rate,
        customer_book=book,
        manager_ids=[mgr_ids[t] for t in rep_team],
        reps_table=reps_table,
    )


def _quarter_ends(start: date, end: date) -> list[date]:
    """Return calendar quarter ends in [start, end), or the day before end if none."""
    out = []
    for year in range(start.year, end.year + 1):
        for month, day in ((3, 31), (6, 30), (9, 30), (12, 31)):
            d = date(year, month, day)
            if start <= d < end:
                out.append(d)
    return out or [end - timedelta(days=1)]


def build_assessments(team: Team, cal: Calendar, rng: np.random.Generator) -> pa.Table:
    """Score every rep on every practice each quarter, by themselves and their manager.

    Scores follow the rep's skill with noise; reps rate themselves a little higher
    than their managers do, and skill grows slowly from quarter to quarter.
    """
    ph = load_phrases()
    dates = _quarter_ends(cal.window_start, cal.end)
    n, n_prac, n_q = team.n, len(PRACTICES), len(dates)
    skill = team.skill[:, : len(PRACTICES)]
    growth = 0.015 * np.arange(n_q)
    true = skill[:, None, :] + growth[None, :, None]  # (reps, quarters, practices)
    self_score = np.clip(np.rint(1 + 4 * true + 0.3 + rng.normal(0, 0.45, true.shape)), 1, 5)
    mgr_score = np.clip(np.rint(1 + 4 * true + rng.normal(0, 0.35, true.shape)), 1, 5)

    rep = np.broadcast_to(np.arange(n)[:, None, None], true.shape).ravel()
    q = np.broadcast_to(np.arange(n_q)[None, :, None], true.shape).ravel()
    prac = np.broadcast_to(np.arange(n_prac)[None, None, :], true.shape).ravel()
    rep_ids = np.array(team.rep_ids)
    mgr_ids = np.array(team.manager_ids)
    day = np.array(dates, dtype="datetime64[D]")

    notes = [ph.section("assessments", k) for k in ("low", "mid", "high")]
    score = mgr_score.ravel().astype(np.int64)
    level = np.where(score <= 2, 0, np.where(score >= 5, 2, 1))
    pick = rng.integers(0, 5, score.size)
    note_pool = np.array([[notes[lv][i % len(notes[lv])] for i in range(5)] for lv in range(3)])
    note = note_pool[level, pick]
    no_note = np.concatenate([np.ones(score.size, dtype=np.bool_), rng.random(score.size) >= 0.25])

    size = rep.size
    return pa.table(
        {
            "rep_id": pa.array(np.concatenate([rep_ids[rep], rep_ids[rep]])),
            "practice": pa.array(np.array(PRACTICES)[np.concatenate([prac, prac])]),
            "score": pa.array(
                np.concatenate([self_score.ravel(), mgr_score.ravel()]).astype(np.int64)
            ),
            "assessed_on": pa.array(np.concatenate([day[q], day[q]]), pa.date32()),
            "assessor_id": pa.array(np.concatenate([rep_ids[rep], mgr_ids[rep]])),
            "source": pa.array(np.repeat(np.array(["self", "manager"]), size)),
            "note": pa.array(np.concatenate([note, note]), pa.string(), mask=no_note),
        }
    )
