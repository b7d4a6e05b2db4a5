"""Chart specs: what a chart shows, as plain JSON-ready data, built from a scorecard.

A :class:`ChartSpec` says *what* to draw (kind, title, axes, series, colour scale,
legend) and nothing about pixels; :func:`wholejob.reports.svg.render_svg` draws it
as inline SVG and the web dashboard reuses the same specs through
:meth:`ChartSpec.to_json`. Every value is a number, ``None`` (unknown) or a
string, so a spec round-trips through JSON unchanged.

Kinds and how their fields are read:

- ``heatmap``: ``x`` categories are practices, ``y`` categories are reps; one
  series per rep (row) whose ``values`` are effort positions (see
  :class:`~wholejob.reports.labels.EffortState`), ``states`` name each cell's
  state, ``labels`` hold the text shown in it and ``notes`` its tooltip.
- ``radar``: ``x`` categories are the spokes; ``y`` is the radial axis; series
  styled ``area``/``line``/``dashed``/``dotted`` are polygons on it, a ``rim``
  series is a 0-100 score drawn as labelled dots outside the outer ring.
- ``lines``: ``x`` categories are weeks; each series is a line (``None`` = gap).
- ``fan``: ``x`` categories are weeks; ``band`` series carry ``lower``/``upper``,
  ``line`` series the median; ``meta`` may hold ``reference`` (a horizontal line),
  ``reference_label`` and ``marker`` (a week index to flag, ``marker_label``).
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from wholejob.jobmodel import OTHER, JobModel
from wholejob.reports.labels import (
    ABBREVIATIONS,
    STATE_COLOURS,
    STATE_LABELS,
    effort_state,
    format_hours,
    format_score,
    practice_groups,
    practice_names,
    quality_ids,
    scorecard_practices,
    sellers,
)
from wholejob.scorecard import RepScore, Scorecard

__all__ = [
    "GROUP_COLOURS",
    "Axis",
    "ChartSpec",
    "ColourScale",
    "ColourStop",
    "LegendItem",
    "Series",
    "effort_trend",
    "fan_chart",
    "rep_radar",
    "team_heatmap",
]

GROUPS: tuple[str, ...] = (
    "pipeline generation", "winning deals", "customers", "craft", "non-selling",
)
GROUP_COLOURS: dict[str, str] = {
    "pipeline generation": "#2c6fbb",
    "winning deals": "#c0392b",
    "customers": "#2e8b57",
    "craft": "#8e5ab5",
    "non-selling": "#7f7f7f",
}
RADAR_MAX = 2.0  # the radar's outer ring is twice the target


@dataclass(frozen=True)
class Axis:
    """One axis: its label, its categories (short and long names) or its numeric range."""

    label: str
    categories: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    min: float | None = None
    max: float | None = None
    ticks: list[float] = field(default_factory=list)
    unit: str = ""


@dataclass(frozen=True)
class Series:
    """One series: named values in axis order, with optional per-value text and states."""

    name: str
    values: list[float | None]
    key: str = ""
    style: str = "line"  # line | area | dashed | dotted | rim | band | cells
    colour: str = ""
    labels: list[str] = field(default_factory=list)
    states: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    lower: list[float | None] = field(default_factory=list)
    upper: list[float | None] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ColourStop:
    """A value on a colour scale and the colour it maps to."""

    value: float
    colour: str


@dataclass(frozen=True)
class ColourScale:
    """A piecewise-linear colour scale plus fixed colours for states without a value.

    Two stops may share a value-neighbourhood to make a sharp edge (e.g. at the
    floor); ``named`` maps a state such as ``unknown`` to its colour.
    """

    label: str
    stops: list[ColourStop]
    named: dict[str, str] = field(default_factory=dict)

    def colour(self, value: float | None, state: str = "") -> str:
        """Return the colour of a value, or of the state when the value is unknown."""
        if value is None or not self.stops:
            return self.named.get(state, "#d9d9d9")
        stops = self.stops
        if value <= stops[0].value:
            return stops[0].colour
        for lo, hi in itertools.pairwise(stops):
            if lo.value <= value <= hi.value:
                span = hi.value - lo.value
                t = 0.0 if span <= 0 else (value - lo.value) / span
                return _mix(lo.colour, hi.colour, t)
        return stops[-1].colour


@dataclass(frozen=True)
class LegendItem:
    """One legend entry: a label and how it is drawn (swatch, line, dashed, hatched...)."""

    label: str
    colour: str
    style: str = "swatch"


@dataclass(frozen=True)
class ChartSpec:
    """What a chart shows, independent of how it is drawn."""

    kind: str
    title: str
    description: str
    x: Axis | None = None
    y: Axis | None = None
    series: list[Series] = field(default_factory=list)
    colour_scale: ColourScale | None = None
    legend: list[LegendItem] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict (every field, nested dataclasses as dicts)."""
        return asdict(self)

    def dumps(self) -> str:
        """Return the spec as a JSON string."""
        return json.dumps(self.to_json(), separators=(",", ":"))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChartSpec:
        """Rebuild a spec from :meth:`to_json` output."""
        scale = data.get("colour_scale")
        return cls(
            kind=data["kind"],
            title=data["title"],
            description=data["description"],
            x=Axis(**data["x"]) if data.get("x") else None,
            y=Axis(**data["y"]) if data.get("y") else None,
            series=[Series(**s) for s in data.get("series", [])],
            colour_scale=ColourScale(
                label=scale["label"],
                stops=[ColourStop(**s) for s in scale["stops"]],
                named=dict(scale.get("named", {})),
            ) if scale else None,
            legend=[LegendItem(**item) for item in data.get("legend", [])],
            meta=dict(data.get("meta", {})),
        )


