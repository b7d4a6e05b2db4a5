"""Skills: add/import through the importer, show latest and trends, development focus."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from wholejob.cli.app import app
from wholejob.demo import generate_demo
from wholejob.errors import WholejobError
from wholejob.importing.importer import import_paths
from wholejob.skills import add_assessment, development_focus, import_assessments, skills_summary
from wholejob.workspace import init_workspace, open_workspace

runner = CliRunner()


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("skills")
    generate_demo(out / "data", reps=8, weeks=30, seed=11)
    ws = init_workspace(out / "ws")
    import_paths(ws, [out / "data"])
    ws.close()
    return out / "ws"


def test_add_show_round_trip_and_trend(demo_ws):
    with open_workspace(demo_ws) as ws:
        dates = (date(2030, 1, 15), date(2030, 4, 16), date(2030, 7, 16))
        for on, score in zip(dates, (2, 3, 4), strict=True):
            add_assessment(ws, "R00003", "closing", score, source="manager",
                           assessor_id="M0001", on=on, note="test")
        again = add_assessment(ws, "R00003", "closing", 4, source="manager",
                               assessor_id="M0001", on=date(2030, 7, 16), note="test")
        assert again.entities["assessments"].unchanged == 1
        out = skills_summary(ws, rep="R00003")
    closing = out["reps"][0]["practices"]["closing"]
    assert closing["latest"]["manager"] == {"score": 4, "on": "2030-07-16",
                                            "assessor_id": "M0001"}
    trend = closing["trend"]
    assert trend["source"] == "manager" and trend["latest"] == {"score": 4, "on": "2030-07-16"}
    # The demo's manager scores (4 on 2024-12-31 and 2025-03-31) come first.
    assert trend["first"] == {"score": 4, "on": "2024-12-31"}
    days = np.array([date.fromisoformat(d).toordinal() for d in
                     ("2024-12-31", "2025-03-31", "2030-01-15", "2030-04-16", "2030-07-16")])
    t = (days - days.mean()) / (365.25 / 4)
    y = np.array([4, 4, 2, 3, 4.0])
    slope = (t * (y - y.mean())).sum() / (t * t).sum()
    assert trend["slope_per_quarter"] == pytest.approx(slope, abs=1e-3)


def test_add_rejects_what_the_importer_rejects(demo_ws):
    with open_workspace(demo_ws) as ws:
        with pytest.raises(WholejobError, match="score"):
            add_assessment(ws, "R00001", "closing", 7, on=date(2030, 1, 1))
        with pytest.raises(WholejobError, match="practice"):
            add_assessment(ws, "R00001", "closng", 3, on=date(2030, 1, 1))


def test_import_any_file_name(demo_ws, tmp_path):
    f = tmp_path / "q3-reviews.csv"
    with f.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["rep_id", "practice", "score", "assessed_on", "assessor_id", "source", "note"])
        w.writerow(["R00002", "referrals", "2", "2030-02-01", "M0001", "manager", ""])
    with open_workspace(demo_ws) as ws:
        summary = import_assessments(ws, f)
        assert summary.entities["assessments"].inserted == 1
        out = skills_summary(ws, rep="R00002")
    assert out["reps"][0]["practices"]["referrals"]["latest"]["manager"]["score"] == 2


def test_focus_ranks_gap_times_marginal_value(demo_ws):
    with open_workspace(demo_ws) as ws:
        add_assessment(ws, "R00004", "prospecting", 1, source="manager", assessor_id="M0001",
                       on=date(2031, 1, 1))
        add_assessment(ws, "R00004", "closing", 3, source="self", on=date(2031, 1, 2))
        mv = {p: 1000.0 for p in ("prospecting", "closing", "referrals")}
        out = development_focus(ws, "R00004", marginal_values=mv)
    ranked = out["focus"]
    top = ranked[0]
    assert top["practice"] == "prospecting" and top["gap"] == 3 and top["impact"] == 3000.0
    closing = next(i for i in ranked if i["practice"] == "closing")
    assert closing["gap"] == 1 and closing["impact"] == 1000.0
    impacts = [i["impact"] for i in ranked if i["impact"] is not None]
    assert impacts == sorted(impacts, reverse=True)


@pytest.mark.slow
def test_cli_skills_add_show_focus(demo_ws):
    w = ["-w", str(demo_ws)]
    r = runner.invoke(app, ["skills", "add", *w, "--rep", "R00005", "--practice", "qualification",
                            "--score", "2", "--source", "manager", "--assessor", "M0001",
                            "--on", "2031-03-01", "--note", "late losses"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["skills", "show", *w, "--rep", "R00005", "--format", "json"])
    assert r.exit_code == 0, r.output
    show = json.loads(r.stdout)
    assert show["reps"][0]["practices"]["qualification"]["latest"]["manager"]["score"] == 2
    r = runner.invoke(app, ["skills", "focus", *w, "--rep", "R00005", "--weeks", "13",
                            "--paths", "200", "--format", "json"])
    assert r.exit_code == 0, r.output
    focus = json.loads(r.stdout)["focus"]
    q = next(i for i in focus if i["practice"] == "qualification")
    assert q["gap"] == 2 and q["marginal_value"] > 0 and q["impact"] > 0
    bad = runner.invoke(app, ["skills", "add", *w, "--rep", "R00005", "--practice", "closing",
                              "--score", "0"])
    assert bad.exit_code != 0 and "score" in bad.output
