"""The range backtest tear sheet: the model book's track record over a range of sessions.

Path-dependent views (equity curve, drawdown, costs, turnover, monthly returns) come from one job
over a range (DESIGN §3), never from chaining daily partitions. Timing follows DESIGN §3: data of
D's close is processed on D+1 and the book trades at the next settlement, so the *target* for
session D is ``t(D) = portfolio_sizing(D-2)``. Execution is simulated sequentially here (the only
place a held book exists without the desk's positions file), instrument by instrument:

    gap_i     = t_i(D) - h_i(previous P&L session)            (first session: from flat)
    step_i    = gap_i if t_i(D) == 0 (a move to flat is made whole) else participation x gap_i
    trade_i   = 0 if |step_i| x vol_i <= no_trade_band and t_i(D) != 0, else step_i
    h_i(D)    = h_i(prev) + trade_i
    gross_pnl(D) = sum_i h_i(D) * ret_i(D)
    turnover(D)  = sum_i |trade_i|
    cost(D)      = sum_i |trade_i| * c_i(D-1)
    net_pnl(D)   = gross_pnl(D) - cost(D)

with weights as NAV fractions, ``ret`` the excess daily returns of ``silver_returns``, ``vol_i`` the
annualised volatility of the instrument's returns over the 252 sessions up to D-2, and ``c_i`` the
one-way cost of trading one unit of notional at the levels of D-1
(:func:`brmacro.portfolio.costs.one_way_cost`, each instrument in its own unit: DI1 in rate bp x DV01,
DOL/IND/ZN/ES in ticks). Equity compounds ``1 + net_pnl``; Sharpe is the annualised mean over the
annualised volatility of the net excess returns (no risk-free rate is subtracted again).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from brmacro.calendar import previous_sessions
from brmacro.io import write_table
from brmacro.params import defaults, resolve
from brmacro.portfolio.costs import one_way_cost
from brmacro.report.charts import Line, bar_chart, line_chart
from brmacro.report.render import Cell, Document, Section, na, num, pct, render_html, write_text_atomic
from brmacro.report.schemas import BACKTEST, BACKTEST_MONTHLY, BACKTEST_SUMMARY

__all__ = ["BacktestError", "BacktestResult", "build_backtest", "run_backtest"]


class BacktestError(ValueError):
    """The backtest cannot be computed from its inputs (the message names the date and field)."""


@dataclass
class BacktestResult:
    """Daily P&L table, summary metrics, monthly returns, per-instrument attribution and the held book."""

    daily: pd.DataFrame
    summary: pd.DataFrame
    monthly: pd.DataFrame
    instruments: pd.DataFrame
    skipped: list[dt.date]
    held: pd.DataFrame


def _weights(sizing: Mapping[dt.date, pd.DataFrame]) -> dict[dt.date, pd.Series]:
    out = {}
    for d, df in sizing.items():
        if not {"instrument", "weight"} <= set(df.columns):
            raise BacktestError(f"backtest: portfolio_sizing of {d} lacks instrument/weight columns")
        w = df.set_index("instrument")["weight"].astype(float)
        if w.index.has_duplicates:
            raise BacktestError(f"backtest: portfolio_sizing of {d} repeats instruments")
        if not np.isfinite(w.to_numpy()).all():
            raise BacktestError(f"backtest: portfolio_sizing of {d} has a non-finite weight")
        out[pd.Timestamp(d).date()] = w
    return out


def run_backtest(
    sizing: Mapping[dt.date, pd.DataFrame], returns: pd.DataFrame, params: Mapping[str, Any]
) -> BacktestResult:
    """Compute the range backtest (no files written).

    Parameters
    ----------
    sizing : mapping of date to DataFrame
        ``portfolio_sizing`` partitions of every session of the range.
    returns : DataFrame
        The ``silver_returns`` table (``date``, ``instrument``, ``ret``) covering the range.
    params : mapping
        The ``report.backtest`` config mapping (``annualisation``, ``no_trade_band``, ``participation``), with
        ``costs`` (``portfolio.costs``; the defaults when absent).

    Raises
    ------
    BacktestError
        When no session of the range has both its D-2 book and its returns, or a held
        instrument has no return on a session.
    """
    books = _weights(sizing)
    if not books:
        raise BacktestError("backtest: no portfolio_sizing partition given")
    ret = returns.loc[:, [c for c in ("date", "instrument", "ret", "level") if c in returns.columns]].copy()
    ret["date"] = pd.to_datetime(ret["date"]).dt.date
    mat = ret.pivot_table(index="date", columns="instrument", values="ret", aggfunc="first")
    first, last = min(books), max(books)
    insts = sorted(set().union(*[set(w.index) for w in books.values()]))
    bt = resolve("report.backtest", {k: v for k, v in params.items() if k != "costs"})
    ann = int(bt["annualisation"])
    band = float(bt["no_trade_band"])
    part_rate = float(bt["participation"])
    costs = params.get("costs") or defaults("portfolio.costs")  # run_backtest passes portfolio.costs
    if not 0.0 < part_rate <= 1.0 or not band >= 0.0:
        raise BacktestError(f"backtest: participation {part_rate} must be in (0, 1] and no_trade_band {band} >= 0")
    levels = ret.pivot_table(index="date", columns="instrument", values="level", aggfunc="first") \
        if "level" in ret.columns else pd.DataFrame()
    recs, skipped, held_rows, cost_rows = [], [], [], []
    held_prev = pd.Series(0.0, index=insts)
    contrib = {i: [] for i in insts}
    for d in sorted(x for x in books if x > first):
        two_back, one_back = previous_sessions(d, 2)
        if two_back < first:
            continue
        if two_back not in books or d not in mat.index:
            skipped.append(d)
            continue
        t = books[two_back].reindex(insts).fillna(0.0)
        vol = _vols(mat, two_back, insts)
        gap = t - held_prev
        step = gap.where(t == 0, gap * part_rate)  # a move to flat is made whole
        small = (step.abs() * vol <= band) & vol.notna() & (t != 0) & (band > 0)  # unknown vol: no band
        trade = step.where(~small, 0.0)
        w = held_prev + trade
        w = w.where(w.abs() > 1e-15, 0.0)
        r = mat.loc[d].reindex(insts)
        held = w[w != 0]
        bad = [i for i in held.index if not math.isfinite(float(r[i]))]
        if bad:
            raise BacktestError(f"backtest: silver_returns has no ret on {d} for held instrument(s) {bad}")
        r = r.fillna(0.0)
        gross = float((w * r).sum())
        c = _cost_fractions(levels, one_back, insts, costs, trade)
        cost = float((trade.abs() * c).sum())
        for i in insts:
            contrib[i].append(float(w[i] * r[i]))
        recs.append({"date": d, "sizing_date": two_back, "gross_pnl": gross, "turnover": float(trade.abs().sum()),
                     "cost": cost, "net_pnl": gross - cost})
        held_rows.append(w.rename(d))
        cost_rows.append(c.rename(d))
        held_prev = w
    if not recs:
        raise BacktestError(
            f"backtest: no session in {first}..{last} has both portfolio_sizing(D-2) and returns(D); "
            "a range needs at least three consecutive sessions")
    daily = pd.DataFrame.from_records(recs)
    cdf = pd.DataFrame(cost_rows)
    cbp = cdf.where(cdf > 0).mean().reindex(insts).fillna(0.0)
    daily["equity"] = np.cumprod(1.0 + daily["net_pnl"].to_numpy())
    peak = np.maximum.accumulate(np.concatenate([[1.0], daily["equity"].to_numpy()]))[1:]
    daily["drawdown"] = np.minimum(daily["equity"].to_numpy() / peak - 1.0, 0.0)
    daily = daily.loc[:, BACKTEST.names]
    summary = _summary(daily, ann, len(skipped))
    dd = pd.to_datetime(daily["date"])
    monthly = (daily.assign(year=dd.dt.year, month=dd.dt.month)
               .groupby(["year", "month"], sort=True)
               .agg(net_return=("net_pnl", lambda s: float(np.prod(1.0 + s.to_numpy()) - 1.0)),
                    n_sessions=("net_pnl", "size")).reset_index())
    monthly = monthly.loc[:, BACKTEST_MONTHLY.names]
    inst = pd.DataFrame({
        "instrument": insts,
        "contribution": [float(np.sum(contrib[i])) for i in insts],
        "hit_rate": [(float(np.mean(np.array(contrib[i])[np.array(contrib[i]) != 0] > 0))
                      if np.any(np.array(contrib[i]) != 0) else None) for i in insts],
        "active_sessions": [int(np.sum(np.array(contrib[i]) != 0)) for i in insts],
        "cost_bp": [float(cbp[i]) * 1e4 for i in insts],
    })
    held_df = pd.DataFrame(held_rows)
    return BacktestResult(daily, summary, monthly, inst, skipped, held_df)


def _vols(mat: pd.DataFrame, asof: dt.date, insts: list[str], window: int = 252) -> pd.Series:
    """Annualised volatility of each instrument's daily returns over the ``window`` sessions up to ``asof`` (NaN
    with fewer than two)."""
    x = mat.loc[mat.index <= asof].iloc[-window:].reindex(columns=insts)
    return x.std(ddof=1) * math.sqrt(252)


def _cost_fractions(levels: pd.DataFrame, day: dt.date, insts: list[str], costs: Any, trade: pd.Series) -> pd.Series:
    """One-way cost per unit of notional of each instrument at ``day``'s levels (0 where nothing trades)."""
    out = pd.Series(0.0, index=insts)
    traded = [i for i in insts if trade[i] != 0]
    if not traded:
        return out
    if day not in levels.index:
        raise BacktestError(f"backtest: silver_returns has no level on {day} to price the costs of {traded}")
    lv = levels.loc[day]
    fx = float(lv.get("USDBRL", float("nan")))
    for i in traded:
        try:
            out[i] = one_way_cost(i, float(lv.get(i, float("nan"))), fx, costs)[0]
        except ValueError as exc:
            raise BacktestError(f"backtest {day}: {exc}") from None
    return out


