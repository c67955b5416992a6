"""The demo market: determinism, point in time, release rules, economic coherence, regimes."""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pandas as pd
import pytest

from brmacro import calendar, instruments
from brmacro.bronze import demo
from brmacro.bronze.demo_model import IPCA_GROUPS, REGIMES, simulate
from brmacro.bronze.demo_tables import TREASURY_TENORS, YAHOO_TICKERS, full_table
from brmacro.bronze.params import BronzeConfigError
from brmacro.bronze.schemas import BRONZE_SCHEMAS
from brmacro.series import SERIES

SEED = demo.DEFAULT_SEED
D = dt.date(2026, 11, 24)
OBS_COL = {
    "bcb_sgs": "observation_date", "fred": "observation_date", "yahoo": "date", "bcb_ptax": "date",
    "b3_market_data": "trade_date", "treasury_gov": "date", "bcb_focus": "survey_date",
}
SOURCES = tuple(OBS_COL)


def _full(source: str) -> pd.DataFrame:
    return full_table(source, SEED).frame


@pytest.mark.parametrize("source", SOURCES)
def test_same_date_gives_identical_frames(source: str) -> None:
    a = demo.snapshot(source, D)
    demo.snapshot(source, dt.date(2019, 3, 1))  # asking another date first changes nothing
    b = demo.snapshot(source, D)
    pd.testing.assert_frame_equal(a, b)
    assert len(a) > 0


def test_seed_changes_the_path_and_is_cached() -> None:
    assert simulate(SEED) is simulate(SEED)
    other = simulate(7)
    assert not np.allclose(other.usdbrl_d, simulate(SEED).usdbrl_d)


@pytest.mark.parametrize("source", SOURCES)
def test_snapshot_is_a_stable_view_of_history(source: str) -> None:
    """Rows public at D appear unchanged in a later snapshot (inside the later window)."""
    later = calendar.sessions_between(D, D + dt.timedelta(days=40))[-1]
    no_crisis = {"crisis_windows": []}
    a = demo.snapshot(source, D, no_crisis)
    b = demo.snapshot(source, later, no_crisis)
    cut = dt.date(later.year - 4, later.month, later.day)
    col = OBS_COL[source]
    a = a[a[col] >= cut].reset_index(drop=True)
    b = b[(b[col] >= cut) & (b["release_date"] <= D)].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    assert len(demo.snapshot(source, later)) > len(b)  # and the later one knows more


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("date", [dt.date(2005, 3, 1), dt.date(2013, 7, 1), D])
def test_no_row_released_after_the_session_and_schema(source: str, date: dt.date) -> None:
    df = demo.snapshot(source, date)
    assert (df["release_date"] <= date).all()
    assert (df[OBS_COL[source]] <= date).all()
    BRONZE_SCHEMAS[f"bronze_{source}"].conform(df, context="test")  # raises on any mismatch
    key = list(BRONZE_SCHEMAS[f"bronze_{source}"].key)
    assert df.equals(df.sort_values(key, kind="mergesort").reset_index(drop=True))


def test_every_registry_series_and_ticker_is_present() -> None:
    sgs, fred = demo.snapshot("bcb_sgs", D), demo.snapshot("fred", D)
    assert set(sgs["series_id"]) == {s.sid for s in SERIES if s.source == "bcb_sgs"}
    assert set(fred["series_id"]) == {s.sid for s in SERIES if s.source == "fred"}
    assert set(demo.snapshot("yahoo", D)["ticker"]) == set(YAHOO_TICKERS)
    focus = demo.snapshot("bcb_focus", D)
    assert set(focus["indicator"]) == {"IPCA", "Selic", "PIB Total", "Câmbio"}
    assert {"12m", "2026", "2027"} <= set(focus["reference"])


def test_release_lags_march_ipca_out_in_april() -> None:
    def has(date: dt.date, sid: str, obs: dt.date) -> bool:
        s = demo.snapshot("bcb_sgs", date)
        return bool(((s["series_id"] == sid) & (s["observation_date"] == obs)).any())

    sgs = _full("bcb_sgs")
    rel = sgs.loc[(sgs["series_id"] == "bcb_sgs:433") & (sgs["observation_date"] == dt.date(2024, 3, 1)),
                  "release_date"].item()
    assert rel.month == 4 and rel.year == 2024
    assert not has(dt.date(2024, 3, 28), "bcb_sgs:433", dt.date(2024, 3, 1))
    assert not has(dt.date(2024, 4, 1), "bcb_sgs:433", dt.date(2024, 3, 1))
    assert has(dt.date(2024, 4, 15), "bcb_sgs:433", dt.date(2024, 3, 1))
    # IPCA-15 of March is out late in March itself; Q1 GDP two months after the quarter
    assert has(dt.date(2024, 3, 28), "bcb_sgs:7478", dt.date(2024, 3, 1))
    assert not has(dt.date(2024, 5, 31), "bcb_sgs:22099", dt.date(2024, 1, 1))
    assert has(dt.date(2024, 6, 5), "bcb_sgs:22099", dt.date(2024, 1, 1))
    assert (sgs["release_basis"] == "lag").all()


