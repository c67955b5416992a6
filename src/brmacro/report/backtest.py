"""The range backtest tear sheet: the model book's track record over a range of sessions.

Path-dependent views (equity curve, drawdown, costs, turnover, monthly returns) come from one job
over a range (DESIGN §3), never from chaining daily partitions. Timing follows DESIGN §3: data of
D's close is processed on D+1 and the book trades at the next settlement, so the *target* for
session D is ``t(D) = portfolio_sizing(D-2)``. Execution is simulated sequentially here (the only
place a held book exists without the desk's positions file), instrument by instrument, with the rule the daily
orders use against a held book (:func:`brmacro.portfolio.execution.execution_step`):

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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from brmacro.calendar import next_session, previous_sessions, sessions_between
from brmacro.io import write_table
from brmacro.params import defaults, resolve
from brmacro.portfolio.costs import one_way_cost
from brmacro.portfolio.execution import EXECUTION_KEYS, execution_settings, execution_step
from brmacro.report.charts import Line, bar_chart, line_chart
from brmacro.report.render import Cell, Document, Section, na, num, pct, render_html, write_text_atomic
from brmacro.report.schemas import (
    BACKTEST,
    BACKTEST_ATTRIBUTION,
    BACKTEST_DRAWDOWNS,
    BACKTEST_INSTRUMENTS,
    BACKTEST_MONTHLY,
    BACKTEST_ROLLING,
    BACKTEST_SUMMARY,
)

__all__ = ["BacktestError", "BacktestResult", "backtest_settings", "build_backtest", "run_backtest", "signal_skill"]


class BacktestError(ValueError):
    """The backtest cannot be computed from its inputs (the message names the date and field)."""


@dataclass
class BacktestResult:
    """Daily P&L table, summary metrics, monthly returns, per-instrument attribution and the held book; with the
    views and signals of the range, the attribution by signal and agent (:mod:`brmacro.report.attribution`); with
    the CDI, the book against it."""

    daily: pd.DataFrame
    summary: pd.DataFrame
    monthly: pd.DataFrame
    instruments: pd.DataFrame
    skipped: list[dt.date]
    held: pd.DataFrame
    rolling: pd.DataFrame | None = None
    drawdowns: pd.DataFrame | None = None
    attribution: pd.DataFrame | None = None


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


def backtest_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """The ``params`` of :func:`run_backtest` from a config (the whole run's, or the ``backtest`` rule's selection of
    ``brmacro.pipeline.BACKTEST_KEYS``): ``report.backtest`` with the cost model and every execution setting of the
    daily orders (``portfolio.costs`` and ``EXECUTION_KEYS``, each absent one at its declared default). The one
    place that mapping is assembled: the rule and every benchmark of the book call it, so a ``portfolio`` setting
    given to either reaches the backtest."""
    from brmacro.params import section
    from brmacro.portfolio.steps import portfolio_config

    pcfg = portfolio_config(config)
    return {**section(config, "report.backtest"), "costs": pcfg["costs"], **{k: pcfg[k] for k in EXECUTION_KEYS}}


def run_backtest(
    sizing: Mapping[dt.date, pd.DataFrame],
    returns: pd.DataFrame,
    params: Mapping[str, Any],
    *,
    views: Mapping[dt.date, pd.DataFrame] | None = None,
    signals: Mapping[dt.date, pd.DataFrame] | None = None,
    cdi: Mapping[dt.date, float] | None = None,
) -> BacktestResult:
    """Compute the range backtest (no files written).

    Parameters
    ----------
    sizing : mapping of date to DataFrame
        ``portfolio_sizing`` partitions of every session of the range.
    returns : DataFrame
        The ``silver_returns`` table (``date``, ``instrument``, ``ret``) covering the range.
    params : mapping
        ``annualisation`` and ``rolling_sessions`` (rolling Sharpe window) (``report.backtest``),
        the execution settings ``no_trade_band``, ``participation`` and ``reversal_through_flat``
        (``portfolio``, ``brmacro.params.portfolio.EXECUTION_KEYS``), and ``costs`` (``portfolio.costs``; the
        defaults when absent).
    views, signals : mapping of date to DataFrame, optional
        ``portfolio_optimization.views`` and ``signal_aggregation.strategy_signals`` of every sizing session: the
        attribution by signal and agent (both needed; a sizing session missing from either raises).
    cdi : mapping of date to float, optional
        Daily CDI (decimal per day) by session (``silver_returns.prices`` ``cdi:daily``): the book against CDI.

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
    bt = resolve("report.backtest", {k: v for k, v in params.items()
                                      if k not in ("costs", *EXECUTION_KEYS)})
    ann = int(bt["annualisation"])
    # run_backtest passes the portfolio's execution rule and cost model (one each, with the daily orders)
    costs = params.get("costs") or defaults("portfolio.costs")
    try:
        band, part_rate, through_flat = execution_settings(params)
    except ValueError as exc:
        raise BacktestError(f"backtest: {exc}") from None
    levels = ret.pivot_table(index="date", columns="instrument", values="level", aggfunc="first") \
        if "level" in ret.columns else pd.DataFrame()
    recs, skipped, held_rows, cost_rows, trade_rows, vol_rows = [], [], [], [], [], []
    held_prev = pd.Series(0.0, index=insts)
    contrib: dict[str, list[float]] = {i: [] for i in insts}
    for d in sorted(x for x in books if x > first):
        two_back, one_back = previous_sessions(d, 2)
        if two_back < first:
            continue
        if two_back not in books or d not in mat.index:
            skipped.append(d)
            continue
        t = books[two_back].reindex(insts).fillna(0.0)
        vol = _vols(mat, two_back, insts)
        # the same execution rule as the daily orders (partial move, no-trade band, flat is whole)
        step, _inside, _reversal = execution_step(t.to_numpy(float), held_prev.to_numpy(float),
                                                  vol.to_numpy(float), band, part_rate, through_flat)
        trade = pd.Series(step, index=insts)
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
        trade_rows.append(trade.rename(d))
        vol_rows.append(vol.rename(two_back))
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
    res = BacktestResult(daily, summary, monthly, inst, skipped, held_df)
    _add_range_views(res, mat, pd.DataFrame(trade_rows), cdf, pd.DataFrame(vol_rows), params, views, signals, cdi)
    return res


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
    fmt: dict[str, Callable[[Any], str]] = {"sessions": lambda v: num(v, 0), "skipped_sessions": lambda v: num(v, 0),
                                            "sharpe": lambda v: num(v, 2)}
    rows = []
    for r in cast("Iterable[Any]", res.summary.itertuples()):
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
    m.chart(bar_chart([f"{int(r.year)}-{int(r.month):02d}" for r in cast("Iterable[Any]", res.monthly.itertuples())],
                      res.monthly["net_return"].tolist(), title="Monthly net returns", y_fmt=lambda v: pct(v, 1)),
            "monthly", "no month")
    i = Section("instruments", "Per instrument")
    i.table(["Instrument", "Contribution (sum, NAV)", "Hit rate", "Active sessions", "Mean cost (bp of notional)"],
            [[Cell(r.instrument), Cell(pct(r.contribution, 3)),
              Cell(pct(r.hit_rate, 0, reason="never held") if r.hit_rate is not None and not pd.isna(r.hit_rate)
                   else na("never held")),
              Cell(str(r.active_sessions)), Cell(num(r.cost_bp, 2))]
             for r in cast("Iterable[Any]", res.instruments.itertuples())],
            "Gross contribution and hit rate by instrument (turnover and costs per instrument: the attribution "
            "section)")
    t = Section("daily", "Daily P&L")
    t.table(["Session", "Book of", "Gross", "Turnover", "Cost", "Net", "Equity", "Drawdown"],
            [[Cell(r.date.isoformat()), Cell(r.sizing_date.isoformat()), Cell(pct(r.gross_pnl, 3)),
              Cell(pct(r.turnover, 1)), Cell(pct(r.cost, 4)), Cell(pct(r.net_pnl, 3)), Cell(f"{r.equity:.4f}"),
              Cell(pct(r.drawdown, 2))] for r in cast("Iterable[Any]", d.itertuples())])
    sub = [f"Range {first.isoformat()} to {last.isoformat()} ({len(d)} sessions with P&L)",
           "Timing: the target decided from D-2's close is traded toward at D-1's settlement and held on D "
           "(DESIGN §3); execution with the no-trade band and costs per instrument (docs/portfolio.md)."]
    return Document(f"{title} — {first.isoformat()} to {last.isoformat()}", sub, [s, c, m, i, *_range_sections(res), t])


