"""Portfolio steps: ``portfolio_optimization`` (Black-Litterman + cvxpy) and ``portfolio_sizing``.

Both are stateless functions of the session's inputs. Parameters come from the ``portfolio:``
config subtree (``config/config.yaml``), over :data:`DEFAULT_CONFIG`.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from brmacro.desk.book import MarketData
from brmacro.desk.contracts import contract_for
from brmacro.desk.steps import desk_config, desk_tables
from brmacro.instruments import INSTRUMENTS, by_name, di1_dv01, di1_pu
from brmacro.io import frame
from brmacro.pipeline import Context, InputMissing
from brmacro.portfolio.black_litterman import black_litterman, omega_from_confidence, prior_returns, view_return
from brmacro.portfolio.optimizer import ledoit_wolf_cov, mean_variance, returns_matrix
from brmacro.portfolio.schemas import COVARIANCE, OPTIM, SIZING, SOLVE, VIEWS
from brmacro.portfolio.sizing import (
    apply_caps,
    book_vol,
    flat_forward_rate,
    half_kelly,
    risk_budget_weights,
    vol_target_scale,
    zn_price,
)

__all__ = ["DEFAULT_CONFIG", "portfolio_config", "portfolio_optimization", "portfolio_sizing"]

DEFAULT_CONFIG: dict[str, Any] = {
    "universe": [i.name for i in INSTRUMENTS],
    "cov_window": 252,
    "min_obs": 126,
    "periods_per_year": 252,
    "delta": 2.5,
    "tau": 0.05,
    "prior": "zero",
    "prior_ref_vol": 0.10,
    "ic": 0.05,
    "z_scale": 2.0,
    "min_abs_conviction": 0.05,
    "clarity_floor": 0.2,
    "omega_eps": 1.0e-6,
    "use_cross_asset_views": False,
    "cross_asset_view_instruments": {
        "rates_br": "DI1_2Y", "fx": "USDBRL", "equity_br": "IBOV", "rates_us": "UST_10Y", "equity_us": "SPX",
    },
    "bounds": {
        "DI1_1Y": [-5.0, 5.0], "DI1_2Y": [-3.0, 3.0], "DI1_5Y": [-1.5, 1.5], "DI1_10Y": [-1.0, 1.0],
        "USDBRL": [-0.5, 0.5], "IBOV": [-0.5, 0.5], "UST_10Y": [-1.0, 1.0], "SPX": [-0.5, 0.5],
    },
    "gross_leverage": 8.0,
    "class_caps": {"rates_br": 6.0, "fx": 0.5, "equity_br": 0.5, "rates_us": 1.0, "equity_us": 0.5},
    "solver": "CLARABEL",
    "sizing": {
        "method": "vol_target",
        "target_vol": 0.10,
        "kelly_fraction": 0.5,
        "soft_limit_conviction": 0.8,
        "soft_limit_factor": 1.2,
        "limit_headroom": 0.98,
        "risk_budget": "conviction",
    },
    "contracts": {"zn_coupon": 0.06, "zn_years": 10.0},
}


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(dict(base))
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping) and k not in ("bounds",):
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def portfolio_config(params: Mapping[str, Any]) -> dict[str, Any]:
    """The ``portfolio`` subtree of a step's params over :data:`DEFAULT_CONFIG`."""
    cfg = _merge(DEFAULT_CONFIG, params.get("portfolio") or {})
    for name in cfg["universe"]:
        by_name(name)
        if name not in cfg["bounds"]:
            raise ValueError(f"portfolio.bounds: no bounds for {name}")
    return cfg


def covariance(ctx: Context, cfg: Mapping[str, Any]) -> tuple[np.ndarray, int]:
    """Ledoit-Wolf daily covariance of the universe over the last ``cov_window`` sessions."""
    x = returns_matrix(ctx.table("silver_returns"), cfg["universe"], ctx.date, int(cfg["cov_window"]))
    if len(x) < int(cfg["min_obs"]):
        raise InputMissing(
            f"{ctx.asset} {ctx.date}: silver_returns has {len(x)} complete sessions of returns for "
            f"{cfg['universe']}, {cfg['min_obs']} needed for the covariance"
        )
    return ledoit_wolf_cov(x.to_numpy(float)), len(x)


