"""Building the daily report from its inputs: the seven sections, freshness, alerts, figures.

Pure functions of the loaded :class:`~brmacro.report.inputs.Inputs`: no file is read here. Every
number shown is computed from an input table and registered as a figure; a missing input becomes an
explicit ``missing: <asset/table>: <why>`` note in the section that needs it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from brmacro.desk.report import desk_banner, desk_orders, desk_section
from brmacro.report.alerts import Alert, evaluate_alerts, freshness
from brmacro.report.charts import Line, bar_chart, line_chart
from brmacro.report.inputs import Inputs
from brmacro.report.render import Cell, Document, Figures, Section, bp, is_num, na, num, pct, signed

__all__ = ["BuiltReport", "build_report", "order_text"]

RATES_CLASSES = ("rates_br", "rates_us")
AGENTS = ("agent_inflation", "agent_monetary_policy", "agent_fiscal", "agent_fx_equilibrium", "agent_cross_asset")
DI_POINTS = (("DI 1Y", "252du"), ("DI 2Y", "504du"), ("DI 5Y", "1260du"), ("DI 10Y", "2520du"))


@dataclass
class BuiltReport:
    """The document, its figures and its alerts."""

    doc: Document
    figures: list[dict[str, Any]]
    alerts: list[Alert]


def _d(v: Any) -> dt.date:
    return pd.Timestamp(v).date()


def _c(text: Any) -> Cell:
    return Cell(str(text))


def _dir_word(v: Any) -> str:
    if not is_num(v):
        return na("no direction")
    return {1: "long", -1: "short", 0: "neutral"}[int(np.sign(float(v)))]


def _json(text: Any) -> Any:
    try:
        return json.loads(str(text))
    except (TypeError, ValueError):
        return None


def _short_json(text: Any, limit: int = 160) -> str:
    obj = _json(text)
    if isinstance(obj, Mapping):
        parts = []
        for k, v in list(obj.items())[:5]:
            parts.append(f"{k}={v:.4g}" if is_num(v) else f"{k}={v}")
        s = ", ".join(parts)
    elif obj is None:
        s = str(text)
    else:
        s = json.dumps(obj, sort_keys=True)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _last_two(s: pd.Series) -> tuple[dt.date | None, float | None, float | None]:
    """Latest date, latest value and previous value of a date-indexed series."""
    s = s.dropna().sort_index()
    if s.empty:
        return None, None, None
    prev = float(s.iloc[-2]) if len(s) > 1 else None
    return _d(s.index[-1]), float(s.iloc[-1]), prev


# ----------------------------------------------------------------------------------------------- 1 market
def _market_row(figs: Figures, name: str, s: pd.Series, kind: str, source: str, session: dt.date) -> list[Cell]:
    d, v, p = _last_two(s)
    if d is None:
        return [_c(name), _c(na(f"no observation in {source}")), _c(na("no observation")), _c(na("no date"))]
    if kind == "rate":
        lvl = figs.add("market", f"{name} level", v, pct(v, 2), source)
        chg_v = None if p is None else v - p
        chg = figs.add("market", f"{name} 1d change", chg_v, bp(chg_v, reason="no previous observation"), source)
    else:
        lvl = figs.add("market", f"{name} level", v, num(v, 4 if abs(v) < 100 else 2), source)
        chg_v = None if p in (None, 0.0) else v / p - 1.0
        chg = figs.add("market", f"{name} 1d change", chg_v, pct(chg_v, 2, plus=True, reason="no previous observation"),
                       source)
    when = d.isoformat() + ("" if d == session else " (not the session)")
    return [_c(name), lvl, chg, _c(when)]


def market_section(inp: Inputs, figs: Figures, session: dt.date) -> Section:
    """Section 1: levels and one-day changes, DI curve and USDBRL charts."""
    sec = Section("market", "1. Market snapshot")
    rows: list[list[Cell]] = []
    curves = inp.get("silver_curves")
    if curves is None:
        sec.missing("silver_curves/part", inp.why("silver_curves"))
    else:
        curves["date"] = pd.to_datetime(curves["date"]).dt.date
        curves = curves.loc[curves["date"] <= session]
        for name, lab in DI_POINTS:
            sub = curves.loc[(curves["curve"] == "DI_PRE") & (curves["tenor_label"] == lab)]
            rows.append(_market_row(figs, name, sub.set_index("date")["rate"], "rate", "silver_curves/part", session))
    ret = inp.get("silver_returns")
    if ret is None:
        sec.missing("silver_returns/part", inp.why("silver_returns"))
    else:
        ret["date"] = pd.to_datetime(ret["date"]).dt.date
        ret = ret.loc[ret["date"] <= session]
        for name, inst, kind in (("USDBRL", "USDBRL", "price"), ("IBOV", "IBOV", "price"),
                                 ("UST 10Y", "UST_10Y", "rate"), ("SPX", "SPX", "price")):
            sub = ret.loc[ret["instrument"] == inst]
            rows.append(_market_row(figs, name, sub.set_index("date")["level"], kind, "silver_returns/part", session))
    prices = inp.get("silver_returns", "prices")
    if prices is None:
        sec.missing("silver_returns/prices", inp.why("silver_returns", "prices"))
    else:
        prices["date"] = pd.to_datetime(prices["date"]).dt.date
        sub = prices.loc[(prices["series"] == "yahoo:^VIX") & (prices["date"] <= session)]
        rows.append(_market_row(figs, "VIX", sub.set_index("date")["value"], "price", "silver_returns/prices", session))
    macro = inp.get("silver_macro")
    if macro is None:
        sec.missing("silver_macro/part", inp.why("silver_macro"))
    else:
        macro["observation_date"] = pd.to_datetime(macro["observation_date"]).dt.date
        macro = macro.loc[macro["observation_date"] <= session]

        def ser(name: str) -> pd.Series:
            return macro.loc[macro["series"] == name].set_index("observation_date")["value"]

        rows.append(_market_row(figs, "Selic target", ser("br_selic_target"), "rate", "silver_macro/part", session))
        ipca = "br_ipca_12m" if (macro["series"] == "br_ipca_12m").any() else "br_ipca_yoy"
        rows.append(_market_row(figs, "IPCA 12m", ser(ipca), "rate", "silver_macro/part", session))
        for fs in sorted(macro.loc[macro["series"].astype(str).str.startswith("focus_"), "series"].unique()):
            kind = "price" if any(k in fs for k in ("fx", "cambio", "usdbrl", "brl")) else "rate"
            rows.append(_market_row(figs, f"Focus {fs.removeprefix('focus_')}", ser(fs), kind, "silver_macro/part",
                                    session))
    if rows:
        sec.table(["Market", "Level", "1-day change", "As of"], rows,
                  "Levels and changes (rates in % per year, changes in bp; prices with % change)")
    if curves is not None:
        di = curves.loc[curves["curve"] == "DI_PRE"]
        if not di.empty:
            today = di["date"].max()
            month_ago = [d for d in sorted(di["date"].unique()) if d <= today - dt.timedelta(days=30)]
            lines = []
            for d in [today] + month_ago[-1:]:
                c = di.loc[di["date"] == d].sort_values("tenor_years")
                lines.append(Line(f"DI {d.isoformat()}", c["tenor_years"].tolist(), c["rate"].tolist()))
            ticks = [(float(y), f"{y:g}y") for y in sorted(di.loc[di["date"] == today, "tenor_years"].unique())]
            sec.chart(line_chart(lines, title="DI curve: session vs one month before", y_fmt=lambda v: pct(v, 1),
                                 x_labels=ticks), "DI curve", "no DI_PRE points in silver_curves")
            if not month_ago:
                sec.p("DI curve one month before: not in silver_curves' history.")
    if ret is not None:
        fx = ret.loc[(ret["instrument"] == "USDBRL") & (ret["date"] > session - dt.timedelta(days=183))]
        fx = fx.sort_values("date")
        if len(fx):
            xs = list(range(len(fx)))
            dates = fx["date"].tolist()
            idx = sorted({0, len(fx) // 2, len(fx) - 1})
            sec.chart(line_chart([Line("USDBRL", xs, fx["level"].tolist())], title="USDBRL, last 6 months",
                                 y_fmt=lambda v: f"{v:.3f}", x_labels=[(i, dates[i].isoformat()) for i in idx]),
                      "USDBRL 6 months", "no USDBRL level in silver_returns")
        else:
            sec.missing("silver_returns/part", "no USDBRL level over the last 6 months")
    return sec


# ----------------------------------------------------------------------------------------------- 2 regime
def regime_section(inp: Inputs, figs: Figures) -> Section:
    """Section 2: the cross-asset view (regime, probabilities, tail risk, views, consistency)."""
    sec = Section("regime", "2. Regime and cross-asset view")
    view = inp.get("agent_cross_asset", "view")
    if view is None or view.empty:
        sec.missing("agent_cross_asset/view", inp.why("agent_cross_asset", "view") if view is None else "empty table")
        return sec
    r = view.sort_values("date").iloc[-1]
    src = "agent_cross_asset/view"
    sec.p(f"Most probable regime: {r['regime']} (as of {_d(r['date']).isoformat()}).")
    rows = []
    for reg in ("goldilocks", "reflation", "stagflation", "deflation"):
        v = r[f"p_{reg}"]
        rows.append([_c(reg), figs.add("regime", f"P({reg})", v, pct(v, 1), src)])
    rows.append([_c("regime clarity"), figs.add("regime", "regime clarity", r["regime_clarity"],
                                                num(r["regime_clarity"], 2), src)])
    rows.append([_c(f"tail risk score ({r['tail_risk_grade']})"),
                 figs.add("regime", "tail risk score", r["tail_risk_score"], num(r["tail_risk_score"], 1), src)])
    sent = r["sentiment_index"]
    rows.append([_c("sentiment index"), figs.add("regime", "sentiment index", sent,
                                                 num(sent, 2, reason="not computed by agent_cross_asset"), src)])
    sec.table(["Measure", "Value"], rows, "Regime probabilities (HMM) and tail risk")
    views = _json(r["views"])
    if isinstance(views, Mapping) and views:
        vrows = []
        for k in sorted(views):
            v = views[k] if isinstance(views[k], Mapping) else {}
            conf = v.get("confidence")
            vrows.append([_c(k), _c(_dir_word(v.get("direction"))),
                          _c(num(conf, 2, reason="no confidence")), _c(v.get("rationale", ""))])
        sec.table(["Asset class", "Direction", "Confidence", "Rationale"], vrows, "Views by asset class")
    trades = _json(r["key_trades"])
    if isinstance(trades, list) and trades:
        sec.bullets([f"{t.get('instrument', '')}: {_dir_word(t.get('direction'))} — {t.get('rationale', '')}"
                     for t in trades if isinstance(t, Mapping)])
    issues = _json(r["consistency_issues"])
    if isinstance(issues, list) and issues:
        sec.bullets([f"consistency ({i.get('severity', '')}): {i.get('rule', '')}: {i.get('message', '')}"
                     for i in issues if isinstance(i, Mapping)])
    return sec


# ----------------------------------------------------------------------------------------------- 3 agents
def agents_section(inp: Inputs, figs: Figures, key_signals: int) -> Section:
    """Section 3: each agent's composite and its strongest other signals."""
    sec = Section("agents", "3. Agent views")
    rows = []
    krows = []
    for a in AGENTS:
        df = inp.get(a)
        name = a.removeprefix("agent_")
        if df is None:
            sec.missing(f"{a}/part", inp.why(a))
            continue
        comp = df.loc[df["is_composite"].astype(bool)].sort_values("signal_id")
        src = f"{a}/part"
        if comp.empty:
            rows.append([_c(name), _c(na("no composite signal")), _c(""), Cell(na("no composite signal")),
                         _c(""), _c("")])
        else:
            c = comp.iloc[0]
            rows.append([_c(name), _c(_dir_word(c["direction"])), _c(c["strength"]),
                         figs.add("agents", f"{name} composite confidence", c["confidence"],
                                  num(c["confidence"], 2), src),
                         figs.add("agents", f"{name} composite value", c["value"],
                                  num(c["value"], 4, reason="no raw value"), src),
                         _c(_short_json(c["drivers"]))])
        others = df.loc[~df["is_composite"].astype(bool)].sort_values(["confidence", "signal_id"],
                                                                      ascending=[False, True])
        for s in others.head(key_signals).itertuples():
            krows.append([_c(name), _c(s.signal_id), _c(s.instrument or "(not a tradable)"),
                          _c(_dir_word(s.direction)),
                          figs.add("agents", f"{name} {s.signal_id} confidence", s.confidence, num(s.confidence, 2), src),
                          _c(_short_json(s.drivers))])
    if rows:
        sec.table(["Agent", "Direction", "Strength", "Confidence", "Value", "Key drivers"], rows,
                  "Composite signal per agent (direction in the instrument's price convention)")
    if krows:
        sec.table(["Agent", "Signal", "Instrument", "Direction", "Confidence", "Drivers"], krows,
                  f"Key signals (top {key_signals} by confidence per agent)")
    return sec


