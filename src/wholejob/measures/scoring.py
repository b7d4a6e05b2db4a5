"""Scores 0-100: effort against the job model's floor and target, measures against peers.

- **Effort score** is piecewise linear in hours per week: 0 at no time, 50 at
  the floor, 100 at the target and above (capped: more than the target is not
  better effort; the balance module judges over-investment). With a floor of 0
  it runs straight from 0 to 100 at the target. Unknown hours or no target give
  None.
- **Measure score** is the rep's percentile among peers with a known value:
  100 x (peers strictly worse + half the other peers tied) / (peers - 1), in the
  measure's direction. A lone rep (or a lone known value) scores 50.
- **Effectiveness score** of a practice is the mean of its known measure scores.
- **Team median / top quartile** are over the peers' known values; the top
  quartile is the 75th percentile when higher is better, else the 25th.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "PeerValues",
    "effectiveness_score",
    "effort_score",
    "percentile_score",
    "team_median",
    "top_quartile",
]


def effort_score(hours_per_week: float | None, floor: float | None,
                 target: float | None) -> float | None:
    """Score hours per week: 0 at none, 50 at the floor, 100 at or above the target."""
    if hours_per_week is None or target is None or target <= 0:
        return None
    h = max(hours_per_week, 0.0)
    f = floor if floor is not None and 0 < floor < target else None
    if h >= target:
        return 100.0
    if f is None:
        return round(100.0 * h / target, 1)
    if h <= f:
        return round(50.0 * h / f, 1)
    return round(50.0 + 50.0 * (h - f) / (target - f), 1)


def _known(values: Sequence[float | None]) -> list[float]:
    return [float(v) for v in values if v is not None and not np.isnan(v)]


def percentile_score(value: float | None, peers: Sequence[float | None],
                     higher_is_better: bool = True) -> float | None:
    """Return the rep's percentile (0-100) among peers' known values, ties halved."""
    if value is None:
        return None
    known = np.asarray(_known(peers))
    if known.size <= 1:
        return 50.0
    below = float(np.sum(known < value))
    above = float(np.sum(known > value))
    ties = known.size - below - above - 1  # the rep itself is among the peers
    better = below if higher_is_better else above
    return round(100.0 * (better + 0.5 * max(ties, 0.0)) / (known.size - 1), 1)


def team_median(peers: Sequence[float | None]) -> float | None:
    """Median of the peers' known values."""
    known = _known(peers)
    return float(np.median(known)) if known else None


def top_quartile(peers: Sequence[float | None], higher_is_better: bool = True) -> float | None:
    """The value a rep must reach to be in the best quarter of peers."""
    known = _known(peers)
    if not known:
        return None
    return float(np.quantile(known, 0.75 if higher_is_better else 0.25))


class PeerValues:
    """The peers' known values of one figure, summarised once for every rep scored on it.

    Gives the same numbers as :func:`team_median`, :func:`top_quartile` and
    :func:`percentile_score` called with the same peers, but sorts the values
    once: scoring every rep against every peer one by one costs reps squared.
    """

    def __init__(self, peers: Sequence[float | None], higher_is_better: bool = True):
        self.higher_is_better = higher_is_better
        self._known = _known(peers)
        self._sorted = np.sort(np.asarray(self._known, dtype=float))
        self.median = team_median(self._known)
        self.top_quartile = top_quartile(self._known, higher_is_better)

    def score(self, value: float | None) -> float | None:
        """Return :func:`percentile_score` of ``value`` among these peers."""
        if value is None:
            return None
        n = self._sorted.size
        if n <= 1:
            return 50.0
        if np.isnan(value):  # no comparison holds: every peer counts as a tie
            return percentile_score(value, self._known, self.higher_is_better)
        below = float(np.searchsorted(self._sorted, value, side="left"))
        above = float(n - np.searchsorted(self._sorted, value, side="right"))
        ties = n - below - above - 1  # the rep itself is among the peers
        better = below if self.higher_is_better else above
        return round(100.0 * (better + 0.5 * max(ties, 0.0)) / (n - 1), 1)


def effectiveness_score(scores: Sequence[float | None]) -> float | None:
    """Mean of the known measure scores of a practice."""
    known = _known(scores)
    return round(float(np.mean(known)), 1) if known else None
