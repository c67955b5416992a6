"""silver_macro: point-in-time raw series, derived series by hand, HP filter, Focus, unit checks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.filters.hp_filter import hpfilter

from brmacro.bronze.schemas import BCB_FOCUS, BCB_SGS, FRED
from brmacro.series import by_name, release_date
from brmacro.silver.macro import MacroUnitError, build_macro, focus_series, latest_vintage
from brmacro.silver.schemas import SILVER_SCHEMAS
from tests.configparts import config_part

ROOT = Path(__file__).resolve().parents[2]
PARAMS = config_part("silver")["silver"]
D = dt.date(2024, 6, 28)
MONTHS = pd.date_range("2019-01-01", "2024-05-01", freq="MS").date


def _sgs_rows(name: str, obs: np.ndarray, values: np.ndarray) -> pd.DataFrame:
    s = by_name(name)
    df = pd.DataFrame({"series_id": s.sid, "observation_date": obs, "value": values,
                       "release_date": release_date(obs, s), "release_basis": "lag"})
    return df[df["release_date"] <= D]


def make_sgs() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = len(MONTHS)
    frames = [
        _sgs_rows("br_ipca_mom", MONTHS, 0.004 + 0.002 * np.sin(np.arange(n))),
        _sgs_rows("br_ipca_services", MONTHS, 0.005 + 0.001 * np.cos(np.arange(n))),
        _sgs_rows("br_ipca_core_ex0", MONTHS, np.full(n, 0.003)),
        _sgs_rows("br_ipca_core_ex3", MONTHS, np.full(n, 0.004)),
        _sgs_rows("br_ipca_core_ma", MONTHS, np.full(n, 0.005)),
        _sgs_rows("br_ibc_br", MONTHS, 140 * np.exp(np.cumsum(rng.normal(0.001, 0.01, n)))),
        _sgs_rows("br_ibc_br_nsa", MONTHS, 138 * np.exp(np.cumsum(rng.normal(0.001, 0.02, n)))),
        _sgs_rows("br_primary_balance", MONTHS, np.linspace(-100_000, 250_000, n)),
        _sgs_rows("br_gdp_12m_brl", MONTHS, np.linspace(7.0e6, 11.0e6, n)),
    ]
    q = pd.date_range("2015-01-01", "2024-01-01", freq="QS").date
    frames.append(_sgs_rows("br_gdp_qoq", q, 0.005 + 0.004 * np.sin(np.arange(len(q)))))
    days = pd.bdate_range("2024-06-01", "2024-06-28").date
    frames.append(_sgs_rows("br_cdi_daily", days, np.full(len(days), 0.000393)))
    frames.append(_sgs_rows("br_selic_target", days, np.full(len(days), 0.105)))
    df = pd.concat(frames, ignore_index=True)
    BCB_SGS.conform(df)
    return df


def make_fred() -> pd.DataFrame:
    frames = []
    for name, base, g in (("us_cpi", 250.0, 0.003), ("us_cpi_core", 260.0, 0.0025), ("us_pce_core", 110.0, 0.002),
                          ("us_payrolls", 150_000.0, 0.001)):
        s = by_name(name)
        lvl = base * (1 + g) ** np.arange(len(MONTHS))
        frames.append(pd.DataFrame({"series_id": s.sid, "observation_date": MONTHS, "value": lvl, "vintage": 0,
                                    "release_date": release_date(MONTHS, s), "release_basis": "vintage"}))
    q = pd.date_range("2018-01-01", "2024-01-01", freq="QS").date
    s = by_name("us_gdp_real")
    frames.append(pd.DataFrame({"series_id": s.sid, "observation_date": q, "value": 20_000 * 1.006 ** np.arange(len(q)),
                                "vintage": 0, "release_date": release_date(q, s), "release_basis": "vintage"}))
    df = pd.concat(frames, ignore_index=True)
    df = df[df["release_date"] <= D]
    FRED.conform(df)
    return df


def make_focus() -> pd.DataFrame:
    rows = [
        ("IPCA", "12m", dt.date(2024, 6, 21), 0.0380, 90, dt.date(2024, 6, 24)),
        ("IPCA", "2024", dt.date(2024, 6, 21), 0.0396, 90, dt.date(2024, 6, 24)),
        ("IPCA", "2025", dt.date(2024, 6, 21), 0.0380, 90, dt.date(2024, 6, 24)),
        ("Selic", "2024", dt.date(2024, 6, 21), 0.1050, 90, dt.date(2024, 6, 24)),
        ("Selic", "2025", dt.date(2024, 6, 21), 0.0950, 90, dt.date(2024, 6, 24)),
        ("PIB Total", "2024", dt.date(2024, 6, 21), 0.0209, 80, dt.date(2024, 6, 24)),
        ("Câmbio", "2024", dt.date(2024, 6, 21), 5.13, 85, dt.date(2024, 6, 24)),
        # next survey, published on 1 July: after D, must not appear
        ("IPCA", "12m", dt.date(2024, 6, 28), 0.0390, 90, dt.date(2024, 7, 1)),
    ]
    df = pd.DataFrame(rows, columns=["indicator", "reference", "survey_date", "median", "respondents", "release_date"])
    df["mean"] = df["median"]
    df["std"] = np.nan
    df["release_basis"] = "vintage"
    return df[BCB_FOCUS.names]


@pytest.fixture(scope="module")
def built() -> pd.DataFrame:
    return build_macro(make_sgs(), make_fred(), make_focus(), D, PARAMS)["part"]


def _ser(part: pd.DataFrame, name: str) -> pd.DataFrame:
    return part[part["series"] == name].set_index("observation_date")


def test_conforms_to_schema_and_nothing_after_d(built: pd.DataFrame) -> None:
    SILVER_SCHEMAS["silver_macro"]["part"].conform(built)
    assert (built["release_date"] <= D).all()
    for name in ("br_ipca_12m", "br_ipca_core_12m", "br_ipca_services_12m", "br_ipca_3m_saar", "br_ibc_br_yoy",
                 "br_output_gap", "br_gdp_yoy", "br_gdp_gap", "br_primary_balance_gdp", "br_selic", "br_cdi_annual",
                 "us_cpi_yoy", "us_cpi_core_yoy", "us_cpi_core_3m_saar", "us_pce_core_yoy", "us_pce_core_3m_saar",
                 "us_payrolls_chg", "us_gdp_yoy", "focus_ipca_12m", "focus_ipca_cy0", "focus_ipca_cy1",
                 "focus_selic_cy0", "focus_selic_cy1", "focus_gdp_cy0", "focus_fx_cy0", "br_ipca_mom", "us_cpi"):
        assert name in set(built["series"]), name


def test_ipca_12m_and_3m_saar_by_hand(built: pd.DataFrame) -> None:
    raw = _ser(built, "br_ipca_mom")
    last = raw.index.max()
    assert last == dt.date(2024, 5, 1)  # May IPCA released ~12 June; June not yet
    m = raw["value"].iloc[-12:]
    got = _ser(built, "br_ipca_12m").loc[last]
    assert got["value"] == pytest.approx(np.prod(1 + m) - 1, rel=1e-12)
    assert got["release_date"] == raw["release_date"].iloc[-12:].max()
    saar = _ser(built, "br_ipca_3m_saar").loc[last, "value"]
    assert saar == pytest.approx(np.prod(1 + raw["value"].iloc[-3:]) ** 4 - 1, rel=1e-12)
    # the first 11 months have no 12-month value
    assert _ser(built, "br_ipca_12m").index.min() == raw.index[11]


def test_core_average_and_fiscal_ratio(built: pd.DataFrame) -> None:
    core = _ser(built, "br_ipca_core_12m")["value"].iloc[-1]
    assert core == pytest.approx(np.mean([1.003**12 - 1, 1.004**12 - 1, 1.005**12 - 1]), rel=1e-12)
    pb = _ser(built, "br_primary_balance_gdp")
    sgs = make_sgs()
    num = sgs[sgs["series_id"] == "bcb_sgs:5793"].set_index("observation_date")["value"]
    den = sgs[sgs["series_id"] == "bcb_sgs:4382"].set_index("observation_date")["value"]
    d = pb.index.max()
    assert pb.loc[d, "value"] == pytest.approx(num[d] / den[d], rel=1e-12)


def test_hp_gap_matches_statsmodels(built: pd.DataFrame) -> None:
    ibc = _ser(built, "br_ibc_br")
    cycle, _ = hpfilter(np.log(ibc["value"].to_numpy()), lamb=129_600)
    gap = _ser(built, "br_output_gap")
    np.testing.assert_allclose(gap["value"].to_numpy(), np.asarray(cycle), atol=1e-12)
    assert (gap["release_date"] == ibc["release_date"].max()).all()


def test_us_transforms_by_hand(built: pd.DataFrame) -> None:
    core = _ser(built, "us_cpi_core")["value"]
    d = core.index.max()
    i = list(core.index).index(d)
    assert _ser(built, "us_cpi_core_3m_saar").loc[d, "value"] == pytest.approx(
        (core.iloc[i] / core.iloc[i - 3]) ** 4 - 1, rel=1e-12)
    assert _ser(built, "us_cpi_yoy")["value"].iloc[-1] == pytest.approx(1.003**12 - 1, rel=1e-12)
    pay = _ser(built, "us_payrolls")["value"]
    assert _ser(built, "us_payrolls_chg")["value"].iloc[-1] == pytest.approx(pay.iloc[-1] - pay.iloc[-2])
    assert _ser(built, "us_gdp_yoy")["value"].iloc[-1] == pytest.approx(1.006**4 - 1, rel=1e-12)
    assert _ser(built, "br_cdi_annual")["value"].iloc[-1] == pytest.approx(1.000393**252 - 1, rel=1e-12)


def test_fred_highest_public_vintage_wins() -> None:
    s = by_name("us_pce_core")
    obs = dt.date(2024, 3, 1)
    fred = pd.DataFrame({
        "series_id": s.sid, "observation_date": obs, "value": [100.0, 100.5, 101.0], "vintage": [0, 1, 2],
        "release_date": [dt.date(2024, 4, 26), dt.date(2024, 5, 31), dt.date(2024, 7, 26)],
        "release_basis": "vintage"})
    lv = latest_vintage(fred, D)
    assert lv["value"].tolist() == [100.5]  # vintage 2 is released after D
    part = build_macro(make_sgs().iloc[:0], fred, make_focus().iloc[:0], D, PARAMS)["part"]
    assert _ser(part, "us_pce_core").loc[obs, "value"] == 100.5
    assert _ser(part, "us_pce_core").loc[obs, "release_date"] == dt.date(2024, 5, 31)


def test_value_released_after_d_is_absent() -> None:
    sgs = make_sgs()
    late = pd.DataFrame({"series_id": "bcb_sgs:433", "observation_date": [dt.date(2024, 6, 1)], "value": [0.009],
                         "release_date": [dt.date(2024, 7, 10)], "release_basis": "lag"})
    part = build_macro(pd.concat([sgs, late], ignore_index=True), make_fred(), make_focus(), D, PARAMS)["part"]
    assert dt.date(2024, 6, 1) not in set(_ser(part, "br_ipca_mom").index)
    assert dt.date(2024, 6, 1) not in set(_ser(part, "br_ipca_12m").index)
    assert (part["release_date"] <= D).all()


def test_focus_dedup_and_calendar_years() -> None:
    f = make_focus()
    dup = f.iloc[[0]].copy()
    dup["median"], dup["respondents"] = 0.0375, 95  # same survey, more respondents: wins
    out = focus_series(pd.concat([f, dup], ignore_index=True), D, PARAMS["macro"]["focus"])
    ipca12 = out[out["series"] == "focus_ipca_12m"]
    assert len(ipca12) == 1 and ipca12["value"].item() == 0.0375  # the 28 June survey is published after D
    cy = out.set_index("series")["value"]
    assert cy["focus_ipca_cy0"] == 0.0396 and cy["focus_ipca_cy1"] == 0.0380
    assert cy["focus_selic_cy1"] == 0.0950 and cy["focus_fx_cy0"] == 5.13 and cy["focus_gdp_cy0"] == 0.0209


def test_percent_input_is_refused() -> None:
    sgs = make_sgs()
    sgs.loc[sgs["series_id"] == "bcb_sgs:432", "value"] = 10.5  # percent slipped through
    with pytest.raises(MacroUnitError, match="br_selic_target"):
        build_macro(sgs, make_fred(), make_focus(), D, PARAMS)
