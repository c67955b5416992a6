"""Cross-asset agent: risk regime score, correlation breaks, sentiment, HMM regime, tail risk, view.

Direction mapping (price convention):

* Regime score risk-off -> **short IBOV (-1)**; risk-on -> +1.
* Sentiment fear (< lower) -> **short IBOV (-1)**; greed (> upper) -> +1.
* HMM: probability mass of the growth regimes (goldilocks + reflation) minus the others above
  the threshold -> **long IBOV (+1)**, below minus the threshold -> -1.
* Correlation breaks and tail risk are informational (no instrument, direction 0).

The HMM is fitted on this session's own multi-year daily feature history, reconstructed point in
time from silver (macro values as released on each past session): growth and inflation on fixed
scales that keep their sign (Focus current-year GDP growth above trend growth; the change of 12-month
IPCA plus Focus 12-month expectations above the target), log-VIX and IBOV momentum as z-scores over
the lookback. State ``k`` starts at the corner of the ``k``-th regime's quadrant with sticky
transitions; after EM each state is labelled by the quadrant of its mean growth and inflation
(several states may share a regime, a regime may have none): a 756-session window often spans only
one or two regimes, and forcing all four labels onto four states then mislabels half of them.
On the demo market the agreement with the simulated regimes is 0.89 on 46 sessions 2016-2027
(``bench/regime_accuracy.py``); survey-based features matter because 12-month IPCA and activity data
turn months after the economy does.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from brmacro.agents.common import (
    Feature,
    Signal,
    clamp,
    composite_signal,
    fired_branch,
    signals_frame,
    target_at,
    to_json,
    z_of_last,
    zscore_last,
)
from brmacro.agents.data import SeriesMissing, SilverData
from brmacro.agents.schemas import REGIMES
from brmacro.holding import held_signal

__all__ = [
    "HMMResult",
    "HmmRegime",
    "MarketState",
    "correlation_breaks",
    "cross_asset_view",
    "hmm_regime",
    "market_state",
    "regime_score",
    "regime_score_path",
    "sentiment_index",
    "tail_risk",
    "build_hmm_features",
    "consistency_issues",
    "fit_hmm",
    "forward_backward",
    "label_states",
    "label_states_hungarian",
    "run_cross_asset",
]

EQ = "IBOV"
# regime -> (sign of growth, sign of inflation)
REGIME_SIGNS: dict[str, tuple[int, int]] = {
    "goldilocks": (1, -1),
    "reflation": (1, 1),
    "stagflation": (-1, 1),
    "deflation": (-1, -1),
}
HMM_FEATURES = ("growth", "inflation", "vix", "equity_momentum")
HMM_FEATURE_UNITS = {
    "growth": "(Focus GDP current year - trend growth) / growth_scale",
    "inflation": "(IPCA 12m - target + weight x its change) / inflation_scale",
    "vix": "z of log VIX over the lookback",
    "equity_momentum": "z of the IBOV 63-session change over the lookback",
}


def _z(s: pd.Series) -> pd.Series:
    sd = float(s.std(ddof=1))
    if not math.isfinite(sd) or sd <= 0:
        return s * np.nan
    return (s - s.mean()) / sd


def _target_series(idx: pd.DatetimeIndex, table: Any) -> pd.Series:
    """The inflation target in force on each date of ``idx`` (config ``agents.inflation_target``)."""
    months = idx.to_period("M").unique()
    by_month = {m: target_at(m.to_timestamp(how="end"), table) for m in months}
    return pd.Series([by_month[m] for m in idx.to_period("M")], index=idx, dtype=float)


def build_hmm_features(data: SilverData, params: Mapping[str, Any]) -> pd.DataFrame:
    """Daily feature history over the lookback, point in time on each session.

    Columns (:data:`HMM_FEATURES`), the first two on fixed scales that keep their sign (so a state's
    quadrant means something):

    * growth = (Focus GDP growth expected for the current year - trend growth) / ``growth_scale``,
      trend = mean of the IBC-Br 12-month growth published over the last ``trend_years`` (as of D);
      the survey is weekly, so a turn in activity shows within weeks, not after a quarter of data;
    * inflation = (12-month IPCA - inflation target + ``inflation_momentum_weight`` x its change over
      ``inflation_momentum_months``) / ``inflation_scale``: above target or rising fast;
    * vix = z of log VIX and equity_momentum = z of the IBOV 63-session change (over the lookback):
      the market's faster read of the same cycle, which keeps the states apart between releases.

    Rows with a missing feature are dropped.
    """
    p = params["cross_asset"]
    hm = p["hmm"]
    idx = data.sessions(p["lookback"])
    focus_gdp = data.macro_asof("focus_gdp_cy0", idx)
    ibc = data.macro("br_ibc_br_yoy")
    ibc = ibc.loc[ibc.index > data.ts - pd.DateOffset(years=hm["trend_years"])]
    trend = float(ibc.mean())
    target = _target_series(idx, params["inflation_target"])
    ipca = data.macro_asof("br_ipca_12m", idx)
    ipca_before = data.macro_asof("br_ipca_12m", idx - pd.DateOffset(months=hm["inflation_momentum_months"]))
    expected = data.macro_asof("focus_ipca_12m", idx)
    infl = (hm["inflation_level_weight"] * (ipca - target)
            + hm["inflation_momentum_weight"] * (ipca - ipca_before.to_numpy())
            + hm["inflation_expectations_weight"] * (expected - target))
    vix = data.price("yahoo:^VIX").reindex(idx).ffill()
    ibov = data.returns(EQ)["level"]
    mom = (ibov / ibov.shift(63) - 1.0).reindex(idx)
    f = pd.DataFrame(
        {
            "growth": (focus_gdp - trend) / hm["growth_scale"],
            "inflation": infl / hm["inflation_scale"],
            "vix": _z(np.log(vix)),
            "equity_momentum": _z(mom),
        },
        index=idx,
    )
    return f.dropna()


@dataclass(frozen=True)
class HMMResult:
    """A fitted HMM's posteriors and the state -> regime labels.

    Attributes
    ----------
    posteriors : ndarray, shape (n, k)
    means : ndarray, shape (k, d)
    labels : dict of int to str
        State index -> regime name.
    loglik : float
    converged : bool
    """

    posteriors: np.ndarray
    means: np.ndarray
    labels: dict[int, str]
    loglik: float
    converged: bool

    def regime_probs(self, regimes: tuple[str, ...], row: int = -1) -> dict[str, float]:
        """Regime -> probability for one row (default: the last, i.e. the session).

        The posteriors of the states sharing a label are summed; a regime no state carries has 0.
        """
        p = dict.fromkeys(regimes, 0.0)
        for k, lab in self.labels.items():
            p[lab] += float(self.posteriors[row, k])
        tot = sum(p.values())
        # Posteriors of near-impossible states carry EM's floating-point noise (last-bit differences in
        # SIMD sums with memory alignment are amplified by exp()); 1e-9 resolution keeps artifacts
        # byte-reproducible and loses nothing a reader could use.
        return {lab: round(v / tot, 9) + 0.0 for lab, v in p.items()}


def label_states(means: np.ndarray, signs: Mapping[str, tuple[int, ...]]) -> dict[int, str]:
    """Label each state by the sign pattern its mean matches best: argmax over labels of signs·mean.

    With ±1 patterns over (growth, inflation) this is the quadrant of the state's mean. Ties go to
    the first label in ``signs`` order (deterministic). Several states may share a label.

    Parameters
    ----------
    means : ndarray, shape (k, d)
        State means; only the first ``len(pattern)`` columns are used.
    signs : mapping of label to tuple of ±1
        The label patterns.
    """
    labels = list(signs)
    m = len(signs[labels[0]])
    out = {}
    for k in range(means.shape[0]):
        score = [float(np.dot(signs[lab], means[k, :m])) for lab in labels]
        out[k] = labels[int(np.argmax(score))]
    return out


def label_states_hungarian(means: np.ndarray, signs: Mapping[str, tuple[int, ...]]) -> dict[int, str]:
    """One distinct label per state maximising Σ signs·means (Hungarian assignment; kept for comparison)."""
    labels = list(signs)
    m = len(signs[labels[0]])
    score = np.array([[float(np.dot(signs[lab], means[k, :m])) for lab in labels] for k in range(means.shape[0])])
    rows, cols = linear_sum_assignment(-score)
    return {int(r): labels[int(c)] for r, c in zip(rows, cols, strict=True)}


def fit_hmm(
    x: np.ndarray,
    signs: Mapping[str, tuple[int, ...]],
    *,
    n_iter: int,
    tol: float,
    seed: int,
    init_scale: float | None = None,
    stickiness: float | None = None,
    release_sessions: float = 1.0,
    switch_sessions: float | None = None,
) -> HMMResult:
    """Fit a diagonal-covariance Gaussian HMM (hmmlearn), one state per label; return posteriors and labels.

    Parameters
    ----------
    x : ndarray, shape (n, d)
        Feature history, oldest first; the label signs apply to its first columns.
    signs : mapping
        Labels and their sign patterns (see :func:`label_states`).
    n_iter, tol, seed : int, float, int
        EM iterations, convergence tolerance and the fixed random state.
    init_scale : float, optional
        When given, state ``k`` starts at ``init_scale`` x the ``k``-th sign pattern (other columns at
        their sample mean) instead of k-means: every quadrant has a state to grow from, even when the
        window spans one or two regimes. EM still re-estimates the means; labels come from the fit.
    stickiness : float, optional
        When given, the initial transition matrix keeps a state with this probability (the rest
        spread evenly): EM starts from persistent regimes rather than day-to-day switching.
    release_sessions : float
        The posteriors weight each row's emission log-likelihood by ``1 / release_sessions`` (1: hmmlearn's
        posteriors). The growth and inflation features are monthly releases repeated on every session until the
        next, so a daily HMM counts one release about 21 times and its posterior saturates at exactly 0/1;
        tempering by 1/21 counts each release once (a "power likelihood"). EM's fit is not tempered.
    switch_sessions : float, optional
        When given, the posteriors use the fitted transition matrix mixed with the uniform one,
        ``(1 - 1/s) A + 1/(s k)``: a regime can end within ``s`` sessions even when the window never saw it end
        (EM then fits a probability of staying of exactly 1).
    """
    from hmmlearn.hmm import GaussianHMM

    k = len(signs)
    init = "stmc"
    if init_scale is not None:
        init = init.replace("m", "")
    if stickiness is not None:
        init = init.replace("s", "").replace("t", "")
    model = GaussianHMM(n_components=k, covariance_type="diag", n_iter=n_iter, tol=tol,
                        random_state=seed, min_covar=1e-3, init_params=init)
    if init_scale is not None:
        means = np.tile(x.mean(axis=0), (k, 1))
        for j, lab in enumerate(signs):
            pat = np.asarray(signs[lab], dtype=float)
            means[j, : len(pat)] = init_scale * pat
        model.means_ = means
    if stickiness is not None:
        model.startprob_ = np.full(k, 1.0 / k)
        model.transmat_ = np.full((k, k), (1.0 - stickiness) / (k - 1)) + np.eye(k) * (
            stickiness - (1.0 - stickiness) / (k - 1))
    logging.getLogger("hmmlearn").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(x)
        ll = float(model.score(x))
        if release_sessions == 1.0 and switch_sessions is None:
            post = model.predict_proba(x)
        else:
            a = np.asarray(model.transmat_, dtype=float)
            if switch_sessions is not None:
                a = (1.0 - 1.0 / switch_sessions) * a + 1.0 / (switch_sessions * k)
            logb = np.asarray(model._compute_log_likelihood(x), dtype=float) / release_sessions
            post = forward_backward(logb, a, np.asarray(model.startprob_, dtype=float))
    return HMMResult(post, np.asarray(model.means_), label_states(np.asarray(model.means_), signs), ll,
                     bool(model.monitor_.converged))


def forward_backward(logb: np.ndarray, transmat: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Smoothed state posteriors ``P(s_t | y_1..n)`` of an HMM from the emission log-likelihoods ``logb`` (n x k),
    the transition matrix and the initial distribution, in log space (rows sum to 1)."""
    n, k = logb.shape
    with np.errstate(divide="ignore"):
        la, ls = np.log(transmat), np.log(start)
    fwd = np.empty((n, k))
    bwd = np.zeros((n, k))
    fwd[0] = ls + logb[0]
    for t in range(1, n):
        fwd[t] = logb[t] + _logsumexp(fwd[t - 1][:, None] + la, 0)
    for t in range(n - 2, -1, -1):
        bwd[t] = _logsumexp(la + (logb[t + 1] + bwd[t + 1])[None, :], 1)
    g = fwd + bwd
    out: np.ndarray = np.exp(g - _logsumexp(g, 1)[:, None])
    return out


