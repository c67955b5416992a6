"""Each agent model's signal function on its own, against hand computations: direction in the price convention,
confidence, value, the not-computable gap and the features it reports (agents/*.py, one function per model)."""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pandas as pd
import pytest

from brmacro.agents.common import Feature, Signal, zscore_last
from brmacro.agents.cross_asset import (
    HmmRegime,
    MarketState,
    cross_asset_view,
    regime_score,
    regime_score_path,
    sentiment_index,
    tail_risk,
)
from brmacro.agents.fiscal import dominance_signal, dsa_signal, impulse_signal
from brmacro.agents.inflation import (
    bottom_up_signal,
    persistence_signal,
    phillips_signal,
    surprise_signal,
    us_trend_signal,
)
from brmacro.agents.monetary import (
    fed_stance_signal,
    kalman_r_star,
    selic_path_signal,
    taylor_signal,
    term_premium_signal,
)

MONTHS = pd.date_range("2018-01-01", periods=60, freq="MS")
TARGETS = [{"from": "2005-01-01", "target": 0.03}]


def _feats(fs: list[Feature]) -> dict[str, float | None]:
    return {f.feature: f.value for f in fs}


# --------------------------------------------------------------------------- cross-asset
def test_regime_score_is_half_the_mean_z_and_risk_off_shorts_ibov() -> None:
    z = {"vix": 1.0, "hy_oas": 1.0, "dxy": 1.0, "ust_2s10s": -1.0, "usdbrl_vol_21": 1.0, "di_ust_spread_5y": 1.0}
    sig, feat = regime_score(z, 0.3)
    assert (sig.direction, sig.confidence, sig.value, feat.value) == (-1, 1.0, 0.5, 0.5)
    calm = {k: -0.4 * (1 if k != "ust_2s10s" else -1) for k in z}
    sig, _ = regime_score(calm, 0.3)
    assert sig.direction == 0 and sig.value == pytest.approx(-0.2)  # within the threshold
    sparse = dict.fromkeys(z, float("nan")) | {"vix": 3.0, "dxy": 3.0}
    sig, feat = regime_score(sparse, 0.3)
    assert sig.strength == "NO_SIGNAL" and sig.value is None and feat.value is None


def test_regime_score_holds_an_entry_while_the_score_keeps_its_sign() -> None:
    calm = {k: -0.36 * (1 if k != "ust_2s10s" else -1) for k in
            ("vix", "hy_oas", "dxy", "ust_2s10s", "usdbrl_vol_21", "di_ust_spread_5y")}  # score -0.18
    assert regime_score(calm, 0.2)[0].direction == 0
    sig, feat = regime_score(calm, 0.2, past=[-0.1, -0.27, -0.15])  # risk-on entry 2 sessions ago
    held = max(0.18, 0.27 * (1 - 2 / 63))
    assert sig.direction == 1 and sig.confidence == pytest.approx(min(1.0, 2 * held))
    assert sig.value == pytest.approx(-0.18) and feat.value == pytest.approx(-0.18)  # today's score is reported
    assert sig.drivers["held_sessions"] == 2 and sig.drivers["held_score"] == pytest.approx(-held)
    assert "held" in sig.drivers["mapping"] and "long IBOV" in sig.drivers["mapping"]
    assert regime_score(calm, 0.2, past=[0.3, 0.1])[0].direction == 0  # risk-off entry, score now risk-on: out
    assert regime_score(calm, 0.2, past=[-0.3] + [-0.1] * 63)[0].direction == 0  # entry beyond the horizon


