"""Historical replay on the demo: every default crisis window gives a P&L path and worst point for a 2026 session.

In process on one session: the demo's bronze snapshots of the session, ``silver_returns`` (its ``crisis``
table) and ``silver_curves``, then the stress tables of a book holding every instrument.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from brmacro.bronze.demo import snapshot
from brmacro.calendar import sessions_between
from brmacro.instruments import INSTRUMENTS
from brmacro.risk.stress import compute_stress, history_matrices, window_moves
from brmacro.silver.curves import build_curves
from brmacro.silver.returns import build_returns
from brmacro.silver.steps import _RETURN_INPUTS
from tests.configparts import config_part

D = dt.date(2026, 3, 16)
BRONZE = config_part("bronze")["bronze"]
SILVER = config_part("silver")["silver"]
STRESS = config_part("risk")["risk"]["stress"]
WEIGHTS = pd.Series({"DI1_1Y": 1.0, "DI1_2Y": 0.5, "DI1_5Y": -0.2, "DI1_10Y": 0.1, "USDBRL": -0.1, "IBOV": 0.1,
                     "UST_10Y": 0.2, "SPX": 0.05})


@pytest.fixture(scope="module")
def demo() -> dict[str, pd.DataFrame]:
    bronze = {a: snapshot(a, D, BRONZE) for a in _RETURN_INPUTS}
    ret = build_returns(bronze, D, SILVER, BRONZE)
    curves = build_curves(bronze["bronze_b3_market_data"], bronze["bronze_treasury_gov"], D, SILVER)["part"]
    scen, rev, rep = compute_stress(WEIGHTS, ret["part"], curves, D, STRESS, ret["crisis"])
    return {"ptax": bronze["bronze_bcb_ptax"], **ret, "scen": scen, "rev": rev, "rep": rep}


def test_every_default_window_gives_numbers(demo: dict[str, pd.DataFrame]) -> None:
    rep = demo["rep"].set_index("window")
    assert list(rep.index) == [w["name"] for w in STRESS["replay_windows"]] and len(rep) == 4
    assert min(demo["part"]["date"]) > dt.date(2022, 11, 30)  # every window is older than the silver lookback
    for name, r in rep.iterrows():
        assert np.isfinite(r["pnl"]) and np.isfinite(r["worst_pnl"]), name
        assert r["worst_pnl"] <= min(r["pnl"], 0.0) + 1e-15, name
        assert r["coverage"] == 1.0 and r["n_sessions"] == len(sessions_between(r["start"], r["end"])) - 1, name
        assert "not in history" not in r["note"]


def test_replay_is_the_compounded_crisis_returns(demo: dict[str, pd.DataFrame]) -> None:
    rep = demo["rep"].set_index("window")
    c = demo["crisis"]
    for w in STRESS["replay_windows"]:
        days = sessions_between(dt.date.fromisoformat(w["start"]), dt.date.fromisoformat(w["end"]))
        sub = c.loc[(c["date"] > days[0]) & (c["date"] <= days[-1])].drop_duplicates(["date", "instrument"])
        m = sub.pivot(index="date", columns="instrument", values="ret")[WEIGHTS.index]
        path = (np.cumprod(1 + m.to_numpy(), axis=0) - 1) @ WEIGHTS.to_numpy()
        assert rep.loc[w["name"], "pnl"] == pytest.approx(path[-1], rel=1e-12)
        assert rep.loc[w["name"], "worst_pnl"] == pytest.approx(path.min(), rel=1e-12)


def test_historical_scenarios_report_their_window_moves_on_the_demo(demo: dict[str, pd.DataFrame]) -> None:
    """The check of each historical scenario against its window: the note gives the window's realised moves."""
    scen = demo["scen"].set_index("scenario")
    _, levels = history_matrices(demo["part"], demo["crisis"], D)
    ptax = demo["ptax"].assign(date=lambda x: pd.to_datetime(x["date"]).dt.date).set_index("date")["sell"]
    windows = {w["name"]: w for w in STRESS["replay_windows"]}
    historical = {k: v for k, v in STRESS["scenarios"].items() if "window" in v}
    assert len(historical) == 4
    for name, spec in historical.items():
        w = windows[spec["window"]]
        start, end = dt.date.fromisoformat(w["start"]), dt.date.fromisoformat(w["end"])
        moves = window_moves(levels, start, end)
        assert set(moves) == {i.name for i in INSTRUMENTS}
        days = sessions_between(start, end)
        assert moves["USDBRL"] == pytest.approx(ptax[days[-1]] / ptax[days[0]] - 1, rel=1e-12)  # PTAX itself
        note = scen.loc[name, "note"]
        assert f"realised in {spec['window']} on this history: " in note
        assert f"USDBRL {moves['USDBRL']:+.1%}" in note and f"DI1_2Y {moves['DI1_2Y'] * 1e4:+.0f}bp" in note


def test_default_replay_windows_are_kept_by_bronze() -> None:
    """Every default replay window lies inside a bronze crisis window: silver_returns.crisis can carry it."""
    kept = [(dt.date.fromisoformat(w["start"]), dt.date.fromisoformat(w["end"])) for w in BRONZE["crisis_windows"]]
    for w in STRESS["replay_windows"]:
        s, e = dt.date.fromisoformat(w["start"]), dt.date.fromisoformat(w["end"])
        assert any(a <= s and e <= b for a, b in kept), w["name"]