def _logsumexp(m: np.ndarray, axis: int) -> np.ndarray:
    """``log(sum(exp(m)))`` along ``axis`` (-inf where every term is -inf); plain numpy, a small matrix per call."""
    top = m.max(axis=axis)
    safe = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        out: np.ndarray = safe + np.log(np.exp(m - np.expand_dims(safe, axis)).sum(axis=axis))
    return out


def _lin(x: float, lo: float, hi: float) -> float:
    if not math.isfinite(x):
        return float("nan")
    return clamp(100.0 * (x - lo) / (hi - lo), 0.0, 100.0)


def _get(signals: pd.DataFrame, sid: str) -> int:
    row = signals.loc[signals["signal_id"] == sid]
    return int(row["direction"].iloc[0]) if len(row) else 0


def consistency_issues(signals: pd.DataFrame, regime: str, sentiment: float) -> list[dict[str, str]]:
    """The seven consistency rules (DOMAIN B §6.5) on the agents' real signal identifiers.

    All directions are in the price convention: DI1 +1 = receive, USDBRL -1 = long BRL.

    Parameters
    ----------
    signals : DataFrame
        Every agent signal of the session (signal_id, direction, ...).
    regime : str
        The most probable HMM regime.
    sentiment : float
        The sentiment index (0-100; NaN when not computable).
    """
    fx = _get(signals, "FX_BR_COMPOSITE")
    mon = _get(signals, "MONETARY_BR_COMPOSITE")
    infl = _get(signals, "INFLATION_BR_COMPOSITE")
    fis = _get(signals, "FISCAL_BR_COMPOSITE")
    eq = _get(signals, "CROSSASSET_COMPOSITE")
    out: list[dict[str, str]] = []

    def add(rule: str, msg: str) -> None:
        out.append({"rule": rule, "severity": "warning", "message": msg})

    if fx == -1 and mon == 1:
        add("FX_RATES_CONTRADICTION", "short USDBRL (long BRL) while receiving DI: cuts erode the BRL carry")
    if eq == 1 and mon == -1:
        add("EQUITY_RATES_CONTRADICTION", "long IBOV while paying DI (higher rates ahead)")
    if regime == "stagflation" and fx == -1:
        add("REGIME_FX_MISMATCH", "stagflation regime but short USDBRL")
    if regime in ("stagflation", "deflation") and eq == 1:
        add("REGIME_EQUITY_MISMATCH", f"{regime} regime but long IBOV")
    if infl == -1 and mon == 1:
        add("INFLATION_RATES_CONTRADICTION", "inflation agent hawkish (pay DI) while monetary agent receives DI")
    if math.isfinite(sentiment) and sentiment < 30 and (eq == 1 or fx == -1):
        add("RISK_APPETITE_DIRECTION", f"sentiment {sentiment:.0f} < 30 (fear) but long risk (IBOV or BRL)")
    if fis == 1 and fx == -1:
        add("SOVEREIGN_FX_DIVERGENCE", "fiscal agent sees sovereign stress (long USDBRL) but FX agent is short USDBRL")
    return out


