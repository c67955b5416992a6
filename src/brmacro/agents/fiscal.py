"""Fiscal agent: debt-sustainability scenarios, fiscal impulse, fiscal-dominance risk.

Direction mapping (price convention): fiscal *deterioration* (debt rising, expansionary impulse,
high dominance risk) weakens the BRL, so it is **long USDBRL (+1)**; improvement is -1.

Sign conventions of the inputs: ``br_primary_balance_gdp`` follows the NFSP convention of SGS 5793
(positive = deficit), so it is used directly as the primary *deficit* share of GDP.
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
    clamp,
    composite_signal,
    fired_branch,
    month_starts,
    target_at,
)
from brmacro.agents.data import SilverData

__all__ = ["dominance_score", "dominance_signal", "dsa_path", "dsa_signal", "impulse_signal", "run_fiscal"]

FX = "USDBRL"
STRESS = 1  # fiscal stress -> long USDBRL


def dsa_path(d0: float, r: float, g: float, deficit: float, years: int) -> np.ndarray:
    """Debt/GDP path ``d_{t+1} = d_t (1 + r)/(1 + g) + deficit`` (real r and g, primary deficit/GDP).

    Returns
    -------
    ndarray
        ``years + 1`` values, ``d0`` first.
    """
    out = np.empty(years + 1)
    out[0] = d0
    for t in range(years):
        out[t + 1] = out[t] * (1.0 + r) / (1.0 + g) + deficit
    return out


def _lin(x: float, lo: float, hi: float) -> float:
    """Map ``x`` linearly from [lo, hi] to [0, 100] (clamped; lo > hi inverts)."""
    if not math.isfinite(x):
        return float("nan")
    return clamp(100.0 * (x - lo) / (hi - lo), 0.0, 100.0)


def dominance_score(parts: Mapping[str, float], weights: Mapping[str, float], max_missing: int) -> float:
    """Weighted mean of the available 0-100 sub-scores; NaN when more than ``max_missing`` are missing."""
    have = {k: v for k, v in parts.items() if math.isfinite(v) and k in weights}
    if len(weights) - len(have) > max_missing:
        return float("nan")
    tot = sum(weights[k] for k in have)
    return float(sum(weights[k] * v for k, v in have.items()) / tot)


def _monthly(s: pd.Series) -> pd.Series:
    """``s`` by month start (:func:`brmacro.agents.common.month_starts`, kept per process), sorted."""
    return month_starts(s).sort_index()


def dsa_signal(
    d0: float, r_real: float, g: float, pd0: float, deficit_months: int, ds: Mapping[str, Any]
) -> tuple[Signal, list[Feature]]:
    """The debt-sustainability model: :func:`dsa_path` over ``years`` for each scenario (shifts of r, g and the
    deficit); the baseline's debt change above ``threshold`` -> long USDBRL, below minus it -> short; confidence
    from how many scenarios agree with the baseline's direction. Needs ``min_history`` months of primary balance
    (``deficit_months``)."""
    paths: dict[str, np.ndarray] = {}
    feats: list[Feature] = []
    for name, shift in ds["scenarios"].items():
        paths[name] = dsa_path(d0, r_real + shift["r"], g + shift["g"], pd0 + shift["deficit"], ds["years"])
        feats.append(Feature(f"dsa_terminal_{name}", float(paths[name][-1]), f"share of GDP after {ds['years']} years"))
    if deficit_months < ds["min_history"]:
        return Signal.gap("FISCAL_BR_DSA", FX, 1260, f"fewer than {ds['min_history']} months of primary balance"), feats
    change = float(paths["baseline"][-1] - d0)
    dir_ = STRESS if change > ds["threshold"] else (-STRESS if change < -ds["threshold"] else 0)
    n_stable = sum(1 for v in paths.values() if v[-1] <= d0)
    # scenarios that agree with the baseline's direction: stabilising ones for an improving
    # baseline, non-stabilising ones for a deteriorating one (B §6.3 counted only the former,
    # which made a rising-debt signal weakest exactly when every scenario explodes)
    n_agree = n_stable if dir_ < 0 else len(paths) - n_stable
    table = ds["conf_by_agreeing"]
    conf = float(table[min(n_agree, len(table) - 1)]) if dir_ else 0.0
    sig = Signal("FISCAL_BR_DSA", FX, dir_, conf, change, 1260,
                 {"d0": d0, "r": r_real, "g": g, "deficit": pd0, "n_stabilising": n_stable,
                  "n_agreeing": n_agree if dir_ else 0,
                  "terminal": {k: float(v[-1]) for k, v in paths.items()},
                  "mapping": fired_branch(
                      dir_, f"debt rising: baseline change {change:+.3f} of GDP above "
                      f"{ds['threshold']:g} -> long USDBRL (+1)",
                      f"debt falling: baseline change {change:+.3f} of GDP below "
                      f"-{ds['threshold']:g} -> short USDBRL (-1)",
                      f"baseline debt change {change:+.3f} of GDP within ±{ds['threshold']:g} "
                      "-> no position (0)")})
    return sig, feats


def impulse_signal(deficit: pd.Series, im: Mapping[str, Any]) -> tuple[Signal, list[Feature], float]:
    """The fiscal-impulse model: the 12-month change of the monthly primary deficit/GDP, z-scored over
    ``window_months``; above ``z_fire`` -> long USDBRL (expansionary), below minus it -> short. Also returns the
    latest impulse (NaN under 13 months), the dominance model's deficit trend."""
    impulse = (deficit - deficit.shift(12)).dropna()
    feats = [Feature("fiscal_impulse", float(impulse.iloc[-1]) if len(impulse) else None,
                     "share of GDP, 12-month change of the primary deficit (+ = expansionary)"
                     if len(impulse) else "not computable: under 13 months of primary balance")]
    hist = impulse.iloc[-im["window_months"]:]
    z = float("nan")
    if len(hist) >= im["min_obs"] and float(hist.std(ddof=1)) > 0:
        z = float((hist.iloc[-1] - hist.mean()) / hist.std(ddof=1))
    feats.append(Feature("fiscal_impulse_z", z, "z over the rolling window" if math.isfinite(z) else
                         "not computable: too few months"))
    last = float(impulse.iloc[-1]) if len(impulse) else float("nan")
    if not math.isfinite(z):
        return Signal.gap("FISCAL_BR_IMPULSE", FX, 126, f"fewer than {im['min_obs']} impulse months"), feats, last
    dir_ = STRESS if z > im["z_fire"] else (-STRESS if z < -im["z_fire"] else 0)
    sig = Signal("FISCAL_BR_IMPULSE", FX, dir_, min(1.0, abs(z) / im["conf_scale"]) if dir_ else 0.0,
                 float(impulse.iloc[-1]), 126,
                 {"z": z, "mapping": fired_branch(
                     dir_, f"expansionary impulse: z {z:+.2f} above {im['z_fire']:g} -> long USDBRL (+1)",
                     f"contractionary impulse: z {z:+.2f} below -{im['z_fire']:g} -> short USDBRL (-1)",
                     f"impulse z {z:+.2f} within ±{im['z_fire']:g} -> no position (0)")})
    return sig, feats, last


