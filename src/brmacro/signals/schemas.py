"""Signal-layer schemas: the per-instrument consensus, the raw signals behind it, and the monitor.

Direction, z-scores and convictions are in the price convention of DESIGN §4 (+ = long the
instrument's price; a DI1 receiver is long). Convictions are in [-1, 1]; confidences in [0, 1].
"""

from __future__ import annotations

from brmacro.io import Col, Schema

__all__ = ["AGGREGATE", "MONITOR_EVENTS", "MONITOR_SUMMARY", "SIGNALS_SCHEMAS", "STRATEGY_SIGNALS"]

AGGREGATE = Schema(
    "signal_aggregation",
    (
        Col("date", "date"),
        Col("instrument", "str", doc="instrument table name"),
        Col("asset_class", "str", doc="rates_br | fx | equity_br | rates_us | equity_us"),
        Col("conviction", "float", lo=-1.0, hi=1.0, doc="aggregated conviction, price convention"),
        Col("direction", "int", lo=-1, hi=1, doc="+1 long / 0 neutral / -1 short (|conviction| > threshold)"),
        Col("confidence", "float", lo=0.0, hi=1.0, doc="mean raw confidence of the contributing signals (0 if none)"),
        Col("crowded", "bool", doc="crowding penalty applied (majority share above the threshold)"),
        Col("n_signals", "int", lo=0, doc="signals contributing (active, not fully stale)"),
        Col("regime", "str", doc="most probable regime of the cross-asset view used for the tilts"),
        Col("method", "str", doc="bayesian | confidence_weighted | rank_based"),
        Col("contributions", "str", doc="JSON list of {signal_id, conviction, confidence, staleness, tilt, weight}"),
    ),
    key=("instrument",),
    doc="One row per tradable: the regime-aware consensus of strategy and agent signals",
)

STRATEGY_SIGNALS = Schema(
    "signal_aggregation.strategy_signals",
    (
        Col("date", "date"),
        Col("source", "str", doc="strategy | agent"),
        Col("agent", "str", doc="the agent that emitted an agent signal (inflation, monetary_policy, fiscal, "
                                "fx_equilibrium, cross_asset); '' for a strategy"),
        Col("signal_id", "str", doc="strategy id (RATES_BR_01) or agent signal id (MONETARY_COMPOSITE)"),
        Col("instrument", "str", doc="instrument table name ('' for a strategy that could not compute)"),
        Col("status", "str", doc="active | neutral | gap (could not compute: see note)"),
        Col("direction", "int", lo=-1, hi=1, doc="price convention; 0 when neutral or gap"),
        Col("z_score", "float", nullable=True, doc="signed score, + supports long; null on a gap"),
        Col("conviction", "float", nullable=True, lo=-1.0, hi=1.0, doc="clamp(z / z_scale, -1, 1)"),
        Col("confidence", "float", nullable=True, lo=0.0, hi=1.0),
        Col("horizon", "int", nullable=True, lo=0, doc="holding horizon, B3 sessions"),
        Col("signal_date", "date", nullable=True, doc="date of the latest data the signal used"),
        Col("stale_sessions", "int", nullable=True, lo=0, doc="B3 sessions from signal_date to the partition date"),
        Col("staleness", "float", nullable=True, lo=0.0, hi=1.0, doc="staleness factor max(0, 1 - sessions/max)"),
        Col("tilt", "float", nullable=True, lo=0.0, doc="regime tilt of the signal's family"),
        Col("weight", "float", nullable=True, lo=0.0, doc="aggregation weight (before normalisation)"),
        Col("entry_level", "float", nullable=True, doc="instrument level at entry (yield for rates, price otherwise)"),
        Col("stop_level", "float", nullable=True, doc="stop-loss level, same unit as entry_level"),
        Col("take_profit_level", "float", nullable=True, doc="take-profit level, same unit as entry_level"),
        Col("note", "str", doc="JSON of drivers, or why the signal is a gap"),
    ),
    key=("signal_id", "instrument"),
    doc="Every strategy record and agent signal considered by the aggregation, with its weight",
)

MONITOR_EVENTS = Schema(
    "signal_monitor",
    (
        Col("date", "date"),
        Col("event", "str", doc="flip | surge | divergence"),
        Col("instrument", "str"),
        Col("subject", "str", doc="signal id for a divergence, '' otherwise"),
        Col("asset_class", "str"),
        Col("before", "float", nullable=True,
            doc="flip/surge: previous session's conviction; divergence: the signal's conviction"),
        Col("after", "float", doc="flip/surge: today's conviction; divergence: the aggregate conviction"),
        Col("delta", "float", doc="after - before"),
        Col("compared_with", "date", nullable=True, doc="previous session compared (flip/surge)"),
    ),
    key=("event", "instrument", "subject"),
    doc="Flips, surges and divergences of the aggregated signals",
)

MONITOR_SUMMARY = Schema(
    "signal_monitor.summary",
    (
        Col("date", "date"),
        Col("asset_class", "str", doc="an asset class, or 'all'"),
        Col("n_instruments", "int", lo=0),
        Col("n_active", "int", lo=0, doc="instruments with a non-neutral aggregate direction"),
        Col("n_signals", "int", lo=0, doc="active raw signals behind them"),
        Col("flips", "int", lo=0, doc="flips versus the previous session"),
        Col("surges", "int", lo=0),
        Col("divergences", "int", lo=0),
        Col("weekly_flips", "int", lo=0, doc="flips over the consecutive sessions available (up to 5 previous)"),
        Col("has_previous", "bool", doc="a previous session's aggregation was available"),
        Col("n_previous", "int", lo=0, doc="previous sessions read (fewer than configured at the start of history)"),
        Col("regime", "str"),
        Col("note", "str", doc="what was missing, if anything"),
    ),
    key=("asset_class",),
)

SIGNALS_SCHEMAS: dict[str, dict[str, Schema]] = {
    "signal_aggregation": {"part": AGGREGATE, "strategy_signals": STRATEGY_SIGNALS},
    "signal_monitor": {"part": MONITOR_EVENTS, "summary": MONITOR_SUMMARY},
}