@dataclass(frozen=True)
class MarketState:
    """The cross-asset market inputs of the session over the lookback and their z-scores.

    Attributes
    ----------
    levels : dict of str to Series
        ``vix``, ``hy_oas``, ``dxy``, ``ust_2s10s``, ``usdbrl_vol_21``, ``di_ust_spread_5y`` and ``ibov_mom_63``
        on the lookback's sessions.
    z : dict of str to float
        The last z-score of each level over ``z_window`` sessions (NaN when not computable).
    """

    levels: dict[str, pd.Series]
    z: dict[str, float]


def market_state(data: SilverData, p: Mapping[str, Any]) -> tuple[MarketState, list[Feature]]:
    """The market inputs every cross-asset model reads (``p`` = ``agents.cross_asset``), with their features."""
    idx = data.sessions(p["lookback"])
    zw, zmin = p["z_window"], p["z_min_obs"]
    vix = data.price("yahoo:^VIX").reindex(idx).ffill()
    dxy = data.price("yahoo:DX-Y.NYB").reindex(idx).ffill()
    hy = data.macro_asof("us_hy_oas", idx)
    slope = data.slope("UST_2s10s").reindex(idx)
    fxv = data.returns("USDBRL")["vol_21"].reindex(idx)
    spread = data.curve("DI_UST_SPREAD", "5Y").reindex(idx)
    ibov = data.returns(EQ)["level"]
    mom = (ibov / ibov.shift(63) - 1.0).reindex(idx)
    levels = {"vix": vix, "hy_oas": hy, "dxy": dxy, "ust_2s10s": slope, "usdbrl_vol_21": fxv,
              "di_ust_spread_5y": spread, "ibov_mom_63": mom}
    z = {k: zscore_last(v, zw, zmin) for k, v in levels.items()}
    last = {k: float(v.iloc[-1]) for k, v in levels.items()}
    feats = [
        Feature("vix", last["vix"], "index level"),
        Feature("hy_oas", last["hy_oas"], "decimal"),
        Feature("dxy", last["dxy"], "index level"),
        Feature("ust_2s10s", last["ust_2s10s"], "decimal"),
        Feature("di_ust_spread_5y", last["di_ust_spread_5y"],
                "decimal; DI-UST 5Y spread: mostly the inflation/FX differential, a rough sovereign-risk proxy"),
        Feature("ibov_mom_63", last["ibov_mom_63"], "decimal, 63-session change"),
        *[Feature(f"z_{k}", v, f"z over last {zw} sessions") for k, v in z.items()],
    ]
    return MarketState(levels, z), feats


