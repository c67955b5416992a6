"""Portfolio steps: ``portfolio_optimization`` (Black-Litterman + cvxpy) and ``portfolio_sizing``.

Both are stateless functions of the session's inputs. Parameters come from the ``portfolio:``
config subtree (``config/config.yaml``; declared in :mod:`brmacro.params.portfolio`). ``docs/portfolio.md`` explains
the construction: one covariance (:mod:`brmacro.covariance`), horizon-consistent views, the cost term,
the limits sizing enforces (:mod:`brmacro.portfolio.limits`) and each position's ``origin``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from brmacro.covariance import CovarianceError, annual_vols, returns_matrix, shrunk_covariance
from brmacro.desk.book import MarketData
from brmacro.desk.contracts import contract_for
from brmacro.desk.steps import desk_config, desk_tables
from brmacro.errors import InputMissing
from brmacro.instruments import by_name, di1_dv01, di1_pu
from brmacro.io import dates_on, dates_on_or_before, frame, holds_date_objects
from brmacro.params import resolve, section
from brmacro.params import value as param
from brmacro.pipeline import Context
from brmacro.portfolio.black_litterman import black_litterman, omega_from_confidence, prior_returns, view_return
from brmacro.portfolio.costs import cost_fractions
from brmacro.portfolio.execution import execution_settings
from brmacro.portfolio.limits import book_limits, check_book, scale_caps, share_caps, share_limit, var_value
from brmacro.portfolio.optimizer import mean_variance
from brmacro.portfolio.schemas import BOOK, COVARIANCE, OPTIM, SIZING, SOLVE, VIEWS
from brmacro.portfolio.sizing import (
    book_vol,
    first_passing_step,
    flat_forward_rate,
    half_kelly,
    parity_within_caps,
    risk_budget_weights,
    shrink_guess,
    zn_price,
)

__all__ = ["portfolio_config", "portfolio_optimization", "portfolio_sizing"]

def portfolio_config(params: Mapping[str, Any]) -> dict[str, Any]:
    """The ``portfolio`` section of a step's params (declared defaults for keys not given), checked."""
    cfg = section(params, "portfolio")
    for name in cfg["universe"]:
        by_name(name)
        if name not in cfg["bounds"]:
            raise ValueError(f"portfolio.bounds: no bounds for {name}")
        lo, hi = (float(x) for x in cfg["bounds"][name])
        if not (np.isfinite(lo) and np.isfinite(hi)) or lo > hi:
            raise ValueError(f"portfolio.bounds.{name}: lower {lo} must not exceed upper {hi} (both finite)")
        if name not in cfg["costs"]:
            raise ValueError(f"portfolio.costs: no cost for {name}")
    if cfg["hedges"] not in ("allow", "forbid"):
        raise ValueError(f"portfolio.hedges: {cfg['hedges']!r} is not allow | forbid")
    checks = {  # library-side guards: a sign error here would invert or silently void the book
        "sizing.target_vol": (cfg["sizing"]["target_vol"], 0.0, False),
        "sizing.kelly_fraction": (cfg["sizing"]["kelly_fraction"], 0.0, False),
        "sizing.limit_headroom": (cfg["sizing"]["limit_headroom"], 0.0, False),
        "view_horizon_sessions": (cfg["view_horizon_sessions"], 1.0, True),
        "max_view_sharpe": (cfg["max_view_sharpe"], 0.0, False),
        "cost_aversion": (cfg["cost_aversion"], 0.0, True),
        "cost_holding_sessions": (cfg["cost_holding_sessions"], 1.0, True),
    }
    for key, (value, low, inclusive) in checks.items():
        v = float(value)
        if not np.isfinite(v) or v < low or (v == low and not inclusive):
            raise ValueError(f"portfolio.{key}: {value!r} must be a finite number {'>=' if inclusive else '>'} {low:g}")
    execution_settings(cfg)
    for name in cfg["universe"]:
        for k in ("ticks", "fee"):
            v = float(cfg["costs"][name][k])
            if not np.isfinite(v) or v < 0:
                raise ValueError(f"portfolio.costs.{name}.{k}: {v!r} must be a finite number >= 0")
    return cfg


