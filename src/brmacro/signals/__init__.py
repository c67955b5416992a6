"""Signal layer: strategies, their regime-aware aggregation and the signal monitor.

The public functions are re-exported here; :mod:`brmacro.signals.steps` holds the step functions
the pipeline calls and :mod:`brmacro.signals.schemas` the declared tables.
"""

from __future__ import annotations

from brmacro.signals.aggregation import (
    DEFAULT_TILTS,
    Aggregate,
    aggregate_instrument,
    conviction_from_z,
    regime_tilt,
    stale_sessions,
    staleness_factor,
)
from brmacro.signals.market import Market, StrategyGap, zscore_last
from brmacro.signals.monitor import divergences, flips_and_surges, weekly_flip_counts
from brmacro.signals.strategies import STRATEGIES, StrategyRun, StrategySignal, run_strategies

__all__ = [
    "DEFAULT_TILTS",
    "STRATEGIES",
    "Aggregate",
    "Market",
    "StrategyGap",
    "StrategyRun",
    "StrategySignal",
    "aggregate_instrument",
    "conviction_from_z",
    "divergences",
    "flips_and_surges",
    "regime_tilt",
    "run_strategies",
    "stale_sessions",
    "staleness_factor",
    "weekly_flip_counts",
    "zscore_last",
]
