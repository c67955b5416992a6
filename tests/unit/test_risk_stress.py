"""risk_stress library: yield shocks through duration, price shocks, unmapped exposure, reverse stress, replay."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from brmacro.calendar import sessions_between
from brmacro.instruments import di1_dv01, di1_pu
from brmacro.risk import RiskInputError
from brmacro.risk._common import returns_matrix
from brmacro.risk.stress import (
    DEFAULTS,
    compute_stress,
    di1_modified_duration,
    rate_at_tenor,
    replay_window,
    reverse_multiplier,
    scenario_pnl,
)

D = dt.date(2026, 11, 27)
FACTORS = DEFAULTS["factors"]


def _curves(d: dt.date = D, rate: float = 0.12) -> pd.DataFrame:
    tenors = (21, 63, 126, 252, 504, 1260, 2520)
    return pd.DataFrame({
        "date": d, "curve": "DI_PRE", "tenor_label": [f"{t}du" for t in tenors], "tenor_du": tenors,
        "tenor_years": [t / 252 for t in tenors], "rate": rate,
    })


def test_di1_duration_matches_pu_derivative() -> None:
    d = di1_modified_duration(0.12, 504)
    assert d == pytest.approx(2.0 / 1.12)
    # -dPU/dr / PU from the instrument table's DV01 (per bp) and a finite difference.
    assert d == pytest.approx(float(di1_dv01(0.12, 504) / di1_pu(0.12, 504) / 1e-4), rel=1e-12)
    h = 1e-7
    fd = -(di1_pu(0.12 + h, 504) - di1_pu(0.12 - h, 504)) / (2 * h) / di1_pu(0.12, 504)
    assert d == pytest.approx(float(fd), rel=1e-6)


def test_di_receiver_loses_under_200bp_exact() -> None:
    w = pd.Series({"DI1_2Y": 1.0})
    res = scenario_pnl(w, {"DI_PRE": 0.02}, FACTORS, {"DI1_2Y": 2.0 / 1.12})
    # P&L = -D w dy = -(2 / 1.12) * 1.0 * 0.02
    assert res.pnl == pytest.approx(-0.0357142857142857, rel=1e-12)
    payer = scenario_pnl(-w, {"DI_PRE": 0.02}, FACTORS, {"DI1_2Y": 2.0 / 1.12})
    assert payer.pnl == pytest.approx(+0.0357142857142857, rel=1e-12)


def test_compute_stress_uses_the_session_curve_for_duration() -> None:
    params = {**DEFAULTS, "scenarios": {"up200": {"period": "test", "shocks": {"DI_PRE": 0.02}}}, "replay_windows": []}
    ret = pd.DataFrame({"date": [D], "instrument": ["DI1_2Y"], "ret": [0.0]})
    scen, rev, rep = compute_stress(pd.Series({"DI1_2Y": 1.0}), ret, _curves(), D, params)
    row = scen.iloc[0]
    assert row["pnl"] == pytest.approx(-0.02 * 2.0 / 1.12, rel=1e-12)
    assert row["worst_instrument"] == "DI1_2Y" and row["unmapped_exposure"] == 0.0
    assert rev.iloc[0]["multiplier"] == pytest.approx(0.10 / (0.02 * 2.0 / 1.12))
    assert rep.empty


def test_price_and_ust_shocks_and_unmapped_exposure() -> None:
    w = pd.Series({"USDBRL": 0.2, "UST_10Y": -0.5, "SPX": 0.3, "IBOV": 0.0})
    shocks = DEFAULTS["scenarios"]["taper_tantrum_2013"]["shocks"]
    res = scenario_pnl(w, shocks, FACTORS, {"UST_10Y": 8.0})
    # USDBRL +15% on 0.2 = +0.03; UST yields +100 bp on a -0.5 (payer) UST at D=8: -8 * -0.5 * 0.01 = +0.04
    assert res.by_instrument["USDBRL"] == pytest.approx(0.03)
    assert res.by_instrument["UST_10Y"] == pytest.approx(0.04)
    assert res.pnl == pytest.approx(0.07)
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


def test_replay_compounds_window_returns_and_reports_coverage() -> None:
    start, end = dt.date(2020, 2, 20), dt.date(2020, 3, 31)
    present = sessions_between(start, end)[:3]
    rows = [
        {"date": present[0], "instrument": "IBOV", "ret": -0.10},
        {"date": present[1], "instrument": "IBOV", "ret": 0.05},
        {"date": present[2], "instrument": "IBOV", "ret": -0.20},
        {"date": D, "instrument": "IBOV", "ret": 0.01},
    ]
    mat = returns_matrix(pd.DataFrame(rows), D)
    res = replay_window(mat, pd.Series({"IBOV": 0.5}), start, end, D)
    growth = 0.9 * 1.05 * 0.8 - 1.0
    assert res.pnl == pytest.approx(0.5 * growth)
    assert res.worst_pnl == pytest.approx(0.5 * growth)
    assert res.n_sessions == 3
    assert res.coverage == pytest.approx(3 / len(sessions_between(start, end)))
    assert "partial" in res.note
    gone = replay_window(mat, pd.Series({"IBOV": 0.5}), dt.date(2013, 5, 22), dt.date(2013, 8, 30), D)
    assert gone.pnl is None and gone.coverage == 0.0 and "not in history" in gone.note


def test_default_stress_tables_on_a_mixed_book() -> None:
    w = pd.Series({"DI1_1Y": 2.0, "DI1_10Y": -0.3, "USDBRL": -0.1, "IBOV": 0.1, "UST_10Y": 0.2, "SPX": 0.0})
    ret = pd.DataFrame({"date": [D] * 5, "instrument": ["DI1_1Y", "DI1_10Y", "USDBRL", "IBOV", "UST_10Y"],
                        "ret": 0.0})
    scen, rev, rep = compute_stress(w, ret, _curves(), D)
    assert len(scen) == 6 and set(rev["scenario"]) == set(scen["scenario"])
    assert len(rep) == 4 and rep["pnl"].isna().all()
    d1, d10 = 1 / 1.12, 10 / 1.12
    covid = scen.set_index("scenario").loc["covid_2020"]
    expected = -d1 * 2.0 * 0.02 - d10 * -0.3 * 0.02 + -0.1 * 0.20 + 0.1 * -0.35
    assert covid["pnl"] == pytest.approx(expected)
    assert covid["unmapped_exposure"] == pytest.approx(0.2)  # UST_10Y has no shock in covid_2020
    assert covid["worst_instrument"] == "DI1_1Y"
    for _, r in rev.iterrows():
        s = scen.set_index("scenario").loc[r["scenario"], "pnl"]
        if s < 0:
            assert r["multiplier"] * s == pytest.approx(-0.10)
        else:
            assert pd.isna(r["multiplier"])


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
    with pytest.raises(RiskInputError, match="DI_PRE"):
        compute_stress(w, pd.DataFrame({"date": [D], "instrument": ["DI1_2Y"], "ret": [0.0]}),
                       _curves(dt.date(2026, 11, 26)), D)


def test_bad_input_is_refused() -> None:
    with pytest.raises(RiskInputError, match="USDBRL"):
        compute_stress(pd.Series({"USDBRL": np.nan}), pd.DataFrame(columns=["date", "instrument", "ret"]),
                       _curves(), D)
    with pytest.raises(RiskInputError, match="unknown factor"):
        scenario_pnl(pd.Series({"USDBRL": 1.0}), {"GOLD": 0.1}, FACTORS, {})