# ----------------------------------------------------------------------------------------------- 4 signals
def signals_section(inp: Inputs, figs: Figures) -> Section:
    """Section 4: aggregation per instrument and the monitor's flips, surges and divergences."""
    sec = Section("signals", "4. Signals")
    agg = inp.get("signal_aggregation")
    if agg is None:
        sec.missing("signal_aggregation/part", inp.why("signal_aggregation"))
    else:
        rows = []
        src = "signal_aggregation/part"
        for r in agg.sort_values("instrument").itertuples():
            rows.append([_c(r.instrument), _c(r.asset_class),
                         figs.add("signals", f"{r.instrument} conviction", r.conviction, signed(r.conviction, 2), src),
                         _c(_dir_word(r.direction)), _c(num(r.confidence, 2)), _c(str(int(r.n_signals))),
                         _c("yes" if r.crowded else "no"), _c(r.regime)])
        sec.table(["Instrument", "Asset class", "Conviction", "Direction", "Confidence", "Signals", "Crowded",
                   "Regime"], rows, "Aggregated conviction per instrument")
    mon = inp.get("signal_monitor")
    summ = inp.get("signal_monitor", "summary")
    if summ is None:
        sec.missing("signal_monitor/summary", inp.why("signal_monitor", "summary"))
    else:
        a = summ.loc[summ["asset_class"] == "all"]
        if len(a):
            r = a.iloc[0]
            src = "signal_monitor/summary"
            sec.table(["Measure", "Value"], [
                [_c("flips vs previous session"), figs.add("signals", "flips", r["flips"], str(int(r["flips"])), src)],
                [_c("surges"), figs.add("signals", "surges", r["surges"], str(int(r["surges"])), src)],
                [_c("divergences"), figs.add("signals", "divergences", r["divergences"],
                                            str(int(r["divergences"])), src)],
                [_c(f"flips over the last {int(r['n_previous'])} sessions"),
                 figs.add("signals", "weekly flips", r["weekly_flips"], str(int(r["weekly_flips"])), src)],
            ], "Monitor summary")
            if not bool(r["has_previous"]):
                sec.p("No previous session's aggregation was available: flips and surges not computable. "
                      + str(r["note"]))
    if mon is None:
        sec.missing("signal_monitor/part", inp.why("signal_monitor"))
    elif mon.empty:
        sec.p("No flips, surges or divergences recorded by the monitor.")
    else:
        rows = [[_c(r.event), _c(r.instrument), _c(r.subject), _c(signed(r.before, 2, reason="none")),
                 _c(signed(r.after, 2)), _c(signed(r.delta, 2))]
                for r in mon.sort_values(["event", "instrument", "subject"]).itertuples()]
        sec.table(["Event", "Instrument", "Signal", "Before", "After", "Change"], rows, "Monitor events")
    return sec


