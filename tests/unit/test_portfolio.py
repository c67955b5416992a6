"""Black-Litterman, the cvxpy optimiser, sizing and contract arithmetic, and the two portfolio steps."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest

from tests.configparts import config_part, schema_part

from brmacro.instruments import di1_dv01, di1_pu
from brmacro.pipeline import all_schemas
from brmacro.portfolio.black_litterman import black_litterman, omega_from_confidence, prior_returns, view_return
from brmacro.portfolio.optimizer import ledoit_wolf_cov, mean_variance, returns_matrix
from brmacro.portfolio.sizing import (
    apply_caps,
    book_vol,
    flat_forward_rate,
    half_kelly,
    risk_budget_weights,
    risk_contributions,
    vol_target_scale,
    zn_price,
)
from brmacro.portfolio.steps import DEFAULT_CONFIG, portfolio_optimization, portfolio_sizing
from brmacro.signals.steps import signal_aggregation
from tests.unit import desk_fixtures
from tests.unit import test_signals_fixtures as fx

ROOT = Path(__file__).resolve().parents[2]


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


def test_returns_matrix_and_ledoit_wolf() -> None:
    from sklearn.covariance import LedoitWolf

    r = fx.silver()["silver_returns"]["part"]
    x = returns_matrix(r, ["DI1_1Y", "USDBRL"], fx.ASOF, 100)
    assert x.shape == (100, 2) and list(x.columns) == ["DI1_1Y", "USDBRL"] and x.index[-1] == fx.ASOF
    np.testing.assert_allclose(ledoit_wolf_cov(x.to_numpy()), LedoitWolf().fit(x.to_numpy()).covariance_)
    with pytest.raises(ValueError):
        returns_matrix(r, ["NOPE"], fx.ASOF, 100)


# ----------------------------------------------------------------------------- sizing

def test_vol_target_scales_the_whole_book_to_the_target() -> None:
    vols = np.array([0.10, 0.20, 0.05]) / np.sqrt(252)
    corr = np.array([[1, 0.3, 0], [0.3, 1, -0.2], [0, -0.2, 1]])
    sigma = corr * np.outer(vols, vols)
    w = np.array([0.5, -0.25, 1.0])
    k = vol_target_scale(w, sigma, 0.10, gross_cap=100.0)
    assert book_vol(k * w, sigma) == pytest.approx(0.10)
    np.testing.assert_allclose((k * w) / w, k)  # one factor for the whole book
    k2 = vol_target_scale(w, sigma, 0.10, gross_cap=1.0)
    assert np.abs(k2 * w).sum() == pytest.approx(1.0)  # gross cap binds
    assert vol_target_scale(np.zeros(3), sigma, 0.10, 5.0) == 0.0


def test_half_kelly_risk_budget_and_caps() -> None:
    sigma = _cov(3)
    mu = np.array([0.001, -0.0005, 0.0002])
    np.testing.assert_allclose(half_kelly(mu, sigma), 0.5 * np.linalg.solve(sigma, mu))
    w = risk_budget_weights(sigma, np.array([1.0, -1.0, 1.0]), np.array([1.0, 1.0, 2.0]))
    assert np.sign(w).tolist() == [1.0, -1.0, 1.0]
    np.testing.assert_allclose(risk_contributions(w, sigma), [0.25, 0.25, 0.5], atol=1e-5)
    w0 = risk_budget_weights(sigma, np.array([1.0, 0.0, 1.0]), np.ones(3))
    assert w0[1] == 0.0 and np.allclose(risk_contributions(w0, sigma)[[0, 2]], 0.5, atol=1e-5)
    capped = apply_caps(np.array([2.0, -3.0, 0.5]), np.full(3, -1.0), np.full(3, 1.0), 2.0)
    np.testing.assert_allclose(capped, np.array([1.0, -1.0, 0.5]) * 2.0 / 2.5)


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
    tabs["signal_aggregation"] = signal_aggregation(fx.context(tmp / "agg", "signal_aggregation", tabs, {}))
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
    assert (part["target_weight"] >= part["lower"] - 1e-6).all() and (part["target_weight"] <= part["upper"] + 1e-6).all()
    assert part["target_weight"].abs().sum() <= DEFAULT_CONFIG["gross_leverage"] + 1e-6
    assert (part["prior_return"] == 0).all()  # zero prior by default
    # views in daily return units: |Q| = IC x daily vol x |z|
    v = o1["views"].set_index("view_id").loc["AGG:USDBRL"]
    vol_d = part.set_index("instrument").loc["USDBRL", "vol"] / np.sqrt(252)
    assert abs(v["q"]) == pytest.approx(0.05 * vol_d * abs(v["z"]))
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


def test_sizing_step_hits_the_vol_target_and_converts_contracts(tmp_path: Path) -> None:
    tabs = _inputs(tmp_path)
    tabs["portfolio_optimization"] = portfolio_optimization(fx.context(tmp_path / "o", "portfolio_optimization", tabs, {}))
    cov = tabs["portfolio_optimization"]["covariance"]
    names = DEFAULT_CONFIG["universe"]
    sigma = cov.pivot(index="instrument_a", columns="instrument_b", values="cov").loc[names, names].to_numpy()
    out = portfolio_sizing(fx.context(tmp_path / "s", "portfolio_sizing", tabs, {}))["part"]
    all_schemas()["portfolio_sizing"]["part"].conform(out)
    book = out.set_index("instrument").loc[names]
    w = book["weight"].to_numpy()
    assert book_vol(w, sigma) <= 0.10 + 1e-9  # caps after scaling can only lower the vol
    # with caps that do not bind, the whole book sits exactly on the 10 % target
    wide = {"portfolio": {"bounds": {k: [-50.0, 50.0] for k in names}, "gross_leverage": 100.0,
                          "class_caps": {k: 100.0 for k in DEFAULT_CONFIG["class_caps"]}}}
    tabs_w = {**tabs, "portfolio_optimization": portfolio_optimization(
        fx.context(tmp_path / "ow", "portfolio_optimization", tabs, wide))}
    ww = portfolio_sizing(fx.context(tmp_path / "sw", "portfolio_sizing", tabs_w, wide))["part"]
    ww = ww.set_index("instrument").loc[names]
    assert book_vol(ww["weight"].to_numpy(), sigma) == pytest.approx(0.10, rel=1e-6)
    ratio = ww["weight"] / ww["target_weight"]
    np.testing.assert_allclose(ratio[ww["target_weight"] != 0], ratio[ww["target_weight"] != 0].iloc[0])
    # signs follow the optimiser's targets
    t = book["target_weight"].to_numpy()
    assert np.all(np.sign(w[w != 0]) == np.sign(t[w != 0]))
    nav = 100e6
    np.testing.assert_allclose(book["notional_brl"], w * nav)
    ptax = float(tabs["silver_returns"]["prices"].query("series == 'ptax:USDBRL'").iloc[-1]["value"])
    usd = book.loc["USDBRL"]
    assert usd["contracts"] == np.rint(usd["notional_brl"] / (50_000 * ptax)) and usd["contract"] == "DOLZ26"
    ibov = float(tabs["silver_returns"]["part"].query("instrument == 'IBOV'").iloc[-1]["level"])
    assert book.loc["IBOV", "contracts"] == np.rint(book.loc["IBOV", "notional_brl"] / ibov)
    di = book.loc["DI1_2Y"]
    assert di["contract"].startswith("DI1") and np.sign(di["dv01_brl"]) == np.sign(di["weight"])
    assert (book.loc[["USDBRL", "IBOV", "SPX"], "dv01_brl"] == 0).all()
    for method in ("half_kelly", "risk_budget"):
        o = portfolio_sizing(fx.context(tmp_path / method, "portfolio_sizing", tabs,
                                        {"portfolio": {"sizing": {"method": method}}}))["part"]
        all_schemas()["portfolio_sizing"]["part"].conform(o)
        assert set(o["method"]) == {method}
        assert o["weight"].abs().sum() <= DEFAULT_CONFIG["gross_leverage"] * 1.2 + 1e-9


def test_config_part_mirrors_defaults_and_validates() -> None:
    cfg = config_part("portfolio")
    schema = schema_part("portfolio")
    assert list(cfg) == ["portfolio"]
    jsonschema.validate(cfg["portfolio"], schema["portfolio"])
    assert json.loads(json.dumps(cfg["portfolio"])) == json.loads(json.dumps(DEFAULT_CONFIG))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**cfg["portfolio"], "sizing": {"method": "equal_weight"}}, schema["portfolio"])


def test_limit_scale_brings_the_whole_book_inside_gross_and_dv01_limits() -> None:
    import numpy as np

    from brmacro.portfolio.steps import limit_scale

    w = np.array([2.0, -1.0, 1.0])  # gross 4
    dv01 = np.array([30_000.0, 0.0, -30_000.0])  # |DV01| 60,000 BRL/bp
    limits = {"max_gross_leverage": 8.0, "dv01_brl_per_bp": 50_000.0}
    assert limit_scale(w, dv01, limits, 0.98) == pytest.approx(0.98 * 50_000 / 60_000)
    assert limit_scale(w, dv01, {"max_gross_leverage": 2.0, "dv01_brl_per_bp": 1e9}, 1.0) == pytest.approx(0.5)
    assert limit_scale(w, dv01, {"max_gross_leverage": 8.0, "dv01_brl_per_bp": 1e9}, 0.98) == 1.0  # inside: untouched