def test_regime_score_path_is_the_score_of_each_earlier_cut() -> None:
    rng = np.random.default_rng(3)
    names = ("vix", "hy_oas", "dxy", "ust_2s10s", "usdbrl_vol_21", "di_ust_spread_5y")
    levels = {k: pd.Series(rng.normal(size=40).cumsum()) for k in names}
    path = regime_score_path(levels, 20, 10, 5)
    assert len(path) == 4
    for k, got in zip(range(4, 0, -1), path, strict=True):
        z = {n: zscore_last(levels[n].iloc[: 40 - k], 20, 10) for n in names}
        assert got == pytest.approx(regime_score(z, 0.2)[0].value, rel=1e-12, abs=1e-15)
    gaps = {k: v.where(v.index % 7 != 3) for k, v in levels.items()}  # NaN rows: the cut's last valid value counts
    for k, got in zip(range(4, 0, -1), regime_score_path(gaps, 20, 10, 5), strict=True):
        z = {n: zscore_last(gaps[n].iloc[: 40 - k], 20, 10) for n in names}
        assert got == pytest.approx(regime_score(z, 0.2)[0].value, rel=1e-12, abs=1e-15)
    short = {k: v.iloc[:12] for k, v in levels.items()}
    assert all(math.isnan(x) for x in regime_score_path(short, 20, 12, 5))  # cuts shorter than 12: NaN


def _market(vix: float, hy: float, dxy: float, z_spread: float, z_mom: float) -> MarketState:
    one = {"vix": vix, "hy_oas": hy, "dxy": dxy, "ust_2s10s": 0.0, "usdbrl_vol_21": 0.1, "di_ust_spread_5y": 0.05,
           "ibov_mom_63": 0.0}
    levels = {k: pd.Series([v]) for k, v in one.items()}
    z = dict.fromkeys(one, 0.0) | {"di_ust_spread_5y": z_spread, "ibov_mom_63": z_mom}
    return MarketState(levels, z)


SENTIMENT = {"vix_range": [40.0, 10.0], "hy_oas_range": [0.08, 0.03], "dxy_range": [110.0, 90.0], "lower": 30,
             "upper": 70, "weights": {"vix": 0.3, "hy_oas": 0.2, "dxy": 0.2, "di_ust_spread_5y": 0.15,
                                      "ibov_mom_63": 0.15}}


def test_sentiment_index_weighted_mean_of_linear_parts() -> None:
    # vix 25 -> 50, hy 0.055 -> 50, dxy 100 -> 50, spread z 0 -> 50, momentum z 0 -> 50: neutral
    sig, feat, s = sentiment_index(_market(25.0, 0.055, 100.0, 0.0, 0.0), SENTIMENT)
    assert s == pytest.approx(50.0) and feat.value == pytest.approx(50.0) and sig.direction == 0
    # fear: vix 40 -> 0, hy 0.08 -> 0, dxy 110 -> 0, spread z +2 -> 0, momentum z -2 -> 0
    sig, _, s = sentiment_index(_market(40.0, 0.08, 110.0, 2.0, -2.0), SENTIMENT)
    assert s == 0.0 and sig.direction == -1 and sig.confidence == 1.0
    # a missing part drops out and the weights renormalise: greed on the rest
    sig, _, s = sentiment_index(_market(float("nan"), 0.03, 90.0, -2.0, 2.0), SENTIMENT)
    assert s == pytest.approx(100.0) and sig.direction == 1


TAIL = {"moderate": 25.0, "elevated": 50.0, "critical": 75.0}


def test_tail_risk_counts_only_high_z_and_contraction_probability() -> None:
    probs = {"goldilocks": 0.4, "reflation": 0.1, "stagflation": 0.3, "deflation": 0.2}
    sig, feat = tail_risk({"vix": -3.0, "hy_oas": float("nan")}, probs, TAIL)
    assert feat.value == pytest.approx(20.0) and sig.drivers["grade"] == "low" and sig.direction == 0
    sig, feat = tail_risk({"vix": 1.0, "hy_oas": 0.5}, probs, TAIL)
    assert feat.value == pytest.approx(30 + 15 + 20) and sig.drivers["grade"] == "elevated"
    sig, feat = tail_risk({"vix": 3.0, "hy_oas": 3.0}, probs, TAIL)
    assert feat.value == 100.0 and sig.drivers["grade"] == "critical" and sig.strength == "STRONG"


