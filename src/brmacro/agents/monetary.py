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
from functools import lru_cache
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
    month_starts,
    monthly_last,
    target_at,
)
from brmacro.agents.data import SilverData

__all__ = [
    "expected_policy_path_avg",
    "fed_stance_signal",
    "kalman_r_star",
    "run_monetary",
    "selic_path_signal",
    "taylor_rate",
    "taylor_signal",
    "term_premium_history",
    "term_premium_signal",
    "us_taylor_rate",
]


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

    A pure function of its arguments, kept per process (:func:`_path_avg`): the term-premium history asks it again
    for every past session at each session (the sign of each rate is part of the key, so -0.0 is not 0.0).
    """
    rates = (selic_now, focus_cy0, focus_cy1)
    return _path_avg(t0, *rates, horizon_days, tuple(math.copysign(1.0, v) for v in rates))


@lru_cache(maxsize=16384)
def _path_avg(t0: pd.Timestamp, selic_now: float, focus_cy0: float, focus_cy1: float, horizon_days: int,
              signs: tuple[float, ...]) -> float:  # noqa: ARG001 - signs: cache key
    ye0 = pd.Timestamp(t0.year, 12, 31)
    ye1 = pd.Timestamp(t0.year + 1, 12, 31)
    xs = np.array([0.0, (ye0 - t0).days, (ye1 - t0).days], dtype=float)
    ys = np.array([selic_now, focus_cy0, focus_cy1], dtype=float)
    grid = np.arange(0.0, float(horizon_days) + 1.0)
    return float(np.interp(grid, xs, ys).mean())


def _monthly(s: pd.Series) -> pd.Series:
    """``s`` by month start (:func:`brmacro.agents.common.month_starts`, kept per process)."""
    return month_starts(s)


def kalman_r_star(
    selic_d: pd.Series, focus12: pd.Series, gap_m: pd.Series, a_y: float, k_p: Mapping[str, Any]
) -> tuple[float, list[Feature]]:
    """Kalman r*: a local level (:func:`kalman_local_level`) on the monthly ex-ante real rate minus the gap term,
    ``Selic - Focus 12m - a_y x gap``; NaN when fewer than ``min_obs`` complete months."""
    selic_m = monthly_last(selic_d)
    obs = pd.concat({"i": selic_m, "pi": focus12, "gap": gap_m}, axis=1).dropna()
    y = (obs["i"] - obs["pi"] - a_y * obs["gap"]).to_numpy()
    if len(y) < k_p["min_obs"]:
        return float("nan"), [Feature("r_star", None, f"not computable: {len(y)} monthly rows < {k_p['min_obs']}")]
    xs, ps = kalman_local_level(y, q=k_p["q"], r=k_p["r"], x0=float(y[0]), p0=k_p["r"])
    r_star, r_var = float(xs[-1]), float(ps[-1])
    return r_star, [Feature("r_star", r_star, f"decimal per year, filtered over {len(y)} months"),
                    Feature("r_star_sd", math.sqrt(r_var), "decimal per year, filter std")]


def taylor_signal(
    r_star: float, selic: float, pi_e: float, pi_star: float, gap: float, t_p: Mapping[str, Any]
) -> tuple[Signal, list[Feature]]:
    """The Taylor-rule model (:func:`taylor_rate`, no inertia term): Selic above the rule by more than ``floor``
    -> receive DI1_1Y, below -> pay; confidence ``conf_strong`` from ``strong_gap`` on, else ``conf_moderate``."""
    if not math.isfinite(r_star):
        return (Signal.gap("MONETARY_BR_TAYLOR", "DI1_1Y", 252, "r* not computable (short history)"),
                [Feature("taylor_rate", None, "not computable: no r*"), Feature("taylor_gap", None, "no r*")])
    i_star = taylor_rate(r_star, pi_e, pi_star, gap, a_pi=t_p["a_pi"], a_y=t_p["a_y"])
    tgap = selic - i_star
    dir_, _ = gap_signal(tgap, t_p["floor"], 1.0)
    conf = 0.0 if dir_ == 0 else (t_p["conf_strong"] if abs(tgap) >= t_p["strong_gap"] else t_p["conf_moderate"])
    sig = Signal("MONETARY_BR_TAYLOR", "DI1_1Y", dir_, conf, tgap, 252,
                 {"i_star": i_star, "r_star": r_star, "pi_e": pi_e, "pi_target": pi_star, "gap": gap,
                  "selic": selic, "mapping": fired_branch(
                      dir_, f"Selic {selic:.2%} above the rule's {i_star:.2%} -> receive DI1_1Y (+1)",
                      f"Selic {selic:.2%} below the rule's {i_star:.2%} -> pay DI1_1Y (-1)",
                      f"Selic {selic:.2%} within {t_p['floor']:.2%} of the rule's {i_star:.2%} "
                      "-> no position (0)")})
    return sig, [Feature("taylor_rate", i_star, "decimal per year"), Feature("taylor_gap", tgap, "decimal, Selic - i*")]


def selic_path_signal(
    d: pd.Timestamp, selic: float, di_1y: float, cy0: float, cy1: float, s_p: Mapping[str, Any]
) -> tuple[Signal, list[Feature]]:
    """The Selic-path model: DI 1Y minus the Focus policy path averaged over a year
    (:func:`expected_policy_path_avg`, less the CDI-Selic spread); above by more than ``threshold`` -> receive
    DI1_1Y (fade the market), below -> pay."""
    path = expected_policy_path_avg(d, selic, cy0, cy1, 365)
    dev = di_1y - (path - s_p["cdi_selic_spread"])
    dir_, conf = gap_signal(dev, s_p["threshold"], s_p["conf_scale"])
    sig = Signal("MONETARY_BR_SELIC_PATH", "DI1_1Y", dir_, conf, dev, 126,
                 {"di_1y": di_1y, "focus_path_avg_1y": path, "focus_selic_cy0": cy0,
                  "focus_selic_cy1": cy1,
                  "mapping": fired_branch(
                      dir_, f"DI 1Y {di_1y:.2%} above the Focus path {path:.2%} "
                      "-> receive DI1_1Y (+1)",
                      f"DI 1Y {di_1y:.2%} below the Focus path {path:.2%} -> pay DI1_1Y (-1)",
                      f"DI 1Y {di_1y:.2%} within {s_p['threshold']:.2%} of the Focus path "
                      f"{path:.2%} -> no position (0)")})
    return sig, [Feature("focus_path_avg_1y", path, "decimal per year"),
                 Feature("selic_path_dev", dev, "decimal, DI 1Y minus Focus path (CDI basis)")]


def term_premium_history(
    data: SilverData, lookback: int, cdi_selic_spread: float
) -> tuple[pd.Series, pd.Series, pd.DatetimeIndex]:
    """DI 5Y and 2Y term premia over the last ``lookback`` sessions: the DI rate minus the Focus policy path
    averaged over 5 (2) years, rebuilt each session from the Selic and Focus values as released then (rows with
    a missing value dropped). Returns the 5Y and 2Y series and the sessions asked for."""
    di5 = data.curve("DI_PRE", "1260du")
    di2 = data.curve("DI_PRE", "504du")
    hist_idx = pd.DatetimeIndex(di5.index)[-lookback:]
    s_at = data.macro_asof("br_selic_target", hist_idx)
    c0_at = data.macro_asof("focus_selic_cy0", hist_idx)
    c1_at = data.macro_asof("focus_selic_cy1", hist_idx)
    # di5.loc[t] and di2.get(t, NaN) for every t at once (a curve point's dates are unique: the table's key)
    di5_at = di5.to_numpy(dtype=float)[-lookback:]
    di2_at = di2.reindex(hist_idx).to_numpy(dtype=float)
    tp5, tp2 = [], []
    for t, s0, a, b, r5, r2 in zip(hist_idx, s_at.to_numpy(), c0_at.to_numpy(), c1_at.to_numpy(), di5_at, di2_at,
                                   strict=True):
        if not (math.isfinite(s0) and math.isfinite(a) and math.isfinite(b)):
            tp5.append(np.nan)
            tp2.append(np.nan)
            continue
        tp5.append(float(r5) - (expected_policy_path_avg(t, s0, a, b, 5 * 365) - cdi_selic_spread))
        tp2.append(float(r2) - (expected_policy_path_avg(t, s0, a, b, 2 * 365) - cdi_selic_spread))
    return pd.Series(tp5, index=hist_idx).dropna(), pd.Series(tp2, index=hist_idx).dropna(), hist_idx


def term_premium_signal(
    tp5_s: pd.Series, tp2_s: pd.Series, hist_idx: pd.DatetimeIndex, tp_p: Mapping[str, Any]
) -> tuple[Signal, list[Feature]]:
    """The term-premium model: z of today's DI 5Y premium over its history (:func:`term_premium_history`, which
    must reach the session and hold ``min_obs`` sessions); above ``z_fire`` -> receive DI1_5Y (rich premium),
    below minus it -> pay."""
    z = float("nan")
    if len(tp5_s) >= tp_p["min_obs"] and tp5_s.index[-1] == hist_idx[-1]:
        sd = float(tp5_s.std(ddof=1))
        if sd > 0:
            z = float((tp5_s.iloc[-1] - tp5_s.mean()) / sd)
    feats = [
        Feature("term_premium_5y", float(tp5_s.iloc[-1]) if len(tp5_s) else None,
                "decimal, DI 5Y minus Focus policy path avg over 5y"),
        Feature("term_premium_2y", float(tp2_s.iloc[-1]) if len(tp2_s) else None,
                "decimal, DI 2Y minus Focus policy path avg over 2y"),
        Feature("term_premium_5y_z", z, f"z over {len(tp5_s)} sessions" if math.isfinite(z)
                else "not computable: too short history"),
    ]
    if not math.isfinite(z):
        return Signal.gap("MONETARY_BR_TERM_PREMIUM", "DI1_5Y", 126,
                          f"fewer than {tp_p['min_obs']} sessions of term-premium history"), feats
    dir_ = 1 if z > tp_p["z_fire"] else (-1 if z < -tp_p["z_fire"] else 0)
    conf = min(1.0, abs(z) / tp_p["conf_scale"]) if dir_ else 0.0
    sig = Signal("MONETARY_BR_TERM_PREMIUM", "DI1_5Y", dir_, conf, float(tp5_s.iloc[-1]), 126,
                 {"z": z, "n": len(tp5_s), "mean": float(tp5_s.mean()),
                  "mapping": fired_branch(
                      dir_, f"term premium rich: z {z:+.2f} above {tp_p['z_fire']:g} "
                      "-> receive DI1_5Y (+1)",
                      f"term premium cheap: z {z:+.2f} below -{tp_p['z_fire']:g} "
                      "-> pay DI1_5Y (-1)",
                      f"term premium z {z:+.2f} within ±{tp_p['z_fire']:g} -> no position (0)")})
    return sig, feats


def fed_stance_signal(ff: float, pce: float, u: float, f_p: Mapping[str, Any]) -> tuple[Signal, list[Feature]]:
    """The Fed-stance model: fed funds minus the US Taylor (1993) rule with an Okun gap (:func:`us_taylor_rate`);
    above by more than ``floor`` -> long UST_10Y (Fed tight, cuts ahead), below -> short."""
    i_us = us_taylor_rate(f_p["r_star"], pce, f_p["pi_target"], u, f_p["u_star"], a_pi=f_p["a_pi"], a_y=f_p["a_y"],
                          okun=f_p["okun"])
    fgap = ff - i_us
    dir_, conf = gap_signal(fgap, f_p["floor"], f_p["conf_scale"])
    sig = Signal("MONETARY_US_FED_STANCE", "UST_10Y", dir_, conf, fgap, 252,
                 {"fed_funds": ff, "us_taylor": i_us, "pce_core_yoy": pce, "unemployment": u,
                  "mapping": fired_branch(
                      dir_, f"fed funds {ff:.2%} above the US rule's {i_us:.2%} -> long UST_10Y (+1)",
                      f"fed funds {ff:.2%} below the US rule's {i_us:.2%} -> short UST_10Y (-1)",
                      f"fed funds {ff:.2%} within {f_p['floor']:.2%} of the US rule's {i_us:.2%} "
                      "-> no position (0)")})
    return sig, [Feature("us_fed_funds", ff, "decimal per year"), Feature("us_taylor_rate", i_us, "decimal per year"),
                 Feature("fed_gap", fgap, "decimal")]


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

    r_star, f = kalman_r_star(selic_d, focus12, gap_m, p["taylor"]["a_y"], p["kalman"])
    feats += f
    sig["taylor"], f = taylor_signal(r_star, selic, pi_e, pi_star, gap, p["taylor"])
    feats += f
    cy0 = float(_monthly(data.macro("focus_selic_cy0")).iloc[-1])
    cy1 = float(_monthly(data.macro("focus_selic_cy1")).iloc[-1])
    sig["selic_path"], f = selic_path_signal(d, selic, di["252du"], cy0, cy1, p["selic_path"])
    feats += f
    tp5, tp2, hist_idx = term_premium_history(data, p["term_premium"]["lookback"],
                                              p["selic_path"]["cdi_selic_spread"])
    sig["term_premium"], f = term_premium_signal(tp5, tp2, hist_idx, p["term_premium"])
    feats += f
    fed = (data.macro_last("us_fed_funds"), data.macro_last("us_pce_core_yoy"), data.macro_last("us_unemployment"))
    sig["fed"], f = fed_stance_signal(*fed, p["fed"])  # standalone: not in the composite's weights
    feats += f

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
