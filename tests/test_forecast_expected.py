"""Forecast pieces the plan optimiser and the docs rely on: batched expectations, gradients,
ADBUDG curves, the continuous-time ladder, team paths from summed moments, the error class."""

from __future__ import annotations

import importlib
import pickle

import numpy as np
import pytest
import scipy.linalg

from wholejob.errors import ForecastDataError, WholejobError
from wholejob.forecast import (
    AdbudgResponse,
    ArrivalModel,
    PipelineForecaster,
    current_allocation,
    expected_bookings,
    expected_bookings_many,
    marginal_bookings,
)
from wholejob.forecast.ladder import transition_matrices
from wholejob.forecast.simulate import Moments, simulate_paths

# ``wholejob.forecast`` the attribute is the forecast function; the package is this.
fc = importlib.import_module("wholejob.forecast")


@pytest.fixture(scope="module")
def model(request) -> PipelineForecaster:
    demo_dir = request.getfixturevalue("forecast_demo_dir")
    from wholejob.forecast import load_snapshot
    from wholejob.workspace import open_workspace

    with open_workspace(demo_dir / "ws", read_only=True) as ws:
        snap = load_snapshot(ws)
    return PipelineForecaster().fit(snap)


@pytest.fixture(scope="module")
def forecast_demo_dir(tmp_path_factory):
    from wholejob.demo import generate_demo
    from wholejob.importing.importer import import_paths
    from wholejob.workspace import init_workspace

    out = tmp_path_factory.mktemp("fexp")
    generate_demo(out / "data", reps=8, weeks=30, seed=3)
    ws = init_workspace(out / "ws")
    import_paths(ws, [out / "data"])
    ws.close()
    return out


def test_forecast_data_error_is_in_the_one_hierarchy():
    assert fc.ForecastDataError is ForecastDataError
    assert issubclass(ForecastDataError, WholejobError)
    from wholejob.forecast.data import ForecastDataError as FromData

    assert FromData is ForecastDataError


def test_expected_bookings_many_matches_one_at_a_time_for_every_rep(model):
    practices = ["prospecting", "closing", "referrals"]
    for rep in model.snapshot_.rep_ids[-2:]:  # not only the first rep
        now = current_allocation(model, rep)
        rows = np.array([[now[p] + d for p in practices] for d in (0.0, 2.0, 5.0)])
        many = expected_bookings_many(model, rep, rows, practices, 13)
        one = [expected_bookings(model, rep, dict(zip(practices, row, strict=True)), 13)
               for row in rows]
        assert np.allclose(many, one, rtol=1e-12)
        assert many[0] < many[1] < many[2]  # more prospecting and closing book more
        seq = expected_bookings(model, rep, [dict(zip(practices, r, strict=True))
                                             for r in rows], 13)
        assert np.allclose(seq, many, rtol=1e-12)


def test_expected_bookings_rejects_unknown_or_repeated_practices(model):
    rep = model.snapshot_.rep_ids[0]
    with pytest.raises(ForecastDataError):
        expected_bookings_many(model, rep, np.ones((1, 1)), ["juggling"], 13)
    with pytest.raises(ForecastDataError):
        expected_bookings_many(model, rep, np.ones((1, 2)), ["closing", "closing"], 13)


def test_marginal_bookings_agrees_with_differences_and_is_zero_where_nothing_is_driven(model):
    rep = model.snapshot_.rep_ids[1]
    now = current_allocation(model, rep)
    grad = marginal_bookings(model, rep, now, 13)
    assert set(grad) == set(model.practices_)
    assert grad["prospecting"] > 0
    step = 0.5
    up = expected_bookings(model, rep, dict(now, prospecting=now["prospecting"] + step), 13)
    down = expected_bookings(model, rep, dict(now, prospecting=now["prospecting"] - step), 13)
    assert grad["prospecting"] == pytest.approx((up - down) / (2 * step), rel=0.05)
    driving = set(fc.STREAM_PRACTICE.values()) | {
        p for p, row in zip(model.practices_, model.snapshot_.stage_practices, strict=True)
        if row.any()}
    for p in set(model.practices_) - driving:
        assert grad[p] == 0.0


