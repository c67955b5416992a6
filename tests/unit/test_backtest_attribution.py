"""Backtest attribution by signal and agent, IC and hit rate, rolling Sharpe, drawdowns, CDI, and the range of any
length (returns windows chained), on a small synthetic range with known answers."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from brmacro.calendar import anbima_days, previous_sessions, sessions_between
from brmacro.guards import GuardError, check_backtest_range
from brmacro.io import read_table
from brmacro.pipeline import backtest_returns_sessions
from brmacro.portfolio.schemas import SIZING, VIEWS
from brmacro.report.attribution import (
    NO_VIEW,
    STRATEGIES,
    against_cdi,
    cdi_returns,
    drawdown_table,
    forward_outcomes,
    hit_rate,
    information_coefficient,
    rolling_sharpe,
    skill_pairs,
)
from brmacro.report.backtest import BacktestError, build_backtest, run_backtest, signal_skill
from brmacro.report.schemas import BACKTEST_ATTRIBUTION, BACKTEST_DRAWDOWNS, BACKTEST_INSTRUMENTS, BACKTEST_ROLLING
from brmacro.signals.schemas import STRATEGY_SIGNALS

END = dt.date(2025, 7, 2)
DAYS = [*previous_sessions(END, 9), END]
PARAMS = {"annualisation": 252, "no_trade_band": 0.0, "participation": 1.0, "rolling_sessions": 3,
          "reversal_through_flat": False}
LEVEL = {"DI1_2Y": 0.12, "USDBRL": 5.0, "IBOV": 120000.0}
R = {"DI1_2Y": [0.001 * (k % 4 + 1) * (-1) ** (k // 3) for k in range(10)],
     "USDBRL": [(-1) ** k * 0.002 * (1 + k % 3) for k in range(10)],
     "IBOV": [0.003 * math.sin(k) for k in range(10)]}
W = {"DI1_2Y": 0.3, "USDBRL": -0.2, "IBOV": 0.1}  # IBOV is held without a view (a hedge)


def _vol(inst: str, k: int) -> float:
    """Annualised std (ddof 1) of the instrument's returns up to session k (NaN under two)."""
    x = np.array(R[inst][: k + 1])
    return float(np.std(x, ddof=1) * math.sqrt(252)) if len(x) > 1 else float("nan")


def _perfect(k: int) -> float:
    """Conviction at sizing session k equal to the vol-scaled return its position first earns (D = k + 2)."""
    if k + 2 >= len(DAYS) or not np.isfinite(_vol("DI1_2Y", k)):
        return 0.5
    return float(R["DI1_2Y"][k + 2] / _vol("DI1_2Y", k))


def _sizing(d: dt.date) -> pd.DataFrame:
    rows = [{"date": d, "instrument": i, "asset_class": "x", "target_weight": w, "weight": w, "notional_brl": w * 1e8,
             "contract": "C", "contracts": 1.0, "dv01_brl": 0.0, "vol": 0.1, "method": "vol_target", "origin": "t"}
            for i, w in W.items()]
    return pd.DataFrame.from_records(rows, columns=SIZING.names)


def _views(d: dt.date) -> pd.DataFrame:
    rows = [("AGG:DI1_2Y", "DI1_2Y", "signal_aggregation", 3e-4), ("AGG:USDBRL", "USDBRL", "signal_aggregation", -2e-4),
            ("XA:fx", "USDBRL", "agent_cross_asset", -6e-4)]
    return pd.DataFrame.from_records(
        [{"date": d, "view_id": v, "instrument": i, "source": s, "z": 1.0, "q": q, "annual_return": q * 252,
          "sharpe": 0.5, "confidence": 0.5, "adj_confidence": 0.5, "omega": 1e-6, "strategies": v}
         for v, i, s, q in rows], columns=VIEWS.names)


