"""Shared input handling of the risk layer: the returns matrix, the book's weights, errors."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

__all__ = [
    "RiskInputError",
    "book_weights",
    "check_weights",
    "returns_matrix",
]


class RiskInputError(ValueError):
    """A risk computation cannot run on the inputs it was given (the message says which and why)."""


def returns_matrix(returns: pd.DataFrame, asof: dt.date | None = None) -> pd.DataFrame:
    """Pivot the long ``silver_returns`` table into a session x instrument matrix of ``ret``.

    Parameters
    ----------
    returns : DataFrame
        Columns ``date``, ``instrument``, ``ret`` (the :data:`brmacro.silver.schemas.RETURNS` table).
    asof : datetime.date, optional
        Rows dated after ``asof`` are dropped (point in time, defensive).

    Returns
    -------
    DataFrame
        Index of ``datetime.date`` sessions (sorted), one float column per instrument, NaN where a
        return is missing.
    """
    missing = {"date", "instrument", "ret"} - set(returns.columns)
    if missing:
        raise RiskInputError(f"returns table lacks columns {sorted(missing)}")
    df = returns.loc[:, ["date", "instrument", "ret"]].copy()
    df["date"] = pd.to_datetime(df["date"]).dt.date
    if asof is not None:
        df = df[df["date"] <= asof]
    if df.duplicated(["date", "instrument"]).any():
        raise RiskInputError("returns table repeats (date, instrument) rows")
    mat = df.pivot(index="date", columns="instrument", values="ret").astype(float)
    mat = mat.sort_index().sort_index(axis=1)
    mat.columns.name = None
    return mat


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