def test_cross_asset_view_reads_the_composites_and_ranks_key_trades() -> None:
    every = pd.DataFrame({
        "signal_id": ["MONETARY_BR_COMPOSITE", "FX_BR_COMPOSITE", "FISCAL_BR_COMPOSITE", "X_WEAK"],
        "direction": [1, -1, 1, 1], "confidence": [0.6, 0.8, 0.5, 0.3],
        "instrument": ["DI1_1Y", "USDBRL", "USDBRL", ""], "strength": ["MODERATE", "STRONG", "MODERATE", "WEAK"],
    })
    hmm = HmmRegime(Signal("CROSSASSET_HMM_REGIME", "IBOV", 1, 0.6, 0.6, 63), {"goldilocks": 0.8, "reflation": 0.0,
                    "stagflation": 0.2, "deflation": 0.0}, "goldilocks", 0.7, 0.6)
    tail = Signal("CROSSASSET_TAIL_RISK", "", 0, 0.2, 20.0, 21, {"grade": "low"}, strength="NO_SIGNAL")
    v = cross_asset_view(every, dt.date(2025, 3, 14), hmm, tail, float("nan"), [], key_trades=2).iloc[0]
    assert v["regime"] == "goldilocks" and v["tail_risk_score"] == 20.0 and math.isnan(v["sentiment_index"])
    views = json.loads(v["views"])
    assert views["rates_br"]["direction"] == 1 and views["fx"]["direction"] == -1
    assert "fiscal composite on USDBRL +1" in views["fx"]["rationale"]
    assert views["equity_br"] == {"direction": 0, "confidence": 0.0, "instrument": "",
                                  "rationale": "CROSSASSET_COMPOSITE not available"}
    trades = json.loads(v["key_trades"])
    assert [t["signal_id"] for t in trades] == ["FX_BR_COMPOSITE", "MONETARY_BR_COMPOSITE"]  # no instrument: out


# --------------------------------------------------------------------------- inflation
def test_phillips_signal_pays_di_when_the_forecast_is_above_target() -> None:
    rng = np.random.default_rng(2)
    f = pd.DataFrame({"core_12m": rng.normal(0.05, 0.002, 60), "focus_12m": rng.normal(0.05, 0.001, 60)},
                     index=MONTHS)
    for t in range(12, 60):  # core[t+12] = 0.02 + 0.6 core[t]
        f.iloc[t, 0] = 0.02 + 0.6 * f.iloc[t - 12, 0]
    ph = {"horizon_months": 12, "window_months": 120, "min_obs": 36, "threshold": 0.005, "conf_scale": 0.02}
    sig, feats = phillips_signal(f, ph, TARGETS)
    fc = 0.02 + 0.6 * f.iloc[-1, 0]
    assert _feats(feats)["phillips_forecast"] == pytest.approx(fc)
    assert sig.value == pytest.approx(fc - 0.03) and sig.direction == -1  # hawkish: pay DI1_1Y
    assert sig.confidence == pytest.approx(min(1.0, (fc - 0.03) / 0.02))
    sig, feats = phillips_signal(f.iloc[:30], ph, TARGETS)
    assert sig.strength == "NO_SIGNAL" and _feats(feats)["phillips_gap"] is None


def test_bottom_up_signal_against_the_target_12_months_ahead() -> None:
    groups = {"food": pd.Series(0.002, index=MONTHS), "housing": pd.Series(0.002, index=MONTHS)}
    bu = {"weights": {"food": 0.5, "housing": 0.5}, "window_months": 60, "momentum_months": 6, "min_groups": 2,
          "band": 0.003, "conf_scale": 0.02}
    sig, feat = bottom_up_signal(groups, bu, 0.03)
    expect = 1.002**12 - 1  # 2.43 %, below the 3 % target by more than the band: receive DI1_1Y
    assert feat.value == pytest.approx(expect) and sig.value == pytest.approx(expect - 0.03)
    assert sig.direction == 1 and sig.confidence == pytest.approx((0.03 - expect) / 0.02)
    sig, feat = bottom_up_signal(groups, {**bu, "min_groups": 3}, 0.03)
    assert sig.strength == "NO_SIGNAL" and "not computable" in feat.note


def test_surprise_signal_needs_enough_months() -> None:
    ipca = pd.Series(0.004, index=MONTHS[:3])
    sig, feats = surprise_signal(ipca, pd.Series([0.05], index=[MONTHS[0]]), {"min_obs": 12, "window_months": 24,
                                                                                "recent_months": 3, "threshold_z": 1})
    assert sig.strength == "NO_SIGNAL" and "fewer than 12 months" in sig.drivers["not_computed"]
    z = _feats(feats)["surprise_z"]
    assert z is not None and math.isnan(z)


