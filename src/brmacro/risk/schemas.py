"""Risk schemas: VaR/CVaR and its decomposition, stress tests, limits, risk budget and model-book P&L.

Every figure is a fraction of NAV (DESIGN §4). VaR, CVaR and losses are **positive numbers for
losses**; P&L is signed (positive = gain). Utilisation is a fraction (1.0 = at the limit).
"""

from __future__ import annotations

from brmacro.io import Col, Schema

__all__ = [
    "BUDGET",
    "COMPONENTS",
    "COMPONENTS_BOOKS",
    "LIMITS",
    "LIMITS_BOOKS",
    "PNL",
    "REPLAY",
    "REVERSE",
    "RISK_SCHEMAS",
    "STATUSES",
    "STRESS",
    "STRESS_BOOKS",
    "VAR",
    "VAR_BOOKS",
]

#: Status of one limit row; ``N/A`` when the value cannot be computed (the note says why).
STATUSES = ("OK", "WARNING", "BREACHED", "N/A")

VAR = Schema(
    "risk_var",
    (
        Col("date", "date"),
        Col("method", "str", doc="historical | parametric | monte_carlo"),
        Col("confidence", "float", lo=0.5, hi=1.0, doc="0.95 or 0.99"),
        Col("var", "float", doc="one-day VaR, NAV fraction, positive = loss"),
        Col("cvar", "float", doc="one-day CVaR (expected shortfall), NAV fraction, positive = loss"),
        Col("n_obs", "int", lo=0, doc="return sessions used (draws for monte_carlo)"),
        Col("note", "str", doc="estimator details, window, fallbacks"),
    ),
    key=("method", "confidence"),
    doc="One-day VaR and CVaR of today's model book by method and confidence",
)

COMPONENTS = Schema(
    "risk_var.components",
    (
        Col("date", "date"),
        Col("instrument", "str"),
        Col("weight", "float", doc="sized weight, NAV fraction, signed"),
        Col("marginal_var", "float", nullable=True,
            doc="dVaR/dw_i = z (Sigma w)_i / sigma_p (parametric, Ledoit-Wolf); null for a flat book"),
        Col("component_var", "float", doc="w_i x marginal_var; sums to the parametric VaR"),
        Col("pct_contribution", "float", nullable=True,
            doc="component_var / parametric VaR (fraction; sums to 1); null for a flat book"),
    ),
    key=("instrument",),
    doc="Euler decomposition of the parametric VaR at var.components_confidence",
)

STRESS = Schema(
    "risk_stress",
    (
        Col("date", "date"),
        Col("scenario", "str"),
        Col("kind", "str", doc="hypothetical"),
        Col("pnl", "float", doc="scenario P&L, NAV fraction, signed (negative = loss)"),
        Col("worst_instrument", "str", doc="instrument with the most negative P&L ('' when none loses)"),
        Col("worst_pnl", "float", doc="that instrument's P&L, NAV fraction (0 when none loses)"),
        Col("unmapped_exposure", "float", lo=0.0,
            doc="sum of |weight| of held instruments the scenario has no shock for (NAV fraction)"),
        Col("note", "str", doc="shocks applied, yields repriced from, first-order (duration) P&L, unmapped "
                               "instruments, moves realised in the scenario's window on this history"),
    ),
    key=("scenario",),
    doc="Hypothetical scenarios: yield shocks fully repriced (DI1 PU, ZN note), price shocks on weights",
)

REVERSE = Schema(
    "risk_stress.reverse",
    (
        Col("date", "date"),
        Col("scenario", "str"),
        Col("multiplier", "float", nullable=True,
            doc="smallest k such that k x scenario (repriced) loses reverse_loss of NAV; null when infeasible"),
        Col("note", "str"),
    ),
    key=("scenario",),
    doc="Reverse stress: the multiple of each scenario that loses stress.reverse_loss of NAV",
)

