"""Silver layer: curves, the returns matrix and the macro series, clean, aligned and point in time.

The public functions are re-exported here; :mod:`brmacro.silver.steps` holds the step functions
the pipeline calls and :mod:`brmacro.silver.schemas` the declared tables.
"""

from __future__ import annotations

from brmacro.silver.curves import (
    CurveError,
    NSFit,
    build_curves,
    fit_nelson_siegel,
    flat_forward,
    interp_linear_rows,
    nelson_siegel,
)
from brmacro.silver.macro import MacroUnitError, build_macro, compound, focus_series, hp_gap, latest_vintage
from brmacro.silver.returns import PriceGapError, build_returns, par_bond_duration, rolling_vol, rolling_z

__all__ = [
    "CurveError",
    "MacroUnitError",
    "NSFit",
    "PriceGapError",
    "build_curves",
    "build_macro",
    "build_returns",
    "compound",
    "fit_nelson_siegel",
    "flat_forward",
    "focus_series",
    "hp_gap",
    "interp_linear_rows",
    "latest_vintage",
    "nelson_siegel",
    "par_bond_duration",
    "rolling_vol",
    "rolling_z",
]
