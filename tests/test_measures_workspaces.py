"""Whole-workspace behaviour: opportunities only, an empty workspace, and a small demo."""

from __future__ import annotations

import csv
import statistics

import pytest

from wholejob.demo import generate_demo
from wholejob.importing.importer import import_paths
from wholejob.measures import build_scorecard
from wholejob.workspace import init_workspace


def test_opportunities_only_workspace(tmp_path):
    ws = init_workspace(tmp_path / "ws")
    ws.raw.execute("INSERT INTO reps (rep_id, name, quota) VALUES ('r1', 'Ann', 365000)")
    ws.raw.execute("INSERT INTO accounts (account_id, name) VALUES ('a1', 'One')")
    ws.raw.execute(
        """INSERT INTO opportunities (opportunity_id, account_id, owner_id, created_on,
             close_date, amount, stage, source) VALUES
           ('o1','a1','r1',DATE '2025-01-01',DATE '2025-01-10',100,'closed_won','outbound'),
           ('o2','a1','r1',DATE '2025-01-02',DATE '2025-01-14',300,'closed_lost','outbound')"""
    )
    card = build_scorecard(ws)
    r1 = card.rep("r1")
    # the period comes from the deals: Jan 1 .. Jan 14 (last close)
    assert (card.since.isoformat(), card.until.isoformat()) == ("2025-01-01", "2025-01-14")
    # status is derived from the stage: one won of two closed
    assert r1.practices["qualification"].measure("win_rate").value == 0.5
    # 400 created over 14 days = 2 weeks
    assert r1.practices["prospecting"].measure("self_sourced_pipeline").value == 200.0
    # bookings 100 / (365000 x 14 / 365)
    assert r1.practices["closing"].measure("bookings_vs_quota").value == pytest.approx(
        100 / 14000)
    assert r1.practices["prospecting"].hours is None
    assert r1.practices["relationships"].measure("contacts_per_account").value is None
    assert any("effort is unknown" in n for n in card.notes)
    ws.close()


def test_empty_workspace(tmp_path):
    ws = init_workspace(tmp_path / "ws")
    ws.raw.execute("INSERT INTO reps (rep_id, name) VALUES ('r1', 'Ann')")
    card = build_scorecard(ws)
    assert card.weeks == [] and card.rep("r1").practices["closing"].hours is None
    ws.close()


def test_unknown_rep_or_team(tmp_path):
    ws = init_workspace(tmp_path / "ws")
    with pytest.raises(KeyError):
        build_scorecard(ws, rep="nobody")
    with pytest.raises(KeyError):
        build_scorecard(ws, team="nowhere")
    ws.close()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    generate_demo(root / "data", reps=10, weeks=12, seed=3)
    ws = init_workspace(root / "ws")
    import_paths(ws, [root / "data"])
    with open(root / "data" / "_truth" / "reps_profiles.csv", newline="") as f:
        profiles = {r["rep_id"]: r["profile"] for r in csv.DictReader(f)}
    card = build_scorecard(ws)
    yield ws, card, profiles
    ws.close()


@pytest.mark.slow
def test_demo_profiles_show_in_the_measures(demo):
    _ws, card, profiles = demo
    assert len(card.weeks) == 12
    reps = {r.rep_id: r for r in card.reps}
    assert set(reps) == set(profiles)

    def hpw(rid, p):
        return reps[rid].practices[p].hours_per_week

    def val(rid, p, m):
        return reps[rid].practices[p].measure(m).value or 0.0

    avoiders = [r for r, p in profiles.items() if p == "avoids_prospecting"]
    balanced = [r for r, p in profiles.items() if p == "balanced"]
    bal_prospecting = min(hpw(r, "prospecting") for r in balanced)
    bal_pipeline = statistics.median(
        val(r, "prospecting", "self_sourced_pipeline") for r in balanced)
    for r in avoiders:
        assert hpw(r, "prospecting") < bal_prospecting
        assert val(r, "prospecting", "self_sourced_pipeline") < bal_pipeline
    # the lowest prospecting time belongs to a rep built to neglect it
    lowest = min(reps, key=lambda r: hpw(r, "prospecting"))
    assert profiles[lowest] in {"avoids_prospecting", "closer_no_pipeline", "account_farmer"}
    social = [r for r, p in profiles.items() if p == "social_seller"]
    top_social = max(reps, key=lambda r: hpw(r, "social_selling"))
    assert top_social in social
    never = [r for r, p in profiles.items() if p == "never_asks_referrals"]
    assert all(hpw(r, "referrals") < statistics.median(hpw(b, "referrals") for b in balanced)
               for r in never)
    # every practice carries every measure of the job model, scored 0-100 or unknown
    for rep in card.reps:
        assert set(rep.practices) == set(card.practices)
        for ps in rep.practices.values():
            for m in ps.measures:
                assert m.score is None or 0 <= m.score <= 100
    assert card.to_json()["reps"][0]["practices"]["prospecting"]["effort_score"] is not None


@pytest.mark.slow
def test_measures_keep_counts_and_a_sample_of_what_trace_returns(demo):
    """A measure holds every record's count and the first ids; trace gives them all."""
    from wholejob.measures import trace
    from wholejob.scorecard import RECORD_ID_SAMPLE

    ws, card, _profiles = demo
    rep = card.reps[0]
    # Each trace prepares the inputs again: check the measures with the most records.
    measures = sorted(((sum(m.record_counts.values()), p, m) for p, ps in rep.practices.items()
                       for m in ps.measures), key=lambda x: -x[0])[:6]
    assert measures[0][0] > RECORD_ID_SAMPLE  # some lists are cut: the sample is a sample
    for _n, practice, m in measures:
        full = trace(ws, rep.rep_id, practice, m.measure_id)
        assert set(m.record_counts) == set(m.record_ids) == set(full)
        for table, ids in full.items():
            assert m.record_counts[table] == len(ids)
            assert m.record_ids[table] == ids[:RECORD_ID_SAMPLE]
