"""The plan on a demo workspace: bounds, simulation check, the batched objective, ICS, CLI."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from icalendar import Calendar
from typer.testing import CliRunner

from wholejob.cli.app import app
from wholejob.demo import generate_demo
from wholejob.forecast import PipelineForecaster, expected_bookings, load_snapshot
from wholejob.importing.importer import import_paths
from wholejob.jobmodel import load_job_model
from wholejob.plan import AllocationOptimizer, BookingsObjective, practice_curves
from wholejob.plan.calendar import calendar_blocks, rounded_blocks, to_ics
from wholejob.workspace import init_workspace, open_workspace

runner = CliRunner()
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("plan")
    generate_demo(out / "data", reps=8, weeks=30, seed=5)
    ws = init_workspace(out / "ws")
    import_paths(ws, [out / "data"])
    ws.close()
    return out / "ws"


@pytest.fixture(scope="module")
def model(demo_ws) -> PipelineForecaster:
    with open_workspace(demo_ws, read_only=True) as ws:
        return PipelineForecaster().fit(load_snapshot(ws, None))


def test_batched_objective_matches_forecast_expected_bookings(model):
    rep = model.snapshot_.rep_ids[0]  # forecast.expected_bookings answers for the first rep
    obj = BookingsObjective(model, rep, 13, practice_curves(model, rep, load_job_model()))
    rng = np.random.default_rng(1)
    xs = np.maximum(obj.current + rng.uniform(-1, 2, (4, len(obj.current))), 0.0)
    want = np.asarray(expected_bookings(model, rep, obj.as_allocations(xs), 13))
    np.testing.assert_allclose(obj._local(xs), want, rtol=1e-10)


def test_every_practice_with_time_has_a_curve_and_a_marginal_value(model):
    rep = model.snapshot_.rep_ids[1]
    curves = practice_curves(model, rep, load_job_model())
    assert "value_creation" not in curves  # a quality practice has no hours of its own
    assert len(curves) == 17
    assert curves["prospecting"].kind.startswith("arrivals")
    assert "conversion" in curves["closing"].kind
    kinds = {c.kind for c in curves.values()}
    assert "prior" in kinds
    opt = AllocationOptimizer(weeks=13, check=False).fit(model, rep, weekly_hours=40)
    assert all(v > 0 for v in opt.marginal_values_.values())


@pytest.mark.parametrize("i", [1, 3])
def test_plan_respects_floors_moves_capacity_and_beats_current_in_simulation(model, i):
    rep = model.snapshot_.rep_ids[i]
    opt = AllocationOptimizer(weeks=26, max_move=2.0, max_move_share=0.3, paths=1000,
                              seed=3).fit(model, rep, weekly_hours=40)
    cur, new = opt.current_, opt.allocation_
    cap = opt.capacity_
    assert sum(new.values()) <= cap["budget"] + 0.01  # budget is reported to 0.01 h
    for p, h in new.items():
        lo, hi = opt.bounds_[p]
        assert lo - 1e-6 <= h <= hi + 1e-6
        assert h >= opt.floors_[p] - 1e-6  # floors always hold
        limit = max(2.0, 0.3 * cur[p])
        assert abs(h - cur[p]) <= limit + 1e-6 or h == pytest.approx(opt.floors_[p])
    assert opt.expected_bookings_["recommended"] >= opt.expected_bookings_["current"]
    assert opt.no_worse_ is True
    assert opt.gain_ is not None and opt.gain_["mean"] > 0 and opt.gain_["p50"] > 0
    assert opt.gain_["p10"] <= opt.gain_["p50"] <= opt.gain_["p90"]
    # KKT: practices strictly inside their bounds share one marginal value.
    inside = [opt.marginal_values_[p] for p, h in new.items()
              if opt.bounds_[p][0] + 0.05 < h < opt.bounds_[p][1] - 0.05]
    if len(inside) >= 2:
        assert max(inside) / min(inside) < 1.05


def test_rebalance_only_keeps_the_logged_hours(model):
    rep = model.snapshot_.rep_ids[2]
    opt = AllocationOptimizer(weeks=13, capacity_weight=0.0, check=False).fit(
        model, rep, weekly_hours=40)
    logged = opt.capacity_["current_selling_hours"]
    assert sum(opt.allocation_.values()) <= max(logged, opt.capacity_["budget"]) + 0.01


def test_ics_parses_and_blocks_sum_to_the_rounded_plan():
    alloc = {"prospecting": 6.2, "referrals": 0.7, "closing": 3.0, "icp_focus": 0.2,
             "sales_process": 2.4}
    blocks = calendar_blocks(alloc, date(2025, 7, 7), "Europe/Berlin")
    raw = to_ics(blocks, rep_id="R1")
    cal = Calendar.from_ical(raw)
    events = [c for c in cal.walk("VEVENT")]
    assert len(events) == len(blocks)
    total: dict[str, float] = {}
    for ev in events:
        start, end = ev.decoded("dtstart"), ev.decoded("dtend")
        assert ev.get("uid") and ev.get("dtstamp")
        assert ev["dtstart"].params.get("TZID") == "Europe/Berlin"
        assert start.weekday() < 5 and (end - start).total_seconds() >= 1800
        practice = str(ev.get("summary")).split(": ")[1].split(" (")[0].replace(" ", "_")
        total[practice] = total.get(practice, 0.0) + (end - start).total_seconds() / 3600
    want = {p: rounded_blocks(h) * 0.5 for p, h in alloc.items() if rounded_blocks(h)}
    assert total == pytest.approx(want)
    assert "icp_focus" not in total  # 0.2 h rounds to no block
    assert str(events[0].get("summary")).startswith("wholejob: ")
    assert cal.walk("VTIMEZONE")


def test_cli_plan_json_and_ics(demo_ws, tmp_path):
    ics = tmp_path / "plan.ics"
    r = runner.invoke(app, ["plan", "-w", str(demo_ws), "--rep", "R00002", "--weeks", "13",
                            "--max-move", "2", "--paths", "400", "--ics", str(ics),
                            "--week-of", "2025-07-07", "--format", "json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert {"rep_id", "current", "recommended", "expected_bookings", "gain"} <= set(out)
    assert set(out["expected_bookings"]) >= {"current", "recommended"}
    assert set(out["gain"]) >= {"p10", "p50", "p90"}
    assert len(out["recommended"]) == 17
    cal = Calendar.from_ical(ics.read_bytes())
    hours = sum((e.decoded("dtend") - e.decoded("dtstart")).total_seconds() / 3600
                for e in cal.walk("VEVENT"))
    want = sum(rounded_blocks(h) * 0.5 for h in out["recommended"].values())
    assert hours == pytest.approx(want)
    bad = runner.invoke(app, ["plan", "-w", str(demo_ws), "--rep", "NOPE"])
    assert bad.exit_code != 0
