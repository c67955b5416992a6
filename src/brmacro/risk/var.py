"""Value at Risk and expected shortfall of the model book: historical, parametric, Monte Carlo.

Conventions
-----------
* One-day horizon; figures are fractions of NAV and **positive numbers are losses**.
* Portfolio return on a session = ``sum_i w_i r_i`` with today's signed weights ``w`` (NAV fractions)
  and the daily excess returns ``r`` of the returns matrix (price convention).
* **Empirical quantile** (historical and Monte Carlo): with ``n`` portfolio returns sorted ascending
  ``r_(1) <= ... <= r_(n)`` and ``k = ceil(n (1 - c))`` (computed with a 1e-9 guard so that
  ``100 x 0.05`` is 5, not 6), ``VaR_c = -r_(k)`` and ``CVaR_c = -mean(r_(1), ..., r_(k))`` (the mean of
  the ``k`` worst outcomes). This is numpy's ``inverted_cdf`` quantile.
* **Covariance**: the project's one estimator, :func:`brmacro.covariance.shrunk_covariance` (Ledoit-Wolf
  shrinkage of the *correlation*, sample variances kept; its docstring says why), the same the optimiser
  and sizing use.
* **Parametric**: normal, zero mean (a one-day mean is estimation noise next to the volatility, and a
  zero mean is what makes the Euler decomposition sum exactly): ``VaR_c = z_c sigma_p``,
  ``CVaR_c = sigma_p phi(z_c) / (1 - c)``, ``sigma_p = sqrt(w' Sigma w)``.
* **Monte Carlo**: Student-t marginals (zero location) joined by a Gaussian copula with the shrunk
  correlation. Degrees of freedom by the method of moments, ``nu = 4 + 6 / g2`` from the bias-corrected
  excess kurtosis ``g2`` (normal when ``g2 <= 0``), clamped to ``[min_df, max_df]``; the scale keeps the
  sample variance, ``s = sd sqrt((nu - 2) / nu)``. ``t_fit="mle"`` uses ``scipy.stats.t.fit`` with the
  location fixed at 0 instead. Draws come from ``numpy.random.default_rng([seed, date ordinal])``, so the
  same session gives the same bytes.
* **Euler decomposition** (parametric): marginal ``dVaR/dw_i = z (Sigma w)_i / sigma_p``, component
  ``w_i dVaR/dw_i``; components sum exactly to the parametric VaR.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from brmacro.calendar import previous_sessions
from brmacro.covariance import returns_matrix, shrunk_covariance
from brmacro.kept import KeptFrames
from brmacro.params import resolve
from brmacro.risk._common import RiskInputError, check_weights

__all__ = [
    "VarEstimate",
    "WindowData",
    "compute_var",
    "empirical_var_cvar",
    "euler_decomposition",
    "fit_t_marginals",
    "monte_carlo_var",
    "monte_carlo_var_seeded",
    "parametric_var_cvar",
    "select_window",
    "shrunk_covariance",
]


@dataclass(frozen=True)
class VarEstimate:
    """One row of the VaR table."""

    method: str
    confidence: float
    var: float
    cvar: float
    n_obs: int
    note: str


@dataclass(frozen=True)
class WindowData:
    """The estimation window: complete rows of the held instruments.

    Attributes
    ----------
    returns : DataFrame
        Sessions x instruments used for estimation (no NaN).
    weights : Series
        Weights of those instruments (same order as the columns).
    excluded : list of str
        Zero-weight instruments left out of the estimation for lack of data.
    first, last : datetime.date or None
        First and last session of the window actually used.
    n_sessions_window : int
        B3 sessions in the calendar window.
    """

    returns: pd.DataFrame
    weights: pd.Series
    excluded: list[str]
    first: dt.date | None
    last: dt.date | None
    n_sessions_window: int


def _k_tail(n: int, confidence: float) -> int:
    return max(1, math.ceil(n * (1.0 - confidence) - 1e-9))


def empirical_var_cvar(pnl: np.ndarray, confidence: float) -> tuple[float, float]:
    """VaR and CVaR (positive = loss) of a sample of portfolio returns by the order statistic.

    Parameters
    ----------
    pnl : ndarray
        Portfolio returns (NAV fractions), any order.
    confidence : float
        In (0, 1), e.g. 0.95.

    Returns
    -------
    (var, cvar)
        ``-r_(k)`` and ``-mean(r_(1..k))`` with ``k = ceil(n (1 - c))``.

    Raises
    ------
    RiskInputError
        For an empty sample, a non-finite value or a confidence outside (0, 1).
    """
    x = np.asarray(pnl, dtype=float).ravel()
    if x.size == 0:
        raise RiskInputError("empirical VaR: the returns window is empty")
    if not np.isfinite(x).all():
        raise RiskInputError("empirical VaR: portfolio returns contain NaN or inf")
    if not 0.0 < confidence < 1.0:
        raise RiskInputError(f"empirical VaR: confidence {confidence} is not in (0, 1)")
    k = _k_tail(x.size, confidence)
    tail = np.partition(x, k - 1)[:k] if k < x.size else np.sort(x)
    return float(-tail.max()), float(-tail.mean())


def parametric_var_cvar(weights: np.ndarray, cov: np.ndarray, confidence: float) -> tuple[float, float]:
    """Normal, zero-mean VaR ``z sigma_p`` and CVaR ``sigma_p phi(z) / (1 - c)``.

    Parameters
    ----------
    weights : ndarray
        Signed weights (NAV fractions).
    cov : ndarray
        Daily covariance of the instruments' returns.
    confidence : float
        In (0, 1).
    """
    w, s = _check_w_cov(weights, cov)
    sigma = math.sqrt(max(float(w @ s @ w), 0.0))
    z = float(stats.norm.ppf(confidence))
    return z * sigma, sigma * float(stats.norm.pdf(z)) / (1.0 - confidence)


def _check_w_cov(weights: np.ndarray, cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    w = np.asarray(weights, dtype=float).ravel()
    s = np.asarray(cov, dtype=float)
    if s.shape != (w.size, w.size):
        raise RiskInputError(f"covariance shape {s.shape} does not match {w.size} weights")
    if not np.isfinite(w).all():
        raise RiskInputError("weights contain NaN or inf")
    if not np.isfinite(s).all():
        raise RiskInputError("covariance contains NaN or inf")
    return w, s


def euler_decomposition(
    weights: np.ndarray, cov: np.ndarray, confidence: float
) -> tuple[np.ndarray, np.ndarray]:
    """Marginal and component parametric VaR per position.

    Returns
    -------
    (marginal, component)
        ``z (Sigma w)_i / sigma_p`` and ``w_i`` times it; ``component.sum()`` equals ``z sigma_p``.
        For a flat book (all weights 0) the marginals are NaN and the components 0.

    Raises
    ------
    RiskInputError
        When the weights are not all zero but ``w' Sigma w`` is not positive (a singular covariance
        in the direction of the book).
    """
    w, s = _check_w_cov(weights, cov)
    z = float(stats.norm.ppf(confidence))
    if not np.any(w):
        return np.full(w.size, np.nan), np.zeros(w.size)
    var_p = float(w @ s @ w)
    if not var_p > 0.0:
        raise RiskInputError(
            f"singular covariance: the book's variance w'Sigma w = {var_p:.3g} is not positive, "
            "so VaR cannot be decomposed"
        )
    sigma = math.sqrt(var_p)
    marginal = z * (s @ w) / sigma
    return marginal, w * marginal


def fit_t_marginals(
    returns: np.ndarray,
    method: Literal["moments", "mle"] = "moments",
    min_df: float = 2.5,
    max_df: float = 1_000.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Zero-location Student-t marginals per column: degrees of freedom and scale.

    Parameters
    ----------
    returns : ndarray
        ``n x p`` daily returns.
    method : {"moments", "mle"}
        ``moments``: ``nu = 4 + 6 / g2`` (bias-corrected excess kurtosis ``g2``; normal, i.e. ``max_df``,
        when ``g2 <= 0``) and the scale that keeps the sample variance. ``mle``:
        ``scipy.stats.t.fit(x, floc=0)``.
    min_df, max_df : float
        Clamp of the degrees of freedom (``max_df`` is treated as normal by :func:`monte_carlo_var`).

    Returns
    -------
    (df, scale)

    A pure function of the window: the sizing's measures and ``risk_var`` fit the same window several times a
    session, so the fit is kept per process (:class:`brmacro.kept.KeptFrames`) under the window's exact bytes, its
    shape and the arguments, and handed out as fresh arrays.
    """
    x = np.asarray(returns, dtype=float)
    key = ("t_marginals", str(method), float(min_df).hex(), float(max_df).hex(), x.shape, x.tobytes()) \
        if x.ndim == 2 else None  # tobytes: the values in row order, whatever the array's memory layout
    kept = _KEPT.get(key, lambda: np.vstack(_fit_t_marginals(x, method, min_df, max_df)))
    return kept[0], kept[1]


