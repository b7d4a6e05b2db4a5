"""`wholejob classify`: JSON for every activity, --explain, --rep, --limit, --evaluate."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from wholejob.cli.app import app
from wholejob.workspace import init_workspace

runner = CliRunner()


@pytest.fixture
def ws_dir(tmp_path):
    path = tmp_path / "ws"
    ws = init_workspace(path)
    raw = ws.raw
    raw.execute("INSERT INTO reps (rep_id, name, role) VALUES ('r1', 'Ann', 'rep'), "
                "('r2', 'Bo', 'rep')")
    rows = [
        ("a1", "r1", "call", "Cold call - Acme", None),
        ("a2", "r1", "meeting", "lunch w/ champion", "relationships"),
        ("a3", "r2", "task", "tidy up notes qqq", None),
        ("a4", "r2", "email", "Proposal v2 attached", None),
    ]
    for aid, rep, typ, subject, practice in rows:
        raw.execute(
            "INSERT INTO activities (activity_id, rep_id, type, started_at, subject, practice) "
            "VALUES (?, ?, ?, TIMESTAMP '2025-01-06 09:00', ?, ?)",
            [aid, rep, typ, subject, practice],
        )
    ws.close()
    return path


def _json(args):
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_json_lists_every_activity_with_practice_confidence_method(ws_dir):
    data = _json(["classify", "-w", str(ws_dir), "--format", "json"])
    acts = {a["activity_id"]: a for a in data["activities"]}
    assert set(acts) == {"a1", "a2", "a3", "a4"}
    for a in acts.values():
        assert set(a) == {"activity_id", "practice", "confidence", "method"}
        assert a["practice"] and 0 < a["confidence"] <= 1
        assert a["method"] in {"label", "rule", "model"}
    assert acts["a2"] == {"activity_id": "a2", "practice": "relationships",
                          "confidence": 1.0, "method": "label"}
    assert acts["a1"]["method"] == "rule" and acts["a1"]["practice"] == "prospecting"
    assert acts["a3"]["method"] == "model"


def test_rep_and_limit(ws_dir):
    data = _json(["classify", "-w", str(ws_dir), "-f", "json", "--rep", "r2"])
    assert [a["activity_id"] for a in data["activities"]] == ["a3", "a4"]
    data = _json(["classify", "-w", str(ws_dir), "-f", "json", "--limit", "1"])
    assert len(data["activities"]) == 1


def test_table_output(ws_dir):
    result = runner.invoke(app, ["classify", "-w", str(ws_dir), "--limit", "2"])
    assert result.exit_code == 0, result.output
    assert "prospecting" in result.output and "label" in result.output
    assert "Sample" in result.output


def test_explain(ws_dir):
    info = _json(["classify", "-w", str(ws_dir), "-f", "json", "--explain", "a1"])
    assert info["method"] == "rule" and info["rule"].startswith("prospecting.")
    assert any(r["matched"] for r in info["rules"])
    assert info["model"]["top"]
    result = runner.invoke(app, ["classify", "-w", str(ws_dir), "--explain", "a3"])
    assert result.exit_code == 0, result.output
    assert "method model" in result.output and "text model" in result.output


def test_explain_unknown_activity_is_a_one_line_error(ws_dir):
    result = runner.invoke(app, ["classify", "-w", str(ws_dir), "--explain", "nope"])
    assert result.exit_code == 1
    assert "no activity 'nope'" in result.output


def test_missing_workspace_is_an_error(tmp_path):
    result = runner.invoke(app, ["classify", "-w", str(tmp_path / "none")])
    assert result.exit_code != 0
    assert "no workspace" in result.output


def test_evaluate_without_workspace_reports_the_eval_set(tmp_path):
    data = _json(["classify", "-w", str(tmp_path / "none"), "--evaluate", "-f", "json"])
    ev = data["eval_set"]
    assert data["demo"] is None
    assert ev["n"] >= 18 * 20 and 0 <= ev["accuracy"] <= 1
    assert "prospecting" in ev["per_practice"]
    result = runner.invoke(app, ["classify", "-w", str(tmp_path / "none"), "--evaluate"])
    assert result.exit_code == 0, result.output
    assert "overall" in result.output


def test_evaluate_on_a_demo_compares_with_the_truth(tmp_path):
    ws_dir = tmp_path / "demo"
    made = runner.invoke(app, ["demo", "-w", str(ws_dir), "--reps", "7", "--weeks", "4"])
    assert made.exit_code == 0, made.output
    data = _json(["classify", "-w", str(ws_dir), "--evaluate", "-f", "json"])
    demo = data["demo"]
    assert demo["all"]["n"] > demo["unlabelled"]["n"] > 0
    assert demo["all"]["by_method"]["label"]["accuracy"] == 1.0
    assert 0 < demo["unlabelled"]["accuracy"] <= 1
