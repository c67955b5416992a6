"""Building the daily report from its inputs: the seven sections, freshness, alerts, figures.

Pure functions of the loaded :class:`~brmacro.report.inputs.Inputs`: no file is read here. Every
number shown is computed from an input table and registered as a figure; a missing input becomes an
explicit ``missing: <asset/table>: <why>`` note in the section that needs it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd

from brmacro.calendar import previous_sessions
from brmacro.desk.report import desk_banner, desk_orders, desk_section
from brmacro.io import date_objects
from brmacro.params import resolve
from brmacro.pipeline import AGENTS
from brmacro.report.alerts import Alert, evaluate_alerts, freshness
from brmacro.report.charts import Line, bar_chart, line_chart
from brmacro.report.inputs import Inputs
from brmacro.report.prose import driver_sentence, plain
from brmacro.report.rates import rates_section
from brmacro.report.render import (
    Block,
    Cell,
    Document,
    Figures,
    Section,
    bp,
    is_num,
    na,
    num,
    pct,
    signed,
)
from brmacro.report.sanity import Outlier, check_outliers, rows_by_key, series_by_key
from brmacro.report.track import TrackRecord, build_track_record
from brmacro.risk.limits import var_limit_row

__all__ = ["BuiltReport", "build_report", "order_text"]

RATES_CLASSES = ("rates_br", "rates_us")
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
    if d is None or v is None:  # _last_two gives both or neither
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
        curves["date"] = date_objects(curves["date"])
        curves = curves.loc[curves["date"] <= session]
        di_pre = curves.loc[curves["curve"] == "DI_PRE"]  # the curve's rows once, then a tenor filter on those
        by_label = rows_by_key(di_pre["tenor_label"])  # each tenor's rows, split once
        for name, lab in DI_POINTS:
            rows.append(_market_row(figs, name, series_by_key(di_pre, "tenor_label", lab, by_label, "date", "rate"),
                                    "rate", "silver_curves/part", session))
    ret = inp.get("silver_returns")
    if ret is None:
        sec.missing("silver_returns/part", inp.why("silver_returns"))
    else:
        ret["date"] = date_objects(ret["date"])
        ret = ret.loc[ret["date"] <= session]
        by_inst = rows_by_key(ret["instrument"])  # each instrument's rows, split once
        for name, inst, kind in (("USDBRL", "USDBRL", "price"), ("IBOV", "IBOV", "price"),
                                 ("UST 10Y", "UST_10Y", "rate"), ("SPX", "SPX", "price")):
            rows.append(_market_row(figs, name, series_by_key(ret, "instrument", inst, by_inst, "date", "level"), kind,
                                    "silver_returns/part", session))
    prices = inp.get("silver_returns", "prices")
    if prices is None:
        sec.missing("silver_returns/prices", inp.why("silver_returns", "prices"))
    else:
        prices["date"] = date_objects(prices["date"])
        sub = prices.loc[(prices["series"] == "yahoo:^VIX") & (prices["date"] <= session)]
        rows.append(_market_row(figs, "VIX", sub.set_index("date")["value"], "price", "silver_returns/prices", session))
    macro = inp.get("silver_macro")
    if macro is None:
        sec.missing("silver_macro/part", inp.why("silver_macro"))
    else:
        macro["observation_date"] = date_objects(macro["observation_date"])
        # the rows on or before the session, split by series once as positions (no frame per series): a series'
        # frame is taken only for the few series shown, the same rows in table order that
        # dict(iter(macro.loc[on].groupby("series", sort=False))) gives it (missing series dropped by both)
        on = (macro["observation_date"] <= session).to_numpy(dtype=bool)
        codes, keys = pd.factorize(macro["series"])
        by_series: dict[Any, int] = {keys[i]: int(i) for i in np.unique(codes[on & (codes >= 0)])}

        def ser(name: str) -> pd.Series:
            code = by_series.get(name)
            rows = macro.iloc[np.flatnonzero(on & (codes == code))] if code is not None else macro.loc[on].iloc[:0]
            return rows.set_index("observation_date")["value"]

        rows.append(_market_row(figs, "Selic target", ser("br_selic_target"), "rate", "silver_macro/part", session))
        ipca = "br_ipca_12m" if "br_ipca_12m" in by_series else "br_ipca_yoy"
        rows.append(_market_row(figs, "IPCA 12m", ser(ipca), "rate", "silver_macro/part", session))
        for fs in sorted(x for x in by_series if str(x).startswith("focus_")):
            kind = "price" if any(k in fs for k in ("fx", "cambio", "usdbrl", "brl")) else "rate"
            rows.append(_market_row(figs, f"Focus {fs.removeprefix('focus_')}", ser(fs), kind, "silver_macro/part",
                                    session))
    if rows:
        sec.table(["Market", "Level", "1-day change", "As of"], rows,
                  "Levels and changes (rates in % per year, changes in bp; prices with % change)")
    if curves is not None:
        di = di_pre  # the DI_PRE rows taken above (curves unchanged since)
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
                          _c(num(conf, 2, reason="no confidence")), _c(plain(str(v.get("rationale", ""))))])
        sec.table(["Asset class", "Direction", "Confidence", "Rationale"], vrows, "Views by asset class")
    trades = _json(r["key_trades"])
    if isinstance(trades, list) and trades:
        sec.bullets([plain(f"{t.get('instrument', '')}: {_dir_word(t.get('direction'))} — {t.get('rationale', '')}")
                     for t in trades if isinstance(t, Mapping)])
    issues = _json(r["consistency_issues"])
    if isinstance(issues, list) and issues:
        sec.bullets([plain(f"consistency ({i.get('severity', '')}): {i.get('rule', '')}: {i.get('message', '')}")
                     for i in issues if isinstance(i, Mapping)])
    return sec


# ----------------------------------------------------------------------------------------------- 3 agents
def agents_section(inp: Inputs, figs: Figures, key_signals: int) -> Section:
    """Section 3: one short paragraph per agent (composite, how its sub-signals voted, its key signals)."""
    sec = Section("agents", "3. Agent views")
    rows = []
    krows = []
    for a in AGENTS:
        df = inp.get(a)
        name = a.removeprefix("agent_")
        if df is None:
            sec.missing(f"{a}/part", inp.why(a))
            continue
        composite = df["is_composite"].astype(bool)  # once, for the composite and the other signals
        comp = df.loc[composite].sort_values("signal_id")
        src = f"{a}/part"
        label = name.replace("_", " ").capitalize()
        if comp.empty:
            rows.append([_c(name), _c(na("no composite signal")), _c(""), Cell(na("no composite signal")), _c("")])
            para = f"{label}: no composite signal for the session."
        else:
            c = comp.iloc[0]
            rows.append([_c(name), _c(_dir_word(c["direction"])), _c(c["strength"]),
                         figs.add("agents", f"{name} composite confidence", c["confidence"],
                                  num(c["confidence"], 2), src),
                         figs.add("agents", f"{name} composite value", c["value"],
                                  num(c["value"], 4, reason="no raw value"), src)])
            para = (f"{label}: {_dir_word(c['direction'])} {c['instrument']} ({str(c['strength']).lower()}, "
                    f"confidence {num(c['confidence'], 2)}, net score {signed(c['value'], 2, reason='n/a')}); "
                    f"{driver_sentence(c['drivers'])}.")
        others = df.loc[~composite].sort_values(["confidence", "signal_id"], ascending=[False, True])
        top = list(cast("Iterable[Any]", others.head(key_signals).itertuples()))  # once, for both uses
        lead = [f"{s.signal_id} {_dir_word(s.direction)} at confidence {num(s.confidence, 2)}: "
                f"{driver_sentence(s.drivers, limit=0)}"
                for s in top if s.direction != 0]
        if lead:
            para += " Deciding signals: " + " ".join(f"({i}) {t}." for i, t in enumerate(lead, 1))
        sec.p(para)
        for s in top:
            krows.append([_c(name), _c(s.signal_id), _c(s.instrument or "(not a tradable)"),
                          _c(_dir_word(s.direction)),
                          figs.add("agents", f"{name} {s.signal_id} confidence",
                                   s.confidence, num(s.confidence, 2), src),
                          _c(driver_sentence(s.drivers))])
    if rows:
        sec.table(["Agent", "Direction", "Strength", "Confidence", "Net score"], rows,
                  "Composite signal per agent (direction in the instrument's price convention)")
    if krows:
        sec.table(["Agent", "Signal", "Instrument", "Direction", "Confidence", "Why (the branch that fired)"], krows,
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
        for r in cast("Iterable[Any]", agg.sort_values("instrument").itertuples()):
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
                for r in cast("Iterable[Any]", mon.sort_values(["event", "instrument", "subject"]).itertuples())]
        sec.table(["Event", "Instrument", "Signal", "Before", "After", "Change"], rows, "Monitor events")
    return sec


# ----------------------------------------------------------------------------------------------- 5 portfolio
@dataclass(frozen=True)
class Order:
    """One order in contracts, with what it changes.

    Attributes
    ----------
    current, target : float
        Contracts held in the previous session's book and in the target book (this contract).
    notional_brl : float
        Signed BRL notional the order trades.
    dv01_change : float
        Change of the book's DV01 (BRL per bp) the order makes (0 for non-rates).
    risk : float
        Stand-alone annualised risk the order trades, ``|change in weight| x vol`` (NAV fraction).
    origin : str
        Why the target position exists (``portfolio_sizing.origin``), or ``n/a: <why>``.
    """

    instrument: str
    asset_class: str
    contract: str
    qty: float
    reason: str
    current: float = 0.0
    target: float = 0.0
    notional_brl: float = 0.0
    dv01_change: float = 0.0
    risk: float = 0.0
    origin: str = ""


def order_text(asset_class: str, qty: float, contract: str) -> str:
    """Order wording: receive/pay for rates (long = receive fixed), buy/sell otherwise."""
    n = f"{abs(qty):,.0f}"
    if asset_class in RATES_CLASSES:
        return f"{'receive' if qty > 0 else 'pay'} {n} {contract}"
    return f"{'buy' if qty > 0 else 'sell'} {n} {contract}"


def _origin(row: pd.Series | None) -> str:
    if row is None:
        return na("no target position")
    if "origin" not in row.index:
        return na("portfolio_sizing has no origin column")
    o = str(row["origin"]).strip()
    return o or na("origin not recorded")


def _leg(inst: str, row: pd.Series, sign: float, reason: str, current: float, target: float,
         origin: str) -> Order:
    w, vol = float(row["weight"]), float(row["vol"])
    return Order(inst, str(row["asset_class"]), str(row["contract"]), sign * float(row["contracts"]), reason,
                 current, target, sign * float(row["notional_brl"]), sign * float(row["dv01_brl"]),
                 abs(w) * vol, origin)


def _orders(cur: pd.DataFrame, prev: pd.DataFrame) -> list[Order]:
    """Orders that move the previous session's book to the target book, sorted by the risk they trade."""
    out: list[Order] = []
    p = prev.set_index("instrument")
    c = cur.set_index("instrument")
    for inst in sorted(set(p.index) | set(c.index)):
        now = c.loc[inst] if inst in c.index else None
        was = p.loc[inst] if inst in p.index else None
        if now is not None and was is not None and str(now["contract"]) == str(was["contract"]):
            q = float(now["contracts"]) - float(was["contracts"])
            if q != 0:
                dw = float(now["weight"]) - float(was["weight"])
                out.append(Order(inst, str(now["asset_class"]), str(now["contract"]), q, "rebalance",
                                 float(was["contracts"]), float(now["contracts"]),
                                 float(now["notional_brl"]) - float(was["notional_brl"]),
                                 float(now["dv01_brl"]) - float(was["dv01_brl"]), abs(dw) * float(now["vol"]),
                                 _origin(now)))
            continue
        if was is not None and float(was["contracts"]) != 0:
            out.append(_leg(inst, was, -1.0, "close (roll or exit)" if now is not None else "exit",
                            float(was["contracts"]), 0.0, _origin(now) if now is not None else "exit: no target"))
        if now is not None and float(now["contracts"]) != 0:
            out.append(_leg(inst, now, 1.0, "open (roll or entry)" if was is not None else "entry", 0.0,
                            float(now["contracts"]), _origin(now)))
    return sorted(out, key=lambda o: (-o.risk, o.instrument, o.contract))


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
                for r in cast("Iterable[Any]", opt.sort_values("instrument").itertuples())]
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
    sec.p(f"What bound the book: {book_reason(inp)}.")
    sz = inp.get("portfolio_sizing")
    if sz is None:
        sec.missing("portfolio_sizing/part", inp.why("portfolio_sizing"))
        why_no_orders = f"portfolio_sizing/part missing: {inp.why('portfolio_sizing')}"
    else:
        src = "portfolio_sizing/part"
        rows = []
        for r in cast("Iterable[Any]", sz.sort_values("instrument").itertuples()):
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
            [_c("gross exposure"), figs.add("portfolio", "gross exposure",
                                                           np.abs(w).sum(), pct(np.abs(w).sum(), 1), src)],
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
            sec.p(f"Trades from the book of {pd_.isoformat()} to the target book: {len(orders)} order(s), "
                  "listed in 7. Actions.")
    pnl = inp.get("risk_limits", "pnl")
    if pnl is None:
        sec.missing("risk_limits/pnl", inp.why("risk_limits", "pnl"))
    else:
        src = "risk_limits/pnl"
        pnl = pnl.sort_values("date")
        rows = []
        for r in cast("Iterable[Any]", pnl.itertuples()):
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
            [_c("MTD / YTD, drawdown, VaR exceptions"), _c("see 8. Track record")],
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
        for r in cast("Iterable[Any]", var.sort_values(["method", "confidence"]).itertuples()):
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
            row = var_limit_row(limits_tab, "95")
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
                for r in cast("Iterable[Any]", comp.sort_values("instrument").itertuples())]
        sec.table(["Instrument", "Weight", "Component VaR", "Share of VaR"], rows, "VaR decomposition (parametric)")
    st = inp.get("risk_stress")
    if st is None:
        sec.missing("risk_stress/part", inp.why("risk_stress"))
    else:
        src = "risk_stress/part"
        rows = [[_c(r.scenario), _c(r.kind), figs.add("risk", f"stress {r.scenario}",
                                                                       r.pnl, pct(r.pnl, 2, plus=True), src),
                 _c(r.worst_instrument or "none"), _c(pct(r.worst_pnl, 2, plus=True)), _c(pct(r.unmapped_exposure, 1)),
                 _c(r.note)] for r in cast("Iterable[Any]", st.sort_values("scenario").itertuples())]
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
                 _c(r.note)] for r in cast("Iterable[Any]", rev.sort_values("scenario").itertuples())]
        sec.table(["Scenario", "Multiplier to reach the loss", "Note"], rows, "Reverse stress")
    rep = inp.get("risk_stress", "replay")
    if rep is None:
        sec.missing("risk_stress/replay", inp.why("risk_stress", "replay"))
    elif len(rep):
        rows = [[_c(r.window), _c(f"{_d(r.start).isoformat()} to {_d(r.end).isoformat()}"),
                 figs.add("risk", f"replay {r.window}", r.pnl, pct(r.pnl, 2, plus=True, reason="not in history"),
                          "risk_stress/replay"),
                 _c(pct(r.worst_pnl, 2, plus=True, reason="not in history")), _c(pct(r.coverage, 0)), _c(r.note)]
                for r in cast("Iterable[Any]", rep.sort_values("window").itertuples())]
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
        for r in cast("Iterable[Any]", lim_t.loc[lim_t["limit"] != "overall"].sort_values("limit").itertuples()):
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
                 _c(pct(r.utilisation, 0))]
                for r in cast("Iterable[Any]", bud.sort_values(["level", "name"]).itertuples())]
        sec.table(["Level", "Name", "Risk contribution", "Budget", "Utilisation"], rows, "Risk budget")
    return sec


