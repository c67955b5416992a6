"""Issue 17 item 1, the class "sizing invents positions": a flagged optimiser fallback sizes a flat book, and
bounds whose lower end exceeds the upper are refused naming the instrument, leaving no partial artifact."""

from __future__ import annotations

import copy
import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from brmacro.io import read_table
from brmacro.pipeline import all_schemas, build_partition, partition_paths
from tests.conftest import REPO, SESSIONS
from tests.faults.conftest import Tally


def _config() -> dict:
    return copy.deepcopy(yaml.safe_load((REPO / "config" / "config.yaml").read_text()))


def test_a_flagged_optimiser_fallback_sizes_a_flat_book(demo_run: Path, tmp_path: Path, tally: Tally) -> None:
    """The suite's infeasible config (DI1_1Y bounds [1, 2], gross 0.5) gives the flagged flat optimisation, and
    sizing reads the flag: a flat sized book (it held DI1_1Y at +50 % of NAV before), not bounds-clipped zeros."""
    results = tmp_path / "results"
    shutil.copytree(demo_run / "results", results, ignore=shutil.ignore_patterns("logs", "benchmarks", "report"))
    d = dt.date.fromisoformat(SESSIONS[1])
    cfg = _config()
    cfg["portfolio"]["bounds"]["DI1_1Y"] = [1.0, 2.0]
    cfg["portfolio"]["gross_leverage"] = 0.5
    for asset in ("portfolio_optimization", "portfolio_sizing"):
        for p in partition_paths(results, asset, d).values():
            p.unlink()
        build_partition(results, asset, d, cfg)
    sz = partition_paths(results, "portfolio_sizing", d)
    part = read_table(sz["part"], all_schemas()["portfolio_sizing"]["part"])
    book = read_table(sz["book"], all_schemas()["portfolio_sizing"]["book"]).iloc[0]
    ok = bool((part["weight"] == 0).all() and (part["contracts"] == 0).all() and np.all(part["dv01_brl"] == 0))
    ok = ok and book["binding"] == "flat_fallback" and book["ex_ante_vol"] == 0
    assert ok
    tally.bad_input("optimiser fallback sized flat", rejected=ok)


@pytest.mark.parametrize("bounds", [[2.0, -2.0], [0.5, 0.1]])
def test_inverted_bounds_are_refused_naming_the_instrument(demo_run: Path, tmp_path: Path, tally: Tally,
                                                          bounds: list[float]) -> None:
    results = tmp_path / "results"
    shutil.copytree(demo_run / "results", results, ignore=shutil.ignore_patterns("logs", "benchmarks", "report"))
    d = dt.date.fromisoformat(SESSIONS[1])
    cfg = _config()
    cfg["portfolio"]["bounds"]["DI1_1Y"] = bounds
    for p in partition_paths(results, "portfolio_optimization", d).values():
        p.unlink()
    with pytest.raises(ValueError) as ei:
        build_partition(results, "portfolio_optimization", d, cfg)
    ok = f"portfolio.bounds.DI1_1Y: lower {bounds[0]} must not exceed upper {bounds[1]}" in str(ei.value)
    ok = ok and not any(p.exists() for p in partition_paths(results, "portfolio_optimization", d).values())
    assert ok
    tally.bad_input("inverted instrument bounds", rejected=ok)
