"""Chart specs built from hand-made scorecards, and the SVG they render to."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest

from wholejob.jobmodel import PRACTICE_IDS
from wholejob.reports import (
    ChartSpec,
    effort_trend,
    fan_chart,
    render_svg,
    rep_radar,
    team_heatmap,
)
from wholejob.reports.labels import ABBREVIATIONS, effort_state
from wholejob.reports.sample import sample_scorecard
from wholejob.scorecard import MeasureValue, PracticeScore, RepScore, Scorecard

SVG = "{http://www.w3.org/2000/svg}"
WEEKS = [date(2024, 1, 1) + timedelta(weeks=i) for i in range(4)]


def practice(pid: str, hpw: float | None, *, floor: float | None = 2.0,
             target: float | None = 4.0, median: float | None = 3.0,
             weekly: list[float | None] | None = None,
             effectiveness: float | None = 50.0) -> PracticeScore:
    """Build one practice score with the given weekly hours against floor and target."""
    return PracticeScore(
        practice=pid, hours=None if hpw is None else hpw * len(WEEKS), hours_per_week=hpw,
        share=None, activities=None if hpw is None else 3, floor_hours_per_week=floor,
        target_hours_per_week=target, team_median_hours_per_week=median,
        top_quartile_hours_per_week=None, effort_score=None, effectiveness_score=effectiveness,
        weekly_hours=weekly if weekly is not None else [hpw] * len(WEEKS),
        measures=[MeasureValue("m1", pid, "Measure one", 0.4, unit="ratio", team_median=0.5)],
    )


def rep(rep_id: str, name: str, hours: dict[str, float | None], default: float | None = 3.0,
        **extra: object) -> RepScore:
    """Build a rep whose practices have ``default`` hours unless ``hours`` says otherwise."""
    practices = {p: practice(p, hours.get(p, default)) for p in PRACTICE_IDS}
    return RepScore(rep_id=rep_id, name=name, team="East", manager_id=None, role="rep",
                    weekly_hours=40.0, quota=None, practices=practices, **extra)  # type: ignore[arg-type]


def scorecard(*reps: RepScore) -> Scorecard:
    """Wrap reps in a four-week scorecard."""
    return Scorecard(since=WEEKS[0], until=WEEKS[-1] + timedelta(days=6), weeks=WEEKS,
                     currency="EUR", practices=list(PRACTICE_IDS), reps=list(reps))


@pytest.mark.parametrize(("hours", "state", "position"), [
    (0.0, "below_floor", 0.0),
    (1.0, "below_floor", 0.5),
    (2.0, "floor_to_target", 1.0),
    (3.0, "floor_to_target", 1.5),
    (4.0, "at_target", 2.0),
    (6.0, "at_target", 2.5),
    (8.0, "well_above", 3.0),
    (None, "unknown", None),
])
def test_effort_state_places_hours_against_floor_and_target(hours, state, position):
    st = effort_state(practice("prospecting", hours))
    assert (st.state, st.position) == (state, position)


def test_effort_state_marks_quality_practices_and_missing_floors():
    assert effort_state(practice("value_creation", None), quality=True).state == "not_time"
    assert effort_state(practice("closing", 3.0, floor=None, target=None)).state == "unscored"
    assert effort_state(None).state == "unknown"


def test_heatmap_has_one_row_per_rep_and_a_cell_per_practice():
    sc = scorecard(
        rep("R1", "Ann", {"prospecting": 1.0, "closing": 9.0}, balance_index=71.5),
        rep("R2", "Bo", {}, default=None),
    )
    spec = team_heatmap(sc)
    assert spec.kind == "heatmap"
    assert spec.x is not None and spec.y is not None
    assert spec.x.categories == [ABBREVIATIONS[p] for p in PRACTICE_IDS]
    assert spec.y.categories == ["Ann", "Bo"]
    ann, bo = spec.series
    i = PRACTICE_IDS.index("prospecting")
    assert (ann.values[i], ann.states[i], ann.labels[i]) == (0.5, "below_floor", "1.0")
    assert ann.states[PRACTICE_IDS.index("closing")] == "well_above"
    assert ann.meta["balance_index"] == 71.5
    # Value creation has no time of its own; it is not "unknown".
    assert ann.states[PRACTICE_IDS.index("value_creation")] == "not_time"
    # A rep without activities is unknown everywhere, never zero.
    timed = [s for p, s in zip(PRACTICE_IDS, bo.states, strict=True) if p != "value_creation"]
    assert set(timed) == {"unknown"}
    assert all(v is None for v in bo.values)
    assert "?" in bo.labels and "0.0" not in bo.labels
    assert any(item.label.startswith("unknown") and item.style == "hatched"
               for item in spec.legend)


def test_heatmap_leaves_managers_out():
    manager = RepScore("M1", "Boss", "East", None, "manager", 40.0, None,
                       {p: practice(p, 1.0) for p in PRACTICE_IDS})
    spec = team_heatmap(scorecard(rep("R1", "Ann", {}), manager))
    assert [s.key for s in spec.series] == ["R1"]


def test_radar_scales_each_spoke_to_the_target():
    sc = scorecard(rep("R1", "Ann", {"prospecting": 2.0, "closing": 12.0, "insight": None}))
    spec = rep_radar(sc.reps[0], sc)
    assert spec.x is not None
    assert "VAL" not in spec.x.categories  # no time of its own: no spoke
    assert len(spec.x.categories) == 17
    effort = next(s for s in spec.series if s.style == "area")
    floor = next(s for s in spec.series if s.name == "floor")
    median = next(s for s in spec.series if s.name == "team median")
    rim = next(s for s in spec.series if s.style == "rim")
    spokes = spec.meta["practices"]
    assert effort.values[spokes.index("prospecting")] == 0.5
    assert effort.values[spokes.index("closing")] == 2.0  # capped at twice the target
    assert effort.values[spokes.index("insight")] is None
    assert floor.values[0] == 0.5 and median.values[0] == 0.75
    assert rim.values[0] == 50.0


def test_effort_trend_sums_groups_and_keeps_unknown_weeks_as_gaps():
    r = rep("R1", "Ann", {}, default=1.0)
    r.practices["prospecting"] = practice("prospecting", 2.0, weekly=[2.0, None, 2.0, 2.0])
    spec = effort_trend(r, scorecard(r))
    assert spec.x is not None and spec.x.categories[0] == "2024-01-01"
    groups = {s.name: s for s in spec.series}
    pipeline = groups["pipeline generation"]
    members = pipeline.meta["practices"]
    assert "prospecting" in members
    assert pipeline.values[0] == pytest.approx(2.0 + (len(members) - 1) * 1.0)
    assert pipeline.values[1] == pytest.approx(len(members) - 1.0)
    r2 = rep("R2", "Bo", {}, default=None)
    assert all(v is None for s in effort_trend(r2, scorecard(r2)).series for v in s.values)


def test_fan_chart_checks_lengths_and_sets_a_round_axis():
    spec = fan_chart(title="Bookings", weeks=WEEKS, p10=[0, 10, 20, 30], p50=[0, 20, 40, 60],
                     p90=[0, 30, 60, 93], y_label="EUR", reference=50, marker=2,
                     marker_label="runs dry")
    assert spec.y is not None and spec.y.max == 100 and spec.y.ticks[-1] == 100
    band = spec.series[0]
    assert band.lower == [0, 10, 20, 30] and band.upper == [0, 30, 60, 93]
    with pytest.raises(ValueError, match="same length"):
        fan_chart(title="x", weeks=WEEKS, p10=[1], p50=[1], p90=[1], y_label="y")


def _all_specs() -> list[ChartSpec]:
    sc = sample_scorecard(reps=4, weeks=6)
    return [
        team_heatmap(sc), rep_radar(sc.reps[0], sc), rep_radar(sc.reps[-1], sc),
        effort_trend(sc.reps[0], sc), effort_trend(sc.reps[-1], sc),
        fan_chart(title="Open pipeline", weeks=sc.weeks, p10=[1, 2, None, 4, 5, 6],
                  p50=[2, 3, None, 5, 6, 7], p90=[3, 4, None, 6, 7, 8], y_label="EUR",
                  reference=5, reference_label="coverage", marker=4),
    ]


@pytest.mark.parametrize("spec", _all_specs(), ids=lambda s: f"{s.kind}")
def test_specs_round_trip_through_json(spec):
    data = json.loads(json.dumps(spec.to_json()))
    assert ChartSpec.from_json(data) == spec


@pytest.mark.parametrize("spec", _all_specs(), ids=lambda s: f"{s.kind}")
def test_svg_is_well_formed_accessible_and_self_contained(spec):
    svg = render_svg(spec)
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and title.text == spec.title
    assert desc is not None and desc.text
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    texts = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    for item in spec.legend:
        assert item.label in texts
    assert "<script" not in svg and "href" not in svg and "@import" not in svg
    assert "url(http" not in svg
    assert render_svg(spec) == svg  # deterministic


def test_svg_escapes_names_and_can_drop_the_namespace():
    sc = scorecard(rep("R1", '<script>alert("x")</script> & Co', {}))
    svg = render_svg(team_heatmap(sc), xmlns=False)
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert "http" not in svg
    ET.fromstring(svg)


def test_svg_shows_unknown_as_hatched_not_zero():
    sc = scorecard(rep("R1", "Ann", {}), rep("R2", "Bo", {}, default=None))
    svg = render_svg(team_heatmap(sc), id_prefix="t")
    root = ET.fromstring(svg)
    unknown = [g for g in root.iter(f"{SVG}g") if "unknown" in (g.get("class") or "")]
    assert len(unknown) == 17
    assert all(g.find(f"{SVG}rect").get("fill") == "url(#t-hatch)" for g in unknown)
    assert root.find(f".//{SVG}pattern[@id='t-hatch']") is not None


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown chart kind"):
        render_svg(ChartSpec(kind="pie", title="t", description="d"))
