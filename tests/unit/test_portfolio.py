"""Black-Litterman, the cvxpy optimiser, sizing and contract arithmetic, and the two portfolio steps."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest

from brmacro.instruments import di1_dv01, di1_pu
from brmacro.params import defaults
from brmacro.pipeline import all_schemas
from brmacro.portfolio.black_litterman import black_litterman, omega_from_confidence, prior_returns, view_return
from brmacro.portfolio.optimizer import mean_variance
from brmacro.portfolio.sizing import (
    book_vol,
    flat_forward_rate,
    half_kelly,
    risk_budget_weights,
    risk_contributions,
    zn_price,
)
from brmacro.portfolio.steps import portfolio_optimization, portfolio_sizing
from brmacro.signals.steps import signal_aggregation
from tests.configparts import config_part, schema_part
from tests.unit import desk_fixtures
from tests.unit import test_signals_fixtures as fx

ROOT = Path(__file__).resolve().parents[2]

DEFAULT_CONFIG = defaults("portfolio")  # the declared defaults (brmacro.params)


def _cov(n: int = 4, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.normal(0, 0.01, (n, n))
    return a @ a.T + np.diag(np.full(n, 1e-4))


# ----------------------------------------------------------------------------- Black-Litterman

def test_bl_posterior_matches_the_textbook_closed_form() -> None:
    sigma = _cov()
    tau, pi = 0.05, np.array([0.001, -0.0005, 0.0002, 0.0])
    P = np.array([[1.0, 0, 0, 0], [0, 1.0, -1.0, 0]])  # an absolute and a relative view
    Q = np.array([0.002, 0.001])
    omega = np.diag([1e-5, 2e-5])
    post = black_litterman(sigma, pi, P, Q, omega, tau)
    ts_inv = np.linalg.inv(tau * sigma)
    om_inv = np.linalg.inv(omega)
    cov = np.linalg.inv(ts_inv + P.T @ om_inv @ P)
    mu = cov @ (ts_inv @ pi + P.T @ om_inv @ Q)
    np.testing.assert_allclose(post.mu, mu, rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(post.cov_mean, cov, rtol=1e-8, atol=1e-16)


def test_bl_one_asset_is_a_precision_weighted_mean_and_no_view_is_the_prior() -> None:
    s2, tau, pi, q, om = 0.0004, 0.05, 0.001, 0.003, 0.00005
    post = black_litterman(np.array([[s2]]), np.array([pi]), np.array([[1.0]]), np.array([q]), np.array([[om]]), tau)
    a, b = 1 / (tau * s2), 1 / om
    assert post.mu[0] == pytest.approx((a * pi + b * q) / (a + b))
    assert post.cov_mean[0, 0] == pytest.approx(1 / (a + b))
    sigma = _cov()
    none = black_litterman(sigma, np.ones(4) * 1e-4, np.zeros((0, 4)), np.zeros(0), np.zeros((0, 0)), tau)
    np.testing.assert_allclose(none.mu, 1e-4)
    np.testing.assert_allclose(none.cov_mean, tau * sigma)


def test_bl_views_omega_q_and_prior() -> None:
    sigma = _cov()
    P = np.eye(4)[[0, 2]]
    om = omega_from_confidence(sigma, P, np.array([0.5, 1.0]), 0.05, eps=0.0)
    assert om[0, 0] == pytest.approx(0.05 * sigma[0, 0] / 0.5) and om[1, 1] == pytest.approx(0.05 * sigma[2, 2])
    with pytest.raises(ValueError):
        omega_from_confidence(sigma, P, np.array([0.5, 1.5]), 0.05)
    assert float(view_return(0.05, 0.01, 2.0)) == pytest.approx(0.001)  # IC x sigma x z
    assert np.all(prior_returns(sigma, 2.5) == 0.0)
    rp = prior_returns(sigma, 2.5, "risk_parity", ref_vol=0.10)
    w = np.linalg.solve(2.5 * sigma, rp)  # the implied reference book
    assert book_vol(w, sigma) == pytest.approx(0.10)
    vol = np.sqrt(np.diag(sigma))
    np.testing.assert_allclose(w * vol / (w * vol)[0], 1.0)  # inverse-volatility weights
    with pytest.raises(ValueError):
        prior_returns(sigma, 2.5, "market")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        black_litterman(sigma, np.zeros(4), P, np.zeros(2), np.eye(2), tau=0.0)


# ----------------------------------------------------------------------------- optimiser

def test_optimiser_with_slack_constraints_matches_the_closed_form() -> None:
    m = _cov()
    mu = np.array([0.0004, -0.0002, 0.0001, 0.0003])
    res = mean_variance(mu, m, 2.5, np.full(4, -100.0), np.full(4, 100.0), 1e6)
    assert res.status == "optimal" and not res.fallback
    np.testing.assert_allclose(res.weights, np.linalg.solve(2.5 * m, mu), rtol=1e-5, atol=1e-7)
    assert res.objective == pytest.approx(0.5 * mu @ np.linalg.solve(2.5 * m, mu), rel=1e-6)


def test_optimiser_solution_satisfies_every_constraint() -> None:
    m = _cov()
    mu = np.array([0.004, -0.003, 0.002, 0.003])
    lo, hi = np.array([-0.5, -0.2, -1.0, 0.0]), np.array([0.5, 1.0, 0.3, 0.25])
    groups = {"a": ([0, 1], 0.6), "b": ([2, 3], 0.4)}
    res = mean_variance(mu, m, 2.5, lo, hi, 0.9, groups)
    w = res.weights
    assert res.status == "optimal"
    tol = 1e-6
    assert np.all(w >= lo - tol) and np.all(w <= hi + tol)
    assert np.abs(w).sum() <= 0.9 + tol
    assert np.abs(w[[0, 1]]).sum() <= 0.6 + tol and np.abs(w[[2, 3]]).sum() <= 0.4 + tol
    assert np.abs(w).sum() > 0.5  # the constraints bind (the unconstrained book is far larger)


def test_optimiser_reports_infeasible_and_falls_back_to_the_flat_book() -> None:
    m = _cov(3)
    mu = np.array([0.001, 0.001, 0.001])
    res = mean_variance(mu, m, 2.5, np.full(3, 0.3), np.full(3, 1.0), 0.5)  # needs gross >= 0.9
    assert res.status == "infeasible" and res.fallback and res.objective is None
    assert np.all(res.weights == 0)
    bad = mean_variance(mu, m, 2.5, np.full(3, 0.5), np.full(3, 0.1), 5.0)
    assert bad.status == "infeasible" and bad.fallback
    npsd = mean_variance(mu, -np.eye(3), 2.5, np.full(3, -1.0), np.full(3, 1.0), 5.0)
    assert npsd.status == "invalid_input" and npsd.fallback


def test_cost_term_keeps_a_position_at_its_reference_unless_the_gain_pays_the_cost() -> None:
    m = _cov(2)
    mu = np.array([0.0004, 0.0001])
    free = mean_variance(mu, m, 2.5, np.full(2, -100.0), np.full(2, 100.0), 1e6)
    ref = np.array([0.0, 0.5])
    # a cost above |gradient at the reference| keeps instrument 1 exactly at its reference
    grad = mu - 2.5 * m @ np.array([free.weights[0], ref[1]])
    c = np.array([0.0, abs(grad[1]) * 10])
    res = mean_variance(mu, m, 2.5, np.full(2, -100.0), np.full(2, 100.0), 1e6, ref=ref, cost=c)
    assert res.status == "optimal" and res.weights[1] == pytest.approx(0.5, abs=1e-6)
    # a zero cost is the plain solve; costs shrink the move from the reference, never enlarge it
    same = mean_variance(mu, m, 2.5, np.full(2, -100.0), np.full(2, 100.0), 1e6, ref=ref, cost=np.zeros(2))
    np.testing.assert_allclose(same.weights, free.weights, atol=1e-6)
    some = mean_variance(mu, m, 2.5, np.full(2, -100.0), np.full(2, 100.0), 1e6, cost=np.full(2, 1e-5))
    assert np.abs(some.weights).sum() < np.abs(free.weights).sum()
    bad = mean_variance(mu, m, 2.5, np.full(2, -1.0), np.full(2, 1.0), 5.0, cost=np.array([-1.0, 0.0]))
    assert bad.status == "invalid_input" and bad.fallback


# ----------------------------------------------------------------------------- sizing

def test_scale_caps_give_one_factor_per_homogeneous_limit() -> None:
    from brmacro.portfolio.limits import book_limits, check_book, scale_caps

    names = ["DI1_2Y", "USDBRL", "IBOV"]
    cfg = {"bounds": {"DI1_2Y": [-3.0, 3.0], "USDBRL": [-0.5, 0.5], "IBOV": [-0.5, 0.5]}, "class_caps": {"fx": 0.5},
           "gross_leverage": 8.0}
    lim = book_limits(names, cfg, {"dv01_brl_per_bp": 50_000.0, "max_position": 0.25})
    w = np.array([1.0, -0.1, 0.05])
    dv01_w = np.array([20_000.0, 0.0, 0.0])  # BRL/bp per unit of weight
    caps = dict(scale_caps(w, dv01_w, lim, {0.95: 0.01}))
    assert caps["bound:USDBRL"] == pytest.approx(2.5)  # risk.limits.max_position 0.25 beats the 0.5 bound
    assert caps["bound:DI1_2Y"] == pytest.approx(3.0) and caps["gross"] == pytest.approx(8.0 / 1.15)
    assert caps["dv01"] == pytest.approx(2.5) and caps["var_95"] == pytest.approx(0.03 / 0.01)
    assert caps["class_cap:fx"] == pytest.approx(0.5 / 0.1)
    k = min(caps.values())
    assert check_book(k * w, k * w * dv01_w, lim, {0.95: k * 0.01}) == []
    assert check_book(1.01 * k * w, 1.01 * k * w * dv01_w, lim, {0.95: 1.01 * k * 0.01})  # just above: breaks
    assert scale_caps(np.zeros(3), dv01_w, lim) == []


def test_half_kelly_and_risk_budget() -> None:
    sigma = _cov(3)
    mu = np.array([0.001, -0.0005, 0.0002])
    np.testing.assert_allclose(half_kelly(mu, sigma), 0.5 * np.linalg.solve(sigma, mu))
    w = risk_budget_weights(sigma, np.array([1.0, -1.0, 1.0]), np.array([1.0, 1.0, 2.0]))
    assert np.sign(w).tolist() == [1.0, -1.0, 1.0]
    np.testing.assert_allclose(risk_contributions(w, sigma), [0.25, 0.25, 0.5], atol=1e-5)
    w0 = risk_budget_weights(sigma, np.array([1.0, 0.0, 1.0]), np.ones(3))
    assert w0[1] == 0.0 and np.allclose(risk_contributions(w0, sigma)[[0, 2]], 0.5, atol=1e-5)


# ----------------------------------------------------------------------------- contracts

def test_di1_pu_and_dv01_for_a_known_rate_and_du() -> None:
    assert float(di1_pu(0.10, 252)) == pytest.approx(100_000 / 1.10)
    assert float(di1_dv01(0.10, 252)) == pytest.approx(100_000 / 1.10 / 1.10 * 1e-4)
    # DV01 is the PU change for a 1 bp fall
    assert float(di1_pu(0.0999, 504) - di1_pu(0.10, 504)) == pytest.approx(float(di1_dv01(0.10, 504)), rel=1e-3)
    assert flat_forward_rate([252, 504], [0.10, 0.12], 252) == pytest.approx(0.10)
    mid = flat_forward_rate([252, 504], [0.10, 0.12], 378)
    assert 0.10 < mid < 0.12
    # flat forward: the capitalisation factors chain exactly
    assert (1 + mid) ** 1.5 == pytest.approx(1.10 * np.sqrt(1.12**2 / 1.10))


def test_zn_price() -> None:
    # contract tickers and rolls: tests/unit/test_desk.py (brmacro.desk.contracts)
    assert zn_price(0.06) == pytest.approx(100.0)
    assert zn_price(0.05) > 100.0


# ----------------------------------------------------------------------------- steps

def _inputs(tmp: Path) -> dict[str, dict[str, pd.DataFrame]]:
    tabs = {**fx.silver(), **fx.agents()}
    # the views these tests were written on: the fabricated market's threshold strategies scored on the session
    # alone (held entries, signals.strategies.hold_entries, have their own tests in test_signals.py)
    one_session = {"signals": {"strategies": {"hold_entries": False}}}
    tabs["signal_aggregation"] = signal_aggregation(fx.context(tmp / "agg", "signal_aggregation", tabs, one_session))
    tabs["bronze_b3_market_data"] = {"part": desk_fixtures.b3(tabs["silver_curves"]["part"], fx.ASOF)}
    return tabs


def test_optimisation_step_schema_valid_deterministic_and_bounded(tmp_path: Path) -> None:
    tabs = _inputs(tmp_path)
    o1 = portfolio_optimization(fx.context(tmp_path / "o1", "portfolio_optimization", tabs, {}))
    o2 = portfolio_optimization(fx.context(tmp_path / "o2", "portfolio_optimization", tabs, {}))
    for name, df in o1.items():
        all_schemas()["portfolio_optimization"][name].conform(df)
        pd.testing.assert_frame_equal(df, o2[name])
    part, solve = o1["part"], o1["solve"].iloc[0]
    assert solve["status"] == "optimal" and not solve["fallback"] and solve["n_views"] == len(o1["views"]) > 0
    assert (part["target_weight"] >= part["lower"] - 1e-6).all()
    assert (part["target_weight"] <= part["upper"] + 1e-6).all()
    assert part["target_weight"].abs().sum() <= DEFAULT_CONFIG["gross_leverage"] + 1e-6
    assert (part["prior_return"] == 0).all()  # zero prior by default
    # views in daily return units, horizon-consistent: |Q| = IC x daily vol x |z| / sqrt(H), H = 21 sessions
    v = o1["views"].set_index("view_id").loc["AGG:USDBRL"]
    vol_d = part.set_index("instrument").loc["USDBRL", "vol"] / np.sqrt(252)
    assert abs(v["q"]) == pytest.approx(0.05 * vol_d * abs(v["z"]) / np.sqrt(21))
    assert v["annual_return"] == pytest.approx(v["q"] * 252)
    assert abs(v["sharpe"]) == pytest.approx(0.05 * abs(v["z"]) * np.sqrt(252 / 21))
    assert (o1["views"]["sharpe"].abs() <= 1.0 + 1e-12).all()
    capped = portfolio_optimization(fx.context(tmp_path / "cap", "portfolio_optimization", tabs,
                                               {"portfolio": {"max_view_sharpe": 0.1}}))["views"]
    assert (capped["sharpe"].abs() <= 0.1 + 1e-12).all() and (capped["sharpe"].abs() == 0.1).any()
    held = part[part["target_weight"] != 0]
    assert held["origin"].str.startswith(("views: ", "covariance hedge of ")).all()
    assert (part.loc[part["target_weight"] == 0, "origin"].str.startswith("flat")).all()
    assert not o1["views"]["view_id"].str.startswith("XA:").any()  # cross-asset views off by default
    xa = portfolio_optimization(fx.context(tmp_path / "xa", "portfolio_optimization", tabs,
                                           {"portfolio": {"use_cross_asset_views": True}}))["views"]
    xa = xa.set_index("view_id")
    assert xa.loc["XA:equity_br", "instrument"] == "IBOV" and xa.loc["XA:equity_br", "z"] == pytest.approx(1.2)
    assert xa.loc["XA:rates_us", "instrument"] == "UST_10Y"  # no instrument in the view: config mapping
    assert "XA:nonsense_class" not in xa.index


def test_optimisation_step_without_views_is_flat_and_infeasible_falls_back(tmp_path: Path) -> None:
    tabs = _inputs(tmp_path)
    agg = tabs["signal_aggregation"]["part"].copy()
    agg["conviction"], agg["direction"] = 0.0, 0
    flat = {**tabs, "signal_aggregation": {**tabs["signal_aggregation"], "part": agg}}
    o = portfolio_optimization(fx.context(tmp_path / "f", "portfolio_optimization", flat,
                                          {"portfolio": {"use_cross_asset_views": False}}))
    assert o["solve"].iloc[0]["n_views"] == 0 and (o["part"]["target_weight"] == 0).all()
    bounds = {k: [0.2, 1.0] for k in DEFAULT_CONFIG["bounds"]}
    bad = portfolio_optimization(fx.context(tmp_path / "b", "portfolio_optimization", tabs,
                                            {"portfolio": {"bounds": bounds, "gross_leverage": 1.0}}))
    s = bad["solve"].iloc[0]
    assert s["status"] == "infeasible" and s["fallback"] and pd.isna(s["objective"])
    assert (bad["part"]["target_weight"] == 0).all()
    all_schemas()["portfolio_optimization"]["solve"].conform(bad["solve"])


WIDE_RISK = {"limits": {"max_gross_leverage": 1e3, "max_position": 1e3, "max_asset_class_exposure": 1e3,
                        "dv01_brl_per_bp": 1e12, "var_95": 1.0, "var_99": 1.0, "max_risk_contribution": 1.0,
                        "asset_class_risk_budget": 1.0}}


def _sized(tmp: Path, tabs: dict, params: dict) -> dict[str, pd.DataFrame]:
    tabs = {**tabs, "portfolio_optimization": portfolio_optimization(
        fx.context(tmp / "o", "portfolio_optimization", tabs, params))}
    return portfolio_sizing(fx.context(tmp / "s", "portfolio_sizing", tabs, params))


def test_sizing_step_meets_every_limit_records_what_bound_and_converts_contracts(tmp_path: Path) -> None:
    from brmacro.portfolio.limits import book_breaches

    tabs = _inputs(tmp_path)
    names = DEFAULT_CONFIG["universe"]
    res = _sized(tmp_path / "d", tabs, {"portfolio": {"hedges": "allow"}})
    out, bk = res["part"], res["book"]
    all_schemas()["portfolio_sizing"]["part"].conform(out)
    all_schemas()["portfolio_sizing"]["book"].conform(bk)
    rets = tabs["silver_returns"]["part"]
    conv = tabs["signal_aggregation"]["part"].set_index("instrument")["conviction"]
    assert out["weight"].abs().sum() > 0
    assert book_breaches(out, rets, fx.ASOF, DEFAULT_CONFIG, {}, conv) == []
    big = out.assign(weight=out["weight"] * 3, dv01_brl=out["dv01_brl"] * 3)
    assert book_breaches(big, rets, fx.ASOF, DEFAULT_CONFIG, {}, conv)  # the check can fail
    b = bk.iloc[0]
    assert b["ex_ante_vol"] <= b["target_vol"] * 1.01 and b["target_vol"] == 0.10
    assert b["reason"].startswith(("sized to", "flat")) and f"{b['target_vol'] * 100:.1f} % target" in b["reason"]
    # the default (hedges: forbid) holds the three viewed instruments the optimiser keeps (DI1_2Y, USDBRL, IBOV); they
    # hedge one another (negative shares), which defeats the iterative scaling, and the risk-parity book meets the caps
    three = _sized(tmp_path / "f", tabs, {})
    held = three["part"].loc[three["part"]["weight"] != 0, "instrument"].tolist()
    assert held == ["DI1_2Y", "USDBRL", "IBOV"] and not three["book"].iloc[0]["binding"].startswith("risk_contribution")
    assert book_breaches(three["part"], rets, fx.ASOF, DEFAULT_CONFIG, {}, conv) == []
    # with limits that do not bind, the whole book sits on the 10 % target (up to contract rounding)
    wide = {"portfolio": {"bounds": {k: [-50.0, 50.0] for k in names}, "gross_leverage": 100.0,
                          "class_caps": dict.fromkeys(DEFAULT_CONFIG["class_caps"], 100.0)}, "risk": WIDE_RISK}
    ww = _sized(tmp_path / "w", tabs, wide)
    assert ww["book"].iloc[0]["binding"] == "vol_target"
    assert ww["book"].iloc[0]["ex_ante_vol"] == pytest.approx(0.10, rel=0.02)
    book = ww["part"].set_index("instrument").loc[names]
    w, t = book["weight"].to_numpy(), book["target_weight"].to_numpy()
    assert np.all(np.sign(w[w != 0]) == np.sign(t[w != 0]))  # signs follow the optimiser's targets
    ratio = (w / np.where(t != 0, t, 1.0))[np.abs(w) > 0.05]
    np.testing.assert_allclose(ratio, ratio[0], rtol=0.05)  # one factor for the whole book (rounding aside)
    nav = 100e6
    np.testing.assert_allclose(book["notional_brl"], w * nav)
    ptax = float(tabs["silver_returns"]["prices"].query("series == 'ptax:USDBRL'").iloc[-1]["value"])
    usd = book.loc["USDBRL"]
    assert usd["contracts"] == np.rint(usd["notional_brl"] / (50_000 * ptax)) and usd["contract"] == "DOLZ26"
    assert usd["notional_brl"] == pytest.approx(usd["contracts"] * 50_000 * ptax)  # the rounded book
    ibov = float(tabs["silver_returns"]["part"].query("instrument == 'IBOV'").iloc[-1]["level"])
    assert book.loc["IBOV", "contracts"] == np.rint(book.loc["IBOV", "notional_brl"] / ibov)
    di = book.loc["DI1_2Y"]
    assert di["contract"].startswith("DI1") and np.sign(di["dv01_brl"]) == np.sign(di["weight"])
    assert (book.loc[["USDBRL", "IBOV", "SPX"], "dv01_brl"] == 0).all()
    # a tight DV01 limit binds and the artifact says so
    tight = _sized(tmp_path / "t", tabs, {**wide, "risk": {"limits": {**WIDE_RISK["limits"], "dv01_brl_per_bp": 5e3}}})
    tb = tight["book"].iloc[0]
    assert tb["binding"] == "dv01" and tb["dv01_brl"] <= 5_000.0 and tb["reason"].startswith("sized to the DV01 limit")
    for method in ("half_kelly", "risk_budget"):
        o = _sized(tmp_path / method, tabs, {"portfolio": {"hedges": "allow", "sizing": {"method": method}}})["part"]
        all_schemas()["portfolio_sizing"]["part"].conform(o)
        assert set(o["method"]) == {method}
        assert book_breaches(o, rets, fx.ASOF, DEFAULT_CONFIG, {}, conv) == []


def test_flagged_optimiser_fallback_gives_a_flat_sized_book(tmp_path: Path) -> None:
    tabs = _inputs(tmp_path)
    cfg = {"portfolio": {"bounds": {**DEFAULT_CONFIG["bounds"], "DI1_1Y": [1.0, 2.0]}, "gross_leverage": 0.5}}
    res = _sized(tmp_path, tabs, cfg)
    assert (res["part"]["weight"] == 0).all() and (res["part"]["contracts"] == 0).all()
    assert res["book"].iloc[0]["binding"] == "flat_fallback"
    assert res["part"]["origin"].str.startswith("flat: optimiser fallback").all()
    with pytest.raises(ValueError, match=r"portfolio.bounds.DI1_1Y: lower 2.0 must not exceed upper -2.0"):
        _sized(tmp_path / "inv", tabs, {"portfolio": {"bounds": {**DEFAULT_CONFIG["bounds"], "DI1_1Y": [2.0, -2.0]}}})
    from brmacro.portfolio.steps import portfolio_config

    for bad, needle in (({"sizing": {"target_vol": -0.1}}, "portfolio.sizing.target_vol"),
                        ({"sizing": {"kelly_fraction": -0.5}}, "portfolio.sizing.kelly_fraction"),
                        ({"sizing": {"target_vol": float("nan")}}, "portfolio.sizing.target_vol"),
                        ({"costs": {**DEFAULT_CONFIG["costs"], "SPX": {"ticks": -1.0, "fee": 0.0}}},
                         "portfolio.costs.SPX.ticks")):
        with pytest.raises(ValueError, match=needle):
            portfolio_config({"portfolio": bad})


def test_hedges_forbid_holds_instruments_without_a_view_at_zero(tmp_path: Path) -> None:
    tabs = _inputs(tmp_path)
    o = portfolio_optimization(fx.context(tmp_path / "f", "portfolio_optimization", tabs,
                                          {"portfolio": {"hedges": "forbid"}}))
    viewed = set(o["views"]["instrument"])
    part = o["part"].set_index("instrument")
    unviewed = [x for x in part.index if x not in viewed]
    assert unviewed and (part.loc[unviewed, "target_weight"] == 0).all()
    assert part.loc[unviewed, "origin"].str.startswith("flat").all()
    # allow: covariance hedges may appear, but no viewed instrument is ever held against its own view
    a = portfolio_optimization(fx.context(tmp_path / "a", "portfolio_optimization", tabs,
                                          {"portfolio": {"hedges": "allow"}}))
    pa = a["part"].set_index("instrument")
    for v in a["views"].itertuples():
        assert np.sign(pa.loc[v.instrument, "target_weight"]) in (0.0, np.sign(v.z))
    hedged = pa[(pa["target_weight"] != 0) & ~pa.index.isin(list(viewed))]
    assert hedged["origin"].str.startswith("covariance hedge of ").all()


def test_reshape_for_risk_budget_caps_every_share() -> None:
    from brmacro.portfolio.sizing import risk_contributions
    from brmacro.portfolio.steps import reshape_for_risk_budget

    sigma = _cov(4, seed=3)
    w = np.array([3.0, 0.2, -0.3, 0.4])
    x, ok = reshape_for_risk_budget(w, sigma, ["a", "b", "c", "d"], 0.4, 0.7)
    assert ok and np.all(np.sign(x) == np.sign(w))
    assert risk_contributions(x, sigma).max() <= 0.4 + 1e-9
    one, ok1 = reshape_for_risk_budget(np.array([1.0, 0, 0, 0]), sigma, ["a", "b", "c", "d"], 0.4, 0.7)
    assert not ok1  # a single position always carries all the risk


def test_cost_model_in_each_instrument_unit() -> None:
    from brmacro.params import defaults
    from brmacro.portfolio.costs import di1_tick_bp, one_way_cost

    DEFAULT_COSTS = defaults("portfolio.costs")

    assert (di1_tick_bp(40), di1_tick_bp(252), di1_tick_bp(2520)) == (0.2, 0.5, 1.0)
    c1, _ = one_way_cost("DI1_1Y", 0.12, 5.0, DEFAULT_COSTS)
    c10, _ = one_way_cost("DI1_10Y", 0.12, 5.0, DEFAULT_COSTS)
    # half a tick of 0.5 bp x duration 1/1.12 years, + BRL 0.91 on the PU
    assert c1 == pytest.approx(0.5 * 0.5e-4 / 1.12 + 0.91 / float(di1_pu(0.12, 252)))
    assert c10 > 10 * c1  # wider for long maturities (tick 1 bp, 2 ticks, duration ~9 years)
    dol, _ = one_way_cost("USDBRL", 5.0, 5.0, DEFAULT_COSTS)
    assert dol == pytest.approx((0.5 * 25.0 + 0.60 * 5.0) / (50_000 * 5.0))
    es, _ = one_way_cost("SPX", 5000.0, 5.0, DEFAULT_COSTS)
    assert es == pytest.approx(0.5 * 12.5 / (50 * 5000.0))
    with pytest.raises(ValueError, match="no cost for DI1_1Y"):
        one_way_cost("DI1_1Y", 0.12, 5.0, {})


def test_config_part_mirrors_defaults_and_validates() -> None:
    cfg = config_part("portfolio")
    schema = schema_part("portfolio")
    assert list(cfg) == ["portfolio"]
    jsonschema.validate(cfg["portfolio"], schema["portfolio"])
    assert json.loads(json.dumps(cfg["portfolio"])) == json.loads(json.dumps(DEFAULT_CONFIG))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**cfg["portfolio"], "sizing": {"method": "equal_weight"}}, schema["portfolio"])


def test_shrink_search_finds_the_linear_scans_step_in_few_calls() -> None:
    from brmacro.portfolio.sizing import first_passing_step, shrink_guess

    def linear(passes, n):  # the former loop: shrink 1 % at a time
        return next((m for m in range(n) if passes(m)), None)

    for first in (0, 1, 2, 7, 37, 64, 99, None):
        for guess in (1, 3, 40, 200):
            calls: list[int] = []

            def passes(m: int, first: int | None = first, calls: list[int] = calls) -> bool:
                calls.append(m)
                return first is not None and m >= first

            assert first_passing_step(passes, 100, guess) == linear(lambda m, f=first: f is not None and m >= f, 100)
            assert len(calls) <= 16 and len(set(calls)) == len(calls)  # bisection, each step measured once
    # the closed form: a measure at 1/ratio of its limit needs ceil(log ratio / log 0.99) steps of 1 %
    assert shrink_guess(0.95) == 6 and 0.99 ** 6 <= 0.95 < 0.99 ** 5
    assert shrink_guess(1.0) == 1 and shrink_guess(float("nan")) == 1


def test_rounded_book_fit_equals_shrinking_one_percent_at_a_time(tmp_path: Path) -> None:
    from brmacro.portfolio.limits import book_limits, check_book, scale_caps
    from brmacro.portfolio.steps import SHRINK_STEP, fit_rounded, rounded_book

    names = ["USDBRL", "IBOV", "SPX"]
    sigma = _cov(3, seed=5) * 1e-4
    w0 = np.array([0.9, -0.6, 0.5])
    limit = 0.9 * 1.645 * float(np.sqrt(w0 @ sigma @ w0))  # the VaR limit binds: about 11 steps of 1 %
    lim = book_limits(names, {"bounds": {x: [-1.0, 1.0] for x in names}, "class_caps": {}, "gross_leverage": 8.0},
                      {**WIDE_RISK["limits"], "var_95": limit})
    per_w = np.array([400.0, 770.0, 80.0])  # contracts per unit of weight
    calls: list[int] = []

    def measure(w: np.ndarray) -> tuple[dict[float, float], np.ndarray]:  # parametric VaR, scales with the book
        calls.append(1)
        return {0.95: 1.645 * float(np.sqrt(w @ sigma @ w)), 0.99: 0.0}, np.zeros(3)

    fitted, broken = fit_rounded(w0, per_w, np.zeros(3), lim, measure)
    assert not broken and len(calls) <= 6  # the former loop measured the VaR 12 times
    w = w0.copy()
    for _ in range(100):  # the former loop, by hand
        wr = rounded_book(w, per_w)
        var, shares = measure(wr)
        if not check_book(wr, np.zeros(3), lim, var, shares):
            break
        w = w * SHRINK_STEP
    np.testing.assert_allclose(fitted, wr, atol=1e-12)
    assert 0.98 * limit < measure(fitted)[0][0.95] <= limit  # at the limit, within one step of 1 %
    assert min(k for _n, k in scale_caps(fitted, np.zeros(3), lim, measure(fitted)[0])) < 1.02


def test_small_books_have_the_share_limit_of_their_size(tmp_path: Path) -> None:
    from brmacro.portfolio.limits import book_breaches, share_limit

    # shares of VaR sum to 1: the largest of n is at least 1/n, so 40 % needs three positions
    assert share_limit(0.4, [1.0, 0.55], 1) == 1.0 and share_limit(0.4, [1.0, 0.55], 2) == 0.55
    assert share_limit(0.4, [1.0, 0.55], 3) == 0.4 and share_limit(0.4, None, 2) == 0.4
    tabs = _inputs(tmp_path)
    agg = tabs["signal_aggregation"]["part"].copy()
    keep = agg["instrument"].isin(["USDBRL", "IBOV"])
    agg.loc[~keep, "conviction"], agg.loc[~keep, "direction"] = 0.0, 0
    two = {**tabs, "signal_aggregation": {**tabs["signal_aggregation"], "part": agg}}
    rets = tabs["silver_returns"]["part"]
    conv = agg.set_index("instrument")["conviction"]
    res = _sized(tmp_path / "two", two, {})
    w = res["part"].set_index("instrument")["weight"]
    b = res["book"].iloc[0]
    assert (w != 0).sum() == 2 and w["USDBRL"] != 0 and w["IBOV"] != 0  # formerly flat for the 40 % limit
    assert "2 positions: share-of-VaR limit 55 % per position (40 % needs 3 or more)" in b["reason"]
    assert book_breaches(res["part"], rets, fx.ASOF, DEFAULT_CONFIG, {}, conv) == []
    # without the rule (an empty list), no two-position book meets 40 %: flat, and the artifact says why
    old = {"risk": {"limits": {"max_risk_contribution_by_size": []}}}
    flat = _sized(tmp_path / "old", two, old)
    assert (flat["part"]["weight"] == 0).all() and flat["book"].iloc[0]["binding"] == "risk_contribution:USDBRL, IBOV"
    assert flat["book"].iloc[0]["reason"].startswith("flat: no book meets the risk-contribution limits")
    # and risk_limits measures the two-position book against the same 55 %
    from brmacro.risk.limits import evaluate_limits

    comp = pd.DataFrame({"instrument": ["USDBRL", "IBOV"], "pct_contribution": [0.52, 0.48]})
    sizing = res["part"].loc[:, ["instrument", "asset_class", "weight", "dv01_brl"]]
    var_t = pd.DataFrame({"method": ["parametric"] * 2, "confidence": [0.95, 0.99], "var": [0.01, 0.015]})
    rows, _ = evaluate_limits(sizing, var_t, comp, [], {})
    rc = next(r for r in rows if r.limit == "risk_contribution")
    assert rc.limit_value == 0.55 and rc.status != "BREACHED" and "book of 2 position" in rc.note