#: Holding horizon of the cross-asset signals on IBOV (sessions).
REGIME_HORIZON = 63


def _regime_components(z: Mapping[str, float]) -> dict[str, float]:
    return {"vix": z["vix"], "hy_oas": z["hy_oas"], "dxy": z["dxy"], "ust_2s10s": -z["ust_2s10s"],
            "usdbrl_vol_21": z["usdbrl_vol_21"], "di_ust_spread_5y": z["di_ust_spread_5y"]}


def _score(comps: Mapping[str, float]) -> float:
    """Half the mean of the finite components, clamped to [-1, 1]; NaN with fewer than 3."""
    have = [v for v in comps.values() if math.isfinite(v)]
    return clamp(float(np.mean(have)) / 2.0, -1.0, 1.0) if len(have) >= 3 else math.nan


def regime_score_path(levels: Mapping[str, pd.Series], window: int, min_obs: int, n: int) -> list[float]:
    """The regime score on each of the ``n - 1`` sessions before the last of ``levels``, oldest first, from the
    levels cut at that session (NaN where fewer than 3 components are computable): the past of
    :func:`regime_score`'s score for :func:`~brmacro.holding.held_z`. Each component is :func:`zscore_last` of the
    cut series, computed on arrays (the same numbers to rounding, without 6 x 62 pandas calls a session)."""
    keys = ("vix", "hy_oas", "dxy", "ust_2s10s", "usdbrl_vol_21", "di_ust_spread_5y")
    size = min(len(levels[k]) for k in keys)
    arrays = {}
    for name in keys:
        vals = levels[name].to_numpy(dtype=float)
        pos = np.flatnonzero(~np.isnan(vals))
        arrays[name] = (len(vals), pos, vals[pos])
    out = []
    for k in range(min(n, size) - 1, 0, -1):
        z = {}
        for name, (length, pos, v) in arrays.items():
            end = int(np.searchsorted(pos, length - k))  # the valid values of the series cut k sessions back
            z[name] = z_of_last(v[max(0, end - window): end], min_obs)
        out.append(_score(_regime_components(z)))
    return out