#: :func:`fit_t_marginals` of the last few windows of this process (rows: the degrees of freedom, the scales)
_KEPT: KeptFrames[np.ndarray] = KeptFrames(4)


def _fit_t_marginals(x: np.ndarray, method: str, min_df: float, max_df: float) -> tuple[np.ndarray, np.ndarray]:
    p = x.shape[1]
    dfs = np.empty(p)
    scales = np.empty(p)
    for j in range(p):
        col = x[:, j]
        sd = float(col.std(ddof=1))
        if method == "moments":
            g2 = float(stats.kurtosis(col, fisher=True, bias=False))
            nu = 4.0 + 6.0 / g2 if g2 > 0 else max_df
            nu = min(max(nu, min_df), max_df)
            scale = sd * math.sqrt((nu - 2.0) / nu) if nu < max_df else sd
        elif method == "mle":
            nu, _, scale = stats.t.fit(col, floc=0.0)
            nu = min(max(float(nu), min_df), max_df)
            if nu >= max_df:
                scale = sd
        else:
            raise RiskInputError(f"t_fit must be 'moments' or 'mle', got {method!r}")
        dfs[j], scales[j] = nu, float(scale)
    return dfs, scales


def monte_carlo_var(
    weights: np.ndarray,
    cov: np.ndarray,
    dfs: np.ndarray,
    scales: np.ndarray,
    confidences: Sequence[float],
    draws: int,
    rng: np.random.Generator,
    max_df: float = 1_000.0,
) -> dict[float, tuple[float, float]]:
    """VaR and CVaR from ``draws`` one-day scenarios: t marginals, Gaussian copula of ``cov``'s correlation.

    Columns whose ``df >= max_df`` are drawn normal with standard deviation ``scales``.

    Returns
    -------
    dict
        confidence -> (var, cvar), positive = loss.

    Raises
    ------
    RiskInputError
        When the correlation is not positive definite (Cholesky fails).
    """
    w, s = _check_w_cov(weights, cov)
    pnl = _mc_scenarios(s, dfs, scales, draws, rng, max_df) @ w
    return {c: empirical_var_cvar(pnl, c) for c in confidences}


