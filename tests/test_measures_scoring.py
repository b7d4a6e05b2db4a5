"""Peer summaries score every rep exactly as the one-rep-at-a-time functions do."""

from __future__ import annotations

import math

import numpy as np
import pytest

from wholejob.measures import scoring


def _peers(rng: np.random.Generator, n: int) -> list[float | None]:
    # Few distinct values so ties are common; some unknown and NaN values.
    out: list[float | None] = [float(x) for x in rng.integers(0, 6, size=n)]
    for i in rng.choice(n, size=n // 5, replace=False):
        out[i] = None if i % 2 else math.nan
    return out


@pytest.mark.parametrize("higher", [True, False])
@pytest.mark.parametrize("n", [0, 1, 2, 7, 40])
def test_peer_values_match_the_plain_functions(n: int, higher: bool) -> None:
    rng = np.random.default_rng(n)
    peers = _peers(rng, n)
    pv = scoring.PeerValues(peers, higher)
    assert pv.median == scoring.team_median(peers)
    assert pv.top_quartile == scoring.top_quartile(peers, higher)
    for value in [*peers, -1.0, 2.5, 99.0, math.nan]:
        expected = scoring.percentile_score(value, peers, higher)
        got = pv.score(value)
        assert got == expected or (got is not None and expected is not None
                                   and math.isnan(got) and math.isnan(expected)), value


def test_peer_values_of_a_lone_rep_and_of_nobody() -> None:
    assert scoring.PeerValues([None, 3.0]).score(3.0) == 50.0
    nobody = scoring.PeerValues([None, None])
    assert nobody.median is None and nobody.top_quartile is None
    assert nobody.score(None) is None
