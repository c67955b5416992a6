"""The range backtest: P&L timing (D-2), costs, Sharpe and drawdown by hand, outputs, failures."""

from __future__ import annotations

import datetime as dt
import math
import re

import numpy as np
import pandas as pd
import pytest

from brmacro.calendar import previous_sessions
from brmacro.io import read_table
from brmacro.params import defaults
from brmacro.portfolio.costs import one_way_cost
from brmacro.portfolio.schemas import SIZING
from brmacro.report.backtest import BacktestError, build_backtest, run_backtest
from brmacro.report.schemas import BACKTEST, BACKTEST_MONTHLY, BACKTEST_SUMMARY

DEFAULT_COSTS = defaults("portfolio.costs")

END = dt.date(2025, 7, 2)
DAYS = [*previous_sessions(END, 7), END]  # 8 sessions spanning June and July 2025
PARAMS = {"annualisation": 252, "no_trade_band": 0.0, "participation": 1.0, "reversal_through_flat": False}
LEVEL = {"DI1_2Y": 0.12, "USDBRL": 5.0}


def _sizing(d: dt.date, w_di: float, w_fx: float) -> pd.DataFrame:
    rows = [{"date": d, "instrument": i, "asset_class": c, "target_weight": w, "weight": w, "notional_brl": w * 1e8,
             "contract": k, "contracts": round(w * 100), "dv01_brl": 0.0, "vol": 0.1, "method": "vol_target",
             "origin": "views: TEST"}
            for i, c, w, k in (("DI1_2Y", "rates_br", w_di, "DI1F27"), ("USDBRL", "fx", w_fx, "DOLN25"))]
    return pd.DataFrame.from_records(rows, columns=SIZING.names)


W_DI = [0.1 * (k + 1) for k in range(8)]
W_FX = [0.2 if k % 2 else -0.2 for k in range(8)]
R_DI = [0.001 * (k + 1) for k in range(8)]
R_FX = [(-1) ** k * 0.002 for k in range(8)]


def _inputs():
    sizing = {d: _sizing(d, W_DI[k], W_FX[k]) for k, d in enumerate(DAYS)}
    rets = pd.DataFrame([{"date": d, "instrument": i, "ret": r[k], "level": LEVEL[i]} for k, d in enumerate(DAYS)
                         for i, r in (("DI1_2Y", R_DI), ("USDBRL", R_FX))])
    return sizing, rets


def test_pnl_timing_costs_and_metrics_by_hand():
    sizing, rets = _inputs()
    res = run_backtest(sizing, rets, PARAMS)
    d = res.daily
    assert list(d["date"]) == DAYS[2:]  # the first two sessions have no book two sessions before
    gross, cost, turn = [], [], []
    prev = (0.0, 0.0)
    for k in range(2, 8):
        w = (W_DI[k - 2], W_FX[k - 2])
        gross.append(w[0] * R_DI[k] + w[1] * R_FX[k])
        dw = (abs(w[0] - prev[0]), abs(w[1] - prev[1]))
        turn.append(sum(dw))
        c_di = one_way_cost("DI1_2Y", 0.12, 5.0, DEFAULT_COSTS)[0]  # DI1: rate ticks x DV01 per contract
        c_fx = one_way_cost("USDBRL", 5.0, 5.0, DEFAULT_COSTS)[0]  # DOL: ticks of BRL 0.5 per USD 1,000
        cost.append(dw[0] * c_di + dw[1] * c_fx)
        prev = w
    assert d["gross_pnl"].tolist() == pytest.approx(gross)
    assert d["turnover"].tolist() == pytest.approx(turn)
    assert d["cost"].tolist() == pytest.approx(cost)
    net = np.array(gross) - np.array(cost)
    assert d["net_pnl"].tolist() == pytest.approx(net)
    eq = np.cumprod(1 + net)
    assert d["equity"].tolist() == pytest.approx(eq)
    s = res.summary.set_index("metric")["value"]
    sharpe = net.mean() * 252 / (net.std(ddof=1) * math.sqrt(252))
    assert s["sharpe"] == pytest.approx(sharpe)
    assert s["annual_volatility"] == pytest.approx(net.std(ddof=1) * math.sqrt(252))
    assert s["total_cost"] == pytest.approx(sum(cost))
    dd = eq / np.maximum.accumulate(np.concatenate([[1.0], eq]))[1:] - 1
    assert s["max_drawdown"] == pytest.approx(min(dd.min(), 0.0))
    assert s["total_return"] == pytest.approx(eq[-1] - 1)
    # monthly: compounded per calendar month
    m = res.monthly
    for (y, mo), g in d.assign(m=pd.to_datetime(d["date"]).dt.month).groupby([pd.to_datetime(d["date"]).dt.year, "m"]):
        row = m.loc[(m["year"] == y) & (m["month"] == mo)].iloc[0]
        assert row["net_return"] == pytest.approx(np.prod(1 + g["net_pnl"]) - 1)
        assert row["n_sessions"] == len(g)