PERSISTENCE = {"accel_per_pp": 25.0, "services_saar_full": 0.08, "expectations_per_pp": 25.0, "upper": 60.0,
               "lower": 40.0}


def test_persistence_signal_mean_of_four_parts() -> None:
    core = pd.Series(0.04, index=MONTHS)  # no acceleration -> 50
    focus = pd.Series(0.03, index=MONTHS)  # at target -> 50
    services = pd.Series(0.0, index=MONTHS)  # 0 SAAR -> 0
    sig, feats = persistence_signal(pd.Series(0.1, index=MONTHS), core, services, focus, 0.03, PERSISTENCE)
    assert _feats(feats)["persistence_score"] == pytest.approx((10 + 50 + 0 + 50) / 4)
    assert sig.direction == 1 and sig.confidence == pytest.approx((50 - 27.5) / 50)  # low persistence: receive
    sig, _ = persistence_signal(pd.Series(0.5, index=MONTHS), core, services + 0.00327, focus, 0.03, PERSISTENCE)
    assert sig.direction == 0


US = {"target": 0.02, "conf_scale": 0.02, "momentum_adj": 0.1}


def test_us_trend_shorts_ust_when_both_pce_measures_are_above_target() -> None:
    sig, feats = us_trend_signal(0.03, 0.035, 0.04, US)
    assert sig.direction == -1 and sig.confidence == pytest.approx(0.5 + 0.1) and sig.value == pytest.approx(0.01)
    assert _feats(feats) == {"us_pce_core_yoy": 0.03, "us_pce_core_3m_saar": 0.035, "us_cpi_core_3m_saar": 0.04}
    sig, _ = us_trend_signal(0.03, 0.035, 0.01, US)  # CPI disagrees: confidence lowered
    assert sig.confidence == pytest.approx(0.4)
    sig, _ = us_trend_signal(0.03, 0.015, 0.04, US)  # mixed
    assert sig.direction == 0


# --------------------------------------------------------------------------- monetary
TAYLOR = {"a_pi": 1.5, "a_y": 0.5, "floor": 0.005, "strong_gap": 0.01, "conf_strong": 0.8, "conf_moderate": 0.55}


def test_taylor_signal_receives_when_selic_is_above_the_rule() -> None:
    # i* = 2% + 5% + 1.5 x 2% + 0.5 x 1% = 10.5%; Selic 12% -> gap 1.5% >= strong gap
    sig, feats = taylor_signal(0.02, 0.12, 0.05, 0.03, 0.01, TAYLOR)
    assert _feats(feats)["taylor_rate"] == pytest.approx(0.105)
    assert sig.direction == 1 and sig.confidence == 0.8 and sig.value == pytest.approx(0.015)
    sig, _ = taylor_signal(0.02, 0.098, 0.05, 0.03, 0.01, TAYLOR)  # 0.7 % below: moderate pay
    assert sig.direction == -1 and sig.confidence == 0.55
    sig, feats = taylor_signal(float("nan"), 0.12, 0.05, 0.03, 0.01, TAYLOR)
    assert sig.strength == "NO_SIGNAL" and _feats(feats)["taylor_rate"] is None


def test_kalman_r_star_of_a_constant_real_rate_is_that_rate() -> None:
    k = {"min_obs": 24, "q": 1e-5, "r": 1e-4}
    r, feats = kalman_r_star(pd.Series(0.10, index=MONTHS), pd.Series(0.04, index=MONTHS),
                             pd.Series(0.02, index=MONTHS), 0.5, k)
    assert r == pytest.approx(0.10 - 0.04 - 0.5 * 0.02) and _feats(feats)["r_star"] == pytest.approx(r)
    r, feats = kalman_r_star(pd.Series(0.10, index=MONTHS[:10]), pd.Series(0.04, index=MONTHS),
                             pd.Series(0.02, index=MONTHS), 0.5, k)
    assert math.isnan(r) and _feats(feats) == {"r_star": None}