def dominance_signal(
    d0: float, r_minus_g: float, deficit_trend: float, credibility_gap: float, dm: Mapping[str, Any]
) -> tuple[Signal, Feature]:
    """The fiscal-dominance model: :func:`dominance_score` of debt, r - g, the deficit trend and |Focus 12m -
    target| mapped onto 0-100 over their configured ranges; above ``upper`` -> long USDBRL, below ``lower`` ->
    short."""
    parts = {
        "debt": _lin(d0, *dm["debt_range"]),
        "r_minus_g": _lin(r_minus_g, *dm["r_minus_g_range"]),
        "deficit_trend": _lin(deficit_trend, *dm["deficit_trend_range"]),
        "credibility": _lin(credibility_gap, *dm["credibility_range"]),
    }
    score = dominance_score(parts, dm["weights"], dm["max_missing"])
    feat = Feature("dominance_score", score, "0-100" if math.isfinite(score) else "not computable")
    if not math.isfinite(score):
        return Signal.gap("FISCAL_BR_DOMINANCE_RISK", FX, 252, "too many missing sub-scores", parts=parts), feat
    dir_ = STRESS if score > dm["upper"] else (-STRESS if score < dm["lower"] else 0)
    sig = Signal("FISCAL_BR_DOMINANCE_RISK", FX, dir_, abs(score - 50.0) / 50.0 if dir_ else 0.0,
                 score, 252, {"parts": parts, "mapping": fired_branch(
                     dir_, f"dominance risk high: score {score:.0f} above {dm['upper']:g} "
                     "-> long USDBRL (+1)",
                     f"dominance risk low: score {score:.0f} below {dm['lower']:g} "
                     "-> short USDBRL (-1)",
                     f"dominance score {score:.0f} between {dm['lower']:g} and {dm['upper']:g} "
                     "-> no position (0)")})
    return sig, feat


def run_fiscal(data: SilverData, params: Mapping[str, Any]) -> tuple[list[Signal], list[Feature]]:
    """All fiscal models as of ``data.date`` (``params`` is the ``agents`` subtree)."""
    p = params["fiscal"]
    d = data.ts
    sig: dict[str, Signal] = {}
    debt = _monthly(data.macro("br_gross_debt_gdp"))
    net_debt = _monthly(data.macro("br_net_debt_gdp"))
    deficit = _monthly(data.macro("br_primary_balance_gdp"))
    focus12 = data.macro_last("focus_ipca_12m")
    g_focus = data.macro_last("focus_gdp_cy0")
    di5 = data.curve_last("DI_PRE", "1260du")
    selic = data.macro_last("br_selic_target")
    target = target_at(d + pd.DateOffset(years=1), params["inflation_target"])
    d0 = float(debt.iloc[-1])
    pd0 = float(deficit.iloc[-1])
    r_real = (1.0 + di5) / (1.0 + focus12) - 1.0
    g = g_focus
    feats = [
        Feature("gross_debt_gdp", d0, "share of GDP"),
        Feature("net_debt_gdp", float(net_debt.iloc[-1]), "share of GDP"),
        Feature("primary_deficit_gdp", pd0, "share of GDP, 12-month flow; positive = deficit"),
        Feature("r_real_5y", r_real, "decimal per year: (1 + DI 5Y)/(1 + Focus IPCA 12m) - 1"),
        Feature("g_real", g, "decimal per year: Focus GDP current year"),
        Feature("r_minus_g", r_real - g, "decimal per year"),
        Feature("selic_real_ex_ante", selic - focus12, "decimal per year"),
    ]
    sig["dsa"], f = dsa_signal(d0, r_real, g, pd0, len(deficit.dropna()), p["dsa"])
    feats += f
    sig["impulse"], f, trend = impulse_signal(deficit, p["impulse"])
    feats += f
    sig["dominance"], f_dom = dominance_signal(d0, r_real - g, trend, abs(focus12 - target), p["dominance"])
    feats.append(f_dom)
    cp = p["composite"]
    comp = composite_signal("FISCAL_BR_COMPOSITE", FX, 252, sig, cp["weights"],
                            min_disagree=cp["min_disagree"], damper=params["damper"])
    return [*sig.values(), comp], feats