# ----------------------------------------------------------------------------------------------- 5 portfolio
@dataclass(frozen=True)
class Order:
    """One order in contracts."""

    instrument: str
    asset_class: str
    contract: str
    qty: float
    reason: str


def order_text(asset_class: str, qty: float, contract: str) -> str:
    """Order wording: receive/pay for rates (long = receive fixed), buy/sell otherwise."""
    n = f"{abs(qty):,.0f}"
    if asset_class in RATES_CLASSES:
        return f"{'receive' if qty > 0 else 'pay'} {n} {contract}"
    return f"{'buy' if qty > 0 else 'sell'} {n} {contract}"


def _orders(cur: pd.DataFrame, prev: pd.DataFrame) -> list[Order]:
    out: list[Order] = []
    p = prev.set_index("instrument")
    c = cur.set_index("instrument")
    for inst in sorted(set(p.index) | set(c.index)):
        now = c.loc[inst] if inst in c.index else None
        was = p.loc[inst] if inst in p.index else None
        if now is not None and was is not None and str(now["contract"]) == str(was["contract"]):
            q = float(now["contracts"]) - float(was["contracts"])
            if q != 0:
                out.append(Order(inst, str(now["asset_class"]), str(now["contract"]), q, "rebalance"))
            continue
        if was is not None and float(was["contracts"]) != 0:
            out.append(Order(inst, str(was["asset_class"]), str(was["contract"]), -float(was["contracts"]),
                             "close (roll or exit)" if now is not None else "exit"))
        if now is not None and float(now["contracts"]) != 0:
            out.append(Order(inst, str(now["asset_class"]), str(now["contract"]), float(now["contracts"]),
                             "open (roll or entry)" if was is not None else "entry"))
    return out


