"""risk_stress library: yield shocks repriced, non-parallel DI shocks, price shocks, unmapped exposure, reverse
stress, replay (lookback and crisis table), the stress-loss limit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pytest

from brmacro.calendar import sessions_between
from brmacro.covariance import returns_matrix
from brmacro.instruments import di1_dv01, di1_pu
from brmacro.params import defaults
from brmacro.risk import RiskInputError
from brmacro.risk.limits import stress_loss_row
from brmacro.risk.stress import (
    compute_stress,
    di1_modified_duration,
    history_matrices,
    instrument_durations,
    instrument_rates,
    rate_at_tenor,
    replay_window,
    reprice,
    reverse_multiplier,
    scenario_pnl,
    scenario_pnl_function,
    window_moves,
    yield_shock_at,
)

D = dt.date(2026, 11, 27)
DEFAULTS = defaults("risk.stress")
FACTORS = DEFAULTS["factors"]


def _curves(d: dt.date = D, rate: float = 0.12, ust: float = 0.045) -> pd.DataFrame:
    tenors = (21, 63, 126, 252, 504, 1260, 2520)
    di = pd.DataFrame({
        "date": d, "curve": "DI_PRE", "tenor_label": [f"{t}du" for t in tenors], "tenor_du": tenors,
        "tenor_years": [t / 252 for t in tenors], "rate": rate,
    })
    us = pd.DataFrame({"date": d, "curve": "UST_NOM", "tenor_label": ["2Y", "10Y", "30Y"],
                       "tenor_du": [504, 2520, 7560], "tenor_years": [2.0, 10.0, 30.0], "rate": ust})
    return pd.concat([di, us], ignore_index=True)


def _note_bond(y: float, coupon: float = 0.06, n: int = 20) -> float:
    """Closed form of a semi-annual bond per 100: annuity of the coupons plus the discounted face."""
    v = (1 + y / 2) ** -n
    return 100 * (coupon / y) * (1 - v) + 100 * v


def _scaled(spec: Any, k: float) -> Any:
    """``k`` times a shock (price or yield, any form): the reverse stress checked independently."""
    if isinstance(spec, Mapping) and "dy" in spec:
        return {"du": list(spec["du"]), "dy": [k * float(v) for v in spec["dy"]]}
    if isinstance(spec, Mapping) and "front" in spec:
        return {"front": k * float(spec["front"]), "fade_years": spec["fade_years"]}
    return k * float(spec)


def test_di1_duration_matches_pu_derivative() -> None:
    d = di1_modified_duration(0.12, 504)
    assert d == pytest.approx(2.0 / 1.12)
    # -dPU/dr / PU from the instrument table's DV01 (per bp) and a finite difference.
    assert d == pytest.approx(float(di1_dv01(0.12, 504) / di1_pu(0.12, 504) / 1e-4), rel=1e-12)
    h = 1e-7
    fd = -(di1_pu(0.12 + h, 504) - di1_pu(0.12 - h, 504)) / (2 * h) / di1_pu(0.12, 504)
    assert d == pytest.approx(float(fd), rel=1e-6)


def test_full_repricing_at_500bp_against_closed_form_and_first_order_error() -> None:
    w = pd.Series({"DI1_2Y": 1.0})
    up = scenario_pnl(w, {"DI_PRE": 0.05}, FACTORS, {"DI1_2Y": 0.12})
    closed = (1.12 / 1.17) ** 2 - 1.0  # PU(17 %) / PU(12 %) - 1 at 504 du
    assert up.pnl == pytest.approx(closed, rel=1e-12)
    assert up.first_order == pytest.approx(-0.05 * 2.0 / 1.12, rel=1e-12)
    # first order overstates the receiver's loss by about 6.7 % of it (-8.93 % vs -8.36 % of NAV)
    assert up.first_order / up.pnl - 1 == pytest.approx(0.0675, abs=5e-4)
    down = scenario_pnl(w, {"DI_PRE": -0.05}, FACTORS, {"DI1_2Y": 0.12})
    assert down.pnl == pytest.approx((1.12 / 1.07) ** 2 - 1.0, rel=1e-12)  # +9.56 %: convexity, gain > loss
    assert down.pnl > -up.pnl and down.first_order == pytest.approx(-up.first_order)
    payer = scenario_pnl(-w, {"DI_PRE": 0.05}, FACTORS, {"DI1_2Y": 0.12})
    assert payer.pnl == pytest.approx(-closed, rel=1e-12)
    # DI1_10Y: the convexity error grows with duration (first order -44.6 % vs full -36.4 %).
    ten = scenario_pnl(pd.Series({"DI1_10Y": 1.0}), {"DI_PRE": 0.05}, FACTORS, {"DI1_10Y": 0.12})
    assert ten.pnl == pytest.approx((1.12 / 1.17) ** 10 - 1.0, rel=1e-12)
    assert ten.first_order == pytest.approx(-0.5 / 1.12, rel=1e-12)


def test_zn_is_repriced_from_the_shocked_yield() -> None:
    w = pd.Series({"UST_10Y": -0.5})
    res = scenario_pnl(w, {"UST_NOM": 0.05}, FACTORS, {"UST_10Y": 0.045})
    expected = -0.5 * (_note_bond(0.095) / _note_bond(0.045) - 1.0)
    assert res.pnl == pytest.approx(expected, rel=1e-10)
    assert reprice("UST_10Y", 0.045, 0.05) == pytest.approx(_note_bond(0.095) / _note_bond(0.045) - 1, rel=1e-10)
    d = instrument_durations(["UST_10Y"], _curves(), D)["UST_10Y"]
    h = 1e-5
    assert d == pytest.approx(-(_note_bond(0.045 + h) - _note_bond(0.045 - h)) / (2 * h) / _note_bond(0.045), rel=1e-6)
    assert res.first_order == pytest.approx(-d * -0.5 * 0.05, rel=1e-9)
    assert res.pnl < res.first_order  # a payer gains less than first order says when yields jump (convexity)
    with pytest.raises(RiskInputError, match="no price"):
        reprice("DI1_2Y", 0.01, -1.5)


def test_non_parallel_scenarios_have_their_shapes() -> None:
    sc = DEFAULTS["scenarios"]
    du = {"DI1_1Y": 252, "DI1_2Y": 504, "DI1_5Y": 1260, "DI1_10Y": 2520}
    steep = [yield_shock_at(sc["bear_steepener"]["shocks"]["DI_PRE"], n) for n in du.values()]
    assert steep == pytest.approx([0.005, 0.01, 0.0175, 0.02]) and all(np.diff(steep) > 0)
    flat = [yield_shock_at(sc["bull_flattener"]["shocks"]["DI_PRE"], n) for n in du.values()]
    assert flat == pytest.approx([-0.0025, -0.005, -0.01, -0.0125]) and all(np.diff(flat) < 0)
    # between and beyond the points: linear in du, flat outside
    assert yield_shock_at(sc["bear_steepener"]["shocks"]["DI_PRE"], 378) == pytest.approx(0.0075)
    assert yield_shock_at(sc["bear_steepener"]["shocks"]["DI_PRE"], 21) == pytest.approx(0.005)
    hawk = [yield_shock_at(sc["copom_hawkish_surprise"]["shocks"]["DI_PRE"], n) for n in du.values()]
    fade = [(1 - np.exp(-x)) / x for x in (1.0, 2.0, 5.0, 10.0)]  # mean life 1 year
    assert hawk == pytest.approx([0.01 * f for f in fade], rel=1e-12)
    assert hawk == pytest.approx([0.006321, 0.004323, 0.001987, 0.001000], abs=1e-6)
    assert yield_shock_at({"front": 0.01, "fade_years": 1.0}, 0) == pytest.approx(0.01)
    dove = [yield_shock_at(sc["copom_dovish_surprise"]["shocks"]["DI_PRE"], n) for n in du.values()]
    assert dove == pytest.approx([-h for h in hawk])
    # each DI point is repriced with the shock at its own tenor
    w = pd.Series(dict.fromkeys(du, 1.0))
    res = scenario_pnl(w, sc["copom_hawkish_surprise"]["shocks"], FACTORS, dict.fromkeys(du, 0.12))
    for (name, n), dy in zip(du.items(), hawk, strict=True):
        assert res.by_instrument[name] == pytest.approx((1.12 / (1.12 + dy)) ** (n / 252) - 1, rel=1e-12)
    # a 2s10s steepener (receive 2Y, pay 10Y DV01-neutral) gains in the bull flattener... and loses in the steepener
    dv = {"DI1_2Y": 1.0, "DI1_10Y": -(2.0 / 10.0)}
    book = pd.Series(dv)
    rates = {"DI1_2Y": 0.12, "DI1_10Y": 0.12}
    assert scenario_pnl(book, sc["bull_flattener"]["shocks"], FACTORS, rates).pnl < 0
    assert scenario_pnl(book, sc["bear_steepener"]["shocks"], FACTORS, rates).pnl > 0
    with pytest.raises(RiskInputError, match="increasing du"):
        yield_shock_at({"du": [504, 252], "dy": [0.01, 0.02]}, 300)
    with pytest.raises(RiskInputError, match="neither"):
        yield_shock_at({"front": 0.01}, 300)


def test_pnl_function_equals_scenario_pnl_of_scaled_shocks() -> None:
    w = pd.Series({"DI1_1Y": 2.0, "DI1_10Y": -0.3, "USDBRL": -0.1, "IBOV": 0.1, "UST_10Y": 0.2})
    rates = {"DI1_1Y": 0.11, "DI1_10Y": 0.125, "UST_10Y": 0.045}
    for name, spec in DEFAULTS["scenarios"].items():
        f = scenario_pnl_function(w, spec["shocks"], FACTORS, rates)
        for k in (0.0, 0.5, 1.0, 3.7):
            scaled = {n: _scaled(v, k) for n, v in spec["shocks"].items()}
            assert f(k) == pytest.approx(scenario_pnl(w, scaled, FACTORS, rates).pnl, abs=1e-14), (name, k)


def test_compute_stress_uses_the_session_curve() -> None:
    params = {**DEFAULTS, "scenarios": {"up200": {"period": "test", "shocks": {"DI_PRE": 0.02}}}, "replay_windows": []}
    ret = pd.DataFrame({"date": [D], "instrument": ["DI1_2Y"], "ret": [0.0]})
    scen, rev, rep = compute_stress(pd.Series({"DI1_2Y": 1.0}), ret, _curves(), D, params)
    row = scen.iloc[0]
    assert row["pnl"] == pytest.approx((1.12 / 1.14) ** 2 - 1, rel=1e-12)
    assert row["worst_instrument"] == "DI1_2Y" and row["unmapped_exposure"] == 0.0
    assert "first-order (duration) P&L -3.5714%" in row["note"] and "DI1_2Y 12.00%" in row["note"]
    k = rev.iloc[0]["multiplier"]
    assert (1.12 / (1.12 + 0.02 * k)) ** 2 - 1 == pytest.approx(-0.10, abs=1e-10)
    assert k > 0.10 / (0.02 * 2.0 / 1.12)  # convexity: a larger multiple than first order needs
    assert rep.empty


def test_price_and_ust_shocks_and_unmapped_exposure() -> None:
    w = pd.Series({"USDBRL": 0.2, "UST_10Y": -0.5, "SPX": 0.3, "IBOV": 0.0})
    shocks = DEFAULTS["scenarios"]["taper_tantrum_2013"]["shocks"]
    res = scenario_pnl(w, shocks, FACTORS, {"UST_10Y": 0.045})
    # USDBRL +15% on 0.2 = +0.03; UST yields +100 bp on a -0.5 (payer) ZN, repriced
    assert res.by_instrument["USDBRL"] == pytest.approx(0.03)
    assert res.by_instrument["UST_10Y"] == pytest.approx(-0.5 * (_note_bond(0.055) / _note_bond(0.045) - 1), rel=1e-10)
    assert res.pnl == pytest.approx(0.03 + res.by_instrument["UST_10Y"])
    # The taper scenario has no S&P shock: SPX exposure is unmapped, IBOV is not held.
    assert res.unmapped == ["SPX"] and res.unmapped_exposure == pytest.approx(0.3)


def test_reverse_multiplier_by_hand() -> None:
    k, note = reverse_multiplier(-0.04, True, 0.10, 5.0)
    assert k == pytest.approx(2.5) and "2.500x" in note
    k, note = reverse_multiplier(-0.01, True, 0.10, 5.0)
    assert k == pytest.approx(10.0) and "beyond" in note
    assert reverse_multiplier(0.03, True, 0.10, 5.0)[0] is None
    k, note = reverse_multiplier(0.0, False, 0.10, 5.0)
    assert k is None and "no exposure" in note
    # solved numerically: a linear P&L gives the closed form, a convex one its own root
    k, note = reverse_multiplier(lambda x: -0.04 * x, True, 0.10, 5.0)
    assert k == pytest.approx(2.5, rel=1e-10) and "solved numerically" in note
    k, _ = reverse_multiplier(lambda x: -0.04 * x + 0.01 * x * x, True, 0.10, 5.0)
    assert k is None  # never reaches -10 %: the minimum is -4 %
    k, _ = reverse_multiplier(lambda x: 0.02 * x - 0.01 * x * x, True, 0.10, 5.0)
    assert k == pytest.approx(1 + np.sqrt(11), rel=1e-9)  # gains at 1x, loses 10 % at 4.317x


def test_replay_compounds_window_returns_and_reports_coverage() -> None:
    start, end = dt.date(2020, 2, 20), dt.date(2020, 3, 31)
    window = sessions_between(start, end)
    present = window[:4]  # the first session's return is before the window (measured from its close)
    rows = [
        {"date": present[0], "instrument": "IBOV", "ret": 0.5},
        {"date": present[1], "instrument": "IBOV", "ret": -0.10},
        {"date": present[2], "instrument": "IBOV", "ret": 0.05},
        {"date": present[3], "instrument": "IBOV", "ret": -0.20},
        {"date": D, "instrument": "IBOV", "ret": 0.01},
    ]
    mat = returns_matrix(pd.DataFrame(rows), D)
    res = replay_window(mat, pd.Series({"IBOV": 0.5}), start, end, D)
    growth = 0.9 * 1.05 * 0.8 - 1.0
    assert res.pnl == pytest.approx(0.5 * growth)
    assert res.worst_pnl == pytest.approx(0.5 * growth)
    assert res.n_sessions == 3
    assert res.coverage == pytest.approx(3 / (len(window) - 1))
    assert "partial" in res.note
    gone = replay_window(mat, pd.Series({"IBOV": 0.5}), dt.date(2013, 5, 22), dt.date(2013, 8, 30), D)
    assert gone.pnl is None and gone.coverage == 0.0 and "not in history" in gone.note


def test_crisis_table_completes_the_lookback_for_replay_and_window_moves() -> None:
    start, end = dt.date(2013, 5, 22), dt.date(2013, 8, 30)
    days = sessions_between(start, end)
    crisis = pd.DataFrame({"window": "taper", "date": days, "instrument": "USDBRL",
                           "level": np.linspace(2.0, 2.4, len(days)), "ret": [np.nan] + [0.001] * (len(days) - 1)})
    part = pd.DataFrame({"date": [D, D], "instrument": ["USDBRL", "DI1_2Y"], "level": [5.0, 0.12], "ret": [0.0, 0.0]})
    mat, lv = history_matrices(part, crisis, D)
    res = replay_window(mat, pd.Series({"USDBRL": 1.0}), start, end, D)
    assert res.coverage == 1.0 and res.n_sessions == len(days) - 1
    assert res.pnl == pytest.approx(1.001 ** (len(days) - 1) - 1)
    assert window_moves(lv, start, end) == pytest.approx({"USDBRL": 0.2})
    # without the crisis table the window is not in history
    assert replay_window(returns_matrix(part, D), pd.Series({"USDBRL": 1.0}), start, end, D).pnl is None
    # the lookback's value wins where both have one
    both = pd.concat([part, pd.DataFrame({"date": [D], "instrument": ["USDBRL"], "level": [9.0], "ret": [0.5]})
                     .assign(window="x")], ignore_index=True)
    m2, _ = history_matrices(part, both.loc[both["window"] == "x"], D)
    assert m2.loc[D, "USDBRL"] == 0.0


def test_stress_loss_limit_at_its_threshold() -> None:
    def table(pnl: float) -> pd.DataFrame:
        return pd.DataFrame({"scenario": ["a", "b"], "pnl": [0.01, pnl]})

    at = stress_loss_row(table(-0.20), 0.20, 0.8)
    assert at.limit == "stress_loss" and at.value == pytest.approx(0.20) and at.utilisation == pytest.approx(1.0)
    assert at.status == "BREACHED" and "b" in at.note
    assert stress_loss_row(table(-0.1999), 0.20, 0.8).status == "WARNING"
    assert stress_loss_row(table(-0.1599), 0.20, 0.8).status == "OK"
    gain = stress_loss_row(pd.DataFrame({"scenario": ["a"], "pnl": [0.03]}), 0.20, 0.8)
    assert gain.status == "OK" and gain.utilisation == 0.0
    assert stress_loss_row(None, 0.20, 0.8).status == "N/A"


def test_default_stress_tables_on_a_mixed_book() -> None:
    w = pd.Series({"DI1_1Y": 2.0, "DI1_10Y": -0.3, "USDBRL": -0.1, "IBOV": 0.1, "UST_10Y": 0.2, "SPX": 0.0})
    ret = pd.DataFrame({"date": [D] * 5, "instrument": ["DI1_1Y", "DI1_10Y", "USDBRL", "IBOV", "UST_10Y"],
                        "ret": 0.0})
    scen, rev, rep = compute_stress(w, ret, _curves(), D)
    assert len(scen) == len(DEFAULTS["scenarios"]) == 10 and set(rev["scenario"]) == set(scen["scenario"])
    assert len(rep) == 4 and rep["pnl"].isna().all()
    covid = scen.set_index("scenario").loc["covid_2020"]
    expected = 2.0 * ((1.12 / 1.14) - 1) - 0.3 * ((1.12 / 1.14) ** 10 - 1) + -0.1 * 0.20 + 0.1 * -0.35
    assert covid["pnl"] == pytest.approx(expected, rel=1e-12)
    assert covid["unmapped_exposure"] == pytest.approx(0.2)  # UST_10Y has no shock in covid_2020
    assert covid["worst_instrument"] == "DI1_1Y"
    # the worst single loss: DI1_1Y's 2.0 x (1.12/1.14 - 1) = -3.51 %, below IBOV's -3.5 % and USDBRL's -2 %
    assert covid["worst_pnl"] == pytest.approx(2.0 * ((1.12 / 1.14) - 1), rel=1e-12)
    assert "window covid_2020 not in history" in covid["note"]
    for _, r in rev.iterrows():
        if pd.notna(r["multiplier"]):
            k = float(r["multiplier"])
            shocks = DEFAULTS["scenarios"][r["scenario"]]["shocks"]
            rates = instrument_rates(["DI1_1Y", "DI1_10Y", "UST_10Y"], _curves(), D)
            pnl = scenario_pnl(w, {f: _scaled(v, k) for f, v in shocks.items()}, FACTORS, rates).pnl
            assert pnl == pytest.approx(-0.10, abs=1e-9)


def test_curve_problems_are_clear_errors() -> None:
    with pytest.raises(RiskInputError, match="no DI_PRE points on 2026-11-27"):
        rate_at_tenor(_curves(dt.date(2026, 11, 26)), D, "DI_PRE", 504)
    with pytest.raises(RiskInputError, match="outside"):
        rate_at_tenor(_curves().iloc[:3], D, "DI_PRE", 504)
    c = _curves()
    c.loc[c["tenor_du"] == 504, "rate"] = 0.14
    assert rate_at_tenor(c.loc[c["tenor_du"] != 504], D, "DI_PRE", 504) == pytest.approx(0.12)
    assert rate_at_tenor(c, D, "DI_PRE", 504) == pytest.approx(0.14)
    w = pd.Series({"DI1_2Y": 1.0})
    with pytest.raises(RiskInputError, match="DI_PRE|UST_NOM"):
        compute_stress(w, pd.DataFrame({"date": [D], "instrument": ["DI1_2Y"], "ret": [0.0]}),
                       _curves(dt.date(2026, 11, 26)), D)


def test_bad_input_is_refused() -> None:
    with pytest.raises(RiskInputError, match="USDBRL"):
        compute_stress(pd.Series({"USDBRL": np.nan}), pd.DataFrame(columns=["date", "instrument", "ret"]),
                       _curves(), D)
    with pytest.raises(RiskInputError, match="unknown factor"):
        scenario_pnl(pd.Series({"USDBRL": 1.0}), {"GOLD": 0.1}, FACTORS, {})


def test_a_tenor_on_the_curve_ends_is_inside_it() -> None:
    """Kills ``risk/stress.py``: the span check of a curve made strict (a tenor on its first or last node refused).

    Nodes 21 du and 2520 du of DI_PRE set to 11 % and 13 %: a tenor on a node reads that node's rate; one du
    before the first node is outside.
    """
    c = _curves()
    di = c["curve"] == "DI_PRE"
    c.loc[di & (c["tenor_du"] == 21), "rate"] = 0.11
    c.loc[di & (c["tenor_du"] == 2520), "rate"] = 0.13
    assert rate_at_tenor(c, D, "DI_PRE", 21) == 0.11
    assert rate_at_tenor(c, D, "DI_PRE", 2520) == 0.13
    assert rate_at_tenor(c, D, "UST_NOM", 504) == 0.045  # the first UST node (2Y)
    with pytest.raises(RiskInputError, match="20 du is outside it"):
        rate_at_tenor(c, D, "DI_PRE", 20)


def test_curve_shock_forms_and_their_refusals() -> None:
    """Kills ``risk/stress.py`` curve-shock checks: a one-point curve shock is flat at every tenor (linear
    interpolation holds the end values), two points interpolate linearly in du; an empty du, a dy of another
    length or a du not increasing is refused with the rule's message."""
    assert yield_shock_at({"du": [252], "dy": [0.01]}, 21) == 0.01
    assert yield_shock_at({"du": [252], "dy": [0.01]}, 2520) == 0.01
    assert yield_shock_at({"du": [252, 504], "dy": [0.01, 0.03]}, 378) == pytest.approx(0.02, rel=1e-12)
    for bad in ({"du": [], "dy": []}, {"du": [252, 504], "dy": [0.01]}, {"du": [504, 252], "dy": [0.01, 0.02]}):
        with pytest.raises(RiskInputError, match="needs increasing du and one dy per du"):
            yield_shock_at(bad, 300)