def _mc_scenarios(
    s: np.ndarray, dfs: np.ndarray, scales: np.ndarray, draws: int, rng: np.random.Generator, max_df: float,
    cols: np.ndarray | None = None,
) -> np.ndarray:
    """The ``draws x p`` one-day return scenarios of :func:`monte_carlo_var` (they do not depend on the weights).

    ``cols`` (a boolean mask, default all): the columns to transform; the others are NaN. The draws and the
    copula (``z``) are always the whole ``draws x p``, and each scenario is an elementwise function of its own
    ``z`` and column parameters, so a column's numbers do not depend on which other columns are computed.
    """
    d = np.sqrt(np.diag(s))
    if (d <= 0).any():
        raise RiskInputError("Monte Carlo: a variance on the covariance diagonal is not positive")
    corr = s / np.outer(d, d)
    try:
        chol = np.linalg.cholesky(corr)
    except np.linalg.LinAlgError as exc:
        raise RiskInputError(f"Monte Carlo: the correlation matrix is singular (Cholesky failed: {exc})") from exc
    z = rng.standard_normal((int(draws), s.shape[0])) @ chol.T
    normal = dfs >= max_df
    if cols is None:
        x = np.empty_like(z)
        t_cols = ~normal
    else:
        x = np.full_like(z, np.nan)
        t_cols = ~normal & cols
        normal = normal & cols
    if normal.any():
        x[:, normal] = z[:, normal] * scales[normal]
    if t_cols.any():
        u = np.clip(stats.norm.cdf(z[:, t_cols]), 1e-12, 1.0 - 1e-12)
        x[:, t_cols] = stats.t.ppf(u, dfs[t_cols]) * scales[t_cols]
    return x


def _zero_weight_columns_skippable(dfs: np.ndarray, scales: np.ndarray) -> bool:
    """Whether every scenario is surely finite, so that a zero-weight column adds only a signed zero to ``x @ w``:
    the Student-t quantile at ``u`` in ``[1e-12, 1 - 1e-12]`` is finite for ``df >= 1`` (bounded by Cauchy's,
    about 3.2e11), times a finite scale below 1e100."""
    return bool(np.isfinite(dfs).all() and (dfs >= 1.0).all() and np.isfinite(scales).all()
                and (np.abs(scales) < 1e100).all())


