"""Draw chart specs as self-contained, accessible inline SVG.

The SVG needs nothing from outside: system fonts only, no scripts, no links.
Every chart carries ``<title>`` and ``<desc>`` (named by ``aria-labelledby``),
axis labels and a legend; every cell or point of interest has its own
``<title>`` so a pointer or a screen reader can read the exact figure. Unknown
values are drawn as unknown (hatched grey, a gap, a ``?``), never as zero.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from datetime import date
from html import escape

from wholejob.reports.charts import ChartSpec, LegendItem, Series

__all__ = ["render_svg"]

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
INK = "#222222"
MUTED = "#666666"
GRID = "#e3e3e3"
SVG_NS = "http://www.w3.org/2000/svg"

Point = Callable[[float, float], tuple[float, float]]
Scale = Callable[[float], float]


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _f(x: float) -> str:
    """Format a coordinate compactly (no trailing zeros)."""
    return f"{x:.1f}".rstrip("0").rstrip(".") if not float(x).is_integer() else str(int(x))


def _text_width(text: str, size: float = 12) -> float:
    return len(text) * size * 0.58


def _ink_on(colour: str) -> str:
    """Return black or white, whichever reads better on ``colour``."""
    if not (colour.startswith("#") and len(colour) == 7):
        return INK
    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    lum = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "#ffffff" if lum < 0.5 else INK


class _Canvas:
    """Collects SVG elements and wraps them in an accessible root element."""

    def __init__(self, spec: ChartSpec, prefix: str) -> None:
        self.spec = spec
        self.prefix = prefix
        self.parts: list[str] = []
        self.defs: list[str] = []

    def add(self, element: str) -> None:
        self.parts.append(element)

    def text(self, x: float, y: float, content: str, *, size: float = 12, anchor: str = "start",
             fill: str = INK, weight: str = "normal", extra: str = "") -> None:
        w = ' font-weight="bold"' if weight == "bold" else ""
        self.add(f'<text x="{_f(x)}" y="{_f(y)}" font-size="{_f(size)}" text-anchor="{anchor}" '
                 f'fill="{fill}"{w}{extra}>{_e(content)}</text>')

    def hatch_id(self) -> str:
        pid = f"{self.prefix}-hatch"
        if not self.defs:
            self.defs.append(
                f'<pattern id="{pid}" width="6" height="6" patternUnits="userSpaceOnUse" '
                f'patternTransform="rotate(45)"><rect width="6" height="6" fill="#d4d4d4"/>'
                f'<line x1="0" y1="0" x2="0" y2="6" stroke="#9a9a9a" stroke-width="2"/>'
                f'</pattern>'
            )
        return pid

    def render(self, width: float, height: float, *, xmlns: bool) -> str:
        t, d = f"{self.prefix}-title", f"{self.prefix}-desc"
        defs = f"<defs>{''.join(self.defs)}</defs>" if self.defs else ""
        ns = f' xmlns="{SVG_NS}"' if xmlns else ""
        return (
            f'<svg{ns} viewBox="0 0 {_f(width)} {_f(height)}" '
            f'width="{_f(width)}" height="{_f(height)}" role="img" '
            f'aria-labelledby="{t} {d}" font-family="{_e(FONT)}" class="chart chart-'
            f'{_e(self.spec.kind)}">'
            f'<title id="{t}">{_e(self.spec.title)}</title>'
            f'<desc id="{d}">{_e(self.spec.description)}</desc>{defs}'
            + "".join(self.parts) + "</svg>"
        )


def render_svg(spec: ChartSpec, *, id_prefix: str | None = None, xmlns: bool = True) -> str:
    """Draw a chart spec as an SVG string.

    ``id_prefix`` keeps element ids unique when several charts share one page;
    by default it is derived from the spec, so the same spec gives the same SVG.
    ``xmlns=False`` leaves out the namespace, which SVG inline in HTML does not need.
    """
    prefix = id_prefix or "c" + hashlib.sha1(spec.dumps().encode()).hexdigest()[:8]
    canvas = _Canvas(spec, prefix)
    if spec.kind == "heatmap":
        width, height = _heatmap(canvas)
    elif spec.kind == "radar":
        width, height = _radar(canvas)
    elif spec.kind in ("lines", "fan"):
        width, height = _xy(canvas)
    else:
        raise ValueError(f"render_svg: unknown chart kind {spec.kind!r}")
    return canvas.render(width, height, xmlns=xmlns)


def _legend(canvas: _Canvas, items: list[LegendItem], x0: float, y0: float,
            width: float) -> float:
    """Draw legend items left to right, wrapping at ``width``; return the height used."""
    if not items:
        return 0.0
    x, y = x0, y0
    row = 18.0
    canvas.add('<g class="legend" aria-label="legend">')
    for item in items:
        w = 26 + _text_width(item.label, 11) + 14
        if x + w > x0 + width and x > x0:
            x, y = x0, y + row
        _legend_mark(canvas, item, x, y)
        canvas.text(x + 24, y + 4, item.label, size=11, fill=INK)
        x += w
    canvas.add("</g>")
    return y - y0 + row


def _legend_mark(canvas: _Canvas, item: LegendItem, x: float, y: float) -> None:
    c = _e(item.colour)
    if item.style in ("swatch", "hatched", "band", "area"):
        fill = f"url(#{canvas.hatch_id()})" if item.style == "hatched" else c
        opacity = ' fill-opacity="0.35"' if item.style in ("band", "area") else ""
        stroke = f' stroke="{c}"' if item.style == "area" else ' stroke="#999999"'
        canvas.add(f'<rect x="{_f(x)}" y="{_f(y - 6)}" width="18" height="12" fill="{fill}"'
                   f'{opacity}{stroke} stroke-width="0.5"/>')
    elif item.style == "dot":
        canvas.add(f'<circle cx="{_f(x + 9)}" cy="{_f(y)}" r="5" fill="{c}"/>')
    else:
        dash = {"dashed": ' stroke-dasharray="5 3"', "dotted": ' stroke-dasharray="1.5 2.5"'}
        canvas.add(f'<line x1="{_f(x)}" y1="{_f(y)}" x2="{_f(x + 18)}" y2="{_f(y)}" '
                   f'stroke="{c}" stroke-width="2.5"{dash.get(item.style, "")}/>')


def _heatmap(canvas: _Canvas) -> tuple[float, float]:
    spec = canvas.spec
    assert spec.x is not None and spec.y is not None
    cols, rows = spec.x.categories, spec.series
    cell_w, cell_h = 42.0, 26.0
    label_w = max([90.0, *(_text_width(s.name, 12) + 16 for s in rows)])
    top = 58.0
    note_w = 64.0
    grid_w = cell_w * len(cols)
    width = max(label_w + grid_w + note_w + 10, 520.0)
    canvas.text(8, 20, spec.title, size=15, weight="bold")
    # Column heads: the abbreviation, with the full name as its tooltip.
    for j, (abbr, name) in enumerate(zip(cols, spec.x.titles or cols, strict=False)):
        cx = label_w + j * cell_w + cell_w / 2
        canvas.add(f'<g><title>{_e(name)}</title>')
        canvas.text(cx, top - 8, abbr, size=11, anchor="middle", fill=INK, weight="bold")
        canvas.add("</g>")
    note_label = str(spec.meta.get("row_note_label", ""))
    if note_label:
        canvas.text(label_w + grid_w + note_w / 2, top - 8, note_label, size=11,
                    anchor="middle", weight="bold")
    scale = spec.colour_scale
    for i, row in enumerate(rows):
        y = top + i * cell_h
        canvas.text(label_w - 8, y + cell_h / 2 + 4, row.name, anchor="end")
        canvas.add(f'<g class="row" aria-label="{_e(row.name)}">')
        for j in range(len(cols)):
            value = row.values[j] if j < len(row.values) else None
            state = row.states[j] if j < len(row.states) else "unknown"
            x = label_w + j * cell_w
            if state == "unknown":
                fill = f"url(#{canvas.hatch_id()})"
                ink = INK
            else:
                fill = scale.colour(value, state) if scale else "#d9d9d9"
                ink = _ink_on(fill)
            note = row.notes[j] if j < len(row.notes) else ""
            label = row.labels[j] if j < len(row.labels) else ""
            canvas.add(
                f'<g class="cell {_e(state)}"><title>{_e(note)}</title>'
                f'<rect x="{_f(x)}" y="{_f(y)}" width="{_f(cell_w - 2)}" '
                f'height="{_f(cell_h - 2)}" fill="{fill}" rx="2"/>'
            )
            canvas.text(x + (cell_w - 2) / 2, y + cell_h / 2 + 3, label, size=11,
                        anchor="middle", fill=ink)
            canvas.add("</g>")
        canvas.add("</g>")
        if note_label:
            bi = row.meta.get("balance_index")
            text = "?" if bi is None else f"{float(bi):.0f}"
            canvas.text(label_w + grid_w + note_w / 2, y + cell_h / 2 + 4, text,
                        anchor="middle", weight="bold")
    y_end = top + len(rows) * cell_h + 6
    canvas.text(label_w + grid_w / 2, y_end + 12, f"{spec.x.label} (hover a column head for "
                "its name); cells: hours per week", size=11, anchor="middle", fill=MUTED)
    used = _legend(canvas, spec.legend, 8, y_end + 34, width - 16)
    return width, y_end + 34 + used + 4


def _radar(canvas: _Canvas) -> tuple[float, float]:
    spec = canvas.spec
    assert spec.x is not None and spec.y is not None
    spokes = spec.x.categories
    n = max(len(spokes), 1)
    radius = 165.0
    width = 560.0
    cx, cy = width / 2, 48 + radius + 44
    top = spec.y.max or 1.0
    canvas.text(8, 20, spec.title, size=15, weight="bold")

    def point(i: float, r: float) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * i / n
        return cx + r * math.cos(angle), cy + r * math.sin(angle)

    # Rings and spokes.
    for tick in spec.y.ticks:
        pts = " ".join(f"{_f(x)},{_f(y)}" for x, y in (point(i, radius * tick / top)
                                                      for i in range(n)))
        canvas.add(f'<polygon points="{pts}" fill="none" stroke="{GRID}" stroke-width="1"/>')
        # Between the first two spokes, clear of the labels at the top.
        lx, ly = point(0.5, radius * tick / top)
        canvas.text(lx + 2, ly + 3, f"{tick:g}{spec.y.unit and ' ' + spec.y.unit[0]}",
                    size=9, fill=MUTED)
    for i in range(n):
        x, y = point(i, radius)
        canvas.add(f'<line x1="{_f(cx)}" y1="{_f(cy)}" x2="{_f(x)}" y2="{_f(y)}" '
                   f'stroke="{GRID}"/>')
    main = next((s for s in spec.series if s.style == "area"), None)
    for s in spec.series:
        if s.style == "rim":
            continue
        _radar_polygon(canvas, s, point, radius, top)
    # Spoke labels, with "?" where the main series is unknown.
    titles = spec.x.titles or spokes
    for i, abbr in enumerate(spokes):
        # Labels sit beyond the effectiveness dots, anchored away from the centre.
        x, y = point(i, radius + 31)
        cos = (x - cx) / (radius + 31)
        anchor = "start" if cos > 0.3 else "end" if cos < -0.3 else "middle"
        unknown = main is not None and (i >= len(main.values) or main.values[i] is None)
        label = f"{abbr} ?" if unknown else abbr
        canvas.add(f'<g><title>{_e(titles[i])}{" — effort unknown" if unknown else ""}</title>')
        canvas.text(x, y + 4, label, size=11, anchor=anchor,
                    fill=MUTED if unknown else INK, weight="bold")
        canvas.add("</g>")
    for s in spec.series:
        if s.style != "rim":
            continue
        for i, v in enumerate(s.values[:n]):
            x, y = point(i, radius + 16)
            text = s.labels[i] if i < len(s.labels) else ("?" if v is None else f"{v:.0f}")
            fill = s.colour if v is not None else "#bdbdbd"
            canvas.add(f'<g><title>{_e(titles[i])}: effectiveness {_e(text)}</title>'
                       f'<circle cx="{_f(x)}" cy="{_f(y)}" r="9" fill="{_e(fill)}"/>')
            canvas.text(x, y + 3.5, text, size=9, anchor="middle", fill="#ffffff")
            canvas.add("</g>")
    canvas.text(cx, cy + radius + 70, spec.y.label, size=11, anchor="middle", fill=MUTED)
    used = _legend(canvas, spec.legend, 8, cy + radius + 94, width - 16)
    return width, cy + radius + 94 + used + 4


def _radar_polygon(canvas: _Canvas, s: Series, point: Point, radius: float,
                   top: float) -> None:
    """Draw a series through its known spokes; unknown spokes are skipped, not zeroed."""
    pts = [(i, v) for i, v in enumerate(s.values) if v is not None]
    if not pts:
        return
    coords = [point(i, radius * min(v, top) / top) for i, v in pts]
    path = " ".join(f"{_f(x)},{_f(y)}" for x, y in coords)
    c = _e(s.colour or INK)
    dash = {"dashed": ' stroke-dasharray="6 4"', "dotted": ' stroke-dasharray="1.5 3"'}.get(
        s.style, "")
    fill = f'fill="{c}" fill-opacity="0.22"' if s.style == "area" else 'fill="none"'
    width = "2.5" if s.style == "area" else "1.6"
    canvas.add(f'<g class="series" aria-label="{_e(s.name)}">'
               f'<polygon points="{path}" {fill} stroke="{c}" stroke-width="{width}"{dash}/>')
    if s.style == "area":
        for (i, _), (x, y) in zip(pts, coords, strict=True):
            note = s.notes[i] if i < len(s.notes) else s.name
            canvas.add(f'<circle cx="{_f(x)}" cy="{_f(y)}" r="3.2" fill="{c}">'
                       f'<title>{_e(note)}</title></circle>')
    canvas.add("</g>")


def _week_label(text: str) -> str:
    try:
        d = date.fromisoformat(text)
    except ValueError:
        return text
    return f"{d.day} {d.strftime('%b')}"


def _xy(canvas: _Canvas) -> tuple[float, float]:
    """Draw a ``lines`` or ``fan`` chart: weeks along x, a numeric y axis."""
    spec = canvas.spec
    assert spec.x is not None and spec.y is not None
    weeks = spec.x.categories
    n = len(weeks)
    width, plot_h = 640.0, 220.0
    left, right, top = 58.0, 16.0, 40.0
    plot_w = width - left - right
    ymin, ymax = spec.y.min or 0.0, spec.y.max or 1.0
    canvas.text(8, 20, spec.title, size=15, weight="bold")

    def sx(i: float) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def sy(v: float) -> float:
        return top + plot_h - plot_h * (min(max(v, ymin), ymax) - ymin) / (ymax - ymin or 1)

    for tick in spec.y.ticks:
        y = sy(tick)
        canvas.add(f'<line x1="{_f(left)}" y1="{_f(y)}" x2="{_f(left + plot_w)}" y2="{_f(y)}" '
                   f'stroke="{GRID}"/>')
        canvas.text(left - 6, y + 4, f"{tick:,.0f}" if ymax >= 10 else f"{tick:g}", size=10,
                    anchor="end", fill=MUTED)
    canvas.add(f'<line x1="{_f(left)}" y1="{_f(top + plot_h)}" x2="{_f(left + plot_w)}" '
               f'y2="{_f(top + plot_h)}" stroke="#999999"/>')
    step = max(1, math.ceil(n / 8))
    for i in range(0, n, step):
        canvas.text(sx(i), top + plot_h + 16, _week_label(weeks[i]), size=10, anchor="middle",
                    fill=MUTED)
    canvas.text(left + plot_w / 2, top + plot_h + 34, spec.x.label, size=11, anchor="middle",
                fill=MUTED)
    canvas.text(14, top + plot_h / 2, spec.y.label, size=11, anchor="middle", fill=MUTED,
                extra=f' transform="rotate(-90 14 {_f(top + plot_h / 2)})"')
    reference = spec.meta.get("reference")
    if isinstance(reference, int | float):
        y = sy(float(reference))
        canvas.add(f'<line x1="{_f(left)}" y1="{_f(y)}" x2="{_f(left + plot_w)}" y2="{_f(y)}" '
                   f'stroke="#c0392b" stroke-width="1.5" stroke-dasharray="6 4"/>')
        label = str(spec.meta.get("reference_label") or "")
        if label:
            canvas.text(left + plot_w - 4, y - 5, label, size=10, anchor="end", fill="#c0392b")
    marker = spec.meta.get("marker")
    if isinstance(marker, int) and 0 <= marker < n:
        x = sx(marker)
        canvas.add(f'<line x1="{_f(x)}" y1="{_f(top)}" x2="{_f(x)}" y2="{_f(top + plot_h)}" '
                   f'stroke="{INK}" stroke-width="1.2" stroke-dasharray="3 3"/>')
        canvas.text(x + 4, top + 12, str(spec.meta.get("marker_label") or weeks[marker]),
                    size=10, fill=INK)
    for s in spec.series:
        if s.style == "band":
            _band(canvas, s, sx, sy)
    for s in spec.series:
        if s.style != "band":
            _line(canvas, s, sx, sy, weeks)
    used = _legend(canvas, spec.legend, left, top + plot_h + 52, plot_w)
    return width, top + plot_h + 52 + used + 4


def _runs(values: list[tuple[int, float | None, float | None]]) -> list[list[tuple[int, float,
                                                                                  float]]]:
    """Split (index, a, b) triples into runs where both a and b are known."""
    runs: list[list[tuple[int, float, float]]] = []
    current: list[tuple[int, float, float]] = []
    for i, a, b in values:
        if a is None or b is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append((i, a, b))
    if current:
        runs.append(current)
    return runs


def _band(canvas: _Canvas, s: Series, sx: Scale, sy: Scale) -> None:
    c = _e(s.colour or "#2c6fbb")
    canvas.add(f'<g class="band" aria-label="{_e(s.name)}">')
    for run in _runs(list(zip(range(len(s.lower)), s.lower, s.upper, strict=False))):
        upper = [f"{_f(sx(i))},{_f(sy(b))}" for i, _, b in run]
        lower = [f"{_f(sx(i))},{_f(sy(a))}" for i, a, _ in reversed(run)]
        canvas.add(f'<polygon points="{" ".join(upper + lower)}" fill="{c}" '
                   'fill-opacity="0.22" stroke="none"/>')
    canvas.add("</g>")


def _line(canvas: _Canvas, s: Series, sx: Scale, sy: Scale, weeks: list[str]) -> None:
    c = _e(s.colour or INK)
    canvas.add(f'<g class="series" aria-label="{_e(s.name)}">')
    for run in _runs([(i, v, v) for i, v in enumerate(s.values)]):
        if len(run) == 1:
            i, v, _ = run[0]
            canvas.add(f'<circle cx="{_f(sx(i))}" cy="{_f(sy(v))}" r="2.5" fill="{c}"/>')
            continue
        d = " ".join(f"{'M' if k == 0 else 'L'}{_f(sx(i))},{_f(sy(v))}"
                     for k, (i, v, _) in enumerate(run))
        canvas.add(f'<path d="{d}" fill="none" stroke="{c}" stroke-width="2" '
                   'stroke-linejoin="round"/>')
    # One invisible target per point so a pointer or screen reader gets the figure.
    for i, value in enumerate(s.values):
        if value is None or i >= len(weeks):
            continue
        canvas.add(f'<circle cx="{_f(sx(i))}" cy="{_f(sy(value))}" r="5" fill="transparent">'
                   f'<title>{_e(s.name)}, week of {_e(weeks[i])}: {value:,.1f}</title></circle>')
    canvas.add("</g>")
