"""`wholejob practices`: lists the job model as a table or JSON, with workspace overrides."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from wholejob.cli.app import app
from wholejob.jobmodel import PRACTICE_IDS

runner = CliRunner()


def test_json_lists_18_practices_plus_other_in_table_order(tmp_path):
    result = runner.invoke(app, ["practices", "-w", str(tmp_path / "none"), "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["practices"]
    assert [r["id"] for r in rows] == [*PRACTICE_IDS, "other"]
    first = rows[0]
    for key in ("name", "group", "floor_share", "target_share", "effort", "effort_summary"):
        assert key in first
    assert {r["id"]: r["effort"] for r in rows}["value_creation"] == "quality"


def test_table_shows_ids_and_shares(tmp_path):
    result = runner.invoke(app, ["practices", "--workspace", str(tmp_path / "none")],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for pid in PRACTICE_IDS:
        assert pid in result.stdout
    assert "18%" in result.stdout  # prospecting's default target


def test_workspace_overrides_are_used(tmp_path):
    (tmp_path / "wholejob.toml").write_text(
        "[practices.prospecting]\ntarget_share = 0.15\nfloor_share = 0.12\n", encoding="utf-8"
    )
    result = runner.invoke(app, ["practices", "-w", str(tmp_path), "-f", "json"])
    assert result.exit_code == 0, result.output
    rows = {r["id"]: r for r in json.loads(result.stdout)["practices"]}
    assert rows["prospecting"]["target_share"] == 0.15
    assert rows["prospecting"]["floor_share"] == 0.12


def test_bad_override_is_one_line_with_file_and_key(tmp_path):
    (tmp_path / "wholejob.toml").write_text(
        "[practices.prospectin]\ntarget_share = 0.2\n", encoding="utf-8"
    )
    result = runner.invoke(app, ["practices", "-w", str(tmp_path)])
    assert result.exit_code == 1
    out = result.output.strip()
    assert "\n" not in out
    assert "wholejob.toml: practices.prospectin: unknown practice id" in out
    assert "did you mean 'prospecting'?" in out