#: scenarios of the last few seeded Monte Carlo runs of this process, keyed by every input they depend on
_MC_SCENARIOS_KEPT = 4
_MC_SCENARIOS: KeptFrames[np.ndarray] = KeptFrames(_MC_SCENARIOS_KEPT)


def monte_carlo_var_seeded(
    weights: np.ndarray,
    cov: np.ndarray,
    dfs: np.ndarray,
    scales: np.ndarray,
    confidences: Sequence[float],
    draws: int,
    seed: Sequence[int],
    max_df: float = 1_000.0,
) -> dict[float, tuple[float, float]]:
    """:func:`monte_carlo_var` with ``numpy.random.default_rng(seed)``, the scenarios kept for the next call.

    The scenarios depend on the covariance, the marginals, the draws and the seed, not on the weights, so a
    book measured again on the same window (the sizing measures its book before and after reshaping, and
    ``risk_var`` measures the final one) reuses them: the same numbers, without drawing and transforming
    ``draws x p`` variates again (the Student-t quantile is most of a Monte Carlo VaR's cost). The last
    ``_MC_SCENARIOS_KEPT`` scenario sets are kept per process (:class:`brmacro.kept.KeptFrames`).

    Only the columns the book holds are transformed (a zero-weight column's scenarios add nothing to the P&L: the
    t quantile of five zero-weight columns of eight was 60 % of the cost); the kept set holds NaN in the others and
    a later book that holds one of them has it computed then (:func:`_pnl_of`). The P&L is the same floats as with
    every column: a skipped column contributes a signed zero to each row's sum, which can change only a sum that is
    zero, and a P&L with a zero takes every column. Skipped only when every scenario is surely finite
    (:func:`_zero_weight_columns_skippable`), else a NaN or inf column would not be the error it was.
    """
    w, s = _check_w_cov(weights, cov)
    s = np.ascontiguousarray(s)
    dfs = np.ascontiguousarray(dfs, dtype=float)
    scales = np.ascontiguousarray(scales, dtype=float)
    key = (tuple(int(x) for x in seed), int(draws), float(max_df), s.shape, s.tobytes(), dfs.tobytes(),
           scales.tobytes())
    need = (w != 0) if _zero_weight_columns_skippable(dfs, scales) else np.ones(w.size, dtype=bool)

    def scenarios(cols: np.ndarray) -> np.ndarray:
        return _mc_scenarios(s, dfs, scales, draws, np.random.default_rng(list(key[0])), max_df, cols)

    x = _MC_SCENARIOS.get(key, lambda: scenarios(need))
    pnl = _pnl_of(x, w, need, scenarios)
    if not need.all() and (pnl == 0).any():  # a signed zero could differ: every column, as if none were skipped
        pnl = _pnl_of(x, w, np.ones(w.size, dtype=bool), scenarios)
    return {c: empirical_var_cvar(pnl, c) for c in confidences}


def _pnl_of(x: np.ndarray, w: np.ndarray, need: np.ndarray, scenarios: Any) -> np.ndarray:
    """``x @ w`` on the scenarios ``x`` (a private copy, completed in place) with the columns not in ``need`` at 0.

    A kept scenario set holds NaN in the columns not computed yet (no weight on them when it was made);
    those ``need`` asks for are computed now (``scenarios(mask)``, the same numbers, column by column).
    A zero-weight column set to 0 instead of its scenarios changes each product ``x_ij * 0`` (a signed zero)
    to +0, so each row's sum is the same float unless it is zero (the caller checks that).
    """
    missing = need & np.isnan(x).all(axis=0)
    if missing.any():
        x[:, missing] = scenarios(missing)[:, missing]
    if not need.all():
        x = x.copy()
        x[:, ~need] = 0.0
    out: np.ndarray = x @ w
    return out