def _views(ctx: Context, cfg: Mapping[str, Any], sigma: np.ndarray) -> list[dict[str, Any]]:
    names = list(cfg["universe"])
    agg = ctx.table("signal_aggregation").set_index("instrument")
    view = ctx.table("agent_cross_asset", "view")
    if view.empty:
        raise InputMissing(f"portfolio_optimization {ctx.date}: agent_cross_asset view is empty (regime clarity)")
    vrow = view.sort_values("date").iloc[-1]
    clarity = float(vrow["regime_clarity"])
    floor = float(cfg["clarity_floor"])
    scale = floor + (1.0 - floor) * clarity
    z_scale = float(cfg["z_scale"])
    out = []
    for i, name in enumerate(names):
        if name not in agg.index:
            continue
        r = agg.loc[name]
        conv = float(r["conviction"])
        if abs(conv) <= float(cfg["min_abs_conviction"]) or int(r["direction"]) == 0:
            continue
        out.append({"view_id": f"AGG:{name}", "instrument": name, "source": "signal_aggregation", "index": i,
                    "z": conv * z_scale, "confidence": float(r["confidence"]), "adj_confidence":
                    float(r["confidence"]) * scale})
    if cfg["use_cross_asset_views"]:
        raw = json.loads(vrow["views"] or "{}")
        mapping = cfg["cross_asset_view_instruments"]
        for key in sorted(raw):
            v = raw[key]
            if not isinstance(v, Mapping):
                continue
            inst = v.get("instrument") or mapping.get(key) or key  # the view's own instrument first
            if inst not in names:
                ctx.log.info("cross-asset view %r maps to no instrument of the universe; skipped", key)
                continue
            d, c = int(v.get("direction", 0)), float(v.get("confidence", 0.0))
            if d == 0 or c <= 0:
                continue
            out.append({"view_id": f"XA:{key}", "instrument": inst, "source": "agent_cross_asset",
                        "index": names.index(inst), "z": d * c * z_scale, "confidence": c,
                        "adj_confidence": c * scale})
    vol = np.sqrt(np.diag(sigma))
    for v in out:
        v["q"] = float(view_return(float(cfg["ic"]), vol[v["index"]], v["z"]))
    return out


def portfolio_optimization(ctx: Context) -> dict[str, pd.DataFrame]:
    """Black-Litterman posterior and constrained mean-variance targets.

    Tables: ``part`` (per instrument), ``solve`` (one row), ``views`` (one per view) and
    ``covariance`` (the daily Ledoit-Wolf Σ used, long format).
    """
    cfg = portfolio_config(ctx.params)
    names = list(cfg["universe"])
    n = len(names)
    sigma, n_obs = covariance(ctx, cfg)
    delta, tau = float(cfg["delta"]), float(cfg["tau"])
    pi = prior_returns(sigma, delta, cfg["prior"], float(cfg["prior_ref_vol"]), int(cfg["periods_per_year"]))
    views = _views(ctx, cfg, sigma)
    P = np.zeros((len(views), n))
    for k, v in enumerate(views):
        P[k, v["index"]] = 1.0
    Q = np.array([v["q"] for v in views], float)
    conf = np.array([v["adj_confidence"] for v in views], float)
    omega = omega_from_confidence(sigma, P, conf, tau, float(cfg["omega_eps"])) if views else np.zeros((0, 0))
    for k, v in enumerate(views):
        v["omega"] = float(omega[k, k])
    post = black_litterman(sigma, pi, P, Q, omega, tau)
    lo = np.array([cfg["bounds"][x][0] for x in names], float)
    hi = np.array([cfg["bounds"][x][1] for x in names], float)
    groups = {}
    for cls, cap in sorted(cfg["class_caps"].items()):
        groups[cls] = ([i for i, x in enumerate(names) if by_name(x).asset_class == cls], float(cap))
    res = mean_variance(post.mu, sigma + post.cov_mean, delta, lo, hi, float(cfg["gross_leverage"]), groups,
                        solver=str(cfg["solver"]), periods_per_year=int(cfg["periods_per_year"]))
    ctx.log.info("optimiser %s: status %s in %.3f s (fallback=%s %s)", res.solver, res.status, res.seconds,
                 res.fallback, res.reason)
    agg_q = {v["instrument"]: v["q"] for v in views if v["source"] == "signal_aggregation"}
    part = [{
        "date": ctx.date, "instrument": x, "asset_class": by_name(x).asset_class,
        "target_weight": float(res.weights[i]), "prior_return": float(pi[i]), "posterior_return": float(post.mu[i]),
        "view_q": agg_q.get(x), "vol": float(np.sqrt(sigma[i, i] * cfg["periods_per_year"])),
        "lower": float(lo[i]), "upper": float(hi[i]),
    } for i, x in enumerate(names)]
    solve = [{
        "date": ctx.date, "status": res.status, "objective": res.objective, "solver": res.solver,
        "fallback": res.fallback, "fallback_reason": res.reason, "n_views": len(views), "n_obs": n_obs,
        "delta": delta, "tau": tau, "prior": str(cfg["prior"]),
        "ex_ante_vol": book_vol(res.weights, sigma, int(cfg["periods_per_year"])),
        "gross": float(np.abs(res.weights).sum()),
    }]
    vrows = [{"date": ctx.date, **{k: v[k] for k in ("view_id", "instrument", "source", "z", "q", "confidence",
                                                      "adj_confidence", "omega")}} for v in views]
    cov = [{"date": ctx.date, "instrument_a": a, "instrument_b": b, "cov": float(sigma[i, j])}
           for i, a in enumerate(names) for j, b in enumerate(names)]
    return {"part": frame(part, OPTIM), "solve": frame(solve, SOLVE), "views": frame(vrows, VIEWS),
            "covariance": frame(cov, COVARIANCE)}


