"""Pipeline forecast: stage ladder, arrival response curves, Monte Carlo, backtests.

See ``docs/forecast.md`` for the model, its shrinkage and priors, the as-of
semantics and measured backtest accuracy.
"""

from __future__ import annotations

from wholejob.forecast.amounts import LognormalAmounts
from wholejob.forecast.arrivals import PRIOR_ELASTICITY, ArrivalModel, PowerResponse
from wholejob.forecast.backtest import BacktestResult, run_backtest
from wholejob.forecast.data import (
    SEGMENTS,
    STREAM_PRACTICE,
    STREAMS,
    ForecastDataError,
    Snapshot,
    load_snapshot,
)
from wholejob.forecast.ladder import StageLadder
from wholejob.forecast.model import PipelineForecaster, current_allocation, expected_bookings
from wholejob.forecast.report import Forecast, forecast, parse_what_if

__all__ = [
    "PRIOR_ELASTICITY",
    "SEGMENTS",
    "STREAMS",
    "STREAM_PRACTICE",
    "ArrivalModel",
    "BacktestResult",
    "Forecast",
    "ForecastDataError",
    "LognormalAmounts",
    "PipelineForecaster",
    "PowerResponse",
    "Snapshot",
    "StageLadder",
    "current_allocation",
    "expected_bookings",
    "forecast",
    "load_snapshot",
    "parse_what_if",
    "run_backtest",
]
