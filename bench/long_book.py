"""The default book over many years of the demo, rebalanced every ``--every`` sessions (issue 15's 2010–2026 Sharpe).

Usage::

    .venv/bin/python -m bench.long_book build --root R --start 2010-01-04 --end 2026-11-30 --every 5 --shard 0/2
    .venv/bin/python -m bench.long_book build --root R ... --shard 1/2      # the other half, in parallel
    .venv/bin/python -m bench.long_book evaluate --root R --start 2010-01-04 --end 2026-11-30 --every 5

``build`` builds in-process, for every ``--every``-th session of the range (the sampled sessions; ``--shard i/n``
takes every n-th of them from the i-th), the assets up to ``portfolio_sizing`` and what they read
(:data:`bench.book_range.UPTO`); sessions are independent, so shards run side by side. ``evaluate`` holds each
sampled session's sized book until the next one — the target of session D is the latest sampled book decided on
or before D-2, point in time as in :mod:`brmacro.report.backtest` — and runs the range backtest (the execution
rule and cost model of the daily orders) on the returns stitched from the sampled sessions' ``silver_returns``
(each holds ``silver.lookback_sessions``; every session's return comes from the latest partition holding it).
It prints the gross and net Sharpe, vol, turnover and costs of the whole range and of each calendar year, then
the skill of the sampled sessions' signals (:func:`brmacro.report.backtest.signal_skill`: one-session and horizon
IC, hit rate, per signal and agent; no book needed, so the sample's skill is the daily signals' on those sessions).

What this is not: the daily book. Rebalancing every 5 sessions costs less and trades less than the daily
pipeline; its Sharpe is the daily model's signal held a week. A build of every session of 2010–2026 is the
daily figure (about 4,200 sessions at ~3 CPU s each, ``bench/RESULTS.md``).
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from bench.book_range import UPTO, _config, build_steps, parse_with_overrides
from brmacro.calendar import sessions_between
from brmacro.io import read_table
from brmacro.pipeline import _stitch_returns, all_schemas, partition_paths, plan

__all__ = ["build", "evaluate", "held_books", "print_skill", "print_years", "sampled", "strategy_ids"]


def sampled(start: dt.date, end: dt.date, every: int) -> list[dt.date]:
    """Every ``every``-th B3 session of ``start..end``, from the first."""
    return sessions_between(start, end)[::every]


def build(root: Path, days: list[dt.date]) -> None:
    """Build the partitions up to ``portfolio_sizing`` of each of ``days`` (skipping those already built)."""
    build_steps(root, plan(UPTO, days), _config(), skip_built=True)


def held_books(books: dict[dt.date, pd.DataFrame], sessions: list[dt.date]) -> dict[dt.date, pd.DataFrame]:
    """Each session's book: the latest of ``books`` decided on or before it (sessions before the first: none)."""
    keys = sorted(books)
    out: dict[dt.date, pd.DataFrame] = {}
    k = -1
    for d in sessions:
        while k + 1 < len(keys) and keys[k + 1] <= d:
            k += 1
        if k >= 0:
            out[d] = books[keys[k]]
    return out


def evaluate(root: Path, start: dt.date, end: dt.date, every: int, min_pairs: int = 20) -> None:
    """Print the range and per-year figures and the sampled sessions' signal skill (module docstring)."""
    from brmacro.report.backtest import backtest_settings, run_backtest, signal_skill

    cfg = _config()
    schemas = all_schemas()
    days = sampled(start, end, every)
    books = {d: pd.read_parquet(partition_paths(root, "portfolio_sizing", d)["part"]) for d in days}
    rets, _cdi = _stitch_returns([partition_paths(root, "silver_returns", d)["part"].parent for d in days],
                                 schemas)
    params = backtest_settings(cfg)
    res = run_backtest(held_books(books, sessions_between(start, end)), rets, params)
    print(f"range {start}..{end}, {len(days)} sampled sessions (every {every}), {len(res.daily)} sessions with "
          f"P&L, {len(res.skipped)} skipped")
    print_years(res.daily)
    signals = {d: read_table(partition_paths(root, "signal_aggregation", d)["strategy_signals"],
                             schemas["signal_aggregation"]["strategy_signals"]) for d in days}
    print(f"signal skill of the {len(days)} sampled sessions (each against the returns from its second session on):")
    print_skill(signal_skill(signals, rets), strategy_ids(signals), min_pairs)


