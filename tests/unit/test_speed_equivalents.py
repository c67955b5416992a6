"""The speed paths of issue 16 give exactly what the plain pandas formulas they replace give."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from brmacro.io import date_objects
from brmacro.report.alerts import _latest_date
from brmacro.report.rates import _curve_histories, _curve_history, _session_contracts

D = [dt.date(2025, 3, 14), dt.date(2024, 1, 2), dt.date(2025, 3, 13)]


def _plain_dates(col: pd.Series) -> pd.Series:
    out: pd.Series = pd.to_datetime(col).dt.date
    return out


@pytest.mark.parametrize("values", [
    D,
    [d.isoformat() for d in D],
    [pd.Timestamp(d) for d in D],
    [D[0], None, D[1]],
    [dt.datetime(2025, 3, 14, 0, 0), D[1], D[2]],
    [],
])
def test_date_objects_is_to_datetime_dt_date(values: list[object]) -> None:
    col = pd.Series(values, dtype=object, index=range(10, 10 + len(values)), name="date")
    got, want = date_objects(col), _plain_dates(col)
    pd.testing.assert_series_equal(got, want)
    assert [type(x) for x in got] == [type(x) for x in want]


def test_date_objects_of_datetime64_and_copy() -> None:
    col = pd.Series(pd.to_datetime([d.isoformat() for d in D]), name="d")
    pd.testing.assert_series_equal(date_objects(col), _plain_dates(col))
    objs = pd.Series(D, dtype=object)
    out = date_objects(objs)
    out.iloc[0] = dt.date(2000, 1, 1)
    assert objs.iloc[0] == D[0]  # a copy, never the caller's column


@pytest.mark.parametrize("values", [D, [d.isoformat() for d in D], [pd.Timestamp(d) for d in D]])
def test_latest_date_is_the_max_of_the_dates(values: list[object]) -> None:
    col = pd.Series(values, dtype=object)
    got = _latest_date(col)
    want = max(pd.to_datetime(col).dt.date)
    assert got == want and type(got) is type(want)


def test_latest_date_with_a_missing_date_fails_as_before() -> None:
    col = pd.Series([D[0], None, D[1]], dtype=object)
    with pytest.raises(TypeError):
        max(pd.to_datetime(col).dt.date)
    with pytest.raises(TypeError):
        _latest_date(col)


def test_curve_histories_split_like_the_filter() -> None:
    rng = np.random.default_rng(0)
    n = 60
    curves = pd.DataFrame({
        "date": [dt.date(2025, 1, 1) + dt.timedelta(days=int(i)) for i in rng.integers(0, 20, n)],
        "curve": rng.choice(["DI_PRE", "BR_REAL", "BR_BEI"], n),
        "tenor_label": rng.choice(["21du", "252du", "504du"], n),
        "rate": rng.normal(0.1, 0.01, n),
    })
    hist = _curve_histories(curves)
    for (c, lab), s in hist.items():
        pd.testing.assert_series_equal(s, _curve_history(curves, c, lab))
    assert len(hist) == len(curves.groupby(["curve", "tenor_label"]))


def test_session_contracts_is_the_whole_table_filter() -> None:
    b3 = pd.DataFrame({
        "trade_date": [D[0], D[2], D[0], D[0], D[1], D[0]],
        "commodity": ["DI1", "DI1", "DAP", "DI1", "DI1", "DI1"],
        "ticker": ["DI1F27", "DI1F27", "DAPK27", "DI1F26", "DI1F26", "DI1N25"],
        "du": [450, 451, 500, 200, 300, 0],
        "settlement_rate": [0.14, 0.141, 0.07, 0.145, 0.12, 0.15],
    })

    def plain(b: pd.DataFrame, session: dt.date, commodity: str) -> pd.DataFrame:
        b = b.assign(trade_date=pd.to_datetime(b["trade_date"]).dt.date)
        return b.loc[(b["commodity"] == commodity) & (b["trade_date"] == session) & (b["du"] > 0)] \
            .sort_values(["du", "ticker"], kind="mergesort").reset_index(drop=True)

    for session in (D[0], D[1], dt.date(2020, 1, 1)):
        for com in ("DI1", "DAP"):
            pd.testing.assert_frame_equal(_session_contracts(b3, session, com), plain(b3, session, com))


def test_silver_data_rows_are_the_whole_table_filters() -> None:
    from brmacro.agents.data import SilverData

    rng = np.random.default_rng(1)
    n = 80
    days = [dt.date(2025, 1, 1) + dt.timedelta(days=int(i)) for i in rng.integers(0, 30, n)]
    macro = pd.DataFrame({"series": rng.choice(["a", "b", "c"], n), "observation_date": days,
                          "value": rng.normal(size=n), "release_date": days})
    curves = pd.DataFrame({"date": days, "curve": rng.choice(["DI_PRE", "BR_REAL"], n),
                           "tenor_label": rng.choice(["21du", "252du"], n), "tenor_du": 21, "tenor_years": 0.1,
                           "rate": rng.normal(0.1, 0.01, n)})
    rets = pd.DataFrame({"date": days, "instrument": rng.choice(["IBOV", "USDBRL"], n), "level": 1.0,
                         "ret": rng.normal(size=n)})
    prices = pd.DataFrame({"date": days, "series": rng.choice(["yahoo:^VIX", "ptax:USDBRL"], n),
                           "value": rng.normal(size=n)})
    slopes = pd.DataFrame({"date": days, "name": "DI_1s2s", "value": rng.normal(size=n)})
    sd = SilverData(dt.date(2025, 1, 20), macro, curves, slopes, rets, prices)
    m, c = sd.macro_df, sd.curves_df
    for name in ("a", "b", "c", "zz"):
        pd.testing.assert_frame_equal(sd._rows("macro_df", ("series",), name), m.loc[m["series"] == name])
        assert sd.has_macro(name) == bool((m["series"] == name).any())
    for key in (("DI_PRE", "21du"), ("BR_REAL", "252du"), ("DI_PRE", "none")):
        pd.testing.assert_frame_equal(sd._rows("curves_df", ("curve", "tenor_label"), key),
                                      c.loc[(c["curve"] == key[0]) & (c["tenor_label"] == key[1])])
    sd.macro_df = m.loc[m["series"] != "a"]  # a frame replaced is split again
    assert sd._rows("macro_df", ("series",), "a").empty
    pd.testing.assert_frame_equal(sd._rows("macro_df", ("series",), "b"), m.loc[m["series"] == "b"])


def _regular_plain(df: pd.DataFrame, freq: str) -> pd.DataFrame:
    """silver_macro's ``_regular`` as it was written before issue 16 (index, dedupe, sort, reindex)."""
    per = pd.PeriodIndex(pd.to_datetime(df["observation_date"]), freq=freq)
    out = pd.DataFrame({"value": df["value"].to_numpy(dtype=float),
                        "release": pd.to_datetime(df["release_date"]).to_numpy()}, index=per)
    out = out[~out.index.duplicated(keep="last")].sort_index()
    full = pd.period_range(out.index.min(), out.index.max(), freq=freq)
    return out.reindex(full)


