"""The proposed book on the demo run's sessions: every book-shape limit holds, and the artifacts say why.

In-process checks on the sessions the shared demo run built (its target sessions and their fan-out), so the
construction is tested on real demo market data in CI without another pipeline run.
"""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import yaml

from brmacro.io import read_table
from brmacro.pipeline import all_schemas, partition_paths
from brmacro.portfolio.limits import book_breaches
from tests.conftest import REPO, SESSIONS


def _config() -> dict:
    return copy.deepcopy(yaml.safe_load((REPO / "config" / "config.yaml").read_text()))


def _sessions(results: Path) -> list[dt.date]:
    return sorted(dt.date.fromisoformat(p.name.removeprefix("date="))
                  for p in (results / "portfolio" / "portfolio_sizing").glob("date=*"))


def test_every_sized_book_meets_every_book_shape_limit(demo_run: Path) -> None:
    results = demo_run / "results"
    cfg = _config()
    schemas = all_schemas()
    days = _sessions(results)
    assert len(days) >= 3
    for d in days:
        paths = partition_paths(results, "portfolio_sizing", d)
        sizing = read_table(paths["part"], schemas["portfolio_sizing"]["part"])
        book = read_table(paths["book"], schemas["portfolio_sizing"]["book"]).iloc[0]
        rets = read_table(partition_paths(results, "silver_returns", d)["part"], schemas["silver_returns"]["part"])
        conv = read_table(partition_paths(results, "signal_aggregation", d)["part"],
                          schemas["signal_aggregation"]["part"]).set_index("instrument")["conviction"]
        assert book_breaches(sizing, rets, d, cfg["portfolio"], cfg["risk"], conv) == [], d
        assert book["ex_ante_vol"] <= book["target_vol"] * 1.01 and book["reason"]
        held = sizing[sizing["weight"] != 0]
        assert held["origin"].str.startswith(("views: ", "covariance hedge of ")).all(), d
        assert (sizing.loc[sizing["weight"] == 0, "origin"].str.startswith("flat")).all(), d
    for s in SESSIONS:  # the risk layer agrees: none of the book-shape rows of risk_limits is breached
        lim = read_table(partition_paths(results, "risk_limits", dt.date.fromisoformat(s))["part"],
                         schemas["risk_limits"]["part"]).set_index("limit")
        shape = ["var_95", "var_99", "gross_leverage", "single_position", "asset_class_exposure", "risk_contribution",
                 "asset_class_risk_contribution", "dv01"]
        assert (lim.loc[[r for r in shape if r in lim.index], "status"] != "BREACHED").all(), s
