"""Issue 16, eighth round: the silver and report cuts against the code they replace (kept here as references)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

import brmacro.silver.macro as m
from tests.unit.test_silver_macro import PARAMS, D, make_focus, make_fred, make_sgs


# ----------------------------------------------------------------------------------------------- silver_macro raw rows
def _old_raw_rows_at(s: m.Series, raw: pd.DataFrame, at: np.ndarray, max_dec: float, max_day: float) -> pd.DataFrame:
    """``silver.macro._raw_rows_at`` before the eighth round: the rows through ``raw.iloc[at]``."""
    return m._raw_rows(s, raw.iloc[at], max_dec, max_day)


def _raw(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = [dt.date(2020, 1, 1) + dt.timedelta(days=int(x)) for x in rng.integers(0, 2000, n)]
    rel = [d + dt.timedelta(days=int(x)) for d, x in zip(days, rng.integers(0, 40, n), strict=True)]
    value = rng.normal(0.0, 0.01, n)
    if n > 3:
        value[1] = np.nan
        value[2] = -0.0
        value[3] = np.float64(np.frombuffer(np.uint64(0x7FF8000000000123).tobytes(), dtype=np.float64)[0])
    return pd.DataFrame({"series_id": rng.choice(["a", "b"], n), "observation_date": days, "value": value,
                         "release_date": rel})


def _columns(raw: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cols = m._raw_arrays(raw)
    assert cols is not None
    return raw["observation_date"].to_numpy(), cols[1], raw["release_date"].to_numpy()


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert a["value"].to_numpy().tobytes() == b["value"].to_numpy().tobytes()  # NaN payloads and -0.0 too
    for c in ("observation_date", "release_date"):
        assert [type(x) for x in a[c]] == [type(x) for x in b[c]]


@pytest.mark.parametrize("unit", ["dec", "dec_day", "index", "brl_mn"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_raw_rows_from_the_columns_are_the_rows_of_iloc(unit: str, seed: int) -> None:
    raw = _raw(60, seed)
    cols = _columns(raw)
    s = m.Series("x", "bcb_sgs", "1", unit, 1.0, "M", 0)
    rng = np.random.default_rng(seed)
    for at in (np.arange(60), rng.permutation(60)[:25], np.array([5, 5, 0, 59]), np.array([], dtype=np.int64),
               np.array([1, 2, 3])):
        _same(m._raw_rows_at(s, raw, at, 0.5, 0.1, cols), _old_raw_rows_at(s, raw, at, 0.5, 0.1))
        _same(m._raw_rows_at(s, raw, at, 0.5, 0.1), _old_raw_rows_at(s, raw, at, 0.5, 0.1))


@pytest.mark.parametrize("unit", ["dec", "dec_day"])
def test_raw_rows_unit_error_is_the_same(unit: str) -> None:
    raw = _raw(30, 4)
    raw.loc[[7, 12], "value"] = [7.5, -9.0]  # percents in a decimal series: the first bad row is named
    cols = _columns(raw)
    s = m.Series("x", "bcb_sgs", "1", unit, 1.0, "M", 0)
    at = np.array([3, 12, 7, 20])
    with pytest.raises(m.MacroUnitError) as old:
        _old_raw_rows_at(s, raw, at, 0.5, 0.01)
    with pytest.raises(m.MacroUnitError) as new:
        m._raw_rows_at(s, raw, at, 0.5, 0.01, cols)
    assert str(new.value) == str(old.value)
    assert "-9.0" in str(new.value)
    _same(m._raw_rows_at(m.Series("x", "bcb_sgs", "1", "brl_mn", 1.0, "M", 0), raw, at, 0.5, 0.01, cols),
          _old_raw_rows_at(m.Series("x", "bcb_sgs", "1", "brl_mn", 1.0, "M", 0), raw, at, 0.5, 0.01))


def test_build_macro_with_the_columns_is_build_macro_through_iloc(monkeypatch: pytest.MonkeyPatch) -> None:
    """NaN and -0.0 values, rows shuffled: the table is the one the rows through ``raw.iloc`` give; an object
    value column takes ``raw.iloc`` (no columns handed over)."""
    rng = np.random.default_rng(5)
    sgs = make_sgs()
    sgs.loc[rng.choice(len(sgs), 15, replace=False), "value"] = np.nan
    sgs.loc[rng.choice(len(sgs), 15, replace=False), "value"] = -0.0
    sgs = sgs.iloc[rng.permutation(len(sgs))].reset_index(drop=True)
    fred, focus = make_fred(), make_focus()
    m._KEPT.clear()
    fast = m.build_macro(sgs, fred, focus, D, PARAMS)["part"]
    m._KEPT.clear()
    seen: list[object] = []
    real = m._raw_rows_at

    def old(s, raw, at, max_dec, max_day, columns=None):  # type: ignore[no-untyped-def]
        seen.append(columns)
        return _old_raw_rows_at(s, raw, at, max_dec, max_day)

    monkeypatch.setattr(m, "_raw_rows_at", old)
    plain = m.build_macro(sgs, fred, focus, D, PARAMS)["part"]
    assert seen and all(c is not None for c in seen)
    _same(fast, plain)
    seen.clear()
    m._KEPT.clear()
    monkeypatch.setattr(m, "_raw_rows_at", lambda *a: (seen.append(a[5] if len(a) > 5 else None), real(*a))[1])
    objs = sgs.assign(value=sgs["value"].astype(object))  # not a float64 column: through raw.iloc as before
    _same(m.build_macro(objs, fred, focus, D, PARAMS)["part"], plain)
    assert seen == [None] * len(seen)
    m._KEPT.clear()
