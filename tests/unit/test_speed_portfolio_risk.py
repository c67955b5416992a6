"""Issue 16 (eighth round): the faster paths of the portfolio and risk steps give the old code's exact numbers."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from scipy import stats

from brmacro.risk import var as V


def _old_mc_scenarios(s: np.ndarray, dfs: np.ndarray, scales: np.ndarray, draws: int, rng: np.random.Generator,
                      max_df: float) -> np.ndarray:
    """The scenarios before the eighth round: every column transformed."""
    d = np.sqrt(np.diag(s))
    corr = s / np.outer(d, d)
    chol = np.linalg.cholesky(corr)
    z = rng.standard_normal((int(draws), s.shape[0])) @ chol.T
    x = np.empty_like(z)
    normal = dfs >= max_df
    if normal.any():
        x[:, normal] = z[:, normal] * scales[normal]
    if (~normal).any():
        u = np.clip(stats.norm.cdf(z[:, ~normal]), 1e-12, 1.0 - 1e-12)
        x[:, ~normal] = stats.t.ppf(u, dfs[~normal]) * scales[~normal]
    return x


def _old_seeded(w: np.ndarray, cov: np.ndarray, dfs: np.ndarray, scales: np.ndarray, confs: Sequence[float],
                draws: int, seed: Sequence[int], max_df: float = 1_000.0) -> dict[float, tuple[float, float]]:
    pnl = _old_mc_scenarios(cov, dfs, scales, draws, np.random.default_rng(list(seed)), max_df) @ w
    return {c: V.empirical_var_cvar(pnl, c) for c in confs}


def _same(a: dict[float, tuple[float, float]], b: dict[float, tuple[float, float]]) -> bool:
    """The same confidences and the same floats, bit for bit (a signed zero included)."""
    return list(a) == list(b) and all(np.array(a[c]).tobytes() == np.array(b[c]).tobytes() for c in a)


def _cov(p: int, seed: int) -> np.ndarray:
    a = np.random.default_rng(seed).normal(size=(3 * p, p)) * 0.01
    out: np.ndarray = a.T @ a / (3 * p) + np.eye(p) * 1e-5
    return out


@pytest.mark.parametrize("seed", range(6))
def test_seeded_monte_carlo_skipping_zero_weight_columns_gives_the_old_floats(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    p = 8
    cov = _cov(p, seed)
    dfs = rng.uniform(2.5, 30.0, p)
    dfs[rng.integers(p)] = 1_000.0  # a normal column
    scales = np.sqrt(np.diag(cov)) * 0.9
    confs = [0.95, 0.99]
    V._MC_SCENARIOS.clear()
    books = [np.where(rng.random(p) < 0.5, 0.0, rng.normal(size=p)) for _ in range(4)]
    books += [np.zeros(p), np.ones(p), -books[0], books[1] * 0.5, np.where(books[2] != 0, -0.0, 1.0)]
    for w in books:  # narrower and wider sets of held columns on one kept scenario set
        assert _same(V.monte_carlo_var_seeded(w, cov, dfs, scales, confs, 3_000, [7, 739_000 + seed]),
                     _old_seeded(w, cov, dfs, scales, confs, 3_000, [7, 739_000 + seed]))
    assert len(V._MC_SCENARIOS) == 1


def test_seeded_monte_carlo_edge_cases_match_the_old_code() -> None:
    cov = _cov(4, 9)
    scales = np.sqrt(np.diag(cov))
    confs = [0.9, 0.95, 0.99]
    cases = [
        (np.array([1.0, 0.0, 0.0, 0.0]), np.array([5.0, 5.0, 5.0, 5.0]), 2_000),  # one held column
        (np.array([0.0, 0.0, 2.0, -1.0]), np.array([1_000.0, 3.0, 1_000.0, 1.0]), 2_000),  # normal columns, df 1
        (np.array([0.5, 0.0, 0.0, 0.0]), np.array([0.5, 3.0, 4.0, 5.0]), 2_000),  # df < 1: no skipping
        (np.array([0.5, 0.0, 1.0, 0.0]), np.array([3.0, np.inf, 4.0, 5.0]), 2_000),  # inf df: no skipping
        (np.array([0.5, 0.0, 1.0, 0.0]), np.array([3.0, 4.0, 4.0, 5.0]), 1),  # a single draw
    ]
    for w, dfs, draws in cases:
        V._MC_SCENARIOS.clear()
        assert _same(V.monte_carlo_var_seeded(w, cov, dfs, scales, confs, draws, [3, 5]),
                     _old_seeded(w, cov, dfs, scales, confs, draws, [3, 5]))
    # a NaN df in a zero-weight column: the old code's NaN P&L raises, so does the new one
    V._MC_SCENARIOS.clear()
    with pytest.raises(V.RiskInputError):
        V.monte_carlo_var_seeded(np.array([1.0, 0.0, 0.0, 0.0]), cov, np.array([3.0, np.nan, 4.0, 5.0]), scales,
                                 confs, 500, [3, 5])
    with pytest.raises(V.RiskInputError):
        _old_seeded(np.array([1.0, 0.0, 0.0, 0.0]), cov, np.array([3.0, np.nan, 4.0, 5.0]), scales, confs, 500, [3, 5])


def test_a_zero_portfolio_return_takes_every_column() -> None:
    """Rows whose P&L is exactly zero (a held column of zero scale) fall back to the whole scenario set, so the sign
    of each zero is the old one."""
    cov = _cov(3, 4)
    dfs = np.array([4.0, 6.0, 1_000.0])
    scales = np.array([0.0, 0.01, 0.02])  # the held column's scenarios are all +-0
    w = np.array([1.0, 0.0, 0.0])
    confs = [0.95, 0.99]
    V._MC_SCENARIOS.clear()
    got = V.monte_carlo_var_seeded(w, cov, dfs, scales, confs, 1_000, [1, 2])
    assert _same(got, _old_seeded(w, cov, dfs, scales, confs, 1_000, [1, 2]))


def test_partial_scenarios_are_the_full_ones_column_by_column() -> None:
    cov = _cov(5, 2)
    dfs = np.array([3.0, 1_000.0, 7.0, 12.0, 1_000.0])
    scales = np.sqrt(np.diag(cov))
    full = V._mc_scenarios(cov, dfs, scales, 2_000, np.random.default_rng([1, 2]), 1_000.0)
    assert full.tobytes() == _old_mc_scenarios(cov, dfs, scales, 2_000, np.random.default_rng([1, 2]),
                                               1_000.0).tobytes()
    cols = np.array([True, False, True, False, True])
    part = V._mc_scenarios(cov, dfs, scales, 2_000, np.random.default_rng([1, 2]), 1_000.0, cols)
    assert part[:, cols].tobytes() == full[:, cols].tobytes()
    assert np.isnan(part[:, ~cols]).all()
