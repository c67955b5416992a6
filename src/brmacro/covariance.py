"""The project's one covariance estimator and its one returns matrix.

Every covariance in brmacro — the Black-Litterman prior and the optimiser's risk, sizing's volatility
target, the risk layer's parametric and Monte Carlo VaR, and every ``vol`` figure shown — comes from
:func:`shrunk_covariance` on a window of :func:`returns_matrix`.

**Estimator: Ledoit-Wolf shrinkage of the correlation, rescaled by the sample volatilities.** The
returns are standardised by their sample volatility and :class:`sklearn.covariance.LedoitWolf`
(Ledoit & Wolf 2004, "A well-conditioned estimator for large-dimensional covariance matrices") is fitted
to them: the *correlation* is shrunk towards the identity and the sample variances are kept exactly.
Shrinking the raw covariance towards ``mu I`` instead moves every variance towards the average one; for a
book mixing DI1 (daily vol ~0.05-0.1 %) and equities (~1.5 %) that multiplied the DI1 1-year variance by
about 14 (its vol by 3.8, measured on the demo market in issue 18) and under-sized the short end.
Properties (tested): the diagonal equals the sample variances (ddof 1), the matrix is symmetric positive
definite whenever no column is constant, and its correlation equals scikit-learn's Ledoit-Wolf
covariance of the standardised returns rescaled to a unit diagonal.

**Responsive volatilities (``vol_halflife``).** The book's forecast (``portfolio.vol_halflife``, default 11.2
sessions: RiskMetrics' daily decay λ = 0.94, J.P. Morgan/Reuters *RiskMetrics — Technical Document*, 1996) weights
the squared deviations exponentially, so the volatilities follow a change of regime within weeks while the
correlation, noisier, keeps the whole window. With equal weights the 252-session vols lagged the demo year 2024
(realised vol of the model book 1.30 × its ex-ante; DI1 vols 0.6 × trailing in Q1, 1.7 × in Q3); with λ = 0.94,
1.15 × (issue 18, ``bench/RESULTS.md``). The risk layer's VaR keeps equal weights over its own, longer window
(``risk.var.window``): a risk manager's conservative measure, not the book's forecast.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from brmacro.io import date_objects
from brmacro.kept import KeptFrames

__all__ = ["CovarianceError", "EPS_VAR", "annual_vols", "ewma_variances", "returns_matrix", "session_matrix",
           "shrunk_covariance"]

EPS_VAR = 1e-20  # a daily variance below this is treated as zero (a constant series)


class CovarianceError(ValueError):
    """The covariance cannot be estimated from the returns given (the message says which and why)."""


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

    Raises
    ------
    CovarianceError
        When a column is missing or a (date, instrument) pair repeats.
    """
    missing = {"date", "instrument", "ret"} - set(returns.columns)
    if missing:
        raise CovarianceError(f"returns table lacks columns {sorted(missing)}")
    fast = session_matrix(returns, "ret", asof)
    if fast is not None:
        return fast
    df = returns.loc[:, ["date", "instrument", "ret"]].copy()
    df["date"] = date_objects(df["date"])
    if asof is not None:
        df = df[df["date"] <= asof]
    if df.duplicated(["date", "instrument"]).any():
        raise CovarianceError("returns table repeats (date, instrument) rows")
    mat = df.pivot(index="date", columns="instrument", values="ret").astype(float)
    mat = mat.sort_index().sort_index(axis=1)
    mat.columns.name = None
    return mat


def session_matrix(df: pd.DataFrame, value: str, asof: dt.date | None, repeats: str = "raise") -> pd.DataFrame | None:
    """The session x instrument matrix of the column ``value`` of a table as read (dates ``datetime.date`` objects,
    instruments ``str``, ``value`` float64, no missing key), from one factorization of each key column; None for
    anything else (the caller's pandas path).

    It is the ``pivot`` + ``sort_index`` of the rows dated up to ``asof``: the sessions and instruments present in those
    rows, each sorted (distinct values, so any sort gives the one order pandas gives), NaN where a pair has no row. The
    rows' date and instrument codes place each value in that matrix directly: the same floats, rows and columns. The
    values are compared as the pandas path compares them: the ``asof`` filter on the distinct dates
    (``datetime.date`` objects), the sorts by Python's ``<``. A repeated (date, instrument) pair raises
    :class:`CovarianceError` (``repeats="raise"``, :func:`returns_matrix`) or keeps the pair's first row in table order
    (``repeats="first"``: ``drop_duplicates(keep="first")`` before the pivot).
    """
    col = df[value]
    if col.dtype != np.float64 or not len(col) or (asof is not None and type(asof) is not dt.date):
        return None
    dc, du = pd.factorize(df["date"].to_numpy(), sort=False)
    ic, iu = pd.factorize(df["instrument"].to_numpy(), sort=False)
    if (dc < 0).any() or (ic < 0).any() or {type(x) for x in du} != {dt.date} or {type(x) for x in iu} != {str}:
        return None  # a missing key, or dates/instruments of other types: converted and compared by pandas
    values = col.to_numpy()
    if asof is not None:
        keep = np.fromiter((x <= asof for x in du), bool, len(du))[dc]
        if not keep.any():
            return None
        dc, ic, values = dc[keep], ic[keep], values[keep]
    d_used = np.flatnonzero(np.bincount(dc, minlength=len(du)))
    i_used = np.flatnonzero(np.bincount(ic, minlength=len(iu)))
    d_sorted = d_used[np.argsort(du[d_used], kind="stable")]
    i_sorted = i_used[np.argsort(iu[i_used], kind="stable")]
    d_rank = np.empty(len(du), np.intp)
    d_rank[d_sorted] = np.arange(len(d_sorted))
    i_rank = np.empty(len(iu), np.intp)
    i_rank[i_sorted] = np.arange(len(i_sorted))
    cell = d_rank[dc] * len(i_sorted) + i_rank[ic]
    if np.bincount(cell, minlength=len(d_sorted) * len(i_sorted)).max() > 1:
        if repeats != "first":
            raise CovarianceError("returns table repeats (date, instrument) rows")
        _, first = np.unique(cell, return_index=True)  # each cell's first row (a stable sort)
        cell, values = cell[first], values[first]
    mat = np.full(len(d_sorted) * len(i_sorted), np.nan)
    mat[cell] = values
    return pd.DataFrame(mat.reshape(len(d_sorted), len(i_sorted)),
                        index=pd.Index(du[d_sorted], dtype=object, name="date"),
                        columns=pd.Index(iu[i_sorted], dtype=object))


