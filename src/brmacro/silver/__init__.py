"""Silver layer: curves, the returns matrix and the macro series, clean, aligned and point in time.

The public functions are re-exported here; :mod:`brmacro.silver.steps` holds the step functions
the pipeline calls and :mod:`brmacro.silver.schemas` the declared tables.
"""

from __future__ import annotations

from brmacro._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "CurveError": "curves",
        "NSFit": "curves",
        "build_curves": "curves",
        "fit_nelson_siegel": "curves",
        "flat_forward": "curves",
        "interp_linear_rows": "curves",
        "nelson_siegel": "curves",
        "MacroUnitError": "macro",
        "build_macro": "macro",
        "compound": "macro",
        "focus_series": "macro",
        "hp_gap": "macro",
        "latest_vintage": "macro",
        "PriceGapError": "returns",
        "build_returns": "returns",
        "par_bond_duration": "returns",
        "rolling_vol": "returns",
        "rolling_z": "returns",
    },
)