def test_adbudg_curve_is_concave_and_its_marginal_is_the_derivative():
    c = AdbudgResponse(low=0.2, high=2.0, shape=0.8, half=4.0, multiplier=1.3)
    h = np.linspace(0.5, 20, 40)
    y = c(h)
    assert np.all(np.diff(y) > 0) and np.all(np.diff(y, 2) < 0)
    num = (c(h + 1e-5) - c(h - 1e-5)) / 2e-5
    assert np.allclose(c.marginal(h), num, rtol=1e-5)
    assert 0 < c.elasticity(4.0) < 1


def test_arrival_model_recovers_a_saturating_curve_and_auto_chooses_by_fit():
    rng = np.random.default_rng(11)
    n_rep, n_weeks = 30, 40
    hours = rng.uniform(0, 14, (n_rep, n_weeks, 1))
    truth = AdbudgResponse(0.1, 3.0, 1.0, 3.0)
    counts = rng.poisson(truth(hours[..., 0]))[..., None].astype(float)
    for response in ("power", "adbudg", "auto"):
        m = ArrivalModel(response=response).fit(counts, hours, [0])
        curve = m.curves_[0]
        assert curve is not None
        grid = np.array([1.0, 4.0, 10.0])
        assert np.allclose(curve(grid) * m.rep_effect_[:, 0].mean(), truth(grid), rtol=0.35)
    auto = ArrivalModel(response="auto").fit(counts, hours, [0])
    ll = auto.loglik_["0"]
    best = max(ll, key=lambda k: ll[k] - {"power": 3, "adbudg": 4}[k])
    assert type(auto.curves_[0]).__name__.lower().startswith(best[:5])
    with pytest.raises(ValueError):
        ArrivalModel(response="cubic")


def test_weekly_matrix_is_the_exponential_of_the_stage_generator():
    rng = np.random.default_rng(2)
    rate = rng.gamma(3.0, 0.3, (4, 3))
    split = rng.dirichlet(np.ones(5), (4, 3))
    split[:, np.arange(3), np.arange(3)] = 0.0
    split /= split.sum(axis=-1, keepdims=True)
    mats = transition_matrices(rate, split)
    for i in range(4):
        q = np.zeros((5, 5))
        q[:3] = rate[i, :, None] * split[i]
        q[np.arange(3), np.arange(3)] = -rate[i]
        assert np.allclose(mats[i], scipy.linalg.expm(q), atol=1e-10)


def test_team_paths_from_summed_moments_match_the_sum_of_reps():
    rng = np.random.default_rng(4)
    k, r, w = 4, 50, 6
    lam = rng.uniform(0.05, 0.8, (k, r, w))
    amount = rng.uniform(1e3, 5e4, (k, r, w))
    mom = Moments(lam, lam * amount, lam * amount**2 * 1.5, lam * 3, lam * 3 * amount,
                  lam * 3 * amount**2 * 1.5)
    sim = simulate_paths(mom, 40_000, 5, rep_quantiles=True)
    total = sim.team_bookings[:, -1].astype(np.float64)
    mean = (lam * amount).sum(axis=(1, 2)).mean()
    var_within = (lam * amount**2 * 1.5).sum(axis=(1, 2)).mean()
    var = var_within + (lam * amount).sum(axis=(1, 2)).var()
    assert abs(total.mean() - mean) < 4 * np.sqrt(var / len(total))
    assert abs(total.var() / var - 1) < 0.05
    assert np.allclose(sim.rep_bookings_mean[:, -1].sum(), mean)
    assert sim.rep_bookings_q is not None and sim.rep_bookings_q.shape == (r, 3, w)
    assert np.all(np.diff(sim.rep_bookings_q, axis=1) >= 0)  # p10 <= p50 <= p90


def test_fitted_model_pickles_and_clones(model):
    again = pickle.loads(pickle.dumps(model))
    rep = model.snapshot_.rep_ids[0]
    now = current_allocation(model, rep)
    assert expected_bookings(again, rep, now, 8) == expected_bookings(model, rep, now, 8)
    assert model.clone().get_params() == model.get_params()