def test_selic_path_signal_fades_di_above_a_flat_focus_path() -> None:
    sp = {"cdi_selic_spread": 0.001, "threshold": 0.005, "conf_scale": 0.02}
    sig, feats = selic_path_signal(pd.Timestamp("2025-03-14"), 0.10, 0.12, 0.10, 0.10, sp)
    assert _feats(feats)["focus_path_avg_1y"] == pytest.approx(0.10)
    assert sig.value == pytest.approx(0.12 - 0.099) and sig.direction == 1
    assert sig.confidence == pytest.approx(0.021 / 0.02 if 0.021 / 0.02 < 1 else 1.0)


def test_term_premium_signal_z_of_the_last_premium() -> None:
    idx = pd.date_range("2022-01-03", periods=300, freq="B")
    tp5 = pd.Series(np.r_[np.tile([0.01, 0.02], 149), [0.015, 0.03]], index=idx)
    tp = {"min_obs": 250, "z_fire": 1.5, "conf_scale": 3.0}
    sig, feats = term_premium_signal(tp5, tp5 - 0.005, idx, tp)
    z = (0.03 - tp5.mean()) / tp5.std(ddof=1)
    assert _feats(feats)["term_premium_5y_z"] == pytest.approx(z) and z > 1.5
    assert sig.direction == 1 and sig.confidence == pytest.approx(min(1.0, z / 3.0))  # rich premium: receive DI1_5Y
    sig, _ = term_premium_signal(tp5.iloc[:-1], tp5, idx, tp)  # history does not reach the session
    assert sig.strength == "NO_SIGNAL"


def test_fed_stance_long_ust_when_fed_funds_above_the_us_rule() -> None:
    fed = {"r_star": 0.005, "pi_target": 0.02, "u_star": 0.04, "a_pi": 0.5, "a_y": 0.5, "okun": 2.0,
           "floor": 0.0025, "conf_scale": 0.02}
    sig, feats = fed_stance_signal(0.05, 0.03, 0.04, fed)
    assert _feats(feats)["us_taylor_rate"] == pytest.approx(0.04) and sig.value == pytest.approx(0.01)
    assert sig.direction == 1 and sig.confidence == pytest.approx(0.5)


# --------------------------------------------------------------------------- fiscal
DSA = {"years": 5, "threshold": 0.02, "min_history": 24, "conf_by_agreeing": [0.0, 0.3, 0.6, 0.9],
       "scenarios": {"baseline": {"r": 0.0, "g": 0.0, "deficit": 0.0}, "stress": {"r": 0.02, "g": -0.01,
                                                                                   "deficit": 0.01},
                     "benign": {"r": -0.01, "g": 0.01, "deficit": -0.02}}}


def test_dsa_signal_direction_and_agreeing_scenarios() -> None:
    # r = g and a 1 % deficit: the baseline adds 5 % of GDP in 5 years -> long USDBRL
    sig, feats = dsa_signal(0.70, 0.03, 0.03, 0.01, 60, DSA)
    assert sig.value == pytest.approx(0.05) and sig.direction == 1
    assert _feats(feats)["dsa_terminal_baseline"] == pytest.approx(0.75)
    # stress and baseline rise, benign falls: 2 of 3 agree
    assert sig.drivers["n_agreeing"] == 2 and sig.confidence == pytest.approx(0.6)
    sig, feats = dsa_signal(0.70, 0.03, 0.03, 0.01, 12, DSA)
    assert sig.strength == "NO_SIGNAL" and len(feats) == 3  # the paths are still reported


def test_impulse_signal_z_of_the_12_month_change() -> None:
    im = {"window_months": 36, "min_obs": 24, "z_fire": 1.0, "conf_scale": 2.0}
    base = 0.01 + 0.001 * np.sin(np.arange(60))
    deficit = pd.Series(base, index=MONTHS)
    sig, feats, last = impulse_signal(deficit, im)
    imp = (deficit - deficit.shift(12)).dropna()
    hist = imp.iloc[-36:]
    z = (hist.iloc[-1] - hist.mean()) / hist.std(ddof=1)
    assert last == pytest.approx(imp.iloc[-1]) and _feats(feats)["fiscal_impulse_z"] == pytest.approx(z)
    assert sig.direction == (0 if abs(z) <= 1.0 else int(np.sign(z)))
    sig, feats, last = impulse_signal(deficit.iloc[:10], im)
    assert math.isnan(last) and sig.strength == "NO_SIGNAL" and _feats(feats)["fiscal_impulse"] is None


