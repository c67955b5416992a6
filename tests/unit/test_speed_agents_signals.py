"""Issue 16 (eighth round): the agents' and signals' fast paths against the code they replace."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from brmacro.agents import data as agents_data
from brmacro.agents.data import SilverData
from brmacro.io import read_table
from brmacro.pipeline import Context, partition_paths
from brmacro.silver.schemas import SILVER_SCHEMAS
from tests.unit.test_agents import _write_silver, fabricate_silver

D = dt.date(2025, 6, 30)


# --------------------------------------------------------------------------- SilverData._rows
def _old_split(df: pd.DataFrame, by: tuple[str, ...]) -> dict[Any, pd.DataFrame]:
    """The split ``_rows`` used before: every group of ``groupby(by, sort=False)`` materialised."""
    col = list(by) if len(by) > 1 else by[0]
    return dict(iter(df.groupby(col, sort=False)))


def _old_rows(df: pd.DataFrame, by: tuple[str, ...], key: Any) -> pd.DataFrame:
    rows = _old_split(df, by).get(key)
    return df.iloc[:0] if rows is None else rows


def _holder(df: pd.DataFrame) -> SilverData:
    """A SilverData whose ``macro_df`` is ``df`` as given (no conversion), to ask ``_rows`` about it."""
    empty = pd.DataFrame({"date": pd.Series([], dtype=object)})
    sd = SilverData(D, empty.assign(observation_date=[], release_date=[], series=[], value=[]), empty, empty,
                    empty, empty)
    sd.macro_df = df
    return sd


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert a.index.equals(b.index) and a.index.dtype == b.index.dtype
    assert list(a.dtypes) == list(b.dtypes)


def _key_frames() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(3)
    n = 60
    names = np.array(["ipca", "selic", "câmbio", "ipca ", "x"], dtype=object)
    base = pd.DataFrame({
        "series": names[rng.integers(0, len(names), n)],
        "label": np.array(["1y", "2y", "10y"], dtype=object)[rng.integers(0, 3, n)],
        "when": pd.date_range("2024-01-01", periods=n, freq="D"),
        "value": rng.normal(size=n),
        "count": rng.integers(0, 9, n),
    })
    with_missing = base.copy()
    with_missing.loc[[3, 17, 40], "series"] = [None, np.nan, pd.NA]
    with_missing.loc[[5, 17, 22], "label"] = [np.nan, None, np.nan]
    shuffled = base.sample(frac=1.0, random_state=1)
    stepped = base.set_index(pd.RangeIndex(100, 100 + 2 * n, 2))
    labelled = base.set_index(pd.Index([f"r{i}" for i in range(n)]))
    dup_index = base.set_index(pd.Index(np.arange(n) % 7))
    return {
        "base": base, "missing": with_missing, "shuffled": shuffled, "stepped": stepped,
        "labelled": labelled, "dup_index": dup_index, "empty": base.iloc[:0], "one": base.iloc[:1],
        "all_missing": with_missing.assign(series=np.array([None] * n, dtype=object)),
        "mixed": base.assign(series=np.array([1, 1.0, "1", True, "a"] * (n // 5), dtype=object)),
        "category": base.assign(series=base["series"].astype("category")),
        "integer": base.assign(series=base["count"]),
    }


@pytest.mark.parametrize("case", list(_key_frames()))
@pytest.mark.parametrize("by", [("series",), ("series", "label")])
def test_rows_are_the_groupby_groups(case: str, by: tuple[str, ...]) -> None:
    df = _key_frames()[case]
    sd = _holder(df)
    groups = _old_split(df, by)
    for key in groups:
        _same(sd._rows("macro_df", by, key), groups[key])
        _same(sd._rows("macro_df", by, key), groups[key])  # asked again: the same rows
    asked: list[Any] = ["nope", None, np.nan, ("ipca", "1y"), ("ipca", "1y", "x"), ("nope", "1y"), "ipca", 1, True]
    for key in asked:
        _same(sd._rows("macro_df", by, key), _old_rows(df, by, key))
    with pytest.raises(TypeError):
        _old_rows(df, by, ["ipca"])
    with pytest.raises(TypeError):
        sd._rows("macro_df", by, ["ipca"])


def test_rows_follow_a_replaced_frame() -> None:
    frames = _key_frames()
    sd = _holder(frames["base"])
    _same(sd._rows("macro_df", ("series",), "ipca"), _old_rows(frames["base"], ("series",), "ipca"))
    _same(sd._rows("macro_df", ("label",), "1y"), _old_rows(frames["base"], ("label",), "1y"))  # other columns
    sd.macro_df = frames["shuffled"]
    _same(sd._rows("macro_df", ("series",), "ipca"), _old_rows(frames["shuffled"], ("series",), "ipca"))


def test_rows_of_silver_tables_are_the_old_ones() -> None:
    fr = fabricate_silver(years=3, n_sessions=120)
    sd = SilverData(D, fr["macro"], fr["curves"], fr["slopes"], fr["returns"], fr["prices"])
    for frame, by in [("macro_df", ("series",)), ("curves_df", ("curve", "tenor_label")),
                      ("returns_df", ("instrument",)), ("prices_df", ("series",))]:
        df = getattr(sd, frame)
        for key, rows in _old_split(df, by).items():
            _same(sd._rows(frame, by, key), rows)


# --------------------------------------------------------------------------- SilverData.from_context's kept view
def _context(root: Path, day: dt.date) -> Context:
    inputs: dict[str, dict[str, Path]] = {}
    for asset, table in agents_data._TABLES.values():
        inputs.setdefault(asset, {})[table] = partition_paths(root, asset, day)[table]
    return Context(asset="agent_test", date=day, params={}, inputs=inputs)


def _fresh(ctx: Context) -> SilverData:
    """The view as built before: SilverData on the context's tables."""
    return SilverData(ctx.date, ctx.table("silver_macro"), ctx.table("silver_curves"),
                      ctx.table("silver_curves", "slopes"), ctx.table("silver_returns"),
                      ctx.table("silver_returns", "prices"), asset=ctx.asset)