def portfolio_section(inp: Inputs, figs: Figures, nav: float | None) -> tuple[Section, list[Order] | None, str]:
    """Section 5: targets, sized book, trades versus the previous session, model-book P&L."""
    sec = Section("portfolio", "5. Portfolio")
    orders: list[Order] | None = None
    why_no_orders = ""
    opt = inp.get("portfolio_optimization")
    if opt is None:
        sec.missing("portfolio_optimization/part", inp.why("portfolio_optimization"))
    else:
        src = "portfolio_optimization/part"
        rows = [[_c(r.instrument), figs.add("portfolio", f"{r.instrument} optimiser target", r.target_weight,
                                            pct(r.target_weight, 2), src),
                 _c(pct(r.prior_return * 252, 2)), _c(pct(r.posterior_return * 252, 2)),
                 _c(pct(r.view_q * 252, 2, reason="no view") if is_num(r.view_q) else na("no view")),
                 _c(pct(r.vol, 1)), _c(f"{pct(r.lower, 0)} to {pct(r.upper, 0)}")]
                for r in opt.sort_values("instrument").itertuples()]
        sec.table(["Instrument", "Target weight", "Prior (ann.)", "Posterior (ann.)", "View Q (ann.)", "Vol",
                   "Bounds"], rows, "Optimiser targets (Black-Litterman + mean-variance; returns x 252)")
    solve = inp.get("portfolio_optimization", "solve")
    if solve is None:
        sec.missing("portfolio_optimization/solve", inp.why("portfolio_optimization", "solve"))
    elif len(solve):
        r = solve.iloc[0]
        src = "portfolio_optimization/solve"
        fb = f"; fallback: {r['fallback_reason']}" if bool(r["fallback"]) else ""
        sec.p(f"Optimiser: {r['solver']} status {r['status']}, {int(r['n_views'])} views, prior {r['prior']}, "
              f"delta {num(r['delta'], 2)}, tau {num(r['tau'], 3)}{fb}.")
        sec.table(["Measure", "Value"], [
            [_c("ex-ante volatility of the targets"), figs.add("portfolio", "optimiser ex-ante vol", r["ex_ante_vol"],
                                                               pct(r["ex_ante_vol"], 2), src)],
            [_c("gross of the targets"), figs.add("portfolio", "optimiser gross", r["gross"], pct(r["gross"], 1), src)],
        ], "Optimiser summary")
    sz = inp.get("portfolio_sizing")
    if sz is None:
        sec.missing("portfolio_sizing/part", inp.why("portfolio_sizing"))
        why_no_orders = f"portfolio_sizing/part missing: {inp.why('portfolio_sizing')}"
    else:
        src = "portfolio_sizing/part"
        rows = []
        for r in sz.sort_values("instrument").itertuples():
            rows.append([_c(r.instrument), _c(r.asset_class),
                         figs.add("portfolio", f"{r.instrument} target weight", r.target_weight,
                                  pct(r.target_weight, 2), src),
                         figs.add("portfolio", f"{r.instrument} weight", r.weight, pct(r.weight, 2), src),
                         figs.add("portfolio", f"{r.instrument} notional BRL", r.notional_brl,
                                  num(r.notional_brl, 0), src),
                         _c(r.contract),
                         figs.add("portfolio", f"{r.instrument} contracts", r.contracts, num(r.contracts, 0), src),
                         _c(num(r.dv01_brl, 0)), _c(pct(r.vol, 1)), _c(r.method)])
        sec.table(["Instrument", "Class", "Target", "Sized weight", "Notional (BRL)", "Contract", "Contracts",
                   "DV01 (BRL/bp)", "Vol", "Method"], rows, "Sized model book (weights as % of NAV)")
        w = sz["weight"].to_numpy(dtype=float)
        sec.table(["Measure", "Value"], [
            [_c("gross exposure"), figs.add("portfolio", "gross exposure", np.abs(w).sum(), pct(np.abs(w).sum(), 1), src)],
            [_c("net exposure"), figs.add("portfolio", "net exposure", w.sum(), pct(w.sum(), 1), src)],
            [_c("total DV01 (BRL per bp)"), figs.add("portfolio", "total DV01 BRL", sz["dv01_brl"].sum(),
                                                     num(sz["dv01_brl"].sum(), 0), src)],
            [_c("NAV (BRL)"), figs.add("portfolio", "NAV BRL", nav, num(nav, 0, reason="nav_brl not configured"),
                                       "config/nav_brl")],
        ], "Book totals")
        if not inp.prev_sizing:
            why_no_orders = inp.prev_missing or "previous session's portfolio_sizing not available"
            sec.missing("portfolio_sizing (previous session)", why_no_orders + "; trades not computable")
        else:
            pd_, prev = inp.prev_sizing[-1]
            orders = _orders(sz, prev)
            if orders:
                trows = [[_c(o.instrument), _c(o.contract),
                          figs.add("portfolio", f"trade {o.instrument} {o.contract}", o.qty, signed(o.qty, 0), src),
                          _c(order_text(o.asset_class, o.qty, o.contract)), _c(o.reason)] for o in orders]
                sec.table(["Instrument", "Contract", "Trade (contracts)", "Order", "Kind"], trows,
                          f"Trades = target book - book of {pd_.isoformat()}")
            else:
                sec.p(f"No trade: the book equals the previous session's ({pd_.isoformat()}).")
    pnl = inp.get("risk_limits", "pnl")
    if pnl is None:
        sec.missing("risk_limits/pnl", inp.why("risk_limits", "pnl"))
    else:
        src = "risk_limits/pnl"
        pnl = pnl.sort_values("date")
        rows = []
        for r in pnl.itertuples():
            held = _d(r.sizing_date).isoformat() if r.sizing_date is not None and not pd.isna(r.sizing_date) else "n/a"
            cell = figs.add("portfolio", f"P&L {_d(r.date).isoformat()}", r.pnl if r.available else None,
                            pct(r.pnl, 3, plus=True, reason=str(r.note) or "not available") if r.available
                            else na(str(r.note) or "not available"), src)
            rows.append([_c(_d(r.date).isoformat()), _c(held), cell])
        ok = pnl.loc[pnl["available"].astype(bool) & pnl["pnl"].notna()]
        last = pnl.iloc[-1] if len(pnl) else None
        daily = float(last["pnl"]) if last is not None and bool(last["available"]) and is_num(last["pnl"]) else None
        tot = float(ok["pnl"].sum()) if len(ok) else None
        summary = [
            [_c("daily P&L (last session)"),
             figs.add("portfolio", "daily P&L", daily, pct(daily, 3, plus=True, reason="not available for the session"),
                      src)],
            [_c(f"{len(pnl)}-session P&L (sum of {len(ok)} available)"),
             figs.add("portfolio", "5-session P&L", tot, pct(tot, 3, plus=True, reason="no P&L available"), src)],
            [_c("MTD / YTD"), _c("see the range backtest (track records come from the backtest job)")],
        ]
        sec.table(["Session", "Book held (sizing of)", "P&L (% NAV)"], rows,
                  "Model-book P&L: portfolio_sizing(D-2) x returns(D)")
        sec.table(["Measure", "Value"], summary, "P&L summary")
    return sec, orders, why_no_orders