def regime_score(z: Mapping[str, float], threshold: float, past: Sequence[float] = ()) -> tuple[Signal, Feature]:
    """Risk regime score: the mean z of VIX, HY OAS, DXY, -UST 2s10s, USDBRL vol and the DI-UST spread, halved and
    clamped to [-1, 1] (positive = risk-off); at or above ``threshold`` -> short IBOV, at or below ``-threshold`` ->
    long, confidence ``min(1, 2 |score|)``. Needs at least 3 finite components. With ``past`` (the scores of the
    previous sessions, oldest first, :func:`regime_score_path`), an entry is held for :data:`REGIME_HORIZON`
    sessions while the score keeps its sign (:func:`~brmacro.holding.held_signal`): the signal then follows the
    held score."""
    comps = _regime_components(z)
    score = _score(comps)
    if not math.isfinite(score):
        return (Signal.gap("CROSSASSET_REGIME", EQ, 63, "fewer than 3 regime components", components=comps),
                Feature("regime_score", None, "not computable: fewer than 3 components"))
    th = threshold
    side, conf, held, k = held_signal([*past, score], th, 0.5, REGIME_HORIZON)
    dir_ = -side  # risk-off (positive score) -> short IBOV
    why = f"score {score:+.2f}" + (f", entry {k} sessions ago held at {held:+.2f}" if k else "")
    sig = Signal("CROSSASSET_REGIME", EQ, dir_, conf, score, 63,
                 {"components": comps, "held_sessions": k, "held_score": held, "mapping": fired_branch(
                     dir_, f"risk-on: {why} below -{th:.2f} -> long IBOV (+1)",
                     f"risk-off: {why} above {th:.2f} -> short IBOV (-1)",
                     f"{why} within ±{th:.2f} -> no position (0)")})
    return sig, Feature("regime_score", score, "-1..1, positive = risk-off")


