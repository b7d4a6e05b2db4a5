"""The joins behind stage and account conditions, on a real DuckDB workspace.

``_features`` looks up the opportunity's stage when each activity happened (from
opportunity_history) and whether the activity's account had an open opportunity
that day. Both are checked here against a plain-Python reading of the same rules,
on cases chosen to catch a cheaper join that answers differently: history after
the activity or exactly at its start, entries of the same time, NULL stages,
closed, reopened-looking and undated opportunities, and several activities that
share a key.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from wholejob.classification import _features, classify_rules
from wholejob.config import WorkspaceConfig
from wholejob.jobmodel import load_job_model
from wholejob.schema import ENTITIES
from wholejob.workspace import Workspace, init_workspace

STAGE_STATUS = WorkspaceConfig().stage_status()
D = dt.datetime


def _insert(ws: Workspace, name: str, rows: list[dict[str, Any]]) -> None:
    names = ENTITIES[name].column_names
    marks = ", ".join("?" * len(names))
    ws.raw.executemany(
        f'INSERT INTO "{name}" ({", ".join(names)}) VALUES ({marks})',
        [[r.get(c) for c in names] for r in rows],
    )


ACCOUNTS = [{"account_id": a, "name": a} for a in ("a1", "a2", "a3", "a4", "a5")]
OPPS = [
    # a1: one deal, open, created 2024-03-01.
    {"opportunity_id": "o1", "account_id": "a1", "created_on": dt.date(2024, 3, 1),
     "stage": "negotiation", "status": "open"},
    # a2: won, closed 2024-05-10 (open up to and including that day).
    {"opportunity_id": "o2", "account_id": "a2", "created_on": dt.date(2024, 1, 1),
     "stage": "closed_won", "status": "won", "close_date": dt.date(2024, 5, 10)},
    # a3: lost with no close date (counts as open from its creation on).
    {"opportunity_id": "o3", "account_id": "a3", "created_on": dt.date(2024, 4, 1),
     "stage": "closed_lost", "status": "lost"},
    # a4: status empty, so the stage's status decides (negotiation is open),
    # plus a second deal that closed before everything.
    {"opportunity_id": "o4", "account_id": "a4", "created_on": dt.date(2024, 2, 1),
     "stage": "negotiation", "close_date": dt.date(2024, 2, 15)},
    {"opportunity_id": "o4b", "account_id": "a4", "created_on": dt.date(2023, 1, 1),
     "stage": "closed_lost", "status": "lost", "close_date": dt.date(2023, 6, 1)},
]
for o in OPPS:
    o.update(owner_id="r1", amount=1.0)
HISTORY = [
    {"opportunity_id": "o1", "stage": "prospecting", "entered_at": D(2024, 3, 1, 9)},
    {"opportunity_id": "o1", "stage": "discovery", "entered_at": D(2024, 4, 1, 9)},
    # Two entries of the same time: the greatest stage name wins.
    {"opportunity_id": "o1", "stage": "proposal", "entered_at": D(2024, 5, 1, 9)},
    {"opportunity_id": "o1", "stage": "negotiation", "entered_at": D(2024, 5, 1, 9)},
    {"opportunity_id": "o2", "stage": "qualification", "entered_at": D(2024, 1, 1, 9)},
    {"opportunity_id": "o2", "stage": "closed_won", "entered_at": D(2024, 5, 10, 12)},
    # An entry whose stage is unknown falls back to the current stage.
    {"opportunity_id": "o3", "stage": None, "entered_at": D(2024, 4, 2, 9)},
]
ACTS: list[dict[str, Any]] = [
    {"activity_id": "before_history", "opportunity_id": "o1", "account_id": "a1",
     "started_at": D(2024, 2, 1, 10)},
    {"activity_id": "at_entry", "opportunity_id": "o1", "account_id": "a1",
     "started_at": D(2024, 4, 1, 9)},
    {"activity_id": "just_before_entry", "opportunity_id": "o1", "account_id": "a1",
     "started_at": D(2024, 4, 1, 8, 59)},
    {"activity_id": "after_tie", "opportunity_id": "o1", "account_id": "a1",
     "started_at": D(2024, 5, 2, 10)},
    {"activity_id": "after_tie_twin", "opportunity_id": "o1", "account_id": "a1",
     "started_at": D(2024, 5, 2, 10)},
    {"activity_id": "won_day_morning", "opportunity_id": "o2", "account_id": "a2",
     "started_at": D(2024, 5, 10, 8)},
    {"activity_id": "won_day_after", "opportunity_id": "o2", "account_id": "a2",
     "started_at": D(2024, 5, 10, 13)},
    {"activity_id": "after_close", "opportunity_id": "o2", "account_id": "a2",
     "started_at": D(2024, 5, 11, 8)},
    {"activity_id": "null_stage_entry", "opportunity_id": "o3", "account_id": "a3",
     "started_at": D(2024, 4, 3, 8)},
    {"activity_id": "lost_undated", "account_id": "a3", "started_at": D(2024, 9, 1, 8)},
    {"activity_id": "before_created", "account_id": "a3", "started_at": D(2024, 3, 31, 23)},
    {"activity_id": "status_from_stage", "account_id": "a4", "started_at": D(2024, 6, 1, 8)},
    {"activity_id": "no_opportunity", "account_id": "a5", "started_at": D(2024, 6, 1, 8)},
    {"activity_id": "no_account", "started_at": D(2024, 6, 1, 8)},
    {"activity_id": "unknown_opportunity", "opportunity_id": "nope", "account_id": "a1",
     "started_at": D(2024, 6, 1, 8)},
]
for a in ACTS:
    a.update(rep_id="r1", type="meeting", subject="sync")


def _expected_stage(act: dict[str, Any]) -> str | None:
    """The latest history entry at or before the start (ties: greatest stage), else current."""
    current = {o["opportunity_id"]: o["stage"] for o in OPPS}.get(act.get("opportunity_id"))
    entries = [h for h in HISTORY if h["opportunity_id"] == act.get("opportunity_id")
               and h["entered_at"] <= act["started_at"]]
    if not entries:
        return current
    last = max(entries, key=lambda h: (h["entered_at"], h["stage"] or ""))
    return last["stage"] or current


def _expected_open(act: dict[str, Any]) -> bool:
    day = act["started_at"].date()
    for o in OPPS:
        if o["account_id"] != act.get("account_id") or o["created_on"] > day:
            continue
        status = o.get("status") or STAGE_STATUS.get(o["stage"])
        if status == "open" or o.get("close_date") is None or o["close_date"] >= day:
            return True
    return False


def _workspace(tmp_path: Path) -> Workspace:
    ws = init_workspace(tmp_path / "ws")
    _insert(ws, "accounts", ACCOUNTS)
    _insert(ws, "opportunities", OPPS)
    _insert(ws, "opportunity_history", HISTORY)
    _insert(ws, "activities", ACTS)
    return ws


def test_stage_and_account_open_match_a_plain_reading(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    model = load_job_model()
    f = _features(
        ws.table("activities"), ws.table("accounts"), ws.table("opportunities"),
        model, STAGE_STATUS, history=ws.table("opportunity_history"), icp=None,
    )
    got = {r["activity_id"]: r for r in
           f.select("activity_id", "_stage", "_acct_open").to_pyarrow().to_pylist()}
    assert sorted(got) == sorted(a["activity_id"] for a in ACTS)  # one row per activity
    for act in ACTS:
        row = got[act["activity_id"]]
        assert row["_stage"] == _expected_stage(act), act["activity_id"]
        assert row["_acct_open"] == _expected_open(act), act["activity_id"]
    # The cases are not vacuous.
    assert got["after_tie"]["_stage"] == "proposal"
    assert got["at_entry"]["_stage"] == "discovery"
    assert got["just_before_entry"]["_stage"] == "prospecting"
    assert got["won_day_morning"]["_stage"] == "qualification"
    assert got["null_stage_entry"]["_stage"] == "closed_lost"
    assert got["before_history"]["_stage"] == "negotiation"
    assert [got[a]["_acct_open"] for a in ("after_close", "won_day_after", "lost_undated",
                                          "before_created", "status_from_stage")] == [
        False, True, True, False, True]
    ws.close()


def test_stage_at_activity_time_decides_stage_rules(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    got = {r["activity_id"]: r["rule"] for r in classify_rules(
        ws.table("activities"), ws.table("accounts"), ws.table("opportunities"),
        load_job_model(), STAGE_STATUS, history=ws.table("opportunity_history"),
    ).to_pyarrow().to_pylist()}
    # A meeting in negotiation (the current stage, before any history) is a late
    # stage conversation; in prospecting (history at the time) it is not.
    assert got["before_history"] == "closing.late_stage_conversations"
    assert got["just_before_entry"] != "closing.late_stage_conversations"
    ws.close()