@pytest.mark.parametrize("freq", ["M", "Q", "D"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_regular_is_the_indexed_reindex(freq: str, seed: int) -> None:
    from brmacro.silver.macro import _regular

    rng = np.random.default_rng(seed)
    n = 40
    start = dt.date(2020, 1, 1)
    step = {"M": 31, "Q": 92, "D": 1}[freq]
    obs = sorted(start + dt.timedelta(days=int(i) * step + int(rng.integers(0, 3))) for i in rng.integers(0, 30, n))
    df = pd.DataFrame({"observation_date": obs, "value": rng.normal(size=n),
                       "release_date": [o + dt.timedelta(days=int(rng.integers(1, 60))) for o in obs]})
    df.loc[3, "value"] = np.nan
    pd.testing.assert_frame_equal(_regular(df, freq), _regular_plain(df, freq))
    one = df.iloc[:1]
    pd.testing.assert_frame_equal(_regular(one, freq), _regular_plain(one, freq))


@pytest.mark.parametrize("values", [
    D + [None],
    [d.isoformat() for d in D],
    [pd.Timestamp(2025, 3, 14, 23, 59), pd.Timestamp(2025, 3, 15), pd.Timestamp(2025, 3, 13, 12)],
    [],
])
def test_date_masks_are_the_object_comparisons(values: list[object]) -> None:
    from brmacro.io import dates_on, dates_on_or_before

    col = pd.Series(values, dtype=object, index=range(5, 5 + len(values)))
    day = dt.date(2025, 3, 14)
    as_dates = pd.to_datetime(col).dt.date
    pd.testing.assert_series_equal(dates_on_or_before(col, day), as_dates <= day, check_names=False)
    pd.testing.assert_series_equal(dates_on(col, day), as_dates == day, check_names=False)


def test_seeded_monte_carlo_reuses_scenarios_with_the_same_numbers() -> None:
    from brmacro.risk import var as V

    rng = np.random.default_rng(3)
    a = rng.normal(size=(6, 4))
    cov = a.T @ a / 6 + np.eye(4) * 0.1
    dfs = np.array([3.0, 5.0, 1_000.0, 8.0])
    scales = np.array([0.01, 0.02, 0.015, 0.03])
    confs = [0.95, 0.99]
    V._MC_SCENARIOS.clear()
    for w in (np.array([1.0, -0.5, 0.2, 0.0]), np.array([0.3, 0.3, -0.1, 0.4]), np.array([1.0, -0.5, 0.2, 0.0])):
        want = V.monte_carlo_var(w, cov, dfs, scales, confs, 2_000, np.random.default_rng([7, 739000]))
        got = V.monte_carlo_var_seeded(w, cov, dfs, scales, confs, 2_000, [7, 739000])
        assert got == want  # exactly the same floats, from the cache after the first call
    assert len(V._MC_SCENARIOS) == 1
    other = V.monte_carlo_var_seeded(np.ones(4), cov * 2.0, dfs, scales, confs, 2_000, [7, 739000])
    assert other == V.monte_carlo_var(np.ones(4), cov * 2.0, dfs, scales, confs, 2_000,
                                      np.random.default_rng([7, 739000]))
    for k in range(V._MC_SCENARIOS_KEPT + 2):  # bounded
        V.monte_carlo_var_seeded(np.ones(4), cov, dfs, scales, confs, 100, [k, 1])
    assert len(V._MC_SCENARIOS) == V._MC_SCENARIOS_KEPT


def test_one_blas_thread_limits_like_threadpool_limits_and_looks_again_after_an_import() -> None:
    import sys

    from threadpoolctl import threadpool_info

    from brmacro import pipeline

    before = [lib["num_threads"] for lib in threadpool_info()]
    with pipeline.one_blas_thread():
        assert all(lib["num_threads"] == 1 for lib in threadpool_info())
        first = pipeline._BLAS_CONTROLLER[0]
    assert [lib["num_threads"] for lib in threadpool_info()] == before  # restored on exit
    with pipeline.one_blas_thread():
        assert pipeline._BLAS_CONTROLLER[0] is first  # nothing imported since: the same lookup
    sys.modules["brmacro_test_fake_module"] = sys  # an import since the lookup
    try:
        with pipeline.one_blas_thread():
            assert pipeline._BLAS_CONTROLLER[0] is not first
    finally:
        del sys.modules["brmacro_test_fake_module"]


def test_policy_path_average_kept_per_process_is_the_computed_one() -> None:
    from brmacro.agents.monetary import _path_avg, expected_policy_path_avg

    t0 = pd.Timestamp(2025, 3, 14)
    for args in [(0.1325, 0.15, 0.1275, 5 * 365), (0.1325, 0.15, 0.1275, 2 * 365), (0.02, 0.0, -0.0, 365)]:
        want = _path_avg.__wrapped__(t0, *args, ())
        assert expected_policy_path_avg(t0, *args) == want
        assert expected_policy_path_avg(t0, *args) == want  # from the cache
    for zeros in [(0.0, 0.0, 0.0, 10), (-0.0, -0.0, -0.0, 10), (0.0, -0.0, 0.0, 0)]:  # signed zeros: keys of their own
        got, want = expected_policy_path_avg(t0, *zeros), _path_avg.__wrapped__(t0, *zeros, ())
        assert (got, math.copysign(1.0, got)) == (want, math.copysign(1.0, want))


@pytest.mark.parametrize("freq", ["D", "M", "Q", "W", "Y"])
def test_period_ordinals_are_the_period_index_ones(freq: str) -> None:
    from brmacro.silver.macro import _period_ordinals

    rng = np.random.default_rng(5)
    ns = rng.integers(-40 * 365 * 86_400, 60 * 365 * 86_400, 2_000) * 1_000_000_000  # 1930-2030, times of day
    dates = np.sort(ns.astype("datetime64[ns]"))
    want = np.asarray(pd.PeriodIndex(dates, freq=freq).astype("int64"))
    assert np.array_equal(_period_ordinals(dates, freq), want)
    with_nat = np.concatenate([dates[:3], np.array(["NaT"], dtype="datetime64[ns]")])
    want = np.asarray(pd.PeriodIndex(with_nat, freq=freq).astype("int64"))
    assert np.array_equal(_period_ordinals(with_nat, freq), want)
    aware = pd.to_datetime(dates[:5]).tz_localize("America/Sao_Paulo").to_numpy()  # objects: PeriodIndex's own way
    want = np.asarray(pd.PeriodIndex(aware, freq=freq).astype("int64"))
    assert np.array_equal(_period_ordinals(aware, freq), want)


def _plain_changes(series: pd.Series, session: dt.date, relative: bool) -> object:
    """The formula :func:`brmacro.report.rates.changes` had before its numpy path (issue 16, fifth round)."""
    from brmacro.report.rates import Changes

    s = series.dropna()
    s = s.loc[[d <= session for d in s.index]].sort_index()
    if s.empty:
        return Changes(None, None, None, None, None)
    d, v = s.index[-1], float(s.iloc[-1])

    def chg(base: float) -> float | None:
        if relative:
            return None if base == 0 else v / base - 1.0
        return v - base

    d1 = chg(float(s.iloc[-2])) if len(s) > 1 else None
    w1 = chg(float(s.iloc[-6])) if len(s) > 5 else None
    first = dt.date(d.year, d.month, 1)
    before = s.loc[[x < first for x in s.index]]
    mtd = chg(float(before.iloc[-1])) if len(before) else None
    return Changes(d, v, d1, w1, mtd)


def _same(a: object, b: object) -> bool:
    fa, fb = vars(a), vars(b)
    return fa.keys() == fb.keys() and all(
        (x is None and y is None) or (type(x) is type(y) and (x == y or (x != x and y != y)))
        for x, y in ((fa[k], fb[k]) for k in fa))


def _change_cases() -> list[pd.Series]:
    rng = np.random.default_rng(3)
    days = [dt.date(2025, 1, 20) + dt.timedelta(days=int(i)) for i in range(60)]
    vals = rng.normal(100.0, 5.0, 60)
    vals[[3, 17, 40]] = np.nan
    vals[5] = 0.0
    cases = [
        pd.Series(vals, index=pd.Index(days, dtype=object)),                        # sorted, NaN, a zero
        pd.Series(vals[::-1], index=pd.Index(days[::-1], dtype=object)),            # reversed
        pd.Series(vals, index=pd.Index([days[i] for i in rng.permutation(60)], dtype=object)),  # shuffled
        pd.Series(vals[:8], index=pd.Index([days[0]] * 3 + days[1:6], dtype=object)),  # duplicated dates, sorted
        pd.Series(vals[:6], index=pd.Index([days[2], days[0], days[2], days[1], days[0], days[3]], dtype=object)),
        pd.Series([np.nan, np.nan], index=pd.Index(days[:2], dtype=object)),       # all missing
        pd.Series(dtype=float, index=pd.Index([], dtype=object)),                   # empty
        pd.Series(vals[:1], index=pd.Index(days[:1], dtype=object)),                # one row
        pd.Series(vals, index=pd.DatetimeIndex(days)),                              # not objects: the Series path
        pd.Series(vals[:3], index=pd.Index([pd.Timestamp(d) for d in days[:3]], dtype=object)),  # Timestamps
        pd.Series(vals[:3], index=pd.Index([days[0], None, days[2]], dtype=object)),  # a missing date
    ]
    return cases


@pytest.mark.parametrize("relative", [False, True])
def test_changes_is_the_series_formula(relative: bool) -> None:
    from brmacro.report.rates import changes

    for i, s in enumerate(_change_cases()):
        for session in (dt.date(2025, 1, 19), dt.date(2025, 1, 22), dt.date(2025, 2, 3), dt.date(2025, 3, 1),
                        dt.date(2025, 3, 20), dt.date(2026, 1, 1)):
            try:
                want = _plain_changes(s, session, relative)
            except TypeError as exc:  # Timestamp against date: the same failure
                with pytest.raises(type(exc)):
                    changes(s, session, relative=relative)
                continue
            got = changes(s, session, relative=relative)
            assert _same(got, want), (i, session, got, want)


def test_cdi_annual_is_the_whole_table_filter() -> None:
    from brmacro.report.rates import _cdi_annual

    rng = np.random.default_rng(5)
    n = 80
    macro = pd.DataFrame({
        "series": rng.choice(["br_cdi_daily", "br_selic_target", "br_ipca_12m"], n),
        "observation_date": [dt.date(2025, 1, 1) + dt.timedelta(days=int(i)) for i in rng.permutation(n)],
        "value": rng.normal(0.0005, 0.0001, n),
        "release": [dt.date(2025, 6, 1)] * n,
    })

    def plain(m: pd.DataFrame, session: dt.date) -> tuple[float | None, float | None]:
        m = m.assign(observation_date=pd.to_datetime(m["observation_date"]).dt.date)
        out = []
        for name in ("br_cdi_daily", "br_selic_target"):
            s = m.loc[(m["series"] == name) & (m["observation_date"] <= session)].sort_values("observation_date")
            out.append(float(s["value"].iloc[-1]) if len(s) else None)
        cdi_day, target = out
        return (None if cdi_day is None else float((1.0 + cdi_day) ** 252 - 1.0)), target

    for session in (dt.date(2024, 12, 31), dt.date(2025, 1, 1), dt.date(2025, 2, 10), dt.date(2025, 6, 1)):
        assert _cdi_annual(macro, session) == plain(macro, session)
    assert _cdi_annual(macro.iloc[:0], dt.date(2025, 2, 10)) == (None, None)
    assert _cdi_annual(None, dt.date(2025, 2, 10)) == (None, None)


def _plain_reprice(name: str, rate: float, dy: float) -> float:
    """:func:`brmacro.risk.stress.reprice` as it was before :func:`repricer` (issue 16, fifth round)."""
    from brmacro.instruments import by_name, di1_pu
    from brmacro.portfolio.sizing import zn_price
    from brmacro.risk._common import RiskInputError

    ins = by_name(name)
    shocked = float(rate) + float(dy)
    if not np.isfinite(shocked) or shocked <= -1.0 or not np.isfinite(rate) or rate <= -1.0:
        raise RiskInputError(f"stress: {name} at {rate:.4%} shocked by {dy * 1e4:+.0f} bp has no price")
    if ins.kind == "di1":
        return float(di1_pu(shocked, ins.tenor_du) / di1_pu(rate, ins.tenor_du)) - 1.0
    if ins.kind == "ust":
        return zn_price(shocked) / zn_price(float(rate)) - 1.0
    raise RiskInputError(f"stress: yield shock on {name}, which is not a rates instrument")


def test_repricer_is_the_plain_reprice() -> None:
    from brmacro.instruments import INSTRUMENTS
    from brmacro.risk.stress import reprice, repricer

    rates = [0.1375, 0.0, -0.0, 0.0425, -0.5, -1.0, -1.5, float("nan"), float("inf"), np.float64(0.11)]
    shocks = [0.0, 0.02, -0.02, 1e-9, -0.9, -1.2, 3.0, float("nan"), float("-inf"), np.float64(-0.015)]
    names = [i.name for i in INSTRUMENTS]
    for name in names:
        for r in rates:
            f = repricer(name, r)
            for dy in shocks:
                try:
                    want: object = _plain_reprice(name, r, dy)
                except Exception as exc:  # the same exception type and message
                    want = (type(exc), str(exc))
                for fn in (lambda: f(dy), lambda: reprice(name, r, dy)):  # noqa: B023
                    try:
                        got: object = fn()
                    except Exception as exc:
                        got = (type(exc), str(exc))
                    if isinstance(want, float):
                        assert isinstance(got, float) and (got == want or (got != got and want != want)), \
                            (name, r, dy, got, want)
                        assert np.signbit(got) == np.signbit(want)
                    else:
                        assert got == want, (name, r, dy, got, want)
    with pytest.raises(KeyError):
        repricer("NOPE", 0.1)


@pytest.mark.parametrize("values", [
    ["2025-03-14", "1969-12-31 23:59:59", "1930-06-01 12:00", "2024-02-29 00:00:00.000001", "1677-09-22"],
    ["1678-01-01", "1678-01-01 00:00:00.000000001", "1677-12-31 23:59:59"],
    ["2025-03-14 23:59:59.999999999", "2262-04-11"],
    [],
    ["2025-03-14", None],  # NaT: the pandas path
])
def test_date_objects_of_datetime64_ns_is_dt_date(values: list[object]) -> None:
    col = pd.Series(pd.to_datetime(pd.Series(values, dtype=object), format="ISO8601").to_numpy(),
                    index=range(5, 5 + len(values)), name="d")
    assert col.dtype == np.dtype("datetime64[ns]")
    got, want = date_objects(col), _plain_dates(col)
    pd.testing.assert_series_equal(got, want)
    assert [type(x) for x in got] == [type(x) for x in want]
    for unit in ("s", "us"):  # other units keep the pandas path
        other = col.astype(f"datetime64[{unit}]")
        pd.testing.assert_series_equal(date_objects(other), _plain_dates(other))


@pytest.mark.parametrize("freq", ["D", "M", "Q", "W", "Y"])
def test_period_starts_is_to_timestamp_date(freq: str) -> None:
    from brmacro.silver.macro import _period_starts

    for start, n in (("1930-01-01", 40), ("1969-11-30", 7), ("2024-02-29", 30), ("2025-01-01", 0)):
        idx = pd.period_range(pd.Period(start, freq=freq), periods=n, freq=freq)
        got, want = _period_starts(idx), idx.to_timestamp(how="start").date
        assert got.dtype == want.dtype and list(got) == list(want)
        assert [type(x) for x in got] == [type(x) for x in want]
    nat = pd.PeriodIndex([pd.Period("2020-01", freq="M"), None], freq="M")
    assert list(_period_starts(nat)) == list(nat.to_timestamp(how="start").date)


@pytest.mark.parametrize("unit", ["s", "ms", "us"])
@pytest.mark.parametrize("values", [
    ["0001-01-01T00:00:00", "0001-01-02T13:00:00", "1500-06-01T23:59:59", "9999-12-30T23:59:59"],
    ["0001-01-02T00:00:00", "1969-12-31T23:59:59", "2025-03-14T12:00:00"],
    ["9999-12-31T10:00:00", "2025-03-14T00:00:00"],
    ["NaT", "2025-03-14T00:00:00"],
])
def test_date_objects_of_other_datetime64_units(unit: str, values: list[str]) -> None:
    col = pd.Series(np.array(values, dtype=f"datetime64[{unit}]"), index=range(3, 3 + len(values)), name="x")
    assert col.dtype == np.dtype(f"datetime64[{unit}]")
    try:
        want = _plain_dates(col)
    except Exception as exc:  # what pandas cannot convert fails the same way
        with pytest.raises(type(exc)):
            date_objects(col)
        return
    got = date_objects(col)
    pd.testing.assert_series_equal(got, want)
    assert [type(x) for x in got] == [type(x) for x in want]


def _level_plain(table: pd.DataFrame, day: dt.date, name: str) -> float:
    """portfolio.steps ``_level`` as it was before issue 16's sixth round (two whole-table comparisons a question)."""
    r = table[(table["instrument"] == name) & (pd.to_datetime(table["date"]).dt.date <= day)]
    if r.empty:
        raise KeyError(name)
    return float(r.sort_values("date")["level"].iloc[-1])


def test_level_from_one_split_is_the_whole_table_filter() -> None:
    from types import SimpleNamespace

    from brmacro.errors import InputMissing
    from brmacro.portfolio.steps import _level

    rng = np.random.default_rng(4)
    days = [dt.date(2025, 3, 3) + dt.timedelta(days=int(i)) for i in rng.integers(0, 20, 200)]  # unsorted, repeated
    table = pd.DataFrame({"date": days, "instrument": rng.choice(["A", "B", "C"], 200),
                          "level": rng.normal(size=200)}, index=rng.permutation(200) + 7)
    table.loc[table.index[5], "level"] = np.nan
    for day in (dt.date(2025, 3, 2), dt.date(2025, 3, 10), dt.date(2025, 3, 30)):
        ctx = SimpleNamespace(table=lambda *_a: table.copy(), date=day, asset="portfolio_sizing")
        cache: dict[str, object] = {}
        for name in ("A", "B", "C", "Z"):
            try:
                want: float | None = _level_plain(table, day, name)
            except KeyError:
                want = None
            if want is None:
                with pytest.raises(InputMissing, match=f"no level for {name}"):
                    _level(ctx, name, cache)  # type: ignore[arg-type]
            else:
                got = _level(ctx, name, cache)  # type: ignore[arg-type]
                assert got == want or (math.isnan(got) and math.isnan(want))


@pytest.mark.parametrize("values", [
    D,
    [D[0], None, D[1]],
    [dt.datetime(2025, 3, 14, 13, 5), D[1]],
    [pd.Timestamp("2025-03-14", tz="America/Sao_Paulo"), pd.Timestamp("2025-03-13 10:00", tz="America/Sao_Paulo")],
    [d.isoformat() for d in D],
    np.array(["2025-03-14", "2025-03-13T12:00"], dtype="datetime64[s]"),
    np.array(["2025-03-14", "1969-12-31"], dtype="datetime64[s]"),
    [],
])
def test_agents_dates_is_to_datetime_normalize(values: object) -> None:
    from brmacro.agents.data import _dates

    col = pd.Series(values, index=range(3, 3 + len(values)), name="d")  # type: ignore[arg-type]
    if not len(col):
        col = col.astype(object)
    pd.testing.assert_series_equal(_dates(col), pd.to_datetime(col).dt.normalize())


def _plain_returns_matrix(returns: pd.DataFrame, asof: dt.date | None) -> pd.DataFrame:
    """``covariance.returns_matrix`` before issue 16's seventh round: the pandas pivot."""
    from brmacro.covariance import CovarianceError

    df = returns.loc[:, ["date", "instrument", "ret"]].copy()
    df["date"] = date_objects(df["date"])
    if asof is not None:
        df = df[df["date"] <= asof]
    if df.duplicated(["date", "instrument"]).any():
        raise CovarianceError("returns table repeats (date, instrument) rows")
    mat = df.pivot(index="date", columns="instrument", values="ret").astype(float)
    mat = mat.sort_index().sort_index(axis=1)
    mat.columns.name = None
    return mat


def _returns_table(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=int(k)) for k in rng.choice(400, 30, replace=False)]
    names = ["DI1_1Y", "USDBRL", "IBOV", "Ä_non_ascii", "b_lower"]
    rows = [(d, n, float(rng.normal())) for d in days for n in names if rng.random() < 0.8]
    df = pd.DataFrame(rows, columns=["date", "instrument", "ret"]).sample(frac=1.0, random_state=seed)
    df.loc[df.index[:3], "ret"] = np.nan
    df.loc[df.index[3], "ret"] = -0.0
    df["level"] = 1.0
    late = df["instrument"] == "b_lower"  # an instrument only after a cut-off: absent from earlier matrices
    df.loc[late, "date"] = [dt.date(2025, 6, 1) + dt.timedelta(days=k) for k in range(int(late.sum()))]
    return df.set_index(np.arange(100, 100 + len(df)))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("asof", [None, dt.date(2025, 6, 3), dt.date(2024, 6, 1), dt.date(2023, 1, 1)])
def test_returns_matrix_of_codes_is_the_pivot(seed: int, asof: dt.date | None) -> None:
    from brmacro.covariance import returns_matrix

    df = _returns_table(seed)
    try:
        want = _plain_returns_matrix(df, asof)
    except Exception as exc:  # noqa: BLE001 - the same exception either way
        with pytest.raises(type(exc)):
            returns_matrix(df, asof)
        return
    got = returns_matrix(df, asof)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert got.index.dtype == want.index.dtype and got.columns.dtype == want.columns.dtype
    assert (got.index.name, got.columns.name) == (want.index.name, want.columns.name)
    assert got.to_numpy().tobytes() == want.to_numpy().tobytes()  # -0.0 and NaN kept bit for bit


@pytest.mark.parametrize("edit", ["repeat", "none_date", "str_dates", "timestamps", "int_ret", "none_instrument",
                                  "datetime_asof"])
def test_returns_matrix_other_inputs_as_the_pivot(edit: str) -> None:
    from brmacro.covariance import CovarianceError, returns_matrix

    df = _returns_table(5)
    asof: dt.date | None = dt.date(2025, 6, 3)
    if edit == "repeat":
        df = pd.concat([df, df.iloc[[4]]])
    elif edit == "none_date":
        df["date"] = df["date"].astype(object)
        df.loc[df.index[2], "date"] = None
    elif edit == "str_dates":
        df["date"] = [d.isoformat() for d in df["date"]]
    elif edit == "timestamps":
        df["date"] = [pd.Timestamp(d) for d in df["date"]]
    elif edit == "int_ret":
        df["ret"] = np.arange(len(df))
    elif edit == "none_instrument":
        df.loc[df.index[2], "instrument"] = None
    elif edit == "datetime_asof":
        asof = dt.datetime(2025, 6, 3, 12, 0)
    if edit == "repeat":
        with pytest.raises(CovarianceError, match="repeats"):
            _plain_returns_matrix(df, asof)
        with pytest.raises(CovarianceError, match="repeats"):
            returns_matrix(df, asof)
        return
    try:
        want = _plain_returns_matrix(df, asof)
    except Exception as exc:  # noqa: BLE001 - the same exception either way
        with pytest.raises(type(exc)):
            returns_matrix(df, asof)
        return
    pd.testing.assert_frame_equal(returns_matrix(df, asof), want, check_exact=True)


@pytest.mark.parametrize("case", ["all_before", "some_after", "nat", "offset_index", "shuffled_index", "empty",
                                  "step_index"])
def test_on_or_before_is_the_filter_and_reset(case: str) -> None:
    from brmacro.agents.data import _on_or_before

    days = pd.to_datetime(["2025-03-10", "2025-03-11", "2025-03-14", "2025-03-12"])
    f = pd.DataFrame({"date": days, "series": ["a", "b", "a", "c"], "value": [1.0, -0.0, np.nan, 2.0]})
    d = pd.Timestamp("2025-03-14")
    if case == "some_after":
        d = pd.Timestamp("2025-03-11")
    elif case == "nat":
        f.loc[2, "date"] = pd.NaT
    elif case == "offset_index":
        f.index = range(5, 9)
    elif case == "shuffled_index":
        f.index = [3, 0, 2, 1]
    elif case == "empty":
        f = f.iloc[:0].reset_index(drop=True)
    elif case == "step_index":
        f.index = range(0, 8, 2)
    want = f.loc[f["date"] <= d].reset_index(drop=True)
    got = _on_or_before(f.copy(), "date", d)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    pd.testing.assert_index_equal(got.index, want.index, exact=True)
    assert got["value"].to_numpy().tobytes() == want["value"].to_numpy().tobytes()


def test_silver_data_frames_are_its_own() -> None:
    """SilverData keeps frames of its own: the caller's frames edited afterwards do not reach it."""
    from brmacro.agents.data import SilverData

    day = dt.date(2025, 3, 14)
    macro = pd.DataFrame({"series": ["x"], "observation_date": [dt.date(2025, 2, 1)], "value": [1.0],
                          "release_date": [dt.date(2025, 3, 10)]})
    curves = pd.DataFrame({"date": [day], "curve": ["DI_PRE"], "tenor_label": ["252du"], "tenor_du": [252],
                           "tenor_years": [1.0], "rate": [0.1]})
    slopes = pd.DataFrame({"date": [day], "name": ["DI_1s2s"], "value": [0.01]})
    rets = pd.DataFrame({"date": [day], "instrument": ["IBOV"], "level": [1.0], "ret": [0.0], "vol_21": [0.1],
                         "vol_63": [0.1], "vol_252": [0.1], "z_252": [0.0]})
    prices = pd.DataFrame({"date": [day], "series": ["yahoo:^VIX"], "value": [15.0]})
    data = SilverData(day, macro, curves, slopes, rets, prices)
    for f in (macro, curves, slopes, rets, prices):
        f.iloc[0, f.columns.get_loc("value" if "value" in f else "rate" if "rate" in f else "level")] = 99.0
    assert data.macro_last("x") == 1.0 and data.curve_last("DI_PRE", "252du") == 0.1
    assert float(data.price("yahoo:^VIX").iloc[-1]) == 15.0 and float(data.returns("IBOV")["level"].iloc[-1]) == 1.0
    assert float(data.slopes_df["value"].iloc[0]) == 0.01


@pytest.mark.parametrize("dates", [
    ["2025-03-12", "2025-03-10", "2025-03-12", None],
    [dt.date(2025, 3, 12), dt.date(2025, 3, 10), "x", None],
    [pd.Timestamp("2025-03-12"), pd.Timestamp("2025-03-10"), pd.Timestamp("2025-03-11"), pd.NaT],
])
def test_indexed_is_set_index_column(dates: list[object]) -> None:
    from brmacro.agents.data import _indexed

    col = pd.to_datetime(pd.Series(dates)) if not any(isinstance(d, str) and d == "x" for d in dates) \
        else pd.Series(dates, dtype=object)
    rows = pd.DataFrame({"series": "a", "date": col.to_numpy(), "value": [1.0, -0.0, np.nan, 2.0]},
                        index=[7, 3, 9, 1])
    want = rows.set_index("date")["value"].astype(float).sort_index(na_position="last") \
        if rows["date"].dtype.kind == "M" else rows.set_index("date")["value"].astype(float)
    got = _indexed(rows, "date", "value").astype(float)
    got = got.sort_index(na_position="last") if rows["date"].dtype.kind == "M" else got
    pd.testing.assert_series_equal(got, want, check_exact=True)
    pd.testing.assert_index_equal(got.index, want.index, exact=True)
    assert got.to_numpy().tobytes() == want.to_numpy().tobytes()


def _plain_level_matrix(df: pd.DataFrame, asof: dt.date) -> pd.DataFrame:
    """``risk.stress._level_matrix`` before issue 16's seventh round: drop repeats (first kept), pivot."""
    x = df.loc[:, ["date", "instrument", "level"]].copy()
    x["date"] = date_objects(x["date"])
    x = x[x["date"] <= asof].drop_duplicates(["date", "instrument"], keep="first")
    m = x.pivot(index="date", columns="instrument", values="level").astype(float).sort_index()
    m.columns.name = None
    return m


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("asof", [dt.date(2025, 6, 3), dt.date(2024, 6, 1)])
@pytest.mark.parametrize("repeat", [False, True])
def test_level_matrix_of_codes_is_the_pivot_first_of_repeats(seed: int, asof: dt.date, repeat: bool) -> None:
    from brmacro.risk.stress import _level_matrix

    df = _returns_table(seed)
    df["level"] = np.random.default_rng(seed).normal(100.0, 5.0, len(df))
    df.loc[df.index[5], "level"] = np.nan
    if repeat:  # repeated pairs with other levels, after and before their first rows
        extra = df.iloc[[2, 7, 9]].copy()
        extra["level"] = [-1.0, -2.0, -0.0]
        df = pd.concat([df.iloc[:4], extra, df.iloc[4:], extra.assign(level=-3.0)])
    want = _plain_level_matrix(df, asof)
    got = _level_matrix(df, asof)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert got.index.dtype == want.index.dtype and got.columns.dtype == want.columns.dtype
    assert (got.index.name, got.columns.name) == (want.index.name, want.columns.name)
    assert got.to_numpy().tobytes() == want.to_numpy().tobytes()
