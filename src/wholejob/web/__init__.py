"""The web dashboard and JSON API, built by :func:`create_app` from a workspace folder.

Every page has a JSON twin under ``/api/`` computed by the same data function,
so what a page shows and what the API returns cannot disagree; both are scoped
by :func:`wholejob.access.visible_reps`.
"""

from __future__ import annotations

from wholejob.web.app import create_app
from wholejob.web.state import WebSettings

__all__ = ["WebSettings", "create_app"]
