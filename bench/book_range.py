"""The model book over consecutive demo sessions: turnover, sign flips, costs, realised vs ex-ante vol, limits.

Usage::

    .venv/bin/python -m bench.book_range build --root /tmp/book --start 2024-01-02 --end 2024-06-28
    .venv/bin/python -m bench.book_range evaluate --root /tmp/book --start 2024-01-02 --end 2024-06-28

``build`` builds in-process every asset up to ``portfolio_sizing`` for every session of the range (and
what they read), into ``--root`` (``--from-layer signals`` rebuilds the signal and portfolio assets over existing
upstream partitions, ``--from-layer portfolio`` (or ``--only-portfolio``) just the two portfolio assets, to compare
two versions of the code on the same inputs). ``evaluate``
reads the ``portfolio_sizing`` partitions and prints the issue-18 targets: the range backtest net of the
cost model (``brmacro.report.backtest``, sequential execution with the no-trade band), the median daily
weight turnover and the sign flips per instrument and quarter of the executed book, net vs gross Sharpe,
realised vs ex-ante volatility, and how many proposed books break a book-shape limit
(:func:`brmacro.portfolio.limits.book_breaches`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from threadpoolctl import threadpool_limits

from brmacro.calendar import sessions_between
from brmacro.params import ROOT
from brmacro.pipeline import LAYERS, STEPS, build_partition, partition_paths, plan

REPO = Path(__file__).resolve().parents[1]
UPTO = [a for a in STEPS if STEPS[a].layer in ("bronze", "silver", "agents", "signals", "portfolio")
        and a != "signal_monitor"]


OVERRIDES: list[str] = []


def _config() -> dict:
    """config/config.yaml with the ``--set dotted.key=value`` overrides (YAML values)."""
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    for item in OVERRIDES:
        key, value = item.split("=", 1)
        ROOT.node(key)  # an undeclared key (a typo) is refused by name, never added silently
        node = cfg
        *path, last = key.split(".")
        for k in path:
            node = node[k]
        node[last] = yaml.safe_load(value)
    return cfg


def parse_with_overrides(ap: argparse.ArgumentParser) -> argparse.Namespace:
    """``ap``'s arguments with ``--set dotted.key=value`` (repeatable) added, the overrides taken by :func:`_config`."""
    ap.add_argument("--set", action="append", default=[], help="config override dotted.key=value, repeatable")
    a = ap.parse_args()
    OVERRIDES.extend(a.set)
    return a


def build(root: Path, start: dt.date, end: dt.date, from_layer: str = "bronze") -> None:
    """Build the partitions of every session of the range; from ``from_layer`` on only, replacing them (module
    docstring)."""
    cfg = _config()
    days = sessions_between(start, end)
    steps = plan(UPTO, days)
    if from_layer != LAYERS[0]:
        steps = [(a, d) for a, d in steps if LAYERS.index(STEPS[a].layer) >= LAYERS.index(from_layer)]
        for a, d in steps:
            shutil.rmtree(root / STEPS[a].layer / a / f"date={d.isoformat()}", ignore_errors=True)
    build_steps(root, steps, cfg)


def build_steps(root: Path, steps: list[tuple[str, dt.date]], cfg: dict, skip_built: bool = False) -> None:
    """Build each ``(asset, session)`` of ``steps`` in-process, in order, BLAS on one thread; with ``skip_built``,
    those whose partition is already there are left as they are (a killed build resumes)."""
    t0 = time.perf_counter()
    built = 0
    with threadpool_limits(limits=1):
        for k, (asset, d) in enumerate(steps):
            if skip_built and partition_paths(root, asset, d)["part"].exists():
                continue
            build_partition(root, asset, d, cfg)
            built += 1
            if k % 200 == 0:
                print(f"{k}/{len(steps)} {asset} {d} {time.perf_counter() - t0:.0f} s", flush=True)
    print(f"built {built} of {len(steps)} partitions in {time.perf_counter() - t0:.0f} s")


def flips_by_quarter(w: pd.DataFrame) -> pd.DataFrame:
    """Sign flips of each instrument's weight (rows: sessions) by calendar quarter: a flip is dated on the session
    whose non-zero weight has the other sign from the last non-zero one (a pass through zero counts when it ends
    on the other side)."""
    out: dict[str, dict[str, int]] = {}
    quarter = [f"{pd.Timestamp(d).year}Q{(pd.Timestamp(d).month - 1) // 3 + 1}" for d in w.index]
    for c in w.columns:
        counts = dict.fromkeys(quarter, 0)
        last = 0.0
        for q, x in zip(quarter, np.sign(w[c].to_numpy(float)), strict=True):
            if x != 0:
                counts[q] += int(last != 0 and x != last)
                last = x
        out[str(c)] = counts
    return pd.DataFrame(out)


def sign_flips(w: pd.DataFrame) -> pd.Series:
    """Per instrument, how often the sign of the held weight changes over the whole range."""
    return flips_by_quarter(w).sum(axis=0).astype(int)


