"""The report as one JSON document: the scorecard plus its findings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from wholejob.scorecard import Finding, Scorecard

__all__ = ["report_json"]


def report_json(scorecard: Scorecard, findings: Sequence[Finding] = ()) -> dict[str, Any]:
    """Return the design's report JSON (``{"reps": [...]}``) with ``"findings"`` added."""
    return {**scorecard.to_json(), "findings": [f.to_json() for f in findings]}
