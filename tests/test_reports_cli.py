"""`wholejob report` end to end on a small demo workspace: table, JSON and HTML."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wholejob.cli.app import app
from wholejob.demo import generate_demo
from wholejob.importing.importer import import_paths
from wholejob.jobmodel import PRACTICE_IDS
from wholejob.workspace import init_workspace

pytestmark = pytest.mark.slow
runner = CliRunner()


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace holding an 8-rep, 8-week demo team."""
    root = tmp_path_factory.mktemp("report-demo")
    data = root / "data"
    generate_demo(data, reps=8, weeks=8, seed=3, end=date(2024, 6, 30))
    ws = init_workspace(root / "ws")
    with ws:
        import_paths(ws, [data])
    return root / "ws"


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["report", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def report(demo_ws: Path) -> dict:
    code, out, err = run("-w", str(demo_ws), "--format", "json")
    assert code == 0, err
    return json.loads(out)


def test_json_has_the_design_shape(report):
    assert report["reps"], "no reps reported"
    for r in report["reps"]:
        assert {"rep_id", "balance_index", "practices"} <= set(r)
        assert set(PRACTICE_IDS) <= set(r["practices"])
        p = r["practices"]["prospecting"]
        assert {"hours", "share", "effort_score", "effectiveness_score"} <= set(p)
    assert isinstance(report["findings"], list)
    for f in report["findings"]:
        assert f["kind"] in {"neglected", "overinvested", "ineffective"}
        assert {"rep_id", "practice", "severity", "evidence", "consequence",
                "recommendation"} <= set(f)
    assert report["currency"]


def test_team_table_lists_every_seller_and_the_legend(demo_ws, report):
    code, out, _ = run("-w", str(demo_ws))
    assert code == 0
    for abbr in ("PRO", "QUA", "L&E", "MKT", "bal"):
        assert abbr in out
    sellers = [r for r in report["reps"] if r["role"] != "manager"]
    for r in sellers:
        assert r["name"] in out
    assert "below floor" in out and "PRO Prospecting" in out
    # Piped output is widened, not truncated: each rep's row is on one line.
    row = next(line for line in out.splitlines() if line.strip().startswith(sellers[0]["name"]))
    assert len(re.findall(r"\d+\.\d|\?|\u2013", row)) >= 18


def test_one_rep_view(demo_ws, report):
    rep = next(r for r in report["reps"] if r["role"] != "manager")
    code, out, _ = run("-w", str(demo_ws), "--rep", rep["rep_id"])
    assert code == 0
    assert rep["name"] in out and "balance index" in out
    assert "Prospecting" in out and "Marketing alignment" in out
    assert "What pulls the balance index down" in out and "Top findings" in out


def test_one_rep_json_keeps_the_rep(demo_ws, report):
    rep_id = report["reps"][0]["rep_id"]
    code, out, _ = run("-w", str(demo_ws), "--rep", rep_id, "-f", "json")
    assert code == 0
    assert [r["rep_id"] for r in json.loads(out)["reps"]] == [rep_id]


def test_html_needs_out_and_writes_a_self_contained_file(demo_ws, report, tmp_path):
    code, _, err = run("-w", str(demo_ws), "-f", "html")
    assert code != 0 and "--out" in err and len(err.strip().splitlines()) == 1
    target = tmp_path / "report.html"
    code, _, err = run("-w", str(demo_ws), "-f", "html", "--out", str(target))
    assert code == 0, err
    html = target.read_text(encoding="utf-8")
    assert "<svg" in html and "http" not in html and "<script" not in html
    assert report["reps"][0]["name"] in html


def test_json_out_writes_a_file(demo_ws, tmp_path):
    target = tmp_path / "report.json"
    code, out, _ = run("-w", str(demo_ws), "-f", "json", "-o", str(target))
    assert code == 0 and out == ""
    assert json.loads(target.read_text())["reps"]


def test_period_options_bound_the_weeks(demo_ws, report):
    code, out, err = run("-w", str(demo_ws), "-f", "json", "--since", "2024-06-03",
                         "--until", "2024-06-30")
    assert code == 0, err
    data = json.loads(out)
    assert data["since"] == "2024-06-03" and data["until"] == "2024-06-30"
    assert len(data["weeks"]) < len(report["weeks"])


@pytest.mark.parametrize(("args", "message"), [
    (["--since", "31/01/2024"], "--since"),
    (["--until", "tomorrow"], "--until"),
    (["--since", "2024-06-30", "--until", "2024-06-01"], "after"),
    (["--rep", "R1", "--team", "East"], "not both"),
    (["--rep", "NOPE"], "NOPE"),
    (["--team", "Atlantis"], "Atlantis"),
])
def test_bad_input_is_a_one_line_error(demo_ws, args, message):
    code, _, err = run("-w", str(demo_ws), *args)
    assert code != 0
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