# ----------------------------------------------------------------------------------------------- 6 risk
def risk_section(inp: Inputs, figs: Figures, risk_params: Mapping[str, Any] | None) -> Section:
    """Section 6: VaR by method, components, stress, reverse stress, replay, limits, budget."""
    sec = Section("risk", "6. Risk")
    var = inp.get("risk_var")
    if var is None:
        sec.missing("risk_var/part", inp.why("risk_var"))
    else:
        src = "risk_var/part"
        rows = []
        for r in var.sort_values(["method", "confidence"]).itertuples():
            c = f"{r.confidence * 100:g}%"
            rows.append([_c(r.method), _c(c), figs.add("risk", f"VaR {r.method} {c}", r.var, pct(r.var, 2), src),
                         figs.add("risk", f"CVaR {r.method} {c}", r.cvar, pct(r.cvar, 2), src), _c(str(int(r.n_obs))),
                         _c(r.note)])
        sec.table(["Method", "Confidence", "VaR (% NAV)", "CVaR (% NAV)", "Observations", "Note"], rows,
                  "One-day VaR and CVaR of the model book (losses positive)")
        v95 = var.loc[np.isclose(var["confidence"], 0.95)].sort_values("method")
        lim = None
        limits_tab = inp.get("risk_limits")
        if limits_tab is not None:
            from brmacro.report.alerts import _var_row

            row = _var_row(limits_tab, "95")
            lim = None if row is None else row["limit_value"]
        sec.chart(bar_chart(v95["method"].tolist(), v95["var"].tolist(), title="VaR 95% by method (% NAV)",
                            y_fmt=lambda v: pct(v, 1),
                            ref=(float(lim), f"limit {pct(lim, 1)}") if is_num(lim) else None),
                  "VaR by method", "no 95% VaR row in risk_var")
    comp = inp.get("risk_var", "components")
    if comp is None:
        sec.missing("risk_var/components", inp.why("risk_var", "components"))
    elif len(comp):
        rows = [[_c(r.instrument), _c(pct(r.weight, 2)), _c(pct(r.component_var, 3)),
                 _c(pct(r.pct_contribution, 1, reason="flat book"))]
                for r in comp.sort_values("instrument").itertuples()]
        sec.table(["Instrument", "Weight", "Component VaR", "Share of VaR"], rows, "VaR decomposition (parametric)")
    st = inp.get("risk_stress")
    if st is None:
        sec.missing("risk_stress/part", inp.why("risk_stress"))
    else:
        src = "risk_stress/part"
        rows = [[_c(r.scenario), _c(r.kind), figs.add("risk", f"stress {r.scenario}", r.pnl, pct(r.pnl, 2, plus=True), src),
                 _c(r.worst_instrument or "none"), _c(pct(r.worst_pnl, 2, plus=True)), _c(pct(r.unmapped_exposure, 1)),
                 _c(r.note)] for r in st.sort_values("scenario").itertuples()]
        sec.table(["Scenario", "Kind", "P&L (% NAV)", "Worst position", "Its P&L", "Unmapped", "Note"], rows,
                  "Stress scenarios")
        if len(st):
            w = st.sort_values(["pnl", "scenario"]).iloc[0]
            sec.p(f"Worst scenario: {w['scenario']} at {pct(w['pnl'], 2, plus=True)} of NAV.")
    rev = inp.get("risk_stress", "reverse")
    if rev is None:
        sec.missing("risk_stress/reverse", inp.why("risk_stress", "reverse"))
    elif len(rev):
        rows = [[_c(r.scenario), figs.add("risk", f"reverse multiplier {r.scenario}", r.multiplier,
                                          num(r.multiplier, 2, reason="infeasible"), "risk_stress/reverse"),
                 _c(r.note)] for r in rev.sort_values("scenario").itertuples()]
        sec.table(["Scenario", "Multiplier to reach the loss", "Note"], rows, "Reverse stress")
    rep = inp.get("risk_stress", "replay")
    if rep is None:
        sec.missing("risk_stress/replay", inp.why("risk_stress", "replay"))
    elif len(rep):
        rows = [[_c(r.window), _c(f"{_d(r.start).isoformat()} to {_d(r.end).isoformat()}"),
                 figs.add("risk", f"replay {r.window}", r.pnl, pct(r.pnl, 2, plus=True, reason="not in history"),
                          "risk_stress/replay"),
                 _c(pct(r.worst_pnl, 2, plus=True, reason="not in history")), _c(pct(r.coverage, 0)), _c(r.note)]
                for r in rep.sort_values("window").itertuples()]
        sec.table(["Window", "Dates", "P&L", "Worst point", "Coverage", "Note"], rows,
                  "Historical replay of crisis windows on today's weights")
    lim_t = inp.get("risk_limits")
    if lim_t is None:
        sec.missing("risk_limits/part", inp.why("risk_limits"))
    else:
        src = "risk_limits/part"
        overall = lim_t.loc[lim_t["limit"] == "overall"]
        if len(overall):
            sec.p(f"Overall risk status: {overall.iloc[0]['status']}.")
        rows = []
        for r in lim_t.loc[lim_t["limit"] != "overall"].sort_values("limit").itertuples():
            cls = {"BREACHED": "bad", "WARNING": "warn", "OK": "good"}.get(str(r.status), "")
            rows.append([_c(r.limit),
                         figs.add("risk", f"limit {r.limit} value", r.value, _auto(r.value, str(r.note)), src),
                         _c(_auto(r.limit_value, "no limit")),
                         figs.add("risk", f"limit {r.limit} utilisation", r.utilisation,
                                  pct(r.utilisation, 0, reason="not computable"), src),
                         Cell(str(r.status), cls=cls), _c(r.note)])
        sec.table(["Limit", "Value", "Limit", "Utilisation", "Status", "Note"], rows, "Limits")
    bud = inp.get("risk_limits", "budget")
    if bud is None:
        sec.missing("risk_limits/budget", inp.why("risk_limits", "budget"))
    elif len(bud):
        rows = [[_c(r.level), _c(r.name), _c(pct(r.risk_contribution, 1)), _c(pct(r.budget, 1)),
                 _c(pct(r.utilisation, 0))] for r in bud.sort_values(["level", "name"]).itertuples()]
        sec.table(["Level", "Name", "Risk contribution", "Budget", "Utilisation"], rows, "Risk budget")
    return sec


