"""Pure functions kept per process (issue 16, seventh round): a kept result is the result computed
afresh, handed out as a copy, under a key that tells every input bit apart."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import brmacro.agents.inflation as inf
from brmacro.kept import series_key


def _monthly(seed: int, n: int, start: str = "2019-01-01") -> pd.Series:
    rng = np.random.default_rng(seed)
    idx = pd.date_range(start, periods=n, freq="MS")
    return pd.Series(rng.normal(0.004, 0.003, n), index=idx.to_period("M").to_timestamp(how="start"))


@pytest.mark.parametrize("case", ["plain", "gaps", "nan_focus", "empty_focus", "short_ipca", "unsorted"])
def test_monthly_consensus_kept_is_computed_afresh(case: str) -> None:
    inf._KEPT.clear()
    ipca, focus = _monthly(1, 74), _monthly(2, 70, "2019-03-01") + 0.03
    if case == "gaps":
        ipca = ipca.drop(ipca.index[[5, 30]])
    elif case == "nan_focus":
        focus.iloc[[3, 40]] = np.nan
    elif case == "empty_focus":
        focus = focus.iloc[:0]
    elif case == "short_ipca":
        ipca = ipca.iloc[:3]
    elif case == "unsorted":
        ipca = ipca.sample(frac=1.0, random_state=0)
    want = inf._monthly_consensus(ipca, focus)
    first = inf.monthly_consensus(ipca, focus)
    assert len(inf._KEPT) == 1
    pd.testing.assert_series_equal(first, want, check_exact=True, check_index_type=True)
    first.iloc[:] = 99.0  # the caller's copy: the kept frame does not change
    again = inf.monthly_consensus(ipca.copy(), focus.copy())
    assert len(inf._KEPT) == 1
    pd.testing.assert_series_equal(again, want, check_exact=True, check_index_type=True)
    assert again.to_numpy().tobytes() == want.to_numpy().tobytes()


def test_monthly_consensus_new_release_misses_and_unkeyed_inputs_compute() -> None:
    inf._KEPT.clear()
    ipca, focus = _monthly(3, 60), _monthly(4, 60) + 0.03
    inf.monthly_consensus(ipca, focus)
    nxt = pd.concat([focus, pd.Series([0.05], index=[focus.index[-1] + pd.offsets.MonthBegin(1)])])
    pd.testing.assert_series_equal(inf.monthly_consensus(ipca, nxt), inf._monthly_consensus(ipca, nxt),
                                   check_exact=True)
    assert len(inf._KEPT) == 2
    obj = ipca.copy()
    obj.index = obj.index.astype(object)  # Timestamps as objects: no exact bytes, computed every time
    pd.testing.assert_series_equal(inf.monthly_consensus(obj, focus), inf._monthly_consensus(obj, focus),
                                   check_exact=True)
    assert len(inf._KEPT) == 2


def test_series_key_tells_bits_and_index_apart() -> None:
    s = pd.Series([0.0, 1.0], index=pd.to_datetime(["2025-01-01", "2025-02-01"]))
    keys = {series_key(s)}
    neg = s.copy()
    neg.iloc[0] = -0.0
    keys.add(series_key(neg))
    other_nan = s.copy()
    other_nan.iloc[0] = np.nan
    keys.add(series_key(other_nan))
    bits = s.to_numpy().copy()
    bits.view(np.uint64)[0] = 0x7FF8000000000001  # a NaN of another payload than other_nan's
    keys.add(series_key(pd.Series(bits, index=s.index)))
    keys.add(series_key(s.rename("x")))
    keys.add(series_key(s.rename_axis("d")))
    keys.add(series_key(pd.Series(s.to_numpy(), index=s.index.as_unit("s"))))
    keys.add(series_key(pd.Series(s.to_numpy(), index=pd.DatetimeIndex(s.index, freq="MS"))))
    assert len(keys) == 8 and None not in keys
    assert series_key(s.astype("float32")) is None
    assert series_key(pd.Series(s.to_numpy(), index=s.index.tz_localize("UTC"))) is None
    assert series_key(pd.Series([1.0], index=[0])) is None
    assert series_key(pd.Series([1.0], index=pd.DatetimeIndex(["2025-01-01"], name=("a", "b")))) is None


@pytest.mark.parametrize("method", ["moments", "mle"])
def test_t_marginals_kept_are_the_fit_afresh(method: str) -> None:
    """fit_t_marginals kept per process (issue 16, seventh round): the fit of the window as computed, fresh arrays
    each time, another window, layout-independent key, argument or method computed afresh."""
    import brmacro.risk.var as var

    var._KEPT.clear()
    rng = np.random.default_rng(7)
    x = rng.standard_t(5, size=(300, 4)) * 0.01
    x[:, 3] = rng.normal(0.0, 0.01, 300)  # close to normal: max_df
    want = var._fit_t_marginals(x, method, 2.5, 1000.0)
    for arr in (x, np.asfortranarray(x), pd.DataFrame(x).to_numpy()):
        got = var.fit_t_marginals(arr, method)
        assert got[0].tobytes() == want[0].tobytes() and got[1].tobytes() == want[1].tobytes()
        got[0][:] = 0.0  # the caller's arrays: the kept fit does not change
    assert len(var._KEPT) == 1
    y = x.copy()
    y[0, 0] = -y[0, 0]
    assert var.fit_t_marginals(y, method)[0].tobytes() == var._fit_t_marginals(y, method, 2.5, 1000.0)[0].tobytes()
    assert var.fit_t_marginals(x, method, 3.0)[0].tobytes() == var._fit_t_marginals(x, method, 3.0, 1000.0)[0].tobytes()
    assert len(var._KEPT) == 3
    with pytest.raises(var.RiskInputError, match="t_fit"):
        var.fit_t_marginals(x, "other")  # type: ignore[arg-type]
    assert len(var._KEPT) == 3