def covariance(ctx: Context, cfg: Mapping[str, Any]) -> tuple[np.ndarray, int]:
    """The project's covariance (:func:`brmacro.covariance.shrunk_covariance`) of the universe's daily returns
    over the last ``cov_window`` complete sessions up to the session."""
    names = list(cfg["universe"])
    mat = returns_matrix(ctx.table("silver_returns"), ctx.date)
    missing = [i for i in names if i not in mat.columns]
    if missing:
        raise InputMissing(f"{ctx.asset} {ctx.date}: silver_returns has no returns for {missing}")
    x = mat.loc[:, names].dropna().iloc[-int(cfg["cov_window"]):]
    if len(x) < int(cfg["min_obs"]):
        raise InputMissing(
            f"{ctx.asset} {ctx.date}: silver_returns has {len(x)} complete sessions of returns for "
            f"{cfg['universe']}, {cfg['min_obs']} needed for the covariance"
        )
    try:
        return shrunk_covariance(x.to_numpy(float), names, cfg.get("vol_halflife"))[0], len(x)
    except CovarianceError as exc:
        raise CovarianceError(f"{ctx.asset} {ctx.date}: silver_returns: {exc}") from None


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
        try:
            ids = sorted({str(c["signal_id"]) for c in json.loads(r["contributions"] or "[]")
                          if isinstance(c, Mapping) and c.get("signal_id")})
        except (TypeError, ValueError):
            ids = []
        out.append({"view_id": f"AGG:{name}", "instrument": name, "source": "signal_aggregation", "index": i,
                    "z": conv * z_scale, "confidence": float(r["confidence"]), "adj_confidence":
                    float(r["confidence"]) * scale, "strategies": ids})
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
                        "adj_confidence": c * scale, "strategies": [f"XA:{key}"]})
    vol = np.sqrt(np.diag(sigma))
    ppy, h = int(cfg["periods_per_year"]), float(cfg["view_horizon_sessions"])
    cap = float(cfg["max_view_sharpe"])
    for v in out:
        q = float(view_return(float(cfg["ic"]), vol[v["index"]], v["z"], h))
        sharpe = q * ppy / (vol[v["index"]] * np.sqrt(ppy))
        if abs(sharpe) > cap:  # no single view may imply a Sharpe above the cap
            q *= cap / abs(sharpe)
            sharpe = float(np.sign(sharpe) * cap)
        v["q"], v["annual_return"], v["sharpe"] = q, q * ppy, float(sharpe)
    return out


def _origins(names: list[str], w: np.ndarray, views: list[dict[str, Any]], sigma: np.ndarray,
             cfg: Mapping[str, Any]) -> list[str]:
    """Why each position exists: its views' strategy ids, or the viewed position it hedges through Σ."""
    by_inst: dict[str, list[str]] = {}
    for v in views:
        by_inst.setdefault(v["instrument"], []).extend(v["strategies"] or [v["view_id"]])
    viewed = [i for i, x in enumerate(names) if x in by_inst and w[i] != 0]
    out = []
    for i, x in enumerate(names):
        if w[i] == 0:
            if x in by_inst:
                out.append("flat: view outweighed by its cost, risk or other views")
            else:
                out.append("flat: hedges forbidden" if cfg["hedges"] == "forbid" and viewed else "flat")
        elif x in by_inst:
            out.append("views: " + ", ".join(sorted(set(by_inst[x]))))
        elif viewed:
            j = max(viewed, key=lambda k: abs(sigma[i, k] * w[k]) / np.sqrt(sigma[k, k]))
            out.append(f"covariance hedge of {names[j]}")
        else:
            out.append("prior (no view)")
    return out


def reference_book(ctx: Context, cfg: Mapping[str, Any], names: list[str]) -> tuple[np.ndarray, str]:
    """The reference book of the optimiser's cost term, and what it is (``docs/portfolio.md`` §3).

    The desk's positions of the session (``positions/date=<D>/positions.{csv,parquet}``, an optional input from
    outside the graph, read and checked by :func:`brmacro.desk.positions.read_positions`), as weights by
    :func:`brmacro.desk.book.book_weights_of` (DI1 contracts DV01-matched to the nearest point, others notional /
    NAV) — the book the session's orders start from. Without a file: the flat book, and the text says so.
    Held instruments outside the universe are left out of the reference (logged).
    """
    from brmacro.desk.book import book_weights_of
    from brmacro.desk.positions import read_positions
    from brmacro.desk.steps import positions_of

    path = positions_of(ctx).get(ctx.date)
    if path is None:
        return np.zeros(len(names)), f"flat (no positions file for {ctx.date.isoformat()})"
    b3 = ctx.table("bronze_b3_market_data")
    held = read_positions(path, ctx.date, b3)
    md = MarketData(b3, ctx.table("silver_returns"), ctx.table("silver_returns", "prices"),
                    float(cfg["contracts"]["zn_coupon"]), float(cfg["contracts"]["zn_years"]))
    _, per_inst = book_weights_of(held, ctx.date, md, float(ctx.params["nav_brl"]))
    w = per_inst.set_index("instrument")["weight"].astype(float)
    outside = sorted(str(i) for i, v in w.items() if v != 0 and i not in names)
    if outside:
        ctx.log.warning("held instruments outside portfolio.universe left out of the reference book: %s", outside)
    return w.reindex(names).fillna(0.0).to_numpy(float), f"desk positions {path}"


