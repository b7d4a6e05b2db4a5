"""Measures: effort and effectiveness of every rep on every practice, in the engine.

:func:`build_scorecard` computes the :class:`~wholejob.scorecard.Scorecard`;
:func:`trace` returns the records behind any figure in it. ``docs/measures.md``
gives every formula.
"""

from __future__ import annotations

from wholejob.measures.build import build_scorecard, trace
from wholejob.measures.registry import MEASURES
from wholejob.measures.spec import MeasureSpec

__all__ = ["MEASURES", "MeasureSpec", "build_scorecard", "trace"]