def _same_view(a: SilverData, b: SilverData) -> None:
    """The same frames, and the same rows for every group of every split (``a``'s kept split, ``b``'s groupby)."""
    for name in agents_data._TABLES:
        _same(getattr(a, name), getattr(b, name))
    assert a.date == b.date and a.asset == b.asset
    for name, by in agents_data._SPLITS.items():
        for key, rows in _old_split(getattr(b, name), by).items():
            _same(a._rows(name, by, key), rows)
        _same(a._rows(name, by, "nope"), getattr(b, name).iloc[:0])


def test_from_context_view_is_kept_and_equal(tmp_path: Path) -> None:
    agents_data._KEPT_VIEWS.clear()
    fr = fabricate_silver(years=3, n_sessions=120)
    _write_silver(fr, tmp_path, D)
    first = SilverData.from_context(_context(tmp_path, D))
    assert len(agents_data._KEPT_VIEWS) == 1
    _same_view(first, _fresh(_context(tmp_path, D)))
    second = SilverData.from_context(_context(tmp_path, D))  # a hit
    assert len(agents_data._KEPT_VIEWS) == 1
    _same_view(second, _fresh(_context(tmp_path, D)))
    for name in agents_data._TABLES:
        assert getattr(first, name) is not getattr(second, name)
    # an agent's edit of its view reaches neither the kept view nor the next agent's
    second.macro_df.loc[:, "value"] = -1.0
    first.curves_df.loc[:, "rate"] = -1.0
    third = SilverData.from_context(_context(tmp_path, D))
    assert set(third._split) == set(agents_data._SPLITS)  # the kept splits, handed out with the frames
    assert all(held[0] is getattr(third, name) for name, held in third._split.items())
    assert all(not held[2].taken for held in third._split.values())  # no group taken by an earlier agent
    _same_view(third, _fresh(_context(tmp_path, D)))
    assert third.macro("br_ipca_mom").equals(_fresh(_context(tmp_path, D)).macro("br_ipca_mom"))


