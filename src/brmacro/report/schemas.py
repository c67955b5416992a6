"""Report-layer schemas: the daily report's figures and alerts, and the range backtest's tables.

``daily_report/part`` holds one row per headline figure shown in the report (the report's
numbers as data: a test or an auditor matches the HTML against it); ``daily_report/alerts``
holds the alert rules (ten of Part B §11.2 and STRESS_LOSS) evaluated on the session's artifacts, fired or not.
The backtest tables (:data:`BACKTEST`, :data:`BACKTEST_SUMMARY`, :data:`BACKTEST_MONTHLY`) are written by the
range job (:func:`brmacro.report.backtest.build_backtest`), not by a daily step.
"""

from __future__ import annotations

from brmacro.io import Col, Schema

__all__ = [
    "ALERTS",
    "BACKTEST",
    "BACKTEST_ATTRIBUTION",
    "BACKTEST_DRAWDOWNS",
    "BACKTEST_INSTRUMENTS",
    "BACKTEST_MONTHLY",
    "BACKTEST_ROLLING",
    "BACKTEST_SUMMARY",
    "FIGURES",
    "REPORT_SCHEMAS",
    "SEVERITIES",
]

SEVERITIES = ("info", "warning", "critical")

FIGURES = Schema(
    "daily_report",
    (
        Col("date", "date", doc="session of the report"),
        Col("section", "str", doc="summary | market | regime | agents | signals | portfolio | risk | actions | "
                                     "track | sanity | freshness"),
        Col("name", "str", doc="figure name, unique within its section (e.g. 'VaR historical 95%')"),
        Col("value", "float", nullable=True, doc="the figure in project units (decimals, NAV fractions, BRL); "
                                                 "null when not computable (text says why)"),
        Col("text", "str", doc="the figure exactly as displayed in the report, or 'n/a: <reason>'"),
        Col("source", "str", doc="artifact the figure comes from, asset/table"),
    ),
    key=("section", "name"),
    doc="Every headline figure shown in the daily report",
)

ALERTS = Schema(
    "daily_report.alerts",
    (
        Col("date", "date"),
        Col("rule_id", "str", doc="STALE_DATA | VAR_BREACH | VAR_CRITICAL | DRAWDOWN_WARNING | DRAWDOWN_CRITICAL | "
                                  "LIMIT_BREACH | SIGNAL_FLIP | CONVICTION_SURGE | PIPELINE_FAILURE | AGENT_STALE | "
                                  "INPUT_OUTLIER"),
        Col("severity", "str", doc="info | warning | critical"),
        Col("fired", "bool"),
        Col("value", "float", nullable=True, doc="the measured value (rule's unit); null when not computable"),
        Col("threshold", "float", nullable=True,
            doc="threshold from risk.alerts / risk.limits; null if not configured"),
        Col("message", "str", doc="what was measured, against what, and why it fired or could not be evaluated"),
    ),
    key=("rule_id",),
    doc="The alert rules of the session",
)

REPORT_SCHEMAS: dict[str, dict[str, Schema]] = {
    "daily_report": {"part": FIGURES, "alerts": ALERTS},
}

BACKTEST = Schema(
    "backtest",
    (
        Col("date", "date", doc="session D whose P&L this is"),
        Col("sizing_date", "date", doc="session of the book held on D: D - 2 B3 sessions"),
        Col("gross_pnl", "float", doc="sum_i w_i(D-2) x ret_i(D), NAV fraction"),
        Col("turnover", "float", lo=0.0, doc="sum_i |w_i(D-2) - w_i(D-3)|, NAV fraction (first day: from flat)"),
        Col("cost", "float", lo=0.0, doc="sum_i |trade_i| x one-way cost per unit of notional (portfolio.costs), NAV"),
        Col("net_pnl", "float", doc="gross_pnl - cost"),
        Col("equity", "float", doc="cumulative product of (1 + net_pnl), starts at 1"),
        Col("drawdown", "float", hi=0.0, doc="equity / running peak - 1 (<= 0)"),
    ),
    key=("date",),
    doc="Range backtest of the model book: P&L(D) = portfolio_sizing(D-2) . silver_returns(D), with costs",
)

BACKTEST_SUMMARY = Schema(
    "backtest.summary",
    (
        Col("metric", "str"),
        Col("value", "float", nullable=True, doc="null when not computable (note says why)"),
        Col("note", "str", doc="unit and definition"),
    ),
    key=("metric",),
    doc="Range backtest summary statistics",
)

BACKTEST_MONTHLY = Schema(
    "backtest.monthly",
    (
        Col("year", "int"),
        Col("month", "int", lo=1, hi=12),
        Col("net_return", "float", doc="compounded net P&L over the month's sessions in range, NAV fraction"),
        Col("n_sessions", "int", lo=1),
    ),
    key=("year", "month"),
    doc="Monthly net returns of the range backtest",
)

