"""The optimiser finds the known optimum of small concave problems (water-filling by hand)."""

from __future__ import annotations

import numpy as np
import pytest

from wholejob.plan import PlanError, feasible_start, maximise


def _log_problem(a: np.ndarray):
    return (lambda x: float((a * np.log1p(x)).sum()), lambda x: a / (1 + x))


def test_log_budget_water_filling():
    # x_i = a_i / nu - 1 with sum 10: nu = 14 / 10 ... x = 1.4 a - 1.
    a = np.array([1.0, 2.0, 3.0, 4.0])
    f, g = _log_problem(a)
    res = maximise(f, g, np.zeros(4), np.full(4, 100.0), 10.0, np.full(4, 2.5))
    np.testing.assert_allclose(res.x, [0.4, 1.8, 3.2, 4.6], atol=1e-4)
    assert res.x.sum() == pytest.approx(10.0, abs=1e-6)


def test_log_with_a_binding_floor():
    # Unconstrained x0 = 0.5 < floor 2; the rest share 4 h: nu = 5/6 -> 0.2, 3.8.
    a = np.array([1.0, 1.0, 4.0])
    f, g = _log_problem(a)
    res = maximise(f, g, np.array([2.0, 0.0, 0.0]), np.full(3, 50.0), 6.0, np.ones(3))
    np.testing.assert_allclose(res.x, [2.0, 0.2, 3.8], atol=1e-4)


def test_power_law_with_a_move_limit():
    # a_i x^0.5: x_i proportional to a_i^2 -> (1, 4, 9) for a budget of 14; capping x2
    # at 6 moves the other 8 h in proportion 1:4 -> (1.6, 6.4).
    a = np.array([1.0, 2.0, 3.0])

    def f(x: np.ndarray) -> float:
        return float((a * np.sqrt(np.maximum(x, 0))).sum())

    def g(x: np.ndarray) -> np.ndarray:
        return np.asarray(a * 0.5 / np.sqrt(np.maximum(x, 1e-12)))

    lo = np.full(3, 0.1)
    free = maximise(f, g, lo, np.full(3, 14.0), 14.0, np.array([4.0, 5.0, 5.0]))
    np.testing.assert_allclose(free.x, [1.0, 4.0, 9.0], atol=1e-3)
    capped = maximise(f, g, lo, np.array([14.0, 14.0, 6.0]), 14.0, np.array([4.0, 5.0, 5.0]))
    np.testing.assert_allclose(capped.x, [1.6, 6.4, 6.0], atol=1e-3)


def test_infeasible_floors_and_feasible_start():
    f, g = _log_problem(np.ones(2))
    with pytest.raises(PlanError):
        maximise(f, g, np.array([3.0, 3.0]), np.full(2, 9.0), 5.0)
    x = feasible_start(np.array([5.0, 5.0]), np.array([1.0, 0.0]), np.array([4.0, 9.0]), 5.0)
    assert x.sum() == pytest.approx(5.0) and x[0] >= 1.0 and x[0] <= 4.0