def strategy_ids(signals: dict[dt.date, pd.DataFrame]) -> set[str]:
    """The ids of the strategies (not the agents' signals) in ``signal_aggregation.strategy_signals`` tables."""
    return {str(x) for df in signals.values() for x in df.loc[df["source"] == "strategy", "signal_id"]}


def print_skill(att: pd.DataFrame, strategies: set[str], min_pairs: int) -> None:
    """Print the IC, hit rate and horizon IC of every signal and agent of an attribution table with at least
    ``min_pairs`` pairs, and the medians over the signals and over the strategies alone (a horizon IC enters its
    median with at least ``min_pairs`` horizon pairs)."""
    cols = ["level", "name", "ic", "ic_pairs", "hit_rate", "ic_horizon", "ic_horizon_pairs", "share_of_gross"]
    a = att.loc[att["ic_pairs"] >= min_pairs, cols]
    with pd.option_context("display.width", 160, "display.max_rows", 200):
        print(a.sort_values(["level", "ic_horizon"], ascending=[True, False]).to_string(index=False))
    sig = a[a["level"] == "signal"]
    for label, sub in (("signals", sig), ("strategies", sig[sig["name"].isin(strategies)])):
        one, hor = sub["ic"].dropna(), sub.loc[sub["ic_horizon_pairs"] >= min_pairs, "ic_horizon"].dropna()
        print(f"{label} with >= {min_pairs} pairs: {len(one)}; median one-session IC {one.median():.3f} "
              f"(median |IC| {one.abs().median():.3f}); median horizon IC {hor.median():.3f} over {len(hor)}")


def print_years(daily: pd.DataFrame) -> None:
    """The gross and net Sharpe, vol, turnover and costs of a backtest's ``daily`` table, whole and by year."""

    def line(df: pd.DataFrame) -> str:
        g, n = df["gross_pnl"].to_numpy(), df["net_pnl"].to_numpy()
        sd = g.std(ddof=1)
        return (f"{len(df):5d} sessions  Sharpe gross {g.mean() / sd * np.sqrt(252):+.2f} net "
                f"{n.mean() / n.std(ddof=1) * np.sqrt(252):+.2f}  vol {sd * np.sqrt(252):.3f}  "
                f"turnover/day {df['turnover'].mean():.3f}  cost {df['cost'].sum():.4f} NAV")

    print(f"whole range: {line(daily)}")
    for y, df in daily.groupby([d.year for d in daily["date"]]):
        print(f"  {y}: {line(df)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=("build", "evaluate"))
    ap.add_argument("--root", required=True)
    ap.add_argument("--start", default="2010-01-04")
    ap.add_argument("--end", default="2026-11-30")
    ap.add_argument("--every", type=int, default=5)
    ap.add_argument("--shard", default="0/1", help="i/n: build every n-th sampled session from the i-th")
    ap.add_argument("--min-pairs", type=int, default=20, help="evaluate: signals with fewer IC pairs are not printed")
    a = parse_with_overrides(ap)
    s, e = dt.date.fromisoformat(a.start), dt.date.fromisoformat(a.end)
    if a.what == "build":
        i, n = (int(x) for x in a.shard.split("/"))
        build(Path(a.root), sampled(s, e, a.every)[i::n])
    else:
        evaluate(Path(a.root), s, e, a.every, a.min_pairs)


if __name__ == "__main__":
    main()
