"""Signal layer: strategies, their regime-aware aggregation and the signal monitor.

The public functions are re-exported here; :mod:`brmacro.signals.steps` holds the step functions
the pipeline calls and :mod:`brmacro.signals.schemas` the declared tables.
"""

from __future__ import annotations

from brmacro._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "Aggregate": "aggregation",
        "aggregate_instrument": "aggregation",
        "conviction_from_z": "aggregation",
        "regime_tilt": "aggregation",
        "stale_sessions": "aggregation",
        "staleness_factor": "aggregation",
        "Market": "market",
        "StrategyGap": "market",
        "zscore_last": "market",
        "zscore_path": "market",
        "divergences": "monitor",
        "flips_and_surges": "monitor",
        "weekly_flip_counts": "monitor",
        "STRATEGIES": "strategies",
        "StrategyRun": "strategies",
        "StrategySignal": "strategies",
        "run_strategies": "strategies",
    },
)
