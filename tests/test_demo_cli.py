"""`wholejob demo` end to end: generate, import through the canonical files, summarise."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from wholejob.cli.app import app
from wholejob.workspace import open_workspace

runner = CliRunner()


def test_demo_imports_every_entity_and_reports_hours(tmp_path):
    ws_dir = tmp_path / "ws"
    result = runner.invoke(
        app, ["demo", "-w", str(ws_dir), "--reps", "8", "--weeks", "6", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    entities = out["import"]["entities"]
    assert set(entities) == {
        "reps", "accounts", "contacts", "opportunities",
        "opportunity_history", "activities", "assessments",
    }
    assert all(e["rejected"] == 0 and e["inserted"] == e["read"] for e in entities.values())
    hours = {r["rep_id"]: r["hours"] for r in out["hours"]["reps"]}
    profiles = out["profiles"]
    assert len(profiles) == 8
    # every seller has recorded effort; the profile that skips referrals has the least
    sellers = [rep for rep in hours if rep in profiles]
    assert all(hours[rep]["prospecting"] is not None for rep in sellers)
    never = next(rep for rep, p in profiles.items() if p == "never_asks_referrals")
    assert hours[never]["referrals"] == min(hours[rep]["referrals"] for rep in sellers)
    with open_workspace(ws_dir) as ws:
        assert ws.counts()["activities"] == entities["activities"]["read"]


def test_demo_table_output_and_refusal_to_overwrite(tmp_path):
    ws_dir = tmp_path / "ws"
    first = runner.invoke(app, ["demo", "-w", str(ws_dir), "--reps", "7", "--weeks", "4"])
    assert first.exit_code == 0, first.output
    assert "Hours per week by practice" in first.stdout
    assert "prospecting" in first.stdout and "Next:" in first.stdout
    again = runner.invoke(app, ["demo", "-w", str(ws_dir), "--reps", "7", "--weeks", "4"])
    assert again.exit_code == 1
    assert "--replace" in again.output
    replaced = runner.invoke(
        app, ["demo", "-w", str(ws_dir), "--reps", "7", "--weeks", "4", "--replace"]
    )
    assert replaced.exit_code == 0, replaced.output


def test_demo_rejects_too_few_reps(tmp_path):
    result = runner.invoke(app, ["demo", "-w", str(tmp_path / "ws"), "--reps", "3"])
    assert result.exit_code == 2
