"""Silver schemas: curves, returns and macro, clean, aligned and point in time.

Silver carries everything the agents and strategies read, so they never touch bronze.
Each silver partition holds the history over the configured lookback (not only the partition
date), built only from the same session's bronze snapshots.
"""

from __future__ import annotations

from brmacro.io import Col, Schema

__all__ = ["SILVER_SCHEMAS"]

CURVES = Schema(
    "silver_curves",
    (
        Col("date", "date", doc="session"),
        Col("curve", "str", doc="DI_PRE | BR_REAL | BR_BEI | UST_NOM | UST_REAL | US_BEI | DI_UST_SPREAD"),
        Col("tenor_label", "str", doc="21du, 63du, ..., 2520du for BR curves; 3M, 1Y, 2Y, 5Y, 10Y, 30Y for US"),
        Col("tenor_du", "int", doc="tenor in business days (US tenors: years x 252)"),
        Col("tenor_years", "float", doc="tenor in years (du/252 for BR curves)"),
        Col("rate", "float", doc="zero (BR, 252 exponential) or par (US) rate, decimal per year"),
    ),
    key=("date", "curve", "tenor_label"),
    doc="Curves at standard tenors for every session of the lookback",
)

NS_PARAMS = Schema(
    "silver_curves.ns_params",
    (
        Col("date", "date"),
        Col("curve", "str"),
        Col("beta0", "float"),
        Col("beta1", "float"),
        Col("beta2", "float"),
        Col("tau", "float", doc="decay in years"),
        Col("rmse", "float", lo=0.0, doc="fit error, decimal per year"),
        Col("n_points", "int", lo=0),
    ),
    key=("date", "curve"),
    doc="Nelson-Siegel fit per curve on the partition date",
)

SLOPES = Schema(
    "silver_curves.slopes",
    (
        Col("date", "date"),
        Col("name", "str", doc="DI_1s2s, DI_2s5s, DI_1s10s, UST_2s10s, ..."),
        Col("value", "float", doc="decimal per year"),
    ),
    key=("date", "name"),
)

RETURNS = Schema(
    "silver_returns",
    (
        Col("date", "date"),
        Col("instrument", "str", doc="instrument table name (DI1_2Y, USDBRL, ...)"),
        Col("level", "float", doc="the underlying level: yield for rates instruments, price otherwise"),
        Col("ret", "float", nullable=True,
            doc="daily excess return, simple decimal, price convention (null on the first row)"),
        Col("vol_21", "float", nullable=True, doc="annualised realised vol of ret over 21 sessions"),
        Col("vol_63", "float", nullable=True),
        Col("vol_252", "float", nullable=True),
        Col("z_252", "float", nullable=True, doc="z-score of the level over 252 sessions"),
    ),
    key=("date", "instrument"),
    doc="Returns matrix of the tradables on a common B3 session index over the lookback",
)

PRICES = Schema(
    "silver_returns.prices",
    (
        Col("date", "date"),
        Col("series", "str", doc="ptax:USDBRL, yahoo:^VIX, yahoo:CL=F, b3:DI1F27, ..."),
        Col("value", "float"),
    ),
    key=("date", "series"),
    doc="Every price series the book or the models use, aligned on B3 sessions (last value carried)",
)

CRISIS = Schema(
    "silver_returns.crisis",
    (
        Col("window", "str", doc="crisis window name (bronze.crisis_windows)"),
        Col("date", "date"),
        Col("instrument", "str", doc="instrument table name"),
        Col("level", "float", doc="the underlying level, as in part"),
        Col("ret", "float", nullable=True,
            doc="daily excess return, as in part (null on the window's first session: no previous close)"),
    ),
    key=("window", "date", "instrument"),
    doc="Returns of the crisis windows started by the session (clipped to it), for the historical replay",
)

MACRO = Schema(
    "silver_macro",
    (
        Col("series", "str", doc="registry name (br_ipca_mom) or derived name (br_ipca_12m, focus_ipca_12m)"),
        Col("observation_date", "date"),
        Col("value", "float", doc="project units"),
        Col("release_date", "date", doc="release of the value; derived series: the latest release of their inputs"),
    ),
    key=("series", "observation_date"),
    doc="Every registry series (latest vintage public by the partition date) and the derived series",
)

SILVER_SCHEMAS: dict[str, dict[str, Schema]] = {
    "silver_curves": {"part": CURVES, "ns_params": NS_PARAMS, "slopes": SLOPES},
    "silver_returns": {"part": RETURNS, "prices": PRICES, "crisis": CRISIS},
    "silver_macro": {"part": MACRO},
}