def select_window(mat: pd.DataFrame, weights: pd.Series, asof: dt.date, window: int) -> WindowData:
    """The estimation window: the ``window`` B3 sessions ending at ``asof``, complete rows only.

    Rows where a held instrument (non-zero weight) has no return are dropped; a zero-weight
    instrument still missing data after that is left out (listed in ``excluded``).

    Raises
    ------
    RiskInputError
        When a held instrument is absent from the returns matrix.
    """
    held = [str(i) for i in weights.index[weights.to_numpy() != 0]]
    absent = [i for i in held if i not in mat.columns]
    if absent:
        raise RiskInputError(f"held instruments {absent} have no returns in silver_returns")
    sessions = [*previous_sessions(asof, window - 1), asof]
    first = sessions[0]
    rows = (mat.index >= first) & (mat.index <= asof)
    fast = _window_of_arrays(mat, weights, held, rows)
    if fast is not None:
        sub, w_keep, excluded = fast
    else:
        sub = mat.loc[rows]
        cols = [str(i) for i in weights.index if i in mat.columns]
        sub = sub.loc[:, cols].dropna(subset=held) if held else sub.loc[:, cols]
        if not held:
            sub = sub.dropna(how="all")
        excluded = [c for c in cols if c not in held and sub[c].isna().any()]
        excluded += [str(i) for i in weights.index if i not in mat.columns]
        keep = [c for c in cols if c not in excluded]
        sub = sub.loc[:, keep]
        w_keep = weights.loc[keep].astype(float)
    return WindowData(
        returns=sub,
        weights=w_keep,
        excluded=sorted(excluded),
        first=sub.index[0] if len(sub) else None,
        last=sub.index[-1] if len(sub) else None,
        n_sessions_window=len(sessions),
    )


def _window_of_arrays(mat: pd.DataFrame, weights: pd.Series, held: list[str], rows: np.ndarray
                      ) -> tuple[pd.DataFrame, pd.Series, list[str]] | None:
    """:func:`select_window`'s frame, weights and exclusions from one array of the matrix, for a complete window (no
    row and no column to drop, the usual case); None (the pandas path) for anything else, or unless the matrix is all
    float64 and the instruments (weights' and matrix's) are distinct ``str``.

    The pandas path's steps on positions: the rows ``rows``, the columns of the weights' instruments in the weights'
    order; its NaN rules (the rows with a NaN among the held columns, or all NaN without a held column; the other
    columns with a NaN) find nothing to drop. The values are the matrix's floats taken, the labels the matrix's and
    the weights' own (taken by position), and the frame's block has the layout pandas' takes give a complete window
    (instruments x sessions, C order), so ``to_numpy()`` hands out the same array, strides included (pandas gives
    another layout when ``dropna`` drops rows: that is why a window with a row to drop is left to it).
    """
    names = list(weights.index)
    mcols = list(mat.columns)
    if (not weights.index.is_unique or not mat.columns.is_unique or any(type(x) is not str for x in names)
            or any(type(x) is not str for x in mcols) or any(d != np.float64 for d in mat.dtypes)):
        return None
    at = {c: j for j, c in enumerate(mcols)}
    cols = [x for x in names if x in at]
    vals = mat.to_numpy()[np.asarray(rows, dtype=bool)][:, [at[c] for c in cols]]
    held_set = set(held)
    is_held = np.array([c in held_set for c in cols], dtype=bool)
    nan = np.isnan(vals)
    ok = ~nan[:, is_held].any(axis=1) if held else ~nan.all(axis=1)
    if not ok.all() or nan[:, ~is_held].any():
        return None  # a row or a column to drop: the pandas path (its frame's memory layout is then pandas' choice)
    excluded = [x for x in names if x not in at]
    index = mat.index[np.asarray(rows, dtype=bool)]
    sub = pd.DataFrame(np.ascontiguousarray(vals.T).T, index=index, columns=mat.columns[[at[c] for c in cols]])
    w_at = {x: i for i, x in enumerate(names)}
    return sub, weights.iloc[np.array([w_at[c] for c in cols], dtype=np.intp)].astype(float), excluded


