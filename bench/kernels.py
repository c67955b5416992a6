"""Kernels timed by bench/run.py on a real demo session (the floor's build of it; what is missing is built in-process).

Each entry of :func:`kernels` is a zero-argument callable; bench/run.py reports the median of repeated calls.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import numpy as np
import yaml
from snakemake.utils import validate

from bench.book_range import build_steps
from brmacro.pipeline import STEPS, context_for, plan, step_function

REPO = Path(__file__).resolve().parents[1]
DAY = dt.date(2026, 11, 24)


def _config() -> dict:  # type: ignore[type-arg]
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    validate(cfg, str(REPO / "config" / "schema.yaml"))
    return cfg  # type: ignore[no-any-return]


def kernels(root: Path, day: dt.date = DAY) -> dict[str, Callable[[], object]]:
    """The timed callables on the demo session ``day`` under the results folder ``root`` (bench/run.py passes the
    floor's, which built that session with its fan-out): what is missing there is built first, in-process."""

    from brmacro.covariance import returns_matrix, shrunk_covariance
    from brmacro.portfolio.optimizer import mean_variance
    from brmacro.risk.var import monte_carlo_var

    cfg = _config()
    build_steps(root, plan(list(STEPS), [day]), cfg, skip_built=True)

    ret = context_for(root, "risk_var", day, cfg).table("silver_returns")
    names = sorted(ret["instrument"].unique())
    r = returns_matrix(ret, day).loc[:, names].dropna().iloc[-756:].to_numpy()
    cov = shrunk_covariance(r, names)[0]
    sizing = context_for(root, "risk_var", day, cfg).table("portfolio_sizing").set_index("instrument")
    w = sizing.loc[names, "weight"].to_numpy(float)
    dfs = np.full(len(names), 5.0)
    scales = np.sqrt(np.diag(cov) * 3.0 / 5.0)
    n = len(names)
    mu = np.asarray(r[-252:].mean(axis=0))

    def mc_var() -> object:
        return monte_carlo_var(w, cov, dfs, scales, (0.95, 0.99), 10_000, np.random.default_rng(7))

    def optimisation() -> object:
        return mean_variance(mu, cov * 1.05, 2.5, np.full(n, -1.5), np.full(n, 1.5), 8.0)

    def step(asset: str) -> Callable[[], object]:
        fn = step_function(asset)
        return lambda: fn(context_for(root, asset, day, cfg))

    return {
        "Monte Carlo VaR, 10,000 draws (target ≤ 0.3 s)": mc_var,
        "one optimisation, cvxpy + Clarabel (target ≤ 0.2 s)": optimisation,
        "cross-asset agent: features + one HMM fit": step("agent_cross_asset"),
        "curve build (silver_curves step, 800 sessions)": step("silver_curves"),
        "report render (daily_report step)": step("daily_report"),
    }