def _auto(v: Any, reason: str) -> str:
    if not is_num(v):
        return na(reason or "not computable")
    f = float(v)
    return f"{f:,.4f}" if abs(f) < 10 else f"{f:,.0f}"


# ----------------------------------------------------------------------------------------------- 7 actions
def actions_section(inp: Inputs, figs: Figures, orders: list[Order] | None, why: str) -> Section:
    """Section 7: concrete orders in contracts with their rationale."""
    sec = Section("actions", "7. Actions")
    if orders is None:
        sec.missing("orders", why)
        return sec
    if not orders:
        sec.p("No order: the target book equals the previous session's book.")
        return sec
    agg = inp.get("signal_aggregation")
    by = {} if agg is None else {str(r["instrument"]): r for _, r in agg.iterrows()}
    sz = inp.get("portfolio_sizing")
    tw = {} if sz is None else dict(zip(sz["instrument"], sz["target_weight"], strict=True))
    items = []
    for o in sorted(orders, key=lambda o: (o.instrument, o.contract)):
        a = by.get(o.instrument)
        if a is not None:
            top = _top_contributor(a["contributions"])
            why_txt = (f"aggregate conviction {float(a['conviction']):+.2f} ({_dir_word(a['direction'])}), "
                       f"confidence {float(a['confidence']):.2f}, {int(a['n_signals'])} signals"
                       + (f", led by {top}" if top else ""))
        else:
            why_txt = "no signal_aggregation row for this instrument" if agg is not None else \
                f"signal_aggregation missing: {inp.why('signal_aggregation')}"
        tgt = tw.get(o.instrument)
        items.append(f"{order_text(o.asset_class, o.qty, o.contract)}: {o.reason}; {why_txt}"
                     + (f"; target weight {pct(tgt, 2)}" if is_num(tgt) else ""))
    sec.bullets(items)
    sec.p("Rates orders are worded receive/pay (receive = long the price, gains when the yield falls); "
          "other orders buy/sell.")
    return sec


