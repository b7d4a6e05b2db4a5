"""Findings on hand-built scorecards: each kind, sustained neglect, unknown effort, order."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta

from wholejob.findings import diagnose, findings_json
from wholejob.jobmodel import load_job_model
from wholejob.scorecard import MeasureValue, PracticeScore, RepScore, Scorecard

MODEL = load_job_model()
SELLING = 35.0
N_WEEKS = 8
WEEKS = [date(2025, 1, 6) + timedelta(weeks=i) for i in range(N_WEEKS)]
# What a balanced rep logs per week (the demo's balanced profile).
BALANCED = {
    "prospecting": 7.0, "referrals": 1.5, "icp_focus": 1.0, "qualification": 3.0,
    "customer_understanding": 2.5, "relationships": 2.5, "insight": 1.5,
    "buying_process": 2.0, "value_creation": 0.0, "sales_process": 2.0, "proposals": 2.0,
    "closing": 2.5, "new_logos": 2.0, "account_growth": 3.0, "social_selling": 1.5,
    "call_planning": 1.5, "land_and_expand": 1.0, "marketing_alignment": 1.0,
}


def mv(mid: str, practice: str, value: float | None, *, unit: str = "ratio",
       num: float | None = None, den: float | None = None, median: float | None = None,
       higher: bool = True, ids: list[str] | None = None) -> MeasureValue:
    return MeasureValue(mid, practice, mid.replace("_", " "), value, unit, higher, num, den,
                        median, record_ids={"opportunities": ids or []})


def ps(pid: str, weekly: list[float | None] | None, eff: float | None = 50.0,
       measures: list[MeasureValue] | None = None) -> PracticeScore:
    p = MODEL.practices[pid]
    timed = p.effort != "quality"
    known = [w for w in weekly or [] if w is not None]
    hpw = sum(known) / N_WEEKS if weekly is not None and timed else None
    return PracticeScore(
        practice=pid, hours=None if hpw is None else hpw * N_WEEKS, hours_per_week=hpw,
        share=None if hpw is None else hpw / SELLING, activities=None,
        floor_hours_per_week=(p.floor_share or 0) * SELLING if timed else None,
        target_hours_per_week=(p.target_share or 0) * SELLING if timed else None,
        team_median_hours_per_week=None, top_quartile_hours_per_week=None,
        effort_score=None, effectiveness_score=eff,
        weekly_hours=(weekly or []) if timed else [], measures=measures or [],
        activity_ids_sample=[f"A-{pid}-{i}" for i in range(3)],
    )


def make_rep(rep_id: str, weekly: dict[str, list[float | None] | None] | None = None,
             eff: dict[str, float] | None = None,
             measures: dict[str, list[MeasureValue]] | None = None,
             role: str = "rep") -> RepScore:
    weekly = weekly or {}
    practices = {
        pid: ps(pid, weekly.get(pid, [BALANCED[pid]] * N_WEEKS), (eff or {}).get(pid, 50.0),
                (measures or {}).get(pid))
        for pid in MODEL.selling_ids
    }
    return RepScore(rep_id, f"Rep {rep_id}", "East", "M1", role, 40.0, 800_000.0, practices,
                    selling_hours_per_week=SELLING, other_hours_per_week=5.0)


def team(*special: RepScore, size: int = 8) -> Scorecard:
    others = [make_rep(f"B{i}") for i in range(size - len(special))]
    return Scorecard(WEEKS[0], WEEKS[-1] + timedelta(days=6), WEEKS, "EUR",
                     MODEL.selling_ids, [*special, *others])


def only(findings, rep_id="R1"):
    return [(f.practice, f.kind) for f in findings if f.rep_id == rep_id]


def test_a_balanced_team_has_no_findings():
    assert diagnose(team(), MODEL) == []


def test_neglected_prospecting_with_pipeline_consequence_and_money():
    measures = {"prospecting": [
        mv("self_sourced_pipeline", "prospecting", 4000.0, unit="per_week", median=20000.0),
        mv("pipeline_vs_needed", "prospecting", 0.25, num=100_000.0, den=400_000.0,
           ids=["O1", "O2"]),
    ], "qualification": [mv("win_rate", "qualification", 0.25, num=5, den=20)]}
    r = make_rep("R1", {"prospecting": [0.5] * N_WEEKS}, measures=measures)
    [f] = diagnose(team(r), MODEL)
    assert (f.practice, f.kind, f.severity) == ("prospecting", "neglected", "high")
    assert f.evidence["hours_per_week"] == 0.5
    assert f.evidence["weeks_below_reference"] == N_WEEKS
    assert f.evidence["measures"]["pipeline_vs_needed"]["record_ids"] == {
        "opportunities": ["O1", "O2"]}
    assert f.evidence["activity_ids_sample"] == ["A-prospecting-0", "A-prospecting-1",
                                                 "A-prospecting-2"]
    assert "25% of the pipeline needed for quota coverage" in f.consequence
    assert "EUR 4k/week" in f.consequence
    # 300k pipeline short of the need at a 25 % win rate.
    assert f.money_at_stake == 75_000.0
    assert "-EUR 75k" in f.consequence
    assert "block 2 x 90 min of prospecting on Tue/Thu mornings" in f.recommendation
    assert "3.5 h/week floor" in f.recommendation


def test_a_one_week_dip_is_not_neglect():
    r = make_rep("R1", {"prospecting": [7, 7, 7, 0, 7, 7, 7, 7],
                        "referrals": [1.5, 1.5, 0, 0, 1.5, 1.5, 1.5, 1.5]})
    assert diagnose(team(r), MODEL) == []


def test_lumpy_effort_concentrated_in_one_week_is_still_neglect():
    r = make_rep("R1", {"prospecting": [0, 0, 0, 0, 0, 0, 0, 6]})
    assert only(diagnose(team(r), MODEL)) == [("prospecting", "neglected")]


def test_a_recent_collapse_is_neglect_even_when_the_average_is_fine():
    r = make_rep("R1", {"prospecting": [7, 7, 7, 7, 0.5, 0.4, 0.2, 0.5]})
    [f] = diagnose(team(r), MODEL)
    assert (f.practice, f.kind, f.evidence["rule"]) == ("prospecting", "neglected", "recent")
    assert "last 4 weeks" in f.consequence


def test_too_few_weeks_to_call_anything_sustained():
    weeks = WEEKS[:2]
    r = make_rep("R1", {"prospecting": [0.0, 0.0]})
    sc = replace(team(r), weeks=weeks)
    assert only(diagnose(sc, MODEL)) == []


def test_peer_rule_catches_neglect_above_a_tiny_floor():
    # new_logos floor is 0.35 h; 0.4 h is above it but a fifth of what peers do.
    r = make_rep("R1", {"new_logos": [0.4] * N_WEEKS})
    [f] = diagnose(team(r), MODEL)
    assert (f.practice, f.kind, f.evidence["rule"]) == ("new_logos", "neglected", "peers")
    assert "team median of 2.0" in f.consequence


def test_a_practice_the_whole_team_skips_is_not_pinned_on_one_rep():
    low = {"land_and_expand": [0.2] * N_WEEKS}
    sc = Scorecard(None, None, WEEKS, "USD", MODEL.selling_ids,
                   [make_rep(f"R{i}", low) for i in range(6)])
    assert diagnose(sc, MODEL) == []


def test_unknown_effort_is_not_neglect():
    r = make_rep("R1", {pid: None for pid in MODEL.selling_ids})
    assert only(diagnose(team(r), MODEL)) == []


def test_overinvestment_needs_diminishing_return():
    def social(rep_id: str, hours: float, pipeline: float) -> RepScore:
        return make_rep(rep_id, {"social_selling": [hours] * N_WEEKS}, measures={
            "social_selling": [mv("social_sourced_pipeline", "social_selling", pipeline,
                                  unit="currency")]})

    peers = [social(f"B{i}", 1.5, 30_000.0) for i in range(6)]
    heavy = social("R1", 7.5, 60_000.0)  # 4 k per weekly hour against peers' 20 k
    sc = Scorecard(None, None, WEEKS, "USD", MODEL.selling_ids, [heavy, *peers])
    [f] = diagnose(sc, MODEL)
    assert (f.practice, f.kind, f.severity) == ("social_selling", "overinvested", "high")
    assert f.evidence["return_vs_peers"] == 0.4
    assert "cap social selling at" in f.recommendation
    # As productive per hour as peers, good results, not extreme: no finding.
    good = make_rep("R1", {"social_selling": [5.0] * N_WEEKS}, eff={"social_selling": 80.0},
                    measures={"social_selling": [mv("social_sourced_pipeline", "social_selling",
                                                    120_000.0, unit="currency")]})
    assert diagnose(replace(sc, reps=[good, *peers]), MODEL) == []
    # Four times the team median is overinvestment even when the average hour pays.
    extreme = make_rep("R1", {"social_selling": [7.5] * N_WEEKS}, eff={"social_selling": 80.0},
                       measures={"social_selling": [mv("social_sourced_pipeline",
                                                       "social_selling", 200_000.0,
                                                       unit="currency")]})
    [f] = diagnose(replace(sc, reps=[extreme, *peers]), MODEL)
    assert (f.kind, f.severity, f.evidence["basis"]) == ("overinvested", "low", "extreme")


def test_overinvestment_without_output_measure_falls_back_on_effectiveness():
    r = make_rep("R1", {"account_growth": [12.0] * N_WEEKS}, eff={"account_growth": 40.0})
    [f] = diagnose(team(r), MODEL)
    assert (f.kind, f.severity, f.evidence["basis"]) == ("overinvested", "low", "effectiveness")
    strong = make_rep("R1", {"account_growth": [10.0] * N_WEEKS}, eff={"account_growth": 80.0})
    assert diagnose(team(strong), MODEL) == []


def _win_rates(value: float, closed: float, eff: float, rep_id: str = "R1") -> RepScore:
    return make_rep(rep_id, eff={"qualification": eff}, measures={"qualification": [
        mv("win_rate", "qualification", value, num=value * closed, den=closed, median=0.30),
        mv("late_stage_loss_share", "qualification", 0.8, num=12, den=15, higher=False,
           median=0.4, ids=["O9"]),
    ], "closing": [mv("bookings_vs_quota", "closing", 0.5, num=200_000.0, den=400_000.0)]})


def test_ineffective_needs_bottom_score_material_gap_and_volume():
    [f] = diagnose(team(_win_rates(0.10, 30, eff=4.0)), MODEL)
    assert (f.practice, f.kind) == ("qualification", "ineffective")
    assert f.evidence["worst_measure"] == "late_stage_loss_share"
    assert "12 of 15 lost deals died at proposal or later" in f.consequence
    assert f.money_at_stake is not None and f.money_at_stake > 0
    # Not at the bottom, too few deals, a small gap, or too small a team: no finding.
    assert diagnose(team(_win_rates(0.10, 30, eff=30.0)), MODEL) == []
    thin = make_rep("R1", eff={"qualification": 4.0}, measures={"qualification": [
        mv("win_rate", "qualification", 0.1, num=0.4, den=4, median=0.3)]})
    assert diagnose(team(thin), MODEL) == []
    close = make_rep("R1", eff={"qualification": 4.0}, measures={"qualification": [
        mv("win_rate", "qualification", 0.26, num=8, den=30, median=0.3)]})
    assert diagnose(team(close), MODEL) == []
    assert diagnose(team(_win_rates(0.10, 30, eff=4.0), size=3), MODEL) == []


def test_neglect_wins_over_ineffective_on_the_same_practice():
    r = replace(_win_rates(0.10, 30, eff=4.0))
    r.practices["qualification"] = replace(
        r.practices["qualification"], hours_per_week=0.2, weekly_hours=[0.2] * N_WEEKS)
    assert only(diagnose(team(r), MODEL)) == [("qualification", "neglected")]


def test_findings_come_most_severe_first_then_by_money():
    a = make_rep("R1", {"referrals": [0.0] * N_WEEKS, "call_planning": [0.5] * N_WEEKS})
    b = make_rep("R2", {"prospecting": [0.3] * N_WEEKS}, measures={
        "prospecting": [mv("pipeline_vs_needed", "prospecting", 0.1, num=10_000.0,
                           den=100_000.0)],
        "qualification": [mv("win_rate", "qualification", 0.2, num=4, den=20)]})
    c = make_rep("R3", {"prospecting": [0.3] * N_WEEKS}, measures={
        "prospecting": [mv("pipeline_vs_needed", "prospecting", 0.1, num=10_000.0,
                           den=500_000.0)],
        "qualification": [mv("win_rate", "qualification", 0.2, num=4, den=20)]})
    found = diagnose(team(a, b, c, size=10), MODEL)
    order = {"high": 0, "medium": 1, "low": 2}
    assert [order[f.severity] for f in found] == sorted(order[f.severity] for f in found)
    assert [(f.rep_id, f.practice) for f in found][:2] == [("R3", "prospecting"),
                                                          ("R2", "prospecting")]
    assert ("R1", "call_planning") in [(f.rep_id, f.practice) for f in found]
    sev = {(f.rep_id, f.practice): f.severity for f in found}
    assert sev[("R1", "referrals")] == "high"


def test_managers_are_not_diagnosed():
    m = make_rep("M1", {"prospecting": [0.0] * N_WEEKS}, role="manager")
    assert diagnose(team(m), MODEL) == []


def test_json_has_the_design_keys():
    r = make_rep("R1", {"prospecting": [0.5] * N_WEEKS})
    out = findings_json(diagnose(team(r), MODEL))
    json.dumps(out)
    [f] = out["findings"]
    assert {"rep_id", "practice", "kind", "severity", "evidence", "consequence",
            "recommendation"} <= set(f)
    assert f["kind"] in ("neglected", "overinvested", "ineffective")
