"""Strategies, aggregation and monitor: known answers, invariants, failures, and the two steps."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest

from brmacro.holding import held_z
from brmacro.io import write_table
from brmacro.params import defaults
from brmacro.pipeline import all_schemas
from brmacro.signals.aggregation import (
    aggregate_instrument,
    conviction_from_z,
    regime_tilt,
    stale_sessions,
    staleness_factor,
)
from brmacro.signals.market import Market, StrategyGap, zscore_last, zscore_path
from brmacro.signals.monitor import divergences, flips_and_surges, weekly_flip_counts
from brmacro.signals.steps import signal_aggregation, signal_monitor
from brmacro.signals.strategies import (
    STRATEGIES,
    confidence_from_z,
    inflation_target,
    rates_br_02,
    rates_br_03,
    run_strategies,
)
from tests.configparts import config_part, schema_part
from tests.unit import test_signals_fixtures as fx

ROOT = Path(__file__).resolve().parents[2]

DEFAULT_CONFIG = defaults("signals")  # the declared defaults (brmacro.params)


# ----------------------------------------------------------------------------- staleness, tilts, crowding

def test_staleness_counts_b3_sessions_across_the_2026_11_20_holiday() -> None:
    # Thu 19 Nov -> Mon 23 Nov 2026: Friday 20 is a B3 holiday, so 1 session (weekdays would say 2)
    assert stale_sessions(dt.date(2026, 11, 19), dt.date(2026, 11, 23)) == 1
    assert stale_sessions(dt.date(2026, 11, 18), dt.date(2026, 11, 23)) == 2
    assert stale_sessions(dt.date(2026, 11, 23), dt.date(2026, 11, 23)) == 0
    # a US-only date (the B3 holiday itself) counts the sessions after it
    assert stale_sessions(dt.date(2026, 11, 20), dt.date(2026, 11, 23)) == 1
    assert staleness_factor(1, 5) == pytest.approx(0.8)
    assert staleness_factor(5, 5) == 0.0
    assert staleness_factor(9, 5) == 0.0


def test_staleness_refuses_look_ahead_and_bad_window() -> None:
    with pytest.raises(ValueError, match="look-ahead"):
        stale_sessions(dt.date(2026, 11, 24), dt.date(2026, 11, 23))
    with pytest.raises(ValueError):
        staleness_factor(1, 0)


def test_regime_tilts_by_hand() -> None:
    probs = {"goldilocks": 0.5, "reflation": 0.2, "stagflation": 0.2, "deflation": 0.1}
    assert regime_tilt("RATES_BR_01", probs) == pytest.approx(0.5 * 1.0 + 0.2 * 0.8 + 0.2 * 0.7 + 0.1 * 1.3)
    assert regime_tilt("INF_03", probs) == pytest.approx(0.5 * 0.8 + 0.2 * 1.3 + 0.2 * 1.5 + 0.1 * 0.6)
    assert regime_tilt("FX_02", probs) == pytest.approx(0.5 + 0.2 + 0.2 * 0.7 + 0.1 * 0.9)
    assert regime_tilt("MONETARY_COMPOSITE", probs) == 1.0  # unknown prefix
    # longest prefix wins and the floor applies
    table = {"EQ_": {"goldilocks": 2.0}, "EQUITY_": {"goldilocks": 0.0}}
    assert regime_tilt("EQUITY_01", {"goldilocks": 1.0}, table, floor=0.01) == 0.01
    assert regime_tilt("EQ_01", {"goldilocks": 1.0}, table) == 2.0


def test_bayesian_aggregation_by_hand() -> None:
    a = aggregate_instrument([1.0, -0.5], [0.8, 0.4], [1.0, 0.6], [0.9, 1.3])
    w = np.array([0.8 * 1.0 * 0.9, 0.4 * 0.6 * 1.3])
    assert a.conviction == pytest.approx((w[0] * 1.0 - w[1] * 0.5) / w.sum())
    assert a.direction == 1 and not a.crowded and a.n_signals == 2
    assert a.confidence == pytest.approx(0.6)
    cw = aggregate_instrument([1.0, -0.5], [0.8, 0.4], [1.0, 0.6], [0.9, 1.3], method="confidence_weighted")
    w2 = np.array([0.8, 0.4 * 0.6])
    assert cw.conviction == pytest.approx((w2[0] - 0.5 * w2[1]) / w2.sum())


def test_crowding_penalty_above_80_percent_agreement() -> None:
    a = aggregate_instrument([0.5, 0.4, 0.6], [1, 1, 1], [1, 1, 1], [1, 1, 1], method="confidence_weighted")
    assert a.crowded and a.conviction == pytest.approx(0.5 * 0.8)
    # exactly 80 % (4 of 5) is not "more than" 80 %
    b = aggregate_instrument([0.5, 0.5, 0.5, 0.5, -0.5], [1] * 5, [1] * 5, [1] * 5, method="confidence_weighted")
    assert not b.crowded and b.conviction == pytest.approx(0.3)
    one = aggregate_instrument([0.5], [1], [1], [1])
    assert not one.crowded and one.conviction == pytest.approx(0.5)


def test_rank_based_and_stale_signals() -> None:
    r = aggregate_instrument([0.2, -0.8, 0.5], [1, 1, 1], [1.0, 0.5, 1.0], [1, 1, 1], method="rank_based")
    assert r.conviction == pytest.approx((1 / 3 - 1.0 * 0.5 + 2 / 3) / 3)
    s = aggregate_instrument([0.9, -0.9], [1, 1], [1.0, 0.0], [1, 1])
    assert s.n_signals == 1 and s.conviction == pytest.approx(0.9)
    empty = aggregate_instrument([], [], [], [])
    assert empty.conviction == 0.0 and empty.direction == 0 and empty.n_signals == 0
    small = aggregate_instrument([0.04], [1], [1], [1])
    assert small.direction == 0


def test_aggregation_rejects_unknown_method_and_ragged_input() -> None:
    with pytest.raises(ValueError, match="method"):
        aggregate_instrument([0.5], [1], [1], [1], method="vote")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        aggregate_instrument([0.5, 0.1], [1], [1], [1])


def test_conviction_and_confidence_curves() -> None:
    assert conviction_from_z(3.0) == 1.0 and conviction_from_z(-1.0) == -0.5
    assert confidence_from_z(0.0) == 0.0
    assert confidence_from_z(2.0) == pytest.approx(2 / (1 + np.exp(-2)) - 1)


# ----------------------------------------------------------------------------- strategies

def _market(curves: pd.DataFrame | None = None, macro: pd.DataFrame | None = None) -> Market:
    t = fx.silver()
    return Market(fx.ASOF, t["silver_returns"]["part"], t["silver_returns"]["prices"],
                  t["silver_curves"]["part"] if curves is None else curves,
                  t["silver_macro"]["part"] if macro is None else macro)


def test_zscore_and_inflation_target() -> None:
    x = pd.Series([1.0, 2.0, 3.0, 4.0, 10.0], name="x")
    v = x.to_numpy()
    assert zscore_last(x, 5) == pytest.approx((10 - v.mean()) / v.std())
    with pytest.raises(StrategyGap):
        zscore_last(pd.Series([1.0, 1.0, 1.0], name="flat"), 3)
    with pytest.raises(StrategyGap):
        zscore_last(pd.Series([1.0], name="short"), 10)
    assert inflation_target(2018) == 0.045 and inflation_target(2019) == 0.0425
    assert inflation_target(2026) == 0.03 and inflation_target(2023) == 0.0325


def test_taylor_strategy_direction_by_hand() -> None:
    d = fx.ASOF
    curves = pd.DataFrame({"date": [d], "curve": ["DI_PRE"], "tenor_label": ["252du"], "tenor_du": [252],
                           "tenor_years": [1.0], "rate": [0.10]})
    rel = d - dt.timedelta(days=3)
    macro = pd.DataFrame({"series": ["focus_ipca_12m", "br_output_gap"], "observation_date": [rel, rel],
                          "value": [0.05, 0.01], "release_date": [rel, rel]})
    m = _market(curves, macro)
    from brmacro.params import defaults

    (s,) = rates_br_02(m, defaults("signals.strategies.params.RATES_BR_02"), defaults("signals.strategies.series"))
    # i* = 0.045 + 0.05 + 1.5 (0.05 - 0.03) + 0.5 * 0.01 = 0.13 > DI 0.10: pay DI (short the price)
    assert s.drivers["i_star"] == pytest.approx(0.13)
    assert s.instrument == "DI1_1Y" and s.direction == -1 and s.z_score == pytest.approx(-3.0)
    assert s.confidence == 1.0


def test_slope_strategy_is_a_flattener_when_the_curve_is_steep() -> None:
    days = fx.sessions()
    n = len(days)
    slope = np.r_[np.full(n - 1, 0.01) + np.sin(np.arange(n - 1)) * 0.001, 0.02]
    rows = [(d, "DI_PRE", "504du", 504, 2.0, 0.10) for d in days]
    rows += [(d, "DI_PRE", "1260du", 1260, 5.0, 0.10 + s) for d, s in zip(days, slope, strict=True)]
    curves = pd.DataFrame(rows, columns=["date", "curve", "tenor_label", "tenor_du", "tenor_years", "rate"])
    from brmacro.params import defaults

    p03 = defaults("signals.strategies.params.RATES_BR_03")
    sigs = {s.instrument: s for s in rates_br_03(_market(curves), p03, {})}
    assert sigs["DI1_5Y"].direction == 1 and sigs["DI1_2Y"].direction == -1  # receive 5Y, pay 2Y
    assert sigs["DI1_5Y"].z_score > 1.5


def test_zscore_path_is_zscore_last_on_each_cut_of_the_series() -> None:
    x = pd.Series([1.0, 1.0, 1.0, 2.0, 5.0, 3.0, 4.0, 10.0, 6.0], name="x")
    path = zscore_path(x, 4, 6)
    assert len(path) == 6 and path[-1] == zscore_last(x, 4)
    for k, z in enumerate(reversed(path)):
        cut = x.iloc[: len(x) - k]
        try:
            assert z == zscore_last(cut, 4)
        except StrategyGap:  # the first cuts have no dispersion ([1, 1, 1] ...): NaN, not an error
            assert np.isnan(z)
    assert np.isnan(zscore_path(x, 3, 8)[0])  # 1, 1, 1: no dispersion
    assert zscore_path(x, 4, 50)[-1] == path[-1] and len(zscore_path(x, 4, 50)) == len(x)
    with pytest.raises(StrategyGap):  # today itself cannot be scored: the gap stands
        zscore_path(pd.Series([1.0, 1.0, 1.0], name="flat"), 3, 2)


def test_held_z_keeps_an_entry_for_its_horizon_while_the_sign_holds() -> None:
    assert held_z([0.2, 1.8], 1.5, 21) == (1.8, 0)  # today at the entry: today
    assert held_z([1.8, 0.4, 0.3], 1.5, 21) == (pytest.approx(1.8 * (1 - 2 / 21)), 2)  # entry 2 sessions ago
    assert held_z([1.6, 1.4, 1.45], 1.5, 21) == (pytest.approx(1.45), 2)  # today's |z| larger than the decayed
    assert held_z([-2.0, -0.5, -0.1], 1.5, 4) == (pytest.approx(-2.0 * 0.5), 2)  # negative entries alike
    assert held_z([1.8, 0.4, -0.3], 1.5, 21) == (-0.3, 0)  # reverted through the mean: neutral
    assert held_z([1.8, 0.4, 0.3], 1.5, 2) == (0.3, 0)  # past the horizon: neutral
    assert held_z([1.8, -1.7, 0.3], 1.5, 21) == (0.3, 0)  # the latest entry (short) decides; today is long
    assert held_z([-1.8, 1.7, 0.3], 1.5, 21) == (pytest.approx(1.7 * (1 - 1 / 21)), 1)
    assert held_z([float("nan"), 0.3], 1.5, 21) == (0.3, 0)  # a session that could not be scored holds nothing
    assert held_z([1.8, 0.3], 1.5, 1) == (0.3, 0)  # horizon 1: an entry lives one session


def test_slope_strategy_holds_its_entry_when_hold_entries_is_on() -> None:
    days = fx.sessions()
    n = len(days)
    slope = np.r_[np.full(n - 4, 0.01) + np.sin(np.arange(n - 4)) * 0.001, 0.02, 0.0101, 0.0102, 0.0103]
    rows = [(d, "DI_PRE", "504du", 504, 2.0, 0.10) for d in days]
    rows += [(d, "DI_PRE", "1260du", 1260, 5.0, 0.10 + s) for d, s in zip(days, slope, strict=True)]
    curves = pd.DataFrame(rows, columns=["date", "curve", "tenor_label", "tenor_du", "tenor_years", "rate"])
    p03 = defaults("signals.strategies.params.RATES_BR_03")
    off = {s.instrument: s for s in rates_br_03(_market(curves), {**p03, "hold": False}, {})}
    on = {s.instrument: s for s in rates_br_03(_market(curves), {**p03, "hold": True}, {})}
    today = off["DI1_5Y"].z_score
    assert 0 < today < p03["entry"] and off["DI1_5Y"].direction == 0 and off["DI1_2Y"].direction == 0
    entry_z = zscore_path((pd.Series(slope, name="s")), p03["window"], 4)[0]
    assert entry_z > p03["entry"]
    held = max(today, entry_z * (1 - 3 / p03["horizon"]))
    assert on["DI1_5Y"].direction == 1 and on["DI1_2Y"].direction == -1  # still the flattener, 3 sessions on
    assert on["DI1_5Y"].z_score == pytest.approx(held) and on["DI1_2Y"].z_score == pytest.approx(-held)
    assert on["DI1_5Y"].drivers["held_sessions"] == 3 and on["DI1_5Y"].drivers["z_today"] == pytest.approx(today)
    assert on["DI1_5Y"].confidence == pytest.approx(confidence_from_z(held))
    runs = {r.strategy_id: r for r in run_strategies(_market(curves), enabled=["RATES_BR_03"], hold=True)}
    assert runs["RATES_BR_03"].signals == tuple(on[i] for i in ("DI1_5Y", "DI1_2Y"))


def test_every_strategy_runs_on_fabricated_silver_and_gaps_are_explicit() -> None:
    runs = run_strategies(_market())
    assert {r.strategy_id for r in runs} == set(STRATEGIES)
    for r in runs:
        assert r.gap is None, (r.strategy_id, r.gap)
        for s in r.signals:
            assert s.direction in (-1, 0, 1) and 0 <= s.confidence <= 1
            assert s.direction == 0 or np.sign(s.z_score) == s.direction
            assert s.signal_date <= fx.ASOF
    t = fx.silver()
    macro = t["silver_macro"]["part"]
    no_gap = _market(macro=macro[macro["series"] != "br_output_gap"])
    by = {r.strategy_id: r for r in run_strategies(no_gap)}
    assert by["RATES_BR_02"].gap is not None and "br_output_gap" in by["RATES_BR_02"].gap
    assert by["RATES_BR_02"].signals == ()
    with pytest.raises(ValueError, match="unknown strategy"):
        run_strategies(_market(), enabled=["NOPE_01"])


# ----------------------------------------------------------------------------- monitor

def _agg(rows: list[tuple[str, float, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["instrument", "conviction", "direction"])


def test_monitor_flips_and_surges_on_a_constructed_pair() -> None:
    prev = _agg([("A", 0.3, 1), ("B", -0.1, -1), ("C", 0.02, 0), ("D", 0.5, 1)])
    cur = _agg([("A", -0.2, -1), ("B", -0.3, -1), ("C", 0.4, 1), ("E", 0.9, 1)])
    ev = flips_and_surges(prev, cur, dt.date(2026, 11, 19), 0.3)
    got = sorted((e["event"], e["instrument"]) for e in ev)
    assert got == [("flip", "A"), ("flip", "C"), ("surge", "A"), ("surge", "C")]
    a = next(e for e in ev if e["instrument"] == "A" and e["event"] == "surge")
    assert a["before"] == 0.3 and a["after"] == -0.2 and a["delta"] == pytest.approx(-0.5)
    with pytest.raises(ValueError):
        flips_and_surges(prev, cur, dt.date(2026, 11, 19), 0.0)


def test_monitor_divergences_and_weekly_flips() -> None:
    agg = _agg([("A", 0.2, 1)])
    sig = pd.DataFrame({"instrument": ["A", "A", "A"], "signal_id": ["S1", "S2", "S3"],
                        "status": ["active", "active", "neutral"], "conviction": [0.9, -0.4, -1.0]})
    ev = divergences(sig, agg, 0.5)
    assert [(e["subject"], round(float(e["delta"]), 6)) for e in ev] == [("S1", -0.7), ("S2", 0.6)]
    hist = [_agg([("A", 0.3, 1)]), _agg([("A", -0.3, -1)]), _agg([("A", -0.2, -1)]), _agg([("A", 0.0, 0)])]
    assert weekly_flip_counts(hist) == {"A": 2}


# ----------------------------------------------------------------------------- steps

def _agg_inputs() -> dict[str, dict[str, pd.DataFrame]]:
    return {**fx.silver(), **fx.agents()}


def test_signal_aggregation_step_is_schema_valid_and_deterministic(tmp_path: Path) -> None:
    tabs = _agg_inputs()
    out1 = signal_aggregation(fx.context(tmp_path / "a", "signal_aggregation", tabs, {}))
    out2 = signal_aggregation(fx.context(tmp_path / "b", "signal_aggregation", tabs, {}))
    schemas = all_schemas()["signal_aggregation"]
    for name, df in out1.items():
        schemas[name].conform(df)
        pd.testing.assert_frame_equal(df, out2[name])
    part = out1["part"]
    assert len(part) == 8 and part["regime"].unique().tolist() == ["goldilocks"]
    sig = out1["strategy_signals"]
    # composite agent signals only (default), tilts applied, weights zero unless active
    assert "MONETARY_COMPOSITE" in set(sig["signal_id"]) and "MONETARY_SUB" not in set(sig["signal_id"])
    assert (sig.loc[sig["status"] != "active", "weight"].fillna(0) == 0).all()
    usd = part.set_index("instrument").loc["USDBRL"]
    assert usd["n_signals"] == int(((sig["instrument"] == "USDBRL") & (sig["status"] == "active")).sum())
    # rank-based method selectable
    out3 = signal_aggregation(fx.context(tmp_path / "c", "signal_aggregation", tabs,
                                         {"signals": {"method": "rank_based", "agent_signals": "all"}}))
    assert set(out3["part"]["method"]) == {"rank_based"}
    assert "MONETARY_SUB" in set(out3["strategy_signals"]["signal_id"])


def test_signal_aggregation_needs_regime_probabilities(tmp_path: Path) -> None:
    from brmacro.errors import InputMissing

    tabs = _agg_inputs()
    tabs["agent_cross_asset"]["view"] = tabs["agent_cross_asset"]["view"].iloc[0:0]
    with pytest.raises(InputMissing, match="regime"):
        signal_aggregation(fx.context(tmp_path, "signal_aggregation", tabs, {}))


def test_signal_monitor_step_with_and_without_previous_sessions(tmp_path: Path) -> None:
    tabs = _agg_inputs()
    agg = signal_aggregation(fx.context(tmp_path / "agg", "signal_aggregation", tabs, {}))
    prev_day = dt.date(2026, 11, 19)
    prev_agg = {k: v.copy() for k, v in agg.items()}
    prev_agg["part"]["conviction"] = -prev_agg["part"]["conviction"]
    prev_agg["part"]["direction"] = -prev_agg["part"]["direction"]
    prev_agg["part"]["date"] = prev_day
    prev_paths = {}
    for name, df in prev_agg.items():
        p = tmp_path / "prev" / f"{name}.parquet"
        write_table(df, p, all_schemas()["signal_aggregation"][name], asof=prev_day, source="demo")
        prev_paths[name] = p
    ctx = fx.context(tmp_path / "mon", "signal_monitor", {"signal_aggregation": agg}, {},
                     prev={"signal_aggregation": [(prev_day, prev_paths)]})
    out = signal_monitor(ctx)
    for name, df in out.items():
        all_schemas()["signal_monitor"][name].conform(df)
    ev, summ = out["part"], out["summary"].set_index("asset_class")
    n_dir = int((agg["part"]["direction"] != 0).sum())
    assert (ev["event"] == "flip").sum() == n_dir
    assert set(ev.loc[ev["event"] == "flip", "compared_with"]) == {prev_day}
    assert summ.loc["all", "has_previous"] and summ.loc["all", "n_previous"] == 1
    assert summ.loc["all", "flips"] == n_dir and summ.loc["all", "weekly_flips"] == n_dir
    assert "only 1 of 5" in summ.loc["all", "note"]
    alone = signal_monitor(fx.context(tmp_path / "mon2", "signal_monitor", {"signal_aggregation": agg}, {}))
    s2 = alone["summary"].set_index("asset_class")
    assert not s2.loc["all", "has_previous"] and s2.loc["all", "flips"] == 0
    assert set(alone["part"]["event"]) <= {"divergence"}


def test_config_part_mirrors_defaults_and_validates() -> None:
    cfg = config_part("signals")
    schema = schema_part("signals")
    assert list(cfg) == ["signals"]
    jsonschema.validate(cfg["signals"], schema["signals"])
    import json

    assert json.loads(json.dumps(cfg["signals"])) == json.loads(json.dumps(DEFAULT_CONFIG))
    bad = {**cfg["signals"], "method": "vote"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema["signals"])


def test_macro_obs_made_once_per_series_handed_out_as_copies() -> None:
    """Market.macro_obs is made once per series and session (issue 16, seventh round): the frame a fresh Market
    gives, a copy each time (a caller's edit does not reach the next caller), a missing series raising each time."""
    m = _market()
    name = str(m.macro["series"].iloc[0])
    first = m.macro_obs(name)
    want = _market().macro_obs(name)
    pd.testing.assert_frame_equal(first, want, check_exact=True)
    first["value"] = 99.0
    first.loc[0, "observation_date"] = dt.date(1900, 1, 1)
    pd.testing.assert_frame_equal(m.macro_obs(name), want, check_exact=True)
    for _ in range(2):
        with pytest.raises(StrategyGap, match="no_such_series"):
            m.macro_obs("no_such_series")
