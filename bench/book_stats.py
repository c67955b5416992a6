"""Statistics of the model book over a year of demo sessions (the figures the agents and portfolio issues ask for).

Usage: ``.venv/bin/python -m bench.book_stats [--start 2025-11-24] [--end 2026-11-24] [--pairs 26]``

Builds, in-process, every asset up to ``portfolio_sizing`` for ``--pairs`` pairs of consecutive sessions spread
over the range (the pair gives the rebalance decision: today's sizing against the previous session's), then
prints: the share of sessions on which each agent's composite is non-neutral, the optimiser's status counts and
median solve time, the share of sessions that rebalanced, how many instruments are held, whether any book
is 1/N or all zero, how many sized books break a book-shape limit (:func:`brmacro.portfolio.limits.book_breaches`)
and what bound them (the ``book`` table). Turnover, sign flips, costs and realised vs ex-ante vol over
consecutive sessions: ``bench/book_range.py``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from snakemake.utils import validate
from threadpoolctl import threadpool_limits

from brmacro.calendar import previous_session, sessions_between
from brmacro.io import read_table
from brmacro.pipeline import STEPS, all_schemas, build_partition, partition_paths, plan

REPO = Path(__file__).resolve().parents[1]
UPTO = [a for a in STEPS if STEPS[a].layer in ("bronze", "silver", "agents", "signals", "portfolio")
        and a != "signal_monitor"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--start", default="2025-11-24")
    ap.add_argument("--end", default="2026-11-24")
    ap.add_argument("--pairs", type=int, default=26)
    args = ap.parse_args()
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    validate(cfg, str(REPO / "config" / "schema.yaml"))
    days = sessions_between(dt.date.fromisoformat(args.start), dt.date.fromisoformat(args.end))
    picks = [days[int(i)] for i in np.linspace(1, len(days) - 1, args.pairs)]
    sessions = sorted({d for p in picks for d in (previous_session(p), p)})
    root = Path(tempfile.mkdtemp(prefix="brmacro-book-"))
    solve_times: list[float] = []
    with threadpool_limits(limits=1):
        for asset, d in plan(UPTO, sessions):
            t0 = time.perf_counter()
            build_partition(root, asset, d, cfg)
            if asset == "portfolio_optimization":
                solve_times.append(time.perf_counter() - t0)
    schemas = all_schemas()

    def table(asset: str, d: dt.date, name: str = "part") -> pd.DataFrame:
        return read_table(partition_paths(root, asset, d)[name], schemas[asset][name])

    agents = [a for a in STEPS if STEPS[a].layer == "agents"]
    nonneutral = dict.fromkeys(agents, 0)
    status: dict[str, int] = {}
    from brmacro.portfolio.limits import book_breaches

    rebalanced, held, flat, one_over_n, violations = 0, [], 0, 0, 0
    broken, binding = 0, {}
    gross_cap = float(cfg["portfolio"]["gross_leverage"])
    for p in picks:
        for a in agents:
            sig = table(a, p)
            comp = sig[sig["is_composite"]]
            nonneutral[a] += int((comp["direction"] != 0).any())
        opt = table("portfolio_optimization", p)
        tw = opt["target_weight"].to_numpy()
        violations += int(bool((tw < opt["lower"].to_numpy() - 1e-7).any()
                               or (tw > opt["upper"].to_numpy() + 1e-7).any()
                               or np.abs(tw).sum() > gross_cap + 1e-7))
        st = table("portfolio_optimization", p, "solve")["status"].iloc[0]
        status[st] = status.get(st, 0) + 1
        w = table("portfolio_sizing", p).set_index("instrument")["contracts"]
        w0 = table("portfolio_sizing", previous_session(p)).set_index("instrument")["contracts"]
        rebalanced += int((w - w0.reindex(w.index).fillna(0)).abs().sum() > 0)
        weights = table("portfolio_sizing", p)["weight"].to_numpy()
        held.append(int((np.abs(weights) > 1e-9).sum()))
        flat += int(np.all(np.abs(weights) < 1e-12))
        nz = np.abs(weights[np.abs(weights) > 1e-12])
        one_over_n += int(len(nz) > 1 and np.allclose(nz, nz[0]))
        conv = table("signal_aggregation", p).set_index("instrument")["conviction"]
        broken += int(bool(book_breaches(table("portfolio_sizing", p), table("silver_returns", p), p,
                                         cfg["portfolio"], cfg["risk"], conv)))
        b = str(table("portfolio_sizing", p, "book")["binding"].iloc[0])
        binding[b] = binding.get(b, 0) + 1
    n = len(picks)
    print(f"sessions sampled: {n} pairs over {args.start}..{args.end} ({len(sessions)} sessions built)")
    for a in agents:
        print(f"  {a}: composite non-neutral on {nonneutral[a]}/{n} = {nonneutral[a] / n:.0%}")
    print(f"  optimiser status: {status}; median optimisation step {statistics.median(solve_times):.3f} s")
    print(f"  sessions whose optimiser targets break a bound or the gross cap: {violations}/{n}")
    print(f"  rebalanced vs previous session: {rebalanced}/{n} = {rebalanced / n:.0%}")
    print(f"  instruments held: median {statistics.median(held)} of 8; all-zero books {flat}; 1/N books {one_over_n}")
    print(f"  sized books breaking a book-shape limit: {broken}/{n}; binding constraint: {binding}")


if __name__ == "__main__":
    main()
