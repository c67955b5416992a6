"""Constructed upstream artifacts for the report/alert tests (frames in the upstream schemas).

Every frame is built with each schema's ``.names`` so the tests break when a schema changes.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from brmacro.calendar import previous_sessions
from brmacro.io import write_table
from brmacro.pipeline import STEPS, Context
from brmacro.report.inputs import schemas_of

SESSION = dt.date(2025, 6, 10)
HOSTILE = "<script>alert(1)</script>{{7*7}}{% x %}"

RISK_PARAMS: dict[str, Any] = {
    "limits": {"var_95": 0.03, "var_99": 0.05, "max_drawdown": 0.10},
    "alerts": {"drawdown_warning": 0.05, "conviction_surge": 0.30, "signal_flip_count": 1,
               "stale_data_sessions": {"default": 2, "bronze_bcb_focus": 6}},
}
INSTRUMENTS = ("DI1_1Y", "DI1_2Y", "DI1_5Y", "DI1_10Y", "USDBRL", "IBOV", "UST_10Y", "SPX")
CLASSES = {"DI1_1Y": "rates_br", "DI1_2Y": "rates_br", "DI1_5Y": "rates_br", "DI1_10Y": "rates_br",
           "USDBRL": "fx", "IBOV": "equity_br", "UST_10Y": "rates_us", "SPX": "equity_us"}


def _f(asset: str, table: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    names = schemas_of(asset)[table].names
    return pd.DataFrame.from_records(rows, columns=names) if rows else schemas_of(asset)[table].empty()


def sessions(n: int, end: dt.date = SESSION) -> list[dt.date]:
    return [*previous_sessions(end, n - 1), end]


def bronze(session: dt.date = SESSION) -> dict[str, pd.DataFrame]:
    d = session
    p1 = previous_sessions(d, 1)[0]
    rel = {"release_date": d, "release_basis": "captured"}
    return {
        "bronze_bcb_sgs": _f("bronze_bcb_sgs", "part", [
            {"series_id": "bcb_sgs:432", "observation_date": d, "value": 0.1475, **rel},
            {"series_id": "bcb_sgs:433", "observation_date": dt.date(2025, 4, 1), "value": 0.0043,
             "release_date": dt.date(2025, 5, 13), "release_basis": "lag"}]),
        "bronze_fred": _f("bronze_fred", "part", [
            {"series_id": "fred:DGS10", "observation_date": p1, "value": 0.044, "vintage": 0, **rel}]),
        "bronze_yahoo": _f("bronze_yahoo", "part", [
            {"ticker": "^BVSP", "date": d, "open": None, "high": None, "low": None, "close": 136000.0,
             "adj_close": None, "volume": None, "roll_jump": False, **rel}]),
        "bronze_bcb_ptax": _f("bronze_bcb_ptax", "part", [
            {"date": d, "buy": 5.57, "sell": 5.571, "bulletin_time": pd.Timestamp("2025-06-10 16:10", tz="UTC"),
             **rel}]),
        "bronze_b3_market_data": _f("bronze_b3_market_data", "part", [
            {"trade_date": d, "commodity": "DI1", "ticker": "DI1F27", "maturity": dt.date(2027, 1, 4), "du": 393,
             "settlement_rate": 0.142, "settlement_price": 81000.0, "open_interest": 1e6, **rel}]),
        "bronze_treasury_gov": _f("bronze_treasury_gov", "part", [
            {"date": d, "curve": "nominal", "tenor": "10 Yr", "tenor_years": 10.0, "yield": 0.0447, **rel}]),
        "bronze_bcb_focus": _f("bronze_bcb_focus", "part", [
            {"indicator": "IPCA", "reference": "12m", "survey_date": dt.date(2025, 6, 6), "median": 0.0452,
             "mean": None, "std": None, "respondents": 100, "release_date": dt.date(2025, 6, 9),
             "release_basis": "vintage"}]),
    }


def silver(session: dt.date = SESSION) -> dict[tuple[str, str], pd.DataFrame]:
    days = sessions(140, session)
    rng = np.random.default_rng(3)
    curves = []
    for k, d in enumerate(days):
        for lab, du_ in (("252du", 252), ("504du", 504), ("1260du", 1260), ("2520du", 2520)):
            curves.append({"date": d, "curve": "DI_PRE", "tenor_label": lab, "tenor_du": du_,
                           "tenor_years": du_ / 252, "rate": 0.14 + du_ / 252 * 0.001 + 0.0001 * k})
    rets, prices = [], []
    lv = {"DI1_1Y": 0.141, "DI1_2Y": 0.142, "DI1_5Y": 0.145, "DI1_10Y": 0.146, "USDBRL": 5.5, "IBOV": 130000.0,
          "UST_10Y": 0.044, "SPX": 5900.0}
    for k, d in enumerate(days):
        for inst in INSTRUMENTS:
            r = float(rng.normal(0, 0.005))
            if k:
                lv[inst] = lv[inst] * (1 + r) if inst in ("USDBRL", "IBOV", "SPX") else lv[inst] + r / 100
            rets.append({"date": d, "instrument": inst, "level": lv[inst], "ret": r if k else None,
                         "vol_21": None, "vol_63": None, "vol_252": None, "z_252": None})
        prices.append({"date": d, "series": "yahoo:^VIX", "value": 15.0 + k * 0.01})
    macro = [
        {"series": "br_selic_target", "observation_date": dt.date(2025, 5, 8), "value": 0.1475,
         "release_date": dt.date(2025, 5, 8)},
        {"series": "br_selic_target", "observation_date": dt.date(2025, 3, 20), "value": 0.1425,
         "release_date": dt.date(2025, 3, 20)},
        {"series": "br_ipca_12m", "observation_date": dt.date(2025, 4, 1), "value": 0.0553,
         "release_date": dt.date(2025, 5, 13)},
        {"series": "br_ipca_12m", "observation_date": dt.date(2025, 3, 1), "value": 0.0548,
         "release_date": dt.date(2025, 4, 13)},
        {"series": "focus_ipca_12m", "observation_date": dt.date(2025, 6, 6), "value": 0.0452,
         "release_date": dt.date(2025, 6, 9)},
    ]
    return {
        ("silver_curves", "part"): _f("silver_curves", "part", curves),
        ("silver_curves", "ns_params"): _f("silver_curves", "ns_params", []),
        ("silver_curves", "slopes"): _f("silver_curves", "slopes", []),
        ("silver_returns", "part"): _f("silver_returns", "part", rets),
        ("silver_returns", "prices"): _f("silver_returns", "prices", prices),
        ("silver_macro", "part"): _f("silver_macro", "part", macro),
    }


def agents(session: dt.date = SESSION, hostile: bool = False,
           drop_composite: str = "") -> dict[tuple[str, str], pd.DataFrame]:
    out: dict[tuple[str, str], pd.DataFrame] = {}
    specs = {"agent_inflation": ("INFLATION", "DI1_2Y", -1), "agent_monetary_policy": ("MONETARY", "DI1_2Y", -1),
             "agent_fiscal": ("FISCAL", "DI1_10Y", -1), "agent_fx_equilibrium": ("FX", "USDBRL", 1),
             "agent_cross_asset": ("CROSS", "IBOV", 1)}
    for a, (pfx, inst, dirn) in specs.items():
        rows = [
            {"date": session, "agent": a.removeprefix("agent_"), "signal_id": f"{pfx}_COMPOSITE", "instrument": inst,
             "direction": dirn, "strength": "MODERATE", "confidence": 0.62, "value": 0.0125, "horizon": 21,
             "is_composite": True, "drivers": json.dumps({"gap": 0.0125, "note": HOSTILE if hostile else "x"})},
            {"date": session, "agent": a.removeprefix("agent_"), "signal_id": f"{pfx}_MODEL_A", "instrument": inst,
             "direction": dirn, "strength": "STRONG", "confidence": 0.8, "value": 0.5, "horizon": 21,
             "is_composite": False, "drivers": "{}"},
        ]
        if a == drop_composite:
            rows = rows[1:]
        out[(a, "part")] = _f(a, "part", rows)
        out[(a, "features")] = _f(a, "features", [])
    out[("agent_cross_asset", "view")] = _f("agent_cross_asset", "view", [{
        "date": session, "regime": "goldilocks", "p_goldilocks": 0.55, "p_reflation": 0.25, "p_stagflation": 0.15,
        "p_deflation": 0.05, "regime_clarity": 0.4, "tail_risk_score": 22.5, "tail_risk_grade": "low",
        "sentiment_index": None, "views": json.dumps({"rates_br": {"direction": 1, "confidence": 0.6,
                                                                  "rationale": "disinflation"}}),
        "key_trades": json.dumps([{"instrument": "DI1_2Y", "direction": 1, "rationale": "receive front end"}]),
        "consistency_issues": "[]"}])
    return out


def signals(session: dt.date = SESSION, hostile: bool = False,
            flips: int = 1, surge: float = 0.45) -> dict[tuple[str, str], pd.DataFrame]:
    agg = []
    for k, inst in enumerate(INSTRUMENTS):
        conv = [0.62, 0.3, -0.2, 0.0, 0.4, -0.1, 0.05, 0.2][k]
        agg.append({"date": session, "instrument": inst, "asset_class": CLASSES[inst], "conviction": conv,
                    "direction": int(np.sign(conv)) if abs(conv) > 0.05 else 0, "confidence": 0.6, "crowded": False,
                    "n_signals": 3, "regime": "goldilocks", "method": "bayesian",
                    "contributions": json.dumps([{"signal_id": HOSTILE if hostile else "MONETARY_COMPOSITE",
                                                  "conviction": conv, "confidence": 0.6, "staleness": 1.0,
                                                  "tilt": 1.0, "weight": 0.6}])})
    ev = []
    prev = previous_sessions(session, 1)[0]
    for i in range(flips):
        inst = INSTRUMENTS[i]
        ev.append({"date": session, "event": "flip", "instrument": inst, "subject": "", "asset_class": CLASSES[inst],
                   "before": -0.1, "after": 0.1, "delta": 0.2, "compared_with": prev})
    if surge:
        ev.append({"date": session, "event": "surge", "instrument": "USDBRL", "subject": "", "asset_class": "fx",
                   "before": 0.0, "after": surge, "delta": surge, "compared_with": prev})
    summ = [{"date": session, "asset_class": "all", "n_instruments": 8, "n_active": 6, "n_signals": 20,
             "flips": flips, "surges": int(bool(surge)), "divergences": 0, "weekly_flips": flips + 2,
             "has_previous": True, "n_previous": 5, "regime": "goldilocks", "note": ""}]
    return {
        ("signal_aggregation", "part"): _f("signal_aggregation", "part", agg),
        ("signal_aggregation", "strategy_signals"): _f("signal_aggregation", "strategy_signals", []),
        ("signal_monitor", "part"): _f("signal_monitor", "part", ev),
        ("signal_monitor", "summary"): _f("signal_monitor", "summary", summ),
    }


def sizing(session: dt.date, scale: float = 1.0, hostile: bool = False) -> pd.DataFrame:
    rows = []
    for k, inst in enumerate(INSTRUMENTS):
        w = [0.20, 0.10, -0.05, 0.0, 0.08, -0.03, 0.05, 0.04][k] * scale
        contract = {"DI1_1Y": "DI1F26", "DI1_2Y": "DI1F27", "DI1_5Y": "DI1F30", "DI1_10Y": "DI1F35", "USDBRL": "DOLN25",
                    "IBOV": "INDQ25", "UST_10Y": "ZNU5", "SPX": "ESU5"}[inst]
        rows.append({"date": session, "instrument": HOSTILE if hostile and inst == "SPX" else inst,
                     "asset_class": CLASSES[inst], "target_weight": w * 1.1, "weight": w, "notional_brl": w * 1e8,
                     "contract": contract, "contracts": round(w * 600), "dv01_brl": 1000.0 * abs(w),
                     "vol": 0.1, "method": "vol_target", "origin": f"views: {inst}_STRATEGY"})
    return _f("portfolio_sizing", "part", rows)


def optimization(session: dt.date = SESSION) -> dict[tuple[str, str], pd.DataFrame]:
    sz = sizing(session)
    rows = [{"date": session, "instrument": r.instrument, "asset_class": r.asset_class,
             "target_weight": r.target_weight, "prior_return": 0.0, "posterior_return": 0.0001,
             "view_q": None if r.instrument == "SPX" else 0.0002, "vol": 0.1, "lower": -0.25, "upper": 0.25,
             "cost": 0.0001, "reference_weight": 0.0, "origin": r.origin}
            for r in sz.itertuples()]
    out = {("portfolio_optimization", "part"): _f("portfolio_optimization", "part", rows),
           ("portfolio_optimization", "solve"): _f("portfolio_optimization", "solve", [{
               "date": session, "status": "optimal", "objective": 0.0001, "solver": "CLARABEL", "fallback": False,
               "fallback_reason": "", "n_views": 7, "n_obs": 756, "delta": 2.5, "tau": 0.05, "prior": "zero",
               "ex_ante_vol": 0.08, "gross": 0.605,
               "reference": f"flat (no positions file for {session.isoformat()})"}])}
    for name in schemas_of("portfolio_optimization"):
        if ("portfolio_optimization", name) not in out:
            out[("portfolio_optimization", name)] = schemas_of("portfolio_optimization")[name].empty()
    return out


def risk(session: dt.date = SESSION, var95: float = 0.012,
         pnl_path: tuple[float, ...] = (0.001, -0.002, 0.0005, 0.001, -0.001)) -> dict[tuple[str, str], pd.DataFrame]:
    var = []
    for m in ("historical", "monte_carlo", "parametric"):
        for c, mult in ((0.95, 1.0), (0.99, 1.4)):
            var.append({"date": session, "method": m, "confidence": c, "var": var95 * mult, "cvar": var95 * mult * 1.2,
                        "n_obs": 756, "note": "window 756"})
    days = sessions(len(pnl_path), session)
    pnl = [{"date": d, "sizing_date": previous_sessions(d, 2)[0], "pnl": p, "available": True, "note": ""}
           for d, p in zip(days, pnl_path, strict=True)]
    limits = [
        {"date": session, "limit": "var_95", "value": var95, "limit_value": 0.03, "utilisation": var95 / 0.03,
         "status": "OK", "note": "one-day VaR 95%"},
        {"date": session, "limit": "var_99", "value": var95 * 1.4, "limit_value": 0.05,
         "utilisation": var95 * 1.4 / 0.05, "status": "OK", "note": "one-day VaR 99%"},
        {"date": session, "limit": "gross_leverage", "value": 0.55, "limit_value": 3.0, "utilisation": 0.55 / 3.0,
         "status": "OK", "note": ""},
        {"date": session, "limit": "strategy_daily_loss", "value": None, "limit_value": 0.02, "utilisation": None,
         "status": "N/A", "note": "no per-strategy P&L"},
        {"date": session, "limit": "overall", "value": var95 * 1.4 / 0.05, "limit_value": None,
         "utilisation": var95 * 1.4 / 0.05, "status": "OK", "note": "value = highest utilisation"},
    ]
    return {
        ("risk_var", "part"): _f("risk_var", "part", var),
        ("risk_var", "components"): _f("risk_var", "components", [
            {"date": session, "instrument": "DI1_1Y", "weight": 0.2, "marginal_var": 0.01, "component_var": 0.002,
             "pct_contribution": 0.5}]),
        ("risk_stress", "part"): _f("risk_stress", "part", [
            {"date": session, "scenario": "covid_2020", "kind": "hypothetical", "pnl": -0.031,
             "worst_instrument": "IBOV", "worst_pnl": -0.02, "unmapped_exposure": 0.0, "note": ""}]),
        ("risk_stress", "reverse"): _f("risk_stress", "reverse", [
            {"date": session, "scenario": "covid_2020", "multiplier": 3.2, "note": ""}]),
        ("risk_stress", "replay"): _f("risk_stress", "replay", [
            {"date": session, "window": "covid_2020", "start": dt.date(2020, 2, 20), "end": dt.date(2020, 3, 31),
             "pnl": None, "worst_pnl": None, "n_sessions": 0, "coverage": 0.0, "note": "not in history"}]),
        ("risk_limits", "part"): _f("risk_limits", "part", limits),
        ("risk_limits", "budget"): _f("risk_limits", "budget", []),
        ("risk_limits", "pnl"): _f("risk_limits", "pnl", pnl),
    }


def all_tables(session: dt.date = SESSION, **kw: Any) -> dict[tuple[str, str], pd.DataFrame]:
    """Every same-session input table of the report."""
    t: dict[tuple[str, str], pd.DataFrame] = {(a, "part"): df for a, df in bronze(session).items()}
    t.update(silver(session))
    t.update(agents(session, hostile=kw.get("hostile", False), drop_composite=kw.get("drop_composite", "")))
    t.update(signals(session, hostile=kw.get("hostile", False), flips=kw.get("flips", 1), surge=kw.get("surge", 0.45)))
    t[("portfolio_sizing", "part")] = sizing(session, hostile=kw.get("hostile", False))
    t.update(optimization(session))
    t.update(risk(session, var95=kw.get("var95", 0.012),
                  pnl_path=kw.get("pnl_path", (0.001, -0.002, 0.0005, 0.001, -0.001))))
    return t


def write_inputs(root: Path, tables: dict[tuple[str, str], pd.DataFrame], session: dt.date = SESSION,
                 prev: pd.DataFrame | None = None, skip: tuple[str, ...] = ()) -> Context:
    """Write the tables as partitions under ``root`` and return the report's Context."""
    inputs: dict[str, dict[str, Path]] = {}
    for (asset, table), df in tables.items():
        if asset in skip:
            continue
        layer = STEPS[asset].layer
        p = (root / layer / asset / f"date={session.isoformat()}"
             / ("part.parquet" if table == "part" else f"{table}.parquet"))
        write_table(df, p, schemas_of(asset)[table], asof=session, source="demo")
        inputs.setdefault(asset, {})[table] = p
    prev_map: dict[str, list[tuple[dt.date, dict[str, Path]]]] = {}
    if prev is not None:
        pdate = previous_sessions(session, 1)[0]
        p = root / "portfolio" / "portfolio_sizing" / f"date={pdate.isoformat()}" / "part.parquet"
        write_table(prev, p, schemas_of("portfolio_sizing")["part"], asof=pdate, source="demo")
        prev_map["portfolio_sizing"] = [(pdate, {"part": p})]
    out = root / "report" / "daily_report" / f"date={session.isoformat()}"
    out.mkdir(parents=True, exist_ok=True)
    return Context(asset="daily_report", date=session,
                   params={"report": {"title": "brmacro daily report", "key_signals_per_agent": 3},
                           "risk": RISK_PARAMS, "nav_brl": 1e8, "source": "demo"},
                   inputs=inputs, prev=prev_map, out_dir=out)
