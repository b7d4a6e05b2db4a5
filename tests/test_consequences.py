"""Forecast consequences of neglect: bookings and coverage now vs at the floor."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wholejob.balance import with_balance
from wholejob.cli.app import app
from wholejob.consequences import attach_forecast_consequences
from wholejob.demo import generate_demo
from wholejob.findings import diagnose
from wholejob.importing.importer import import_paths
from wholejob.jobmodel import load_job_model
from wholejob.measures import build_scorecard
from wholejob.workspace import init_workspace, open_workspace

runner = CliRunner()
pytestmark = pytest.mark.slow
KEYS = {"bookings_p50_now", "bookings_p50_at_floor", "gap", "coverage_now", "coverage_at_floor",
        "gap_shows_week"}


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cons")
    generate_demo(out / "data", reps=8, weeks=30, seed=3)
    ws = init_workspace(out / "ws")
    import_paths(ws, [out / "data"])
    ws.close()
    return out / "ws"


def test_neglected_prospecting_books_more_at_the_floor(demo_ws):
    with open_workspace(demo_ws, read_only=True) as ws:
        model = load_job_model(ws.config)
        findings = diagnose(with_balance(build_scorecard(ws, model=model), model), model)
        out = attach_forecast_consequences(findings, ws, paths=500, seed=1)
    assert len(out) == len(findings)
    neglected = [f for f in out if f.kind == "neglected" and f.practice == "prospecting"]
    assert neglected, "the demo plants neglected prospecting"
    for f in neglected:
        fc = f.evidence["forecast"]
        assert set(fc) >= KEYS
        assert fc["bookings_p50_at_floor"] >= fc["bookings_p50_now"]
        assert fc["mean_gap"] > 0 and f.money_at_stake == pytest.approx(fc["mean_gap"], rel=0.05)
        assert fc["open_pipeline_p50_at_floor"] >= fc["open_pipeline_p50_now"]
        assert "forecast over 13 weeks" in f.consequence
    for f in out:
        if f.kind != "neglected":
            assert "forecast" not in f.evidence


def test_cli_diagnose_with_and_without_forecast(demo_ws):
    w = ["diagnose", "-w", str(demo_ws), "--format", "json"]
    fast = json.loads(runner.invoke(app, [*w, "--no-forecast"]).stdout)
    assert all("forecast" not in f["evidence"] for f in fast["findings"])
    r = runner.invoke(app, [*w, "--paths", "300"])
    assert r.exit_code == 0, r.output
    full = json.loads(r.stdout)
    assert any("forecast" in f["evidence"] for f in full["findings"])