def _signals(k: int, d: dt.date) -> pd.DataFrame:
    # DI1_2Y: PERFECT (weight 1, conviction c) and RATES_B (weight 1, conviction c / 2) -> shares 2/3 and 1/3;
    # USDBRL: FX_BR_COMPOSITE of the fx agent alone; a neutral and a gap row take no part.
    c = _perfect(k)
    rows = [("strategy", "", "PERFECT", "DI1_2Y", "active", c, 1.0), ("strategy", "", "RATES_B", "DI1_2Y", "active",
                                                                      c / 2, 1.0),
            ("agent", "fx_equilibrium", "FX_BR_COMPOSITE", "USDBRL", "active", -0.4, 0.7),
            ("strategy", "", "NEUTRAL_S", "USDBRL", "neutral", 0.0, 0.0),
            ("strategy", "", "GAP_S", "", "gap", None, None)]
    return pd.DataFrame.from_records(
        [{"date": d, "source": s, "agent": a, "signal_id": sid, "instrument": i, "status": st,
          "direction": int(np.sign(cv or 0.0)), "z_score": None if cv is None else 2 * cv, "conviction": cv,
          "confidence": None if cv is None else 0.5, "horizon": 5, "signal_date": d, "stale_sessions": 0,
          "staleness": 1.0, "tilt": 1.0, "weight": w, "entry_level": None, "stop_level": None,
          "take_profit_level": None, "note": "{}"} for s, a, sid, i, st, cv, w in rows], columns=STRATEGY_SIGNALS.names)


def _inputs():
    sizing = {d: _sizing(d) for d in DAYS}
    rets = pd.DataFrame([{"date": d, "instrument": i, "ret": R[i][k], "level": LEVEL[i]} for k, d in enumerate(DAYS)
                         for i in W])
    views = {d: _views(d) for d in DAYS}
    signals = {d: _signals(k, d) for k, d in enumerate(DAYS)}
    cdi = dict.fromkeys([previous_sessions(DAYS[0], 1)[0], *DAYS], 0.0004)
    return sizing, rets, views, signals, cdi


def _run(**kw):
    sizing, rets, views, signals, cdi = _inputs()
    return run_backtest(sizing, rets, {**PARAMS, **kw}, views=views, signals=signals, cdi=cdi)


def test_ic_and_hit_rate_known_answers():
    assert information_coefficient([1, 2, 3, 4], [2, 4, 6, 8]) == (1.0, 4)
    assert information_coefficient([1, 2, 3, 4], [-1, -2, -3, -4])[0] == pytest.approx(-1.0)
    ic, n = information_coefficient([1, 2, 3, 4, np.nan], [1, 3, 2, 4, 9])
    assert (ic, n) == (pytest.approx(0.8), 4)
    assert information_coefficient([1, 2], [1, 2]) == (None, 2)
    assert information_coefficient([1, 1, 1], [1, 2, 3]) == (None, 3)
    assert hit_rate([1, -1, 1, 0, 2], [1, 1, -2, 5, 0]) == (pytest.approx(1 / 3), 3)
    assert hit_rate([0.0], [1.0]) == (None, 0)


def test_attribution_sums_to_the_book_at_every_level_and_splits_by_hand():
    res = _run()
    a = res.attribution
    gross, cost = float(res.daily["gross_pnl"].sum()), float(res.daily["cost"].sum())
    for level in ("signal", "agent"):
        sub = a[a["level"] == level]
        assert sub["gross_pnl"].sum() == pytest.approx(gross, abs=1e-15)
        assert sub["cost"].sum() == pytest.approx(cost, abs=1e-15)
        assert sub["net_pnl"].sum() == pytest.approx(float(res.daily["net_pnl"].sum()), abs=1e-15)
    contrib = res.instruments.set_index("instrument")["contribution"]
    by = a.set_index(["level", "name"])["gross_pnl"]
    # DI1_2Y: one AGG view; its signals share 2/3 (PERFECT) and 1/3 (RATES_B) by weight x conviction
    assert by["signal", "PERFECT"] == pytest.approx(2 / 3 * contrib["DI1_2Y"])
    assert by["signal", "RATES_B"] == pytest.approx(1 / 3 * contrib["DI1_2Y"])
    # USDBRL: views share q = -2e-4 (AGG) and -6e-4 (XA): 1/4 and 3/4
    assert by["signal", "FX_BR_COMPOSITE"] == pytest.approx(0.25 * contrib["USDBRL"])
    assert by["signal", "XA:fx"] == pytest.approx(0.75 * contrib["USDBRL"])
    assert by["agent", "fx_equilibrium"] == pytest.approx(0.25 * contrib["USDBRL"])
    assert by["agent", "cross_asset"] == pytest.approx(0.75 * contrib["USDBRL"])
    assert by["agent", STRATEGIES] == pytest.approx(contrib["DI1_2Y"])
    assert by["agent", NO_VIEW] == pytest.approx(contrib["IBOV"])  # held without a view
    assert ("signal", "NEUTRAL_S") not in by.index and ("signal", "GAP_S") not in by.index
    BACKTEST_ATTRIBUTION.conform(a)


