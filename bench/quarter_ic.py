"""Sharpe and one-session information coefficients of the default book over a built range of any length (issue 15).

Usage (after ``python -m bench.book_range build --root ROOT --start S0 --end E``, S0 a few sessions before S)::

    .venv/bin/python -m bench.quarter_ic --root ROOT --start S --end E

Runs :func:`brmacro.report.backtest.run_backtest` with the range's views and strategy signals (the attribution
by signal, ``docs/backtest.md``; the returns stitched from the ``silver_returns`` partitions that cover the range, as
the ``backtest`` rule does) and prints the figures of the range and of each calendar year, the net and gross
Sharpe, and the IC (one-session and over each signal's horizon) and hit rate of every signal
and agent with at least ``--min-pairs`` pairs, and their medians. A quarter is a noisy estimate: with about 60
sessions an IC's standard error is about 0.13 / sqrt(instruments per signal), and a horizon IC rests on
about 60 / H outcomes (a quarter's is noise; a signal whose horizon does not fit in the range has none).
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from bench.book_range import _config, parse_with_overrides
from bench.long_book import print_skill, print_years, strategy_ids
from brmacro.calendar import sessions_between
from brmacro.io import read_table
from brmacro.pipeline import _stitch_returns, all_schemas, backtest_returns_sessions, partition_paths
from brmacro.report.backtest import backtest_settings, run_backtest


def main(root: Path, start: dt.date, end: dt.date, min_pairs: int) -> None:
    """Print the figures (module docstring)."""
    cfg = _config()
    schemas = all_schemas()
    days = sessions_between(start, end)
    sizing = {d: pd.read_parquet(partition_paths(root, "portfolio_sizing", d)["part"]) for d in days}
    views = {d: read_table(partition_paths(root, "portfolio_optimization", d)["views"],
                           schemas["portfolio_optimization"]["views"]) for d in days}
    signals = {d: read_table(partition_paths(root, "signal_aggregation", d)["strategy_signals"],
                             schemas["signal_aggregation"]["strategy_signals"]) for d in days}
    covering = backtest_returns_sessions(days, int(cfg["silver"]["lookback_sessions"]))
    rets, _cdi = _stitch_returns([partition_paths(root, "silver_returns", d)["part"].parent for d in covering],
                                 schemas)
    params = backtest_settings(cfg)
    res = run_backtest(sizing, rets, params, views=views, signals=signals)
    print_years(res.daily)
    s = res.summary.set_index("metric")["value"]
    gross = res.daily["gross_pnl"].to_numpy()
    print(f"range {start}..{end}: {len(res.daily)} sessions with P&L")
    print(f"Sharpe net {float(s['sharpe']):.2f}, gross {gross.mean() / gross.std(ddof=1) * np.sqrt(252):.2f}; "
          f"annual vol (gross) {gross.std(ddof=1) * np.sqrt(252):.4f}")
    assert res.attribution is not None
    print_skill(res.attribution, strategy_ids(signals), min_pairs)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, required=True)
    ap.add_argument("--start", required=True)
    ap.add_argument("--end", required=True)
    ap.add_argument("--min-pairs", type=int, default=20)
    a = parse_with_overrides(ap)
    main(a.root, dt.date.fromisoformat(a.start), dt.date.fromisoformat(a.end), a.min_pairs)
