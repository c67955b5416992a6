"""Inflation agent: Phillips curve, bottom-up seasonal forecast, surprise, persistence, US trend.

Direction mapping (price convention): an inflation view *above* target is hawkish for Brazilian
rates, so it is **short DI1_1Y** (pay fixed, -1); below target is +1 (receive). The US trend
model maps US core PCE above the Fed's 2% to **short UST_10Y** (-1).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
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
    monthly_last,
    ols,
    target_at,
)
from brmacro.agents.data import SilverData

__all__ = [
    "bottom_up_forecast",
    "monthly_consensus",
    "persistence_score",
    "phillips_forecast",
    "run_inflation",
]

BR_RATES = "DI1_1Y"
US_RATES = "UST_10Y"
HAWKISH_BR = -1  # inflation above target -> pay DI1 (short its price)
HAWKISH_US = -1  # US inflation above target -> short UST_10Y

GROUPS = (
    "food", "housing", "household", "apparel", "transport", "health", "personal", "education", "communication",
)


def fx_series(data: SilverData) -> pd.Series:
    """Daily USDBRL: the SGS PTAX mirror in silver_macro when present (longer history), else ``ptax:USDBRL``."""
    if data.has_macro("br_ptax_sell_sgs"):
        return data.macro("br_ptax_sell_sgs")
    return data.price("ptax:USDBRL")


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
        x = s.dropna().iloc[-window:]
        if len(x) < 36 or g not in weights:
            continue
        months = pd.DatetimeIndex(x.index).month
        seas = x.groupby(months).mean() - x.mean()
        if len(seas) < 12:
            continue
        sa = x - seas.reindex(months).to_numpy()
        level = float(sa.iloc[-momentum:].mean())
        fc[g] = float(np.prod(1.0 + level + seas.to_numpy()) - 1.0)
    if len(fc) < min_groups:
        return {"forecast": float("nan"), "by_group": fc, "weights": {}}
    tot = sum(weights[g] for g in fc)
    w = {g: weights[g] / tot for g in fc}
    return {"forecast": float(sum(w[g] * fc[g] for g in fc)), "by_group": fc, "weights": w}


def monthly_consensus(ipca_mom: pd.Series, focus_cy0: pd.Series) -> pd.Series:
    """Monthly IPCA consensus implied by the Focus calendar-year median.

    For month t of year Y: the Focus median for Y surveyed in month t (before t's IPCA is out),
    divided by the IPCA compounded January..t-1, leaves the inflation expected for months t..Dec;
    its geometric monthly mean over the 13 - month(t) remaining months is the consensus for t:
    ``((1 + focus_Y) / (1 + ytd_{t-1}))^(1/(13 - m)) - 1``. In December this is exactly the
    expected December print. Months without every January..t-1 print are NaN.
    """
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
    s = data.macro(name)
    s.index = pd.DatetimeIndex(s.index).to_period("M").to_timestamp(how="start")
    return s[~s.index.duplicated(keep="last")]


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
    sig: dict[str, Signal] = {}

    # ---- inputs (a missing series raises SeriesMissing naming it)
    ipca_mom = _m(data, "br_ipca_mom")
    ipca_12m = _m(data, "br_ipca_12m")
    core_12m = _m(data, "br_ipca_core_12m")
    focus12 = _m(data, "focus_ipca_12m")
    gap = _m(data, "br_output_gap")
    focus_cy0 = _m(data, "focus_ipca_cy0")
    fx_m = monthly_last(fx_series(data))
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

    # ---- 1. Phillips curve
    ph_p = p["phillips"]
    frame = pd.concat(
        {"core_12m": core_12m, "focus_12m": focus12, "output_gap": gap.shift(ph_p["gap_lag_months"]),
         "usdbrl_yoy": fx_yoy},
        axis=1,
    ).sort_index()
    ph = phillips_forecast(frame, target_col="core_12m", horizon=ph_p["horizon_months"],
                           window=ph_p["window_months"], min_obs=ph_p["min_obs"])
    fc = ph["forecast"]
    feats.append(Feature("phillips_forecast", fc, f"decimal, core IPCA 12m forecast {ph_p['horizon_months']} "
                         f"months after {ph['base_month'].date() if ph['base_month'] is not None else 'n/a'}; "
                         f"OLS nobs={ph['nobs']}"))
    if math.isfinite(fc):
        tgt = target_at(ph["base_month"] + pd.DateOffset(months=ph_p["horizon_months"]), tgt_table)
        g = fc - tgt
        dir_, conf = gap_signal(g, ph_p["threshold"], ph_p["conf_scale"])
        sig["phillips"] = Signal("INFLATION_BR_PHILLIPS", BR_RATES, HAWKISH_BR * dir_, conf, g, 252,
                                 {"forecast": fc, "target": tgt, "coef": ph["coef"], "nobs": ph["nobs"], "r2": ph["r2"],
                                  "mapping": fired_branch(
                                      HAWKISH_BR * dir_, f"forecast {fc:.2%} below target {tgt:.2%} "
                                      "-> receive DI1_1Y (+1)",
                                      f"forecast {fc:.2%} above target {tgt:.2%} -> pay DI1_1Y (-1)",
                                      f"forecast {fc:.2%} within {ph_p['threshold']:.2%} of target {tgt:.2%} "
                                      "-> no position (0)")})
        feats.append(Feature("phillips_gap", g, "decimal, forecast minus target"))
    else:
        sig["phillips"] = Signal.gap("INFLATION_BR_PHILLIPS", BR_RATES, 252,
                                     f"fewer than {ph_p['min_obs']} complete monthly rows (have {ph['nobs']})")
        feats.append(Feature("phillips_gap", None, "not computable: too few complete monthly rows"))

    # ---- 2. bottom-up
    bu_p = p["bottom_up"]
    groups = {g: _m(data, f"br_ipca_g_{g}") for g in GROUPS}
    bu = bottom_up_forecast(groups, bu_p["weights"], window=bu_p["window_months"], momentum=bu_p["momentum_months"],
                            min_groups=bu_p["min_groups"])
    bfc = bu["forecast"]
    feats.append(Feature("bottom_up_forecast", bfc, "decimal, IPCA next 12 months from 9 groups"
                         if math.isfinite(bfc) else "not computable: fewer groups with 36 months than required"))
    if math.isfinite(bfc):
        g = bfc - target_12m
        dir_, conf = gap_signal(g, bu_p["band"], bu_p["conf_scale"])
        sig["bottom_up"] = Signal("INFLATION_BR_BOTTOMUP", BR_RATES, HAWKISH_BR * dir_, conf, g, 252,
                                  {"forecast": bfc, "target": target_12m, "by_group": bu["by_group"],
                                   "weights": bu["weights"]})
    else:
        sig["bottom_up"] = Signal.gap("INFLATION_BR_BOTTOMUP", BR_RATES, 252, "too few IPCA groups with 36 months")

    # ---- 3. surprise vs the Focus-implied monthly consensus
    su_p = p["surprise"]
    cons = monthly_consensus(ipca_mom, focus_cy0)
    surprise = (ipca_mom - cons).dropna()
    z = float("nan")
    if len(surprise) >= su_p["min_obs"]:
        hist = surprise.iloc[-su_p["window_months"]:]
        sd = float(hist.std(ddof=1))
        if sd > 0:
            z = float(surprise.iloc[-su_p["recent_months"]:].mean() / sd)
    feats.append(Feature("surprise_last", float(surprise.iloc[-1]) if len(surprise) else None,
                         "decimal m/m, IPCA minus Focus-implied monthly consensus" if len(surprise)
                         else "not computable: no month with Focus and a complete year to date"))
    feats.append(Feature("surprise_z", z, "z, mean of recent surprises / std over window"
                         if math.isfinite(z) else "not computable: too few surprises"))
    if math.isfinite(z):
        az = abs(z)
        if az < su_p["threshold_z"]:
            dir_, conf = 0, 0.0
        else:
            dir_ = int(np.sign(z))
            conf = min(1.0, 0.85 + 0.05 * (az - 2.0)) if az >= 2.0 else az / 2.0
        sig["surprise"] = Signal("INFLATION_BR_SURPRISE", BR_RATES, HAWKISH_BR * dir_, conf, z, 63,
                                 {"z": z, "last_surprise": float(surprise.iloc[-1]), "n": len(surprise)})
    else:
        sig["surprise"] = Signal.gap("INFLATION_BR_SURPRISE", BR_RATES, 63,
                                     f"fewer than {su_p['min_obs']} months of surprises (have {len(surprise)})")

    # ---- 4. persistence
    pe_p = p["persistence"]
    parts: dict[str, float] = {}
    diff = _m(data, "br_ipca_diffusion")
    parts["diffusion"] = clamp(100.0 * float(diff.iloc[-1]), 0, 100) if len(diff) else float("nan")
    c = core_12m.dropna()
    parts["core_acceleration"] = (
        clamp(50.0 + pe_p["accel_per_pp"] * 100.0 * (c.iloc[-3:].mean() - c.iloc[-6:].mean()), 0, 100)
        if len(c) >= 6 else float("nan")
    )
    serv = _m(data, "br_ipca_services").dropna()
    serv_saar = float(np.prod(1.0 + serv.iloc[-3:].to_numpy()) ** 4 - 1.0) if len(serv) >= 3 else float("nan")
    parts["services_saar"] = (clamp(100.0 * serv_saar / pe_p["services_saar_full"], 0, 100)
                              if math.isfinite(serv_saar) else float("nan"))
    parts["expectations"] = clamp(50.0 + pe_p["expectations_per_pp"] * 100.0 * (float(focus12.iloc[-1]) - target_12m),
                                  0, 100)
    score = persistence_score(parts)
    feats.append(Feature("services_3m_saar", serv_saar, "decimal per year"))
    feats.append(Feature("persistence_score", score, "0-100"))
    if math.isfinite(score):
        dir_ = 1 if score > pe_p["upper"] else (-1 if score < pe_p["lower"] else 0)
        conf = abs(score - 50.0) / 50.0 if dir_ else 0.0
        sig["persistence"] = Signal("INFLATION_BR_PERSISTENCE", BR_RATES, HAWKISH_BR * dir_, conf, score, 126,
                                    {"parts": parts})
    else:
        sig["persistence"] = Signal.gap("INFLATION_BR_PERSISTENCE", BR_RATES, 126, "no persistence sub-score")

    # ---- 5. US trend (standalone)
    us_p = p["us_trend"]
    yoy = data.macro_last("us_pce_core_yoy")
    saar = data.macro_last("us_pce_core_3m_saar")
    cpi_saar = data.macro_last("us_cpi_core_3m_saar")
    t_us = us_p["target"]
    feats += [Feature("us_pce_core_yoy", yoy, "decimal"), Feature("us_pce_core_3m_saar", saar, "decimal per year"),
              Feature("us_cpi_core_3m_saar", cpi_saar, "decimal per year")]
    above = yoy > t_us and saar > t_us
    below = yoy < t_us and saar < t_us
    dir_ = 1 if above else (-1 if below else 0)
    conf = min(1.0, abs(yoy - t_us) / us_p["conf_scale"]) if dir_ else 0.0
    if dir_:
        conf += us_p["momentum_adj"] * (1 if np.sign(cpi_saar - t_us) == dir_ else -1)
    sig["us_trend"] = Signal("INFLATION_US_TREND", US_RATES, HAWKISH_US * dir_, conf, yoy - t_us, 252,
                             {"pce_core_yoy": yoy, "pce_core_3m_saar": saar, "cpi_core_3m_saar": cpi_saar,
                              "target": t_us, "mapping": fired_branch(
                                  HAWKISH_US * dir_, f"US core below target: PCE core {yoy:.2%} y/y and {saar:.2%} "
                                  f"3m saar under {t_us:.2%} -> long UST_10Y (+1)",
                                  f"US core above target: PCE core {yoy:.2%} y/y and {saar:.2%} 3m saar over "
                                  f"{t_us:.2%} -> short UST_10Y (-1)",
                                  f"US core mixed: PCE core {yoy:.2%} y/y, {saar:.2%} 3m saar around {t_us:.2%} "
                                  "-> no position (0)")})

    # ---- composite (the US model is excluded)
    cp = p["composite"]
    comp = composite_signal("INFLATION_BR_COMPOSITE", BR_RATES, 252, sig, cp["weights"],
                            min_disagree=cp["min_disagree"], damper=params["damper"])
    return [*sig.values(), comp], feats