def test_ic_of_a_perfect_signal_is_one_and_of_its_opposite_minus_one():
    a = _run().attribution.set_index(["level", "name"])
    assert a.loc[("signal", "PERFECT"), "ic"] == pytest.approx(1.0)
    assert a.loc[("signal", "PERFECT"), "hit_rate"] == 1.0
    assert a.loc[("signal", "RATES_B"), "ic"] == pytest.approx(1.0)  # a scaled copy
    assert a.loc[("signal", "PERFECT"), "ic_pairs"] == 7  # sessions whose D = s + 2 is in range, vol known at s
    sizing, rets, views, signals, cdi = _inputs()
    flipped = {d: s.assign(conviction=np.where(s["signal_id"] == "PERFECT", -s["conviction"], s["conviction"]))
               for d, s in signals.items()}
    b = run_backtest(sizing, rets, PARAMS, views=views, signals=flipped, cdi=cdi).attribution.set_index(
        ["level", "name"])
    assert b.loc[("signal", "PERFECT"), "ic"] == pytest.approx(-1.0)
    assert b.loc[("signal", "PERFECT"), "hit_rate"] == 0.0
    # the constant FX agent signal: no IC (one side constant), a hit rate against USDBRL's signs
    fx = a.loc[("signal", "FX_BR_COMPOSITE")]
    assert fx["ic"] is None or pd.isna(fx["ic"])
    ups = [R["USDBRL"][k + 2] for k in range(len(DAYS) - 2) if k + 2 < len(DAYS) and np.isfinite(_vol("USDBRL", k))]
    assert fx["hit_rate"] == pytest.approx(np.mean(np.array(ups) < 0))


def test_forward_outcomes_by_hand():
    r = np.array([[0.01, 0.02], [0.03, np.nan], [-0.01, 0.04], [0.02, 0.01]])
    got = forward_outcomes(r, 1, np.array([0, 0, 1, 1, -1, 0, 0]), np.array([2, 3, 2, 1, 2, 4, np.nan]),
                           np.array([0.5, 0.5, 0.2, 0.2, 0.1, 0.5, 0.5]))
    assert got[0] == pytest.approx((0.03 - 0.01) / (0.5 * math.sqrt(2)))
    assert got[1] == pytest.approx((0.03 - 0.01 + 0.02) / (0.5 * math.sqrt(3)))
    assert np.isnan(got[2])  # a missing return inside the window
    assert np.isnan(got[3])  # the window's one return is missing
    assert np.isnan(got[4]) and np.isnan(got[5]) and np.isnan(got[6])  # no column, past the end, no horizon
    assert np.isnan(forward_outcomes(r, 0, np.array([0]), np.array([1]), np.array([0.0]))[0])  # no vol


