"""risk_var library: closed forms, quantile convention, Monte Carlo, Euler decomposition, bad input."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from brmacro.calendar import previous_sessions
from brmacro.risk import RiskInputError
from brmacro.risk.var import (
    compute_var,
    empirical_var_cvar,
    euler_decomposition,
    fit_t_marginals,
    monte_carlo_var,
    parametric_var_cvar,
    shrunk_covariance,
)

D = dt.date(2026, 11, 27)
NAMES = ["DI1_2Y", "IBOV", "USDBRL"]


def _long(x: np.ndarray, names: list[str], end: dt.date = D) -> pd.DataFrame:
    sessions = [*previous_sessions(end, len(x) - 1), end]
    return pd.DataFrame(
        {"date": np.repeat(sessions, len(names)), "instrument": names * len(sessions), "ret": x.ravel()}
    )


def _normal_returns(n: int, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    corr = np.array([[1.0, -0.3, 0.2], [-0.3, 1.0, -0.5], [0.2, -0.5, 1.0]])
    vols = np.array([0.002, 0.015, 0.01])
    return rng.multivariate_normal(np.zeros(3), corr * np.outer(vols, vols), size=n)


def test_parametric_matches_closed_form() -> None:
    cov = np.array([[0.0001, 0.00002], [0.00002, 0.0004]])
    w = np.array([0.5, -0.25])
    sigma = np.sqrt(0.25 * 0.0001 + 0.0625 * 0.0004 + 2 * 0.5 * -0.25 * 0.00002)  # = sqrt(4.5e-5)
    var95, cvar95 = parametric_var_cvar(w, cov, 0.95)
    assert var95 == pytest.approx(1.6448536269514722 * sigma, rel=1e-12)
    assert cvar95 == pytest.approx(sigma * 2.0627128075074257, rel=1e-9)  # phi(z95)/0.05
    var99, cvar99 = parametric_var_cvar(w, cov, 0.99)
    assert var99 == pytest.approx(2.3263478740408408 * sigma, rel=1e-12)
    assert cvar99 == pytest.approx(sigma * 2.6652142203457833, rel=1e-9)  # phi(z99)/0.01


def test_historical_var_cvar_on_known_vector() -> None:
    # 100 returns -0.050, -0.049, ..., +0.049 in shuffled order.
    x = np.random.default_rng(0).permutation(np.arange(-50, 50) / 1000.0)
    v, cv = empirical_var_cvar(x, 0.95)
    # k = ceil(100 * 0.05) = 5: the 5th worst return, CVaR = mean of the 5 worst.
    assert v == pytest.approx(0.046)
    assert cv == pytest.approx(np.mean([0.050, 0.049, 0.048, 0.047, 0.046]))
    assert -v == pytest.approx(np.quantile(x, 0.05, method="inverted_cdf"))
    v99, cv99 = empirical_var_cvar(x, 0.99)
    assert v99 == pytest.approx(0.050) and cv99 == pytest.approx(0.050)


def test_historical_quantile_k_is_not_pushed_by_rounding() -> None:
    # 100 * (1 - 0.95) is 5.000000000000004 in floating point; k must still be 5.
    x = -np.arange(1, 101) / 1000.0
    assert empirical_var_cvar(x, 0.95)[0] == pytest.approx(0.096)


def test_mc_close_to_parametric_on_normal_data() -> None:
    x = _normal_returns(5000)
    w = np.array([1.5, 0.3, -0.2])
    cov, _ = shrunk_covariance(x)
    dfs, scales = fit_t_marginals(x)
    assert (dfs > 30).all()  # near-normal data: large degrees of freedom
    mc = monte_carlo_var(w, cov, dfs, scales, [0.95, 0.99], 10_000, np.random.default_rng(11))
    for c in (0.95, 0.99):
        pv, pcv = parametric_var_cvar(w, cov, c)
        assert mc[c][0] == pytest.approx(pv, rel=0.05)
        assert mc[c][1] == pytest.approx(pcv, rel=0.06)


def test_mc_heavy_tails_raise_99_var_above_normal() -> None:
    rng = np.random.default_rng(5)
    x = rng.standard_t(4, size=(3000, 2)) * 0.01
    dfs, scales = fit_t_marginals(x)
    assert (dfs < 15).all()
    cov, _ = shrunk_covariance(x)
    w = np.array([1.0, 1.0])
    mc = monte_carlo_var(w, cov, dfs, scales, [0.99], 10_000, np.random.default_rng(1))
    assert mc[0.99][1] > parametric_var_cvar(w, cov, 0.99)[1]


def test_shrunk_covariance_keeps_sample_variances() -> None:
    x = _normal_returns(800)
    cov, shrink = shrunk_covariance(x)
    np.testing.assert_allclose(np.diag(cov), x.var(axis=0, ddof=1), rtol=1e-12)
    assert 0.0 <= shrink <= 1.0
    assert np.all(np.linalg.eigvalsh(cov) > 0)


def test_component_var_sums_to_total_and_marginal_is_gradient() -> None:
    x = _normal_returns(800)
    cov, _ = shrunk_covariance(x)
    w = np.array([2.0, 0.2, -0.4])
    marginal, component = euler_decomposition(w, cov, 0.95)
    total = parametric_var_cvar(w, cov, 0.95)[0]
    assert component.sum() == pytest.approx(total, rel=1e-12)
    eps = 1e-7
    for i in range(3):
        up = w.copy()
        up[i] += eps
        fd = (parametric_var_cvar(up, cov, 0.95)[0] - total) / eps
        assert marginal[i] == pytest.approx(fd, rel=1e-4)


def test_compute_var_tables_and_determinism() -> None:
    x = _normal_returns(800)
    ret = _long(x, NAMES)
    w = pd.Series({"DI1_2Y": 1.0, "IBOV": 0.1, "USDBRL": -0.2, "SPX": 0.0})
    est, comp = compute_var(ret, w, D)
    assert {(e.method, e.confidence) for e in est} == {
        (m, c) for m in ("historical", "parametric", "monte_carlo") for c in (0.95, 0.99)
    }
    by = {(e.method, e.confidence): e for e in est}
    assert by[("historical", 0.95)].n_obs == 756
    assert by[("monte_carlo", 0.95)].n_obs == 10_000
    for e in est:
        assert e.cvar >= e.var > 0
    # SPX has no returns and no weight: left out, contributes nothing.
    assert comp.set_index("instrument").loc["SPX", "component_var"] == 0.0
    assert comp["component_var"].sum() == pytest.approx(by[("parametric", 0.95)].var, rel=1e-12)
    assert comp["pct_contribution"].sum() == pytest.approx(1.0)
    est2, comp2 = compute_var(ret, w, D)
    assert est == est2
    pd.testing.assert_frame_equal(comp, comp2)


def test_historical_falls_back_to_parametric_when_short() -> None:
    ret = _long(_normal_returns(100), NAMES)
    w = pd.Series({"DI1_2Y": 1.0, "IBOV": 0.1, "USDBRL": -0.2})
    est, _ = compute_var(ret, w, D, {"min_obs": 250})
    by = {(e.method, e.confidence): e for e in est}
    assert by[("historical", 0.99)].var == by[("parametric", 0.99)].var
    assert "FALLBACK" in by[("historical", 0.99)].note and by[("historical", 0.99)].n_obs == 100


def test_flat_book_has_zero_var_and_null_shares() -> None:
    ret = _long(_normal_returns(300), NAMES)
    est, comp = compute_var(ret, pd.Series(0.0, index=NAMES), D)
    assert all(e.var == 0.0 and e.cvar == 0.0 for e in est)
    assert comp["pct_contribution"].isna().all() and (comp["component_var"] == 0).all()


def test_nan_weight_is_refused() -> None:
    ret = _long(_normal_returns(300), NAMES)
    with pytest.raises(RiskInputError, match="IBOV"):
        compute_var(ret, pd.Series({"DI1_2Y": 1.0, "IBOV": np.nan, "USDBRL": 0.0}), D)


def test_empty_window_is_refused() -> None:
    # Returns that end a year before the session: nothing in the 756-session window... of length 5.
    ret = _long(_normal_returns(300), NAMES, end=dt.date(2024, 6, 28))
    with pytest.raises(RiskInputError, match="window has 0 complete"):
        compute_var(ret, pd.Series({"DI1_2Y": 1.0, "IBOV": 0.1, "USDBRL": 0.0}), D, {"window": 5})
    with pytest.raises(RiskInputError, match="empty"):
        empirical_var_cvar(np.array([]), 0.95)


def test_singular_covariance_is_refused() -> None:
    x = _normal_returns(300)
    x[:, 1] = 0.001  # IBOV constant: zero variance
    with pytest.raises(RiskInputError, match="singular covariance.*IBOV"):
        compute_var(_long(x, NAMES), pd.Series({"DI1_2Y": 1.0, "IBOV": 0.1, "USDBRL": 0.0}), D)
    cov = np.array([[1.0, 1.0], [1.0, 1.0]]) * 1e-4  # rank 1; the book w = (1, -1) has zero variance
    with pytest.raises(RiskInputError, match="singular covariance"):
        euler_decomposition(np.array([1.0, -1.0]), cov, 0.95)
    with pytest.raises(RiskInputError, match="singular"):
        monte_carlo_var(np.array([1.0, -1.0]), cov, np.array([1e3, 1e3]), np.array([0.01, 0.01]), [0.95], 100,
                        np.random.default_rng(0))


def test_held_instrument_without_returns_is_refused() -> None:
    ret = _long(_normal_returns(300), NAMES)
    with pytest.raises(RiskInputError, match="SPX"):
        compute_var(ret, pd.Series({"DI1_2Y": 1.0, "SPX": 0.5}), D)


def test_t_fit_mle_option_runs() -> None:
    x = np.random.default_rng(2).standard_t(5, size=(1000, 1)) * 0.01
    dfs, scales = fit_t_marginals(x, "mle")
    ref = stats.t.fit(x[:, 0], floc=0.0)
    assert dfs[0] == pytest.approx(ref[0]) and scales[0] == pytest.approx(ref[2])


def test_var_window_of_two_sessions_is_the_smallest_computed() -> None:
    """Kills ``risk/var.py``: the smallest usable window (``n < 2`` -> ``n <= 2``). Two sessions of one instrument
    with returns +1 % and -1 %: sample standard deviation 0.01 x sqrt(2) (ddof 1), parametric VaR 95 % of a
    weight of 0.5 = 1.6449 x 0.5 x that; one session is refused."""
    ret = _long(np.array([[0.01], [-0.01]]), ["IBOV"])
    est, _ = compute_var(ret, pd.Series({"IBOV": 0.5}), D, {"window": 2, "min_obs": 2})
    par = {e.confidence: e for e in est if e.method == "parametric"}
    assert par[0.95].var == pytest.approx(1.6448536269514722 * 0.5 * 0.01 * np.sqrt(2), rel=1e-9)
    assert par[0.95].n_obs == 2
    with pytest.raises(RiskInputError, match="window has 1 complete session"):
        compute_var(ret, pd.Series({"IBOV": 0.5}), D, {"window": 1, "min_obs": 1})


@pytest.mark.parametrize("confidence", [0.0, 1.0, -0.5, 1.5])
def test_empirical_var_refuses_a_confidence_outside_the_open_interval(confidence: float) -> None:
    """Kills ``risk/var.py``: a confidence of 0 or 1 let through (``<`` -> ``<=``); a 100 % VaR has no tail."""
    with pytest.raises(RiskInputError, match="is not in \\(0, 1\\)"):
        empirical_var_cvar(np.array([-0.02, 0.01, 0.005]), confidence)