def _summary(daily: pd.DataFrame, ann: int, n_skipped: int) -> pd.DataFrame:
    net = daily["net_pnl"].to_numpy(dtype=float)
    n = len(net)
    mean = float(net.mean())
    vol = float(net.std(ddof=1)) * math.sqrt(ann) if n > 1 else None
    ann_ret = mean * ann
    sharpe = ann_ret / vol if vol else None
    active = daily["gross_pnl"].to_numpy() != 0
    rows = [
        ("sessions", float(n), "sessions with a P&L"),
        ("skipped_sessions", float(n_skipped), "sessions of the range without sizing(D-2) or returns(D)"),
        ("total_return", float(daily["equity"].iloc[-1] - 1.0), "compounded net return over the range, NAV fraction"),
        ("annual_return", ann_ret, f"mean daily net P&L x {ann}"),
        ("annual_volatility", vol, f"std (ddof 1) of daily net P&L x sqrt({ann}); null with one session"),
        ("sharpe", sharpe, "annual_return / annual_volatility (excess returns); null when volatility is 0 or n/a"),
        ("max_drawdown", float(daily["drawdown"].min()), "most negative equity / running peak - 1"),
        ("total_cost", float(daily["cost"].sum()), "sum of daily costs, NAV fraction"),
        ("gross_total", float(daily["gross_pnl"].sum()), "sum of daily gross P&L, NAV fraction"),
        ("mean_daily_turnover", float(daily["turnover"].mean()), "mean sum |dw|, NAV fraction (first day from flat)"),
        ("median_daily_turnover", float(daily["turnover"].iloc[1:].median()) if n > 1 else None,
         "median sum |dw| of the executed book, NAV fraction (first day, from flat, left out)"),
        ("annual_turnover", float(daily["turnover"].mean()) * ann, f"mean daily turnover x {ann}"),
        ("hit_rate", float(np.mean(net[active] > 0)) if active.any() else None,
         "share of sessions with a position whose net P&L is positive"),
    ]
    return pd.DataFrame.from_records(rows, columns=BACKTEST_SUMMARY.names)


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _document(res: BacktestResult, title: str) -> Document:
    d = res.daily
    first, last = d["date"].iloc[0], d["date"].iloc[-1]
    s = Section("summary", "Summary")
    fmt = {"sessions": lambda v: num(v, 0), "skipped_sessions": lambda v: num(v, 0), "sharpe": lambda v: num(v, 2)}
    rows = []
    for r in res.summary.itertuples():
        f = fmt.get(r.metric, lambda v: pct(v, 2))
        rows.append([Cell(r.metric), Cell(f(r.value) if r.value is not None and not pd.isna(r.value)
                                           else na("not computable"), fig=f"summary/{r.metric}"), Cell(r.note)])
    s.table(["Metric", "Value", "Definition"], rows,
            "Net of costs; P&L(D) = held book(D) . returns(D), held book traded toward portfolio_sizing(D-2)")
    if res.skipped:
        s.p(f"Sessions skipped (no sizing two sessions before, or no returns): "
            f"{', '.join(x.isoformat() for x in res.skipped[:20])}{' ...' if len(res.skipped) > 20 else ''}")
    c = Section("charts", "Equity and drawdown")
    xs = list(range(len(d)))
    idx = sorted({0, len(d) // 2, len(d) - 1})
    labels = [(i, d["date"].iloc[i].isoformat()) for i in idx]
    c.chart(line_chart([Line("equity (net)", xs, d["equity"].tolist())], title="Equity curve (start = 1)",
                       y_fmt=lambda v: f"{v:.3f}", x_labels=labels), "equity", "no P&L")
    c.chart(line_chart([Line("drawdown", xs, d["drawdown"].tolist())], title="Drawdown",
                       y_fmt=lambda v: pct(v, 1), x_labels=labels), "drawdown", "no P&L")
    m = Section("monthly", "Monthly net returns")
    piv = res.monthly.pivot(index="year", columns="month", values="net_return")
    mrows = []
    for y in piv.index:
        cells = [Cell(str(int(y)))]
        for mo in range(1, 13):
            v = piv.loc[y].get(mo) if mo in piv.columns else None
            cells.append(Cell(pct(v, 2) if v is not None and not pd.isna(v) else "-"))
        mrows.append(cells)
    m.table(["Year", *_MONTHS], mrows, "Compounded net P&L per month ('-' = no session of the range)")
    m.chart(bar_chart([f"{int(r.year)}-{int(r.month):02d}" for r in res.monthly.itertuples()],
                      res.monthly["net_return"].tolist(), title="Monthly net returns", y_fmt=lambda v: pct(v, 1)),
            "monthly", "no month")
    i = Section("instruments", "Per instrument")
    i.table(["Instrument", "Contribution (sum, NAV)", "Hit rate", "Active sessions", "Mean cost (bp of notional)"],
            [[Cell(r.instrument), Cell(pct(r.contribution, 3)),
              Cell(pct(r.hit_rate, 0, reason="never held") if r.hit_rate is not None and not pd.isna(r.hit_rate)
                   else na("never held")),
              Cell(str(r.active_sessions)), Cell(num(r.cost_bp, 2))] for r in res.instruments.itertuples()],
            "Gross contribution and hit rate by instrument (strategy-level attribution needs per-strategy books)")
    t = Section("daily", "Daily P&L")
    t.table(["Session", "Book of", "Gross", "Turnover", "Cost", "Net", "Equity", "Drawdown"],
            [[Cell(r.date.isoformat()), Cell(r.sizing_date.isoformat()), Cell(pct(r.gross_pnl, 3)),
              Cell(pct(r.turnover, 1)), Cell(pct(r.cost, 4)), Cell(pct(r.net_pnl, 3)), Cell(f"{r.equity:.4f}"),
              Cell(pct(r.drawdown, 2))] for r in d.itertuples()])
    sub = [f"Range {first.isoformat()} to {last.isoformat()} ({len(d)} sessions with P&L)",
           "Timing: the target decided from D-2's close is traded toward at D-1's settlement and held on D "
           "(DESIGN §3); execution with the no-trade band and costs per instrument (docs/portfolio.md)."]
    return Document(f"{title} — {first.isoformat()} to {last.isoformat()}", sub, [s, c, m, i, t])


def build_backtest(
    sizing: Mapping[dt.date, pd.DataFrame],
    returns: pd.DataFrame,
    params: Mapping[str, Any],
    out_html: str | Path,
    out_table: str | Path,
    *,
    source: str = "demo",
    title: str = "brmacro backtest",
) -> BacktestResult:
    """Run the range backtest and write its tear sheet and tables.

    Parameters
    ----------
    sizing : mapping of date to DataFrame
        ``portfolio_sizing`` of every session of the range.
    returns : DataFrame
        ``silver_returns`` of the last session of the range (its history covers the range).
    params : mapping
        The ``report.backtest`` config mapping.
    out_html : path
        The tear sheet (self-contained HTML).
    out_table : path
        The daily table (:data:`BACKTEST`); the summary and monthly tables are written beside it as
        ``<stem>_summary.parquet`` and ``<stem>_monthly.parquet``.
    source : str
        ``demo`` or ``live`` (artifact metadata).
    title : str
        Tear-sheet heading.
    """
    res = run_backtest(sizing, returns, params)
    out_table = Path(out_table)
    asof = res.daily["date"].iloc[-1]
    write_table(res.daily, out_table, BACKTEST, asof=asof, source=source, params=params)
    write_table(res.summary, out_table.with_name(f"{out_table.stem}_summary.parquet"), BACKTEST_SUMMARY, asof=asof,
                source=source, params=params)
    write_table(res.monthly, out_table.with_name(f"{out_table.stem}_monthly.parquet"), BACKTEST_MONTHLY, asof=asof,
                source=source, params=params)
    write_text_atomic(out_html, render_html(_document(res, title)))
    return res
