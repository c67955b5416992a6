"""Shared input handling of the risk layer: the book's weights and errors.

The returns matrix and the covariance are :mod:`brmacro.covariance`'s (one of each for the project): import
them from there.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from brmacro.covariance import CovarianceError

__all__ = [
    "RiskInputError",
    "book_weights",
    "check_weights",
]


#: The risk layer's input error is the covariance module's (one class: the returns matrix and the covariance
#: live in :mod:`brmacro.covariance`, shared with the portfolio layer).
RiskInputError = CovarianceError


def check_weights(weights: pd.Series, where: str) -> pd.Series:
    """Return ``weights`` as floats indexed by instrument, refusing NaN/inf and repeated names.

    Raises
    ------
    RiskInputError
        Naming the instrument whose weight is not a finite number.
    """
    w = pd.to_numeric(weights, errors="coerce").astype(float)
    if w.index.has_duplicates:
        raise RiskInputError(f"{where}: instruments repeat in the weights: {sorted(w.index[w.index.duplicated()])}")
    bad = ~np.isfinite(w.to_numpy())
    if bad.any():
        names = [str(n) for n in w.index[bad]]
        raise RiskInputError(f"{where}: weight is not a finite number for {names}")
    return w.sort_index()


def book_weights(sizing: pd.DataFrame, where: str) -> pd.Series:
    """Signed weights (NAV fractions) by instrument from a ``portfolio_sizing`` table."""
    if not {"instrument", "weight"} <= set(sizing.columns):
        raise RiskInputError(f"{where}: portfolio_sizing lacks instrument/weight columns")
    return check_weights(sizing.set_index("instrument")["weight"], where)