def test_dominance_signal_mid_ranges_are_neutral() -> None:
    dm = {"debt_range": [0.5, 0.9], "r_minus_g_range": [-0.02, 0.04], "deficit_trend_range": [-0.02, 0.02],
          "credibility_range": [0.0, 0.02], "weights": {"debt": 0.25, "r_minus_g": 0.25, "deficit_trend": 0.25,
                                                        "credibility": 0.25}, "max_missing": 1,
          "upper": 65.0, "lower": 35.0}
    sig, feat = dominance_signal(0.7, 0.01, 0.0, 0.01, dm)
    assert feat.value == pytest.approx(50.0) and sig.direction == 0
    sig, feat = dominance_signal(0.9, 0.04, 0.02, float("nan"), dm)  # one part missing: 100 on the rest
    assert feat.value == pytest.approx(100.0) and sig.direction == 1 and sig.confidence == 1.0
    sig, _ = dominance_signal(float("nan"), float("nan"), 0.0, 0.01, dm)
    assert sig.strength == "NO_SIGNAL"


# --------------------------------------------------------------------------- FX: held entries
def test_beer_misalignment_path_uses_todays_fit_at_each_sessions_regressors() -> None:
    from brmacro.agents.fx import beer_misalignment_path

    days = pd.bdate_range("2024-01-01", periods=6)
    fx = pd.Series([5.0, 5.1, 5.2, 5.0, 4.9, 5.3], index=days)
    a = pd.Series([0.5, 0.6, 0.7], index=days[[0, 2, 4]])  # as of a session: its last value on or before it
    path = beer_misalignment_path(fx, {"a": a}, {"const": 1.0, "a": 1.2}, 4)
    asof = [0.6, 0.6, 0.7, 0.7]  # sessions 3..6
    expected = [f / math.exp(1.0 + 1.2 * x) - 1.0 for f, x in zip(fx.iloc[-4:], asof, strict=True)]
    assert path == pytest.approx(expected, rel=1e-12)


def test_carry_z_is_the_sample_z_over_the_sessions_window() -> None:
    from brmacro.agents.fx import _carry_z

    r = np.array([1.0, np.nan, 2.0, 4.0, 3.0, 7.0])
    v = np.array([2.0, 4.0, 3.0, 7.0])  # lookback 5 ending at the last: one NaN left out
    assert _carry_z(r, 5, 5, 3) == pytest.approx((7.0 - v.mean()) / v.std(ddof=1))
    assert math.isnan(_carry_z(r, 1, 5, 1))  # the ratio missing on that session
    assert math.isnan(_carry_z(r, 5, 5, 5))  # four finite values, five needed


def test_threshold_entry_is_held_with_its_sign_and_decays() -> None:
    from brmacro.holding import held_signal as _held_gap

    # BEER-like: threshold 0.05, scale 0.15; entry at +0.08 three sessions ago, today +0.03
    d, conf, held, k = _held_gap([0.02, 0.08, 0.04, 0.04, 0.03], 0.05, 0.15, 252)
    assert (d, k) == (1, 3) and held == pytest.approx(0.08 * (1 - 3 / 252))
    assert conf == pytest.approx(held / 0.15)
    assert _held_gap([0.08, 0.04, -0.01], 0.05, 0.15, 252)[:2] == (0, 0.0)  # reverted through 0: out
    assert _held_gap([0.09], 0.05, 0.15, 252) == (1, pytest.approx(0.6), 0.09, 0)  # today beyond: today's
    assert _held_gap([1.5, 0.5], 1.0, 2.0, 1)[0] == 0  # horizon 1: nothing is held
    assert _held_gap([0.05], 0.05, 0.15, 252)[0] == 1  # at the threshold: a side
    assert _held_gap([0.08, math.nan], 0.05, 0.15, 252)[:2] == (0, 0.0)  # no score today: no side
