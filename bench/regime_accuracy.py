"""How often the cross-asset agent's regime agrees with the demo economy's true regime (not run in CI).

Builds bronze and silver of each sampled session in-process (a temporary results root), runs the
cross-asset agent on that silver and compares the view's ``regime`` with
:func:`brmacro.bronze.demo.true_regimes` (the demo's side output; the pipeline never reads it).

Usage::

    python -m bench.regime_accuracy [--start 2016-01-04] [--end 2027-06-30] [--every 5] [--seed N]
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from brmacro.agents.cross_asset import run_cross_asset
from brmacro.agents.data import SilverData
from brmacro.agents.schemas import REGIMES
from brmacro.bronze import demo
from brmacro.calendar import sessions_between
from brmacro.pipeline import Context, build_partition, partition_paths, plan

__all__ = ["load_config", "measure", "regime_on", "view_on"]

ROOT = Path(__file__).resolve().parents[1]
SILVER = ("silver_curves", "silver_returns", "silver_macro")


def load_config(seed: int | None = None) -> dict[str, Any]:
    """The merged project config (``config/config.yaml``), optionally with another demo seed."""
    cfg: dict[str, Any] = yaml.safe_load((ROOT / "config" / "config.yaml").read_text(encoding="utf-8"))
    cfg["source"] = "demo"
    if seed is not None:
        cfg = copy.deepcopy(cfg)
        cfg["demo"]["seed"] = int(seed)
    return cfg


def view_on(results: Path, date: dt.date, config: Mapping[str, Any]) -> pd.Series:
    """Build bronze and silver of ``date`` under ``results`` (if absent) and return the agent's view row
    (``regime``, the HMM probabilities ``p_<regime>``, ...)."""
    for asset, d in plan(SILVER, [date]):
        if not partition_paths(results, asset, d)["part"].exists():
            build_partition(results, asset, d, config)
    ctx = Context(asset="agent_cross_asset", date=date, params={},
                  inputs={a: partition_paths(results, a, date) for a in SILVER})
    _, _, view = run_cross_asset(SilverData.from_context(ctx), config["agents"], pd.DataFrame())
    return view.iloc[0]


def regime_on(results: Path, date: dt.date, config: Mapping[str, Any]) -> str:
    """Build bronze and silver of ``date`` under ``results`` (if absent) and return the agent's regime."""
    return str(view_on(results, date, config)["regime"])


def measure(sessions: Sequence[dt.date], config: Mapping[str, Any], results: Path | None = None) -> pd.DataFrame:
    """The agent's regime and the true regime on each session (columns date, truth, regime, p_max: the HMM's
    largest regime probability).

    Parameters
    ----------
    sessions : sequence of date
        B3 sessions to evaluate.
    config : mapping
        The merged config (source ``demo``).
    results : Path, optional
        Results root for the built partitions (a temporary folder when omitted).
    """
    truth = demo.true_regimes(int(config["demo"]["seed"]))
    rows = []
    with tempfile.TemporaryDirectory(prefix="regime_acc_") as tmp:
        root = Path(results) if results is not None else Path(tmp)
        for d in sessions:
            v = view_on(root, d, config)
            rows.append({"date": d, "truth": truth[pd.Timestamp(d)], "regime": str(v["regime"]),
                         "p_max": max(float(v[f"p_{r}"]) for r in REGIMES)})
    return pd.DataFrame(rows)


def main() -> None:
    """Measure on every ``--every``-th session between ``--start`` and ``--end`` and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--start", default="2016-01-04")
    ap.add_argument("--end", default="2027-06-30")
    ap.add_argument("--every", type=int, default=5)
    ap.add_argument("--seed", type=int, default=None)
    a = ap.parse_args()
    ss = sessions_between(dt.date.fromisoformat(a.start), dt.date.fromisoformat(a.end))[:: a.every]
    t0 = time.perf_counter()
    df = measure(ss, load_config(a.seed))
    agree = float((df["truth"] == df["regime"]).mean())
    print(f"sessions {len(df)} ({ss[0]}..{ss[-1]}, every {a.every}), wall {time.perf_counter() - t0:.0f}s")
    print(f"agreement {agree:.3f}")
    print(f"HMM largest regime probability: median {df['p_max'].median():.4f}, min {df['p_max'].min():.4f}, "
          f"sessions at >= 0.9999: {int((df['p_max'] >= 0.9999).sum())} of {len(df)}")
    print(pd.crosstab(df["truth"], df["regime"], rownames=["truth"], colnames=["agent"]))


if __name__ == "__main__":
    main()
