"""Input sanity: a robust outlier check of the session's move in every price and rate the book uses.

For each instrument of ``silver_returns`` (the book's tradables: DI1 points, USDBRL, IBOV, UST 10Y,
SPX) the session's change in ``level`` is compared with the same series' own history of daily
changes: rates by their change (decimal), prices by their log change. The score is a MAD z,
``(x_D - median(x)) / (1.4826 · MAD(x))`` over the ``report.outlier_window`` changes before the
session (the session itself excluded, so a bad print cannot hide in its own scale). ``|z|`` at or above
``report.outlier_z`` flags the input; with ``report.outliers: hold`` the report withholds the session's
orders (no new orders from flagged inputs). A series too short to judge is listed as not checked.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from brmacro.io import date_objects

__all__ = ["MAD_SCALE", "Outlier", "check_outliers", "mad_z", "rows_by_key", "series_by_key"]

#: 1/Phi^-1(3/4): MAD times this estimates the standard deviation of a normal sample.
MAD_SCALE = 1.4826

#: Instruments quoted as rates (their change is a difference, not a log ratio).
RATE_PREFIXES = ("DI1_", "UST_")


@dataclass(frozen=True)
class Outlier:
    """The check of one series on the session.

    Attributes
    ----------
    instrument : str
        The ``silver_returns`` instrument.
    kind : str
        ``rate`` (change in decimal) or ``price`` (log change).
    change : float or None
        The session's change.
    z : float or None
        Its MAD z against the window; None when not checked.
    n_obs : int
        Changes in the window.
    flagged : bool
        ``|z| >= threshold``.
    note : str
        What was compared, or why the series was not checked.
    """

    instrument: str
    kind: str
    change: float | None
    z: float | None
    n_obs: int
    flagged: bool
    note: str

    def text(self) -> str:
        """The flag as a sentence (``DI1_10Y moved +90.6 bp on 2026-12-01, 9.1 robust sd of its ...``)."""
        move = (f"{self.change * 1e4:+.1f} bp" if self.kind == "rate" else f"{self.change:+.2%}") \
            if self.change is not None else "n/a"
        z = f"{self.z:+.1f}" if self.z is not None else "n/a"
        return f"{self.instrument} moved {move} (robust z {z} over {self.n_obs} sessions)"


def mad_z(x: float, hist: np.ndarray) -> float | None:
    """MAD z of ``x`` against ``hist`` (None when the MAD is 0 or the history is empty)."""
    h = hist[np.isfinite(hist)]
    if h.size == 0:
        return None
    med = float(np.median(h))
    mad = float(np.median(np.abs(h - med))) * MAD_SCALE
    if not mad > 0:
        return None
    return (x - med) / mad


def rows_by_key(col: pd.Series) -> dict[str, np.ndarray] | None:
    """The positions of the rows of each value of ``col`` (in table order), split once; None unless every value
    is a ``str`` (then a value's rows are exactly those ``col == value`` selects)."""
    if not len(col) or set(map(type, col.to_numpy())) != {str}:
        return None
    codes, keys = pd.factorize(col)
    order = np.argsort(codes, kind="stable")
    cuts = np.flatnonzero(np.diff(codes[order])) + 1
    return {str(keys[codes[g[0]]]): g for g in np.split(order, cuts)}


def series_by_key(df: pd.DataFrame, key_col: str, key: str, rows: dict[str, np.ndarray] | None, index_col: str,
                  value_col: str) -> pd.Series:
    """``df.loc[df[key_col] == key].set_index(index_col)[value_col]``: from the positions ``rows`` (``rows_by_key``
    of ``df[key_col]``: the same values, index values and order) without a frame per key; through the mask when
    ``rows`` is None."""
    if rows is None:
        out: pd.Series = df.loc[df[key_col] == key].set_index(index_col)[value_col]
        return out
    at = rows.get(key, np.zeros(0, dtype=np.intp))
    index, value = df[index_col], df[value_col]
    return pd.Series(value.to_numpy()[at], index=pd.Index(index.to_numpy()[at], dtype=index.dtype, name=index_col),
                     name=value_col)


def check_outliers(returns: pd.DataFrame, session: dt.date, window: int, min_obs: int,
                   threshold: float) -> list[Outlier]:
    """Check the session's change of every instrument's level in ``silver_returns``.

    Parameters
    ----------
    returns : DataFrame
        The ``silver_returns`` part table (``date``, ``instrument``, ``level``).
    session : datetime.date
        The session checked.
    window : int
        Changes before the session used as the series' history.
    min_obs : int
        Fewer changes: not checked (stated).
    threshold : float
        ``|z|`` at or above which the input is flagged.
    """
    out: list[Outlier] = []
    df = returns.assign(date=date_objects(returns["date"]))
    df = df.loc[df["date"] <= session]
    rows = rows_by_key(df["instrument"])
    for inst in sorted(df["instrument"].astype(str).unique()):
        kind = "rate" if inst.startswith(RATE_PREFIXES) else "price"
        s = series_by_key(df, "instrument", inst, rows, "date", "level").astype(float).dropna().sort_index()
        if s.empty or s.index[-1] != session:
            out.append(Outlier(inst, kind, None, None, 0, False, f"no level on {session.isoformat()}: not checked"))
            continue
        ch = s.diff() if kind == "rate" else pd.Series(np.log(s.where(s > 0)), index=s.index).diff()
        ch = ch.dropna()
        if ch.empty or ch.index[-1] != session:
            out.append(Outlier(inst, kind, None, None, 0, False, "no previous level: not checked"))
            continue
        x = float(ch.iloc[-1])
        hist = ch.iloc[:-1].to_numpy(dtype=float)[-window:]
        n = int(np.isfinite(hist).sum())
        if n < min_obs:
            out.append(Outlier(inst, kind, x, None, n, False, f"{n} changes of history < {min_obs}: not checked"))
            continue
        z = mad_z(x, hist)
        if z is None or not math.isfinite(z):
            out.append(Outlier(inst, kind, x, None, n, False, "no dispersion in the history: not checked"))
            continue
        out.append(Outlier(inst, kind, x, z, n, abs(z) >= threshold,
                           f"MAD z of the {'change' if kind == 'rate' else 'log change'} over {n} sessions"))
    return out