def evaluate(root: Path, start: dt.date, end: dt.date, band: float | None = None,
             participation: float | None = None, limits: bool = True) -> None:
    """Print the issue-18 figures for the books in ``root`` (module docstring).

    Partitions are read as plain Parquet (not schema-checked), so books of an earlier version of the portfolio
    code (without ``origin``) are evaluated with the same backtest and cost model. ``band`` overrides
    ``portfolio.no_trade_band`` (0: trade every session to the target, as before the band existed).
    """
    from brmacro.io import read_table
    from brmacro.pipeline import all_schemas
    from brmacro.portfolio.limits import book_breaches
    from brmacro.report.backtest import backtest_settings, run_backtest

    cfg = _config()
    schemas = all_schemas()
    days = sessions_between(start, end)
    sizing, exante, breaches, binding, small = {}, {}, {}, {}, {}
    for d in days:
        p = partition_paths(root, "portfolio_sizing", d)
        sizing[d] = pd.read_parquet(p["part"])
        cov = pd.read_parquet(partition_paths(root, "portfolio_optimization", d)["covariance"])
        names = list(sizing[d]["instrument"])
        sig = cov.pivot(index="instrument_a", columns="instrument_b", values="cov").loc[names, names].to_numpy()
        w = sizing[d]["weight"].to_numpy(float)
        exante[d] = float(np.sqrt(252 * w @ sig @ w))
        book = p["part"].parent / "book.parquet"
        if book.exists():
            bk = pd.read_parquet(book)
            binding[d] = str(bk["binding"].iloc[0])
            small[d] = "share-of-VaR limit" in str(bk["reason"].iloc[0])
    last = days[-1]
    rets = read_table(partition_paths(root, "silver_returns", last)["part"], schemas["silver_returns"]["part"])
    for d in days if limits else []:  # each session's own silver_returns, as risk_var reads it
        conv = read_table(partition_paths(root, "signal_aggregation", d)["part"],
                          schemas["signal_aggregation"]["part"]).set_index("instrument")["conviction"]
        r_d = read_table(partition_paths(root, "silver_returns", d)["part"], schemas["silver_returns"]["part"])
        breaches[d] = book_breaches(sizing[d], r_d, d, cfg["portfolio"], cfg["risk"], conv)

    params = backtest_settings(cfg)
    if band is not None:
        params["no_trade_band"] = band
    if participation is not None:
        params["participation"] = participation
    res = run_backtest(sizing, rets, params)
    daily = res.daily
    s = res.summary.set_index("metric")["value"]
    gross = daily["gross_pnl"].to_numpy()
    g_sharpe = gross.mean() / gross.std(ddof=1) * np.sqrt(252)
    realised = gross.std(ddof=1) * np.sqrt(252)
    ea = np.array([exante[x] for x in daily["sizing_date"]])
    held = res.held
    quarters = max(1, len({(x.year, (x.month - 1) // 3) for x in daily["date"]}))
    by_quarter = flips_by_quarter(held)
    flips = by_quarter.sum(axis=0)
    nb = {d: b for d, b in breaches.items() if b}
    print(f"range {start}..{end}: {len(days)} sessions, {len(daily)} with P&L, {quarters} quarter(s)")
    print(f"execution: no_trade_band {params.get('no_trade_band')}, participation {params.get('participation')}")
    if limits:
        print(f"proposed books breaking a book-shape limit: {len(nb)}/{len(days)}")
    for d, b in list(nb.items())[:8]:
        print(f"   {d}: {'; '.join(b)}")
    tw = pd.DataFrame({d: sizing[d].set_index("instrument")["weight"] for d in days}).T.sort_index()
    print(f"proposed-book daily turnover sum|dw|: median {tw.diff().abs().sum(axis=1).iloc[1:].median():.3f}, "
          f"mean {tw.diff().abs().sum(axis=1).iloc[1:].mean():.3f}")
    print(f"executed-book daily turnover: median {daily['turnover'].iloc[1:].median():.3f}, "
          f"mean {daily['turnover'].iloc[1:].mean():.3f}")
    print(f"sign flips of the proposed book per quarter: "
          f"{(sign_flips(tw) / quarters).round(1).to_dict()}")
    print(f"sign flips of the executed book per quarter: {(flips / quarters).round(1).to_dict()}")
    worst = by_quarter.max(axis=0)
    print(f"most sign flips of the executed book in one quarter: {worst[worst > 0].astype(int).to_dict()}")
    print(f"Sharpe net {s['sharpe']:.3f}, gross {g_sharpe:.3f}, ratio {s['sharpe'] / g_sharpe:.3f}; "
          f"total cost {s['total_cost']:.4f} NAV, gross total {s['gross_total']:.4f}")
    print(f"realised vol (gross P&L) {realised:.4f}; ex-ante vol of the held book's sizing: mean {ea.mean():.4f}, "
          f"median {np.median(ea):.4f}; realised / mean ex-ante {realised / ea.mean():.3f}")
    if binding:
        vc = pd.Series(list(binding.values())).value_counts().to_dict()
        print(f"binding constraint of the sized books: {vc}")
        print(f"books held under the small-book share limit (risk.limits.*_by_size): {sum(small.values())}; "
              f"flat books: {sum(1 for d in days if not np.any(sizing[d]['weight'].to_numpy()))}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=("build", "evaluate"))
    ap.add_argument("--root", default="")
    ap.add_argument("--start", default="2024-01-02")
    ap.add_argument("--end", default="2024-06-28")
    ap.add_argument("--from-layer", choices=LAYERS[:5], default=LAYERS[0],
                    help="rebuild this layer and the later ones over existing upstream partitions")
    ap.add_argument("--only-portfolio", action="store_true", help="same as --from-layer portfolio")
    ap.add_argument("--band", type=float, default=None, help="override portfolio.no_trade_band")
    ap.add_argument("--participation", type=float, default=None, help="override portfolio.participation")
    ap.add_argument("--no-limits", action="store_true", help="skip the limit check (faster)")
    a = parse_with_overrides(ap)
    root = Path(a.root or tempfile.mkdtemp(prefix="brmacro-range-"))
    s, e = dt.date.fromisoformat(a.start), dt.date.fromisoformat(a.end)
    if a.what == "build":
        build(root, s, e, "portfolio" if a.only_portfolio else a.from_layer)
    else:
        evaluate(root, s, e, a.band, a.participation, not a.no_limits)


if __name__ == "__main__":
    main()