def _auto(v: Any, reason: str) -> str:
    if not is_num(v):
        return na(reason or "not computable")
    f = float(v)
    return f"{f:,.4f}" if abs(f) < 10 else f"{f:,.0f}"


# ----------------------------------------------------------------------------------------------- 7 actions
def actions_section(inp: Inputs, figs: Figures, orders: list[Order] | None, why: str, held: str = "") -> Section:
    """Section 7: the orders in contracts, largest risk first, with position, target, notional, DV01 and origin.

    ``held`` is the reason the orders are withheld (``report.outliers: hold`` with flagged inputs), '' if not.
    """
    sec = Section("actions", "7. Actions")
    if orders is None:
        sec.missing("orders", why)
        return sec
    if not orders:
        sec.p("No order: the target book equals the previous session's book.")
        return sec
    if held:
        sec.blocks.append(Block("missing", text=f"ORDERS WITHHELD: {held}. The orders below are not to be "
                                                "executed until the flagged inputs are confirmed."))
    agg = inp.get("signal_aggregation")
    by = {} if agg is None else {str(r["instrument"]): r for _, r in agg.iterrows()}
    rows = []
    src = "portfolio_sizing/part"
    for o in orders:
        key = f"{o.instrument} {o.contract}"
        rows.append([_c(order_text(o.asset_class, o.qty, o.contract)),
                     figs.add("actions", f"{key} current contracts", o.current, signed(o.current, 0), src),
                     figs.add("actions", f"{key} target contracts", o.target, signed(o.target, 0), src),
                     figs.add("actions", f"{key} notional BRL", o.notional_brl, signed(o.notional_brl, 0), src),
                     figs.add("actions", f"{key} DV01 change", o.dv01_change, signed(o.dv01_change, 0), src),
                     figs.add("actions", f"{key} risk traded", o.risk, pct(o.risk, 2), src),
                     _c(o.reason), _c(o.origin)])
    sec.table(["Order", "Current (contracts)", "Target (contracts)", "Notional traded (BRL)",
               "DV01 change (BRL/bp)", "Risk traded (vol x |dw|)", "Kind", "Origin"], rows,
              "Orders" + (" (WITHHELD)" if held else "") + ", largest stand-alone risk first")
    items = []
    strat = inp.get("signal_aggregation", "strategy_signals")
    for o in orders:
        a = by.get(o.instrument)
        if a is not None:
            top = _top_contributor(a["contributions"])
            why_txt = (f"aggregate conviction {float(a['conviction']):+.2f} ({_dir_word(a['direction'])}), "
                       f"confidence {float(a['confidence']):.2f}, {int(a['n_signals'])} signals"
                       + (f", led by {top}{_held_note(strat, o.instrument, top.split(' ')[0])}" if top else ""))
        else:
            why_txt = "no signal_aggregation row for this instrument" if agg is not None else \
                f"signal_aggregation missing: {inp.why('signal_aggregation')}"
        items.append(f"{order_text(o.asset_class, o.qty, o.contract)}: {why_txt}")
    sec.bullets(items)
    sec.p("Rates orders are worded receive/pay (receive = long the price, gains when the yield falls); "
          "other orders buy/sell. DV01 is BRL gained per 1 bp fall in the yield.")
    return sec