def _mix(a: str, b: str, t: float) -> str:
    """Blend two ``#rrggbb`` colours, ``t`` = 0 gives ``a``."""
    ca = [int(a[i : i + 2], 16) for i in (1, 3, 5)]
    cb = [int(b[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(ca, cb, strict=True))


# Red deepens the further below the floor; amber turns green towards the target.
EFFORT_SCALE = ColourScale(
    label="weekly hours vs the practice's floor and target",
    stops=[
        ColourStop(0.0, "#9e1f14"),
        ColourStop(0.999, "#e06c5a"),
        ColourStop(1.0, "#f0b429"),
        ColourStop(1.999, "#9fc35a"),
        ColourStop(2.0, "#2e8b57"),
        ColourStop(2.999, "#3f7fb5"),
        ColourStop(3.0, "#2c6fbb"),
    ],
    named={s: STATE_COLOURS[s] for s in ("unknown", "not_time", "unscored")},
)


def _effort_legend() -> list[LegendItem]:
    return [
        LegendItem(STATE_LABELS["below_floor"], EFFORT_SCALE.colour(0.5)),
        LegendItem(STATE_LABELS["floor_to_target"], EFFORT_SCALE.colour(1.2)),
        LegendItem(STATE_LABELS["at_target"], EFFORT_SCALE.colour(2.0)),
        LegendItem(STATE_LABELS["well_above"], EFFORT_SCALE.colour(3.0)),
        LegendItem("unknown (no activities)", STATE_COLOURS["unknown"], "hatched"),
        LegendItem("not time of its own", STATE_COLOURS["not_time"]),
    ]


def team_heatmap(
    scorecard: Scorecard, model: JobModel | None = None, *, title: str = ""
) -> ChartSpec:
    """Build the reps x practices heatmap of weekly hours against each floor and target."""
    practices = scorecard_practices(scorecard)
    names = practice_names(model)
    quality = quality_ids(model)
    reps = sellers(scorecard)
    rows: list[Series] = []
    for rep in reps:
        values: list[float | None] = []
        states: list[str] = []
        labels: list[str] = []
        notes: list[str] = []
        for pid in practices:
            ps = rep.practices.get(pid)
            st = effort_state(ps, quality=pid in quality)
            values.append(st.position)
            states.append(st.state)
            labels.append({"unknown": "?", "not_time": "\u2013"}.get(st.state, format_hours(
                st.hours_per_week)))
            floor = ps.floor_hours_per_week if ps else None
            target = ps.target_hours_per_week if ps else None
            notes.append(
                f"{rep.name} · {names.get(pid, pid)}: {st.label}"
                + ("" if st.hours_per_week is None else
                   f" ({format_hours(st.hours_per_week)} h/wk; floor {format_hours(floor)}, "
                   f"target {format_hours(target)})")
            )
        rows.append(Series(
            name=rep.name, key=rep.rep_id, style="cells", values=values, states=states,
            labels=labels, notes=notes,
            meta={"balance_index": rep.balance_index, "team": rep.team},
        ))
    below = sum(s.states.count("below_floor") for s in rows)
    unknown = sum(s.states.count("unknown") for s in rows)
    return ChartSpec(
        kind="heatmap",
        title=title or "Where the time goes: hours per week against each practice's floor",
        description=(
            f"Heatmap of {len(rows)} reps by {len(practices)} practices. Each cell shows the "
            f"rep's hours per week on the practice, coloured red below the practice's floor, "
            f"amber from floor to target, green at target and blue at twice the target or "
            f"more. {below} cells are below the floor; {unknown} are unknown (no activities)."
        ),
        x=Axis(label="practice", categories=[ABBREVIATIONS.get(p, p) for p in practices],
               titles=[names.get(p, p) for p in practices]),
        y=Axis(label="rep", categories=[r.name for r in reps],
               titles=[r.rep_id for r in reps]),
        series=rows,
        colour_scale=EFFORT_SCALE,
        legend=_effort_legend(),
        meta={"practices": practices, "rep_ids": [r.rep_id for r in reps],
              "row_note_label": "balance"},
    )


def _ratio(value: float | None, target: float | None) -> float | None:
    if value is None or target is None or target <= 0:
        return None
    return min(value / target, RADAR_MAX)


def rep_radar(rep: RepScore, scorecard: Scorecard, model: JobModel | None = None) -> ChartSpec:
    """Build a rep's 18-spoke radar: effort against floor, target and team median.

    Each spoke is scaled to the practice's target (1 = the target ring, capped at
    twice the target), so practices of very different sizes compare at a glance;
    effectiveness (0-100 against peers) sits as a labelled dot beyond the rim.
    """
    practices = scorecard_practices(scorecard)
    names = practice_names(model)
    quality = quality_ids(model)
    scored = [p for p in practices if p not in quality]
    ps = [rep.practices.get(p) for p in scored]

    def pick(attr: str) -> list[float | None]:
        return [
            _ratio(getattr(s, attr) if s else None, s.target_hours_per_week if s else None)
            for s in ps
        ]

    effort = pick("hours_per_week")
    hours_labels = [format_hours(s.hours_per_week if s else None) for s in ps]
    series = [
        Series("target", [1.0 if s and s.target_hours_per_week else None for s in ps],
               style="line", colour="#2e8b57"),
        Series("floor", pick("floor_hours_per_week"), style="dashed", colour="#c0392b"),
        Series("team median", pick("team_median_hours_per_week"), style="dotted",
               colour="#555555"),
        Series(rep.name, effort, key=rep.rep_id, style="area", colour="#2c6fbb",
               labels=hours_labels,
               notes=[f"{names.get(p, p)}: {h} h/wk" for p, h in zip(scored, hours_labels,
                                                                    strict=True)]),
        Series("effectiveness", [s.effectiveness_score if s else None for s in ps],
               style="rim", colour="#8e5ab5",
               labels=[format_score(s.effectiveness_score if s else None) for s in ps]),
    ]
    unknown = sum(v is None for v in effort)
    return ChartSpec(
        kind="radar",
        title=f"{rep.name}: effort across the job",
        description=(
            f"Radar of {rep.name}'s hours per week on {len(scored)} practices, each spoke "
            "scaled to the practice's target (the solid ring; the outer ring is twice the "
            "target). The dashed line is the floor, the dotted line the team median. "
            "Numbers beyond the rim are effectiveness scores from 0 to 100 (50 = team "
            f"median). {unknown} practices have unknown effort."
        ),
        x=Axis(label="practice", categories=[ABBREVIATIONS.get(p, p) for p in scored],
               titles=[names.get(p, p) for p in scored]),
        y=Axis(label="hours per week as a multiple of target", min=0.0, max=RADAR_MAX,
               ticks=[0.5, 1.0, 1.5, 2.0], unit="\u00d7 target"),
        series=series,
        legend=[
            LegendItem(f"{rep.name} (h/wk ÷ target)", "#2c6fbb", "area"),
            LegendItem("target", "#2e8b57", "line"),
            LegendItem("floor", "#c0392b", "dashed"),
            LegendItem("team median", "#555555", "dotted"),
            LegendItem("effectiveness score (0\u2013100)", "#8e5ab5", "dot"),
        ],
        meta={"practices": scored, "rep_id": rep.rep_id,
              "omitted": [p for p in practices if p in quality]},
    )


def _nice_axis(values: Sequence[float | None], minimum: float = 1.0) -> tuple[float, list[float]]:
    """Return a round axis maximum and 3-6 evenly spaced round ticks from zero."""
    top = max([minimum, *(v for v in values if v is not None)])
    raw = top / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if raw <= m * magnitude)
    n = math.ceil(top / step - 1e-9)
    return float(step * n), [round(step * i, 6) for i in range(n + 1)]


def effort_trend(rep: RepScore, scorecard: Scorecard, model: JobModel | None = None) -> ChartSpec:
    """Build a rep's weekly hours per practice group over the scorecard's weeks.

    A group's week is the sum of its practices' known hours; it is unknown
    (a gap in the line) when every practice of the group is unknown that week.
    """
    groups = practice_groups(model)
    weeks = [w.isoformat() for w in scorecard.weeks]
    series: list[Series] = []
    for group in GROUPS:
        members = [p for p in (*scorecard_practices(scorecard), OTHER)
                   if groups.get(p) == group and p in rep.practices]
        if not members:
            continue
        values: list[float | None] = []
        for i in range(len(weeks)):
            week = [_at(rep.practices[p].weekly_hours, i) for p in members]
            known = [h for h in week if h is not None]
            values.append(round(sum(known), 2) if known else None)
        series.append(Series(group, values, key=group, style="line",
                             colour=GROUP_COLOURS[group], meta={"practices": members}))
    top, ticks = _nice_axis([v for s in series for v in s.values])
    gaps = sum(v is None for s in series for v in s.values)
    return ChartSpec(
        kind="lines",
        title=f"{rep.name}: hours per week by part of the job",
        description=(
            f"Line chart of {rep.name}'s weekly hours in {len(series)} practice groups over "
            f"{len(weeks)} weeks" + (f" from {weeks[0]} to {weeks[-1]}" if weeks else "")
            + (f"; {gaps} group-weeks are unknown and left as gaps." if gaps else ".")
        ),
        x=Axis(label="week starting", categories=weeks),
        y=Axis(label="hours per week", min=0.0, max=top, ticks=ticks, unit="h"),
        series=series,
        legend=[LegendItem(s.name, s.colour, "line") for s in series],
        meta={"rep_id": rep.rep_id},
    )


def _at(values: list[float | None], i: int) -> float | None:
    return values[i] if i < len(values) else None


def fan_chart(
    *,
    title: str,
    weeks: Sequence[date | str],
    p10: Sequence[float | None],
    p50: Sequence[float | None],
    p90: Sequence[float | None],
    y_label: str,
    unit: str = "",
    name: str = "forecast",
    description: str = "",
    reference: float | None = None,
    reference_label: str = "",
    marker: int | None = None,
    marker_label: str = "",
) -> ChartSpec:
    """Build a fan chart: a p10-p90 band around the p50 line over weeks.

    ``reference`` draws a horizontal line (e.g. the quota-coverage level);
    ``marker`` flags a week by index (e.g. the week the pipeline runs dry).
    """
    n = len(weeks)
    if not len(p10) == len(p50) == len(p90) == n:
        raise ValueError(f"fan_chart: weeks, p10, p50 and p90 need the same length ({n})")
    labels = [w.isoformat() if isinstance(w, date) else str(w) for w in weeks]
    top, ticks = _nice_axis([*p90, *p50, reference])
    known_mid = [v for v in p50 if v is not None]
    text = description or (
        f"Fan chart of {name} over {n} weeks: the shaded band runs from the 10th to the "
        "90th percentile, the line is the median"
        + (f" (median ends at {known_mid[-1]:,.0f} {unit})." if known_mid else ".")
    )
    return ChartSpec(
        kind="fan",
        title=title,
        description=text.strip(),
        x=Axis(label="week starting", categories=labels),
        y=Axis(label=y_label, min=0.0, max=top, ticks=ticks, unit=unit),
        series=[
            Series(f"{name} p10\u2013p90", list(p50), style="band", colour="#2c6fbb",
                   lower=list(p10), upper=list(p90)),
            Series(f"{name} p50", list(p50), style="line", colour="#1f4e85"),
        ],
        legend=[
            LegendItem("p10\u2013p90", "#2c6fbb", "band"),
            LegendItem("median (p50)", "#1f4e85", "line"),
            *([LegendItem(reference_label or "reference", "#c0392b", "dashed")]
              if reference is not None else []),
        ],
        meta={"reference": reference, "reference_label": reference_label,
              "marker": marker, "marker_label": marker_label},
    )

