"""Portfolio schemas: optimiser targets and the sized model book.

Weights and exposures are signed fractions of NAV in the price convention (DESIGN §4).
"""

from __future__ import annotations

from brmacro.desk.schemas import DESK_SCHEMAS
from brmacro.io import Col, Schema

__all__ = ["COVARIANCE", "OPTIM", "PORTFOLIO_SCHEMAS", "SIZING", "SOLVE", "VIEWS"]

SIZING = Schema(
    "portfolio_sizing",
    (
        Col("date", "date"),
        Col("instrument", "str", doc="instrument table name"),
        Col("asset_class", "str"),
        Col("target_weight", "float", doc="optimiser target, NAV fraction, signed"),
        Col("weight", "float", doc="sized position, NAV fraction, signed (exposure per unit of NAV)"),
        Col("notional_brl", "float", doc="signed notional in BRL = weight x NAV"),
        Col("contract", "str", doc="listed contract carrying the order, e.g. DI1F28, DOLF27, INDZ26"),
        Col("contracts", "float", doc="signed number of contracts (rounded to whole contracts)"),
        Col("dv01_brl", "float", doc="BRL gained per 1 bp fall in the yield (rates instruments; 0 otherwise)"),
        Col("vol", "float", lo=0.0, doc="annualised volatility estimate used for sizing"),
        Col("method", "str", doc="vol_target | half_kelly | risk_budget"),
    ),
    key=("instrument",),
)

# portfolio_optimization's tables are declared by the optimisation module's owner below.
OPTIM = Schema(
    "portfolio_optimization",
    (
        Col("date", "date"),
        Col("instrument", "str"),
        Col("asset_class", "str"),
        Col("target_weight", "float", doc="optimiser target, NAV fraction, signed (price convention)"),
        Col("prior_return", "float", doc="Black-Litterman prior mean, daily excess return"),
        Col("posterior_return", "float", doc="Black-Litterman posterior mean, daily excess return"),
        Col("view_q", "float", nullable=True, doc="Q = IC x daily vol x z of the aggregated-signal view (null: none)"),
        Col("vol", "float", lo=0.0, doc="annualised volatility from the Ledoit-Wolf covariance"),
        Col("lower", "float", doc="lower weight bound"),
        Col("upper", "float", doc="upper weight bound"),
    ),
    key=("instrument",),
    doc="Black-Litterman + constrained mean-variance targets per instrument",
)

SOLVE = Schema(
    "portfolio_optimization.solve",
    (
        Col("date", "date"),
        Col("status", "str", doc="solver status (optimal, infeasible, solver_error, invalid_input, ...)"),
        Col("objective", "float", nullable=True, doc="mu'w - delta/2 w'(S+S_BL)w at the solution, daily"),
        Col("solver", "str"),
        Col("fallback", "bool", doc="the conservative fallback (flat book) replaced the solution"),
        Col("fallback_reason", "str"),
        Col("n_views", "int", lo=0),
        Col("n_obs", "int", lo=0, doc="sessions in the covariance window"),
        Col("delta", "float", doc="risk aversion"),
        Col("tau", "float"),
        Col("prior", "str", doc="zero | risk_parity"),
        Col("ex_ante_vol", "float", lo=0.0, doc="annualised ex-ante vol of the targets (Ledoit-Wolf S)"),
        Col("gross", "float", lo=0.0, doc="sum of |target weights|"),
    ),
    key=("date",),
    doc="One row: how the optimisation went (solve time is logged, never stored)",
)

VIEWS = Schema(
    "portfolio_optimization.views",
    (
        Col("date", "date"),
        Col("view_id", "str", doc="AGG:<instrument> (aggregated signals) or XA:<key> (cross-asset view)"),
        Col("instrument", "str"),
        Col("source", "str", doc="signal_aggregation | agent_cross_asset"),
        Col("z", "float", doc="signal score"),
        Col("q", "float", doc="view return, daily"),
        Col("confidence", "float", lo=0.0, hi=1.0),
        Col("adj_confidence", "float", lo=0.0, hi=1.0, doc="confidence x regime-clarity scale"),
        Col("omega", "float", lo=0.0, doc="view variance"),
    ),
    key=("view_id",),
)

COVARIANCE = Schema(
    "portfolio_optimization.covariance",
    (
        Col("date", "date"),
        Col("instrument_a", "str"),
        Col("instrument_b", "str"),
        Col("cov", "float", doc="Ledoit-Wolf covariance of daily returns"),
    ),
    key=("instrument_a", "instrument_b"),
)

PORTFOLIO_SCHEMAS: dict[str, dict[str, Schema]] = {
    "portfolio_optimization": {"part": OPTIM, "solve": SOLVE, "views": VIEWS, "covariance": COVARIANCE},
    "portfolio_sizing": {"part": SIZING, **DESK_SCHEMAS},
}