def _held_note(strat: pd.DataFrame | None, instrument: str, signal_id: str) -> str:
    """``"; entry held ..."`` when the strategy ``signal_id`` on ``instrument`` holds an earlier entry
    (``signals.strategies.hold_entries``: its note records ``held_sessions`` and today's z), else ``""``."""
    if strat is None or not len(strat) or "note" not in strat.columns:
        return ""
    hit = strat[(strat["signal_id"] == signal_id) & (strat["instrument"] == instrument)]
    note = _json(hit["note"].iloc[0]) if len(hit) else None
    if not isinstance(note, Mapping):
        return ""
    k = note.get("held_sessions")
    if not is_num(k) or int(k) <= 0 or not is_num(note.get("z")) or not is_num(note.get("z_today")):
        return ""
    return (f"; its entry is held ({int(k)} sessions since |z| crossed the entry, held z {float(note['z']):+.2f}, "
            f"today's z {float(note['z_today']):+.2f}: signals.strategies.hold_entries)")


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
def status_section(inp: Inputs, figs: Figures, session: dt.date, alerts: list[Alert],
                   fresh: pd.DataFrame | None = None) -> Section:
    """Data freshness per bronze source (``fresh``: :func:`freshness` computed already) and the alert rules."""
    sec = Section("status", "10. Data freshness and alerts")
    fr = freshness(inp, session) if fresh is None else fresh
    rows = []
    for r in cast("Iterable[Any]", fr.itertuples()):
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


