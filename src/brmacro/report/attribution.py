"""Backtest attribution: P&L by signal and by agent through the views, signal skill, rolling Sharpe, drawdowns, CDI.

The book held on session D trades toward the target sized from session ``s = D-2``
(:mod:`brmacro.report.backtest`). Instrument ``i`` earns ``g_i(D) = h_i(D) x r_i(D)`` and pays ``k_i(D)``
in costs. Its P&L is split along the chain that put the position there, with the views and signals of ``s``:

- between the views on ``i`` (``portfolio_optimization.views``) in proportion to their view return:
  ``a_v = q_v / sum_u q_u`` (an ``AGG:<i>`` view of the aggregated signals, an ``XA:<key>`` cross-asset view);
- inside an ``AGG`` view, between the active signals of ``i`` (``signal_aggregation.strategy_signals``) in
  proportion to their part of the aggregated conviction: ``b_j = w_j c_j / sum_k w_k c_k`` (aggregation weight
  times conviction; a signal against the consensus gets a negative share). An ``XA`` view is one signal of the
  cross-asset agent.
- A position with no view on ``s`` (a covariance hedge, the prior, or what partial execution still holds of an
  older target) goes to ``(no view)``.

Shares of one instrument sum to 1 (an equal split when a denominator is 0), so the P&L of every level sums to the
book's: by ``signal`` (a strategy id, an agent signal id or an ``XA:`` view) and by ``agent`` (the emitting agent
for agent signals and ``XA`` views, ``strategies`` for every strategy). Costs are split the same way.

Skill of a signal: pairs of its conviction ``c_j,i(s)`` (active rows, ``c != 0``) and the vol-scaled return that
its position first earns, ``r_i(D) / vol_i(s)`` (``vol`` annualised over 252 sessions up to ``s``). The information
coefficient is their Pearson correlation over every pair of the range (null under three pairs or with a constant
side); the hit rate is the share of pairs with ``sign(c) = sign(r)`` (``r = 0`` left out). The *horizon* IC pairs
the same conviction with the vol-scaled return over the signal's own horizon ``H_j`` (the ``horizon`` of its row,
B3 sessions) from ``D``: ``sum_{k<H} r_i(D+k) / (vol_i(s) sqrt(H_j))``, the forecast the signal is meant for. A
pair whose window runs past the returns or misses a session's return is left out; windows of consecutive
sessions overlap, so a horizon IC rests on about (sessions / H) independent outcomes, not on its pair count.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from brmacro.calendar import anbima_days
from brmacro.report.schemas import BACKTEST_ATTRIBUTION

__all__ = [
    "NO_VIEW",
    "STRATEGIES",
    "against_cdi",
    "attribution_summary",
    "drawdown_table",
    "forward_outcomes",
    "hit_rate",
    "information_coefficient",
    "instrument_shares",
    "rolling_sharpe",
    "share_rows",
    "skill_pairs",
]

NO_VIEW = "(no view)"
"""Name of the share of a position without a view on its sizing session."""
STRATEGIES = "strategies"
"""Agent-level name of every strategy signal (strategies belong to no agent)."""
_XA_AGENT = "cross_asset"


def information_coefficient(score: Sequence[float] | np.ndarray, outcome: Sequence[float] | np.ndarray
                            ) -> tuple[float | None, int]:
    """Pearson correlation of ``score`` and ``outcome`` over the finite pairs, and their number.

    None with fewer than three pairs or when either side is constant.
    """
    x, y = np.asarray(score, dtype=float), np.asarray(outcome, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    n = int(len(x))
    if n < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None, n
    dx, dy = x - x.mean(), y - y.mean()
    den = math.sqrt(float(dx @ dx) * float(dy @ dy))
    if den <= 0.0:
        return None, n
    return float(np.clip(float(dx @ dy) / den, -1.0, 1.0)), n


def hit_rate(score: Sequence[float] | np.ndarray, outcome: Sequence[float] | np.ndarray) -> tuple[float | None, int]:
    """Share of pairs with a non-zero score and outcome whose signs agree, and the number of such pairs."""
    x, y = np.asarray(score, dtype=float), np.asarray(outcome, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y) & (x != 0) & (y != 0)
    n = int(ok.sum())
    return (float(np.mean(np.sign(x[ok]) == np.sign(y[ok]))) if n else None), n


def _split(values: np.ndarray) -> np.ndarray:
    """``v / sum(v)``, or an equal split when the sum is 0."""
    tot = float(values.sum())
    if len(values) == 0:
        return values
    return values / tot if abs(tot) > 1e-300 else np.full(len(values), 1.0 / len(values))


def share_rows(views: pd.DataFrame, signals: pd.DataFrame) -> list[tuple[str, str, str, float]]:
    """The rows of :func:`instrument_shares` as ``(instrument, signal, agent, share)`` tuples."""
    act = signals[signals["status"] == "active"]
    s_inst = act["instrument"].astype(str).to_numpy()
    s_id = act["signal_id"].astype(str).to_numpy()
    s_agent = np.where((act["source"] == "agent").to_numpy() & (act["agent"].astype(str) != "").to_numpy(),
                       act["agent"].astype(str).to_numpy(), STRATEGIES)
    s_wc = act["weight"].to_numpy(dtype=float) * act["conviction"].to_numpy(dtype=float)
    v_inst = views["instrument"].astype(str).to_numpy()
    v_id = views["view_id"].astype(str).to_numpy()
    v_src = views["source"].astype(str).to_numpy()
    v_q = views["q"].to_numpy(dtype=float)
    rows: list[tuple[str, str, str, float]] = []
    for inst in sorted(set(v_inst)):
        vi = np.flatnonzero(v_inst == inst)
        for share_v, k in zip(_split(v_q[vi]), vi, strict=True):
            if v_src[k] != "signal_aggregation":
                rows.append((inst, v_id[k], _XA_AGENT, float(share_v)))
                continue
            si = np.flatnonzero(s_inst == inst)
            if not len(si):
                rows.append((inst, v_id[k], NO_VIEW, float(share_v)))
                continue
            for share_s, j in zip(_split(s_wc[si]), si, strict=True):
                rows.append((inst, s_id[j], str(s_agent[j]), float(share_v * share_s)))
    return rows


def instrument_shares(views: pd.DataFrame, signals: pd.DataFrame) -> pd.DataFrame:
    """Shares of one sizing session: ``instrument``, ``signal``, ``agent``, ``share`` (summing to 1 per instrument).

    Parameters
    ----------
    views : DataFrame
        ``portfolio_optimization.views`` of the session (``view_id``, ``instrument``, ``source``, ``q``).
    signals : DataFrame
        ``signal_aggregation.strategy_signals`` of the session (``source``, ``agent``, ``signal_id``,
        ``instrument``, ``status``, ``conviction``, ``weight``).
    """
    return pd.DataFrame(share_rows(views, signals), columns=["instrument", "signal", "agent", "share"])


def forward_outcomes(returns: np.ndarray, start: int, cols: np.ndarray, horizons: np.ndarray,
                     vol: np.ndarray) -> np.ndarray:
    """Vol-scaled forward returns ``sum(returns[start:start+h, col]) / (vol sqrt(h))``, one per ``(col, h, vol)``.

    ``returns`` is a sessions x instruments matrix of daily returns in session order, ``start`` the row of the
    first session earned, ``cols`` column indices (negative: no column). NaN when ``h`` or ``vol`` is not
    positive or not finite, the window runs past the last row, or a return inside it is missing.
    """
    out = np.full(len(cols), np.nan)
    for n, (c, h, v) in enumerate(zip(cols, horizons, vol, strict=True)):
        if c < 0 or not (np.isfinite(h) and h >= 1 and np.isfinite(v) and v > 0) or start + int(h) > len(returns):
            continue
        out[n] = float(returns[start:start + int(h), c].sum()) / (v * math.sqrt(int(h)))
    return out


def skill_pairs(signals: pd.DataFrame, scaled_return: pd.Series,
                horizon_outcome: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None) -> pd.DataFrame:
    """The (conviction, vol-scaled return) pairs of one sizing session: ``signal``, ``agent``, ``score``,
    ``outcome``, ``outcome_h``; ``scaled_return`` is ``r_i(D) / vol_i(s)`` by instrument (NaN: no pair);
    ``horizon_outcome(instruments, horizons)`` the vol-scaled return over each signal's horizon from ``D``
    (:func:`forward_outcomes`; absent: ``outcome_h`` is NaN)."""
    act = signals[(signals["status"] == "active") & (signals["instrument"] != "")]
    agent = np.where((act["source"] == "agent").to_numpy() & (act["agent"].astype(str) != "").to_numpy(),
                     act["agent"].astype(str).to_numpy(), STRATEGIES)
    insts = act["instrument"].astype(str).to_numpy()
    outcome_h = np.full(len(insts), np.nan)
    if horizon_outcome is not None:
        outcome_h = horizon_outcome(insts, pd.to_numeric(act["horizon"], errors="coerce").to_numpy(dtype=float))
    out = pd.DataFrame({
        "signal": act["signal_id"].astype(str).to_numpy(),
        "agent": agent,
        "score": act["conviction"].to_numpy(dtype=float),
        "outcome": scaled_return.reindex(insts).to_numpy(dtype=float),
        "outcome_h": outcome_h,
    })
    kept: pd.DataFrame = out[np.isfinite(out["outcome"]) & (out["score"] != 0)]
    return kept


def attribution_summary(pnl: pd.DataFrame, pairs: pd.DataFrame, book_gross: float) -> pd.DataFrame:
    """One row per (level, name): gross P&L, cost, net P&L, share of the book's gross P&L, IC and hit rate.

    ``pnl`` has ``signal``, ``agent``, ``gross``, ``cost`` (one row per session, instrument and share); ``pairs``
    the skill pairs of :func:`skill_pairs` over the range. Columns: those of ``backtest_attribution``.
    """
    rows = []
    for level, key in (("signal", "signal"), ("agent", "agent")):
        g = pnl.groupby(key, sort=True)[["gross", "cost"]].sum() if not pnl.empty else pd.DataFrame(
            columns=["gross", "cost"])
        names = sorted(set(g.index) | set(pairs[key]))
        for name in names:
            gross = float(g["gross"].get(name, 0.0))
            cost = float(g["cost"].get(name, 0.0))
            sub = pairs[pairs[key] == name]
            ic, n_ic = information_coefficient(sub["score"], sub["outcome"])
            hr, n_hr = hit_rate(sub["score"], sub["outcome"])
            ich, n_ich = information_coefficient(sub["score"], sub["outcome_h"])
            rows.append({"level": level, "name": name, "gross_pnl": gross, "cost": cost, "net_pnl": gross - cost,
                         "share_of_gross": gross / book_gross if book_gross != 0 else None, "ic": ic, "ic_pairs": n_ic,
                         "hit_rate": hr, "hit_pairs": n_hr, "ic_horizon": ich, "ic_horizon_pairs": n_ich})
    return pd.DataFrame.from_records(rows, columns=BACKTEST_ATTRIBUTION.names)


def rolling_sharpe(net: Sequence[float] | np.ndarray, window: int, ann: int) -> tuple[np.ndarray, np.ndarray]:
    """Annualised Sharpe and volatility of the last ``window`` daily net returns at each session (NaN before
    ``window`` sessions, and the Sharpe where the volatility is 0)."""
    x = pd.Series(np.asarray(net, dtype=float))
    r = x.rolling(window, min_periods=window)
    vol = r.std(ddof=1).to_numpy() * math.sqrt(ann)
    mean = r.mean().to_numpy() * ann
    with np.errstate(divide="ignore", invalid="ignore"):
        sharpe = np.where(vol > 0, mean / vol, np.nan)
    return sharpe, vol


def drawdown_table(dates: Sequence[dt.date], equity: Sequence[float] | np.ndarray) -> pd.DataFrame:
    """Every drawdown episode of an equity curve starting at 1, deepest first.

    Columns: ``rank``, ``peak_date`` (last session at the running peak; None when the peak is the start),
    ``trough_date``, ``recovery_date`` (first session back at the peak; None while under water), ``depth``
    (trough / peak - 1, <= 0), ``sessions_to_trough``, ``sessions_under_water`` (peak to recovery or the end).
    """
    eq = np.asarray(equity, dtype=float)
    ds = list(dates)
    rows: list[dict[str, Any]] = []
    peak_v, peak_i = 1.0, -1
    cur: dict[str, Any] | None = None
    for i, v in enumerate(eq):
        if v >= peak_v:
            if cur is not None:
                cur["recovery_date"] = ds[i]
                cur["sessions_under_water"] = i - cur["_peak_i"]
                rows.append(cur)
                cur = None
            peak_v, peak_i = v, i
            continue
        depth = v / peak_v - 1.0
        if cur is None:
            cur = {"peak_date": ds[peak_i] if peak_i >= 0 else None, "_peak_i": peak_i, "trough_date": ds[i],
                   "depth": depth, "sessions_to_trough": i - peak_i, "recovery_date": None}
        elif depth < cur["depth"]:
            cur.update(trough_date=ds[i], depth=depth, sessions_to_trough=i - peak_i)
    if cur is not None:
        cur["sessions_under_water"] = len(eq) - 1 - cur["_peak_i"]
        rows.append(cur)
    df = pd.DataFrame.from_records(rows, columns=["peak_date", "_peak_i", "trough_date", "recovery_date", "depth",
                                                  "sessions_to_trough", "sessions_under_water"])
    df = df.drop(columns="_peak_i").sort_values(["depth", "trough_date"], kind="mergesort").reset_index(drop=True)
    df.insert(0, "rank", np.arange(1, len(df) + 1))
    return df


def cdi_returns(dates: Sequence[dt.date], cdi_daily: Mapping[dt.date, float]) -> np.ndarray:
    """CDI earned over each session of ``dates``: ``(1 + CDI_p)^k - 1`` with ``p`` the session before (the
    previous element; for the first, the latest CDI date before it) and ``k`` the ANBIMA business days in ``[p, D)``.

    Raises
    ------
    ValueError
        When no CDI is known for the session before one of ``dates``.
    """
    known = sorted(cdi_daily)
    grid = np.array(known, dtype="datetime64[D]")
    out = np.empty(len(dates))
    for n, d in enumerate(dates):
        j = int(np.searchsorted(grid, np.datetime64(d, "D"))) - 1
        if j < 0:
            raise ValueError(f"no daily CDI (silver_returns.prices cdi:daily) before {d}")
        p = known[j]
        out[n] = (1.0 + float(cdi_daily[p])) ** anbima_days(p, d) - 1.0
    return out


def against_cdi(dates: Sequence[dt.date], net: Sequence[float] | np.ndarray, cdi: np.ndarray,
                ann: int) -> tuple[pd.DataFrame, list[tuple[str, float | None, str]]]:
    """The book's total return (CDI on NAV plus the net excess P&L) against CDI, daily and summarised.

    Returns the daily frame (``date``, ``cdi_return``, ``book_return``, ``cdi_index``, ``book_index``) and summary
    rows ``(metric, value, note)``.
    """
    x = np.asarray(net, dtype=float)
    book = cdi + x
    daily = pd.DataFrame({"date": list(dates), "cdi_return": cdi, "book_return": book,
                          "cdi_index": np.cumprod(1.0 + cdi), "book_index": np.cumprod(1.0 + book)})
    n = len(x)
    years = n / ann
    tot_b, tot_c = float(daily["book_index"].iloc[-1] - 1.0), float(daily["cdi_index"].iloc[-1] - 1.0)
    cagr_b = (1.0 + tot_b) ** (1.0 / years) - 1.0 if years > 0 else None
    cagr_c = (1.0 + tot_c) ** (1.0 / years) - 1.0 if years > 0 else None
    months = pd.Series(book - cdi, index=pd.to_datetime(list(dates))).groupby(pd.Grouper(freq="ME")).sum()
    rows: list[tuple[str, float | None, str]] = [
        ("cdi_total_return", tot_c, "compounded CDI over the range (cash benchmark), NAV fraction"),
        ("book_total_return", tot_b, "compounded CDI + net excess P&L over the range, NAV fraction"),
        ("cdi_annualised", cagr_c, f"(1 + CDI total)^({ann}/sessions) - 1"),
        ("book_annualised", cagr_b, f"(1 + book total)^({ann}/sessions) - 1"),
        ("excess_annualised", (cagr_b - cagr_c) if cagr_b is not None and cagr_c is not None else None,
         "book_annualised - cdi_annualised"),
        ("months_above_cdi", float(np.mean(months.to_numpy() > 0)) if len(months) else None,
         "share of calendar months whose summed net excess P&L is positive"),
    ]
    return daily, rows