REPLAY = Schema(
    "risk_stress.replay",
    (
        Col("date", "date"),
        Col("window", "str"),
        Col("start", "date"),
        Col("end", "date"),
        Col("pnl", "float", nullable=True,
            doc="today's weights x cumulative window returns from the close of its first session (silver_returns "
                "part and crisis), NAV fraction; null when not in history"),
        Col("worst_pnl", "float", nullable=True, doc="worst point of the cumulative P&L path in the window"),
        Col("n_sessions", "int", lo=0, doc="window sessions after the first present in the returns"),
        Col("coverage", "float", lo=0.0, hi=1.0, doc="n_sessions / B3 sessions of the window after its first"),
        Col("note", "str"),
    ),
    key=("window",),
    doc="Historical replay of crisis windows on today's weights",
)

LIMITS = Schema(
    "risk_limits",
    (
        Col("date", "date"),
        Col("limit", "str", doc="limit name; 'overall' carries the overall status"),
        Col("value", "float", nullable=True, doc="measured value in the limit's unit; losses positive"),
        Col("limit_value", "float", nullable=True, doc="the limit (risk.limits config)"),
        Col("utilisation", "float", nullable=True, doc="value / limit_value as a fraction (losses only)"),
        Col("status", "str", doc="OK | WARNING | BREACHED | N/A"),
        Col("note", "str", doc="unit, inputs used, why a value is missing"),
    ),
    key=("limit",),
    doc="Static limits, loss limits, DV01 limit and overall status",
)

BUDGET = Schema(
    "risk_limits.budget",
    (
        Col("date", "date"),
        Col("level", "str", doc="position | asset_class | total"),
        Col("name", "str", doc="instrument, asset class, or 'total'"),
        Col("risk_contribution", "float", doc="share of the parametric VaR (fraction, hedges negative)"),
        Col("budget", "float", lo=0.0, doc="budget share (fraction)"),
        Col("utilisation", "float", doc="risk_contribution / budget"),
    ),
    key=("level", "name"),
    doc="Risk budget by position and asset class, from risk_var.components",
)

PNL = Schema(
    "risk_limits.pnl",
    (
        Col("date", "date", doc="session whose P&L this is"),
        Col("sizing_date", "date", nullable=True, doc="session of the portfolio_sizing held (two sessions before)"),
        Col("pnl", "float", nullable=True, doc="model-book P&L, NAV fraction, signed; null when unavailable"),
        Col("available", "bool"),
        Col("note", "str"),
    ),
    key=("date",),
    doc="Model-book P&L of the last five sessions: sizing(D-2) . returns(D)",
)

def _per_book(base: Schema, table: str, doc: str) -> Schema:
    """``base`` with a ``book`` column (held | proposed) after ``date``, keyed by book first."""
    book = Col("book", "str", doc="held (the desk's positions file) | proposed (held + today's orders)")
    return Schema(f"{base.name.split('.')[0]}.{table}", (base.cols[0], book, *base.cols[1:]),
                  key=("book", *base.key), doc=doc)


#: The desk's held and proposed books side by side (empty when no positions file was delivered).
VAR_BOOKS = _per_book(VAR, "books", "VaR and CVaR of the held and the proposed book (portfolio_sizing.books)")
COMPONENTS_BOOKS = _per_book(COMPONENTS, "books_components", "Euler decomposition for the held and proposed books")
STRESS_BOOKS = _per_book(STRESS, "books", "Hypothetical scenarios on the held and the proposed book")
LIMITS_BOOKS = _per_book(LIMITS, "books", "Limits of the held and the proposed book; loss limits on the held "
                                          "book's contract P&L")

RISK_SCHEMAS: dict[str, dict[str, Schema]] = {
    "risk_var": {"part": VAR, "components": COMPONENTS, "books": VAR_BOOKS, "books_components": COMPONENTS_BOOKS},
    "risk_stress": {"part": STRESS, "reverse": REVERSE, "replay": REPLAY, "books": STRESS_BOOKS},
    "risk_limits": {"part": LIMITS, "budget": BUDGET, "pnl": PNL, "books": LIMITS_BOOKS},
}
