"""Forecast engine: closed-form checks of the ladder propagation and the Monte Carlo."""

from __future__ import annotations

import numpy as np
import pytest

from wholejob.forecast.ladder import beta_binomial_strength, transition_matrices
from wholejob.forecast.simulate import propagate, simulate_paths


def _single_stage(p_win: float, leave: float, weeks: int, n0: float, arrivals: float,
                  amount: float):
    """One open stage: leave with prob ``leave`` a week, then won with prob ``p_win``."""
    rate = np.array([[[[-np.log(1 - leave)]]]])  # (K, R, G, S)
    split = np.array([[[[[p_win, 1 - p_win]]]]])[..., None, :]  # (K, R, G, S, D) D = won, lost
    split = np.concatenate([np.zeros((1, 1, 1, 1, 1)), split[..., 0, :]], axis=-1)
    mats = transition_matrices(rate, split)
    a = amount
    return propagate(
        mats, np.array([[[n0]]]), np.array([[[n0 * a]]]), np.array([[[n0 * a * a]]]),
        np.full((1, 1, 1), arrivals), np.full((1, 1, 1), a), np.full((1, 1, 1), a * a),
        np.array([a]), np.array([a * a]), weeks,
    )


def test_transition_rows_sum_to_one():
    rng = np.random.default_rng(1)
    rate = rng.gamma(2.0, 0.2, (3, 4, 2, 5))
    split = rng.dirichlet(np.ones(7), (3, 4, 2, 5))
    m = transition_matrices(rate, split)
    assert np.allclose(m.sum(axis=-1), 1.0)


def test_existing_deals_expected_bookings_match_geometric_theory():
    p, q, weeks, n0, a = 0.3, 0.2, 10, 40.0, 1000.0
    mom = _single_stage(p, q, weeks, n0, 0.0, a)
    won_by = p * (1 - (1 - q) ** np.arange(1, weeks + 1))
    assert np.allclose(np.cumsum(mom.win_m1[0, 0]), n0 * a * won_by)
    assert np.allclose(mom.open_lam[0, 0], n0 * (1 - q) ** np.arange(1, weeks + 1))


def test_poisson_arrivals_mean_and_variance_match_theory_within_mc_error():
    # Arrivals at rate lam per week, one stage, geometric time in stage, conversion p:
    # wins by week W are Poisson with mean lam * sum_u p (1 - (1 - q)^(W - u)).
    p, q, weeks, lam, a = 0.4, 0.25, 12, 3.0, 500.0
    mom = _single_stage(p, q, weeks, 0.0, lam, a)
    u = np.arange(1, weeks + 1)
    mean_count = lam * (p * (1 - (1 - q) ** (weeks - u))).sum()
    sim = simulate_paths(mom, 40_000, 3, rep_quantiles=False, threads=1)
    total = sim.team_bookings[:, -1].astype(np.float64)
    n = len(total)
    theory_mean, theory_var = a * mean_count, a * a * mean_count
    assert abs(total.mean() - theory_mean) < 4 * np.sqrt(theory_var / n)
    # The variance estimate's standard error is about var * sqrt(2 / n) (plus kurtosis).
    assert abs(total.var() / theory_var - 1) < 0.05
    assert np.isclose(float(mom.win_m1.sum()), theory_mean)


def test_simulation_is_deterministic_by_seed_and_threads():
    mom = _single_stage(0.3, 0.2, 8, 20.0, 2.0, 1000.0)
    a = simulate_paths(mom, 1000, 11, threads=1)
    b = simulate_paths(mom, 1000, 11, threads=2)
    c = simulate_paths(mom, 1000, 12, threads=1)
    assert np.array_equal(a.team_bookings, b.team_bookings)
    assert not np.array_equal(a.team_bookings, c.team_bookings)


@pytest.mark.parametrize("spread", [0.0, 0.2])
def test_beta_binomial_strength_pools_reps_that_differ_only_by_noise(spread):
    rng = np.random.default_rng(5)
    trials = np.full((40, 1), 200.0)
    p = np.clip(0.3 + spread * rng.standard_normal((40, 1)), 0.01, 0.99)
    kappa = beta_binomial_strength(rng.binomial(200, p).astype(float), trials)
    if spread == 0.0:
        assert kappa[0] > 100  # nearly full pooling
    else:
        assert kappa[0] < 10  # reps really differ: little pooling
