"""Monetary-policy agent: Kalman r*, Taylor rule, Focus Selic path vs DI 1Y, term premium, Fed stance.

Direction mapping (price convention):

* Taylor: Selic *above* the rule (policy too tight -> cuts ahead) -> **receive DI1_1Y (+1)**;
  below the rule -> pay (-1).
* Selic path: DI 1Y *above* the Focus-implied path (market prices more than the consensus)
  -> fade it, **receive DI1_1Y (+1)**.
* Term premium: DI 5Y premium z-score high (premium rich) -> **receive DI1_5Y (+1)**; low -> pay.
* Fed stance: fed funds *above* the US Taylor rule (Fed tight, cuts ahead) -> **long UST_10Y (+1)**.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from brmacro.agents.common import (
    Feature,
    Signal,
    composite_signal,
    fired_branch,
    gap_signal,
    kalman_local_level,
    monthly_last,
    target_at,
)
from brmacro.agents.data import SilverData

__all__ = ["expected_policy_path_avg", "run_monetary", "taylor_rate", "us_taylor_rate"]


def taylor_rate(r_star: float, pi_e: float, pi_target: float, gap: float, *, a_pi: float = 1.5,
                a_y: float = 0.5) -> float:
    """Taylor-rule policy rate ``r* + π_e + a_π(π_e − π*) + a_y·gap`` (all decimals per year)."""
    return r_star + pi_e + a_pi * (pi_e - pi_target) + a_y * gap


def us_taylor_rate(r_star: float, pi: float, pi_target: float, unemp: float, u_star: float, *,
                   a_pi: float = 0.5, a_y: float = 0.5, okun: float = 2.0) -> float:
    """Taylor (1993) for the Fed with an Okun output gap ``-okun·(u − u*)``."""
    return r_star + pi + a_pi * (pi - pi_target) + a_y * (-okun * (unemp - u_star))


def expected_policy_path_avg(
    t0: pd.Timestamp, selic_now: float, focus_cy0: float, focus_cy1: float, horizon_days: int
) -> float:
    """Average expected policy rate over ``[t0, t0 + horizon_days]`` from the Focus year-end medians.

    The path is linear in calendar time from the current Selic target at ``t0`` to the Focus
    median for the end of the current year (31 Dec) and then to the median for the end of next
    year, flat afterwards. A simple (not compounded) average: a proxy of the DI rate to that date.
    """
    ye0 = pd.Timestamp(t0.year, 12, 31)
    ye1 = pd.Timestamp(t0.year + 1, 12, 31)
    xs = np.array([0.0, (ye0 - t0).days, (ye1 - t0).days], dtype=float)
    ys = np.array([selic_now, focus_cy0, focus_cy1], dtype=float)
    grid = np.arange(0.0, float(horizon_days) + 1.0)
    return float(np.interp(grid, xs, ys).mean())


def _monthly(s: pd.Series) -> pd.Series:
    s = s.copy()
    s.index = pd.DatetimeIndex(s.index).to_period("M").to_timestamp(how="start")
    return s[~s.index.duplicated(keep="last")]


def run_monetary(
    data: SilverData, params: Mapping[str, Any], inflation_signals: pd.DataFrame | None = None
) -> tuple[list[Signal], list[Feature]]:
    """All monetary-policy models as of ``data.date``.

    Parameters
    ----------
    data : SilverData
    params : mapping
        The ``agents`` subtree (uses ``monetary_policy``, ``inflation_target``, ``damper``).
    inflation_signals : DataFrame, optional
        agent_inflation's signals of the session (its composite is reported as a driver).
    """
    p = params["monetary_policy"]
    tgt_table = params["inflation_target"]
    d = data.ts
    sig: dict[str, Signal] = {}
    feats: list[Feature] = []

    selic_d = data.macro("br_selic_target")
    selic = float(selic_d.iloc[-1])
    focus12 = _monthly(data.macro("focus_ipca_12m"))
    pi_e = float(focus12.iloc[-1])
    gap_m = _monthly(data.macro("br_output_gap"))
    gap = float(gap_m.iloc[-1])
    pi_star = target_at(d + pd.DateOffset(years=1), tgt_table)
    di = {lab: data.curve_last("DI_PRE", lab) for lab in ("252du", "504du", "1260du", "2520du")}
    feats += [
        Feature("selic_target", selic, "decimal per year"),
        Feature("focus_ipca_12m", pi_e, "decimal"),
        Feature("output_gap", gap, "decimal of potential"),
        Feature("target_12m", pi_star, "decimal, target in force 12 months ahead"),
        Feature("real_rate_ex_ante", selic - pi_e, "decimal, Selic minus Focus 12m"),
        *[Feature(f"di_{k}", v, "decimal per year, DI_PRE zero rate") for k, v in di.items()],
        Feature("di_slope_1y10y", di["2520du"] - di["252du"], "decimal"),
    ]

    # ---- Kalman r*: local level on the monthly ex-ante real rate minus the gap term
    k_p = p["kalman"]
    selic_m = monthly_last(selic_d)
    obs = pd.concat({"i": selic_m, "pi": focus12, "gap": gap_m}, axis=1).dropna()
    y = (obs["i"] - obs["pi"] - p["taylor"]["a_y"] * obs["gap"]).to_numpy()
    r_star = float("nan")
    if len(y) >= k_p["min_obs"]:
        xs, ps = kalman_local_level(y, q=k_p["q"], r=k_p["r"], x0=float(y[0]), p0=k_p["r"])
        r_star, r_var = float(xs[-1]), float(ps[-1])
        feats.append(Feature("r_star", r_star, f"decimal per year, filtered over {len(y)} months"))
        feats.append(Feature("r_star_sd", math.sqrt(r_var), "decimal per year, filter std"))
    else:
        feats.append(Feature("r_star", None, f"not computable: {len(y)} monthly rows < {k_p['min_obs']}"))

    # ---- Taylor rule
    t_p = p["taylor"]
    if math.isfinite(r_star):
        i_star = taylor_rate(r_star, pi_e, pi_star, gap, a_pi=t_p["a_pi"], a_y=t_p["a_y"])
        tgap = selic - i_star
        dir_, _ = gap_signal(tgap, t_p["floor"], 1.0)
        conf = 0.0 if dir_ == 0 else (t_p["conf_strong"] if abs(tgap) >= t_p["strong_gap"] else t_p["conf_moderate"])
        sig["taylor"] = Signal("MONETARY_BR_TAYLOR", "DI1_1Y", dir_, conf, tgap, 252,
                               {"i_star": i_star, "r_star": r_star, "pi_e": pi_e, "pi_target": pi_star, "gap": gap,
                                "selic": selic, "mapping": fired_branch(
                                    dir_, f"Selic {selic:.2%} above the rule's {i_star:.2%} -> receive DI1_1Y (+1)",
                                    f"Selic {selic:.2%} below the rule's {i_star:.2%} -> pay DI1_1Y (-1)",
                                    f"Selic {selic:.2%} within {t_p['floor']:.2%} of the rule's {i_star:.2%} "
                                    "-> no position (0)")})
        feats += [Feature("taylor_rate", i_star, "decimal per year"),
                  Feature("taylor_gap", tgap, "decimal, Selic - i*")]
    else:
        sig["taylor"] = Signal.gap("MONETARY_BR_TAYLOR", "DI1_1Y", 252, "r* not computable (short history)")
        feats += [Feature("taylor_rate", None, "not computable: no r*"), Feature("taylor_gap", None, "no r*")]

    # ---- Selic path (Focus) vs DI 1Y
    s_p = p["selic_path"]
    cy0 = _monthly(data.macro("focus_selic_cy0"))
    cy1 = _monthly(data.macro("focus_selic_cy1"))
    path = expected_policy_path_avg(d, selic, float(cy0.iloc[-1]), float(cy1.iloc[-1]), 365)
    dev = di["252du"] - (path - s_p["cdi_selic_spread"])
    dir_, conf = gap_signal(dev, s_p["threshold"], s_p["conf_scale"])
    sig["selic_path"] = Signal("MONETARY_BR_SELIC_PATH", "DI1_1Y", dir_, conf, dev, 126,
                               {"di_1y": di["252du"], "focus_path_avg_1y": path, "focus_selic_cy0": float(cy0.iloc[-1]),
                                "focus_selic_cy1": float(cy1.iloc[-1]),
                                "mapping": fired_branch(
                                    dir_, f"DI 1Y {di['252du']:.2%} above the Focus path {path:.2%} "
                                    "-> receive DI1_1Y (+1)",
                                    f"DI 1Y {di['252du']:.2%} below the Focus path {path:.2%} -> pay DI1_1Y (-1)",
                                    f"DI 1Y {di['252du']:.2%} within {s_p['threshold']:.2%} of the Focus path "
                                    f"{path:.2%} -> no position (0)")})
    feats += [Feature("focus_path_avg_1y", path, "decimal per year"),
              Feature("selic_path_dev", dev, "decimal, DI 1Y minus Focus path (CDI basis)")]

    # ---- term premium over the real history
    tp_p = p["term_premium"]
    di5 = data.curve("DI_PRE", "1260du")
    di2 = data.curve("DI_PRE", "504du")
    hist_idx = pd.DatetimeIndex(di5.index)[-tp_p["lookback"]:]
    s_at = data.macro_asof("br_selic_target", hist_idx)
    c0_at = data.macro_asof("focus_selic_cy0", hist_idx)
    c1_at = data.macro_asof("focus_selic_cy1", hist_idx)
    tp5, tp2 = [], []
    for t, s0, a, b in zip(hist_idx, s_at.to_numpy(), c0_at.to_numpy(), c1_at.to_numpy(), strict=True):
        if not (math.isfinite(s0) and math.isfinite(a) and math.isfinite(b)):
            tp5.append(np.nan)
            tp2.append(np.nan)
            continue
        tp5.append(float(di5.loc[t]) - (expected_policy_path_avg(t, s0, a, b, 5 * 365) - s_p["cdi_selic_spread"]))
        tp2.append(float(di2.get(t, np.nan)) - (expected_policy_path_avg(t, s0, a, b, 2 * 365)
                                                - s_p["cdi_selic_spread"]))
    tp5_s = pd.Series(tp5, index=hist_idx).dropna()
    tp2_s = pd.Series(tp2, index=hist_idx).dropna()
    z = float("nan")
    if len(tp5_s) >= tp_p["min_obs"] and tp5_s.index[-1] == hist_idx[-1]:
        sd = float(tp5_s.std(ddof=1))
        if sd > 0:
            z = float((tp5_s.iloc[-1] - tp5_s.mean()) / sd)
    feats += [
        Feature("term_premium_5y", float(tp5_s.iloc[-1]) if len(tp5_s) else None,
                "decimal, DI 5Y minus Focus policy path avg over 5y"),
        Feature("term_premium_2y", float(tp2_s.iloc[-1]) if len(tp2_s) else None,
                "decimal, DI 2Y minus Focus policy path avg over 2y"),
        Feature("term_premium_5y_z", z, f"z over {len(tp5_s)} sessions" if math.isfinite(z)
                else "not computable: too short history"),
    ]
    if math.isfinite(z):
        dir_ = 1 if z > tp_p["z_fire"] else (-1 if z < -tp_p["z_fire"] else 0)
        conf = min(1.0, abs(z) / tp_p["conf_scale"]) if dir_ else 0.0
        sig["term_premium"] = Signal("MONETARY_BR_TERM_PREMIUM", "DI1_5Y", dir_, conf, float(tp5_s.iloc[-1]), 126,
                                     {"z": z, "n": len(tp5_s), "mean": float(tp5_s.mean()),
                                      "mapping": fired_branch(
                                          dir_, f"term premium rich: z {z:+.2f} above {tp_p['z_fire']:g} "
                                          "-> receive DI1_5Y (+1)",
                                          f"term premium cheap: z {z:+.2f} below -{tp_p['z_fire']:g} "
                                          "-> pay DI1_5Y (-1)",
                                          f"term premium z {z:+.2f} within ±{tp_p['z_fire']:g} -> no position (0)")})
    else:
        sig["term_premium"] = Signal.gap("MONETARY_BR_TERM_PREMIUM", "DI1_5Y", 126,
                                         f"fewer than {tp_p['min_obs']} sessions of term-premium history")

    # ---- Fed stance (standalone)
    f_p = p["fed"]
    ff = data.macro_last("us_fed_funds")
    pce = data.macro_last("us_pce_core_yoy")
    u = data.macro_last("us_unemployment")
    i_us = us_taylor_rate(f_p["r_star"], pce, f_p["pi_target"], u, f_p["u_star"], a_pi=f_p["a_pi"], a_y=f_p["a_y"],
                          okun=f_p["okun"])
    fgap = ff - i_us
    dir_, conf = gap_signal(fgap, f_p["floor"], f_p["conf_scale"])
    sig["fed"] = Signal("MONETARY_US_FED_STANCE", "UST_10Y", dir_, conf, fgap, 252,
                        {"fed_funds": ff, "us_taylor": i_us, "pce_core_yoy": pce, "unemployment": u,
                         "mapping": fired_branch(
                             dir_, f"fed funds {ff:.2%} above the US rule's {i_us:.2%} -> long UST_10Y (+1)",
                             f"fed funds {ff:.2%} below the US rule's {i_us:.2%} -> short UST_10Y (-1)",
                             f"fed funds {ff:.2%} within {f_p['floor']:.2%} of the US rule's {i_us:.2%} "
                             "-> no position (0)")})
    feats += [Feature("us_fed_funds", ff, "decimal per year"), Feature("us_taylor_rate", i_us, "decimal per year"),
              Feature("fed_gap", fgap, "decimal")]

    # ---- composite
    cp = p["composite"]
    comp = composite_signal("MONETARY_BR_COMPOSITE", "DI1_1Y", 252, sig, cp["weights"],
                            min_disagree=cp["min_disagree"], damper=params["damper"])
    if inflation_signals is not None and len(inflation_signals):
        row = inflation_signals.loc[inflation_signals["signal_id"] == "INFLATION_BR_COMPOSITE"]
        if len(row):
            comp.drivers["inflation_composite_direction"] = int(row["direction"].iloc[0])
            feats.append(Feature("inflation_composite_direction", float(row["direction"].iloc[0]),
                                 "agent_inflation composite, price convention on DI1_1Y"))
    return [*sig.values(), comp], feats