def portfolio_optimization(ctx: Context) -> dict[str, pd.DataFrame]:
    """Black-Litterman posterior and constrained mean-variance targets.

    Tables: ``part`` (per instrument), ``solve`` (one row), ``views`` (one per view) and
    ``covariance`` (the daily Σ of :mod:`brmacro.covariance` used, long format).
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
    side: dict[str, float] = {}
    for v in views:
        side[v["instrument"]] = side.get(v["instrument"], 0.0) + float(np.sign(v["z"]))
    for i, x in enumerate(names):
        if x not in side:
            if cfg["hedges"] == "forbid" and lo[i] <= 0.0 <= hi[i]:  # no view: held at zero (a mandate stays)
                lo[i], hi[i] = 0.0, 0.0
        elif side[x] > 0:  # never against the instrument's own view (agreeing views; spill-over cannot flip it)
            lo[i] = max(lo[i], 0.0) if hi[i] >= 0 else lo[i]
        elif side[x] < 0:
            hi[i] = min(hi[i], 0.0) if lo[i] <= 0 else hi[i]
    groups = {}
    for cls, cap in sorted(cfg["class_caps"].items()):
        groups[cls] = ([i for i, x in enumerate(names) if by_name(x).asset_class == cls], float(cap))
    ppy = int(cfg["periods_per_year"])
    split: dict[str, Any] = {}
    frac = cost_fractions(names, {x: _level(ctx, x, split) for x in names}, _ptax(ctx), cfg["costs"])
    cost = float(cfg["cost_aversion"]) * frac / float(cfg["cost_holding_sessions"])  # amortised per session
    ref, reference = reference_book(ctx, cfg, names)
    res = mean_variance(post.mu, sigma + post.cov_mean, delta, lo, hi, float(cfg["gross_leverage"]), groups,
                        solver=str(cfg["solver"]), periods_per_year=ppy, ref=ref, cost=cost)
    ctx.log.info("optimiser %s: status %s in %.3f s (fallback=%s %s)", res.solver, res.status, res.seconds,
                 res.fallback, res.reason)
    agg_q = {v["instrument"]: v["q"] for v in views if v["source"] == "signal_aggregation"}
    vols = annual_vols(sigma, ppy)
    origin = (["flat: optimiser fallback (" + res.reason + ")"] * n if res.fallback
              else _origins(names, res.weights, views, sigma, cfg))
    part = [{
        "date": ctx.date, "instrument": x, "asset_class": by_name(x).asset_class,
        "target_weight": float(res.weights[i]), "prior_return": float(pi[i]), "posterior_return": float(post.mu[i]),
        "view_q": agg_q.get(x), "vol": float(vols[i]),
        "lower": float(lo[i]), "upper": float(hi[i]), "cost": float(frac[i]), "reference_weight": float(ref[i]),
        "origin": origin[i],
    } for i, x in enumerate(names)]
    solve = [{
        "date": ctx.date, "status": res.status, "objective": res.objective, "solver": res.solver,
        "fallback": res.fallback, "fallback_reason": res.reason, "n_views": len(views), "n_obs": n_obs,
        "delta": delta, "tau": tau, "prior": str(cfg["prior"]),
        "ex_ante_vol": book_vol(res.weights, sigma, int(cfg["periods_per_year"])),
        "gross": float(np.abs(res.weights).sum()), "reference": reference,
    }]
    vrows = [{"date": ctx.date, **{k: v[k] for k in ("view_id", "instrument", "source", "z", "q", "annual_return",
                                                      "sharpe", "confidence", "adj_confidence", "omega")},
              "strategies": ", ".join(v["strategies"])} for v in views]
    cov = [{"date": ctx.date, "instrument_a": a, "instrument_b": b, "cov": float(sigma[i, j])}
           for i, a in enumerate(names) for j, b in enumerate(names)]
    return {"part": frame(part, OPTIM), "solve": frame(solve, SOLVE), "views": frame(vrows, VIEWS),
            "covariance": frame(cov, COVARIANCE)}


# --------------------------------------------------------------------------- sizing

def _ptax(ctx: Context) -> float:
    px = ctx.table("silver_returns", "prices")
    sub = px[px["series"] == "ptax:USDBRL"]  # the series first: the dates compared are then only its own
    if holds_date_objects(sub["date"]):  # datetime.date objects: converted one by one, whatever the other rows
        px = sub[dates_on_or_before(sub["date"], ctx.date)]
    else:
        px = px[(px["series"] == "ptax:USDBRL") & dates_on_or_before(px["date"], ctx.date)]
    if px.empty:
        raise InputMissing(f"{ctx.asset} {ctx.date}: silver_returns.prices has no ptax:USDBRL")
    return float(px.sort_values("date")["value"].iloc[-1])


def _level(ctx: Context, name: str, cache: dict[str, Any]) -> float:
    """The last level of ``name`` dated on or before the session in ``silver_returns``.

    The rows are those of ``r[(r["instrument"] == name) & dates_on_or_before(r["date"], ctx.date)]``, taken from
    one split of the table's rows up to the session by instrument (rows in table order, index kept), made once
    per ``cache`` (a step's questions share it) instead of two whole-table comparisons and a copy per question.
    """
    if "levels" not in cache:
        r = ctx.table("silver_returns")
        r = r.loc[dates_on_or_before(r["date"], ctx.date)]
        arrays = (r["instrument"].to_numpy(), r["date"].to_numpy(), r["level"].to_numpy()) \
            if holds_date_objects(r["date"]) else None
        cache["levels"] = (r, arrays, None)
    table, arrays, split = cache["levels"]
    if arrays is not None and type(name) is str:
        last = _last_level(arrays[0], arrays[1], arrays[2], name)
        if last is not None:
            return last
    if split is None:
        split = dict(iter(table.groupby("instrument", sort=False)))
        cache["levels"] = (table, arrays, split)
    r = split.get(name, table.iloc[:0])
    if r.empty:
        raise InputMissing(f"{ctx.asset} {ctx.date}: silver_returns has no level for {name}")
    return float(r.sort_values("date")["level"].iloc[-1])


def _last_level(inst: np.ndarray, dates: np.ndarray, levels: np.ndarray, name: str) -> float | None:
    """The level of ``name``'s row with the latest date (``datetime.date`` objects), when that date is on one row
    only: the row ``sort_values("date")`` puts last whatever its sort's tie order. None (the pandas path) when the
    instrument has no row or its latest date repeats."""
    rows = np.flatnonzero(inst == name)
    if not len(rows):
        return None
    d = dates[rows]
    top = max(d)
    at = rows[d == top]
    if len(at) != 1:
        return None
    return float(levels[at[0]])


def _di_curve(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    c = ctx.table("silver_curves")
    sub = c[c["curve"] == "DI_PRE"]  # the curve first: the dates compared are then only its own (as in _ptax)
    if holds_date_objects(sub["date"]):
        c = sub[dates_on(sub["date"], ctx.date)]
    else:
        c = c[(c["curve"] == "DI_PRE") & dates_on(c["date"], ctx.date)]
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
        return ticker, notional_brl / (inst.multiplier * _level(ctx, name, cache)), 0.0
    if inst.kind == "ust":
        price = zn_price(_level(ctx, name, cache), float(cfg["contracts"]["zn_coupon"]),
                         float(cfg["contracts"]["zn_years"]))
        k = notional_brl / cache["ptax"] / (inst.multiplier * price)
        return ticker, k, notional_brl * inst.duration * 1e-4
    if inst.kind == "equity_us":
        k = notional_brl / cache["ptax"] / (inst.multiplier * _level(ctx, name, cache))
        return ticker, k, 0.0
    raise ValueError(f"no contract rule for {name} ({inst.kind})")


def _returns_matrix(ctx: Context, cache: dict[str, Any]) -> pd.DataFrame:
    """``returns_matrix(ctx.table("silver_returns"), ctx.date)``, made once per ``cache`` (the sizing's VaR measures
    and its reshaping window read it; select_window and compute_var only read it)."""
    if "returns_matrix" not in cache:
        cache["returns_matrix"] = returns_matrix(ctx.table("silver_returns"), ctx.date)
    mat: pd.DataFrame = cache["returns_matrix"]
    return mat


def _risk_window(ctx: Context, names: list[str], rcfg: Mapping[str, Any], cache: dict[str, Any]) -> np.ndarray:
    """The covariance ``risk_var`` will use for the book (same window rule and estimator), for reshaping."""
    from brmacro.risk.var import select_window

    p = resolve("risk.var", rcfg.get("var"))
    mat = _returns_matrix(ctx, cache)
    win = select_window(mat, pd.Series(1.0, index=names), ctx.date, int(p["window"]))
    return shrunk_covariance(win.returns.to_numpy(float), names)[0]


def _measure_var(ctx: Context, w: np.ndarray, names: list[str], rcfg: Mapping[str, Any], lim: Any,
                 cache: dict[str, Any]) -> tuple[dict[float, float], np.ndarray]:
    """The book's VaR as ``risk_limits`` measures it and each position's share of parametric VaR (``risk_var``)."""
    from brmacro.risk.var import compute_var

    if not np.any(w):
        return dict.fromkeys(lim.var, 0.0), np.zeros(len(w))
    est, comp = compute_var(ctx.table("silver_returns"), pd.Series(w, index=names), ctx.date, rcfg.get("var"),
                            matrix=_returns_matrix(ctx, cache))
    vt = pd.DataFrame([{"method": e.method, "confidence": e.confidence, "var": e.var} for e in est])
    shares = comp.set_index("instrument")["pct_contribution"].reindex(names).fillna(0.0).to_numpy(float)
    return {c: var_value(vt, c, lim.var_method) for c in lim.var}, shares


def reshape_for_risk_budget(w: np.ndarray, sigma: np.ndarray, classes: list[str], position_cap: float,
                            class_cap: float, iterations: int = 60) -> tuple[np.ndarray, bool]:
    """Shrink the positions (and classes) whose share of parametric VaR exceeds its cap, keeping the others.

    Iterative scaling: while some position's share ``s_i = w_i (Σw)_i / wᵀΣw`` exceeds ``position_cap``,
    multiply ``w_i`` by ``0.99 · position_cap / s_i``; likewise every member of a class whose summed share
    exceeds ``class_cap``. Shares are scale-free, so the caller rescales the book to its target afterwards. Signs are
    never changed; a book that cannot meet the caps (e.g. a single position, whose share is always 1) comes
    back with ``False``.

    Returns
    -------
    (weights, ok)
    """
    x = np.asarray(w, float).copy()
    cls = np.asarray(classes)
    for _ in range(iterations):
        var = float(x @ sigma @ x)
        if var <= 0:
            return x, True
        s = x * (sigma @ x) / var
        worst_pos = s > position_cap
        csum = {c: float(s[cls == c].sum()) for c in set(classes)}
        worst_cls = {c: v for c, v in csum.items() if v > class_cap}
        if not worst_pos.any() and not worst_cls:
            return x, True
        f = np.ones(len(x))
        f[worst_pos] = 0.99 * position_cap / s[worst_pos]  # aim 1 % inside the cap: no slow asymptotic approach
        for c, v in worst_cls.items():
            f[cls == c] = np.minimum(f[cls == c], 0.99 * class_cap / v)
        x = x * f
    var = float(x @ sigma @ x)
    s = x * (sigma @ x) / var if var > 0 else np.zeros(len(x))
    ok = bool(np.all(s <= position_cap + 1e-9)) and all(
        float(s[cls == c].sum()) <= class_cap + 1e-9 for c in set(classes))
    return x, ok


SHRINK_STEP = 0.99  # the rounded book shrinks by 1 % steps until every limit holds
SHRINK_STEPS = 100


def rounded_book(w: np.ndarray, per_w: np.ndarray) -> np.ndarray:
    """The weights of ``w`` rounded to whole contracts (``per_w`` contracts per unit of weight; 0: not traded)."""
    return np.where(per_w != 0, np.rint(w * per_w) / np.where(per_w != 0, per_w, 1.0), 0.0)


def fit_rounded(w: np.ndarray, per_w: np.ndarray, dv01_w: np.ndarray, lim: Any,
                measure: Any) -> tuple[np.ndarray, list[str]]:
    """The largest book ``w · 0.99**m`` (``m < 100``) whose rounding to contracts meets every limit.

    ``measure(weights) -> (var by confidence, shares of parametric VaR)`` is the VaR ``risk_var`` will measure
    (:func:`brmacro.risk.var.compute_var`, the expensive part). The search is
    :func:`brmacro.portfolio.sizing.first_passing_step`: the unshrunk book first, then the closed-form guess
    from the homogeneous limits it breaks (gross, class exposure, DV01 and VaR scale linearly with the book,
    for every ``var_method``: historical, parametric and Monte Carlo with a fixed seed), then bisection — the
    same book as shrinking 1 % at a time whenever a smaller book never breaks what a larger one meets.

    Returns
    -------
    (weights, broken)
        The rounded book (``broken`` empty), or the unshrunk rounded book and what it breaks when no step passes.
    """
    results: dict[int, tuple[np.ndarray, list[str]]] = {}
    ratio = [1.0]

    def passes(m: int) -> bool:
        if m not in results:
            wr = rounded_book(w * SHRINK_STEP ** m, per_w)
            var, shares = measure(wr)
            results[m] = (wr, check_book(wr, wr * dv01_w, lim, var, shares))
            if m == 0:  # the closed form: how far the homogeneous limits the rounded book breaks are exceeded
                ratio[0] = min([1.0, *(k for _n, k in scale_caps(wr, dv01_w, lim, var))])
        return not results[m][1]

    m = 0 if passes(0) else first_passing_step(passes, SHRINK_STEPS, shrink_guess(ratio[0], SHRINK_STEP))
    if m is None:
        return results[0]
    wr = results[m][0]
    return np.where(np.abs(wr) < 1e-12, 0.0, np.round(wr, 12)), []


def small_book_note(lim: Any, n_pos: int, n_cls: int) -> str:
    """The reason's clause when a book is too small for the share-of-VaR limits (:func:`share_limit`), else ''."""
    out = []
    p = share_limit(lim.rc_position, lim.rc_position_by_size, n_pos)
    if n_pos and p != lim.rc_position:
        out.append(f"{n_pos} position{'s' if n_pos > 1 else ''}: share-of-VaR limit {p * 100:.0f} % per position "
                   f"({lim.rc_position * 100:.0f} % needs {math.ceil(1 / lim.rc_position - 1e-9)} or more)")
    c = share_limit(lim.rc_class, lim.rc_class_by_size, n_cls)
    if n_cls and c != lim.rc_class:
        out.append(f"{n_cls} asset class{'es' if n_cls > 1 else ''}: share-of-VaR limit {c * 100:.0f} % per class "
                   f"({lim.rc_class * 100:.0f} % needs {math.ceil(1 / lim.rc_class - 1e-9)} or more)")
    return "".join(f"; {x}" for x in out)


def _words(binding: str, vol: float, target: float) -> str:
    what = {
        "vol_target": "sized to the volatility target",
        "gross": "sized to the gross-leverage limit",
        "dv01": "sized to the DV01 limit",
        "var_95": "sized to the 95 % VaR limit",
        "var_99": "sized to the 99 % VaR limit",
        "kelly": "sized by fractional Kelly",
        "flat_fallback": "flat: the optimiser fell back to the flat book",
        "flat_no_view": "flat: no view",
    }
    if binding.startswith("class_cap:"):
        head = f"sized to the {binding.split(':', 1)[1]} class cap"
    elif binding.startswith("bound:"):
        head = f"sized to the {binding.split(':', 1)[1]} position limit"
    elif binding.startswith("risk_contribution"):
        head = f"flat: no book meets the risk-contribution limits ({binding.split(':', 1)[-1]})"
    else:
        head = what.get(binding, binding)
    if binding.startswith(("flat", "risk_contribution")):
        return f"{head}: 0.0 % vol against a {target * 100:.1f} % target"
    return f"{head}: {vol * 100:.1f} % vol against a {target * 100:.1f} % target"


def portfolio_sizing(ctx: Context) -> dict[str, pd.DataFrame]:
    """Size the optimiser's targets into the model book: SIZING rows (one per instrument) and the BOOK row.

    The optimiser's targets give the book's shape; sizing (1) reads the optimiser's fallback flag (a
    fallback gives the flat book), (2) reshapes the book until no position and no asset class carries more
    than its share of parametric VaR (:func:`reshape_for_risk_budget`, on the covariance ``risk_var`` uses),
    (3) scales the whole book by the one factor that meets the volatility target and every homogeneous
    limit (:func:`brmacro.portfolio.limits.scale_caps`; the smallest names the ``binding`` constraint),
    (4) rounds to whole contracts and checks every limit again on the rounded book (VaR and shares measured
    exactly as ``risk_var`` measures them), shrinking by 1 % steps until it passes.
    """
    cfg = portfolio_config(ctx.params)
    sz = cfg["sizing"]
    method = str(sz["method"])
    if method not in ("vol_target", "half_kelly", "risk_budget"):
        raise ValueError(f"portfolio.sizing.method: unknown method {method!r} (vol_target | half_kelly | risk_budget)")
    names = list(cfg["universe"])
    n = len(names)
    opt = ctx.table("portfolio_optimization").set_index("instrument")
    solve = ctx.table("portfolio_optimization", "solve")
    cov = ctx.table("portfolio_optimization", "covariance")
    missing = [x for x in names if x not in opt.index]
    if missing:
        raise InputMissing(f"portfolio_sizing {ctx.date}: portfolio_optimization has no target for {missing}")
    sigma = cov.pivot(index="instrument_a", columns="instrument_b", values="cov").loc[names, names].to_numpy(float)
    agg = ctx.table("signal_aggregation").set_index("instrument")
    conv = np.array([float(agg["conviction"].get(x, 0.0)) for x in names])
    target = opt.loc[names, "target_weight"].to_numpy(float)
    origin = [str(o) for o in opt.loc[names, "origin"]]
    rcfg = {"var": section(ctx.params, "risk.var"), "limits": section(ctx.params, "risk.limits")}
    soft = np.abs(conv) > float(sz["soft_limit_conviction"])
    widen = np.where(soft & (target != 0), float(sz["soft_limit_factor"]), 1.0)
    for x in np.array(names)[soft & (target != 0)]:
        ctx.log.warning("soft limit override for %s: |conviction| > %s, cap x%s (within risk.limits)", x,
                        sz["soft_limit_conviction"], sz["soft_limit_factor"])
    bcfg = {**cfg, "bounds": {x: [float(opt.loc[x, "lower"]), float(opt.loc[x, "upper"])] for x in names}}
    lim = book_limits(names, bcfg, rcfg["limits"], widen)
    tv, ppy, head = float(sz["target_vol"]), int(cfg["periods_per_year"]), float(sz["limit_headroom"])
    nav = float(param(ctx.params, "nav_brl"))
    cache: dict[str, Any] = {"ptax": _ptax(ctx)}
    unit = [contract_row(ctx, x, nav, cfg, cache) for x in names]  # per 1 x NAV of notional
    per_w = np.array([u[1] for u in unit])  # contracts per unit of weight
    dv01_w = np.array([u[2] for u in unit])  # BRL/bp per unit of weight
    fallback = bool(solve["fallback"].iloc[0]) if len(solve) else False
    reference = str(solve["reference"].iloc[0]) if len(solve) else "flat"
    ref_words = ("desk's positions" if reference.startswith("desk positions") else
                 "flat book: no positions file (the cost term's reference, docs/portfolio.md)")

    def finish(w: np.ndarray, binding: str, origins: list[str], note: str = "") -> dict[str, pd.DataFrame]:
        vol = book_vol(w, sigma, ppy)
        contracts = np.rint(w * per_w) + 0.0
        rows = []
        for i, x in enumerate(names):
            rows.append({
                "date": ctx.date, "instrument": x, "asset_class": by_name(x).asset_class,
                "target_weight": float(target[i]), "weight": float(w[i]), "notional_brl": float(w[i] * nav),
                "contract": unit[i][0], "contracts": float(contracts[i]), "dv01_brl": round(float(w[i] * dv01_w[i]), 6),
                "vol": float(np.sqrt(sigma[i, i] * ppy)), "method": method, "origin": origins[i],
            })
        book = [{"date": ctx.date, "binding": binding, "ex_ante_vol": vol, "target_vol": tv,
                 "reason": _words(binding, vol, tv) + note + f"; costs charged from the {ref_words}",
                 "gross": float(np.abs(w).sum()), "dv01_brl": float(np.abs(w * dv01_w).sum()), "method": method,
                 "reference": reference}]
        ctx.log.info("sized book (%s): %s", method, book[0]["reason"])
        md = MarketData(cache["b3"], ctx.table("silver_returns"), ctx.table("silver_returns", "prices"),
                        float(cfg["contracts"]["zn_coupon"]), float(cfg["contracts"]["zn_years"]))
        # the desk's held book, orders against it and the circuit breaker (brmacro.desk)
        execution = execution_settings(cfg)  # the backtest's rule
        return {"part": frame(rows, SIZING), "book": frame(book, BOOK), **desk_tables(ctx, rows, md, execution)}

    if fallback:
        reason = str(solve["fallback_reason"].iloc[0])
        ctx.log.warning("optimiser fallback (%s): the sized book is flat", reason)
        return finish(np.zeros(n), "flat_fallback", [f"flat: optimiser fallback ({reason})"] * n)
    if not np.any(target):
        return finish(np.zeros(n), "flat_no_view", origin)

    # the book's shape
    if method == "half_kelly":
        mu = opt.loc[names, "posterior_return"].to_numpy(float)
        shape = half_kelly(mu, sigma, float(sz["kelly_fraction"]))
        shape = np.where(target == 0, 0.0, shape)  # a position the optimiser does not hold is not sized
    elif method == "risk_budget":
        budgets = np.abs(conv) if (sz["risk_budget"] == "conviction" and np.any(np.abs(conv[target != 0]) > 0)) \
            else np.ones(n)
        shape = risk_budget_weights(sigma, np.sign(target), budgets * (target != 0))
    else:
        shape = target.copy()
    classes: list[str] = [by_name(x).asset_class for x in names]
    risk_sigma = _risk_window(ctx, names, rcfg, cache)
    rc_pos, rc_cls, n_pos, n_cls = share_caps(lim, shape)
    cap_pos, cap_cls = rc_pos * head if rc_pos < 1 else rc_pos, rc_cls * head if rc_cls < 1 else rc_cls
    reshaped, ok = reshape_for_risk_budget(shape, risk_sigma, classes, cap_pos, cap_cls,
                                           int(sz["max_reshape_iterations"]))
    if not ok:  # positions hedging one another can defeat the scaling: the risk-parity book may still meet the caps
        parity = parity_within_caps(risk_sigma, np.sign(shape), classes, cap_pos, cap_cls)
        if parity is not None:
            ctx.log.info("iterative scaling did not meet the share-of-VaR limits; the risk-parity book does")
            reshaped, ok = parity, True
    shape = reshaped
    note = small_book_note(lim, n_pos, n_cls)
    if not ok:
        held = ", ".join(x for x, v in zip(names, shape, strict=True) if v != 0)
        ctx.log.warning("no book of %s meets the risk-contribution limits: flat", held)
        return finish(np.zeros(n), f"risk_contribution:{held}",
                      [f"flat: no book meets the risk-contribution limits ({held})"] * n)

    def size(sh: np.ndarray) -> tuple[np.ndarray, str]:
        var1, _ = _measure_var(ctx, sh, names, rcfg, lim, cache)
        caps = [(k, f * (1.0 if k.startswith(("bound", "class_cap")) else head))
                for k, f in scale_caps(sh, dv01_w, lim, var1)]
        own = ("kelly", 1.0) if method == "half_kelly" else ("vol_target", tv / max(book_vol(sh, sigma, ppy), 1e-300))
        name, k = min([own, *caps], key=lambda t: (t[1], t[0]))
        return sh * k, name

    w, binding = size(shape)
    w, broken = fit_rounded(w, per_w, dv01_w, lim, lambda wr: _measure_var(ctx, wr, names, rcfg, lim, cache))
    if broken:
        raise ValueError(f"portfolio_sizing {ctx.date}: no rounded book meets the limits ({'; '.join(broken)})")
    _p, _c, n_pos, n_cls = share_caps(lim, w)
    note = small_book_note(lim, n_pos, n_cls)
    origins = [o if w[i] != 0 else ("flat: rounds to zero contracts" if target[i] != 0 else o)
               for i, o in enumerate(origin)]
    return finish(w, binding, origins, note)