def test_horizon_ic_pairs_conviction_with_the_return_over_the_signals_horizon():
    """A conviction equal to the vol-scaled return over its 4-session horizon from D = s + 2 has horizon IC 1; the
    pairs are the sessions whose whole window is inside the returns."""
    sizing, rets, views, signals, cdi = _inputs()

    def future(k: int) -> float:
        v = _vol("DI1_2Y", k)
        if k + 2 + 4 > len(DAYS) or not np.isfinite(v):
            return 0.5
        return float(sum(R["DI1_2Y"][k + 2: k + 6]) / (v * math.sqrt(4)))

    perfect = {d: s["signal_id"] == "PERFECT" for d, s in signals.items()}
    sig = {d: s.assign(conviction=np.where(perfect[d], future(k), s["conviction"]),
                       horizon=np.where(perfect[d], 4, s["horizon"]))
           for k, (d, s) in enumerate(signals.items())}
    a = run_backtest(sizing, rets, PARAMS, views=views, signals=sig, cdi=cdi).attribution.set_index(["level", "name"])
    row = a.loc[("signal", "PERFECT")]
    assert row["ic_horizon"] == pytest.approx(1.0)
    assert row["ic_horizon_pairs"] == 4  # s = 1..4: vol known at s, the window's last session s + 5 in the range
    assert row["ic_pairs"] == 7
    assert abs(row["ic"]) < 1.0  # the one-session IC of a horizon forecast is not 1
    BACKTEST_ATTRIBUTION.conform(a.reset_index())


def test_signal_skill_without_a_book_gives_the_backtests_skill_figures():
    sizing, rets, views, signals, cdi = _inputs()
    full = run_backtest(sizing, rets, PARAMS, views=views, signals=signals, cdi=cdi).attribution
    alone = signal_skill(signals, rets)
    BACKTEST_ATTRIBUTION.conform(alone)
    cols = ["ic", "ic_pairs", "hit_rate", "hit_pairs", "ic_horizon", "ic_horizon_pairs"]
    a = alone.set_index(["level", "name"])[cols]
    b = full.set_index(["level", "name"]).loc[a.index, cols]
    pd.testing.assert_frame_equal(a, b)
    with_pairs = full[full["ic_pairs"] > 0]
    assert set(a.index) == set(zip(with_pairs["level"], with_pairs["name"], strict=True))  # no P&L-only names
    assert (alone["gross_pnl"] == 0).all()
    # a sampled subset: only its sessions' pairs
    some = signal_skill({d: signals[d] for d in DAYS[1:4]}, rets).set_index(["level", "name"])
    assert some.loc[("signal", "PERFECT"), "ic_pairs"] == 3


def test_signal_skill_edges_no_pairs_and_a_session_missing_from_the_returns():
    _sizing_, rets, _views_, signals, _cdi_ = _inputs()
    for some in ({}, {d: signals[d] for d in DAYS[-2:]}):  # no session whose D has returns
        empty = signal_skill(some, rets)
        assert empty.empty and list(empty.columns) == BACKTEST_ATTRIBUTION.names
    # a session absent from the returns is a missing return inside every window over it, not a longer window
    perfect = {d: s.assign(horizon=np.where(s["signal_id"] == "PERFECT", 4, s["horizon"])) for d, s in signals.items()}
    full = signal_skill(perfect, rets).set_index(["level", "name"])
    gap = signal_skill(perfect, rets[rets["date"] != DAYS[5]]).set_index(["level", "name"])
    assert full.loc[("signal", "PERFECT"), "ic_horizon_pairs"] == 4  # s = 1..4
    assert gap.loc[("signal", "PERFECT"), "ic_horizon_pairs"] == 1  # only s = 4's window (6..9) misses DAYS[5]


def test_skill_pairs_without_a_horizon_function_need_no_horizon_column():
    sig = _signals(2, DAYS[2]).drop(columns="horizon")
    pairs = skill_pairs(sig, pd.Series({"DI1_2Y": 0.1, "USDBRL": -0.2}))
    assert set(pairs["signal"]) == {"PERFECT", "RATES_B", "FX_BR_COMPOSITE"} and pairs["outcome_h"].isna().all()


def test_a_missing_view_table_raises():
    sizing, rets, views, signals, cdi = _inputs()
    del views[DAYS[3]]
    with pytest.raises(BacktestError, match=f"views.*of {DAYS[3]}"):
        run_backtest(sizing, rets, PARAMS, views=views, signals=signals, cdi=cdi)