def correlation_breaks(data: SilverData, cr: Mapping[str, Any]) -> tuple[Signal, list[Feature]]:
    """Correlation breaks of five real pairs: z = (corr over ``short`` - corr over ``long`` sessions) / the std of
    the short correlation over ``long`` sessions; informational (no instrument), strength by the largest |z|."""
    usd = data.returns("USDBRL")["ret"]
    pairs = {
        "USDBRL_DXY": (usd, data.price("yahoo:DX-Y.NYB").pct_change()),
        "DI5Y_UST10Y": (data.returns("DI1_5Y")["level"].diff(), data.returns("UST_10Y")["level"].diff()),
        "IBOV_SPX": (data.returns(EQ)["ret"], data.returns("SPX")["ret"]),
        "USDBRL_VIX": (usd, data.price("yahoo:^VIX").diff()),
        "USDBRL_OIL": (usd, data.price("yahoo:CL=F").pct_change()),
    }
    feats: list[Feature] = []
    zs: dict[str, float] = {}
    for name, (a, b) in pairs.items():
        ab = pd.concat([a, b], axis=1, join="inner").replace([np.inf, -np.inf], np.nan).dropna()
        ab = ab.loc[ab.index <= data.ts].iloc[-(cr["long"] + cr["short"]):]
        if len(ab) < cr["long"] + cr["short"] // 2:
            zs[name] = float("nan")
            feats.append(Feature(f"corr_{name}_63", None, f"not computable: {len(ab)} common sessions"))
            continue
        c_s = ab.iloc[:, 0].rolling(cr["short"]).corr(ab.iloc[:, 1])
        c_l = ab.iloc[:, 0].rolling(cr["long"]).corr(ab.iloc[:, 1])
        hist = c_s.dropna().iloc[-cr["long"]:]
        sd = float(hist.std(ddof=1))
        zz = float((c_s.iloc[-1] - c_l.iloc[-1]) / sd) if sd > 0 else float("nan")
        zs[name] = zz
        feats += [Feature(f"corr_{name}_63", float(c_s.iloc[-1]), "correlation over 63 sessions"),
                  Feature(f"corr_{name}_252", float(c_l.iloc[-1]), "correlation over 252 sessions"),
                  Feature(f"corr_{name}_z", zz, "(corr63 - corr252) / std of corr63 over 252 sessions")]
    finite = {k: v for k, v in zs.items() if math.isfinite(v)}
    if not finite:
        return Signal.gap("CROSSASSET_CORRELATION", "", 21, "no pair with enough common history"), feats
    mz = max(abs(v) for v in finite.values())
    strength = "STRONG" if mz > 3 else "MODERATE" if mz > 2 else "WEAK" if mz > 1.5 else "NO_SIGNAL"
    return Signal("CROSSASSET_CORRELATION", "", 0, min(1.0, mz / 4.0), mz, 21,
                  {"z": zs, "breaks": sorted(k for k, v in finite.items() if abs(v) > 2)}, strength=strength), feats


def sentiment_index(m: MarketState, se: Mapping[str, Any]) -> tuple[Signal, Feature, float]:
    """Sentiment 0 (fear) .. 100 (greed): the weighted mean of VIX, HY OAS and DXY levels mapped linearly over
    their configured ranges and of the DI-UST spread and IBOV momentum z-scores over [2, -2] and [-2, 2];
    below ``lower`` -> short IBOV, above ``upper`` -> long. Returns the signal, its feature and the index."""
    last = {k: float(m.levels[k].iloc[-1]) for k in ("vix", "hy_oas", "dxy")}
    parts = {
        "vix": _lin(last["vix"], *se["vix_range"]),
        "hy_oas": _lin(last["hy_oas"], *se["hy_oas_range"]),
        "dxy": _lin(last["dxy"], *se["dxy_range"]),
        "di_ust_spread_5y": _lin(m.z["di_ust_spread_5y"], 2.0, -2.0),
        "ibov_mom_63": _lin(m.z["ibov_mom_63"], -2.0, 2.0),
    }
    w = {k: se["weights"][k] for k, v in parts.items() if math.isfinite(v)}
    sentiment = float(sum(w[k] * parts[k] for k in w) / sum(w.values())) if w else float("nan")
    feat = Feature("sentiment_index", sentiment, "0 (fear) - 100 (greed)")
    if not math.isfinite(sentiment):
        return Signal.gap("CROSSASSET_SENTIMENT", EQ, 21, "no sentiment component"), feat, sentiment
    dir_ = -1 if sentiment < se["lower"] else (1 if sentiment > se["upper"] else 0)
    sig = Signal("CROSSASSET_SENTIMENT", EQ, dir_, abs(sentiment - 50) / 50 if dir_ else 0.0,
                 sentiment, 21, {"parts": parts, "mapping": fired_branch(
                     dir_, f"greed: sentiment {sentiment:.0f} above {se['upper']:g} -> long IBOV (+1)",
                     f"fear: sentiment {sentiment:.0f} below {se['lower']:g} -> short IBOV (-1)",
                     f"sentiment {sentiment:.0f} between {se['lower']:g} and {se['upper']:g} "
                     "-> no position (0)")})
    return sig, feat, sentiment


@dataclass(frozen=True)
class HmmRegime:
    """The session's HMM regime: the signal, the regime probabilities, the most probable regime and its clarity."""

    signal: Signal
    probs: dict[str, float]
    regime: str
    clarity: float
    risk_on: float


