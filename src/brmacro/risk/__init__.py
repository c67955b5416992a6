"""Risk layer: VaR/CVaR (:mod:`.var`), stress tests (:mod:`.stress`), model-book P&L (:mod:`.pnl`),
limits and risk budget (:mod:`.limits`), and the three steps (:mod:`.steps`)."""

from brmacro.risk._common import RiskInputError

__all__ = ["RiskInputError"]