def _top_contributor(text: Any) -> str:
    obj = _json(text)
    if not isinstance(obj, list) or not obj:
        return ""
    best = max((c for c in obj if isinstance(c, Mapping) and is_num(c.get("weight"))),
               key=lambda c: (float(c["weight"]), str(c.get("signal_id", ""))), default=None)
    if best is None:
        return ""
    conv = best.get("conviction")
    return f"{best.get('signal_id', '')}" + (f" (conviction {float(conv):+.2f})" if is_num(conv) else "")


# ----------------------------------------------------------------------------------------------- freshness, alerts
def status_section(inp: Inputs, figs: Figures, session: dt.date, alerts: list[Alert]) -> Section:
    """Data freshness per bronze source and the alert rules."""
    sec = Section("status", "8. Data freshness and alerts")
    fr = freshness(inp, session)
    rows = []
    for r in fr.itertuples():
        behind = figs.add("freshness", f"{r.source} sessions behind", r.sessions_behind,
                          str(int(r.sessions_behind)) if is_num(r.sessions_behind) else na(r.note or "not measurable"),
                          f"{r.source}/part")
        rows.append([_c(r.source), _c(str(int(r.rows)) if is_num(r.rows) else na("missing")),
                     _c(r.latest_observation.isoformat() if r.latest_observation is not None else na("none")),
                     _c(r.latest_release.isoformat() if r.latest_release is not None else na("none")), behind,
                     _c(r.note)])
    sec.table(["Source", "Rows", "Latest observation", "Latest release", "Sessions behind", "Note"], rows,
              f"Bronze snapshots as of {session.isoformat()} (monthly series lag by design)")
    arows = []
    for a in alerts:
        cls = "bad" if a.fired and a.severity == "critical" else ("warn" if a.fired else "")
        arows.append([_c(a.rule_id), _c(a.severity), Cell("FIRED" if a.fired else "ok", cls=cls),
                      _c(_auto(a.value, "not computable")), _c(_auto(a.threshold, "not configured")), _c(a.message)])
    sec.table(["Rule", "Severity", "State", "Value", "Threshold", "Message"], arows, "Alert rules")
    return sec