def hmm_regime(data: SilverData, params: Mapping[str, Any]) -> tuple[HmmRegime, list[Feature]]:
    """The HMM regime model: :func:`fit_hmm` on :func:`build_hmm_features`; net growth-regime probability
    (goldilocks + reflation - stagflation - deflation) above ``risk_on_threshold`` -> long IBOV, below minus it
    -> short.

    Raises
    ------
    SeriesMissing
        When the feature history is shorter than ``min_rows`` or does not end on the session.
    """
    hm = params["cross_asset"]["hmm"]
    idx = data.sessions(params["cross_asset"]["lookback"])
    feat_hist = build_hmm_features(data, params)
    feats = [Feature("hmm_rows", float(len(feat_hist)), "sessions in the HMM feature history")]
    if len(feat_hist) < hm["min_rows"] or feat_hist.index[-1] != idx[-1]:
        raise _hmm_error(data, len(feat_hist), hm["min_rows"])
    res = fit_hmm(feat_hist.to_numpy(), {r: REGIME_SIGNS[r] for r in REGIMES}, n_iter=hm["n_iter"], tol=hm["tol"],
                  seed=hm["seed"], init_scale=hm["init_scale"], stickiness=hm["stickiness"],
                  release_sessions=hm["release_sessions"], switch_sessions=hm["switch_sessions"])
    probs = res.regime_probs(REGIMES)
    regime = max(REGIMES, key=lambda r: (probs[r], -REGIMES.index(r)))
    clarity = clamp((probs[regime] - 0.25) / 0.75, 0.0, 1.0)
    last = feat_hist.iloc[-1]
    feats += [Feature(f"hmm_{c}", float(last[c]), HMM_FEATURE_UNITS[c]) for c in HMM_FEATURES]
    feats += [Feature(f"p_{r}", probs[r], "probability") for r in REGIMES]
    risk_on = probs["goldilocks"] + probs["reflation"] - probs["stagflation"] - probs["deflation"]
    th = hm["risk_on_threshold"]
    dir_ = 1 if risk_on > th else (-1 if risk_on < -th else 0)
    sig = Signal("CROSSASSET_HMM_REGIME", EQ, dir_, abs(risk_on) if dir_ else 0.0, risk_on, 63,
                 {"regime": regime, "probs": probs, "converged": res.converged, "rows": len(feat_hist),
                  "mapping": fired_branch(
                      dir_, f"growth regimes: net risk-on probability {risk_on:+.2f} above "
                      f"{th:.2f} -> long IBOV (+1)",
                      f"contraction regimes: net risk-on probability {risk_on:+.2f} below "
                      f"-{th:.2f} -> short IBOV (-1)",
                      f"net risk-on probability {risk_on:+.2f} within ±{th:.2f} "
                      "-> no position (0)")})
    return HmmRegime(sig, probs, regime, clarity, risk_on), feats


def tail_risk(z: Mapping[str, float], probs: Mapping[str, float], tr: Mapping[str, Any]) -> tuple[Signal, Feature]:
    """Tail-risk score 0-100: 30 x the positive VIX z + 30 x the positive HY OAS z + 40 x the probability of the
    contraction regimes (stagflation, deflation), capped at 100 and graded by ``tr``'s thresholds;
    informational. Only *high* VIX/HY z-scores count (a calm market lowers nothing)."""
    vz = z["vix"] if math.isfinite(z["vix"]) else 0.0
    hz = z["hy_oas"] if math.isfinite(z["hy_oas"]) else 0.0
    tail = min(100.0, 30 * max(0.0, vz) + 30 * max(0.0, hz) + 40 * (probs["stagflation"] + probs["deflation"]))
    grade = ("critical" if tail >= tr["critical"] else "elevated" if tail >= tr["elevated"]
             else "moderate" if tail >= tr["moderate"] else "low")
    strength = {"critical": "STRONG", "elevated": "MODERATE", "moderate": "WEAK", "low": "NO_SIGNAL"}[grade]
    sig = Signal("CROSSASSET_TAIL_RISK", "", 0, tail / 100.0, tail, 21,
                 {"grade": grade, "vix_z": z["vix"], "hy_z": z["hy_oas"]}, strength=strength)
    return sig, Feature("tail_risk_score", tail, "0-100")


