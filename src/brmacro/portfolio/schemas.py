"""Portfolio schemas: optimiser targets and the sized model book.

Weights and exposures are signed fractions of NAV in the price convention (DESIGN §4).
"""

from __future__ import annotations

from brmacro.desk.schemas import DESK_SCHEMAS
from brmacro.io import Col, Schema

__all__ = ["BOOK", "COVARIANCE", "OPTIM", "PORTFOLIO_SCHEMAS", "SIZING", "SOLVE", "VIEWS"]

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
        Col("vol", "float", lo=0.0, doc="annualised volatility (brmacro.covariance, the optimiser's window)"),
        Col("method", "str", doc="vol_target | half_kelly | risk_budget"),
        Col("origin", "str", doc="why the position exists: 'views: <strategy ids>', 'covariance hedge of <X>', "
                                 "or why it is flat"),
    ),
    key=("instrument",),
    doc="The model book: weights rounded to whole contracts (weight = contracts x contract notional / NAV)",
)

BOOK = Schema(
    "portfolio_sizing.book",
    (
        Col("date", "date"),
        Col("binding", "str", doc="what bound the book: vol_target | kelly | gross | dv01 | var_95 | var_99 | "
                                  "class_cap:<class> | bound:<instrument> | risk_contribution:<held> | "
                                  "flat_fallback | flat_no_view"),
        Col("ex_ante_vol", "float", lo=0.0, doc="annualised ex-ante vol of the sized (rounded) book"),
        Col("target_vol", "float", lo=0.0, doc="portfolio.sizing.target_vol"),
        Col("reason", "str", doc="one plain sentence, e.g. 'sized to the DV01 limit: 8.8 % vol against a 10.0 % "
                                 "target'"),
        Col("gross", "float", lo=0.0, doc="sum of |weight|"),
        Col("dv01_brl", "float", lo=0.0, doc="sum of |DV01|, BRL per bp"),
        Col("method", "str"),
        Col("reference", "str", doc="the reference book of the optimiser's cost term: the desk's positions file, "
                                    "or 'flat' (no positions file for the session; docs/portfolio.md §3)"),
    ),
    key=("date",),
    doc="One row: what sized the book and the ex-ante vol it reached against the target",
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
        Col("view_q", "float", nullable=True, doc="q of the aggregated-signal view, per session (null: none)"),
        Col("vol", "float", lo=0.0, doc="annualised volatility from the covariance (brmacro.covariance)"),
        Col("lower", "float", doc="lower weight bound (0 and 0 for an instrument without a view under hedges: forbid)"),
        Col("upper", "float", doc="upper weight bound"),
        Col("cost", "float", lo=0.0, doc="one-way cost of trading one unit of notional, fraction (portfolio.costs)"),
        Col("reference_weight", "float", doc="the cost term's reference: the desk's held weight (DV01-matched for "
                                             "DI1), 0 without a positions file"),
        Col("origin", "str", doc="views: <strategy ids> | covariance hedge of <X> | flat: <why>"),
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
        Col("ex_ante_vol", "float", lo=0.0, doc="annualised ex-ante vol of the targets (brmacro.covariance)"),
        Col("gross", "float", lo=0.0, doc="sum of |target weights|"),
        Col("reference", "str", doc="the cost term's reference book: 'desk positions <file>' or 'flat (no "
                                    "positions file for <D>)'"),
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
        Col("q", "float", doc="view return per session: IC x daily vol x z / sqrt(view horizon), Sharpe-capped"),
        Col("annual_return", "float", doc="the view's expected annual return, q x 252"),
        Col("sharpe", "float", doc="the view's implied Sharpe ratio, annual return / annual vol"),
        Col("confidence", "float", lo=0.0, hi=1.0),
        Col("adj_confidence", "float", lo=0.0, hi=1.0, doc="confidence x regime-clarity scale"),
        Col("omega", "float", lo=0.0, doc="view variance"),
        Col("strategies", "str", doc="strategy / signal ids behind the view, comma-separated"),
    ),
    key=("view_id",),
)

COVARIANCE = Schema(
    "portfolio_optimization.covariance",
    (
        Col("date", "date"),
        Col("instrument_a", "str"),
        Col("instrument_b", "str"),
        Col("cov", "float",
            doc="covariance of daily returns (brmacro.covariance: shrunk correlation, sample variances)"),
    ),
    key=("instrument_a", "instrument_b"),
)

PORTFOLIO_SCHEMAS: dict[str, dict[str, Schema]] = {
    "portfolio_optimization": {"part": OPTIM, "solve": SOLVE, "views": VIEWS, "covariance": COVARIANCE},
    "portfolio_sizing": {"part": SIZING, "book": BOOK, **DESK_SCHEMAS},
}
