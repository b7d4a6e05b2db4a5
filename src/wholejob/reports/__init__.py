"""Reports: chart specs, SVG, HTML and terminal views of a scorecard."""

from wholejob.reports.charts import (
    Axis,
    ChartSpec,
    ColourScale,
    ColourStop,
    LegendItem,
    Series,
    effort_trend,
    fan_chart,
    rep_radar,
    team_heatmap,
)
from wholejob.reports.svg import render_svg

__all__ = [
    "Axis",
    "ChartSpec",
    "ColourScale",
    "ColourStop",
    "LegendItem",
    "Series",
    "effort_trend",
    "fan_chart",
    "render_svg",
    "rep_radar",
    "team_heatmap",
]