def test_turnover_and_costs_per_instrument_add_up_to_the_daily_table():
    res = _run()
    inst = res.instruments
    assert inst["turnover"].sum() == pytest.approx(res.daily["turnover"].sum())
    assert inst["cost"].sum() == pytest.approx(res.daily["cost"].sum())
    assert inst.set_index("instrument").loc["DI1_2Y", "turnover"] == pytest.approx(0.3)  # one trade from flat
    BACKTEST_INSTRUMENTS.conform(inst)


def test_rolling_sharpe_by_hand():
    x = [0.01, -0.02, 0.03, 0.0, 0.01]
    s, v = rolling_sharpe(x, 3, 252)
    assert np.isnan(s[:2]).all() and np.isnan(v[:2]).all()
    w = np.array(x[2:5])
    assert v[4] == pytest.approx(np.std(w, ddof=1) * math.sqrt(252))
    assert s[4] == pytest.approx(w.mean() * 252 / (np.std(w, ddof=1) * math.sqrt(252)))
    s0, _ = rolling_sharpe([0.01, 0.01, 0.01], 3, 252)
    assert np.isnan(s0[2])  # zero volatility: no Sharpe


def test_drawdown_table_by_hand():
    d = [dt.date(2025, 1, k) for k in range(1, 9)]
    eq = [0.98, 1.05, 0.9, 1.2, 1.1, 1.15, 1.3, 1.25]
    t = drawdown_table(d, eq)
    assert list(t["rank"]) == [1, 2, 3, 4]
    first = t.iloc[0]
    assert first["depth"] == pytest.approx(0.9 / 1.05 - 1)
    assert (first["peak_date"], first["trough_date"], first["recovery_date"]) == (d[1], d[2], d[3])
    assert (first["sessions_to_trough"], first["sessions_under_water"]) == (1, 2)
    start = t[t["peak_date"].isna()].iloc[0]  # the drop from the start (equity 1 before the first session)
    assert start["depth"] == pytest.approx(-0.02) and start["recovery_date"] == d[1]
    open_ = t[t["recovery_date"].isna()].iloc[0]  # still under water at the end
    assert open_["depth"] == pytest.approx(1.25 / 1.3 - 1) and open_["sessions_under_water"] == 1
    BACKTEST_DRAWDOWNS.conform(t)
    assert drawdown_table(d[:3], [1.0, 1.1, 1.2]).empty


def test_cdi_returns_compound_over_business_days_and_a_flat_book_earns_cdi():
    days = sessions_between(dt.date(2024, 12, 20), dt.date(2025, 1, 3))
    cdi = {d: 0.0004 + 1e-6 * k for k, d in enumerate(days)}
    c = cdi_returns(days[1:], cdi)
    for k, d in enumerate(days[1:]):
        assert c[k] == pytest.approx((1 + cdi[days[k]]) ** anbima_days(days[k], d) - 1)
    with pytest.raises(ValueError, match="no daily CDI"):
        cdi_returns(days[:1], cdi)
    daily, rows = against_cdi(days[1:], np.zeros(len(c)), c, 252)
    assert np.allclose(daily["book_index"], daily["cdi_index"])
    m = {k: v for k, v, _ in rows}
    assert m["excess_annualised"] == pytest.approx(0.0, abs=1e-15)
    assert m["cdi_total_return"] == pytest.approx(np.prod(1 + c) - 1)


def test_rolling_and_cdi_table_and_summary():
    res = _run()
    r = res.rolling
    BACKTEST_ROLLING.conform(r)
    assert r["rolling_sharpe"].isna().sum() == 2  # window 3
    net = res.daily["net_pnl"].to_numpy()
    assert np.allclose(r["book_return"] - r["cdi_return"], net)
    assert r["cdi_return"].iloc[0] == pytest.approx(1.0004 ** anbima_days(DAYS[1], DAYS[2]) - 1)
    s = res.summary.set_index("metric")["value"]
    assert s["book_total_return"] == pytest.approx(np.prod(1 + r["book_return"]) - 1)