def book_reason(inp: Inputs) -> str:
    """The sizing's own sentence on what bound the book (``portfolio_sizing/book``), or ``n/a: <why>``."""
    if ("portfolio_sizing", "book") not in inp.tables:
        return na("portfolio_sizing has no book table (what bound the book is not recorded)")
    b = inp.get("portfolio_sizing", "book")
    if b is None or b.empty:
        return na("portfolio_sizing/book is empty")
    r = b.iloc[0]
    reason = str(r.get("reason", "") or "").strip()
    binding = str(r.get("binding", "") or "").strip()
    return plain(reason or f"binding: {binding}") if (reason or binding) else na("no reason recorded")


def _binding_limit(inp: Inputs) -> tuple[str, str]:
    """Overall status and the limit with the highest utilisation (``risk_limits/part``)."""
    lim = inp.get("risk_limits")
    if lim is None:
        return na(f"risk_limits missing: {inp.why('risk_limits')}"), ""
    overall = lim.loc[lim["limit"] == "overall"]
    status = str(overall.iloc[0]["status"]) if len(overall) else na("no overall row")
    rest = lim.loc[(lim["limit"] != "overall") & lim["utilisation"].notna()]
    if rest.empty:
        return status, na("no limit utilisation computable")
    top = rest.sort_values(["utilisation", "limit"], ascending=[False, True]).iloc[0]
    return status, f"{top['limit']} at {pct(top['utilisation'], 0)} of its limit ({top['status']})"