def test_fred_vintages_repeat_observations_with_increasing_release_dates() -> None:
    fred = _full("fred")
    revisable = {s.sid for s in SERIES if s.source == "fred" and s.revisable}
    rev = fred[fred["series_id"].isin(revisable)]
    assert (rev["release_basis"] == "vintage").all()
    for _, g in rev.groupby(["series_id", "observation_date"]):
        v = g["vintage"].to_numpy()
        assert list(v) == list(range(len(v))) and len(v) in (2, 3)
        assert (np.diff(np.array(g["release_date"].tolist(), dtype="datetime64[D]")).astype(int) > 0).all()
        assert g["value"].iloc[0] != g["value"].iloc[-1]
    other = fred[~fred["series_id"].isin(revisable)]
    assert (other["vintage"] == 0).all() and (other["release_basis"] == "lag").all()
    # a partition holds only the vintages public by then: the first PAYEMS print of Oct 2026, not its revisions
    snap = demo.snapshot("fred", dt.date(2026, 11, 10))
    pay = snap[(snap["series_id"] == "fred:PAYEMS") & (snap["observation_date"] == dt.date(2026, 10, 1))]
    assert list(pay["vintage"]) == [0]


def test_focus_released_monday_after_friday_survey() -> None:
    f = _full("bcb_focus")
    assert {d.weekday() for d in f["survey_date"]} == {4}
    assert (f["release_date"] == f["survey_date"] + pd.Timedelta(days=3)).all()
    assert {d.weekday() for d in f["release_date"]} == {0}
    assert (f["release_basis"] == "vintage").all()
    snap = demo.snapshot("bcb_focus", dt.date(2026, 11, 20))  # a Friday: its own survey is not out yet
    assert snap["survey_date"].max() == dt.date(2026, 11, 13)


def test_di1_short_end_agrees_with_selic_target() -> None:
    """The nearest DI1 sits at the Selic target, or between it and the target after the coming COPOM decision
    (the curve prices the next decision before it is taken), within 35 bp: its forward already leans towards the
    policy target, which prices the Selic anchor nine months ahead (``docs/demo.md``; 30 bp before that, now
    exceeded on one session of 6,442, 2017-03-15, by 34 bp)."""
    b3, sgs = _full("b3_market_data"), _full("bcb_sgs")
    selic = sgs[sgs["series_id"] == "bcb_sgs:432"].set_index("observation_date")["value"]
    di = b3[b3["commodity"] == "DI1"].sort_values(["trade_date", "du"], kind="mergesort")
    near = di.groupby("trade_date").first()
    assert near["du"].max() <= 25
    now = selic.reindex(near.index)
    changes = selic[selic.diff().fillna(0) != 0]
    pos = np.searchsorted(pd.DatetimeIndex(changes.index), pd.DatetimeIndex(near.index), side="right")
    nxt = np.where(pos < len(changes), changes.to_numpy()[np.minimum(pos, len(changes) - 1)], now.to_numpy())
    lo, hi = np.minimum(now, nxt) - 0.0035, np.maximum(now, nxt) + 0.0035
    rate = near["settlement_rate"]
    assert now.notna().all() and ((rate >= lo) & (rate <= hi)).all()
    assert (rate - now).abs().median() < 0.003  # and mostly at the target itself


def test_di1_contracts_follow_b3_conventions() -> None:
    b3 = demo.snapshot("b3_market_data", D)
    di = b3[b3["commodity"] == "DI1"]
    today = di[di["trade_date"] == D]
    assert today["du"].max() >= 2520  # the curve reaches 10 years
    assert {"DI1F27", "DI1F37"} <= set(today["ticker"])
    for r in today.itertuples():
        assert r.maturity == instruments.di1_maturity(r.maturity.year, r.maturity.month)
        assert r.ticker == instruments.di1_ticker(r.maturity)
        assert r.du == calendar.anbima_days(r.trade_date, r.maturity)
    np.testing.assert_allclose(b3["settlement_price"], np.round(instruments.di1_pu(b3["settlement_rate"], b3["du"]), 2))
    dap = b3[(b3["commodity"] == "DAP") & (b3["trade_date"] == D)]
    assert len(dap) >= 4 and {t[3] for t in dap["ticker"]} == {"K", "Q"}
    # the real curve sits below the nominal one (positive breakevens)
    nom = np.interp(dap["du"], today["du"].sort_values(), today.sort_values("du")["settlement_rate"])
    assert (nom > dap["settlement_rate"].to_numpy()).all()


