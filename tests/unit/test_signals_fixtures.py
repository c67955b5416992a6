"""Fabricated silver / agent frames in the exact upstream schemas, shared by the signal and portfolio tests.

The generator is seeded, so every test sees the same market. The tests at the bottom check the
frames conform to the declared schemas (so the fixtures cannot silently drift from them).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd

from brmacro.agents.schemas import AGENTS_SCHEMAS
from brmacro.calendar import previous_sessions
from brmacro.instruments import INSTRUMENTS
from brmacro.io import write_table
from brmacro.pipeline import AGENTS, Context
from brmacro.silver.schemas import SILVER_SCHEMAS

ASOF = dt.date(2026, 11, 23)  # Monday after the 2026-11-20 B3 holiday
N_SESSIONS = 700

BR_TENORS = (21, 63, 126, 252, 504, 756, 1260, 2520)
US_TENORS = {"3M": 0.25, "1Y": 1.0, "2Y": 2.0, "5Y": 5.0, "10Y": 10.0, "30Y": 30.0}
PRICE_SERIES = ("ptax:USDBRL", "yahoo:^VIX", "yahoo:^BVSP", "yahoo:^GSPC", "yahoo:DX-Y.NYB", "yahoo:CL=F",
                "yahoo:GC=F", "yahoo:HG=F", "yahoo:ZS=F", "yahoo:EWZ", "yahoo:BRL=X")


def sessions(asof: dt.date = ASOF, n: int = N_SESSIONS) -> list[dt.date]:
    return [*previous_sessions(asof, n - 1), asof]


def silver(asof: dt.date = ASOF, seed: int = 7) -> dict[str, dict[str, pd.DataFrame]]:
    """Silver tables (curves, returns, macro) over ``N_SESSIONS`` sessions ending at ``asof``."""
    rng = np.random.default_rng(seed)
    days = sessions(asof)
    n = len(days)
    # curves: DI level + slope factors
    lvl = 0.12 + np.cumsum(rng.normal(0, 0.0008, n))
    slope = 0.01 + np.cumsum(rng.normal(0, 0.0003, n))
    real = 0.06 + np.cumsum(rng.normal(0, 0.0004, n))
    ust = 0.04 + np.cumsum(rng.normal(0, 0.0005, n))
    rows = []
    for i, d in enumerate(days):
        for du in BR_TENORS:
            t = du / 252
            di = lvl[i] + slope[i] * (1 - np.exp(-t / 2))
            rr = real[i] + 0.3 * slope[i] * (1 - np.exp(-t / 2))
            rows += [(d, "DI_PRE", f"{du}du", du, t, di), (d, "BR_REAL", f"{du}du", du, t, rr),
                     (d, "BR_BEI", f"{du}du", du, t, (1 + di) / (1 + rr) - 1)]
        for lab, t in US_TENORS.items():
            u = ust[i] + 0.004 * (1 - np.exp(-t / 3))
            rows += [(d, "UST_NOM", lab, int(round(t * 252)), t, u),
                     (d, "UST_REAL", lab, int(round(t * 252)), t, u - 0.022),
                     (d, "US_BEI", lab, int(round(t * 252)), t, 0.022)]
            if lab in ("1Y", "2Y", "5Y", "10Y"):
                di = lvl[i] + slope[i] * (1 - np.exp(-t / 2))
                rows.append((d, "DI_UST_SPREAD", lab, int(round(t * 252)), t, di - u))
    curves = pd.DataFrame(rows, columns=SILVER_SCHEMAS["silver_curves"]["part"].names)
    slopes = pd.DataFrame({"date": [asof], "name": ["DI_2s5s"], "value": [0.01]})
    ns = SILVER_SCHEMAS["silver_curves"]["ns_params"].empty()
    # returns matrix: correlated daily returns, levels
    vols = {"DI1_1Y": 0.006, "DI1_2Y": 0.015, "DI1_5Y": 0.045, "DI1_10Y": 0.08, "USDBRL": 0.15, "IBOV": 0.22,
            "UST_10Y": 0.07, "SPX": 0.17}
    k = len(vols)
    a = rng.normal(0, 1, (k, k))
    corr = np.corrcoef(a @ a.T + 3 * np.eye(k))
    sd = np.array(list(vols.values())) / np.sqrt(252)
    cov = corr * np.outer(sd, sd)
    r = rng.multivariate_normal(np.zeros(k), cov, n)
    recs = []
    for j, name in enumerate(vols):
        ret = pd.Series(r[:, j].copy())
        ret.iloc[0] = np.nan
        if name.startswith("DI1_"):
            level = pd.Series(lvl + 0.002 * j)
        elif name == "UST_10Y":
            level = pd.Series(ust + 0.004)
        else:
            base = {"USDBRL": 5.2, "IBOV": 125_000.0, "SPX": 5_800.0}[name]
            level = pd.Series(base * np.cumprod(1 + r[:, j]))
        df = pd.DataFrame({"date": days, "instrument": name, "level": level, "ret": ret})
        for w in (21, 63, 252):
            df[f"vol_{w}"] = ret.rolling(w).std() * np.sqrt(252)
        df["z_252"] = (level - level.rolling(252).mean()) / level.rolling(252).std(ddof=0)
        recs.append(df)
    returns = pd.concat(recs, ignore_index=True)
    px = []
    usd = returns[returns["instrument"] == "USDBRL"]["level"].to_numpy()
    for s in PRICE_SERIES:
        v = usd if s in ("ptax:USDBRL", "yahoo:BRL=X") else 100 * np.cumprod(1 + rng.normal(0, 0.012, n))
        px.append(pd.DataFrame({"date": days, "series": s, "value": v}))
    px.append(pd.DataFrame({"date": days, "series": "cdi:daily", "value": 0.0004}))
    prices = pd.concat(px, ignore_index=True)
    # macro: monthly observations over 8 years, released with a lag
    months = pd.date_range(asof - dt.timedelta(days=8 * 365), asof, freq="MS")
    mrows = []

    def add(name: str, vals: np.ndarray, lag: int) -> None:
        for m, v in zip(months, vals, strict=True):
            rel = (m + pd.offsets.MonthEnd(0) + pd.Timedelta(days=lag)).date()
            if rel <= asof:
                mrows.append((name, m.date(), float(v), rel))

    nm = len(months)
    add("br_ipca_yoy", 0.045 + np.cumsum(rng.normal(0, 0.002, nm)), 12)
    add("focus_ipca_12m", 0.04 + np.cumsum(rng.normal(0, 0.001, nm)), 1)
    add("focus_selic_cy0", 0.11 + np.cumsum(rng.normal(0, 0.002, nm)), 1)
    add("focus_selic_cy1", 0.10 + np.cumsum(rng.normal(0, 0.002, nm)), 1)
    add("br_output_gap", rng.normal(0, 0.01, nm), 50)
    add("br_ibc_br", 140 * np.cumprod(1 + rng.normal(0.001, 0.006, nm)), 50)
    add("us_cpi", 300 * np.cumprod(1 + rng.normal(0.0025, 0.002, nm)), 14)
    add("br_gross_debt_gdp", 0.75 + np.cumsum(rng.normal(0.001, 0.003, nm)), 35)
    add("br_selic_target", 0.11 + np.cumsum(rng.normal(0, 0.002, nm)), 0)
    add("us_fed_funds", 0.045 + np.cumsum(rng.normal(0, 0.001, nm)), 1)
    add("us_sofr", 0.045 + np.cumsum(rng.normal(0, 0.001, nm)), 1)
    macro = pd.DataFrame(mrows, columns=SILVER_SCHEMAS["silver_macro"]["part"].names)
    return {
        "silver_curves": {"part": curves, "ns_params": ns, "slopes": slopes},
        "silver_returns": {"part": returns, "prices": prices},
        "silver_macro": {"part": macro},
    }


def agents(asof: dt.date = ASOF, probs: tuple[float, float, float, float] = (0.55, 0.25, 0.15, 0.05),
           ) -> dict[str, dict[str, pd.DataFrame]]:
    """Agent signal tables (one composite + one component each) and the cross-asset view."""
    plan = {
        "agent_inflation": ("INFLATION", "DI1_2Y", -1, 0.6),
        "agent_monetary_policy": ("MONETARY", "DI1_1Y", 1, 0.7),
        "agent_fiscal": ("FISCAL", "DI1_10Y", -1, 0.4),
        "agent_fx_equilibrium": ("FX", "USDBRL", -1, 0.5),
        "agent_cross_asset": ("CROSS_ASSET", "IBOV", 1, 0.5),
    }
    out: dict[str, dict[str, pd.DataFrame]] = {}
    for asset, (name, inst, d, c) in plan.items():
        sig = pd.DataFrame([
            {"date": asof, "agent": name.lower(), "signal_id": f"{name}_COMPOSITE", "instrument": inst, "direction": d,
             "strength": "MODERATE", "confidence": c, "value": 0.01, "horizon": 21, "is_composite": True,
             "drivers": "{}"},
            {"date": asof, "agent": name.lower(), "signal_id": f"{name}_SUB", "instrument": inst, "direction": -d,
             "strength": "WEAK", "confidence": 0.3, "value": None, "horizon": 21, "is_composite": False,
             "drivers": "{}"},
        ])
        feats = AGENTS_SCHEMAS[asset]["features"].empty()
        out[asset] = {"part": sig, "features": feats}
    pmax = max(probs)
    regimes = ("goldilocks", "reflation", "stagflation", "deflation")
    view = pd.DataFrame([{
        "date": asof, "regime": regimes[int(np.argmax(probs))],
        **{f"p_{r}": p for r, p in zip(regimes, probs, strict=True)},
        "regime_clarity": (pmax - 0.25) / 0.75, "tail_risk_score": 30.0, "tail_risk_grade": "moderate",
        "sentiment_index": None,
        "views": json.dumps({"equity_br": {"direction": 1, "confidence": 0.6, "instrument": "IBOV", "rationale": "x"},
                             "rates_us": {"direction": -1, "confidence": 0.5, "instrument": "", "rationale": "x"},
                             "nonsense_class": {"direction": 1, "confidence": 0.6, "rationale": "x"}}),
        "key_trades": "[]", "consistency_issues": "[]",
    }])
    out["agent_cross_asset"]["view"] = view
    return out


def write_inputs(tmp: Path, tables: dict[str, dict[str, pd.DataFrame]],
                 asof: dt.date = ASOF) -> dict[str, dict[str, Path]]:
    """Write fabricated tables as schema-checked artifacts; returns asset -> table -> path."""
    from brmacro.pipeline import all_schemas

    paths: dict[str, dict[str, Path]] = {}
    for asset, tabs in tables.items():
        for name, df in tabs.items():
            p = tmp / asset / f"date={asof}" / f"{name}.parquet"
            write_table(df, p, all_schemas()[asset][name], asof=asof, source="demo")
            paths.setdefault(asset, {})[name] = p
    return paths


def context(tmp: Path, asset: str, tables: dict[str, dict[str, pd.DataFrame]], params: dict, asof: dt.date = ASOF,
            prev: dict | None = None) -> Context:
    return Context(asset=asset, date=asof, params={"nav_brl": 100e6, "source": "demo", **params},
                   inputs=write_inputs(tmp, tables, asof), prev=prev or {})


# ----------------------------------------------------------------------------- fixture self-checks

def test_fabricated_silver_and_agents_conform_to_their_schemas() -> None:
    from brmacro.pipeline import all_schemas

    tabs = {**silver(), **agents()}
    for asset, t in tabs.items():
        for name, df in t.items():
            all_schemas()[asset][name].conform(df)
    assert set(AGENTS) <= set(tabs)
    assert set(tabs["silver_returns"]["part"]["instrument"]) == {i.name for i in INSTRUMENTS}