# ----------------------------------------------------------------------------------------------- summary
def summary_section(inp: Inputs, figs: Figures, session: dt.date, tr: TrackRecord, nav: float | None,
                    orders: list[Order] | None, why_no_orders: str, held: str, alerts: list[Alert],
                    outliers: list[Outlier] | None, held_rows: list[list[Cell]] | None = None) -> Section:
    """The block a PM reads first: P&L, MTD/YTD, drawdown, CDI, risk status, orders, alerts, suspect inputs.

    P&L is the model book's (``portfolio_sizing(D-2) x returns(D)``). ``held_rows`` is the hook for the
    desk's held book (``desk.positions_dir``): its P&L rows, when the desk's positions are given, go first.
    """
    sec = Section("summary", "Summary")
    src = "track record (portfolio_sizing of previous sessions x silver_returns)"
    rows: list[list[Cell]] = list(held_rows or [])
    last = tr.daily.loc[tr.daily["date"] == session] if len(tr.daily) else tr.daily
    day = float(last["pnl"].iloc[0]) if len(last) and is_num(last["pnl"].iloc[0]) else None
    why_day = tr.why or (str(last["note"].iloc[0]) if len(last) else "session not in the window")
    brl = day * nav if day is not None and nav is not None else None
    rows.append([_c(f"P&L on {session.isoformat()} (model book), BRL"),
                 figs.add("summary", "P&L BRL", brl, signed(brl, 0, reason=why_day if day is None else
                                                            "nav_brl not configured"), src)])
    rows.append([_c(f"P&L on {session.isoformat()} (model book), % NAV"),
                 figs.add("summary", "P&L % NAV", day, pct(day, 3, plus=True, reason=why_day), src)])
    mtd, why_m = tr.total(session.replace(day=1))
    ytd, why_y = tr.total(dt.date(session.year, 1, 1))
    rows.append([_c("MTD P&L, % NAV"), figs.add("summary", "MTD % NAV", mtd, pct(mtd, 2, plus=True, reason=why_m),
                                                      src)])
    rows.append([_c("YTD P&L, % NAV"), figs.add("summary", "YTD % NAV", ytd, pct(ytd, 2, plus=True,
                                                      reason=why_y), src)])
    dd = float(tr.daily["drawdown"].iloc[-1]) if len(tr.daily) and is_num(tr.daily["drawdown"].iloc[-1]) else None
    rows.append([_c(f"Drawdown from the peak of the track-record window ({tr.spec})"),
                 figs.add("summary", "drawdown from peak", dd, pct(dd, 2, reason=tr.why or "no P&L in the window"),
                          src)])
    tot, why_t = tr.total()
    rows.append([_c(f"Excess over CDI over the window ({tr.spec}; the book earns CDI + this)"),
                 figs.add("summary", "excess over CDI", tot, pct(tot, 2, plus=True, reason=why_t), src)])
    rows.append([_c("CDI over the same window"),
                 figs.add("summary", "CDI over window", tr.cdi, pct(tr.cdi, 2, reason=tr.cdi_note or tr.why),
                          "silver_macro/part")])
    status, binding = _binding_limit(inp)
    rows.append([_c("Risk status"), Cell(status, cls={"BREACHED": "bad", "WARNING": "warn", "OK": "good"}.get(status,
                                                                                                         ""))])
    rows.append([_c("Binding limit (highest utilisation)"), _c(binding or na("no limits"))])
    rows.append([_c("What bound the book"), _c(book_reason(inp))])
    if orders is None:
        rows.append([_c("Orders"), _c(na(why_no_orders or "not computable"))])
    else:
        n = len(orders)
        dv = float(sum(abs(o.dv01_change) for o in orders))
        notl = float(sum(abs(o.notional_brl) for o in orders))
        rows.append([_c("Orders" + (" (WITHHELD: flagged inputs)" if held else "")),
                     figs.add("summary", "orders", n, str(n), "portfolio_sizing/part (this and previous session)")])
        rows.append([_c("DV01 traded, BRL/bp (sum of |change|)"),
                     figs.add("summary", "DV01 traded", dv, num(dv, 0), "portfolio_sizing/part")])
        rows.append([_c("Notional traded, BRL (sum of |notional|)"),
                     figs.add("summary", "notional traded", notl, num(notl, 0), "portfolio_sizing/part")])
    sec.table(["Measure", "Value"], rows, f"Session {session.isoformat()} at a glance")
    fired = [a for a in alerts if a.fired]
    if fired:
        sec.bullets([f"ALERT {a.rule_id} ({a.severity}): "
                     + (f"{sum(o.flagged for o in outliers or [])} input(s) flagged, listed below"
                        if a.rule_id == "INPUT_OUTLIER" else plain(a.message)) for a in fired])
    else:
        sec.p(f"Alerts: none of {len(alerts)} rules fired.")
    flags = []
    if outliers is None:
        flags.append("inputs not checked for outliers: silver_returns missing")
    else:
        flags += [f"flagged input: {o.text()}" for o in outliers if o.flagged]
    flags += [f"stale input: {a.message}" for a in alerts if a.rule_id == "STALE_DATA" and a.fired]
    flags += [f"missing input: {a}/{t}" for a, t in sorted(inp.missing)]
    if flags:
        sec.bullets(flags)
    else:
        sec.p("Inputs: no stale, missing or flagged input.")
    return sec


