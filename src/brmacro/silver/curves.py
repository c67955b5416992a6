"""Curves: DI1/DAP zero curves (flat-forward, du/252), UST par curves, spreads, slopes, Nelson-Siegel.

Conventions
-----------
* BR curves are **zero rates, 252 exponential**: ``(1 + r)^(du/252)`` is the capitalisation factor
  to ``du`` ANBIMA business days. They are interpolated **flat-forward** (the B3/ANBIMA
  convention): the log capitalisation factor ``y(du) = du/252 · ln(1 + r)`` is linear in ``du``
  between vertices; before the first vertex the first vertex's rate holds (``y`` linear from
  ``(0, 0)``), beyond the last vertex the forward of the last segment is extended.
* US curves are the Treasury **par yields** as published, interpolated linearly in
  ``tenor_years`` and never extrapolated (a tenor outside the published range is a gap).
* Every function that spans sessions works on padded ``(sessions, vertices)`` arrays, so a
  whole lookback is interpolated in a handful of numpy operations.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from brmacro.calendar import b3_sessions, previous_sessions
from brmacro.errors import InputMissing
from brmacro.io import date_objects, dates_on_or_before

__all__ = [
    "CurveError",
    "NSFit",
    "Nodes",
    "align_asof",
    "build_curves",
    "curve_nodes",
    "du_label",
    "fit_nelson_siegel",
    "flat_forward",
    "interp_linear_rows",
    "lookback_window",
    "nelson_siegel",
    "parse_tenor",
    "public_by",
    "treasury_nodes",
]

log = logging.getLogger("brmacro.silver_curves")


class CurveError(InputMissing):
    """A curve cannot be built for a session (no vertices, a gap longer than allowed, bad vertices)."""


# --------------------------------------------------------------------------------------------
# calendar alignment
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _b3() -> np.ndarray:
    return np.array(b3_sessions(), dtype="datetime64[D]")


def lookback_window(date: dt.date, n: int) -> np.ndarray:
    """The ``n`` B3 sessions ending at ``date`` (inclusive), oldest first, as ``datetime64[D]``.

    Parameters
    ----------
    date : datetime.date
        The partition session.
    n : int
        Number of sessions (``>= 1``).
    """
    if n < 1:
        raise ValueError(f"lookback must be at least 1 session, got {n}")
    return np.array([*previous_sessions(date, n - 1), date], dtype="datetime64[D]")


def align_asof(obs_dates: np.ndarray, sessions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each session, the position of the last observation dated on or before it, and its staleness.

    Parameters
    ----------
    obs_dates : ndarray of datetime64[D]
        Sorted, unique observation dates of one series (any calendar).
    sessions : ndarray of datetime64[D]
        B3 sessions to align on.

    Returns
    -------
    pos : ndarray of int
        Index into ``obs_dates`` (``-1`` where nothing is dated on or before the session).
    lag : ndarray of int
        Number of B3 sessions in ``(obs_date, session]``: 0 when observed on the session itself,
        ``n`` when the value is carried ``n`` sessions (a large sentinel where ``pos == -1``).
    """
    obs = np.asarray(obs_dates, dtype="datetime64[D]")
    ses = np.asarray(sessions, dtype="datetime64[D]")
    if len(obs) > 1 and not bool(np.all(obs[1:] > obs[:-1])):
        raise ValueError("align_asof: observation dates must be sorted and unique")
    pos = np.searchsorted(obs, ses, side="right") - 1
    cal = _b3()
    lag = np.full(len(ses), np.iinfo(np.int64).max // 2, dtype=np.int64)
    ok = pos >= 0
    if ok.any():
        lag[ok] = np.searchsorted(cal, ses[ok], side="right") - np.searchsorted(cal, obs[pos[ok]], side="right")
    return pos, lag


def public_by(df: pd.DataFrame, date: dt.date) -> pd.DataFrame:
    """Rows of a bronze frame released on or before ``date`` (bronze guarantees it; silver re-checks)."""
    return df.loc[dates_on_or_before(df["release_date"], date)]


# --------------------------------------------------------------------------------------------
# interpolation kernels (row-wise over padded arrays)
# --------------------------------------------------------------------------------------------


def _as_rows(nodes_x: np.ndarray, nodes_y: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, ...]:
    x = np.atleast_2d(np.asarray(nodes_x, dtype=float))
    y = np.atleast_2d(np.asarray(nodes_y, dtype=float))
    if x.shape != y.shape:
        raise ValueError(f"node arrays differ in shape: {x.shape} vs {y.shape}")
    t = np.asarray(targets, dtype=float)
    t = np.broadcast_to(t, (x.shape[0], t.shape[-1])) if t.ndim <= 1 else t
    if t.shape[0] != x.shape[0]:
        raise ValueError(f"targets have {t.shape[0]} rows but nodes have {x.shape[0]}")
    n = (~np.isnan(x)).sum(axis=1)
    if x.shape[1] > 1:
        gap = np.isnan(x[:, :-1]) & ~np.isnan(x[:, 1:])
        step = np.diff(x, axis=1)
        if bool(gap.any()) or not bool(np.all((step > 0) | np.isnan(step))):
            raise ValueError("vertices must be strictly increasing within a row and NaN-padded on the right")
    if bool(np.any(np.isnan(x) != np.isnan(y))):
        raise ValueError("a vertex has a tenor but no rate (or the reverse)")
    return x, y, t, n


def flat_forward(nodes_du: np.ndarray, nodes_rate: np.ndarray, targets_du: np.ndarray) -> np.ndarray:
    """Flat-forward interpolation of 252-exponential zero rates, row by row.

    Parameters
    ----------
    nodes_du : ndarray, shape (S, M) or (M,)
        Vertex maturities in business days, strictly increasing per row, right-padded with NaN.
    nodes_rate : ndarray, same shape
        Zero rates at the vertices, decimal per year (252 basis).
    targets_du : ndarray, shape (T,) or (S, T)
        Maturities to evaluate (the same for every row, or one set per row).

    Returns
    -------
    ndarray, shape (S, T)
        Zero rates at the targets; NaN for a row without vertices. A target ``<= 0`` gets the
        first vertex's rate (the limit of the flat extrapolation).

    Notes
    -----
    ``y(du) = du/252 · ln(1 + r)`` is linear in ``du`` between ``(0, 0)``, the vertices and, beyond
    the last vertex, along the last segment: flat forwards everywhere.
    """
    x, r, t, n = _as_rows(nodes_du, nodes_rate, targets_du)
    if bool(np.any(x[~np.isnan(x)] <= 0)):
        raise ValueError("flat_forward: vertices must have du > 0")
    S = x.shape[0]
    if x.shape[1] == 0:
        return np.full(t.shape, np.nan)
    X = np.concatenate([np.zeros((S, 1)), x], axis=1)
    Y = np.concatenate([np.zeros((S, 1)), x / 252.0 * np.log1p(r)], axis=1)
    below = (x[:, None, :] < t[:, :, None]).sum(axis=2)  # vertices strictly below each target
    right = np.minimum(below + 1, np.maximum(n, 1)[:, None])
    left = right - 1
    rows = np.arange(S)[:, None]
    xl, xr, yl, yr = X[rows, left], X[rows, right], Y[rows, left], Y[rows, right]
    with np.errstate(invalid="ignore", divide="ignore"):
        yt = yl + (yr - yl) * (t - xl) / (xr - xl)
        out = np.expm1(yt * 252.0 / t)
    first = r[:, :1] if r.shape[1] else np.full((S, 1), np.nan)
    out = np.where(t <= 0, first, out)
    out[n == 0, :] = np.nan
    return out


def interp_linear_rows(nodes_x: np.ndarray, nodes_y: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Linear interpolation row by row, NaN outside each row's vertex range (no extrapolation).

    Parameters
    ----------
    nodes_x, nodes_y : ndarray, shape (S, M) or (M,)
        Vertices (strictly increasing per row, right-padded with NaN) and their values.
    targets : ndarray, shape (T,) or (S, T)

    Returns
    -------
    ndarray, shape (S, T)
    """
    x, y, t, n = _as_rows(nodes_x, nodes_y, targets)
    S, M = x.shape
    if M == 0:
        return np.full(t.shape, np.nan)
    left = (x[:, None, :] <= t[:, :, None]).sum(axis=2) - 1
    rows = np.arange(S)[:, None]
    lc = np.clip(left, 0, M - 1)
    rc = np.clip(left + 1, 0, M - 1)
    xl, yl, xr, yr = x[rows, lc], y[rows, lc], x[rows, rc], y[rows, rc]
    exact = (left >= 0) & (xl == t)
    inside = (left >= 0) & (left + 1 < n[:, None])
    with np.errstate(invalid="ignore", divide="ignore"):
        val = yl + (yr - yl) * (t - xl) / (xr - xl)
    return np.where(exact, yl, np.where(inside, val, np.nan))


# --------------------------------------------------------------------------------------------
# vertices from bronze frames
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Nodes:
    """Vertices of one curve per observation date, padded.

    Attributes
    ----------
    dates : ndarray of datetime64[D]
        Observation dates (sorted, unique), one per row.
    x : ndarray, shape (len(dates), M)
        Vertex tenors (du for BR curves, years for US curves), right-padded with NaN.
    y : ndarray, same shape
        Rates at the vertices.
    """

    dates: np.ndarray
    x: np.ndarray
    y: np.ndarray

    def take(self, pos: np.ndarray) -> Nodes:
        """Rows at positions ``pos`` (``-1`` gives an all-NaN row)."""
        pos = np.asarray(pos)
        x = np.vstack([self.x, np.full((1, self.x.shape[1]), np.nan)])[pos]
        y = np.vstack([self.y, np.full((1, self.y.shape[1]), np.nan)])[pos]
        d = np.concatenate([self.dates, np.array(["NaT"], dtype="datetime64[D]")])[pos]
        return Nodes(d, x, y)


def _pad(dates: np.ndarray, x: np.ndarray, y: np.ndarray) -> Nodes:
    """Pack long (date, x, y) rows, sorted by (date, x), into padded arrays."""
    if len(dates) == 0:
        return Nodes(np.array([], dtype="datetime64[D]"), np.empty((0, 0)), np.empty((0, 0)))
    udates, start, counts = np.unique(dates, return_index=True, return_counts=True)
    row = np.repeat(np.arange(len(udates)), counts)
    col = np.arange(len(dates)) - np.repeat(start, counts)
    X = np.full((len(udates), int(counts.max())), np.nan)
    Y = np.full_like(X, np.nan)
    X[row, col] = x
    Y[row, col] = y
    return Nodes(udates, X, Y)


def _distinct_nodes(dates: pd.Series, x: pd.Series, y: pd.Series, keep: pd.Series) -> Nodes | None:
    """:func:`_pad` of the rows ``keep`` selects, sorted by (date, x), when no two of them share a (date, x) pair
    (no date missing, ``x`` numeric without NaN); None otherwise (the caller's frame path: its label tie-break,
    dropping and warning).

    The frame path sorts by (date, x, label) and drops repeated (date, x) pairs: with distinct pairs the label
    never decides and nothing is dropped, so the order is the one stable sort by (date, x) gives (any sort: no
    ties). The dates are converted as there (``pd.to_datetime`` of the same selected rows, in the same order, cut
    to days and held in a pandas column).
    """
    k = keep.to_numpy(dtype=bool)
    xs = x.to_numpy()[k]
    if not k.any() or xs.dtype.kind not in "iuf" or (xs.dtype.kind == "f" and bool(np.isnan(xs).any())):
        return None
    # the days as the frame path holds them: a pandas column of datetime64[D] values (pandas keeps them in its
    # nearest unit, seconds), so the nodes' dates have the dtype they always had
    d = pd.Series(pd.to_datetime(dates[k]).to_numpy().astype("datetime64[D]")).to_numpy()
    if bool(np.isnat(d).any()):
        return None
    order = np.lexsort((xs, d.view("int64")))
    d, xs = d[order], xs[order]
    if len(d) > 1 and bool(((d[1:] == d[:-1]) & (xs[1:] == xs[:-1])).any()):  # a repeated (date, x) pair
        return None
    return _pad(d, xs.astype(float), y.to_numpy(dtype=float)[k][order])


def curve_nodes(b3: pd.DataFrame, commodity: str) -> Nodes:
    """DI1 or DAP vertices per trade date from a ``bronze_b3_market_data`` frame.

    Contracts with ``du <= 0`` (expiring) are dropped; if two contracts share a ``du`` on a
    date, the one with the smaller ticker is kept (deterministic, logged).
    """
    keep = (b3["commodity"] == commodity) & (b3["du"] > 0)
    fast = _distinct_nodes(b3["trade_date"], b3["du"], b3["settlement_rate"], keep)
    if fast is not None:
        return fast
    df = b3.loc[keep, ["trade_date", "ticker", "du", "settlement_rate"]]
    df = df.assign(d=pd.to_datetime(df["trade_date"]).to_numpy().astype("datetime64[D]"))
    df = df.sort_values(["d", "du", "ticker"], kind="mergesort")
    dup = df.duplicated(["d", "du"])
    if dup.any():
        log.warning("%s: %d contracts share a du with another contract on the same date; kept the first ticker",
                    commodity, int(dup.sum()))
        df = df.loc[~dup]
    return _pad(df["d"].to_numpy(), df["du"].to_numpy(dtype=float), df["settlement_rate"].to_numpy(dtype=float))


def treasury_nodes(tsy: pd.DataFrame, curve: str) -> Nodes:
    """Treasury par-yield vertices (tenor in years) per date for ``curve`` (``nominal`` | ``real``)."""
    keep = tsy["curve"] == curve
    fast = _distinct_nodes(tsy["date"], tsy["tenor_years"], tsy["yield"], keep)
    if fast is not None:
        return fast
    df = tsy.loc[keep, ["date", "tenor", "tenor_years", "yield"]]
    df = df.assign(d=pd.to_datetime(df["date"]).to_numpy().astype("datetime64[D]"))
    df = df.sort_values(["d", "tenor_years", "tenor"], kind="mergesort")
    dup = df.duplicated(["d", "tenor_years"])
    if dup.any():
        log.warning("treasury %s: %d labels map to an already used tenor; kept the first label", curve, int(dup.sum()))
        df = df.loc[~dup]
    return _pad(df["d"].to_numpy(), df["tenor_years"].to_numpy(dtype=float), df["yield"].to_numpy(dtype=float))


_TENOR = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([MY])\s*$", re.IGNORECASE)


def parse_tenor(label: str) -> float:
    """Years of a tenor label such as ``3M`` or ``10Y``."""
    m = _TENOR.match(label)
    if not m:
        raise ValueError(f"tenor label {label!r} is not like '3M' or '10Y'")
    v = float(m.group(1))
    return v / 12.0 if m.group(2).upper() == "M" else v


def du_label(du: int) -> str:
    """The label of a BR tenor (``252du``)."""
    return f"{int(du)}du"


# --------------------------------------------------------------------------------------------
# Nelson-Siegel
# --------------------------------------------------------------------------------------------


def nelson_siegel(t: np.ndarray, beta0: float, beta1: float, beta2: float, tau: float) -> np.ndarray:
    """Nelson-Siegel rate at maturities ``t`` (years): ``b0 + b1·L(t/τ) + b2·(L(t/τ) − e^{−t/τ})``."""
    t = np.asarray(t, dtype=float)
    x = t / tau
    with np.errstate(invalid="ignore", divide="ignore"):
        load = np.where(x > 0, -np.expm1(-x) / np.where(x > 0, x, 1.0), 1.0)
    return beta0 + beta1 * load + beta2 * (load - np.exp(-x))


def _ns_design(t: np.ndarray, tau: float) -> np.ndarray:
    x = t / tau
    load = -np.expm1(-x) / x
    return np.column_stack([np.ones_like(t), load, load - np.exp(-x)])


@dataclass(frozen=True)
class NSFit:
    """A Nelson-Siegel fit: parameters (rates decimal per year, τ in years), RMSE and the point count."""

    beta0: float
    beta1: float
    beta2: float
    tau: float
    rmse: float
    n_points: int


def fit_nelson_siegel(
    t: np.ndarray,
    y: np.ndarray,
    *,
    tau_bounds: tuple[float, float] = (0.05, 10.0),
    beta_bound: float = 1.0,
    grid_size: int = 60,
) -> NSFit:
    """Fit Nelson-Siegel to vertices by least squares (deterministic).

    For each τ on a log-spaced grid the betas are the linear least-squares solution; the best grid
    point starts :func:`scipy.optimize.least_squares` (trust-region reflective) over all four
    parameters, bounded ``|beta| <= beta_bound`` and ``tau`` in ``tau_bounds``.

    Parameters
    ----------
    t : ndarray
        Maturities in years (> 0).
    y : ndarray
        Rates, decimal per year.

    Raises
    ------
    ValueError
        Fewer than 4 points, non-finite input or a non-positive maturity.
    """
    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    if t.shape != y.shape or t.ndim != 1:
        raise ValueError("fit_nelson_siegel: t and y must be 1-D of the same length")
    if len(t) < 4:
        raise ValueError(f"fit_nelson_siegel: need at least 4 points, got {len(t)}")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(y))) or np.any(t <= 0):
        raise ValueError("fit_nelson_siegel: maturities must be finite and > 0, rates finite")
    lo, hi = tau_bounds
    best: tuple[float, np.ndarray, float] | None = None
    for tau in np.geomspace(lo, hi, grid_size):
        a = _ns_design(t, float(tau))
        beta, *_ = np.linalg.lstsq(a, y, rcond=None)
        beta = np.clip(beta, -beta_bound, beta_bound)
        sse = float(np.sum((a @ beta - y) ** 2))
        if best is None or sse < best[0]:
            best = (sse, beta, float(tau))
    assert best is not None
    x0 = np.array([*best[1], best[2]])
    res = least_squares(
        lambda p: nelson_siegel(t, p[0], p[1], p[2], p[3]) - y,
        x0,
        bounds=([-beta_bound] * 3 + [lo], [beta_bound] * 3 + [hi]),
        method="trf",
        x_scale=np.array([0.01, 0.01, 0.01, 1.0]),
        xtol=1e-14,
        ftol=1e-14,
        gtol=1e-14,
        max_nfev=2000,
    )
    p = res.x if float(np.sum(res.fun**2)) <= best[0] else x0
    rmse = float(np.sqrt(np.mean((nelson_siegel(t, *p) - y) ** 2)))
    return NSFit(float(p[0]), float(p[1]), float(p[2]), float(p[3]), rmse, len(t))


# --------------------------------------------------------------------------------------------
# the asset
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Long:
    """One curve's rows of the ``part`` table (finite rates only) as arrays: ``cols`` in the table's column order,
    ``label_at`` each row's position in ``labels``."""

    curve: str
    labels: tuple[str, ...]
    cols: dict[str, np.ndarray]
    label_at: np.ndarray


def _long(dates: np.ndarray, curve: str, labels: Sequence[str], du: Sequence[int], years: Sequence[float],
          rates: np.ndarray) -> _Long:
    S, T = rates.shape
    ok = np.isfinite(rates.reshape(-1))
    n = int(ok.sum())
    return _Long(curve, tuple(labels), {
        "date": np.repeat(dates, T)[ok],
        "curve": np.full(n, curve, dtype=object),
        "tenor_label": np.tile(np.asarray(labels, dtype=object), S)[ok],
        "tenor_du": np.tile(np.asarray(du, dtype=np.int64), S)[ok],
        "tenor_years": np.tile(np.asarray(years, dtype=float), S)[ok],
        "rate": rates.reshape(-1)[ok],
    }, np.tile(np.arange(T), S)[ok])


def _part(blocks: Sequence[_Long]) -> pd.DataFrame:
    """The ``part`` table: every curve's rows sorted by (date, curve, tenor label).

    The rows are one frame of the blocks' arrays (what ``pd.concat`` of a frame per curve gives: the same values,
    dtypes and a fresh index). With each curve in one block and each label once in its curve (the dates of a
    block are distinct: one row per (session, label)), every (date, curve, label) is distinct, so the one order
    ``sort_values`` gives is by the date, the curve's place in the sorted curves and the label's place in the
    sorted labels (names compared as ``str``, as pandas compares them; both sorts are stable, so repeated dates
    would keep the blocks' order in both); a missing date or a name that is not a ``str``: pandas sorts as before.
    """
    cols = {k: np.concatenate([b.cols[k] for b in blocks]) for k in blocks[0].cols}
    part = pd.DataFrame(cols)
    part["date"] = date_objects(part["date"])
    curves = [b.curve for b in blocks]
    names = {x for b in blocks for x in b.labels}
    d = cols["date"].astype("datetime64[D]")
    if len(set(curves)) < len(curves) or any(len(set(b.labels)) < len(b.labels) for b in blocks) \
            or not all(type(x) is str for x in [*curves, *names]) or bool(np.isnat(d).any()):
        return part.sort_values(["date", "curve", "tenor_label"], kind="mergesort").reset_index(drop=True)
    c_rank = {c: i for i, c in enumerate(sorted(curves))}
    l_rank = {x: i for i, x in enumerate(sorted(names))}
    c_key = np.concatenate([np.full(len(b.label_at), c_rank[b.curve], dtype=np.int64) for b in blocks])
    l_key = np.concatenate([np.array([l_rank[x] for x in b.labels], dtype=np.int64)[b.label_at] for b in blocks])
    return part.take(np.lexsort((l_key, c_key, d.view("int64")))).reset_index(drop=True)


def _us_asof(nodes: Nodes, sessions: np.ndarray, limit: int, what: str, *, strict: bool) -> Nodes:
    pos, lag = align_asof(nodes.dates, sessions)
    stale = lag > limit
    if strict and stale.any():
        i = int(np.flatnonzero(stale)[0])
        last = nodes.dates[pos[i]] if pos[i] >= 0 else None
        raise CurveError(
            f"silver_curves: no {what} curve for session {sessions[i]} "
            f"(last published {last}, more than {limit} sessions before)"
        )
    pos = np.where(stale, -1, pos)
    return nodes.take(pos)


def build_curves(
    b3: pd.DataFrame, tsy: pd.DataFrame, date: dt.date, params: Mapping[str, object]
) -> dict[str, pd.DataFrame]:
    """Build the ``silver_curves`` tables for session ``date``.

    Parameters
    ----------
    b3 : DataFrame
        ``bronze_b3_market_data`` (DI1, optional DAP) with history up to ``date``.
    tsy : DataFrame
        ``bronze_treasury_gov`` with history up to ``date``.
    date : datetime.date
        The partition session.
    params : mapping
        The ``silver`` config subtree.

    Returns
    -------
    dict
        ``part`` (curves at standard tenors for every session of the window), ``slopes`` and
        ``ns_params`` (fits on ``date``'s raw vertices).

    Raises
    ------
    CurveError
        A session of the window without DI1 contracts, a Treasury nominal curve missing more than
        ``treasury_ffill_sessions`` sessions, or no data at all.
    """
    lookback = int(params["lookback_sessions"])  # type: ignore[call-overload]
    di_du = [int(v) for v in params["di_tenors_du"]]  # type: ignore[attr-defined]
    us_labels = [str(v) for v in params["us_tenors"]]  # type: ignore[attr-defined]
    spread_labels = [str(v) for v in params["spread_tenors"]]  # type: ignore[attr-defined]
    ffill = int(params["treasury_ffill_sessions"])  # type: ignore[call-overload]
    slopes_def: Mapping[str, Sequence[str]] = params["slopes"]  # type: ignore[assignment]
    ns_cfg: Mapping[str, object] = params["nelson_siegel"]  # type: ignore[assignment]

    b3, tsy = public_by(b3, date), public_by(tsy, date)
    di = curve_nodes(b3, "DI1")
    if len(di.dates) == 0:
        raise CurveError(f"silver_curves: bronze_b3_market_data has no DI1 contracts up to {date}")
    nom = treasury_nodes(tsy, "nominal")
    if len(nom.dates) == 0:
        raise CurveError(f"silver_curves: bronze_treasury_gov has no nominal curve up to {date}")
    window = lookback_window(date, lookback)
    start = max(di.dates[0], nom.dates[0])
    cut = window[window >= start]
    if len(cut) < len(window):
        log.info("silver_curves %s: history starts %s, window shortened to %d of %d sessions",
                 date, start, len(cut), len(window))
    window = cut
    if len(window) == 0 or window[-1] != np.datetime64(date, "D"):
        raise CurveError(f"silver_curves: no DI1 contracts or Treasury curve on or before session {date}")

    # DI_PRE: every session must have its own DI1 settlements
    pos = np.searchsorted(di.dates, window)
    hit = (pos < len(di.dates)) & (di.dates[np.minimum(pos, len(di.dates) - 1)] == window)
    if not hit.all():
        miss = window[~hit]
        raise CurveError(
            f"silver_curves: no DI1 contracts in bronze_b3_market_data for session {miss[0]}"
            f" ({len(miss)} session(s) missing in the window, last {miss[-1]})"
        )
    di_w = di.take(pos)
    di_rates = flat_forward(di_w.x, di_w.y, np.asarray(di_du, dtype=float))
    labels_br = [du_label(d) for d in di_du]
    years_br = [d / 252.0 for d in di_du]
    frames = [_long(window, "DI_PRE", labels_br, di_du, years_br, di_rates)]

    # BR_REAL and BR_BEI where DAP exists (no carrying: a session without DAP has no real curve)
    dap = curve_nodes(b3, "DAP")
    real_rates = np.full_like(di_rates, np.nan)
    if len(dap.dates):
        p2, lag2 = align_asof(dap.dates, window)
        dap_w = dap.take(np.where(lag2 == 0, p2, -1))
        real_rates = flat_forward(dap_w.x, dap_w.y, np.asarray(di_du, dtype=float))
        frames.append(_long(window, "BR_REAL", labels_br, di_du, years_br, real_rates))
        frames.append(_long(window, "BR_BEI", labels_br, di_du, years_br, (1 + di_rates) / (1 + real_rates) - 1))

    # US curves (as-of join, carried at most `ffill` sessions)
    us_years = np.array([parse_tenor(s) for s in us_labels])
    us_du = [int(round(y * 252)) for y in us_years]
    nom_w = _us_asof(nom, window, ffill, "Treasury nominal", strict=True)
    nom_rates = interp_linear_rows(nom_w.x, nom_w.y, us_years)
    frames.append(_long(window, "UST_NOM", us_labels, us_du, list(us_years), nom_rates))
    real = treasury_nodes(tsy, "real")
    if len(real.dates):
        real_w = _us_asof(real, window, ffill, "Treasury real", strict=False)
        ust_real = interp_linear_rows(real_w.x, real_w.y, us_years)
        frames.append(_long(window, "UST_REAL", us_labels, us_du, list(us_years), ust_real))
        frames.append(_long(window, "US_BEI", us_labels, us_du, list(us_years), nom_rates - ust_real))

    # DI - UST spread at the spread tenors (labelled by years)
    sp_years = np.array([parse_tenor(s) for s in spread_labels])
    sp_du = [int(round(y * 252)) for y in sp_years]
    di_sp = flat_forward(di_w.x, di_w.y, np.asarray(sp_du, dtype=float))
    ust_sp = interp_linear_rows(nom_w.x, nom_w.y, sp_years)
    frames.append(_long(window, "DI_UST_SPREAD", spread_labels, sp_du, list(sp_years), di_sp - ust_sp))

    part = _part(frames)

    ns = _ns_table(di, dap, nom, real, date, ffill, ns_cfg)
    return {"part": part, "slopes": _slopes(part, slopes_def), "ns_params": ns}


def _slopes(part: pd.DataFrame, slopes_def: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    wide = part.pivot_table(index="date", columns=["curve", "tenor_label"], values="rate", aggfunc="first")
    out = []
    for name, (curve, short, long_) in sorted(slopes_def.items()):
        if (curve, short) not in wide.columns or (curve, long_) not in wide.columns:
            log.warning("slope %s: %s %s or %s not built; slope skipped", name, curve, short, long_)
            continue
        v = wide[(curve, long_)] - wide[(curve, short)]
        v = v.dropna()
        out.append(pd.DataFrame({"date": v.index, "name": name, "value": v.to_numpy()}))
    if not out:
        return pd.DataFrame({"date": [], "name": [], "value": []})
    return pd.concat(out, ignore_index=True).sort_values(["date", "name"], kind="mergesort").reset_index(drop=True)


def _ns_table(di: Nodes, dap: Nodes, nom: Nodes, real: Nodes, date: dt.date, ffill: int,
              cfg: Mapping[str, object]) -> pd.DataFrame:
    d64 = np.array([date], dtype="datetime64[D]")
    tau_bounds = tuple(float(v) for v in cfg["tau_bounds"])  # type: ignore[attr-defined]
    min_points = int(cfg["min_points"])  # type: ignore[call-overload]
    grid = int(cfg["tau_grid_size"])  # type: ignore[call-overload]
    beta_bound = float(cfg["beta_bound"])  # type: ignore[arg-type]
    rows = []
    specs = (("DI_PRE", di, 252.0, 0), ("BR_REAL", dap, 252.0, 0), ("UST_NOM", nom, 1.0, ffill),
             ("UST_REAL", real, 1.0, ffill))
    for curve, nodes, per_year, limit in specs:
        if len(nodes.dates) == 0:
            continue
        pos, lag = align_asof(nodes.dates, d64)
        if pos[0] < 0 or lag[0] > limit:
            continue
        x, y = nodes.x[pos[0]], nodes.y[pos[0]]
        keep = ~np.isnan(x)
        t, r = x[keep] / per_year, y[keep]
        if len(t) < min_points:
            log.warning("ns_params %s %s: %d vertices (< %d), no fit", curve, date, len(t), min_points)
            continue
        fit = fit_nelson_siegel(t, r, tau_bounds=(tau_bounds[0], tau_bounds[1]), beta_bound=beta_bound,
                                grid_size=grid)
        rows.append({"date": date, "curve": curve, "beta0": fit.beta0, "beta1": fit.beta1, "beta2": fit.beta2,
                     "tau": fit.tau, "rmse": fit.rmse, "n_points": fit.n_points})
    cols = ["date", "curve", "beta0", "beta1", "beta2", "tau", "rmse", "n_points"]
    return pd.DataFrame(rows, columns=cols).sort_values(["date", "curve"], kind="mergesort").reset_index(drop=True)