def build_report(
    inp: Inputs,
    session: dt.date,
    report_params: Mapping[str, Any],
    risk_params: Mapping[str, Any] | None,
    nav: float | None,
    source: str,
) -> BuiltReport:
    """Build the whole report (document, figures, alerts) from loaded inputs.

    Parameters
    ----------
    inp : Inputs
        The loaded input tables.
    session : datetime.date
        The report's session.
    report_params : mapping
        The ``report:`` config subtree.
    risk_params : mapping or None
        The ``risk:`` config subtree (alert thresholds and limits).
    nav : float or None
        NAV in BRL.
    source : str
        ``demo`` or ``live`` (shown in the title block).
    """
    figs = Figures(session)
    alerts = evaluate_alerts(inp, session, risk_params)
    key_signals = int(report_params.get("key_signals_per_agent", 3))
    port, orders, why = portfolio_section(inp, figs, nav)
    orders, why = desk_orders(inp, orders, why)  # the desk's orders against its held book, where it has one
    sections = [
        market_section(inp, figs, session),
        regime_section(inp, figs),
        agents_section(inp, figs, key_signals),
        signals_section(inp, figs),
        port,
        desk_section(inp, figs),
        risk_section(inp, figs, risk_params),
        actions_section(inp, figs, orders, why),
        status_section(inp, figs, session, alerts),
    ]
    fired = [a for a in alerts if a.fired]
    banner = desk_banner(inp)  # circuit breaker or positions status, at the top
    sub = [*([banner] if banner else []), f"Session {session.isoformat()} — source: {source}",
           f"Alerts fired: {len(fired)} of {len(alerts)}"
           + (f" ({', '.join(a.rule_id for a in fired)})" if fired else "")]
    if inp.missing:
        sub.append(f"Missing inputs: {', '.join(sorted(f'{a}/{t}' for a, t in inp.missing))}")
    title = str(report_params.get("title", "brmacro daily report"))
    return BuiltReport(Document(f"{title} — {session.isoformat()}", sub, sections), figs.records(), alerts)
