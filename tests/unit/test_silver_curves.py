"""silver_curves: flat-forward interpolation, breakevens, UST interpolation, Nelson-Siegel, the asset."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from brmacro.bronze.schemas import B3, TREASURY
from brmacro.calendar import du, previous_sessions
from brmacro.instruments import di1_maturity, di1_ticker
from brmacro.silver.curves import (
    CurveError,
    align_asof,
    build_curves,
    fit_nelson_siegel,
    flat_forward,
    interp_linear_rows,
    nelson_siegel,
    parse_tenor,
)
from brmacro.silver.schemas import SILVER_SCHEMAS
from tests.configparts import config_part

ROOT = Path(__file__).resolve().parents[2]
PARAMS = config_part("silver")["silver"]
D = dt.date(2024, 6, 28)


def _params(**over: object) -> dict[str, object]:
    return {**PARAMS, **over}


def di_rate(n: np.ndarray, shift: float = 0.0) -> np.ndarray:
    return 0.105 + shift + 0.015 * (1 - np.exp(-np.asarray(n, dtype=float) / 400.0))


def make_b3(sessions: list[dt.date], dap: bool = True) -> pd.DataFrame:
    rows = []
    for i, s in enumerate(sessions):
        quarterly = {di1_maturity(y, m) for y in range(s.year, s.year + 12) for m in (1, 4, 7, 10)}
        monthly = {di1_maturity(s.year + (s.month + j - 1) // 12, (s.month + j - 1) % 12 + 1) for j in range(1, 7)}
        mats = sorted(quarterly | monthly)
        mats = [m for m in mats if m > s]
        n = du(np.array([s] * len(mats), dtype="datetime64[D]"), np.array(mats, dtype="datetime64[D]"))
        shift = 0.0005 * np.sin(i / 7.0)
        for m, k, r in zip(mats, n, di_rate(n, shift), strict=False):
            rows.append(("DI1", di1_ticker(m), m, int(k), float(r), s))
            if dap and m.month in (1, 7) and k > 200:
                rows.append(("DAP", "DAP" + di1_ticker(m)[3:], m, int(k), float(r) - 0.05 - 0.002 * k / 2520, s))
    df = pd.DataFrame(rows, columns=["commodity", "ticker", "maturity", "du", "settlement_rate", "trade_date"])
    df["settlement_price"] = 100_000 / (1 + df["settlement_rate"]) ** (df["du"] / 252)
    df["open_interest"] = 1000.0
    df["release_date"] = df["trade_date"]
    df["release_basis"] = "captured"
    B3.conform(df)
    return df


UST_TENORS = {"1 Mo": 1 / 12, "3 Mo": 0.25, "6 Mo": 0.5, "1 Yr": 1.0, "2 Yr": 2.0, "3 Yr": 3.0, "5 Yr": 5.0,
              "7 Yr": 7.0, "10 Yr": 10.0, "20 Yr": 20.0, "30 Yr": 30.0}
REAL_TENORS = {"5 YR": 5.0, "7 YR": 7.0, "10 YR": 10.0, "20 YR": 20.0, "30 YR": 30.0}


def make_tsy(sessions: list[dt.date], skip: set[dt.date] = frozenset()) -> pd.DataFrame:  # type: ignore[assignment]
    rows = []
    for s in sessions:
        if s in skip:
            continue
        for lab, y in UST_TENORS.items():
            rows.append((s, "nominal", lab, y, 0.04 + 0.003 * np.log1p(y)))
        for lab, y in REAL_TENORS.items():
            rows.append((s, "real", lab, y, 0.018 + 0.002 * np.log1p(y)))
    df = pd.DataFrame(rows, columns=["date", "curve", "tenor", "tenor_years", "yield"])
    df["release_date"] = df["date"]
    df["release_basis"] = "captured"
    TREASURY.conform(df)
    return df


# ---------------------------------------------------------------- kernels


def test_flat_forward_between_two_vertices_by_hand() -> None:
    # vertices 100 du @ 10%, 300 du @ 12%: forward factor between them is constant
    f1 = (1.10) ** (100 / 252)
    f2 = (1.12) ** (300 / 252)
    t = 200.0
    expected = (f1 * (f2 / f1) ** ((t - 100) / 200)) ** (252 / t) - 1
    got = flat_forward(np.array([100.0, 300.0]), np.array([0.10, 0.12]), np.array([t]))
    assert got.shape == (1, 1)
    assert got[0, 0] == pytest.approx(expected, abs=1e-14)
    # vertices reproduce exactly
    at = flat_forward(np.array([100.0, 300.0]), np.array([0.10, 0.12]), np.array([100.0, 300.0]))
    np.testing.assert_allclose(at[0], [0.10, 0.12], atol=1e-14)


def test_flat_forward_extrapolation() -> None:
    x, r = np.array([100.0, 300.0]), np.array([0.10, 0.12])
    before = flat_forward(x, r, np.array([1.0, 21.0, 0.0]))[0]
    np.testing.assert_allclose(before, [0.10, 0.10, 0.10], atol=1e-14)
    # beyond the last vertex the last segment's forward continues
    fwd = ((1.12) ** (300 / 252) / (1.10) ** (100 / 252)) ** (252 / 200) - 1
    t = 600.0
    expected = ((1.12) ** (300 / 252) * (1 + fwd) ** ((t - 300) / 252)) ** (252 / t) - 1
    assert flat_forward(x, r, np.array([t]))[0, 0] == pytest.approx(expected, abs=1e-14)
    # one vertex: flat everywhere
    np.testing.assert_allclose(flat_forward(np.array([50.0]), np.array([0.09]), np.array([10.0, 500.0]))[0],
                               [0.09, 0.09], atol=1e-14)


def test_flat_forward_rowwise_padding_matches_single_rows() -> None:
    x = np.array([[100.0, 300.0, np.nan], [50.0, 200.0, 800.0], [np.nan, np.nan, np.nan]])
    r = np.array([[0.10, 0.12, np.nan], [0.08, 0.09, 0.11], [np.nan, np.nan, np.nan]])
    t = np.array([21.0, 252.0, 1000.0])
    got = flat_forward(x, r, t)
    np.testing.assert_allclose(got[0], flat_forward(x[0, :2], r[0, :2], t)[0])
    np.testing.assert_allclose(got[1], flat_forward(x[1], r[1], t)[0])
    assert np.isnan(got[2]).all()


def test_flat_forward_rejects_unsorted_vertices() -> None:
    with pytest.raises(ValueError, match="strictly increasing"):
        flat_forward(np.array([300.0, 100.0]), np.array([0.1, 0.1]), np.array([200.0]))
    with pytest.raises(ValueError, match="du > 0"):
        flat_forward(np.array([0.0, 100.0]), np.array([0.1, 0.1]), np.array([200.0]))


def test_linear_rows_no_extrapolation() -> None:
    x = np.array([[1.0, 2.0, 5.0], [5.0, 10.0, np.nan]])
    y = np.array([[0.01, 0.02, 0.05], [0.02, 0.03, np.nan]])
    got = interp_linear_rows(x, y, np.array([0.5, 1.0, 3.5, 5.0, 7.5, 10.0, 11.0]))
    np.testing.assert_allclose(got[0], [np.nan, 0.01, 0.035, 0.05, np.nan, np.nan, np.nan])
    np.testing.assert_allclose(got[1], [np.nan, np.nan, np.nan, 0.02, 0.025, 0.03, np.nan])


def test_align_asof_counts_b3_sessions() -> None:
    s = np.array(previous_sessions(dt.date(2024, 6, 28), 5) + [dt.date(2024, 6, 28)], dtype="datetime64[D]")
    obs = s[[0, 2]]
    pos, lag = align_asof(obs, s)
    assert pos.tolist() == [0, 0, 1, 1, 1, 1]
    assert lag.tolist() == [0, 1, 0, 1, 2, 3]


def test_parse_tenor() -> None:
    assert parse_tenor("3M") == 0.25 and parse_tenor("30Y") == 30.0
    with pytest.raises(ValueError):
        parse_tenor("3 Mo")


# ---------------------------------------------------------------- Nelson-Siegel


def test_nelson_siegel_recovers_known_parameters() -> None:
    t = np.array([0.08, 0.25, 0.5, 1, 2, 3, 5, 7, 10, 20, 30])
    true = (0.045, -0.02, 0.015, 1.7)
    fit = fit_nelson_siegel(t, nelson_siegel(t, *true))
    np.testing.assert_allclose([fit.beta0, fit.beta1, fit.beta2, fit.tau], true, rtol=1e-5, atol=1e-7)
    assert fit.rmse < 1e-9 and fit.n_points == len(t)


def test_nelson_siegel_short_end_limit_and_errors() -> None:
    assert nelson_siegel(np.array([0.0]), 0.05, -0.02, 0.01, 2.0)[0] == pytest.approx(0.03)
    with pytest.raises(ValueError, match="at least 4"):
        fit_nelson_siegel(np.array([1.0, 2.0, 3.0]), np.array([0.1, 0.1, 0.1]))


# ---------------------------------------------------------------- the asset


@pytest.fixture(scope="module")
def built() -> tuple[dict[str, pd.DataFrame], float]:
    sessions = previous_sessions(D, 79) + [D]
    b3, tsy = make_b3(sessions), make_tsy(sessions)
    t0 = time.perf_counter()
    out = build_curves(b3, tsy, D, _params(lookback_sessions=60))
    return out, time.perf_counter() - t0


def test_curves_conform_to_schemas(built: tuple[dict[str, pd.DataFrame], float]) -> None:
    out, _ = built
    for name, schema in SILVER_SCHEMAS["silver_curves"].items():
        schema.conform(out[name])
    part = out["part"]
    assert part["date"].nunique() == 60 and part["date"].max() == D
    assert set(part["curve"]) == {"DI_PRE", "BR_REAL", "BR_BEI", "UST_NOM", "UST_REAL", "US_BEI", "DI_UST_SPREAD"}
    assert set(out["slopes"]["name"]) == {"DI_1s2s", "DI_2s5s", "DI_5s10s", "DI_1s10s", "UST_2s10s", "UST_2s30s"}
    assert set(out["ns_params"]["curve"]) == {"DI_PRE", "BR_REAL", "UST_NOM", "UST_REAL"}


def test_breakeven_and_spread_by_formula(built: tuple[dict[str, pd.DataFrame], float]) -> None:
    part = built[0]["part"]
    w = part.pivot_table(index=["date", "tenor_label"], columns="curve", values="rate")
    br = w.dropna(subset=["BR_BEI"])
    assert len(br) > 0
    np.testing.assert_allclose(br["BR_BEI"], (1 + br["DI_PRE"]) / (1 + br["BR_REAL"]) - 1, atol=1e-15)
    us = w.dropna(subset=["US_BEI"])
    assert set(us.index.get_level_values(1)) == {"5Y", "10Y", "30Y"}  # real curve starts at 5 years
    np.testing.assert_allclose(us["US_BEI"], us["UST_NOM"] - us["UST_REAL"], atol=1e-15)
    sp = w.dropna(subset=["DI_UST_SPREAD"]).loc[(D, "2Y")]
    di2 = part.query("date == @D and curve == 'DI_PRE' and tenor_label == '504du'")["rate"].item()
    ust2 = 0.04 + 0.003 * np.log1p(2.0)
    assert sp["DI_UST_SPREAD"] == pytest.approx(di2 - ust2, abs=1e-15)


def test_di_curve_reproduces_smooth_input_and_slopes(built: tuple[dict[str, pd.DataFrame], float]) -> None:
    out = built[0]
    di = out["part"].query("date == @D and curve == 'DI_PRE'").set_index("tenor_du")["rate"]
    # vertices dense enough that flat-forward stays close to the smooth generating curve inside the range
    np.testing.assert_allclose(di.loc[[252, 504, 1260, 2520]], di_rate(np.array([252, 504, 1260, 2520]),
                                                                      0.0005 * np.sin(79 / 7.0)), atol=2e-4)
    sl = out["slopes"].query("date == @D").set_index("name")["value"]
    assert sl["DI_2s5s"] == pytest.approx(di.loc[1260] - di.loc[504], abs=1e-15)
    assert sl["DI_1s10s"] > 0


def test_ns_fit_on_partition_date(built: tuple[dict[str, pd.DataFrame], float]) -> None:
    ns = built[0]["ns_params"].set_index("curve")
    assert (ns["rmse"] < 5e-4).all()
    assert ns.loc["UST_NOM", "n_points"] == len(UST_TENORS)


# The curve build's speed is a benchmark, not a test (tests never assert timing): `python -m bench.run`
# measures it ("kernel: curve build (silver_curves step, 800 sessions)" in bench/RESULTS.md).


def test_missing_di1_session_is_an_error() -> None:
    sessions = previous_sessions(D, 9) + [D]
    b3 = make_b3(sessions, dap=False)
    b3 = b3[b3["trade_date"] != sessions[4]]
    with pytest.raises(CurveError, match=str(sessions[4])):
        build_curves(b3, make_tsy(sessions), D, _params(lookback_sessions=8))


def test_treasury_gap_forward_filled_up_to_limit() -> None:
    sessions = previous_sessions(D, 14) + [D]
    b3 = make_b3(sessions, dap=False)
    short_gap = set(sessions[5:8])  # 3 sessions missing: carried
    out = build_curves(b3, make_tsy(sessions, skip=short_gap), D, _params(lookback_sessions=12))
    ust = out["part"].query("curve == 'UST_NOM' and tenor_label == '10Y'")
    assert len(ust) == 12
    long_gap = set(sessions[5:11])  # 6 sessions missing: error naming the first uncovered one
    with pytest.raises(CurveError, match=str(sessions[10])):
        build_curves(b3, make_tsy(sessions, skip=long_gap), D, _params(lookback_sessions=12))


def test_no_data_on_partition_date_is_an_error() -> None:
    sessions = previous_sessions(D, 5)
    with pytest.raises(CurveError, match=str(D)):
        build_curves(make_b3(sessions, dap=False), make_tsy(sessions), D, _params(lookback_sessions=5))