def compute_var(
    returns: pd.DataFrame,
    weights: pd.Series,
    asof: dt.date,
    params: Mapping[str, Any] | None = None,
    matrix: pd.DataFrame | None = None,
) -> tuple[list[VarEstimate], pd.DataFrame]:
    """All VaR/CVaR estimates and the Euler decomposition of today's book.

    Parameters
    ----------
    returns : DataFrame
        The long ``silver_returns`` table (``date``, ``instrument``, ``ret``).
    weights : Series
        Signed weights by instrument (NAV fractions), from ``portfolio_sizing``.
    asof : datetime.date
        The session (window end; seeds the Monte Carlo).
    params : mapping, optional
        The ``risk.var`` config subtree (declared defaults (:mod:`brmacro.params`) fill missing keys).
    matrix : DataFrame, optional
        ``returns_matrix(returns, asof)`` when the caller already has it (the sizing measures several books on one
        table); only read.

    Returns
    -------
    (estimates, components)
        One :class:`VarEstimate` per method and confidence, and a frame with ``instrument``,
        ``weight``, ``marginal_var``, ``component_var``, ``pct_contribution``.

    Raises
    ------
    RiskInputError
        For NaN weights, a held instrument without returns, an empty window, or a singular covariance.
    """
    p = resolve("risk.var", params)
    w_all = check_weights(weights, f"risk_var {asof.isoformat()}")
    mat = returns_matrix(returns, asof) if matrix is None else matrix
    win = select_window(mat, w_all, asof, int(p["window"]))
    n = len(win.returns)
    span = f"{win.first}..{win.last}" if n else "none"
    if n < 2:
        raise RiskInputError(
            f"risk_var {asof.isoformat()}: the returns window has {n} complete session(s) "
            f"of the held instruments (window of {p['window']} sessions ending {asof.isoformat()})"
        )
    names = list(win.returns.columns)
    if not names:
        raise RiskInputError(
            f"risk_var {asof.isoformat()}: no instrument of the book has complete returns in the window"
        )
    x = win.returns.to_numpy(dtype=float)
    w = win.weights.to_numpy(dtype=float)
    cov, shrink = shrunk_covariance(x, names)
    confs = [float(c) for c in p["confidences"]]
    base = f"window {span}, {n} of {win.n_sessions_window} sessions"
    if win.excluded:
        base += f"; no returns, left out: {', '.join(win.excluded)}"
    out: list[VarEstimate] = []

    param_rows = {c: parametric_var_cvar(w, cov, c) for c in confs}
    pnote = f"normal, zero mean, Ledoit-Wolf correlation (shrinkage {shrink:.4f}), sample vols; {base}"
    for c in confs:
        out.append(VarEstimate("parametric", c, *param_rows[c], n, pnote))

    pnl_hist = x @ w
    for c in confs:
        if n >= int(p["min_obs"]):
            v, cv = empirical_var_cvar(pnl_hist, c)
            k = _k_tail(n, c)
            note = f"order statistic k=ceil(n(1-c))={k}, CVaR mean of the k worst; {base}"
            if n < int(p["window"]):
                note += f"; shorter than the {p['window']}-session window"
            out.append(VarEstimate("historical", c, v, cv, n, note))
        else:
            v, cv = param_rows[c]
            out.append(VarEstimate(
                "historical", c, v, cv, n,
                f"FALLBACK to parametric: {n} sessions < min_obs {p['min_obs']}; {base}",
            ))

    dfs, scales = fit_t_marginals(x, p["t_fit"], float(p["min_df"]), float(p["max_df"]))
    draws = int(p["mc_draws"])
    mc = monte_carlo_var_seeded(w, cov, dfs, scales, confs, draws, [int(p["mc_seed"]), asof.toordinal()],
                                float(p["max_df"]))
    dof = ", ".join(
        f"{nm}={'normal' if d >= float(p['max_df']) else f'{d:.1f}'}"
        for nm, d, ww in zip(names, dfs, w, strict=False) if ww
    )
    mnote = f"{draws} draws, Gaussian copula, t marginals ({p['t_fit']}; df {dof or 'n/a'}); {base}"
    for c in confs:
        out.append(VarEstimate("monte_carlo", c, *mc[c], draws, mnote))

    cc = float(p["components_confidence"])
    marginal, component = euler_decomposition(w, cov, cc)
    total = float(component.sum())
    pct = component / total if np.any(w) and total > 0 else np.full(w.size, np.nan)
    comp = pd.DataFrame({
        "instrument": names,
        "weight": w,
        "marginal_var": marginal,
        "component_var": component,
        "pct_contribution": pct,
    })
    if win.excluded:
        extra = pd.DataFrame({
            "instrument": win.excluded,
            "weight": [float(w_all.get(i, 0.0)) for i in win.excluded],
            "marginal_var": np.nan,
            "component_var": 0.0,
            "pct_contribution": 0.0 if np.any(w) else np.nan,
        })
        comp = pd.concat([comp, extra], ignore_index=True)
    comp = comp.sort_values("instrument", kind="mergesort").reset_index(drop=True)
    out.sort(key=lambda e: (e.method, e.confidence))
    return out, comp
