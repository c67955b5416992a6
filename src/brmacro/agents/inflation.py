"""Inflation agent: Phillips curve, bottom-up seasonal forecast, surprise, persistence, US trend.

Direction mapping (price convention): an inflation view *above* target is hawkish for Brazilian
rates, so it is **short DI1_1Y** (pay fixed, -1); below target is +1 (receive). The US trend
model maps US core PCE above the Fed's 2% to **short UST_10Y** (-1).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import partial
from typing import Any, cast

import numpy as np
import pandas as pd

from brmacro.agents.common import (
    Feature,
    Signal,
    clamp,
    composite_signal,
    fired_branch,
    gap_signal,
    month_starts,
    monthly_last,
    ols,
    target_at,
)
from brmacro.agents.data import SilverData
from brmacro.kept import KeptFrames, series_key

__all__ = [
    "bottom_up_forecast",
    "bottom_up_signal",
    "monthly_consensus",
    "persistence_score",
    "persistence_signal",
    "phillips_forecast",
    "phillips_signal",
    "run_inflation",
    "surprise_signal",
    "us_trend_signal",
]

BR_RATES = "DI1_1Y"
US_RATES = "UST_10Y"
HAWKISH_BR = -1  # inflation above target -> pay DI1 (short its price)
HAWKISH_US = -1  # US inflation above target -> short UST_10Y

GROUPS = (
    "food", "housing", "household", "apparel", "transport", "health", "personal", "education", "communication",
)


def phillips_forecast(
    frame: pd.DataFrame, *, target_col: str, horizon: int, window: int, min_obs: int
) -> dict[str, Any]:
    """Forecast ``target_col`` ``horizon`` months ahead by OLS on the current regressors.

    Regression (rolling ``window`` months): ``y[t+h] = a + b·X[t] + e`` with X = every column of
    ``frame`` (the dependent's own current value included, so it is an expectations-augmented,
    lag-augmented Phillips curve). Rows with any missing value are dropped (nothing is filled).

    Returns
    -------
    dict
        ``forecast`` (NaN when fewer than ``min_obs`` rows), ``base_month`` (last month with all
        regressors), ``coef`` (by name, ``const`` first), ``nobs``, ``r2``.
    """
    x = frame.dropna()
    if x.empty:
        return {"forecast": float("nan"), "base_month": None, "coef": {}, "nobs": 0, "r2": float("nan")}
    y_future = frame[target_col].shift(-horizon)
    train = pd.concat([x, y_future.rename("__y")], axis=1, join="inner").dropna().iloc[-window:]
    base = x.index[-1]
    if len(train) < min_obs:
        return {"forecast": float("nan"), "base_month": base, "coef": {}, "nobs": len(train), "r2": float("nan")}
    res = ols(train["__y"].to_numpy(), train[list(frame.columns)].to_numpy())
    xlast = np.concatenate([[1.0], x.iloc[-1].to_numpy(dtype=float)])
    coef = dict(zip(["const", *frame.columns], res.coef.tolist(), strict=True))
    return {"forecast": float(xlast @ res.coef), "base_month": base, "coef": coef, "nobs": res.nobs, "r2": res.r2}


def bottom_up_forecast(
    groups: Mapping[str, pd.Series], weights: Mapping[str, float], *, window: int, momentum: int, min_groups: int
) -> dict[str, Any]:
    """12-month IPCA forecast from its groups: seasonal shape plus recent seasonally adjusted momentum.

    For each group (monthly m/m, decimals), over the last ``window`` months: the seasonal factor of
    calendar month m is the mean m/m of month m minus the window mean; the level is the mean of the
    last ``momentum`` seasonally adjusted m/m. The 12-month forecast compounds level + factor over
    the 12 calendar months; groups are aggregated with ``weights`` renormalised over the groups present.

    Returns
    -------
    dict
        ``forecast`` (NaN when fewer than ``min_groups`` groups have 36 months), ``by_group``, ``weights``.
    """
    fc: dict[str, float] = {}
    for g, s in groups.items():
        if g not in weights:
            continue
        k = series_key(s)
        kept = _KEPT_GROUPS.get(None if k is None else ("bottom_up", k, window, momentum),
                                partial(_group_forecast, s, window, momentum))
        if len(kept):
            fc[g] = float(kept[0])
    if len(fc) < min_groups:
        return {"forecast": float("nan"), "by_group": fc, "weights": {}}
    tot = sum(weights[g] for g in fc)
    w = {g: weights[g] / tot for g in fc}
    return {"forecast": float(sum(w[g] * fc[g] for g in fc)), "by_group": fc, "weights": w}


def _group_forecast(s: pd.Series, window: int, momentum: int) -> np.ndarray:
    """One group's 12-month forecast in :func:`bottom_up_forecast` (a one-element array), or an empty array when the
    group has fewer than 36 months or fewer than 12 calendar months in the window.

    A pure function of the group's monthly series, which changes only when IPCA is released: kept per process
    (:data:`_KEPT_GROUPS`) under its exact bytes (:func:`brmacro.kept.series_key`) and the window and momentum.
    """
    x = s.dropna().iloc[-window:]
    if len(x) < 36:
        return np.empty(0)
    months = pd.DatetimeIndex(x.index).month
    seas = x.groupby(months).mean() - x.mean()
    if len(seas) < 12:
        return np.empty(0)
    sa = x - seas.reindex(months).to_numpy()
    level = float(sa.iloc[-momentum:].mean())
    return np.array([float(np.prod(1.0 + level + seas.to_numpy()) - 1.0)])


#: :func:`_group_forecast` of the last IPCA groups of this process (9 a session)
_KEPT_GROUPS: KeptFrames[np.ndarray] = KeptFrames(32)


def monthly_consensus(ipca_mom: pd.Series, focus_cy0: pd.Series) -> pd.Series:
    """Monthly IPCA consensus implied by the Focus calendar-year median.

    For month t of year Y: the Focus median for Y surveyed in month t (before t's IPCA is out),
    divided by the IPCA compounded January..t-1, leaves the inflation expected for months t..Dec;
    its geometric monthly mean over the 13 - month(t) remaining months is the consensus for t:
    ``((1 + focus_Y) / (1 + ytd_{t-1}))^(1/(13 - m)) - 1``. In December this is exactly the
    expected December print. Months without every January..t-1 print are NaN.

    A pure function of the two monthly series, which change only when IPCA or a Focus survey is released: kept per
    process (:class:`brmacro.kept.KeptFrames`) under both series' exact bytes (:func:`brmacro.kept.series_key`),
    so the sessions of a batch job between two releases share it; a copy is handed out.
    """
    ki, kf = series_key(ipca_mom), series_key(focus_cy0)
    key = None if ki is None or kf is None else ("monthly_consensus", ki, kf)
    kept = _KEPT.get(key, lambda: _monthly_consensus(ipca_mom, focus_cy0).to_frame("consensus"))
    return kept["consensus"].rename(None)


#: :func:`monthly_consensus` of the last few distinct inputs of this process
_KEPT: KeptFrames[pd.DataFrame] = KeptFrames(8)


def _monthly_consensus(ipca_mom: pd.Series, focus_cy0: pd.Series) -> pd.Series:
    ipca = ipca_mom.sort_index()
    out = {}
    for k, f in focus_cy0.dropna().items():
        t = pd.Timestamp(cast(pd.Timestamp, k))
        prior = pd.date_range(pd.Timestamp(t.year, 1, 1), periods=t.month - 1, freq="MS")
        vals = ipca.reindex(prior)
        if vals.isna().any():
            continue
        ytd = float(np.prod(1.0 + vals.to_numpy())) - 1.0
        out[t] = ((1.0 + float(f)) / (1.0 + ytd)) ** (1.0 / (13 - t.month)) - 1.0
    return pd.Series(out, dtype=float).sort_index()


def persistence_score(parts: Mapping[str, float]) -> float:
    """Equal-weight mean of the available 0-100 sub-scores (NaN ones dropped); NaN if none."""
    vals = [v for v in parts.values() if math.isfinite(v)]
    return float(np.mean(vals)) if vals else float("nan")


def _m(data: SilverData, name: str) -> pd.Series:
    """The macro series ``name`` by month start (:func:`brmacro.agents.common.month_starts`, kept per process)."""
    return month_starts(data.macro(name))


def phillips_signal(
    frame: pd.DataFrame, ph_p: Mapping[str, Any], tgt_table: Any
) -> tuple[Signal, list[Feature]]:
    """The Phillips-curve model: :func:`phillips_forecast` of core IPCA 12m (``frame``: ``core_12m``,
    ``focus_12m``, the lagged ``output_gap``, ``usdbrl_yoy`` by month) against the target in force at the
    forecast month; forecast above target by more than ``threshold`` -> pay DI1_1Y."""
    ph = phillips_forecast(frame, target_col="core_12m", horizon=ph_p["horizon_months"],
                           window=ph_p["window_months"], min_obs=ph_p["min_obs"])
    fc = ph["forecast"]
    feats = [Feature("phillips_forecast", fc, f"decimal, core IPCA 12m forecast {ph_p['horizon_months']} "
                     f"months after {ph['base_month'].date() if ph['base_month'] is not None else 'n/a'}; "
                     f"OLS nobs={ph['nobs']}")]
    if not math.isfinite(fc):
        feats.append(Feature("phillips_gap", None, "not computable: too few complete monthly rows"))
        return Signal.gap("INFLATION_BR_PHILLIPS", BR_RATES, 252,
                          f"fewer than {ph_p['min_obs']} complete monthly rows (have {ph['nobs']})"), feats
    tgt = target_at(ph["base_month"] + pd.DateOffset(months=ph_p["horizon_months"]), tgt_table)
    g = fc - tgt
    dir_, conf = gap_signal(g, ph_p["threshold"], ph_p["conf_scale"])
    sig = Signal("INFLATION_BR_PHILLIPS", BR_RATES, HAWKISH_BR * dir_, conf, g, 252,
                 {"forecast": fc, "target": tgt, "coef": ph["coef"], "nobs": ph["nobs"], "r2": ph["r2"],
                  "mapping": fired_branch(
                      HAWKISH_BR * dir_, f"forecast {fc:.2%} below target {tgt:.2%} "
                      "-> receive DI1_1Y (+1)",
                      f"forecast {fc:.2%} above target {tgt:.2%} -> pay DI1_1Y (-1)",
                      f"forecast {fc:.2%} within {ph_p['threshold']:.2%} of target {tgt:.2%} "
                      "-> no position (0)")})
    feats.append(Feature("phillips_gap", g, "decimal, forecast minus target"))
    return sig, feats


def bottom_up_signal(
    groups: Mapping[str, pd.Series], bu_p: Mapping[str, Any], target_12m: float
) -> tuple[Signal, Feature]:
    """The bottom-up model: :func:`bottom_up_forecast` of IPCA over the next 12 months from the groups, against
    the target 12 months ahead; above it by more than ``band`` -> pay DI1_1Y."""
    bu = bottom_up_forecast(groups, bu_p["weights"], window=bu_p["window_months"], momentum=bu_p["momentum_months"],
                            min_groups=bu_p["min_groups"])
    bfc = bu["forecast"]
    feat = Feature("bottom_up_forecast", bfc, "decimal, IPCA next 12 months from 9 groups"
                   if math.isfinite(bfc) else "not computable: fewer groups with 36 months than required")
    if not math.isfinite(bfc):
        return Signal.gap("INFLATION_BR_BOTTOMUP", BR_RATES, 252, "too few IPCA groups with 36 months"), feat
    g = bfc - target_12m
    dir_, conf = gap_signal(g, bu_p["band"], bu_p["conf_scale"])
    return Signal("INFLATION_BR_BOTTOMUP", BR_RATES, HAWKISH_BR * dir_, conf, g, 252,
                  {"forecast": bfc, "target": target_12m, "by_group": bu["by_group"], "weights": bu["weights"]}), feat


def surprise_signal(
    ipca_mom: pd.Series, focus_cy0: pd.Series, su_p: Mapping[str, Any]
) -> tuple[Signal, list[Feature]]:
    """The surprise model: monthly IPCA minus the Focus-implied monthly consensus (:func:`monthly_consensus`);
    z = mean of the last ``recent_months`` surprises / their std over ``window_months``; |z| at or above
    ``threshold_z`` -> pay DI1_1Y on upside surprises, receive on downside ones."""
    cons = monthly_consensus(ipca_mom, focus_cy0)
    surprise = (ipca_mom - cons).dropna()
    z = float("nan")
    if len(surprise) >= su_p["min_obs"]:
        hist = surprise.iloc[-su_p["window_months"]:]
        sd = float(hist.std(ddof=1))
        if sd > 0:
            z = float(surprise.iloc[-su_p["recent_months"]:].mean() / sd)
    feats = [
        Feature("surprise_last", float(surprise.iloc[-1]) if len(surprise) else None,
                "decimal m/m, IPCA minus Focus-implied monthly consensus" if len(surprise)
                else "not computable: no month with Focus and a complete year to date"),
        Feature("surprise_z", z, "z, mean of recent surprises / std over window"
                if math.isfinite(z) else "not computable: too few surprises"),
    ]
    if not math.isfinite(z):
        return Signal.gap("INFLATION_BR_SURPRISE", BR_RATES, 63,
                          f"fewer than {su_p['min_obs']} months of surprises (have {len(surprise)})"), feats
    az = abs(z)
    if az < su_p["threshold_z"]:
        dir_, conf = 0, 0.0
    else:
        dir_ = int(np.sign(z))
        conf = min(1.0, 0.85 + 0.05 * (az - 2.0)) if az >= 2.0 else az / 2.0
    return Signal("INFLATION_BR_SURPRISE", BR_RATES, HAWKISH_BR * dir_, conf, z, 63,
                  {"z": z, "last_surprise": float(surprise.iloc[-1]), "n": len(surprise)}), feats


def persistence_signal(
    diffusion: pd.Series, core_12m: pd.Series, services: pd.Series, focus12: pd.Series, target_12m: float,
    pe_p: Mapping[str, Any],
) -> tuple[Signal, list[Feature]]:
    """The persistence model: :func:`persistence_score` of four 0-100 parts (diffusion; core acceleration, last 3
    vs last 6 months; services 3-month SAAR over ``services_saar_full``; Focus 12m above the target 12 months
    ahead); above ``upper`` -> pay DI1_1Y, below ``lower`` -> receive."""
    parts: dict[str, float] = {}
    parts["diffusion"] = clamp(100.0 * float(diffusion.iloc[-1]), 0, 100) if len(diffusion) else float("nan")
    c = core_12m.dropna()
    parts["core_acceleration"] = (
        clamp(50.0 + pe_p["accel_per_pp"] * 100.0 * (c.iloc[-3:].mean() - c.iloc[-6:].mean()), 0, 100)
        if len(c) >= 6 else float("nan")
    )
    serv = services.dropna()
    serv_saar = float(np.prod(1.0 + serv.iloc[-3:].to_numpy()) ** 4 - 1.0) if len(serv) >= 3 else float("nan")
    parts["services_saar"] = (clamp(100.0 * serv_saar / pe_p["services_saar_full"], 0, 100)
                              if math.isfinite(serv_saar) else float("nan"))
    parts["expectations"] = clamp(50.0 + pe_p["expectations_per_pp"] * 100.0 * (float(focus12.iloc[-1]) - target_12m),
                                  0, 100)
    score = persistence_score(parts)
    feats = [Feature("services_3m_saar", serv_saar, "decimal per year"), Feature("persistence_score", score, "0-100")]
    if not math.isfinite(score):
        return Signal.gap("INFLATION_BR_PERSISTENCE", BR_RATES, 126, "no persistence sub-score"), feats
    dir_ = 1 if score > pe_p["upper"] else (-1 if score < pe_p["lower"] else 0)
    conf = abs(score - 50.0) / 50.0 if dir_ else 0.0
    return Signal("INFLATION_BR_PERSISTENCE", BR_RATES, HAWKISH_BR * dir_, conf, score, 126, {"parts": parts}), feats


def us_trend_signal(yoy: float, saar: float, cpi_saar: float, us_p: Mapping[str, Any]) -> tuple[Signal, list[Feature]]:
    """The US trend model: PCE core y/y and 3-month SAAR both above ``target`` -> short UST_10Y, both below ->
    long; confidence |y/y - target| / ``conf_scale``, moved by ``momentum_adj`` when CPI core SAAR agrees or not."""
    t_us = us_p["target"]
    feats = [Feature("us_pce_core_yoy", yoy, "decimal"), Feature("us_pce_core_3m_saar", saar, "decimal per year"),
             Feature("us_cpi_core_3m_saar", cpi_saar, "decimal per year")]
    above = yoy > t_us and saar > t_us
    below = yoy < t_us and saar < t_us
    dir_ = 1 if above else (-1 if below else 0)
    conf = min(1.0, abs(yoy - t_us) / us_p["conf_scale"]) if dir_ else 0.0
    if dir_:
        conf += us_p["momentum_adj"] * (1 if np.sign(cpi_saar - t_us) == dir_ else -1)
    sig = Signal("INFLATION_US_TREND", US_RATES, HAWKISH_US * dir_, conf, yoy - t_us, 252,
                 {"pce_core_yoy": yoy, "pce_core_3m_saar": saar, "cpi_core_3m_saar": cpi_saar,
                  "target": t_us, "mapping": fired_branch(
                      HAWKISH_US * dir_, f"US core below target: PCE core {yoy:.2%} y/y and {saar:.2%} "
                      f"3m saar under {t_us:.2%} -> long UST_10Y (+1)",
                      f"US core above target: PCE core {yoy:.2%} y/y and {saar:.2%} 3m saar over "
                      f"{t_us:.2%} -> short UST_10Y (-1)",
                      f"US core mixed: PCE core {yoy:.2%} y/y, {saar:.2%} 3m saar around {t_us:.2%} "
                      "-> no position (0)")})
    return sig, feats


def run_inflation(data: SilverData, params: Mapping[str, Any]) -> tuple[list[Signal], list[Feature]]:
    """All inflation models as of ``data.date``.

    Parameters
    ----------
    data : SilverData
        Silver, filtered to the session.
    params : mapping
        The ``agents`` config subtree (uses ``inflation`` and ``inflation_target``).
    """
    p = params["inflation"]
    tgt_table = params["inflation_target"]
    d = data.ts
    target_now = target_at(d, tgt_table)
    target_12m = target_at(d + pd.DateOffset(years=1), tgt_table)
    feats: list[Feature] = [
        Feature("target_now", target_now, "decimal per year; BCB target in force on the session"),
        Feature("target_12m", target_12m, "decimal per year; target in force 12 months ahead"),
    ]

    # inputs (a missing series raises SeriesMissing naming it)
    ipca_mom = _m(data, "br_ipca_mom")
    ipca_12m = _m(data, "br_ipca_12m")
    core_12m = _m(data, "br_ipca_core_12m")
    focus12 = _m(data, "focus_ipca_12m")
    gap = _m(data, "br_output_gap")
    focus_cy0 = _m(data, "focus_ipca_cy0")
    fx_m = monthly_last(data.usdbrl())
    fx_m.index = pd.DatetimeIndex(fx_m.index)
    fx_yoy = (fx_m / fx_m.shift(12) - 1.0).dropna()
    for name, s, unit in (
        ("ipca_12m", ipca_12m, "decimal, 12-month IPCA"),
        ("ipca_core_12m", core_12m, "decimal, 12-month core IPCA"),
        ("focus_ipca_12m", focus12, "decimal, Focus median 12 months ahead"),
        ("output_gap", gap, "decimal of potential (silver br_output_gap)"),
        ("usdbrl_yoy", fx_yoy, "decimal, 12-month change of month-end PTAX"),
    ):
        feats.append(Feature(name, float(s.iloc[-1]) if len(s) else None,
                             unit if len(s) else f"{unit}: no observation"))

    sig: dict[str, Signal] = {}
    ph_p = p["phillips"]
    frame = pd.concat(
        {"core_12m": core_12m, "focus_12m": focus12, "output_gap": gap.shift(ph_p["gap_lag_months"]),
         "usdbrl_yoy": fx_yoy},
        axis=1,
    ).sort_index()
    sig["phillips"], f = phillips_signal(frame, ph_p, tgt_table)
    feats += f
    groups = {g: _m(data, f"br_ipca_g_{g}") for g in GROUPS}
    sig["bottom_up"], f_bu = bottom_up_signal(groups, p["bottom_up"], target_12m)
    feats.append(f_bu)
    sig["surprise"], f = surprise_signal(ipca_mom, focus_cy0, p["surprise"])
    feats += f
    diffusion = _m(data, "br_ipca_diffusion")
    services = _m(data, "br_ipca_services")
    sig["persistence"], f = persistence_signal(diffusion, core_12m, services, focus12, target_12m, p["persistence"])
    feats += f
    us = (data.macro_last("us_pce_core_yoy"), data.macro_last("us_pce_core_3m_saar"),
          data.macro_last("us_cpi_core_3m_saar"))
    sig["us_trend"], f = us_trend_signal(*us, p["us_trend"])  # standalone: not in the composite
    feats += f
    cp = p["composite"]
    comp = composite_signal("INFLATION_BR_COMPOSITE", BR_RATES, 252, sig, cp["weights"],
                            min_disagree=cp["min_disagree"], damper=params["damper"])
    return [*sig.values(), comp], feats
