"""The ``portfolio`` section of the config: every key declared once (type, default, bounds, description).

The section's description says what it holds; ``config/schema.yaml`` and ``config/README.md`` are generated from
these declarations (:mod:`brmacro.params`).
"""

from brmacro.params.decl import P, S

#: The settings of the execution rule (``brmacro.portfolio.execution``), in the order ``execution_step`` takes
#: them: the daily orders and the backtest read these, and only these.
EXECUTION_KEYS = ("no_trade_band", "participation", "reversal_through_flat")

PORTFOLIO = S(
    "Portfolio layer: Black-Litterman optimisation and sizing",
    _schema={"additionalProperties": False},
    universe=P(
        "array",
        ["DI1_1Y", "DI1_2Y", "DI1_5Y", "DI1_10Y", "USDBRL", "IBOV", "UST_10Y", "SPX"],
        "Instruments of the book (instrument table names); at least one, no repeats, fewer than min_obs.",
        minItems=1,
        uniqueItems=True,
        items={"type": "string"},
    ),
    cov_window=P(
        "integer",
        252,
        "Sessions of daily returns for the covariance (brmacro.covariance, shrunk correlation)",
        minimum=2,
        maximum=10000,
    ),
    vol_halflife=P(
        ("number", "null"),
        11.2,
        (
            "Half-life in sessions of the exponential weights of the volatilities in the covariance "
            "(brmacro.covariance; the correlation stays the cov_window's): 11.2 is RiskMetrics' daily decay 0.94; "
            "null: equal weights"
        ),
        exclusiveMinimum=0,
        maximum=10000,
    ),
    min_obs=P(
        "integer",
        126,
        (
            "Fewest complete sessions of returns accepted for the covariance; at most cov_window and more than the "
            "number of instruments of universe"
        ),
        minimum=2,
        maximum=10000,
    ),
    periods_per_year=P(
        "integer",
        252,
        "Sessions per year (annualisation of daily figures)",
        minimum=1,
        maximum=366,
    ),
    delta=P(
        "number",
        2.5,
        "Risk aversion (same in BL prior and mean-variance)",
        exclusiveMinimum=0,
        maximum=100,
    ),
    tau=P(
        "number",
        0.05,
        "Black-Litterman scale of the prior-mean uncertainty",
        exclusiveMinimum=0,
        maximum=10,
    ),
    prior=P(
        "string",
        "zero",
        "Black-Litterman prior: zero (no view, no position) or risk_parity (pi = delta S w_ref)",
        enum=["zero", "risk_parity"],
    ),
    prior_ref_vol=P(
        "number",
        0.1,
        "Annualised vol of the risk-parity reference book (prior: risk_parity)",
        exclusiveMinimum=0,
        maximum=2,
    ),
    ic=P(
        "number",
        0.05,
        "Information coefficient in Q = IC x daily vol x z / sqrt(view_horizon_sessions)",
        minimum=0,
        maximum=1,
    ),
    z_scale=P(
        "number",
        2.0,
        "z of a view = conviction x z_scale (cross-asset views: direction x confidence x z_scale)",
        exclusiveMinimum=0,
        maximum=10,
    ),
    view_horizon_sessions=P(
        "integer",
        21,
        (
            "Horizon H of a view in sessions: Q = IC x daily vol x z / sqrt(H) per session (Grinold-Kahn, "
            "docs/portfolio.md); implied Sharpe IC x z x sqrt(252 / H)"
        ),
        minimum=1,
        maximum=756,
    ),
    max_view_sharpe=P(
        "number",
        1.0,
        "No single view may imply an annual Sharpe ratio above this (its Q is scaled down to it)",
        exclusiveMinimum=0,
        maximum=5,
    ),
    no_trade_band=P(
        "number",
        0.005,
        (
            "Execution toward the target (the daily orders against the desk's held book and the range backtest): a "
            "step of an instrument's position whose risk |dw| x annual vol is at or below this (NAV fraction of "
            "annual vol) is not traded, unless the target is flat (costs: portfolio.costs; docs/portfolio.md)."
        ),
        minimum=0,
        maximum=0.1,
    ),
    participation=P(
        "number",
        0.5,
        (
            "Execution (daily orders and backtest): fraction of the gap to the target traded per session (1 = the "
            "whole gap; a move to flat is always whole); a step worth no more than no_trade_band is not traded."
        ),
        exclusiveMinimum=0,
        maximum=1,
    ),
    reversal_through_flat=P(
        "boolean",
        True,
        (
            "Execution (daily orders and backtest): a position whose target has the other sign is closed whole; the "
            "new side opens from flat at the next session if the target still has it (a reversal must hold two "
            "sessions)."
        ),
    ),
    hedges=P(
        "string",
        "forbid",
        (
            "forbid: instruments without a view are held at zero (the book holds only what a view asks "
            "for); allow: the "
            "optimiser may hold them as covariance hedges (their origin says so). Either way a viewed instrument is "
            "never held against its own view"
        ),
        enum=["allow", "forbid"],
    ),
    cost_aversion=P(
        "number",
        1.0,
        "Weight of the transaction-cost term in the optimiser (0 = no cost term)",
        minimum=0,
        maximum=100,
    ),
    cost_holding_sessions=P(
        "integer",
        63,
        (
            "Sessions a position is expected to be held; its one-way cost is amortised over them in the optimiser's "
            "per-session objective"
        ),
        minimum=1,
        maximum=1260,
    ),
    costs=S(
        (
            "Transaction cost model per instrument, in the contract's own unit (docs/portfolio.md: DI1 ticks are rate, "
            "0.2/0.5/1 bp by maturity; DOL BRL 0.5 per USD 1,000; IND 5 points; ZN 1/64 point; ES 0.25 point)"
        ),
        _schema={"additionalProperties": False},
        DI1_1Y=S(
            "One-way cost of DI1_1Y",
            _schema={"additionalProperties": False},
            ticks=P(
                "number",
                0.5,
                "Half the bid-ask plus slippage, in the contract's ticks",
                minimum=0,
                maximum=20,
            ),
            fee=P(
                "number",
                0.91,
                "Exchange and registration fees per contract, in the contract's currency",
                minimum=0,
                maximum=100,
            ),
        ),
        DI1_2Y=S(
            "One-way cost of DI1_2Y",
            _schema={"additionalProperties": False},
            ticks=P(
                "number",
                0.5,
                "Half the bid-ask plus slippage, in the contract's ticks",
                minimum=0,
                maximum=20,
            ),
            fee=P(
                "number",
                0.91,
                "Exchange and registration fees per contract, in the contract's currency",
                minimum=0,
                maximum=100,
            ),
        ),
        DI1_5Y=S(
            "One-way cost of DI1_5Y",
            _schema={"additionalProperties": False},
            ticks=P(
                "number",
                1.0,
                "Half the bid-ask plus slippage, in the contract's ticks",
                minimum=0,
                maximum=20,
            ),
            fee=P(
                "number",
                0.91,
                "Exchange and registration fees per contract, in the contract's currency",
                minimum=0,
                maximum=100,
            ),
        ),
        DI1_10Y=S(
            "One-way cost of DI1_10Y",
            _schema={"additionalProperties": False},
            ticks=P(
                "number",
                2.0,
                "Half the bid-ask plus slippage, in the contract's ticks",
                minimum=0,
                maximum=20,
            ),
            fee=P(
                "number",
                0.91,
                "Exchange and registration fees per contract, in the contract's currency",
                minimum=0,
                maximum=100,
            ),
        ),
        USDBRL=S(
            "One-way cost of USDBRL",
            _schema={"additionalProperties": False},
            ticks=P(
                "number",
                0.5,
                "Half the bid-ask plus slippage, in the contract's ticks",
                minimum=0,
                maximum=20,
            ),
            fee=P(
                "number",
                0.6,
                "Exchange and registration fees per contract, in the contract's currency",
                minimum=0,
                maximum=100,
            ),
        ),
        IBOV=S(
            "One-way cost of IBOV",
            _schema={"additionalProperties": False},
            ticks=P(
                "number",
                1.0,
                "Half the bid-ask plus slippage, in the contract's ticks",
                minimum=0,
                maximum=20,
            ),
            fee=P(
                "number",
                1.52,
                "Exchange and registration fees per contract, in the contract's currency",
                minimum=0,
                maximum=100,
            ),
        ),
        UST_10Y=S(
            "One-way cost of UST_10Y",
            _schema={"additionalProperties": False},
            ticks=P(
                "number",
                0.5,
                "Half the bid-ask plus slippage, in the contract's ticks",
                minimum=0,
                maximum=20,
            ),
            fee=P(
                "number",
                0.0,
                "Exchange and registration fees per contract, in the contract's currency",
                minimum=0,
                maximum=100,
            ),
        ),
        SPX=S(
            "One-way cost of SPX",
            _schema={"additionalProperties": False},
            ticks=P(
                "number",
                0.5,
                "Half the bid-ask plus slippage, in the contract's ticks",
                minimum=0,
                maximum=20,
            ),
            fee=P(
                "number",
                0.0,
                "Exchange and registration fees per contract, in the contract's currency",
                minimum=0,
                maximum=100,
            ),
        ),
    ),
    min_abs_conviction=P(
        "number",
        0.05,
        "Aggregated |conviction| at or below which no view is formed",
        minimum=0,
        maximum=1,
    ),
    clarity_floor=P(
        "number",
        0.2,
        "View confidence x (floor + (1 - floor) x regime_clarity)",
        minimum=0,
        maximum=1,
    ),
    omega_eps=P(
        "number",
        1e-06,
        "Omega_ii = tau p S p' / (confidence + eps)",
        exclusiveMinimum=0,
        maximum=1,
    ),
    use_cross_asset_views=P(
        "boolean",
        False,
        (
            "Add the cross-asset view's asset-class views as extra BL views. Off by default: they restate the agents' "
            "composite signals, which already enter signal_aggregation (signals.agent_signals), so "
            "enabling both counts "
            "them twice"
        ),
    ),
    cross_asset_view_instruments=S(
        "Cross-asset view key -> instrument carrying the view, when the view names no instrument itself",
        _schema={"additionalProperties": False},
        rates_br=P(
            "string",
            "DI1_2Y",
            "Instrument carrying the cross-asset view rates_br",
        ),
        fx=P(
            "string",
            "USDBRL",
            "Instrument carrying the cross-asset view fx",
        ),
        equity_br=P(
            "string",
            "IBOV",
            "Instrument carrying the cross-asset view equity_br",
        ),
        rates_us=P(
            "string",
            "UST_10Y",
            "Instrument carrying the cross-asset view rates_us",
        ),
        equity_us=P(
            "string",
            "SPX",
            "Instrument carrying the cross-asset view equity_us",
        ),
    ),
    bounds=P(
        "object",
        {
            "DI1_1Y": [-5.0, 5.0],
            "DI1_2Y": [-3.0, 3.0],
            "DI1_5Y": [-1.5, 1.5],
            "DI1_10Y": [-1.0, 1.0],
            "USDBRL": [-0.5, 0.5],
            "IBOV": [-0.5, 0.5],
            "UST_10Y": [-1.0, 1.0],
            "SPX": [-0.5, 0.5],
        },
        (
            "Instrument -> [lower, upper] weight bounds (NAV fraction of exposure). Every instrument of universe needs "
            "bounds, with lower <= 0 <= upper: bounds that exclude zero would force a position no view asked for (and "
            "contradict the flat book of the optimiser's fallback), so they are refused before any job."
        ),
        additionalProperties={
            "type": "array",
            "items": {"type": "number", "minimum": -100, "maximum": 100},
            "minItems": 2,
            "maxItems": 2,
        },
    ),
    gross_leverage=P(
        "number",
        8.0,
        "Cap on the sum of |weights| (optimiser and sizing)",
        exclusiveMinimum=0,
        maximum=100,
    ),
    class_caps=S(
        "Asset class -> cap on the class's sum of |weights|",
        _schema={"additionalProperties": False},
        rates_br=P(
            "number",
            6.0,
            "Gross exposure cap of asset class rates_br",
            minimum=0,
            maximum=100,
        ),
        fx=P(
            "number",
            0.5,
            "Gross exposure cap of asset class fx",
            minimum=0,
            maximum=100,
        ),
        equity_br=P(
            "number",
            0.5,
            "Gross exposure cap of asset class equity_br",
            minimum=0,
            maximum=100,
        ),
        rates_us=P(
            "number",
            1.0,
            "Gross exposure cap of asset class rates_us",
            minimum=0,
            maximum=100,
        ),
        equity_us=P(
            "number",
            0.5,
            "Gross exposure cap of asset class equity_us",
            minimum=0,
            maximum=100,
        ),
    ),
    solver=P(
        "string",
        "CLARABEL",
        "cvxpy solver for the mean-variance problem",
    ),
    sizing=S(
        "portfolio_sizing",
        _schema={"additionalProperties": False},
        method=P(
            "string",
            "vol_target",
            "vol_target | half_kelly | risk_budget",
            enum=["vol_target", "half_kelly", "risk_budget"],
        ),
        target_vol=P(
            "number",
            0.1,
            "Annualised ex-ante volatility target of the whole book",
            exclusiveMinimum=0,
            maximum=2,
        ),
        kelly_fraction=P(
            "number",
            0.5,
            "Fraction of the Kelly weights (0.5 = half-Kelly)",
            minimum=0,
            maximum=1,
        ),
        soft_limit_conviction=P(
            "number",
            0.8,
            "|conviction| above which an instrument's cap is raised",
            minimum=0,
            maximum=1,
        ),
        soft_limit_factor=P(
            "number",
            1.2,
            "Cap multiplier of the soft-limit override",
            minimum=1,
            maximum=10,
        ),
        limit_headroom=P(
            "number",
            0.98,
            (
                "A book is sized to this fraction of a binding gross, DV01 or VaR limit and of the risk-contribution "
                "caps (risk.limits), so contract rounding cannot tip it over"
            ),
            exclusiveMinimum=0,
            maximum=1,
        ),
        risk_budget=P(
            "string",
            "conviction",
            "Risk budgets of risk_budget sizing: conviction (proportional to |conviction|) or equal",
            enum=["conviction", "equal"],
        ),
        max_reshape_iterations=P(
            "integer",
            60,
            (
                "Iterations of the scaling that brings every position's and class's share of VaR within risk.limits "
                "(max_risk_contribution, asset_class_risk_budget); a book that does not converge is flat"
            ),
            minimum=1,
            maximum=1000,
        ),
    ),
    contracts=S(
        "Contract conversion",
        _schema={"additionalProperties": False},
        zn_coupon=P(
            "number",
            0.06,
            "Coupon of the ZN notional note used to price ZN from the 10-year yield",
            minimum=0,
            maximum=0.5,
        ),
        zn_years=P(
            "number",
            10.0,
            "Maturity in years of the ZN notional note",
            exclusiveMinimum=0,
            maximum=50,
        ),
    ),
)