def test_build_writes_the_new_tables(tmp_path):
    sizing, rets, views, signals, cdi = _inputs()
    tab = tmp_path / "bt.parquet"
    build_backtest(sizing, rets, PARAMS, tmp_path / "bt.html", tab, views=views, signals=signals, cdi=cdi)
    for name, schema in (("instruments", BACKTEST_INSTRUMENTS), ("rolling", BACKTEST_ROLLING),
                         ("drawdowns", BACKTEST_DRAWDOWNS), ("attribution", BACKTEST_ATTRIBUTION)):
        assert len(read_table(tmp_path / f"bt_{name}.parquet", schema)) > 0
    html = (tmp_path / "bt.html").read_text()
    assert "Attribution by agent and signal" in html and "PERFECT" in html and "against CDI" in html
    assert "Horizon IC" in html and "Horizon pairs" in html
    att = read_table(tmp_path / "bt_attribution.parquet", BACKTEST_ATTRIBUTION).set_index(["level", "name"])
    assert att.loc[("signal", "PERFECT"), "ic_horizon_pairs"] == 3  # 5-session windows: s = 1..3


def test_returns_windows_chain_over_a_range_of_any_length():
    days = sessions_between(dt.date(2010, 1, 4), dt.date(2026, 6, 30))  # about 4,100 sessions
    for lookback in (3, 4, 800):
        anchors = backtest_returns_sessions(days, lookback)
        pos = {d: k for k, d in enumerate(days)}
        covered = set()
        for a in anchors:
            covered |= set(range(max(pos[a] - lookback + 1, 0), pos[a] + 1))
        assert covered == set(range(len(days)))
        ks = [pos[a] for a in anchors]
        assert ks[0] == len(days) - 1 and ks[-1] == 0
        assert all(0 < x - y <= lookback - 2 for x, y in zip(ks, ks[1:], strict=False))  # windows overlap
    assert len(backtest_returns_sessions(days, 800)) == math.ceil((len(days) - 1) / 798) + 1
    with pytest.raises(ValueError, match="at least 3"):
        backtest_returns_sessions(days, 2)


def test_range_guard_accepts_any_length_and_refuses_an_unchainable_lookback():
    days = sessions_between(dt.date(2010, 1, 4), dt.date(2026, 6, 30))
    check_backtest_range(days, 800)
    check_backtest_range(days, 3)
    with pytest.raises(GuardError, match="lookback_sessions = 2"):
        check_backtest_range(days[:1], 2)
    with pytest.raises(GuardError, match="no B3 session"):
        check_backtest_range([], 800)


def test_returns_of_several_sessions_are_stitched_latest_first(tmp_path):
    from brmacro.io import write_table
    from brmacro.pipeline import _stitch_returns, all_schemas
    from brmacro.silver.schemas import PRICES, RETURNS

    days = sessions_between(dt.date(2025, 6, 2), dt.date(2025, 6, 13))
    paths = []
    for asof, window, bump in ((days[5], days[:6], 0.0), (days[-1], days[4:], 1.0)):
        base = tmp_path / "silver" / "silver_returns" / f"date={asof.isoformat()}"
        rets = pd.DataFrame({"date": window, "instrument": "IBOV", "level": 1.0,  # a window's first ret: none
                             "ret": [None] + [0.001 * (k + 1) + bump for k in range(1, len(window))],
                             "vol_21": None, "vol_63": None, "vol_252": None, "z_252": None})
        px = pd.DataFrame({"date": window, "series": "cdi:daily", "value": 0.0004 + bump})
        write_table(rets, base / "part.parquet", RETURNS, asof=asof, source="demo")
        write_table(px, base / "prices.parquet", PRICES, asof=asof, source="demo")
        paths.append(base)  # session layout: the partition's folder
    out, cdi = _stitch_returns([paths[1], paths[0] / "part.parquet"], all_schemas())  # step layout: a file
    assert list(out["date"]) == days  # every date once, in order
    by = out.set_index("date")["ret"]
    assert math.isnan(by[days[0]]) and by[days[3]] == pytest.approx(0.004)  # only in the earlier one
    assert by[days[5]] == pytest.approx(1.002)  # overlap: the later one
    # the later window's first session has no return there: the earlier window's return, not a gap
    assert by[days[4]] == pytest.approx(0.005)
    assert cdi[days[0]] == pytest.approx(0.0004) and cdi[days[5]] == pytest.approx(1.0004)
