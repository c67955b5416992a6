"""silver_returns: DI1/FX/equity/UST excess returns, vol and z windows, price gaps, the asset."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from brmacro.bronze.schemas import B3, BCB_PTAX, BCB_SGS, FRED, TREASURY, YAHOO
from brmacro.calendar import anbima_days, du, previous_sessions
from brmacro.instruments import INSTRUMENTS, di1_maturity, di1_pu, di1_ticker
from brmacro.silver.curves import Nodes
from brmacro.silver.returns import (
    PriceGapError,
    build_returns,
    di1_excess_returns,
    par_bond_duration,
    rolling_vol,
    rolling_z,
)
from brmacro.silver.schemas import SILVER_SCHEMAS
from tests.configparts import config_part

ROOT = Path(__file__).resolve().parents[2]
PARAMS = config_part("silver")["silver"]
D = dt.date(2024, 6, 28)
N = 30
SESSIONS = previous_sessions(D, N - 1) + [D]
CDI = 0.000400  # per day
SOFR = 0.053


def _params(**over: object) -> dict[str, object]:
    return {**PARAMS, **over}


def _rel(df: pd.DataFrame, col: str) -> pd.DataFrame:
    df["release_date"] = df[col]
    df["release_basis"] = "captured"
    return df


def make_inputs(drop: dict[str, list[dt.date]] | None = None) -> dict[str, pd.DataFrame]:
    drop = drop or {}
    rng = np.random.default_rng(7)
    s = SESSIONS
    # DI1: a handful of contracts around a curve that moves a little
    rows = []
    for i, d in enumerate(s):
        if d in drop.get("di1", []):
            continue
        mats = [di1_maturity(y, m) for y in range(d.year + 1, d.year + 12) for m in (1, 7)]
        n = du(np.array([d] * len(mats), dtype="datetime64[D]"), np.array(mats, dtype="datetime64[D]"))
        for m, k in zip(mats, n, strict=False):
            r = 0.105 + 0.01 * (1 - np.exp(-k / 500)) + 0.0003 * np.sin(i)
            rows.append(("DI1", di1_ticker(m), m, int(k), float(r), d))
    b3 = pd.DataFrame(rows, columns=["commodity", "ticker", "maturity", "du", "settlement_rate", "trade_date"])
    b3["settlement_price"] = di1_pu(b3["settlement_rate"], b3["du"])
    b3["open_interest"] = None
    b3 = _rel(b3, "trade_date")
    # Yahoo
    yrows = []
    for tk, p0 in (("^BVSP", 120_000.0), ("^GSPC", 5_400.0), ("^VIX", 13.0)):
        p = p0 * np.exp(np.cumsum(rng.normal(0, 0.01, len(s))))
        for d, v in zip(s, p, strict=False):
            if d not in drop.get(tk, []):
                yrows.append((tk, d, float(v)))
    yahoo = pd.DataFrame(yrows, columns=["ticker", "date", "close"])
    for c in ("open", "high", "low", "adj_close", "volume"):
        yahoo[c] = np.nan
    yahoo["roll_jump"] = False
    yahoo = _rel(yahoo, "date")
    fx = 5.4 * np.exp(np.cumsum(rng.normal(0, 0.008, len(s))))
    ptax = pd.DataFrame({"date": s, "sell": fx, "buy": fx - 0.0006})
    ptax = ptax[~ptax["date"].isin(drop.get("ptax", []))]
    ptax["bulletin_time"] = pd.to_datetime(ptax["date"]).dt.tz_localize("UTC") + pd.Timedelta(hours=16)
    ptax = _rel(ptax, "date")
    trow = []
    for i, d in enumerate(s):
        for lab, y in (("2 Yr", 2.0), ("5 Yr", 5.0), ("10 Yr", 10.0), ("30 Yr", 30.0)):
            trow.append((d, "nominal", lab, y, 0.042 + 0.002 * np.log(y) + 0.0005 * np.cos(i)))
    tsy = _rel(pd.DataFrame(trow, columns=["date", "curve", "tenor", "tenor_years", "yield"]), "date")
    sgs = pd.DataFrame({"series_id": "bcb_sgs:12", "observation_date": s, "value": CDI})
    sgs["release_date"] = [d + dt.timedelta(days=1) for d in s]
    sgs["release_basis"] = "lag"
    sgs = sgs[sgs["release_date"] <= D]
    fred = pd.DataFrame({"series_id": "fred:SOFR", "observation_date": s, "value": SOFR, "vintage": 0})
    fred = _rel(fred, "observation_date")
    for df, sch in ((b3, B3), (yahoo, YAHOO), (ptax, BCB_PTAX), (tsy, TREASURY), (sgs, BCB_SGS), (fred, FRED)):
        sch.conform(df[sch.names])
    return {"bronze_b3_market_data": b3, "bronze_yahoo": yahoo[YAHOO.names], "bronze_bcb_ptax": ptax[BCB_PTAX.names],
            "bronze_treasury_gov": tsy, "bronze_bcb_sgs": sgs, "bronze_fred": fred}


# ---------------------------------------------------------------- maths


def _flat(rates: list[float]) -> Nodes:
    return Nodes(np.array(SESSIONS[: len(rates)], dtype="datetime64[D]"),
                 np.full((len(rates), 1), 300.0), np.array(rates)[:, None])


def test_di1_return_of_known_rate_move_by_hand() -> None:
    sess = np.array(SESSIONS[:2], dtype="datetime64[D]")
    k = anbima_days(SESSIONS[0], SESSIONS[1])
    level, ret = di1_excess_returns(_flat([0.10, 0.11]), sess, 252, np.array([np.nan, CDI]))
    pu_old = 100_000 / 1.10 ** (252 / 252)
    pu_new = 100_000 / 1.11 ** ((252 - k) / 252)
    assert level.tolist() == pytest.approx([0.10, 0.11])
    assert ret[1] == pytest.approx(pu_new / (pu_old * (1 + CDI) ** k) - 1, rel=1e-12)
    assert ret[1] < 0  # receiver loses when the rate rises
    assert np.isnan(ret[0])


def test_di1_unchanged_curve_earns_no_excess_when_cdi_equals_the_curve() -> None:
    sess = np.array(SESSIONS[:3], dtype="datetime64[D]")
    cdi = 1.10 ** (1 / 252) - 1
    _, ret = di1_excess_returns(_flat([0.10, 0.10, 0.10]), sess, 504, np.array([np.nan, cdi, cdi]))
    np.testing.assert_allclose(ret[1:], 0.0, atol=1e-14)


def test_par_bond_duration_matches_numeric_derivative() -> None:
    def price(y: float, c: float, years: float = 10.0) -> float:
        t = np.arange(1, int(2 * years) + 1) / 2
        return float(np.sum(c / 2 / (1 + y / 2) ** (2 * t)) + 1 / (1 + y / 2) ** (2 * years))

    y, h = 0.043, 1e-6
    numeric = -(price(y + h, y) - price(y - h, y)) / (2 * h)
    assert par_bond_duration(y) == pytest.approx(numeric, rel=1e-7)
    assert 7.5 < float(par_bond_duration(0.043)) < 8.5
    assert par_bond_duration(0.0) == pytest.approx(10.0)


def test_rolling_vol_and_z_by_hand() -> None:
    x = pd.DataFrame({"a": np.arange(30, dtype=float) ** 1.5 / 100})
    v = rolling_vol(x, 21, 252)
    assert v["a"].iloc[:20].isna().all()
    assert v["a"].iloc[25] == pytest.approx(np.std(x["a"].iloc[5:26], ddof=1) * np.sqrt(252), rel=1e-12)
    z = rolling_z(x, 10)
    w = x["a"].iloc[20:30]
    assert z["a"].iloc[29] == pytest.approx((w.iloc[-1] - w.mean()) / w.std(ddof=1), rel=1e-12)
    assert rolling_z(pd.DataFrame({"a": np.ones(12)}), 10)["a"].isna().all()


# ---------------------------------------------------------------- the asset


@pytest.fixture(scope="module")
def built() -> dict[str, pd.DataFrame]:
    return build_returns(make_inputs(), D, _params(lookback_sessions=25))


def test_returns_conform_and_cover_every_instrument(built: dict[str, pd.DataFrame]) -> None:
    for name, schema in SILVER_SCHEMAS["silver_returns"].items():
        schema.conform(built[name])
    part = built["part"]
    assert set(part["instrument"]) == {i.name for i in INSTRUMENTS}
    assert part["date"].nunique() == 25 and part["date"].max() == D
    first = part[part["date"] == part["date"].min()]
    assert first["ret"].isna().all()
    assert part[part["date"] > part["date"].min()]["ret"].notna().all()
    assert part["vol_252"].isna().all() and part["vol_21"].notna().sum() == 8 * (25 - 21)
    assert set(built["prices"]["series"]) == {"ptax:USDBRL", "cdi:daily", "sofr", "yahoo:^BVSP", "yahoo:^GSPC",
                                              "yahoo:^VIX"}


def _wide(built: dict[str, pd.DataFrame], col: str) -> pd.DataFrame:
    return built["part"].pivot(index="date", columns="instrument", values=col)


def test_fx_and_equity_excess_returns_by_formula(built: dict[str, pd.DataFrame]) -> None:
    lv, rt = _wide(built, "level"), _wide(built, "ret")
    d0, d1 = lv.index[-2], lv.index[-1]
    k = anbima_days(d0, d1)
    days = (d1 - d0).days
    cdi_c = (1 + CDI) ** k - 1
    sofr_c = SOFR * days / 360
    assert rt.loc[d1, "USDBRL"] == pytest.approx(lv.loc[d1, "USDBRL"] / lv.loc[d0, "USDBRL"] - 1 - (cdi_c - sofr_c))
    assert rt.loc[d1, "IBOV"] == pytest.approx(lv.loc[d1, "IBOV"] / lv.loc[d0, "IBOV"] - 1 - cdi_c)
    assert rt.loc[d1, "SPX"] == pytest.approx(lv.loc[d1, "SPX"] / lv.loc[d0, "SPX"] - 1 - sofr_c)


def test_usdbrl_long_loses_carry_when_spot_is_flat() -> None:
    inp = make_inputs()
    inp["bronze_bcb_ptax"]["sell"] = 5.0
    part = build_returns(inp, D, _params(lookback_sessions=10))["part"].query("instrument == 'USDBRL'")
    rt = part.set_index("date")["ret"].dropna()
    # CDI (~10.6%/yr) > SOFR (5.3%): the long-USD position pays the differential. Per interval it is
    # CDI over ANBIMA days minus SOFR over calendar days/360, so over a weekend SOFR's 3 days can
    # outweigh CDI's one: the loss holds on every overnight interval and over the window.
    for d0, d1 in zip(rt.index[:-1], rt.index[1:], strict=False):
        expected = -(((1 + CDI) ** anbima_days(d0, d1) - 1) - SOFR * (d1 - d0).days / 360)
        assert rt[d1] == pytest.approx(expected, rel=1e-12)
        if (d1 - d0).days == 1:
            assert rt[d1] < 0
    assert rt.sum() < 0


def test_ust_return_is_minus_duration_times_yield_change(built: dict[str, pd.DataFrame]) -> None:
    lv, rt = _wide(built, "level"), _wide(built, "ret")
    d0, d1 = lv.index[-2], lv.index[-1]
    y0, y1 = lv.loc[d0, "UST_10Y"], lv.loc[d1, "UST_10Y"]
    carry = (y0 - SOFR) * (d1 - d0).days / 365
    assert rt.loc[d1, "UST_10Y"] == pytest.approx(-par_bond_duration(y0) * (y1 - y0) + carry, rel=1e-12)
    assert y0 == pytest.approx(0.042 + 0.002 * np.log(10) + 0.0005 * np.cos(N - 2))


def test_di1_level_is_the_interpolated_zero_rate(built: dict[str, pd.DataFrame]) -> None:
    lv = _wide(built, "level")
    # 504 du lies between two DI1 vertices: the level is strictly between the curve's neighbours
    assert 0.105 < lv.loc[D, "DI1_2Y"] < 0.115
    assert lv.loc[D, "DI1_10Y"] > lv.loc[D, "DI1_1Y"]


def test_short_price_gap_is_filled_long_gap_raises() -> None:
    short = SESSIONS[-8:-5]
    out = build_returns(make_inputs({"^GSPC": short}), D, _params(lookback_sessions=20))["part"]
    spx = out.query("instrument == 'SPX'").set_index("date")
    assert spx.loc[short[0], "level"] == spx.loc[SESSIONS[-9], "level"]
    long_ = SESSIONS[-9:-5]
    with pytest.raises(PriceGapError, match=rf"SPX.*{SESSIONS[-6]}"):
        build_returns(make_inputs({"^GSPC": long_}), D, _params(lookback_sessions=20))
    with pytest.raises(PriceGapError, match=rf"DI1_1Y.*{SESSIONS[-6]}"):
        build_returns(make_inputs({"di1": long_}), D, _params(lookback_sessions=20))


def test_missing_series_is_an_error() -> None:
    inp = make_inputs()
    inp["bronze_fred"] = inp["bronze_fred"].iloc[:0]
    with pytest.raises(PriceGapError, match="SOFR"):
        build_returns(inp, D, _params(lookback_sessions=10))


def test_deterministic(built: dict[str, pd.DataFrame]) -> None:
    again = build_returns(make_inputs(), D, _params(lookback_sessions=25))
    pd.testing.assert_frame_equal(again["part"], built["part"])
    pd.testing.assert_frame_equal(again["prices"], built["prices"])


def test_rows_released_after_d_change_nothing(built: dict[str, pd.DataFrame]) -> None:
    inp = make_inputs()
    after = dt.date(2024, 7, 1)
    extra = inp["bronze_yahoo"].tail(3).copy()
    extra["date"], extra["release_date"], extra["close"] = after, after, 1.0
    inp["bronze_yahoo"] = pd.concat([inp["bronze_yahoo"], extra], ignore_index=True)
    later_cdi = inp["bronze_bcb_sgs"].tail(1).copy()
    later_cdi["observation_date"], later_cdi["release_date"], later_cdi["value"] = D, after, 0.01
    inp["bronze_bcb_sgs"] = pd.concat([inp["bronze_bcb_sgs"], later_cdi], ignore_index=True)
    again = build_returns(inp, D, _params(lookback_sessions=25))
    pd.testing.assert_frame_equal(again["part"], built["part"])
    pd.testing.assert_frame_equal(again["prices"], built["prices"])