def cross_asset_view(
    every: pd.DataFrame, date: dt.date, hmm: HmmRegime, tail: Signal, sentiment: float, issues: list[dict[str, str]],
    key_trades: int,
) -> pd.DataFrame:
    """The one-row view table: the regime and its probabilities, a view per asset class from the composites,
    the ``key_trades`` most confident signals with an instrument, and the consistency issues."""

    def view(sid: str, why: str) -> dict[str, Any]:
        row = every.loc[every["signal_id"] == sid]
        if row.empty:
            return {"direction": 0, "confidence": 0.0, "instrument": "", "rationale": f"{sid} not available"}
        r = row.iloc[0]
        return {"direction": int(r["direction"]), "confidence": float(r["confidence"]),
                "instrument": str(r["instrument"]), "rationale": f"{why} ({sid}, {r['strength']})"}

    fiscal_dir = _get(every, "FISCAL_BR_COMPOSITE")
    views = {
        "rates_br": view("MONETARY_BR_COMPOSITE", "monetary-policy composite"),
        "fx": view("FX_BR_COMPOSITE", f"FX-equilibrium composite; fiscal composite on USDBRL {fiscal_dir:+d}"),
        "equity_br": view("CROSSASSET_COMPOSITE", "regime score, sentiment and HMM"),
        "rates_us": view("MONETARY_US_FED_STANCE", "Fed stance vs US Taylor rule"),
        "equity_us": {"direction": hmm.signal.direction, "confidence": hmm.signal.confidence, "instrument": "SPX",
                      "rationale": f"HMM regime {hmm.regime}: growth-regime probability mass {hmm.risk_on:+.2f}"},
    }
    cand = every.loc[(every["direction"] != 0) & (every["instrument"] != "")]
    cand = cand.assign(_c=-cand["confidence"]).sort_values(["_c", "signal_id"], kind="mergesort").head(key_trades)
    trades = [{"instrument": r.instrument, "direction": int(r.direction), "signal_id": r.signal_id,
               "confidence": float(r.confidence), "rationale": f"{r.signal_id} {r.strength}"}
              for r in cast("Iterable[Any]", cand.itertuples())]
    view_df = pd.DataFrame([{
        "date": date, "regime": hmm.regime,
        **{f"p_{r}": hmm.probs[r] for r in REGIMES},
        "regime_clarity": hmm.clarity, "tail_risk_score": tail.value, "tail_risk_grade": tail.drivers["grade"],
        "sentiment_index": sentiment if math.isfinite(sentiment) else None,
        "views": to_json(views), "key_trades": to_json(trades), "consistency_issues": to_json(issues),
    }])
    view_df["sentiment_index"] = view_df["sentiment_index"].astype(float)
    return view_df


def run_cross_asset(
    data: SilverData, params: Mapping[str, Any], upstream: pd.DataFrame
) -> tuple[list[Signal], list[Feature], pd.DataFrame]:
    """Cross-asset models and the view as of ``data.date``.

    Parameters
    ----------
    data : SilverData
    params : mapping
        The ``agents`` subtree.
    upstream : DataFrame
        The four other agents' signal tables of the session, concatenated.

    Returns
    -------
    (list of Signal, list of Feature, DataFrame)
        Signals, features and the one-row view table.
    """
    p = params["cross_asset"]
    market, feats = market_state(data, p)
    sig: dict[str, Signal] = {}
    past = (regime_score_path(market.levels, p["z_window"], p["z_min_obs"], REGIME_HORIZON) if p["regime_hold"]
            else [])
    sig["regime"], f_regime = regime_score(market.z, p["regime_threshold"], past)
    sig["correlation"], f_corr = correlation_breaks(data, p["correlation"])
    sig["sentiment"], f_sent, sentiment = sentiment_index(market, p["sentiment"])
    hmm, f_hmm = hmm_regime(data, params)
    sig["hmm"] = hmm.signal
    sig["tail"], f_tail = tail_risk(market.z, hmm.probs, p["tail_risk"])
    feats += [f_regime, *f_corr, f_sent, *f_hmm, f_tail]
    cp = p["composite"]
    comp = composite_signal("CROSSASSET_COMPOSITE", EQ, 63, sig, cp["weights"],
                            min_disagree=cp["min_disagree"], damper=params["damper"])
    signals = [*sig.values(), comp]
    own = signals_frame(data.date, "cross_asset", signals)
    every = pd.concat([f for f in (upstream, own) if len(f)], ignore_index=True)
    issues = consistency_issues(every, hmm.regime, sentiment)
    view_df = cross_asset_view(every, data.date, hmm, sig["tail"], sentiment, issues, p["key_trades"])
    feats.append(Feature("consistency_issue_count", float(len(issues)), "count"))
    return signals, feats, view_df


def _hmm_error(data: SilverData, n: int, need: int) -> SeriesMissing:
    return SeriesMissing(
        f"{data.asset} {data.date.isoformat()}: HMM feature history has {n} complete sessions ending on the session "
        f"(need {need}); check focus_gdp_cy0, br_ibc_br_yoy, br_ipca_12m, yahoo:^VIX and IBOV levels over the "
        "lookback"
    )
