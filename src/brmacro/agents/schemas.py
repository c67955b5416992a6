"""Agent schemas: the signal table and features every agent writes, and the cross-asset view.

Direction is in the price convention of DESIGN §4: +1 long the instrument's price, -1 short
(a DI1 receiver is +1). ``instrument`` names a row of the instrument table, or is empty for a
signal about something not traded (a regime, a tail-risk grade).
"""

from __future__ import annotations

from brmacro.io import Col, Schema

__all__ = ["AGENTS_SCHEMAS", "REGIMES", "SIGNALS", "FEATURES", "VIEW"]

REGIMES = ("goldilocks", "reflation", "stagflation", "deflation")

SIGNALS = Schema(
    "agent_signals",
    (
        Col("date", "date"),
        Col("agent", "str", doc="inflation | monetary_policy | fiscal | fx_equilibrium | cross_asset"),
        Col("signal_id", "str", doc="unique per session, e.g. INFLATION_PHILLIPS, MONETARY_COMPOSITE"),
        Col("instrument", "str", doc="instrument table name, or '' when the signal is not about a tradable"),
        Col("direction", "int", lo=-1, hi=1, doc="+1 long / 0 neutral / -1 short, price convention"),
        Col("strength", "str", doc="STRONG | MODERATE | WEAK | NO_SIGNAL"),
        Col("confidence", "float", lo=0.0, hi=1.0),
        Col("value", "float", nullable=True, doc="the model's raw output in project units (e.g. Taylor gap, decimal)"),
        Col("horizon", "int", lo=0, doc="horizon in B3 sessions"),
        Col("is_composite", "bool", doc="the agent's composite signal"),
        Col("drivers", "str", doc="JSON object of the key drivers and their values"),
    ),
    key=("signal_id",),
)

FEATURES = Schema(
    "agent_features",
    (
        Col("date", "date"),
        Col("agent", "str"),
        Col("feature", "str"),
        Col("value", "float", nullable=True, doc="project units; null = not computable (see note)"),
        Col("note", "str", doc="unit or why the value is missing"),
    ),
    key=("feature",),
)

VIEW = Schema(
    "agent_cross_asset.view",
    (
        Col("date", "date"),
        Col("regime", "str", doc="goldilocks | reflation | stagflation | deflation (most probable HMM state)"),
        Col("p_goldilocks", "float", lo=0.0, hi=1.0),
        Col("p_reflation", "float", lo=0.0, hi=1.0),
        Col("p_stagflation", "float", lo=0.0, hi=1.0),
        Col("p_deflation", "float", lo=0.0, hi=1.0),
        Col("regime_clarity", "float", lo=0.0, hi=1.0, doc="max probability rescaled: (pmax - 1/4) / (3/4)"),
        Col("tail_risk_score", "float", lo=0.0, hi=100.0),
        Col("tail_risk_grade", "str", doc="low | moderate | elevated | critical"),
        Col("sentiment_index", "float", nullable=True),
        Col("views", "str", doc="JSON: asset class -> {direction, confidence, rationale}"),
        Col("key_trades", "str", doc="JSON list of {instrument, direction, rationale}"),
        Col("consistency_issues", "str", doc="JSON list of {rule, severity, message}"),
    ),
    key=("date",),
)

_AGENT = {"part": SIGNALS, "features": FEATURES}

AGENTS_SCHEMAS: dict[str, dict[str, Schema]] = {
    "agent_inflation": dict(_AGENT),
    "agent_monetary_policy": dict(_AGENT),
    "agent_fiscal": dict(_AGENT),
    "agent_fx_equilibrium": dict(_AGENT),
    "agent_cross_asset": {**_AGENT, "view": VIEW},
}
