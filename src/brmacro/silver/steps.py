"""Silver step functions: one per asset, each a thin call into the silver library."""

from __future__ import annotations

import pandas as pd

from brmacro.params import section, value
from brmacro.pipeline import Context
from brmacro.silver.curves import build_curves
from brmacro.silver.macro import build_macro
from brmacro.silver.returns import build_returns

__all__ = ["silver_curves", "silver_macro", "silver_returns"]

_RETURN_INPUTS = (
    "bronze_yahoo",
    "bronze_bcb_ptax",
    "bronze_b3_market_data",
    "bronze_treasury_gov",
    "bronze_bcb_sgs",
    "bronze_fred",
)


def silver_curves(ctx: Context) -> dict[str, pd.DataFrame]:
    """Curves at standard tenors over the lookback, slopes and the session's Nelson-Siegel fits."""
    return build_curves(ctx.table("bronze_b3_market_data"), ctx.table("bronze_treasury_gov"), ctx.date,
                        section(ctx.params, "silver"))


def silver_returns(ctx: Context) -> dict[str, pd.DataFrame]:
    """Excess-return matrix and aligned prices over the lookback, and the returns of the crisis windows."""
    return build_returns({a: ctx.table(a) for a in _RETURN_INPUTS}, ctx.date, section(ctx.params, "silver"),
                         {"crisis_windows": value(ctx.params, "bronze.crisis_windows")})


def silver_macro(ctx: Context) -> dict[str, pd.DataFrame]:
    """Every registry series point in time, the derived series and the Focus medians."""
    return build_macro(ctx.table("bronze_bcb_sgs"), ctx.table("bronze_fred"), ctx.table("bronze_bcb_focus"),
                       ctx.date, section(ctx.params, "silver"))