def test_no_trade_band_and_partial_moves_are_simulated_in_sequence():
    sizing, rets = _inputs()
    # the DI1_2Y target creeps up 0.1 a session (|dw| x annual vol ~0.004-0.006): a 0.01 band skips those steps
    # until the gap is worth trading; the held book then lags the target
    res = run_backtest(sizing, rets, {**PARAMS, "no_trade_band": 0.01})
    held = res.held
    full = run_backtest(sizing, rets, PARAMS)
    assert res.daily["turnover"].sum() < full.daily["turnover"].sum()
    assert res.daily["cost"].sum() < full.daily["cost"].sum()
    di_trades = int((held["DI1_2Y"].diff().fillna(held["DI1_2Y"]) != 0).sum())
    assert di_trades < len(held)
    # half participation: the held book moves half-way each session, by hand
    half = run_backtest(sizing, rets, {**PARAMS, "participation": 0.5})
    h = 0.0
    for k, d in enumerate(DAYS[2:]):
        h += 0.5 * (W_DI[k] - h)
        assert half.held.loc[d, "DI1_2Y"] == pytest.approx(h)
    assert held.shape[1] == 2
    # a reversal goes through flat: USDBRL's target alternates -0.2 / +0.2, so the held book alternates -0.2 and flat
    rev = run_backtest(sizing, rets, {**PARAMS, "reversal_through_flat": True})
    assert rev.held["USDBRL"].tolist() == pytest.approx([-0.2, 0.0] * 3)
    assert rev.held["DI1_2Y"].tolist() == pytest.approx(full.held["DI1_2Y"].tolist())  # no reversal: as before
    assert run_backtest(sizing, rets, {k: v for k, v in PARAMS.items() if k != "reversal_through_flat"}).held[
        "USDBRL"].tolist() == rev.held["USDBRL"].tolist()  # the setting's default: through flat
    # a target of zero is reached at once whatever the band
    sizing[DAYS[3]]["weight"] = 0.0
    flat = run_backtest(sizing, rets, {**PARAMS, "no_trade_band": 1.0, "participation": 0.5})
    assert (flat.held.loc[DAYS[5]] == 0).all()


def test_timing_is_not_d_minus_one():
    sizing, rets = _inputs()
    res = run_backtest(sizing, rets, PARAMS)  # full participation, no band: the raw timing
    k = 5
    wrong = W_DI[k - 1] * R_DI[k] + W_FX[k - 1] * R_FX[k]
    right = W_DI[k - 2] * R_DI[k] + W_FX[k - 2] * R_FX[k]
    got = res.daily.set_index("date").loc[DAYS[k], "gross_pnl"]
    assert got == pytest.approx(right) and got != pytest.approx(wrong)


def test_writes_tables_and_tear_sheet(tmp_path):
    sizing, rets = _inputs()
    html_p, tab = tmp_path / "bt.html", tmp_path / "bt.parquet"
    build_backtest(sizing, rets, PARAMS, html_p, tab)
    assert len(read_table(tab, BACKTEST)) == 6
    assert len(read_table(tmp_path / "bt_summary.parquet", BACKTEST_SUMMARY)) > 5
    assert len(read_table(tmp_path / "bt_monthly.parquet", BACKTEST_MONTHLY)) == 2
    page = html_p.read_text()
    assert "<svg" in page and "Monthly net returns" in page
    assert not re.search(r"\bnan\b|\bNone\b", page) and "{{" not in page


def test_missing_return_of_held_instrument_raises():
    sizing, rets = _inputs()
    rets = rets.loc[~((rets["date"] == DAYS[4]) & (rets["instrument"] == "USDBRL"))]
    with pytest.raises(BacktestError, match=r"USDBRL"):
        run_backtest(sizing, rets, PARAMS)


def test_too_short_range_raises():
    sizing, rets = _inputs()
    with pytest.raises(BacktestError, match="three consecutive sessions"):
        run_backtest({d: sizing[d] for d in DAYS[:2]}, rets, PARAMS)
    with pytest.raises(BacktestError, match="no portfolio_sizing"):
        run_backtest({}, rets, PARAMS)


def test_non_finite_weight_raises():
    sizing, rets = _inputs()
    sizing[DAYS[3]].loc[0, "weight"] = float("nan")
    with pytest.raises(BacktestError, match="non-finite"):
        run_backtest(sizing, rets, PARAMS)


def test_backtest_settings_carry_every_execution_setting_from_a_whole_config_or_the_rule_selection():
    """One mapping for the rule and the benchmarks: a portfolio setting given to either reaches the backtest."""
    from pathlib import Path

    import yaml

    from brmacro.params import select
    from brmacro.params.portfolio import EXECUTION_KEYS
    from brmacro.pipeline import BACKTEST_KEYS
    from brmacro.report.backtest import backtest_settings

    cfg = yaml.safe_load((Path(__file__).resolve().parents[2] / "config" / "config.yaml").read_text())
    cfg["portfolio"].update(reversal_through_flat=False, no_trade_band=0.07, participation=0.4)
    whole, selected = backtest_settings(cfg), backtest_settings(select(cfg, BACKTEST_KEYS))
    assert whole == selected
    assert {k: whole[k] for k in EXECUTION_KEYS} == {"no_trade_band": 0.07, "participation": 0.4,
                                                     "reversal_through_flat": False}
    assert whole["costs"] == cfg["portfolio"]["costs"]
    assert {k: whole[k] for k in cfg["report"]["backtest"]} == cfg["report"]["backtest"]
    # absent settings fall back to their declared defaults
    bare = backtest_settings({})
    assert {k: bare[k] for k in EXECUTION_KEYS} == {k: defaults(f"portfolio.{k}") for k in EXECUTION_KEYS}
