"""Portfolio schemas: optimiser targets and the sized model book.

Weights and exposures are signed fractions of NAV in the price convention (DESIGN §4).
"""

from __future__ import annotations

from brmacro.io import Col, Schema

__all__ = ["PORTFOLIO_SCHEMAS", "SIZING"]

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
PORTFOLIO_SCHEMAS: dict[str, dict[str, Schema]] = {
    "portfolio_sizing": {"part": SIZING},
}