def shrunk_covariance(returns: NDArray[np.float64], names: Sequence[str] = (), vol_halflife: float | None = None
                      ) -> tuple[NDArray[np.float64], float]:
    """Ledoit-Wolf shrinkage of the correlation, rescaled by the volatilities (module docstring).

    Parameters
    ----------
    returns : ndarray
        ``n x p`` daily returns, no NaN.
    names : sequence of str
        Column names, for error messages.
    vol_halflife : float, optional
        Half-life in sessions of the exponential weights of the *volatilities* (:func:`ewma_variances`); ``None``
        keeps the window's equally weighted sample variances. The correlation is the window's either way.

    Returns
    -------
    (cov, shrinkage)
        The ``p x p`` covariance (per period of the returns) and the Ledoit-Wolf shrinkage intensity.

    Raises
    ------
    CovarianceError
        With fewer than 2 rows, a NaN/inf, or a constant column (its variance is zero: the covariance
        would be singular), naming the column.
    """
    x = np.asarray(returns, dtype=float)
    key = ("shrunk_covariance", x.shape, x.strides, None if vol_halflife is None else float(vol_halflife).hex(),
           x.tobytes()) if x.ndim == 2 and x.shape[1] > 0 else None  # tobytes: the values in row order
    kept = _KEPT.get(key, lambda: _shrunk_covariance(x, names, vol_halflife))
    return np.ascontiguousarray(kept[:-1]), float(kept[-1, 0])


#: :func:`shrunk_covariance` of the last few windows of this process (the covariance's rows, then the shrinkage
#: in a last row): the sizing's VaR measures, its reshaping and ``risk_var`` estimate one window several times a
#: session. Kept under the window's exact bytes, shape and strides (the memory layout the estimator saw) and the
#: half-life, so a hit is the array the same call computed; handed out as fresh arrays.
_KEPT: KeptFrames[np.ndarray] = KeptFrames(4)


def _shrunk_covariance(x: NDArray[np.float64], names: Sequence[str], vol_halflife: float | None) -> np.ndarray:
    from sklearn.covariance import LedoitWolf

    if x.ndim != 2 or x.shape[0] < 2:
        raise CovarianceError(f"covariance: need at least 2 return sessions, got {x.shape[0] if x.ndim else 0}")
    if not np.isfinite(x).all():
        raise CovarianceError("covariance: returns contain NaN or inf")
    sd = x.std(axis=0, ddof=1)
    flat = sd**2 <= EPS_VAR
    if flat.any():
        bad = [names[i] if i < len(names) else f"column {i}" for i in np.flatnonzero(flat).tolist()]
        raise CovarianceError(f"singular covariance: zero variance over the window for {bad}")
    lw = LedoitWolf(assume_centered=False).fit((x - x.mean(axis=0)) / sd)
    c = lw.covariance_
    d = np.sqrt(np.diag(c))
    corr = c / np.outer(d, d)
    corr = 0.5 * (corr + corr.T)
    np.fill_diagonal(corr, 1.0)
    vol = sd if vol_halflife is None else np.sqrt(ewma_variances(x, vol_halflife))
    cov = np.asarray(corr * np.outer(vol, vol), dtype=float)
    return np.vstack([cov, np.full((1, cov.shape[1]), float(lw.shrinkage_))])


def ewma_variances(returns: NDArray[np.float64], halflife: float) -> NDArray[np.float64]:
    """Exponentially weighted variances of the columns of ``returns`` (rows oldest first), half-life in rows.

    The weight of the row ``k`` sessions before the last is ``λ^k`` with ``λ = 0.5^(1/halflife)``, normalised to
    sum to one; the deviations are from the weighted mean, and the sum is divided by ``1 - Σ w²`` (reliability
    weights), so equal weights (``halflife`` → ∞) give exactly the sample variance with ``ddof = 1``.
    """
    x = np.asarray(returns, dtype=float)
    if not halflife > 0:
        raise CovarianceError(f"covariance: vol_halflife must be > 0 sessions, got {halflife!r}")
    w = 0.5 ** (np.arange(x.shape[0])[::-1] / float(halflife))
    w = w / w.sum()
    dev = x - w @ x
    out: NDArray[np.float64] = (w @ dev**2) / (1.0 - float(w @ w))
    return out


def annual_vols(cov: NDArray[np.float64], periods_per_year: int = 252) -> NDArray[np.float64]:
    """Annualised volatilities ``sqrt(periods · Σ_ii)`` of a per-period covariance (the ``vol`` figures shown)."""
    vols: NDArray[np.float64] = np.sqrt(np.clip(np.diag(np.asarray(cov, float)), 0.0, None) * periods_per_year)
    return vols