# --------------------------------------------------------------------------- sizing

def _ptax(ctx: Context) -> float:
    px = ctx.table("silver_returns", "prices")
    px = px[(px["series"] == "ptax:USDBRL") & (pd.to_datetime(px["date"]).dt.date <= ctx.date)]
    if px.empty:
        raise InputMissing(f"portfolio_sizing {ctx.date}: silver_returns.prices has no ptax:USDBRL")
    return float(px.sort_values("date")["value"].iloc[-1])


def _level(ctx: Context, name: str) -> float:
    r = ctx.table("silver_returns")
    r = r[(r["instrument"] == name) & (pd.to_datetime(r["date"]).dt.date <= ctx.date)]
    if r.empty:
        raise InputMissing(f"portfolio_sizing {ctx.date}: silver_returns has no level for {name}")
    return float(r.sort_values("date")["level"].iloc[-1])


def _di_curve(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    c = ctx.table("silver_curves")
    c = c[(c["curve"] == "DI_PRE") & (pd.to_datetime(c["date"]).dt.date == ctx.date)]
    if c.empty:
        raise InputMissing(f"portfolio_sizing {ctx.date}: silver_curves has no DI_PRE curve on the session")
    return c["tenor_du"].to_numpy(float), c["rate"].to_numpy(float)


def contract_row(ctx: Context, name: str, notional_brl: float, cfg: Mapping[str, Any],
                 cache: dict[str, Any]) -> tuple[str, float, float]:
    """(contract ticker, unrounded signed contracts, dv01 in BRL per bp fall) of one position."""
    inst = by_name(name)
    d: dt.date = ctx.date
    if "b3" not in cache:
        cache["b3"] = ctx.table("bronze_b3_market_data")
    contract = contract_for(inst, d, cache["b3"], desk_config(ctx.params))  # the desk's one contract choice
    ticker = contract.code
    if inst.kind == "di1":
        if "di" not in cache:
            cache["di"] = _di_curve(ctx)
        tenors, rates = cache["di"]
        n = int(contract.du or 0)
        r = flat_forward_rate(tenors, rates, n)
        pu = float(di1_pu(r, n))
        k = notional_brl / pu
        return ticker, k, float(k * di1_dv01(r, n))
    if inst.kind == "fx":
        return ticker, notional_brl / (inst.multiplier * cache["ptax"]), 0.0
    if inst.kind == "equity_br":
        return ticker, notional_brl / (inst.multiplier * _level(ctx, name)), 0.0
    if inst.kind == "ust":
        price = zn_price(_level(ctx, name), float(cfg["contracts"]["zn_coupon"]), float(cfg["contracts"]["zn_years"]))
        k = notional_brl / cache["ptax"] / (inst.multiplier * price)
        return ticker, k, notional_brl * inst.duration * 1e-4
    if inst.kind == "equity_us":
        k = notional_brl / cache["ptax"] / (inst.multiplier * _level(ctx, name))
        return ticker, k, 0.0
    raise ValueError(f"no contract rule for {name} ({inst.kind})")


def limit_scale(w: np.ndarray, dv01_brl: np.ndarray, limits: Mapping[str, Any], headroom: float = 1.0) -> float:
    """The factor (≤ 1) that brings the whole book within the risk limits it is sized against.

    The limits are those ``risk_limits`` checks (one source of truth, config ``risk.limits``): gross
    leverage (``max_gross_leverage``, NAV multiples) and total rates DV01 (``dv01_brl_per_bp``, BRL per bp,
    on the absolute DV01 of every rates position). Scaling the whole book keeps the optimiser's mix. A book
    above a limit is brought to ``headroom`` times it, so contract rounding cannot tip it over.
    """
    scale = 1.0
    gross = float(np.abs(w).sum())
    if "max_gross_leverage" in limits and gross > float(limits["max_gross_leverage"]):
        scale = min(scale, headroom * float(limits["max_gross_leverage"]) / gross)
    dv01 = float(np.abs(dv01_brl).sum())
    if "dv01_brl_per_bp" in limits and dv01 > float(limits["dv01_brl_per_bp"]):
        scale = min(scale, headroom * float(limits["dv01_brl_per_bp"]) / dv01)
    return scale


def portfolio_sizing(ctx: Context) -> dict[str, pd.DataFrame]:
    """Size the optimiser's targets into the model book (SIZING rows, one per instrument)."""
    cfg = portfolio_config(ctx.params)
    sz = cfg["sizing"]
    method = str(sz["method"])
    names = list(cfg["universe"])
    opt = ctx.table("portfolio_optimization").set_index("instrument")
    cov = ctx.table("portfolio_optimization", "covariance")
    missing = [x for x in names if x not in opt.index]
    if missing:
        raise InputMissing(f"portfolio_sizing {ctx.date}: portfolio_optimization has no target for {missing}")
    sigma = cov.pivot(index="instrument_a", columns="instrument_b", values="cov").loc[names, names].to_numpy(float)
    agg = ctx.table("signal_aggregation").set_index("instrument")
    conv = np.array([float(agg["conviction"].get(x, 0.0)) for x in names])
    target = opt.loc[names, "target_weight"].to_numpy(float)
    lo = opt.loc[names, "lower"].to_numpy(float)
    hi = opt.loc[names, "upper"].to_numpy(float)
    soft = np.abs(conv) > float(sz["soft_limit_conviction"])
    f = np.where(soft, float(sz["soft_limit_factor"]), 1.0)
    lo_c, hi_c = lo * f, hi * f
    for x in np.array(names)[soft & (target != 0)]:
        ctx.log.warning("soft limit override for %s: |conviction| > %s, cap x%s", x, sz["soft_limit_conviction"],
                        sz["soft_limit_factor"])
    gross, tv, ppy = float(cfg["gross_leverage"]), float(sz["target_vol"]), int(cfg["periods_per_year"])
    if method == "vol_target":
        w = target * vol_target_scale(target, sigma, tv, gross, ppy)
    elif method == "half_kelly":
        mu = opt.loc[names, "posterior_return"].to_numpy(float)
        w = half_kelly(mu, sigma, float(sz["kelly_fraction"]))
    elif method == "risk_budget":
        budgets = np.abs(conv) if (sz["risk_budget"] == "conviction" and np.any(np.abs(conv[target != 0]) > 0)) \
            else np.ones(len(names))
        base = risk_budget_weights(sigma, np.sign(target), budgets * (target != 0))
        w = base * vol_target_scale(base, sigma, tv, gross, ppy)
    else:
        raise ValueError(f"portfolio.sizing.method: unknown method {method!r} (vol_target | half_kelly | risk_budget)")
    w = apply_caps(w, lo_c, hi_c, gross)
    w = np.where(np.abs(w) < 1e-12, 0.0, np.round(w, 12))
    ctx.log.info("sized book (%s): ex-ante vol %.4f, gross %.3f", method, book_vol(w, sigma, ppy), np.abs(w).sum())
    nav = float(ctx.params["nav_brl"])
    cache: dict[str, Any] = {"ptax": _ptax(ctx)}
    books = [contract_row(ctx, x, float(w[i] * nav), cfg, cache) for i, x in enumerate(names)]
    scale = limit_scale(w, np.array([b[2] for b in books]), ctx.params.get("risk", {}).get("limits", {}),
                        float(sz["limit_headroom"]))
    if scale < 1.0:
        ctx.log.warning("book scaled by %.4f to respect the risk limits on gross leverage and DV01", scale)
        w = np.where(np.abs(w * scale) < 1e-12, 0.0, np.round(w * scale, 12))
        books = [contract_row(ctx, x, float(w[i] * nav), cfg, cache) for i, x in enumerate(names)]
    rows = []
    for i, x in enumerate(names):
        notional = float(w[i] * nav)
        ticker, k, dv01 = books[i]
        rows.append({
            "date": ctx.date, "instrument": x, "asset_class": by_name(x).asset_class,
            "target_weight": float(target[i]), "weight": float(w[i]), "notional_brl": notional, "contract": ticker,
            "contracts": float(np.rint(k)) + 0.0, "dv01_brl": round(float(dv01), 6),
            "vol": float(np.sqrt(sigma[i, i] * ppy)), "method": method,
        })
    md = MarketData(cache["b3"] if "b3" in cache else ctx.table("bronze_b3_market_data"), ctx.table("silver_returns"),
                    ctx.table("silver_returns", "prices"), float(cfg["contracts"]["zn_coupon"]),
                    float(cfg["contracts"]["zn_years"]))
    return {"part": frame(rows, SIZING), **desk_tables(ctx, rows, md)}  # the desk's held book, orders, breaker