def test_from_context_misses_on_another_session_or_file(tmp_path: Path) -> None:
    agents_data._KEPT_VIEWS.clear()
    fr = fabricate_silver(years=3, n_sessions=120)
    _write_silver(fr, tmp_path, D)
    SilverData.from_context(_context(tmp_path, D))
    # the same files seen as of an earlier session (rows after it filtered out): another key
    early = dt.date(2025, 3, 31)
    ctx_early = _context(tmp_path, D)
    ctx_early.date = early
    view = SilverData.from_context(ctx_early)
    assert len(agents_data._KEPT_VIEWS) == 2
    _same_view(view, _fresh(ctx_early))
    assert view.returns_df["date"].max() <= pd.Timestamp(early)
    # a file rewritten with other content: another key, the new content
    path = partition_paths(tmp_path, "silver_returns", D)["prices"]
    prices = read_table(path, SILVER_SCHEMAS["silver_returns"]["prices"])
    prices = prices.assign(value=prices["value"] * 2.0).iloc[:-5]
    from brmacro.io import write_table
    write_table(prices, path, SILVER_SCHEMAS["silver_returns"]["prices"], asof=D, source="demo")
    after = SilverData.from_context(_context(tmp_path, D))
    _same_view(after, _fresh(_context(tmp_path, D)))
    assert len(after.prices_df) == len(prices)


def test_from_context_raises_for_a_missing_input(tmp_path: Path) -> None:
    from brmacro.errors import InputMissing

    ctx = _context(tmp_path, D)
    del ctx.inputs["silver_macro"]  # type: ignore[attr-defined]
    with pytest.raises(InputMissing):
        SilverData.from_context(ctx)


# --------------------------------------------------------------------------- agents.inflation._m kept
def _old_m(s: pd.Series) -> pd.Series:
    """``_m`` before it was kept: the series by month start, the last value of a month observed twice."""
    s = s.copy()
    s.index = pd.DatetimeIndex(s.index).to_period("M").to_timestamp(how="start")
    return s[~s.index.duplicated(keep="last")]


class _Macro:
    """A stand-in for SilverData answering ``macro(name)`` with a copy of a given series."""

    def __init__(self, series: dict[str, pd.Series]) -> None:
        self.series = series

    def macro(self, name: str) -> pd.Series:
        return self.series[name].copy()


def _monthly_cases() -> dict[str, pd.Series]:
    rng = np.random.default_rng(5)
    months = pd.date_range("2015-01-01", periods=40, freq="MS")
    idx = pd.DatetimeIndex(months, name="observation_date")
    base = pd.Series(rng.normal(size=40), index=idx, name="base")
    ends = pd.Series(rng.normal(size=40), index=pd.DatetimeIndex(months + pd.offsets.MonthEnd(0),
                                                                 name="observation_date"), name="ends")
    twice = pd.concat([base, base.iloc[5:9] * 2.0]).sort_index(kind="mergesort").rename("twice")
    daily = pd.Series(rng.normal(size=90), index=pd.date_range("2024-01-03", periods=90, freq="D",
                                                              name="observation_date"), name="daily")
    gappy = base.drop(base.index[[3, 4, 20]]).rename("gappy")
    nan = base.copy().rename("nan")
    nan.iloc[[0, 7]] = np.nan
    nan.iloc[8] = -0.0
    return {
        "base": base, "ends": ends, "twice": twice, "daily": daily, "gappy": gappy, "nan": nan,
        "one": base.iloc[:1].rename("one"), "two": base.iloc[:2].rename("two"), "empty": base.iloc[:0].rename("empty"),
        "unsorted": base.iloc[::-1].rename("unsorted"), "unnamed_index": base.rename_axis(None).rename("unnamed"),
        "ints": base.round().astype("int64").rename("ints"),
    }


@pytest.mark.parametrize("case", list(_monthly_cases()))
def test_m_is_the_month_start_series(case: str) -> None:
    from brmacro.agents import inflation

    s = _monthly_cases()[case]
    data = _Macro({case: s})
    for _ in range(3):  # computed, then kept (handed out as copies)
        got = inflation._m(data, case)  # type: ignore[arg-type]
        want = _old_m(s)
        pd.testing.assert_series_equal(got, want, check_exact=True, check_freq=True)
        assert got.index.freq == want.index.freq and got.index.name == want.index.name and got.name == want.name
        assert got.to_numpy().tobytes() == want.to_numpy().tobytes()
        got.iloc[:] = 123  # a caller's edit never reaches the kept series
    changed = s.copy()
    if len(changed):
        changed.iloc[-1] = 99.0  # a new release: another key
        data.series[case] = changed
        pd.testing.assert_series_equal(inflation._m(data, case), _old_m(changed),  # type: ignore[arg-type]
                                       check_exact=True, check_freq=True)


