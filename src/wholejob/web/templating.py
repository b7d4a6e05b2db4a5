"""Server-side rendering: the Jinja environment, filters, and the page response helper.

Templates are package data under ``wholejob/web/templates`` and render with
autoescaping on. Pages carry no inline script or style (the CSP forbids both);
charts are inline SVG drawn from the same chart specs as the HTML report.
"""

from __future__ import annotations

import functools
import math
from importlib import resources
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from wholejob.access import User
from wholejob.reports.labels import format_hours, format_money, format_score, format_value
from wholejob.web.auth import csrf_token

__all__ = ["environment", "render"]


def _pct(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "?"
    return f"{float(value) * 100:.0f}%"


def _svg(spec: Any, prefix: str = "") -> Markup:
    from wholejob.reports.charts import ChartSpec
    from wholejob.reports.svg import render_svg

    chart = spec if isinstance(spec, ChartSpec) else ChartSpec.from_json(spec)
    return Markup(render_svg(chart, id_prefix=prefix or None, xmlns=False))


@functools.lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """Return the Jinja environment of the dashboard's templates."""
    folder = resources.files("wholejob.web").joinpath("templates")
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        hours=format_hours,
        score=format_score,
        money=lambda v, currency="": format_money(v, currency),
        value=lambda v, unit="", currency="": format_value(v, unit, currency),
        pct=_pct,
        svg=_svg,
    )
    return env


def render(request: Request, template: str, context: dict[str, Any], *,
           status_code: int = 200, user: User | None = None) -> HTMLResponse:
    """Render a page with the signed-in user, navigation and the CSRF token."""
    if user is None:
        user = getattr(request.state, "user", None) or None
    page = environment().get_template(template).render(
        request=request,
        user=user,
        csrf_token=csrf_token(request),
        path=request.url.path,
        **context,
    )
    return HTMLResponse(page, status_code=status_code)
