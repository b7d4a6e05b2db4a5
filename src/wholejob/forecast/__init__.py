"""Pipeline forecast: stage ladder, arrival response curves, Monte Carlo, backtests.

See ``docs/forecast.md`` for the model, its shrinkage and priors, the as-of
semantics and measured backtest accuracy.
"""

from __future__ import annotations

from wholejob.errors import ForecastDataError
from wholejob.forecast.amounts import LognormalAmounts
from wholejob.forecast.arrivals import (
    PRIOR_ELASTICITY,
    RESPONSES,
    AdbudgResponse,
    ArrivalModel,
    PowerResponse,
)
from wholejob.forecast.backtest import BacktestResult, run_backtest
from wholejob.forecast.data import (
    SEGMENTS,
    STREAM_PRACTICE,
    STREAMS,
    Snapshot,
    load_snapshot,
)
from wholejob.forecast.expected import (
    central_gradient,
    current_allocation,
    expected_bookings,
    expected_bookings_many,
    marginal_bookings,
)
from wholejob.forecast.ladder import StageLadder
from wholejob.forecast.model import PipelineForecaster
from wholejob.forecast.report import Forecast, forecast, parse_what_if

__all__ = [
    "PRIOR_ELASTICITY",
    "RESPONSES",
    "SEGMENTS",
    "STREAMS",
    "STREAM_PRACTICE",
    "AdbudgResponse",
    "ArrivalModel",
    "BacktestResult",
    "Forecast",
    "ForecastDataError",
    "LognormalAmounts",
    "PipelineForecaster",
    "PowerResponse",
    "Snapshot",
    "StageLadder",
    "central_gradient",
    "current_allocation",
    "expected_bookings",
    "expected_bookings_many",
    "forecast",
    "load_snapshot",
    "marginal_bookings",
    "parse_what_if",
    "run_backtest",
]