def test_cdi_daily_consistent_with_selic() -> None:
    s = demo.snapshot("bcb_sgs", D)
    w = s.pivot(index="observation_date", columns="series_id", values="value").dropna(
        subset=["bcb_sgs:12", "bcb_sgs:432"])
    annual = (1 + w["bcb_sgs:12"]) ** 252 - 1
    assert ((w["bcb_sgs:432"] - annual).between(0.0, 0.0015)).all()  # CDI runs ~10 bp under the target
    np.testing.assert_array_equal(w["bcb_sgs:11"], w["bcb_sgs:12"])


def test_selic_moves_in_25bp_steps_at_most_8_meetings_a_year() -> None:
    s = _full("bcb_sgs")
    sel = s[s["series_id"] == "bcb_sgs:432"].set_index("observation_date")["value"]
    d = sel.diff().dropna()
    moves = d[d != 0]
    assert len(moves) > 20
    np.testing.assert_allclose(np.round(moves / 0.0025), moves / 0.0025, atol=1e-6)
    assert moves.abs().max() <= 0.015 + 1e-12
    per_year = pd.Series([x.year for x in moves.index]).value_counts()
    assert per_year.max() <= 8


def test_yahoo_brl_agrees_with_ptax_within_one_percent() -> None:
    y, p = _full("yahoo"), _full("bcb_ptax")
    brl = y[y["ticker"] == "BRL=X"].set_index("date")["close"]
    ptax = p.set_index("date")["sell"]
    ratio = (brl.reindex(ptax.index) / ptax - 1).dropna()
    assert len(ratio) > 6000 and ratio.abs().max() < 0.01
    assert (p["buy"] < p["sell"]).all() and ((p["sell"] - p["buy"]) < 0.002).all()


def test_fred_equals_treasury_curves() -> None:
    f, t = _full("fred"), _full("treasury_gov")

    def fred(code: str) -> pd.Series:
        return f[f["series_id"] == f"fred:{code}"].set_index("observation_date")["value"]

    def ust(curve: str, tenor: str) -> pd.Series:
        return t[(t["curve"] == curve) & (t["tenor"] == tenor)].set_index("date")["yield"]

    pd.testing.assert_series_equal(fred("DGS10"), ust("nominal", "10 Yr"), check_names=False, check_index_type=False)
    pd.testing.assert_series_equal(fred("DGS2"), ust("nominal", "2 Yr"), check_names=False, check_index_type=False)
    pd.testing.assert_series_equal(fred("DFII10"), ust("real", "10 Yr"), check_names=False, check_index_type=False)
    np.testing.assert_allclose(fred("T10YIE"), fred("DGS10") - fred("DFII10"), atol=1e-9)


def test_treasury_header_drift_and_tenor_years() -> None:
    t = _full("treasury_gov")
    first = t.groupby("tenor")["date"].min()
    assert first["4 Mo"] == dt.date(2022, 10, 19) and first["1.5 Month"] >= dt.date(2025, 2, 18)
    assert first["10 Yr"] == dt.date(2005, 1, 3)
    years = dict(TREASURY_TENORS["nominal"][i][:2] for i in range(len(TREASURY_TENORS["nominal"])))
    np.testing.assert_allclose(t["tenor_years"], t["tenor"].map(years).where(t["curve"] == "nominal",
                                                                                 t["tenor_years"]))
    assert years["1.5 Month"] == pytest.approx(0.125)


def test_ipca_groups_add_up_to_headline() -> None:
    s = demo.snapshot("bcb_sgs", D)
    w = s.pivot(index="observation_date", columns="series_id", values="value").dropna(subset=["bcb_sgs:433"])
    codes = ["1637", "7170", "1638", "1639", "7485", "1640", "1641", "1642", "1643"]
    weights = np.array([wt for _, wt in IPCA_GROUPS])
    assert weights.sum() == pytest.approx(1.0)
    recon = w[[f"bcb_sgs:{c}" for c in codes]].to_numpy() @ weights
    assert np.abs(recon - w["bcb_sgs:433"].to_numpy()).max() < 6e-4
    yoy = w["bcb_sgs:13522"].iloc[-1]
    assert yoy == pytest.approx(np.prod(1 + w["bcb_sgs:433"].iloc[-12:]) - 1, abs=6e-4)


