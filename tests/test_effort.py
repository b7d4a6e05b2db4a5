"""Effort hours per rep and practice, on a hand-built workspace."""

from __future__ import annotations

from datetime import date

import pytest

from wholejob.effort import UNCLASSIFIED, effort_hours
from wholejob.workspace import init_workspace


@pytest.fixture
def ws(tmp_path):
    ws = init_workspace(tmp_path / "ws")
    raw = ws.raw
    raw.execute(
        "INSERT INTO reps (rep_id, name, role) VALUES "
        "('r1', 'Ann Lee', 'rep'), ('r2', 'Bo Diaz', 'rep'), ('m1', 'Max Moe', 'manager')"
    )
    raw.execute("INSERT INTO accounts (account_id, name) VALUES ('a1', 'Acme')")
    # r1: two labelled prospecting calls (30 + 45 min) in week 1, one closing meeting
    # (60 min) in week 2, one activity without a duration, one nothing recognises.
    raw.execute(
        """INSERT INTO activities (activity_id, rep_id, type, started_at, duration_minutes,
                                   subject, practice) VALUES
        ('x1', 'r1', 'call',    TIMESTAMP '2025-01-06 09:00', 30, 'dial', 'prospecting'),
        ('x2', 'r1', 'call',    TIMESTAMP '2025-01-07 09:00', 45, 'dial', 'prospecting'),
        ('x3', 'r1', 'meeting', TIMESTAMP '2025-01-13 10:00', 60, 'terms', 'closing'),
        ('x4', 'r1', 'email',   TIMESTAMP '2025-01-14 10:00', NULL, 'note', 'closing'),
        ('x5', 'r1', 'task',    TIMESTAMP '2025-01-19 10:00', 15, 'zzqx', NULL)"""
    )
    yield ws
    ws.close()


def test_hours_are_summed_per_rep_and_practice(ws):
    effort = effort_hours(ws)
    r1 = effort.hours["r1"]
    # 30 + 45 minutes = 1.25 h of prospecting
    assert r1["prospecting"] == pytest.approx(1.25)
    # 60 minutes + an email without duration = 1.0 h, but two activities
    assert r1["closing"] == pytest.approx(1.0)
    assert effort.activities["r1"]["closing"] == 2
    # 'zzqx' matches no rule, has no label, and the text model abstains: it knows
    # too little of the text to be MODEL_MIN_CONFIDENCE sure
    assert r1[UNCLASSIFIED] == pytest.approx(0.25)
    # recorded but none: zero, not unknown
    assert r1["referrals"] == 0.0
    # the period runs from 2025-01-06 to 2025-01-19: 14 days = 2 weeks
    assert effort.weeks == pytest.approx(2.0)
    assert effort.per_week("r1", "prospecting") == pytest.approx(0.625)


def test_reps_without_activities_are_unknown_not_zero(ws):
    effort = effort_hours(ws)
    assert all(v is None for v in effort.hours["r2"].values())
    assert effort.per_week("r2", "prospecting") is None
    by_id = {r["rep_id"]: r for r in effort.to_json()["reps"]}
    assert by_id["r2"]["hours"]["prospecting"] is None
    assert by_id["r1"]["hours"]["prospecting"] == pytest.approx(1.25)


def test_period_filter(ws):
    effort = effort_hours(ws, since=date(2025, 1, 13), until=date(2025, 1, 19))
    assert effort.hours["r1"]["prospecting"] == 0.0
    assert effort.hours["r1"]["closing"] == pytest.approx(1.0)
    assert effort.weeks == pytest.approx(1.0)


def test_no_activities_at_all_is_reported(tmp_path):
    ws = init_workspace(tmp_path / "empty")
    ws.raw.execute("INSERT INTO reps (rep_id, name) VALUES ('r1', 'Ann')")
    effort = effort_hours(ws)
    assert effort.hours["r1"]["prospecting"] is None
    assert effort.weeks is None
    assert "effort is unknown" in effort.notes[0]
    ws.close()


def test_the_text_model_decides_what_no_rule_recognises(ws):
    ws.raw.execute(
        """INSERT INTO activities (activity_id, rep_id, type, started_at, duration_minutes,
                                   subject) VALUES
        ('x6', 'r1', 'task', TIMESTAMP '2025-01-08 09:00', 90,
         'dialled thirty numbers this morning')"""
    )
    effort = effort_hours(ws)
    # no rule knows "dialled"; the model reads it as prospecting
    assert effort.hours["r1"]["prospecting"] == pytest.approx(1.25 + 1.5)
    assert effort.hours["r1"][UNCLASSIFIED] == pytest.approx(0.25)
