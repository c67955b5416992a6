"""The project's one covariance estimator: properties, agreement with scikit-learn, and who uses it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.covariance import LedoitWolf

from brmacro.covariance import CovarianceError, annual_vols, ewma_variances, returns_matrix, shrunk_covariance
from brmacro.risk._common import RiskInputError

ROOT = Path(__file__).resolve().parents[2]


def _returns(n: int = 300, seed: int = 4) -> np.ndarray:
    """Daily returns with very different scales (DI1-like 0.04 %, FX 0.9 %, equity 1.4 %) and correlation."""
    rng = np.random.default_rng(seed)
    corr = np.array([[1.0, 0.6, -0.3], [0.6, 1.0, -0.4], [-0.3, -0.4, 1.0]])
    vols = np.array([0.0004, 0.009, 0.014])
    z = rng.standard_normal((n, 3)) @ np.linalg.cholesky(corr).T
    return z * vols


def test_variances_are_the_sample_variances() -> None:
    x = _returns()
    cov, shrink = shrunk_covariance(x)
    np.testing.assert_allclose(np.diag(cov), x.var(axis=0, ddof=1), rtol=1e-12)
    np.testing.assert_allclose(annual_vols(cov), x.std(axis=0, ddof=1) * np.sqrt(252), rtol=1e-12)
    assert 0.0 < shrink < 1.0


def test_ewma_variances_closed_form_and_equal_weight_limit() -> None:
    # three sessions, half-life 1: weights 1/4, 1/2, 1 -> 1/7, 2/7, 4/7 (oldest first)
    x = np.array([[1.0], [3.0], [2.0]])
    # weighted mean 15/7; deviations -8/7, 6/7, -1/7; sum w d^2 = 140/343; 1 - sum w^2 = 28/49 -> 5/7
    assert ewma_variances(x, 1.0)[0] == pytest.approx(5 / 7, rel=1e-14)
    y = _returns()
    np.testing.assert_allclose(ewma_variances(y, 1e12), y.var(axis=0, ddof=1), rtol=1e-9)
    # the recent sessions dominate: a calm history then a burst gives a larger EWMA variance than the sample one
    z = np.concatenate([y[:, :1] * 0.2, y[-20:, :1] * 5])
    assert ewma_variances(z, 11.2)[0] > 3 * z.var(ddof=1)
    with pytest.raises(CovarianceError, match="vol_halflife"):
        ewma_variances(y, 0.0)


def test_vol_halflife_rescales_the_variances_and_keeps_the_correlation() -> None:
    x = _returns()
    base, s0 = shrunk_covariance(x)
    cov, s1 = shrunk_covariance(x, vol_halflife=11.2)
    np.testing.assert_allclose(np.diag(cov), ewma_variances(x, 11.2), rtol=1e-12)
    d0, d1 = np.sqrt(np.diag(base)), np.sqrt(np.diag(cov))
    np.testing.assert_allclose(cov / np.outer(d1, d1), base / np.outer(d0, d0), rtol=1e-12)
    assert s1 == s0
    np.linalg.cholesky(cov)


def test_symmetric_positive_definite_even_with_fewer_sessions_than_instruments() -> None:
    x = np.random.default_rng(2).standard_normal((5, 8)) * 0.01  # sample covariance of rank 4
    cov, _ = shrunk_covariance(x)
    np.testing.assert_array_equal(cov, cov.T)
    assert np.linalg.eigvalsh(cov).min() > 0
    np.linalg.cholesky(cov)


def test_agrees_with_scikit_learn_ledoit_wolf_on_standardised_returns() -> None:
    x = _returns()
    cov, shrink = shrunk_covariance(x)
    sd = x.std(axis=0, ddof=1)
    lw = LedoitWolf().fit((x - x.mean(axis=0)) / sd)
    d = np.sqrt(np.diag(lw.covariance_))
    np.testing.assert_allclose(cov / np.outer(sd, sd), lw.covariance_ / np.outer(d, d), rtol=1e-10, atol=1e-14)
    assert shrink == pytest.approx(lw.shrinkage_)


def test_raw_ledoit_wolf_would_inflate_the_small_variance() -> None:
    """Why the correlation is shrunk: Ledoit-Wolf on raw returns pulls the DI1-like variance toward the average."""
    x = _returns()
    raw = LedoitWolf().fit(x).covariance_
    ours, _ = shrunk_covariance(x)
    assert raw[0, 0] > 2 * x[:, 0].var(ddof=1)  # the raw estimator more than doubles it
    assert ours[0, 0] == pytest.approx(x[:, 0].var(ddof=1))


def test_refusals_name_the_column() -> None:
    x = _returns(50)
    x[:, 1] = 0.001
    with pytest.raises(CovarianceError, match=r"singular covariance.*USDBRL"):
        shrunk_covariance(x, ["DI1_1Y", "USDBRL", "IBOV"])
    with pytest.raises(CovarianceError, match="at least 2"):
        shrunk_covariance(x[:1])
    y = _returns(50)
    y[3, 2] = np.nan
    with pytest.raises(CovarianceError, match="NaN"):
        shrunk_covariance(y)
    assert RiskInputError is CovarianceError  # one error class for the risk layer and the covariance


def test_returns_matrix_pivots_point_in_time_and_refuses_repeats() -> None:
    d0 = dt.date(2024, 1, 2)
    rows = [{"date": d0 + dt.timedelta(days=k), "instrument": i, "ret": 0.001 * k}
            for k in range(5) for i in ("B", "A")]
    mat = returns_matrix(pd.DataFrame(rows), d0 + dt.timedelta(days=3))
    assert list(mat.columns) == ["A", "B"] and len(mat) == 4 and mat.index[-1] == d0 + dt.timedelta(days=3)
    with pytest.raises(CovarianceError, match="repeats"):
        returns_matrix(pd.DataFrame(rows + rows[:1]))
    with pytest.raises(CovarianceError, match="lacks columns"):
        returns_matrix(pd.DataFrame(rows).drop(columns="ret"))


def test_one_estimator_in_the_code() -> None:
    """No second covariance estimator or returns matrix creeps back into the library."""
    src = ROOT / "src" / "brmacro"
    users = [p.relative_to(src).as_posix() for p in src.rglob("*.py") if "LedoitWolf" in p.read_text()]
    assert users == ["covariance.py"]
    defs = [p.relative_to(src).as_posix() for p in src.rglob("*.py")
            if "def returns_matrix(" in p.read_text() or "def shrunk_covariance(" in p.read_text()]
    assert defs == ["covariance.py"]