def build_backtest(
    sizing: Mapping[dt.date, pd.DataFrame],
    returns: pd.DataFrame,
    params: Mapping[str, Any],
    out_html: str | Path,
    out_table: str | Path,
    *,
    source: str = "demo",
    title: str = "brmacro backtest",
    views: Mapping[dt.date, pd.DataFrame] | None = None,
    signals: Mapping[dt.date, pd.DataFrame] | None = None,
    cdi: Mapping[dt.date, float] | None = None,
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
        The daily table (:data:`BACKTEST`); the summary, monthly, instruments, rolling and drawdowns tables are
        written beside it as ``<stem>_<name>.parquet``, and the attribution table when views and signals are given.
    source : str
        ``demo`` or ``live`` (artifact metadata).
    title : str
        Tear-sheet heading.
    views, signals, cdi : optional
        As in :func:`run_backtest`.
    """
    res = run_backtest(sizing, returns, params, views=views, signals=signals, cdi=cdi)
    out_table = Path(out_table)
    asof = res.daily["date"].iloc[-1]
    write_table(res.daily, out_table, BACKTEST, asof=asof, source=source, params=params)
    write_table(res.summary, out_table.with_name(f"{out_table.stem}_summary.parquet"), BACKTEST_SUMMARY, asof=asof,
                source=source, params=params)
    write_table(res.monthly, out_table.with_name(f"{out_table.stem}_monthly.parquet"), BACKTEST_MONTHLY, asof=asof,
                source=source, params=params)
    extra = [("instruments", res.instruments, BACKTEST_INSTRUMENTS), ("rolling", res.rolling, BACKTEST_ROLLING),
             ("drawdowns", res.drawdowns, BACKTEST_DRAWDOWNS), ("attribution", res.attribution, BACKTEST_ATTRIBUTION)]
    for name, df, schema in extra:
        if df is not None:
            write_table(df, out_table.with_name(f"{out_table.stem}_{name}.parquet"), schema, asof=asof, source=source,
                        params=params)
    write_text_atomic(out_html, render_html(_document(res, title)))
    return res


# --------------------------------------------------------------------------- range views (attribution, CDI, drawdowns)

def _add_range_views(res: BacktestResult, mat: pd.DataFrame, trades: pd.DataFrame, unit_costs: pd.DataFrame,
                     vols: pd.DataFrame, params: Mapping[str, Any], views: Mapping[dt.date, pd.DataFrame] | None,
                     signals: Mapping[dt.date, pd.DataFrame] | None, cdi: Mapping[dt.date, float] | None) -> None:
    """Fill the per-instrument turnover and costs, the rolling and CDI table, the drawdown table, the CDI rows of the
    summary and (with views and signals) the attribution of ``res`` (:mod:`brmacro.report.attribution`)."""
    from brmacro.report import attribution as at

    d = res.daily
    dates = d["date"].tolist()
    insts = list(res.instruments["instrument"])
    trades = trades.reindex(columns=insts).fillna(0.0)
    paid = trades.abs() * unit_costs.reindex(index=trades.index, columns=insts).fillna(0.0)
    res.instruments = res.instruments.assign(
        turnover=[float(trades[i].abs().sum()) for i in insts], cost=[float(paid[i].sum()) for i in insts],
    ).loc[:, BACKTEST_INSTRUMENTS.names]
    ann = int(params.get("annualisation", 252))
    window = int(params.get("rolling_sessions", 63))
    if window < 2:
        raise BacktestError(f"backtest: rolling_sessions {window} must be at least 2")
    sharpe, rvol = at.rolling_sharpe(d["net_pnl"].to_numpy(dtype=float), window, ann)
    rolling = pd.DataFrame({"date": dates, "rolling_sharpe": sharpe, "rolling_vol": rvol})
    if cdi is not None:
        try:
            c = at.cdi_returns(dates, cdi)
        except ValueError as exc:
            raise BacktestError(f"backtest: {exc}") from None
        daily_cdi, rows = at.against_cdi(dates, d["net_pnl"].to_numpy(dtype=float), c, ann)
        rolling = rolling.merge(daily_cdi, on="date", how="left")
        extra = pd.DataFrame.from_records(rows, columns=BACKTEST_SUMMARY.names)
        res.summary = pd.concat([res.summary, extra], ignore_index=True)
    else:
        rolling = rolling.assign(cdi_return=None, book_return=None, cdi_index=None, book_index=None)
    res.rolling = rolling.astype({"rolling_sharpe": float, "rolling_vol": float}).loc[:, BACKTEST_ROLLING.names]
    res.drawdowns = at.drawdown_table(dates, d["equity"].to_numpy()).loc[:, BACKTEST_DRAWDOWNS.names]
    if views is None or signals is None:
        return
    pnl_rows: list[tuple[str, str, float, float]] = []
    pairs = []
    held_np = res.held.reindex(index=dates, columns=insts).fillna(0.0).to_numpy()
    ret_np = mat.reindex(index=dates, columns=insts).to_numpy(dtype=float)
    paid_np = paid.reindex(index=dates, columns=insts).fillna(0.0).to_numpy()
    vol_np = vols.reindex(columns=insts)
    col = {x: k for k, x in enumerate(insts)}
    skill = _Skill(mat, insts)
    for n, (day, s) in enumerate(zip(dates, d["sizing_date"], strict=True)):
        if s not in views or s not in signals:
            raise BacktestError(f"backtest: no portfolio_optimization.views / signal_aggregation.strategy_signals "
                                f"of {s} (the book held on {day}) for the attribution")
        r = np.nan_to_num(ret_np[n])
        g, k = held_np[n] * r, paid_np[n]
        live = {i for i in insts if g[col[i]] != 0 or k[col[i]] != 0}
        seen = set()
        for inst, sig, agent, share in at.share_rows(views[s], signals[s]):
            if inst in live:
                pnl_rows.append((sig, agent, share * float(g[col[inst]]), share * float(k[col[inst]])))
                seen.add(inst)
        for inst in sorted(live - seen):
            pnl_rows.append((at.NO_VIEW, at.NO_VIEW, float(g[col[inst]]), float(k[col[inst]])))
        vol = vol_np.loc[s].to_numpy(dtype=float) if s in vol_np.index else np.full(len(insts), np.nan)
        pairs.append(skill.pairs(signals[s], day, vol))
    pnl = pd.DataFrame(pnl_rows, columns=["signal", "agent", "gross", "cost"])
    res.attribution = at.attribution_summary(pnl, _Skill.concat(pairs), float(d["gross_pnl"].sum()))


class _Skill:
    """The skill pairs of sizing sessions against a returns matrix (``date`` x ``instrument``, session order): the
    one-session outcome ``r(D) / vol(s)`` and the horizon outcome over every session with returns from ``D``."""

    def __init__(self, mat: pd.DataFrame, insts: list[str]) -> None:
        self.insts = insts
        self.col = {x: k for k, x in enumerate(insts)}
        # a row for every B3 session of the span, so a session missing from the returns is a missing return
        # inside a window (the pair is left out), never a window that silently spans more than H sessions
        days = sorted(set(mat.index) | set(sessions_between(min(mat.index), max(mat.index)))) if len(mat) else []
        self.returns = mat.reindex(index=days, columns=insts).to_numpy(dtype=float)
        self.row = {x: k for k, x in enumerate(days)}

    def pairs(self, signals: pd.DataFrame, day: dt.date, vol: np.ndarray) -> pd.DataFrame:
        """:func:`brmacro.report.attribution.skill_pairs` of ``signals`` whose positions first earn on ``day``,
        ``vol`` (annualised, by instrument of ``insts``) known at the sizing session."""
        from brmacro.report import attribution as at

        start = self.row[day]
        with np.errstate(divide="ignore", invalid="ignore"):
            scaled = np.where(vol > 0, self.returns[start] / vol, np.nan)

        def horizon(names: np.ndarray, h: np.ndarray) -> np.ndarray:
            cols = np.array([self.col.get(x, -1) for x in names], dtype=int)
            return at.forward_outcomes(self.returns, start, cols, h, np.append(vol, np.nan)[cols])  # -1: NaN

        return at.skill_pairs(signals, pd.Series(scaled, index=self.insts), horizon)

    @staticmethod
    def concat(pairs: list[pd.DataFrame]) -> pd.DataFrame:
        return pd.concat(pairs, ignore_index=True) if pairs else pd.DataFrame(
            columns=["signal", "agent", "score", "outcome", "outcome_h"])


def signal_skill(signals: Mapping[dt.date, pd.DataFrame], returns: pd.DataFrame) -> pd.DataFrame:
    """IC, hit rate and horizon IC per signal and agent of the ``signal_aggregation.strategy_signals`` of any
    sessions, without a book: the active convictions of session ``s`` against the returns from ``D``, the second
    session after ``s`` (the first a position sized on ``s`` earns; :func:`run_backtest`'s timing), vol over the
    252 sessions up to ``s``. For sampled sessions (``bench.long_book``); columns of ``backtest_attribution``
    (the P&L columns 0: no book). Sessions whose ``D`` has no returns are left out. Equal to
    :func:`run_backtest`'s skill figures when every session's ``D`` is in the backtest's range and every signal
    instrument is in its books (the pipeline's sizing lists every tradable); here every returns column counts."""
    from brmacro.report import attribution as at

    ret = returns.loc[:, ["date", "instrument", "ret"]].copy()
    ret["date"] = pd.to_datetime(ret["date"]).dt.date
    mat = ret.pivot_table(index="date", columns="instrument", values="ret", aggfunc="first")
    insts = sorted(mat.columns)
    skill = _Skill(mat, insts)
    pairs = []
    for s in sorted(signals):
        day = next_session(next_session(s))
        if day in skill.row:
            pairs.append(skill.pairs(signals[s], day, _vols(mat, s, insts).to_numpy(dtype=float)))
    empty = pd.DataFrame(columns=["signal", "agent", "gross", "cost"])
    return at.attribution_summary(empty, _Skill.concat(pairs), 0.0)


def _range_sections(res: BacktestResult) -> list[Section]:
    """Tear-sheet sections of the attribution, rolling Sharpe, CDI and drawdowns (when computed)."""
    out = []
    if res.attribution is not None:
        a = Section("attribution", "Attribution by agent and signal")
        for level, head in (("agent", "Agent"), ("signal", "Signal")):
            sub = res.attribution[res.attribution["level"] == level].sort_values("gross_pnl", ascending=False)

            def opt(v: Any, f: Any) -> Cell:
                return Cell(f(v) if v is not None and not pd.isna(v) else na("no pairs"))

            a.table([head, "Gross P&L (NAV)", "Cost", "Net", "Share of gross", "IC", "IC pairs", "Hit rate",
                     "Horizon IC", "Horizon pairs"],
                    [[Cell(str(r.name)), Cell(pct(r.gross_pnl, 3), fig=f"attribution/{level}/{r.name}/gross_pnl"),
                      Cell(pct(r.cost, 4)), Cell(pct(r.net_pnl, 3)), opt(r.share_of_gross, lambda v: pct(v, 0)),
                      opt(r.ic, lambda v: num(v, 3)), Cell(str(r.ic_pairs)), opt(r.hit_rate, lambda v: pct(v, 0)),
                      opt(r.ic_horizon, lambda v: num(v, 3)), Cell(str(r.ic_horizon_pairs))]
                     for r in sub.itertuples()],
                    "Each position's P&L split between its views (by view return) and, inside a view, between its "
                    "signals (by weight x conviction); IC = corr(conviction(s), ret(D)/vol), D = s + 2 sessions; "
                    "horizon IC: the same conviction against the return over the signal's horizon from D "
                    "(overlapping windows; docs/backtest.md)")
        out.append(a)
    i = Section("turnover", "Turnover and costs per instrument")
    i.table(["Instrument", "Turnover (sum, NAV)", "Cost (sum, NAV)", "Mean cost (bp)"],
            [[Cell(str(r.instrument)), Cell(pct(r.turnover, 1)), Cell(pct(r.cost, 4)), Cell(num(r.cost_bp, 2))]
             for r in res.instruments.itertuples()])
    out.append(i)
    if res.rolling is not None:
        r = Section("rolling", "Rolling Sharpe and the book against CDI")
        ro = res.rolling
        xs = list(range(len(ro)))
        idx = sorted({0, len(ro) // 2, len(ro) - 1})
        labels = [(k, ro["date"].iloc[k].isoformat()) for k in idx]
        ok = ro["rolling_sharpe"].notna()
        if ok.any():
            r.chart(line_chart([Line("rolling Sharpe", [x for x, o in zip(xs, ok, strict=True) if o],
                                     ro.loc[ok, "rolling_sharpe"].tolist())], title="Rolling Sharpe (net, excess)",
                               y_fmt=lambda v: f"{v:.2f}", x_labels=labels), "rolling_sharpe", "range too short")
        else:
            r.p("Rolling Sharpe: the range is shorter than report.backtest.rolling_sessions.")
        if ro["cdi_index"].notna().all():
            r.chart(line_chart([Line("book (CDI + net)", xs, ro["book_index"].astype(float).tolist()),
                                Line("CDI", xs, ro["cdi_index"].astype(float).tolist())],
                               title="Book total return against CDI (start = 1)", y_fmt=lambda v: f"{v:.3f}",
                               x_labels=labels), "cdi", "no CDI")
        out.append(r)
    if res.drawdowns is not None:
        dd = Section("drawdowns", "Drawdowns")
        top = res.drawdowns.head(10)

        def day(v: Any) -> str:
            return v.isoformat() if v is not None and not pd.isna(v) else "-"

        dd.table(["Rank", "Peak", "Trough", "Recovery", "Depth", "Sessions to trough", "Sessions under water"],
                 [[Cell(str(x.rank)), Cell(day(x.peak_date)), Cell(day(x.trough_date)), Cell(day(x.recovery_date)),
                   Cell(pct(x.depth, 2)), Cell(str(x.sessions_to_trough)), Cell(str(x.sessions_under_water))]
                  for x in top.itertuples()],
                 f"The {len(top)} deepest of {len(res.drawdowns)} drawdowns of the net equity ('-': start of the "
                 "range, or not recovered)")
        out.append(dd)
    return out
