"""FX-equilibrium agent: BEER fair value and carry-to-risk for USDBRL.

Direction mapping (price convention, instrument USDBRL): BRL *undervalued* (USDBRL above its
fair value) -> **short USDBRL (-1)**; BRL carry-to-risk unusually high -> **short USDBRL (-1)**.

Entries held (``agents.fx_equilibrium.hold_entries``, issue 18): both models fire when a score crosses a
threshold, and a score hovering around it switched USDBRL's composite on and off (three flips of the book in
2024 Q1 of the demo). An entry is then held for the model's horizon while the score keeps its sign
(:func:`brmacro.holding.held_signal`, the rule of the strategies and the cross-asset regime score), from the past
scores recomputed from the session's own inputs: the carry z on each earlier session over its own window, the
BEER misalignment of each earlier session's spot against *today's* fitted fair value at that session's
regressors (the same model throughout the hold, and one fit per session).

Dropped models (no data source, DOMAIN A1/A7): the flow model (BCB FX flows, CFTC positioning)
and the CIP basis (cupom cambial needs DDI/FRC futures, which no bronze source carries here).
Neither is replaced by a proxy.
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
    monthly_last,
    ols,
    z_of_last,
)
from brmacro.agents.data import SilverData
from brmacro.holding import held_signal

__all__ = ["beer_fit", "beer_misalignment_path", "beer_signal", "carry_signal", "run_fx"]

FX = "USDBRL"
BRL_CHEAP = -1  # USDBRL above fair value -> short USDBRL
BEER_HORIZON = 252
CARRY_HORIZON = 63


def _held_text(k: int, held: float, fmt: str) -> str:
    return f", entry {k} sessions ago held at {held:{fmt}}" if k else ""


def beer_fit(
    log_fx: pd.Series, regressors: pd.DataFrame, x_now: pd.Series, *, min_obs: int
) -> dict[str, Any]:
    """BEER: OLS of monthly log USDBRL on fundamentals, evaluated at today's regressors.

    Returns
    -------
    dict
        ``fair`` (USDBRL, NaN when fewer than ``min_obs`` complete months), ``coef``, ``nobs``, ``r2``.
    """
    panel = pd.concat([log_fx.rename("__y"), regressors], axis=1, join="inner").dropna()
    if len(panel) < min_obs or x_now.isna().any():
        return {"fair": float("nan"), "coef": {}, "nobs": len(panel), "r2": float("nan")}
    res = ols(panel["__y"].to_numpy(), panel[list(regressors.columns)].to_numpy())
    xv = np.concatenate([[1.0], x_now[list(regressors.columns)].to_numpy(dtype=float)])
    coef = dict(zip(["const", *regressors.columns], res.coef.tolist(), strict=True))
    return {"fair": float(np.exp(xv @ res.coef)), "coef": coef, "nobs": res.nobs, "r2": res.r2}


def beer_signal(data: SilverData, fx: pd.Series, b: Mapping[str, Any], hold: bool = False
                ) -> tuple[Signal, list[Feature]]:
    """The BEER model: :func:`beer_fit` of monthly log USDBRL (``fx``, daily) on the terms-of-trade proxy (mean log
    price of ``tot_series``), the BR-US real 5Y rate difference, log reserves and log DXY; spot above fair value
    by more than ``threshold`` (BRL cheap) -> short USDBRL, below -> long. With ``hold``, an entry is held for
    :data:`BEER_HORIZON` sessions (module docstring, :func:`beer_misalignment_path`)."""
    spot = float(fx.iloc[-1])
    daily: dict[str, pd.Series] = {}
    comm = [np.log(data.price(s)) for s in b["tot_series"]]
    daily["tot_proxy"] = pd.concat(comm, axis=1).mean(axis=1, skipna=False)
    daily["real_rate_diff"] = data.curve("BR_REAL", "1260du") - data.curve("UST_REAL", "5Y")
    daily["log_reserves"] = np.log(data.macro("br_reserves"))
    daily["log_dxy"] = np.log(data.price("yahoo:DX-Y.NYB"))
    monthly = pd.concat({k: monthly_last(v) for k, v in daily.items()}, axis=1)
    x_now = pd.Series({k: float(v.dropna().iloc[-1]) if v.notna().any() else np.nan for k, v in daily.items()})
    fit = beer_fit(np.log(monthly_last(fx)), monthly, x_now, min_obs=b["min_obs"])
    feats: list[Feature] = []
    for k, v in x_now.items():
        feats.append(Feature(f"beer_{k}", float(v), {"tot_proxy": "mean log price of " + ", ".join(b["tot_series"]),
                                                      "real_rate_diff": "decimal, BR_REAL 5Y - UST_REAL 5Y",
                                                      "log_reserves": "log USD million",
                                                      "log_dxy": "log index"}[str(k)]))
    if not math.isfinite(fit["fair"]):
        feats += [Feature("beer_fair", None, "not computable: too few months"),
                  Feature("beer_misalignment", None, "not computable")]
        return Signal.gap("FX_BR_BEER", FX, 252, f"fewer than {b['min_obs']} complete months ({fit['nobs']})"), feats
    mis = spot / fit["fair"] - 1.0
    path = [*beer_misalignment_path(fx, daily, fit["coef"], BEER_HORIZON)[:-1], mis] if hold else [mis]
    dir_, conf, held, k = held_signal(path, b["threshold"], b["conf_scale"], BEER_HORIZON)
    why = f"USDBRL {mis:+.1%}" + _held_text(k, held, "+.1%")
    sig = Signal("FX_BR_BEER", FX, BRL_CHEAP * dir_, conf, mis, BEER_HORIZON,
                 {"fair": fit["fair"], "spot": spot, "coef": fit["coef"], "nobs": fit["nobs"],
                  "r2": fit["r2"], "held_sessions": k, "held_misalignment": held, "mapping": fired_branch(
                      BRL_CHEAP * dir_, f"{why} below fair {fit['fair']:.3f} (BRL rich) -> long USDBRL (+1)",
                      f"{why} above fair {fit['fair']:.3f} (BRL cheap) -> short USDBRL (-1)",
                      f"{why} from fair {fit['fair']:.3f}, within ±{b['threshold']:.1%} -> no position (0)")})
    feats += [Feature("beer_fair", fit["fair"], "BRL per USD"), Feature("beer_misalignment", mis, "decimal")]
    return sig, feats


def beer_misalignment_path(fx: pd.Series, daily: Mapping[str, pd.Series], coef: Mapping[str, float], n: int
                           ) -> list[float]:
    """The misalignment ``spot / fair - 1`` on the last ``n`` sessions of ``fx``, oldest first, against the fair
    value of the fitted ``coef`` (``const`` and one per regressor of ``daily``) at each session's regressors (their
    last values on or before it; NaN where one is missing): the past of :func:`beer_signal`'s score for the hold."""
    last = fx.iloc[-n:]
    x = pd.concat(list(daily.values()), axis=1, keys=list(daily)).sort_index().ffill()
    x = x.reindex(x.index.union(last.index)).ffill().reindex(last.index)
    names = [k for k in coef if k != "const"]
    log_fair = coef["const"] + x[names].to_numpy(dtype=float) @ np.array([coef[k] for k in names], dtype=float)
    out: list[float] = (last.to_numpy(dtype=float) / np.exp(log_fair) - 1.0).tolist()
    return out