# --------------------------------------------------------------------------- signals.strategies._asof
def _old_asof(obs: pd.DataFrame, dates: list[Any]) -> pd.Series:
    """``_asof`` before its numpy path: frontier by frames, ``merge_asof`` backward."""
    known = obs.sort_values(["release_date", "observation_date"]).copy()
    known["latest"] = known["observation_date"].cummax()
    known = known[known["observation_date"] == known["latest"]].drop_duplicates("release_date", keep="last")
    left = pd.DataFrame({"date": pd.to_datetime(pd.Index(list(dates)))})
    right = pd.DataFrame({"date": pd.to_datetime(known["release_date"]), "v": known["value"].to_numpy(float)})
    m = pd.merge_asof(left, right.sort_values("date"), on="date", direction="backward")
    return pd.Series(m["v"].to_numpy(float), index=list(dates))


def _obs_cases() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(11)
    n = 80
    first = dt.date(2020, 1, 1)
    obs_d = [first + dt.timedelta(days=int(k)) for k in np.sort(rng.integers(0, 900, n))]
    rel_d = [d + dt.timedelta(days=int(k)) for d, k in zip(obs_d, rng.integers(0, 60, n), strict=True)]
    base = pd.DataFrame({"observation_date": obs_d, "value": rng.normal(size=n), "release_date": rel_d})
    revised = pd.concat([base, base.iloc[10:30].assign(
        release_date=[d + dt.timedelta(days=90) for d in base["release_date"].iloc[10:30]], value=-1.0)],
        ignore_index=True)
    ties = pd.concat([base, base.iloc[::3].assign(value=7.0), base.iloc[::3].assign(value=8.0)], ignore_index=True)
    special = base.copy()
    special.loc[[0, 5, 9], "value"] = [np.nan, -0.0, np.inf]
    shared = base.assign(release_date=[first + dt.timedelta(days=30 * (i // 4)) for i in range(n)])
    return {
        "base": base, "revised": revised, "ties": ties, "special": special, "shared_release": shared,
        "shuffled": ties.sample(frac=1.0, random_state=2), "one": base.iloc[:1],
        "datetimes": base.assign(release_date=[dt.datetime(d.year, d.month, d.day) for d in rel_d]),
        "timestamps": base.assign(observation_date=pd.to_datetime(base["observation_date"])),
        "missing": base.assign(release_date=[None] + rel_d[1:]),
        "empty": base.iloc[:0],
    }


def _session_cases() -> dict[str, list[Any]]:
    days = [dt.date(2019, 12, 1) + dt.timedelta(days=k) for k in range(0, 1100, 3)]
    return {
        "sessions": days, "one": days[-1:], "before_all": days[:5], "repeated": sorted(days[:50] + days[20:60]),
        "unsorted": days[::-1][:40], "empty": [], "datetimes": [dt.datetime(d.year, d.month, d.day) for d in days],
        "exact_releases": sorted(set(_obs_cases()["base"]["release_date"])),
    }


@pytest.mark.parametrize("obs_case", list(_obs_cases()))
@pytest.mark.parametrize("dates_case", list(_session_cases()))
def test_asof_is_the_merge_asof(obs_case: str, dates_case: str) -> None:
    from brmacro.signals.strategies import _asof

    obs, dates = _obs_cases()[obs_case], _session_cases()[dates_case]
    try:
        want = _old_asof(obs, dates)
    except Exception as exc:  # noqa: BLE001 - the new code must fail the same way
        with pytest.raises(type(exc)):
            _asof(obs, dates)
        return
    got = _asof(obs, dates)
    pd.testing.assert_series_equal(got, want, check_exact=True)
    assert got.to_numpy().tobytes() == want.to_numpy().tobytes()
    assert got.index.dtype == want.index.dtype and list(got.index) == list(want.index)


def test_asof_takes_numpy_path_on_macro_obs() -> None:
    from brmacro.signals.strategies import _asof_days

    obs = _obs_cases()["revised"]
    assert _asof_days(obs, _session_cases()["sessions"]) is not None
    for case in ("datetimes", "timestamps", "missing", "empty"):
        assert _asof_days(_obs_cases()[case], _session_cases()["sessions"]) is None
    assert _asof_days(obs, _session_cases()["unsorted"]) is None


# --------------------------------------------------------------------------- SilverData.macro_asof
def _old_macro_asof(sd: SilverData, name: str, at: Any, yoy_periods: int = 0,
                    monthly_lag_days: int | None = None) -> pd.Series:
    """``SilverData.macro_asof`` before its numpy path (the frames throughout)."""
    rows = sd._rows("macro_df", ("series",), name).loc[:, ["observation_date", "release_date", "value"]]
    if rows.empty:
        raise agents_data.SeriesMissing(name)
    rows = rows.sort_values("observation_date", kind="mergesort")
    if monthly_lag_days is not None:
        avail = rows["observation_date"] + pd.offsets.MonthEnd(0) + pd.Timedelta(days=monthly_lag_days)
        rows = rows.assign(release_date=avail.where(avail <= rows["release_date"], rows["release_date"]))
    if yoy_periods > 0:
        rows = rows.assign(value=rows["value"] / rows["value"].shift(yoy_periods) - 1.0).dropna(subset=["value"])
    rows = rows.sort_values(["release_date", "observation_date"], kind="mergesort")
    frontier = rows.loc[rows["observation_date"] >= rows["observation_date"].cummax()]
    frontier = frontier.drop_duplicates("release_date", keep="last")
    left = pd.DataFrame({"t": pd.DatetimeIndex(at)}).sort_values("t")
    out = pd.merge_asof(left, frontier, left_on="t", right_on="release_date", direction="backward")
    return pd.Series(out["value"].to_numpy(dtype=float), index=pd.DatetimeIndex(out["t"]), name=name)


def _macro_frame() -> pd.DataFrame:
    """Series ``a`` (revisions, ties, NaN / -0.0 / inf values, releases before later observations), ``b`` (one row),
    in shuffled table order with date objects as read."""
    obs = _obs_cases()
    a = pd.concat([obs["revised"], obs["ties"].iloc[80:]], ignore_index=True)
    a.loc[[3, 4, 50], "value"] = [np.nan, -0.0, np.inf]
    a = a.assign(series="a")
    b = obs["base"].iloc[:1].assign(series="b")
    return pd.concat([a, b], ignore_index=True).sample(frac=1.0, random_state=4).reset_index(drop=True)


def _empty_silver(macro: pd.DataFrame, day: dt.date = dt.date(2023, 6, 30)) -> SilverData:
    none = pd.DataFrame({"date": pd.Series([], dtype=object)})
    return SilverData(day, macro, none, none, none, none)


def _at_cases() -> dict[str, Any]:
    days = pd.date_range("2019-11-01", "2023-06-30", freq="B")
    return {
        "sessions": days, "one": days[-1:], "before_all": days[:5], "unsorted": days[::-1][:300],
        "repeated": days[300:340].append(days[310:350]), "releases": pd.DatetimeIndex(
            sorted(set(pd.to_datetime(_obs_cases()["base"]["release_date"])))),
        "shifted": days - pd.DateOffset(months=6), "list": list(days[:100]), "empty": days[:0],
        "nat": days[:30].insert(5, pd.NaT), "seconds": days.as_unit("s"), "tz": days.tz_localize("UTC"),
    }


@pytest.mark.parametrize("at_case", list(_at_cases()))
@pytest.mark.parametrize("how", [{}, {"yoy_periods": 12}, {"monthly_lag_days": 20}])
@pytest.mark.parametrize("name", ["a", "b"])
def test_macro_asof_is_the_merge_asof(at_case: str, how: dict[str, int], name: str) -> None:
    sd = _empty_silver(_macro_frame())
    at = _at_cases()[at_case]
    try:
        want = _old_macro_asof(sd, name, at, **how)
    except Exception as exc:  # noqa: BLE001 - the new code must fail the same way
        with pytest.raises(type(exc)):
            sd.macro_asof(name, at, **how)
        return
    got = sd.macro_asof(name, at, **how)
    pd.testing.assert_series_equal(got, want, check_exact=True, check_freq=True)
    assert got.to_numpy().tobytes() == want.to_numpy().tobytes()
    assert got.index.name == want.index.name and got.index.dtype == want.index.dtype


def test_macro_asof_fallbacks() -> None:
    """A missing date in the rows, or a non-float value, takes the frames (and gives what they give)."""
    sd = _empty_silver(_macro_frame())
    at = _at_cases()["sessions"]
    assert agents_data._asof_released(sd._rows("macro_df", ("series",), "a"), at) is not None
    nat = sd.macro_df.copy()
    nat.loc[nat.index[nat["series"] == "a"][:2], "release_date"] = pd.NaT
    ints = sd.macro_df.assign(value=np.arange(len(sd.macro_df)))
    for frame in (nat, ints):
        sd2 = _empty_silver(_macro_frame())
        sd2.macro_df = frame
        assert agents_data._asof_released(sd2._rows("macro_df", ("series",), "a"), at) is None
        try:
            want = _old_macro_asof(sd2, "a", at)
        except Exception as exc:  # noqa: BLE001
            with pytest.raises(type(exc)):
                sd2.macro_asof("a", at)
            continue
        pd.testing.assert_series_equal(sd2.macro_asof("a", at), want, check_exact=True)
    with pytest.raises(agents_data.SeriesMissing):
        sd.macro_asof("nope", at)


# --------------------------------------------------------------------------- signals.strategies inf_03's targets
@pytest.mark.parametrize("table", [None, [{"from": "2019-01-01", "target": 0.0425}, {"from": "2021-06-30",
                                                                                   "target": 0.0375}],
                                   [{"from": "2022-01-01", "target": 0.03}]])
@pytest.mark.parametrize("dates", [
    [dt.date(2019, 12, 30) + dt.timedelta(days=k) for k in range(0, 1500, 2)],
    [dt.date(2023, 5, 2), dt.date(2020, 3, 1), dt.date(2023, 1, 1), dt.date(2020, 12, 31)],
    [dt.date(2021, 1, 1)], [],
])
def test_targets_by_year_are_the_per_date_targets(table: list[dict[str, Any]] | None, dates: list[dt.date]) -> None:
    from brmacro.signals.market import StrategyGap
    from brmacro.signals.strategies import _targets_by_year, inflation_target

    try:
        want = [inflation_target(d.year, table) for d in dates]
    except StrategyGap as exc:
        with pytest.raises(StrategyGap, match=re.escape(str(exc))):
            _targets_by_year(dates, table)
        return
    got = _targets_by_year(dates, table)
    assert np.array(got).tobytes() == np.array(want, dtype=float).tobytes() and len(got) == len(want)


# --------------------------------------------------------------------------- signals.steps._column_rows
def _typed_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "s": ["x", None, "z", "é"], "f": [1.0, np.nan, -0.0, np.inf], "i": [1, 2, -3, 2**40],
        "d": [dt.date(2020, 1, 1), dt.date(2021, 2, 3), dt.date(2020, 1, 1), dt.date(1999, 12, 31)],
        "b": [True, False, True, False], "o": [1.5, None, "x", 2], "t": pd.to_datetime(["2020-01-01"] * 4),
        "n": pd.array([1, None, 3, 4], dtype="Int64"), "c": pd.Categorical(["u", "v", "u", "v"]),
    }, index=[7, 3, 3, 0])


def _same_value(x: Any, y: Any) -> bool:
    return type(x) is type(y) and (x is y or x == y or (x != x and y != y))  # NaN is NaN's own value here


@pytest.mark.parametrize("names", [("s", "f", "i", "d", "b", "o", "t"), ("f",), ("n", "s"), ("c", "i"),
                                   ("s", "s")])
@pytest.mark.parametrize("rows", ["all", "empty", "one", "reversed"])
def test_column_rows_are_itertuples(names: tuple[str, ...], rows: str) -> None:
    from brmacro.signals.steps import _column_rows

    df = _typed_frame()
    df = {"all": df, "empty": df.iloc[:0], "one": df.iloc[1:2], "reversed": df.iloc[::-1]}[rows]
    want = [tuple(getattr(r, n) for n in names) for r in df.itertuples(index=False)]
    got = list(_column_rows(df, names))
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert len(g) == len(w) and all(_same_value(a, b) for a, b in zip(g, w, strict=True)), (g, w)


# --------------------------------------------------------------------------- agents.inflation.bottom_up_forecast kept
def _old_bottom_up(groups: dict[str, pd.Series], weights: dict[str, float], *, window: int, momentum: int,
                   min_groups: int) -> dict[str, Any]:
    """``bottom_up_forecast`` before its groups were kept."""
    fc: dict[str, float] = {}
    for g, s in groups.items():
        x = s.dropna().iloc[-window:]
        if len(x) < 36 or g not in weights:
            continue
        months = pd.DatetimeIndex(x.index).month
        seas = x.groupby(months).mean() - x.mean()
        if len(seas) < 12:
            continue
        sa = x - seas.reindex(months).to_numpy()
        level = float(sa.iloc[-momentum:].mean())
        fc[g] = float(np.prod(1.0 + level + seas.to_numpy()) - 1.0)
    if len(fc) < min_groups:
        return {"forecast": float("nan"), "by_group": fc, "weights": {}}
    tot = sum(weights[g] for g in fc)
    w = {g: weights[g] / tot for g in fc}
    return {"forecast": float(sum(w[g] * fc[g] for g in fc)), "by_group": fc, "weights": w}


def _group_cases() -> dict[str, pd.Series]:
    rng = np.random.default_rng(9)
    idx = pd.date_range("2015-01-01", periods=90, freq="MS", name="observation_date")
    base = pd.Series(rng.normal(0.004, 0.003, 90), index=idx)
    nan = base.copy()
    nan.iloc[[5, 40, 88]] = np.nan
    nan.iloc[60] = -0.0
    odd_months = base[base.index.month != 2]  # 11 calendar months: skipped
    return {
        "food": base.rename("food"), "housing": nan.rename("housing"), "household": base.iloc[:36].rename("hh"),
        "apparel": base.iloc[:35].rename("apparel"), "transport": odd_months.rename("t"),
        "health": base.iloc[-50:].rename("health"), "personal": (base * 2).rename("personal"),
        "education": base.astype("float32").rename("education"), "unweighted": base.rename("x"),
        "empty": base.iloc[:0].rename("empty"),
    }


@pytest.mark.parametrize("window,momentum,min_groups", [(60, 6, 3), (48, 3, 1), (36, 12, 9), (120, 1, 0)])
@pytest.mark.parametrize("subset", ["all", "few", "none"])
def test_bottom_up_forecast_is_the_old_one(window: int, momentum: int, min_groups: int, subset: str) -> None:
    from brmacro.agents.inflation import bottom_up_forecast

    cases = _group_cases()
    names = {"all": list(cases), "few": ["food", "apparel", "empty"], "none": []}[subset]
    groups = {g: cases[g] for g in names}
    weights = {g: 0.1 + 0.01 * i for i, g in enumerate(cases) if g != "unweighted"}
    for _ in range(2):  # computed, then kept
        got = bottom_up_forecast(groups, weights, window=window, momentum=momentum, min_groups=min_groups)
        want = _old_bottom_up(groups, weights, window=window, momentum=momentum, min_groups=min_groups)
        assert list(got["by_group"]) == list(want["by_group"]) and list(got["weights"]) == list(want["weights"])
        assert np.array(list(got["by_group"].values())).tobytes() == np.array(list(want["by_group"].values())).tobytes()
        assert np.array(list(got["weights"].values())).tobytes() == np.array(list(want["weights"].values())).tobytes()
        assert np.array([got["forecast"]]).tobytes() == np.array([want["forecast"]]).tobytes()
    changed = dict(groups)
    if "food" in changed:  # a new print: another key
        changed["food"] = changed["food"].copy()
        changed["food"].iloc[-1] = 0.02
        got = bottom_up_forecast(changed, weights, window=window, momentum=momentum, min_groups=min_groups)
        want = _old_bottom_up(changed, weights, window=window, momentum=momentum, min_groups=min_groups)
        assert np.array([got["forecast"]]).tobytes() == np.array([want["forecast"]]).tobytes()
        assert got["by_group"] == want["by_group"]


@pytest.mark.parametrize("case", list(_monthly_cases()))
def test_monetary_and_fiscal_monthly_are_the_old_ones(case: str) -> None:
    """monetary's and fiscal's ``_monthly`` (the same month starts, kept; fiscal's sorted) against their old code."""
    from brmacro.agents import fiscal, monetary

    s = _monthly_cases()[case]
    before = s.copy()
    for _ in range(2):  # computed (or kept by the other agent), then kept
        for got, want in ((monetary._monthly(s), _old_m(s)), (fiscal._monthly(s), _old_m(s).sort_index())):
            pd.testing.assert_series_equal(got, want, check_exact=True, check_freq=True)
            assert got.index.freq == want.index.freq and got.index.name == want.index.name
            assert got.to_numpy().tobytes() == want.to_numpy().tobytes()
            got.iloc[:] = 7  # a caller's edit never reaches the kept series
    pd.testing.assert_series_equal(s, before, check_exact=True, check_freq=True)  # the input is unchanged
    assert s.index.equals(before.index)


# --------------------------------------------------------------------------- agents.common.monthly_last
def _old_monthly_last(s: pd.Series) -> pd.Series:
    s = s.dropna()
    idx = pd.DatetimeIndex(s.index)
    out = s.groupby(idx.to_period("M")).last()
    out.index = out.index.to_timestamp(how="start")  # type: ignore[attr-defined]
    return out


def _daily_cases() -> dict[str, pd.Series]:
    rng = np.random.default_rng(13)
    days = pd.bdate_range("2021-01-04", periods=400, name="observation_date")
    base = pd.Series(rng.normal(5, 0.1, 400), index=days, name="usdbrl")
    nan = base.copy()
    nan.iloc[[0, 21, 22, 399]] = np.nan
    nan.iloc[5] = -0.0
    gap = base[(base.index.month != 3) | (base.index.year != 2021)]
    dup = pd.concat([base.iloc[:30], base.iloc[29:31] * 2]).sort_index(kind="mergesort")
    return {
        "base": base, "nan": nan, "gap_month": gap, "dup_days": dup, "one": base.iloc[:1], "two_months": base.iloc[:30],
        "three_months": base.iloc[:62], "empty": base.iloc[:0], "all_nan": base.iloc[:5] * np.nan,
        "unsorted": base.iloc[::-1], "unnamed": base.rename_axis(None).rename(None), "ints": base.round().astype(int),
        "object_dates": pd.Series(base.to_numpy(), index=list(base.index.date), name="obj"),
        "month_ends": pd.Series(rng.normal(size=24), index=pd.date_range("2020-01-31", periods=24, freq="ME")),
        "utc": base.tz_localize("UTC"),
    }


@pytest.mark.parametrize("case", list(_daily_cases()))
def test_monthly_last_is_the_period_grouping(case: str) -> None:
    from brmacro.agents.common import monthly_last

    s = _daily_cases()[case]
    try:
        want = _old_monthly_last(s)
    except Exception as exc:  # noqa: BLE001 - the new code must fail the same way
        with pytest.raises(type(exc)):
            monthly_last(s)
        return
    got = monthly_last(s)
    pd.testing.assert_series_equal(got, want, check_exact=True, check_freq=True)
    assert got.index.freq == want.index.freq and got.index.name == want.index.name and got.name == want.name
    assert got.to_numpy().tobytes() == want.to_numpy().tobytes() and got.index.dtype == want.index.dtype


def test_from_context_with_a_missing_file_raises_as_the_read_does(tmp_path: Path) -> None:
    agents_data._KEPT_VIEWS.clear()
    fr = fabricate_silver(years=3, n_sessions=120)
    _write_silver(fr, tmp_path, D)
    partition_paths(tmp_path, "silver_curves", D)["slopes"].unlink()
    assert agents_data._view_key(_context(tmp_path, D)) is None
    with pytest.raises(Exception) as want:  # noqa: PT011 - whatever the read raises
        _fresh(_context(tmp_path, D))
    with pytest.raises(want.type):
        SilverData.from_context(_context(tmp_path, D))
    assert len(agents_data._KEPT_VIEWS) == 0