BACKTEST_INSTRUMENTS = Schema(
    "backtest.instruments",
    (
        Col("instrument", "str"),
        Col("contribution", "float", doc="sum over the range of w_i(D) x ret_i(D), NAV fraction (gross)"),
        Col("hit_rate", "float", nullable=True, lo=0.0, hi=1.0,
            doc="share of held sessions with a positive contribution; null: never held"),
        Col("active_sessions", "int", lo=0, doc="sessions with a non-zero contribution"),
        Col("turnover", "float", lo=0.0, doc="sum over the range of |trade_i|, NAV fraction"),
        Col("cost", "float", lo=0.0, doc="sum over the range of |trade_i| x one-way cost, NAV fraction"),
        Col("cost_bp", "float", lo=0.0, doc="mean one-way cost per unit of notional traded, bp (0: never traded)"),
    ),
    key=("instrument",),
    doc="Per-instrument P&L, hit rate, turnover and costs of the range backtest",
)

BACKTEST_ATTRIBUTION = Schema(
    "backtest.attribution",
    (
        Col("level", "str", doc="signal (strategy id, agent signal id or XA:<view>) | agent (emitting agent, "
                                "'strategies' for every strategy, '(no view)' for positions without a view)"),
        Col("name", "str"),
        Col("gross_pnl", "float", doc="the name's share of the book's gross P&L over the range, NAV fraction; "
                                      "each level sums to the book's gross P&L (docs/backtest.md)"),
        Col("cost", "float", doc="the name's share of the costs, NAV fraction"),
        Col("net_pnl", "float", doc="gross_pnl - cost"),
        Col("share_of_gross", "float", nullable=True, doc="gross_pnl / the book's gross P&L (null when that is 0)"),
        Col("ic", "float", nullable=True, lo=-1.0, hi=1.0,
            doc="information coefficient: Pearson correlation of conviction(s) and ret(D)/vol(s), D = s + 2 "
                "sessions, over the active signal rows of the range; null under 3 pairs"),
        Col("ic_pairs", "int", lo=0, doc="(conviction, return) pairs behind the IC"),
        Col("hit_rate", "float", nullable=True, lo=0.0, hi=1.0,
            doc="share of pairs with sign(conviction) = sign(ret(D)); null without pairs"),
        Col("hit_pairs", "int", lo=0, doc="pairs behind the hit rate (zero returns left out)"),
        Col("ic_horizon", "float", nullable=True, lo=-1.0, hi=1.0,
            doc="horizon information coefficient: Pearson correlation of conviction(s) and the return over the "
                "signal's horizon H from D, sum ret(D..D+H-1) / (vol(s) sqrt(H)); overlapping windows; null under 3 "
                "pairs"),
        Col("ic_horizon_pairs", "int", lo=0, doc="pairs behind the horizon IC (windows inside the returns only)"),
    ),
    key=("level", "name"),
    doc="P&L, information coefficient and hit rate per signal and per agent over the range",
)

BACKTEST_ROLLING = Schema(
    "backtest.rolling",
    (
        Col("date", "date"),
        Col("rolling_sharpe", "float", nullable=True,
            doc="annualised Sharpe of the last report.backtest.rolling_sessions net excess returns (null before)"),
        Col("rolling_vol", "float", nullable=True, lo=0.0, doc="their annualised volatility"),
        Col("cdi_return", "float", nullable=True,
            doc="CDI over the session: (1 + CDI daily of the session before)^du - 1 (null: no CDI given)"),
        Col("book_return", "float", nullable=True, doc="cdi_return + net_pnl: the book's total return on NAV"),
        Col("cdi_index", "float", nullable=True, doc="compounded CDI, starts at 1 before the first session"),
        Col("book_index", "float", nullable=True,
            doc="compounded book total return, starts at 1 before the first session"),
    ),
    key=("date",),
    doc="Rolling Sharpe and the book against CDI, per session of the range",
)

BACKTEST_DRAWDOWNS = Schema(
    "backtest.drawdowns",
    (
        Col("rank", "int", lo=1, doc="1 = deepest"),
        Col("peak_date", "date", nullable=True, doc="last session at the running peak (null: the start)"),
        Col("trough_date", "date"),
        Col("recovery_date", "date", nullable=True, doc="first session back at the peak (null: still under water)"),
        Col("depth", "float", hi=0.0, doc="trough equity / peak equity - 1"),
        Col("sessions_to_trough", "int", lo=1),
        Col("sessions_under_water", "int", lo=1, doc="sessions from the peak to the recovery (or the range's end)"),
    ),
    key=("rank",),
    doc="Every drawdown episode of the net equity curve, deepest first",
)