def carry_signal(data: SilverData, c: Mapping[str, Any], hold: bool = False) -> tuple[Signal, list[Feature]]:
    """The carry-to-risk model: (DI 1Y - SOFR) / the 63-session USDBRL vol, z-scored over ``lookback`` sessions
    (the history must reach the session and hold ``min_obs``); z above ``z_fire`` -> short USDBRL (carry pays for
    its risk), below minus it -> long. With ``hold``, an entry is held for :data:`CARRY_HORIZON` sessions, from the z
    of each earlier session over its own ``lookback`` (module docstring)."""
    di1 = data.curve("DI_PRE", "252du")
    span = c["lookback"] + (CARRY_HORIZON - 1 if hold else 0)
    idx = pd.DatetimeIndex(di1.index)[-span:]
    sofr = data.macro_asof("us_sofr", idx)
    vol = data.returns(FX)["vol_63"].reindex(idx)
    carry = di1.reindex(idx) - sofr
    ratio_all = (carry / vol).replace([np.inf, -np.inf], np.nan)
    r = ratio_all.to_numpy(dtype=float)
    ratio = ratio_all.iloc[-c["lookback"]:].dropna()
    feats = [Feature("carry", float(carry.iloc[-1]), "decimal per year, DI 1Y - SOFR"),
             Feature("usdbrl_vol_63", float(vol.iloc[-1]) if math.isfinite(vol.iloc[-1]) else None,
                     "annualised vol of USDBRL excess returns")]
    first = max(0, len(r) - (CARRY_HORIZON if hold else 1))
    zs = [_carry_z(r, e, c["lookback"], c["min_obs"]) for e in range(first, len(r))]
    z = zs[-1]
    feats += [Feature("carry_to_risk", float(ratio.iloc[-1]) if len(ratio) else None, "ratio (carry / vol)"),
              Feature("carry_to_risk_z", z, f"z over {len(ratio)} sessions" if math.isfinite(z) else
                      "not computable: too short history")]
    if not math.isfinite(z):
        return Signal.gap("FX_BR_CARRY_RISK", FX, CARRY_HORIZON, f"fewer than {c['min_obs']} sessions of carry/vol"
                          ), feats
    dir_, conf, held, k = held_signal(zs, c["z_fire"], c["conf_scale"], CARRY_HORIZON)
    why = f"z {z:+.2f}" + _held_text(k, held, "+.2f")
    sig = Signal("FX_BR_CARRY_RISK", FX, -dir_, conf, float(ratio.iloc[-1]), CARRY_HORIZON,
                 {"z": z, "carry": float(carry.iloc[-1]), "vol_63": float(vol.iloc[-1]), "held_sessions": k,
                  "held_z": held, "mapping": fired_branch(
                      -dir_, f"carry-to-risk low: {why} below -{c['z_fire']:g} -> long USDBRL (+1)",
                      f"carry-to-risk high: {why} above {c['z_fire']:g} -> short USDBRL (-1)",
                      f"carry-to-risk {why} within ±{c['z_fire']:g} -> no position (0)")})
    return sig, feats


