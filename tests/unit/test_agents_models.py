"""The agents' maths against known answers: Taylor, DSA, Kalman, OLS, composite, HMM, consistency rules."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from brmacro.agents.common import (
    Signal,
    classify_strength,
    composite,
    composite_signal,
    kalman_local_level,
    ols,
    target_at,
)
from brmacro.agents.cross_asset import (
    HMMResult,
    consistency_issues,
    fit_hmm,
    forward_backward,
    label_states,
    label_states_hungarian,
)
from brmacro.agents.data import SeriesMissing, SilverData
from brmacro.agents.fiscal import dominance_score, dsa_path
from brmacro.agents.fx import beer_fit
from brmacro.agents.inflation import bottom_up_forecast, monthly_consensus, phillips_forecast
from brmacro.agents.monetary import expected_policy_path_avg, taylor_rate, us_taylor_rate

TARGETS = [
    {"from": "2005-01-01", "target": 0.045}, {"from": "2019-01-01", "target": 0.0425},
    {"from": "2020-01-01", "target": 0.04}, {"from": "2021-01-01", "target": 0.0375},
    {"from": "2022-01-01", "target": 0.035}, {"from": "2023-01-01", "target": 0.0325},
    {"from": "2024-01-01", "target": 0.03},
]


# --------------------------------------------------------------------------- rules and recursions by hand
def test_taylor_rule_by_hand() -> None:
    # r* 2% + pi_e 5% + 1.5 x (5% - 3%) + 0.5 x 1% = 10.5%
    assert taylor_rate(0.02, 0.05, 0.03, 0.01) == pytest.approx(0.105, abs=1e-15)
    assert taylor_rate(0.02, 0.03, 0.03, 0.0) == pytest.approx(0.05)
    # US: 0.5% + 3% + 0.5 x 1% + 0.5 x (-2 x (5% - 4%)) = 3.0%
    assert us_taylor_rate(0.005, 0.03, 0.02, 0.05, 0.04) == pytest.approx(0.03)


def test_dsa_path_by_hand() -> None:
    p = dsa_path(0.70, 0.05, 0.02, 0.01, 3)
    d1 = 0.70 * 1.05 / 1.02 + 0.01
    d2 = d1 * 1.05 / 1.02 + 0.01
    d3 = d2 * 1.05 / 1.02 + 0.01
    np.testing.assert_allclose(p, [0.70, d1, d2, d3], rtol=0, atol=1e-15)
    # debt stabilising primary surplus: s = d (r - g)/(1 + g) keeps the ratio flat
    s = -0.70 * (0.05 - 0.02) / 1.02
    np.testing.assert_allclose(dsa_path(0.70, 0.05, 0.02, s, 5), 0.70, atol=1e-14)


def test_target_table() -> None:
    assert target_at(dt.date(2018, 12, 31), TARGETS) == 0.045
    assert target_at(dt.date(2019, 6, 1), TARGETS) == 0.0425
    assert target_at(dt.date(2023, 1, 1), TARGETS) == 0.0325
    assert target_at(dt.date(2030, 5, 5), TARGETS) == 0.03
    with pytest.raises(ValueError, match="2004-12-31"):
        target_at(dt.date(2004, 12, 31), TARGETS)


def test_expected_policy_path_average() -> None:
    t0 = pd.Timestamp(2025, 6, 30)
    # flat path -> its level
    assert expected_policy_path_avg(t0, 0.10, 0.10, 0.10, 365) == pytest.approx(0.10)
    # linear to year end then flat at cy0=cy1: average of the ramp and the flat part
    days = (pd.Timestamp(2025, 12, 31) - t0).days
    grid = np.arange(366.0)
    expect = np.where(grid <= days, 0.10 + (0.12 - 0.10) * grid / days, 0.12).mean()
    assert expected_policy_path_avg(t0, 0.10, 0.12, 0.12, 365) == pytest.approx(expect)


# --------------------------------------------------------------------------- Kalman filter
def test_kalman_matches_statsmodels_local_level() -> None:
    from statsmodels.tsa.statespace.structural import UnobservedComponents

    rng = np.random.default_rng(3)
    level = np.cumsum(rng.normal(0, 0.001, 80)) + 0.05
    y = level + rng.normal(0, 0.01, 80)
    q, r = 1e-6, 1e-4
    xs, ps = kalman_local_level(y, q=q, r=r, x0=0.0, p0=1e6)
    mod = UnobservedComponents(y, "llevel")
    mod.ssm.tolerance = 0  # no steady-state shortcut: the exact recursion
    mod.ssm.initialize_approximate_diffuse(1e6)  # the same prior: x0 = 0, p0 = 1e6
    res = mod.filter([r, q])
    np.testing.assert_allclose(xs, res.filtered_state[0], rtol=0, atol=1e-8)
    np.testing.assert_allclose(ps, res.filtered_state_cov[0, 0], rtol=1e-6)
    assert np.abs(xs[10:] - y[10:]).mean() < np.abs(y[10:] - y.mean()).mean()  # it smooths


def test_kalman_steady_state_closed_form() -> None:
    q, r = 1e-6, 1e-4
    _, ps = kalman_local_level(np.zeros(2000), q=q, r=r, x0=0.0, p0=r)
    p_pred = (q + math.sqrt(q * q + 4 * q * r)) / 2  # P^2 - qP - qr = 0
    assert ps[-1] == pytest.approx(p_pred * r / (p_pred + r), rel=1e-9)


def test_kalman_skips_missing_observations() -> None:
    xs, ps = kalman_local_level(np.array([1.0, np.nan, 1.0]), q=0.1, r=1.0, x0=0.0, p0=1.0)
    assert xs[1] == xs[0] and ps[1] == pytest.approx(ps[0] + 0.1)


# --------------------------------------------------------------------------- regressions
def test_ols_matches_numpy_lstsq() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(120, 3))
    y = 0.01 + x @ np.array([0.5, -0.2, 0.1]) + rng.normal(0, 0.05, 120)
    res = ols(y, x)
    ref, *_ = np.linalg.lstsq(np.column_stack([np.ones(120), x]), y, rcond=None)
    np.testing.assert_allclose(res.coef, ref, rtol=1e-10, atol=1e-12)
    assert res.nobs == 120


def test_phillips_forecast_recovers_exact_relation() -> None:
    rng = np.random.default_rng(2)
    idx = pd.date_range("2012-01-01", periods=100, freq="MS")
    f = pd.DataFrame({"core": rng.normal(0.04, 0.01, 100), "focus": rng.normal(0.04, 0.005, 100),
                      "gap": rng.normal(0, 0.01, 100)}, index=idx)
    # impose core[t+12] = 0.01 + 0.3 core[t] + 0.5 focus[t] + 0.2 gap[t]
    for t in range(12, 100):
        f.iloc[t, 0] = 0.01 + 0.3 * f.iloc[t - 12, 0] + 0.5 * f.iloc[t - 12, 1] + 0.2 * f.iloc[t - 12, 2]
    out = phillips_forecast(f, target_col="core", horizon=12, window=120, min_obs=36)
    assert out["coef"]["core"] == pytest.approx(0.3, abs=1e-9)
    last = f.iloc[-1]
    assert out["forecast"] == pytest.approx(0.01 + 0.3 * last["core"] + 0.5 * last["focus"] + 0.2 * last["gap"])
    assert out["base_month"] == idx[-1] and out["nobs"] == 88
    short = phillips_forecast(f.iloc[:40], target_col="core", horizon=12, window=120, min_obs=36)
    assert math.isnan(short["forecast"]) and short["nobs"] == 28


def test_beer_fit_recovers_fair_value() -> None:
    rng = np.random.default_rng(4)
    idx = pd.date_range("2020-01-01", periods=40, freq="MS")
    x = pd.DataFrame({"a": rng.normal(size=40), "b": rng.normal(size=40)}, index=idx)
    logfx = 1.5 + 0.1 * x["a"] - 0.05 * x["b"]
    now = pd.Series({"a": 0.3, "b": -1.0})
    out = beer_fit(logfx, x, now, min_obs=24)
    assert out["fair"] == pytest.approx(math.exp(1.5 + 0.03 + 0.05))
    assert math.isnan(beer_fit(logfx.iloc[:10], x, now, min_obs=24)["fair"])


def test_bottom_up_constant_inflation() -> None:
    idx = pd.date_range("2018-01-01", periods=60, freq="MS")
    groups = {"food": pd.Series(0.003, index=idx), "housing": pd.Series(0.005, index=idx),
              "transport": pd.Series(0.004, index=idx)}
    w = {"food": 0.2, "housing": 0.2, "transport": 0.1, "health": 0.5}
    out = bottom_up_forecast(groups, w, window=60, momentum=6, min_groups=3)
    expect = 0.4 * (1.003**12 - 1) + 0.4 * (1.005**12 - 1) + 0.2 * (1.004**12 - 1)
    assert out["forecast"] == pytest.approx(expect)
    assert math.isnan(bottom_up_forecast(groups, w, window=60, momentum=6, min_groups=4)["forecast"])


def test_bottom_up_seasonality_is_a_shape_not_a_level() -> None:
    idx = pd.date_range("2018-01-01", periods=60, freq="MS")
    seas = 0.002 * np.sin(2 * np.pi * (idx.month - 1) / 12)
    g = {"food": pd.Series(0.004 + seas, index=idx)}
    out = bottom_up_forecast(g, {"food": 1.0}, window=60, momentum=6, min_groups=1)
    assert out["forecast"] == pytest.approx(float(np.prod(1 + 0.004 + seas[:12]) - 1), rel=1e-9)


def test_monthly_consensus_from_calendar_year_focus() -> None:
    ipca = pd.Series([0.01, 0.005], index=pd.to_datetime(["2024-01-01", "2024-02-01"]))
    focus = pd.Series([0.05, 0.045], index=pd.to_datetime(["2024-01-01", "2024-03-01"]))
    c = monthly_consensus(ipca, focus)
    assert c[pd.Timestamp("2024-01-01")] == pytest.approx(1.05 ** (1 / 12) - 1)
    assert c[pd.Timestamp("2024-03-01")] == pytest.approx((1.045 / (1.01 * 1.005)) ** (1 / 10) - 1)
    # December: exactly the inflation the survey leaves for the last month
    months = pd.date_range("2023-01-01", periods=11, freq="MS")
    ip = pd.Series(0.004, index=months)
    c = monthly_consensus(ip, pd.Series([0.05], index=[pd.Timestamp("2023-12-01")]))
    assert c.iloc[0] == pytest.approx(1.05 / 1.004**11 - 1)
    # a gap in the year to date leaves no consensus (never filled)
    assert monthly_consensus(ip.drop(months[3]), pd.Series([0.05], index=[pd.Timestamp("2023-12-01")])).empty


# --------------------------------------------------------------------------- composite
def _s(d: int, c: float, sid: str = "X") -> Signal:
    return Signal(sid, "DI1_1Y", d, c, float(d), 252)


def test_classify_strength_thresholds() -> None:
    assert [classify_strength(c) for c in (0.8, 0.75, 0.6, 0.5, 0.3, 0.25, 0.2)] == [
        "STRONG", "STRONG", "MODERATE", "MODERATE", "WEAK", "WEAK", "NO_SIGNAL"]
    assert _s(1, 0.2).direction == 0  # below the weak threshold: no signal, neutral


def test_composite_weighting_and_damper() -> None:
    subs = {"a": _s(1, 0.8), "b": _s(1, 0.6), "c": _s(-1, 0.9), "d": _s(1, 0.1)}
    w = {"a": 0.5, "b": 0.3, "c": 0.2, "d": 1.0}
    res = composite(subs, w, min_disagree=2)
    assert res.direction == 1 and not res.damped
    assert res.confidence == pytest.approx(0.5 * 0.8 + 0.3 * 0.6 + 0.2 * 0.9)  # d is NO_SIGNAL: dropped
    assert res.weights == pytest.approx({"a": 0.5, "b": 0.3, "c": 0.2})
    assert res.score == pytest.approx(0.4 + 0.18 - 0.18)
    damped = composite(subs, w, min_disagree=1)
    assert damped.damped and damped.confidence == pytest.approx(0.76 * 0.70)
    # renormalisation: drop b, weights a .5/.7, c .2/.7
    res2 = composite({"a": _s(1, 0.8), "c": _s(-1, 0.9)}, w, min_disagree=5)
    assert res2.confidence == pytest.approx((0.5 * 0.8 + 0.2 * 0.9) / 0.7)
    # tie -> neutral; nothing active -> neutral, zero confidence
    assert composite({"a": _s(1, 0.8), "c": _s(-1, 0.9)}, {"a": 1, "c": 1}, min_disagree=1).direction == 0
    assert composite({"d": _s(1, 0.1)}, w, min_disagree=1).confidence == 0.0


def test_composite_signal_gap_and_neutral() -> None:
    gap = composite_signal("C", "DI1_1Y", 252, {"a": Signal.gap("A", "DI1_1Y", 252, "short")}, {"a": 1.0},
                           min_disagree=1, damper=0.7)
    assert gap.value is None and gap.is_composite and "not_computed" in gap.drivers
    neutral = composite_signal("C", "DI1_1Y", 252, {"a": Signal("A", "DI1_1Y", 0, 0.0, 0.001, 252)}, {"a": 1.0},
                               min_disagree=1, damper=0.7)
    assert neutral.value == 0.0 and neutral.direction == 0


# --------------------------------------------------------------------------- HMM
def test_hmm_recovers_two_regimes() -> None:
    rng = np.random.default_rng(11)
    n = 1000
    state = np.empty(n, dtype=int)
    state[0] = 0
    for t in range(1, n):
        state[t] = state[t - 1] if rng.random() < 0.98 else 1 - state[t - 1]
    means = np.array([[1.0, 1.0, 0.0], [-1.0, -1.0, 0.0]])
    x = means[state] + rng.normal(0, 0.8, (n, 3))
    res = fit_hmm(x, {"up": (1, 1), "down": (-1, -1)}, n_iter=50, tol=1e-3, seed=42)
    by_label = {lab: k for k, lab in res.labels.items()}
    pred = np.where(res.posteriors[:, by_label["up"]] > 0.5, 0, 1)
    assert (pred == state).mean() >= 0.90
    assert res.posteriors.sum(axis=1) == pytest.approx(np.ones(n))


def test_forward_backward_matches_hmmlearn_and_a_hand_computation() -> None:
    from hmmlearn.hmm import GaussianHMM

    rng = np.random.default_rng(5)
    x = np.concatenate([rng.normal(1, 0.5, (60, 2)), rng.normal(-1, 0.5, (40, 2))])
    m = GaussianHMM(n_components=2, covariance_type="diag", random_state=1, n_iter=20).fit(x)
    logb = m._compute_log_likelihood(x)
    ours = forward_backward(logb, m.transmat_, m.startprob_)
    np.testing.assert_allclose(ours, m.predict_proba(x), atol=1e-10)
    # two rows, by hand: P(s1, s2) ∝ pi(s1) b1(s1) A(s1, s2) b2(s2)
    pi, a = np.array([0.6, 0.4]), np.array([[0.9, 0.1], [0.2, 0.8]])
    b = np.array([[0.5, 0.1], [0.2, 0.4]])
    joint = pi[:, None] * b[0][:, None] * a * b[1][None, :]
    got = forward_backward(np.log(b), a, pi)
    np.testing.assert_allclose(got[0], joint.sum(axis=1) / joint.sum(), rtol=1e-12)
    np.testing.assert_allclose(got[1], joint.sum(axis=0) / joint.sum(), rtol=1e-12)


def test_tempered_posteriors_stop_saturating_and_keep_the_regime() -> None:
    """A monthly feature repeated on 21 daily rows: hmmlearn's posterior of the last row is 0/1; counting each
    release once (release_sessions 21) and letting a regime end within 63 sessions leaves it below 1, same state."""
    rng = np.random.default_rng(9)
    months = np.repeat(np.where(np.arange(40) < 24, 1.0, -1.0) + rng.normal(0, 0.6, 40), 21)
    x = np.column_stack([months, months * 0.8 + rng.normal(0, 0.05, len(months)), rng.normal(0, 1, len(months))])
    signs = {"up": (1, 1), "down": (-1, -1)}
    raw = fit_hmm(x, signs, n_iter=50, tol=1e-3, seed=42)
    soft = fit_hmm(x, signs, n_iter=50, tol=1e-3, seed=42, release_sessions=21, switch_sessions=63)
    p_raw, p_soft = raw.regime_probs(("up", "down")), soft.regime_probs(("up", "down"))
    assert max(p_raw.values()) >= 0.9999
    assert 0.5 < max(p_soft.values()) < 0.9999
    assert max(p_raw, key=p_raw.__getitem__) == max(p_soft, key=p_soft.__getitem__) == "down"
    np.testing.assert_allclose(soft.posteriors.sum(axis=1), 1.0, rtol=1e-12)


SIGNS = {"goldilocks": (1, -1), "reflation": (1, 1), "stagflation": (-1, 1), "deflation": (-1, -1)}


def test_label_states_by_quadrant() -> None:
    means = np.array([[-1.0, -0.5, 9.0], [0.8, 0.9, 0.0], [-0.2, 1.5, 0.0], [0.5, -1.0, 0.0]])
    assert label_states(means, SIGNS) == {0: "deflation", 1: "reflation", 2: "stagflation", 3: "goldilocks"}
    assert label_states_hungarian(means, SIGNS) == label_states(means, SIGNS)
    # two states in one quadrant share its label; the Hungarian variant would force an absent regime
    both = np.array([[-1.0, 1.0], [-0.5, 0.4], [0.8, 0.9], [-0.6, -1.0]])
    assert label_states(both, SIGNS) == {0: "stagflation", 1: "stagflation", 2: "reflation", 3: "deflation"}
    assert sorted(label_states_hungarian(both, SIGNS).values()) == sorted(SIGNS)


def test_regime_probabilities_sum_shared_states() -> None:
    post = np.array([[0.1, 0.2, 0.3, 0.4]])
    res = HMMResult(post, np.zeros((4, 2)), {0: "stagflation", 1: "stagflation", 2: "reflation", 3: "deflation"},
                    0.0, True)
    assert res.regime_probs(tuple(SIGNS)) == pytest.approx(
        {"goldilocks": 0.0, "reflation": 0.3, "stagflation": 0.3, "deflation": 0.4})


# --------------------------------------------------------------------------- consistency rules
def _frame(**dirs: int) -> pd.DataFrame:
    return pd.DataFrame({"signal_id": list(dirs), "direction": list(dirs.values())})


@pytest.mark.parametrize(
    ("dirs", "regime", "sentiment", "rule"),
    [
        ({"FX_BR_COMPOSITE": -1, "MONETARY_BR_COMPOSITE": 1}, "goldilocks", 50.0, "FX_RATES_CONTRADICTION"),
        ({"CROSSASSET_COMPOSITE": 1, "MONETARY_BR_COMPOSITE": -1}, "goldilocks", 50.0, "EQUITY_RATES_CONTRADICTION"),
        ({"FX_BR_COMPOSITE": -1}, "stagflation", 50.0, "REGIME_FX_MISMATCH"),
        ({"CROSSASSET_COMPOSITE": 1}, "deflation", 50.0, "REGIME_EQUITY_MISMATCH"),
        ({"INFLATION_BR_COMPOSITE": -1, "MONETARY_BR_COMPOSITE": 1}, "goldilocks", 50.0,
         "INFLATION_RATES_CONTRADICTION"),
        ({"CROSSASSET_COMPOSITE": 1}, "goldilocks", 20.0, "RISK_APPETITE_DIRECTION"),
        ({"FISCAL_BR_COMPOSITE": 1, "FX_BR_COMPOSITE": -1}, "goldilocks", 50.0, "SOVEREIGN_FX_DIVERGENCE"),
    ],
)
def test_consistency_rules_fire(dirs: dict[str, int], regime: str, sentiment: float, rule: str) -> None:
    issues = consistency_issues(_frame(**dirs), regime, sentiment)
    assert rule in {i["rule"] for i in issues}


def test_consistency_rules_quiet_on_coherent_book() -> None:
    coherent = _frame(FX_BR_COMPOSITE=-1, MONETARY_BR_COMPOSITE=-1, INFLATION_BR_COMPOSITE=-1,
                      FISCAL_BR_COMPOSITE=-1, CROSSASSET_COMPOSITE=-1)
    assert consistency_issues(coherent, "goldilocks", 55.0) == []


def test_dominance_score_missing_parts() -> None:
    w = {"a": 0.5, "b": 0.3, "c": 0.2}
    assert dominance_score({"a": 100.0, "b": 0.0, "c": float("nan")}, w, 1) == pytest.approx(50 / 0.8)
    assert math.isnan(dominance_score({"a": 100.0, "b": float("nan"), "c": float("nan")}, w, 1))


# --------------------------------------------------------------------------- point-in-time accessor
def _tiny(macro: pd.DataFrame) -> SilverData:
    empty_c = pd.DataFrame(columns=["date", "curve", "tenor_label", "tenor_du", "tenor_years", "rate"])
    empty_s = pd.DataFrame(columns=["date", "name", "value"])
    empty_r = pd.DataFrame(columns=["date", "instrument", "level", "ret", "vol_21", "vol_63", "vol_252", "z_252"])
    empty_p = pd.DataFrame(columns=["date", "series", "value"])
    return SilverData(dt.date(2024, 5, 31), macro, empty_c, empty_s, empty_r, empty_p, asset="agent_t")


def test_macro_asof_uses_release_dates() -> None:
    m = pd.DataFrame({
        "series": "x",
        "observation_date": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"]),
        "value": [1.0, 2.0, 3.0, 4.0],
        "release_date": pd.to_datetime(["2024-02-10", "2024-03-10", "2024-04-10", "2024-06-10"]),
    })
    sd = _tiny(m)
    assert sd.macro("x").index.max() == pd.Timestamp("2024-03-01")  # April's value is released after D
    at = pd.DatetimeIndex(["2024-02-09", "2024-02-10", "2024-03-31", "2024-05-31"])
    np.testing.assert_array_equal(sd.macro_asof("x", at).to_numpy(), [np.nan, 1.0, 2.0, 3.0])
    with pytest.raises(SeriesMissing, match=r"'y'.*|2024-05-31"):
        sd.macro("y")
    with pytest.raises(SeriesMissing, match="agent_t 2024-05-31: macro series 'y'"):
        sd.macro_asof("y", at)