def test_ptax_bulletin_time_is_1310_sao_paulo_in_utc() -> None:
    p = _full("bcb_ptax").set_index("date")["bulletin_time"]
    assert p[dt.date(2026, 11, 24)] == pd.Timestamp("2026-11-24 16:10", tz="UTC")
    assert p[dt.date(2018, 1, 10)] == pd.Timestamp("2018-01-10 15:10", tz="UTC")  # Brazilian summer time then


def test_cl_roll_jumps_flagged_only_on_cl() -> None:
    y = _full("yahoo")
    assert y.loc[y["ticker"] == "CL=F", "roll_jump"].sum() > 200
    assert not y.loc[y["ticker"] != "CL=F", "roll_jump"].any()
    assert (y["high"] >= y[["open", "close"]].max(axis=1)).all()
    assert (y["low"] <= y[["open", "close"]].min(axis=1)).all()


def test_lookbacks_and_crisis_windows() -> None:
    date = dt.date(2024, 6, 3)
    y = demo.snapshot("yahoo", date)
    old = y[y["date"] < dt.date(2020, 6, 3)]
    windows = [(dt.date(2013, 5, 22), dt.date(2013, 8, 30)), (dt.date(2015, 9, 1), dt.date(2016, 2, 29)),
               (dt.date(2020, 2, 20), dt.date(2020, 3, 31))]
    assert all(any(a <= d <= b for a, b in windows) for d in old["date"])
    assert {d.year for d in old["date"]} == {2013, 2015, 2016, 2020}
    bare = demo.snapshot("yahoo", date, {"crisis_windows": [], "daily_lookback_years": 2})
    assert min(bare["date"]) >= dt.date(2022, 6, 3)
    # a window starting after the session adds nothing; macro rows use their own lookback
    s = demo.snapshot("bcb_sgs", dt.date(2028, 6, 1), {"macro_lookback_years": 20})
    ipca = s[s["series_id"] == "bcb_sgs:433"]
    assert min(ipca["observation_date"]) >= dt.date(2008, 6, 1)
    early = demo.snapshot("b3_market_data", dt.date(2012, 1, 2))
    assert min(early["trade_date"]) >= dt.date(2008, 1, 2)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"oops": 1}, "unknown keys"),
        ({"daily_lookback_years": 0}, "positive integer"),
        ({"macro_lookback_years": "20"}, "positive integer"),
        ({"crisis_windows": [{"name": "x", "start": "2020-03-01", "end": "2020-02-01"}]}, "after end"),
        ({"crisis_windows": [{"name": "x", "start": "2020-13-01", "end": "2020-12-01"}]}, "ISO date"),
        ({"crisis_windows": [{"start": "2020-01-01", "end": "2020-12-01"}]}, "name, start, end"),
    ],
)
def test_bad_params_are_refused(params: dict[str, object], match: str) -> None:
    with pytest.raises(BronzeConfigError, match=match):
        demo.snapshot("bcb_ptax", D, params)


def test_out_of_span_and_unknown_source() -> None:
    with pytest.raises(calendar.DateError, match="outside"):
        demo.snapshot("bcb_ptax", dt.date(2004, 12, 30))
    with pytest.raises(ValueError, match="unknown source"):
        demo.snapshot("bloomberg", D)


def test_regimes_all_occur_with_plausible_durations() -> None:
    reg = demo.true_regimes(SEED)
    assert len(reg) == len(calendar.b3_sessions()) and reg.index.is_monotonic_increasing
    assert set(reg) == set(REGIMES)
    sim = simulate(SEED)
    monthly = sim.regime_m[12:]  # 2005-2030
    spells = [len(list(g)) for _, g in itertools.groupby(monthly)]
    assert len(spells) >= 8 and 10 <= float(np.mean(spells)) <= 30
    # the regimes mean what they say: inflation drifts up in reflation/stagflation, growth gap in goldilocks/reflation
    dpi = np.diff(sim.br_pi_m)[11:]
    r = sim.regime_m[12:]  # regime of the month each change ends in
    assert dpi[np.isin(r, (1, 2))].mean() > 0 > dpi[np.isin(r, (0, 3))].mean()
    dgap = np.diff(sim.br_gap_m)[11:]
    assert dgap[np.isin(r, (0, 1))].mean() > dgap[np.isin(r, (2, 3))].mean()
    vix = sim.prices_d["^VIX"]
    assert vix[np.isin(sim.regime_d, (2, 3))].mean() > vix[np.isin(sim.regime_d, (0, 1))].mean()