def _carry_z(r: np.ndarray, end: int, lookback: int, min_obs: int) -> float:
    """z (sample std) of the carry-to-risk ratio at position ``end`` of ``r`` against the ``lookback`` sessions
    ending there; NaN when the ratio is missing at ``end``, fewer than ``min_obs`` are finite, or no dispersion."""
    w = r[max(0, end - lookback + 1): end + 1]
    return z_of_last(w[np.isfinite(w)], min_obs) if math.isfinite(r[end]) else math.nan


def run_fx(data: SilverData, params: Mapping[str, Any]) -> tuple[list[Signal], list[Feature]]:
    """All FX models as of ``data.date`` (``params`` is the ``agents`` subtree)."""
    p = params["fx_equilibrium"]
    sig: dict[str, Signal] = {}
    fx = data.usdbrl().dropna()
    spot = float(fx.iloc[-1])
    feats = [Feature("usdbrl_spot", spot, "BRL per USD (PTAX)")]
    yoy = fx / fx.shift(252) - 1.0
    feats.append(Feature("usdbrl_change_252", float(yoy.iloc[-1]) if math.isfinite(yoy.iloc[-1]) else None,
                         "decimal, change over 252 observations"))
    sig["beer"], f = beer_signal(data, fx, p["beer"], p["hold_entries"])
    feats += f
    sig["carry"], f = carry_signal(data, p["carry"], p["hold_entries"])
    feats += f
    cp = p["composite"]
    comp = composite_signal("FX_BR_COMPOSITE", FX, 252, sig, cp["weights"],
                            min_disagree=cp["min_disagree"], damper=params["damper"])
    return [*sig.values(), comp], feats
