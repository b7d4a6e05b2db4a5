"""The balance index: one number per rep, explained by the practices that pull it down."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from wholejob.balance import (
    FLOOR_SHORTFALL,
    balance_index,
    balance_profile,
    effort_shortfall,
    practice_weights,
    team_balance,
    with_balance,
)
from wholejob.jobmodel import load_job_model
from wholejob.scorecard import PracticeScore, RepScore, Scorecard

MODEL = load_job_model()
SELLING = 35.0
WEEKS = [date(2025, 1, 6) + timedelta(weeks=i) for i in range(8)]


def practice(pid: str, hours: float | None, effectiveness: float | None = 50.0) -> PracticeScore:
    p = MODEL.practices[pid]
    timed = p.effort != "quality"
    return PracticeScore(
        practice=pid,
        hours=None if hours is None or not timed else hours * len(WEEKS),
        hours_per_week=hours if timed else None,
        share=None if hours is None or not timed else hours / SELLING,
        activities=None,
        floor_hours_per_week=(p.floor_share or 0) * SELLING if timed else None,
        target_hours_per_week=(p.target_share or 0) * SELLING if timed else None,
        team_median_hours_per_week=None,
        top_quartile_hours_per_week=None,
        effort_score=None,
        effectiveness_score=effectiveness,
        weekly_hours=[hours] * len(WEEKS) if hours is not None and timed else [],
    )


def rep(rep_id: str = "R1", hours: dict[str, float | None] | None = None,
        effectiveness: dict[str, float | None] | None = None,
        default: float | None = None) -> RepScore:
    """A rep at target on every practice, unless told otherwise."""
    hours = hours or {}
    effectiveness = effectiveness or {}
    practices = {}
    for pid in MODEL.selling_ids:
        target = (MODEL.practices[pid].target_share or 0) * SELLING
        h = hours.get(pid, target if default is None else default)
        practices[pid] = practice(pid, h, effectiveness.get(pid, 50.0))
    return RepScore(rep_id, rep_id, "East", "M1", "rep", 40.0, 800_000.0, practices,
                    selling_hours_per_week=SELLING, other_hours_per_week=5.0)


def test_a_rep_at_target_with_median_effectiveness_scores_100():
    index, drag = balance_index(rep(), MODEL)
    assert index == 100.0
    assert drag == []


def test_drag_sums_to_the_distance_from_100_and_names_the_culprit():
    r = rep(hours={"prospecting": 0.0, "referrals": 0.3}, effectiveness={"closing": 10.0})
    index, drag = balance_index(r, MODEL)
    assert index is not None
    assert sum(d["points"] for d in drag) == pytest.approx(100 - index, abs=1e-9)
    assert drag[0]["practice"] == "prospecting"
    assert "below the 3.5 h floor" in drag[0]["why"]
    assert {d["practice"] for d in drag} == {"prospecting", "referrals", "closing"}
    assert [d["points"] for d in drag] == sorted((d["points"] for d in drag), reverse=True)


def test_absent_prospecting_costs_its_weight_in_effort():
    # Effort shortfall 1 on prospecting, effectiveness at par: drag = 100 x w x 0.6.
    w = practice_weights(MODEL)["prospecting"]
    index, drag = balance_index(rep(hours={"prospecting": 0.0}), MODEL)
    assert drag[0]["points"] == pytest.approx(round(100 * w * 0.6, 1))
    assert index == pytest.approx(100 - drag[0]["points"])


def test_effort_shortfall_is_piecewise_between_zero_floor_and_target():
    assert effort_shortfall(0.0, 2.0, 4.0) == 1.0
    assert effort_shortfall(2.0, 2.0, 4.0) == FLOOR_SHORTFALL
    assert effort_shortfall(3.0, 2.0, 4.0) == pytest.approx(FLOOR_SHORTFALL / 2)
    assert effort_shortfall(4.0, 2.0, 4.0) == 0.0
    assert effort_shortfall(9.0, 2.0, 4.0) == 0.0
    assert effort_shortfall(1.0, 2.0, 4.0) == pytest.approx(FLOOR_SHORTFALL + 0.75 / 2)
    assert effort_shortfall(1.0, None, None) is None


def test_heavy_overinvestment_pulls_the_index_down():
    social_target = MODEL.practices["social_selling"].target_share * SELLING
    index, drag = balance_index(rep(hours={"social_selling": 6 * social_target}), MODEL)
    assert index is not None and index < 100
    assert drag[0]["practice"] == "social_selling"
    assert "crowding out" in drag[0]["why"]


def test_weights_cover_all_18_practices_and_sum_to_one():
    w = practice_weights(MODEL)
    assert set(w) == set(MODEL.selling_ids)
    assert sum(w.values()) == pytest.approx(1.0)
    assert w["value_creation"] > 0  # a quality of all time still counts
    assert w["prospecting"] > w["referrals"]


def test_quality_practices_count_by_effectiveness_only():
    profile = {b.practice: b for b in balance_profile(rep(effectiveness={"value_creation": 0.0}),
                                                      MODEL)}
    vc = profile["value_creation"]
    assert vc.effort_shortfall is None
    assert vc.effectiveness_shortfall == 1.0
    assert vc.shortfall == 1.0
    assert len(profile) == 18


def test_unknown_effort_gives_no_index_and_says_why():
    index, drag = balance_index(rep(default=None, hours={p: None for p in MODEL.selling_ids}),
                                MODEL)
    assert index is None
    assert drag[0]["practice"] is None and drag[0]["points"] is None
    assert "unknown" in drag[0]["why"]


def test_unknown_effectiveness_leaves_effort_alone():
    r = rep(hours={"prospecting": 0.0}, effectiveness={p: None for p in MODEL.selling_ids})
    w = practice_weights(MODEL)["prospecting"]
    index, drag = balance_index(r, MODEL)
    assert drag[0]["points"] == pytest.approx(round(100 * w, 1))
    assert index == pytest.approx(100 - drag[0]["points"])


def test_with_balance_fills_every_rep_and_team_view_is_reps_by_practices():
    sc = Scorecard(None, None, WEEKS, "USD", MODEL.selling_ids,
                   [rep("R1"), rep("R2", hours={"prospecting": 0.5}),
                    rep("R3", default=None, hours={p: None for p in MODEL.selling_ids})])
    filled = with_balance(sc, MODEL)
    assert filled.reps[0].balance_index == 100.0
    assert filled.reps[1].balance_index is not None and filled.reps[1].balance_index < 100
    assert filled.reps[1].balance_drag[0]["practice"] == "prospecting"
    assert filled.reps[2].balance_index is None
    view = team_balance(sc, MODEL)
    assert view["practices"] == MODEL.selling_ids
    assert set(view["reps"][1]["practices"]) == set(MODEL.selling_ids)
    assert view["reps"][1]["practices"]["prospecting"]["points"] > 0
    assert "reason" in view["reps"][2]
