"""The coaching queue: findings ranked by money at stake, unknown money last."""

from __future__ import annotations

from pathlib import Path

import pytest

from wholejob.coaching import coaching_queue, queue_json, rank_findings
from wholejob.demo import generate_demo
from wholejob.importing.importer import import_paths
from wholejob.scorecard import Finding
from wholejob.workspace import init_workspace, open_workspace


def _f(rep: str, practice: str, severity: str, money: float | None) -> Finding:
    return Finding(rep, practice, "neglected", severity, {}, "", "", money)


def test_rank_by_money_then_severity_unknown_last():
    fs = [_f("R1", "closing", "high", None), _f("R2", "prospecting", "low", 50_000.0),
          _f("R1", "referrals", "medium", 5_000.0), _f("R3", "qualification", "high", 5_000.0),
          _f("R2", "insight", "low", None)]
    ranked = rank_findings(fs)
    assert [(f.rep_id, f.practice) for f in ranked] == [
        ("R2", "prospecting"), ("R3", "qualification"), ("R1", "referrals"),
        ("R1", "closing"), ("R2", "insight")]
    out = queue_json(ranked, "USD")
    assert [q["rank"] for q in out["queue"]] == [1, 2, 3, 4, 5]


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("coach")
    generate_demo(out / "data", reps=8, weeks=30, seed=13)
    ws = init_workspace(out / "ws")
    import_paths(ws, [out / "data"])
    ws.close()
    return out / "ws"


def test_team_queue_is_the_teams_findings_in_money_order(demo_ws):
    with open_workspace(demo_ws, read_only=True) as ws:
        team = ws.to_pandas("reps").query("role == 'rep'")["team"].iloc[0]
        members = set(ws.to_pandas("reps").query("team == @team")["rep_id"])
        queue = coaching_queue(ws, team=team, forecast=False)
    assert queue and {f.rep_id for f in queue} <= members
    money = [f.money_at_stake for f in queue]
    known = [m for m in money if m is not None]
    assert known == sorted(known, reverse=True)
    assert money[: len(known)] == known  # every unknown after every known