# ----------------------------------------------------------------------------------------------- track record
def track_section(tr: TrackRecord, figs: Figures, nav: float | None, max_dd: float | None) -> Section:
    """Section 8: daily and cumulative P&L in BRL over the window, drawdown, VaR exceptions (Kupiec)."""
    sec = Section("track", "8. Track record")
    if tr.why:
        sec.missing("track record", tr.why)
        return sec
    src = "portfolio_sizing (previous sessions) x silver_returns; risk_var (previous sessions)"
    sec.p(f"Window {tr.spec} (report.track_record), {len(tr.sessions)} sessions from {tr.sessions[0].isoformat()} to "
          f"{tr.sessions[-1].isoformat()}. Model book, P&L(D) = sizing(D-2) x returns(D), "
          f"excess over CDI funding; BRL at a constant NAV of {num(nav, 0, reason='n/a')}.")
    rows = []
    for r in cast("Iterable[Any]", tr.daily.itertuples()):
        exc = "n/a" if r.exception is None or pd.isna(r.exception) else ("YES" if r.exception else "no")
        rows.append([_c(r.date.isoformat()), _c(signed(r.pnl_brl, 0, reason=str(r.note))),
                     _c(pct(r.pnl, 3, plus=True, reason=str(r.note))), _c(signed(r.cum_brl, 0, reason="n/a")),
                     _c(pct(r.drawdown, 2, reason="n/a")), _c(pct(r.var95, 2, reason="no VaR forecast")),
                     Cell(exc, cls="bad" if exc == "YES" else "")])
    sec.table(["Session", "P&L (BRL)", "P&L (% NAV)", "Cumulative (BRL)", "Drawdown", "VaR 95% held", "Exception"],
              rows, "Daily P&L of the model book over the window")
    bi = tr.by_instrument
    if bi is not None and len(bi):
        d = tr.sessions[-1].isoformat()
        prow = [[_c(str(i)), figs.add("track", f"P&L {i} BRL", None if nav is None else float(v) * nav,
                                      signed(None if nav is None else float(v) * nav, 0, reason="no NAV"), src),
                 _c(pct(float(v), 3, plus=True))]
                for i, v in sorted(bi.items(), key=lambda kv: (float(kv[1]), str(kv[0])))]
        sec.table(["Position", "P&L (BRL)", "P&L (% NAV)"], prow, f"P&L by position on {d} (worst first)")
    ok = tr.ok()
    tot = float(ok["pnl"].sum()) if len(ok) else None
    ddmin = float(tr.daily["drawdown"].min()) if len(ok) else None
    k = tr.kupiec
    sec.table(["Measure", "Value"], [
        [_c("cumulative P&L, BRL"), figs.add("track", "cumulative P&L BRL", None if tot is None or nav is None else
                                             tot * nav, signed(None if tot is None or nav is None else tot * nav, 0,
                                                               reason="no P&L or no NAV"), src)],
        [_c("cumulative P&L, % NAV"), figs.add("track", "cumulative P&L", tot, pct(tot, 2, plus=True,
                                                                                   reason="no P&L"), src)],
        [_c("deepest drawdown from the window's peak"),
         figs.add("track", "max drawdown", ddmin, pct(ddmin, 2, reason="no P&L"), src)],
        [_c("drawdown limit (risk.limits.max_drawdown)"), _c(pct(max_dd, 1, reason="not configured"))],
        [_c("sessions with P&L and VaR"), figs.add("track", "VaR sessions", k.n, str(k.n), src)],
        [_c("VaR 95% exceptions"), figs.add("track", "VaR exceptions", k.exceptions, str(k.exceptions), src)],
        [_c("expected exceptions (5%)"), figs.add("track", "expected exceptions", k.expected, num(k.expected, 2), src)],
        [_c("Kupiec LR (chi-squared, 1 df)"), figs.add("track", "Kupiec LR", k.lr, num(k.lr, 3, reason="no session"),
                                                       src)],
        [_c("Kupiec p-value"), figs.add("track", "Kupiec p-value", k.p_value,
                                        num(k.p_value, 3, reason="no session"), src)],
    ], "Track-record summary")
    if k.p_value is not None:
        verdict = ("rejects" if k.p_value < 0.05 else "does not reject")
        sec.p(f"{k.exceptions} VaR exception(s) in {k.n} sessions against {k.expected:.2f} expected: Kupiec's test "
              f"{verdict} the 95% coverage at 5% (p = {k.p_value:.3f}).")
    if len(ok) and nav is not None:
        # the curve starts at 0 at the close before the window's first session
        before = previous_sessions(tr.sessions[0], 1)
        xs = list(range(len(tr.daily) + 1))
        ys = [0.0, *tr.daily["cum_brl"].ffill().fillna(0.0).tolist()]
        dates = [before[0].isoformat() if before else "start", *(d.isoformat() for d in tr.daily["date"])]
        idx = sorted({0, len(xs) // 2, len(xs) - 1})
        sec.chart(line_chart([Line("cumulative P&L (BRL)", xs, ys)], title="Equity curve: cumulative P&L, BRL",
                             y_fmt=lambda v: f"{v:,.0f}", x_labels=[(i, dates[i]) for i in idx]),
                  "equity curve", "no P&L in the window")
    else:
        sec.missing("chart 'equity curve'", "no P&L or no nav_brl")
    return sec


# ----------------------------------------------------------------------------------------------- input sanity
def sanity_section(outliers: list[Outlier] | None, figs: Figures, mode: str, threshold: float, why: str) -> Section:
    """Section 9: the session's move of every price and rate the book uses against its own history."""
    sec = Section("sanity", "9. Input sanity")
    if outliers is None:
        sec.missing("silver_returns/part", why)
        return sec
    rows = []
    for o in outliers:
        move = na(o.note) if o.change is None else (bp(o.change) if o.kind == "rate" else pct(o.change, 2, plus=True))
        rows.append([_c(o.instrument), _c(move),
                     figs.add("sanity", f"{o.instrument} robust z", o.z, signed(o.z, 1, reason=o.note),
                              "silver_returns/part"),
                     _c(str(o.n_obs)), Cell("FLAGGED" if o.flagged else "ok", cls="bad" if o.flagged else "")])
    sec.table(["Series", "Session move", "Robust z", "History (changes)", "State"], rows,
              f"Session move vs the series' own history (MAD z; flagged at |z| >= {threshold:g}; "
              f"report.outliers: {mode})")
    flagged = [o for o in outliers if o.flagged]
    if flagged:
        act = ("orders are withheld" if mode == "hold" else "orders are shown; set report.outliers: hold to withhold")
        sec.p(f"Flagged: {'; '.join(o.text() for o in flagged)}. Check these prints before acting: {act}.")
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
    report_params = resolve("report", report_params)  # declared defaults for keys not given
    mode = str(report_params["outliers"])
    z_th = float(report_params["outlier_z"])
    ret = inp.get("silver_returns")
    outliers = None if ret is None else check_outliers(
        ret, session, int(report_params["outlier_window"]), int(report_params["outlier_min_obs"]),
        z_th)
    tr = build_track_record(inp, session, report_params, risk_params, nav)
    ok = tr.ok() if not tr.why else tr.daily
    window = None if tr.why or ok.empty or not is_num(tr.daily["drawdown"].iloc[-1]) else (
        tr.spec, -float(tr.daily["drawdown"].iloc[-1]), len(ok))
    fresh = freshness(inp, session)  # once, for the staleness alert and the freshness table
    alerts = evaluate_alerts(inp, session, risk_params, outliers, z_th, mode, window, fresh)
    key_signals = int(report_params["key_signals_per_agent"])
    port, orders, why = portfolio_section(inp, figs, nav)
    orders, why = desk_orders(inp, orders, why)  # the desk's orders against its held book, where it has one
    flagged = [o for o in (outliers or []) if o.flagged]
    held = (f"report.outliers is 'hold' and {len(flagged)} input(s) are flagged "
            f"({', '.join(o.instrument for o in flagged)})") if mode == "hold" and flagged else ""
    limits = risk_params.get("limits") if isinstance(risk_params, Mapping) else None
    max_dd = limits.get("max_drawdown") if isinstance(limits, Mapping) else None
    sections = [
        summary_section(inp, figs, session, tr, nav, orders, why, held, alerts, outliers),
        market_section(inp, figs, session),
        rates_section(inp, figs, session, report_params.get("rates")),
        regime_section(inp, figs),
        agents_section(inp, figs, key_signals),
        signals_section(inp, figs),
        port,
        desk_section(inp, figs),
        risk_section(inp, figs, risk_params),
        actions_section(inp, figs, orders, why, held),
        track_section(tr, figs, nav, max_dd),
        sanity_section(outliers, figs, mode, z_th, inp.why("silver_returns")),
        status_section(inp, figs, session, alerts, fresh),
    ]
    # the rates desk's section (brmacro.report.rates, helper i19b) is inserted here
    fired = [a for a in alerts if a.fired]
    banner = desk_banner(inp)  # circuit breaker or positions status, at the top
    sub = [*([banner] if banner else []), f"Session {session.isoformat()} — source: {source}",
           f"Alerts fired: {len(fired)} of {len(alerts)}"
           + (f" ({', '.join(a.rule_id for a in fired)})" if fired else "")]
    if inp.missing:
        sub.append(f"Missing inputs: {', '.join(sorted(f'{a}/{t}' for a, t in inp.missing))}")
    sub += [f"STALE source {a}: {why}" for a, why in sorted(inp.stale.items())]
    if inp.reconstructed:
        sub.append("RECONSTRUCTED: built from today's live data of a source without vintages (BCB SGS), not from what "
                   f"was public on {session.isoformat()}; inputs: {', '.join(sorted(inp.reconstructed))}")
    title = str(report_params["title"])
    return BuiltReport(Document(f"{title} — {session.isoformat()}", sub, sections), figs.records(), alerts)
