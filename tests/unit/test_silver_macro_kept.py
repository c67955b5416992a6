"""silver_macro's per-series results kept per process (issue 16, sixth round): a hit is the frame computed afresh."""

from __future__ import annotations

import datetime as dt
import logging

import numpy as np
import pandas as pd
import pytest

import brmacro.silver.macro as m
from tests.unit.test_silver_macro import PARAMS, D, make_focus, make_fred, make_sgs


@pytest.fixture(autouse=True)
def _empty() -> None:
    m._KEPT.clear()


def _obs(n: int = 40, freq: str = "M", seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    idx = pd.period_range("2020-01", periods=n, freq=freq)
    rel = pd.to_datetime(idx.to_timestamp(how="end").normalize() + pd.Timedelta(days=15)).to_numpy()
    out = pd.DataFrame({"value": 100 * np.exp(np.cumsum(rng.normal(0.001, 0.01, n))), "release": rel}, index=idx)
    out.iloc[5, 0] = np.nan
    out.iloc[7, 1] = np.datetime64("NaT")
    return out


CALLS = [
    ("compound", lambda o: m.compound(o, 12), lambda o: m._compound(o, 12)),
    ("saar_from_rates", lambda o: m.saar_from_rates(o, 3), None),
    ("ratio_change", lambda o: m.ratio_change(o, 12), lambda o: m._ratio_change(o, 12, 1.0)),
    ("saar_from_index", lambda o: m.saar_from_index(o, 3), lambda o: m._ratio_change(o, 3, 4.0)),
    ("hp_gap", lambda o: m.hp_gap(o.iloc[10:], 129_600.0, 24), lambda o: m._hp_gap(o.iloc[10:], 129_600.0, 24)),
    ("rows", lambda o: m._to_rows("x", o), lambda o: m._rows("x", o)),
]


@pytest.mark.parametrize("name,call,plain", CALLS, ids=[c[0] for c in CALLS])
def test_a_kept_frame_is_the_frame_computed_afresh(name: str, call, plain) -> None:  # type: ignore[no-untyped-def]
    obs = _obs()
    first = call(obs)
    assert len(m._KEPT) >= 1
    if plain is not None:
        pd.testing.assert_frame_equal(first, plain(obs))
    first.iloc[:, 0] = -1.0  # a caller's edit never reaches the kept frame
    again = call(obs.copy())  # the same bytes: a hit
    m._KEPT.clear()
    pd.testing.assert_frame_equal(again, call(obs))
    changed = obs.copy()
    changed.iloc[-1, 0] = changed.iloc[-1, 0] * 1.01  # one value changes: a miss, the new frame
    got = call(changed)
    m._KEPT.clear()
    pd.testing.assert_frame_equal(got, call(changed))


def test_keys_tell_signed_zeros_nan_payloads_dtypes_and_index_apart() -> None:
    obs = _obs(n=12)
    zero, negzero = obs.copy(), obs.copy()
    zero.iloc[0, 0], negzero.iloc[0, 0] = 0.0, -0.0
    assert m._obs_key(zero) != m._obs_key(negzero)
    nan2 = obs.copy()
    v = nan2["value"].to_numpy().copy()
    v[5] = np.frombuffer(np.uint64(0x7FF8000000000001).tobytes(), dtype=np.float64)[0]
    nan2["value"] = v
    assert m._obs_key(nan2) != m._obs_key(obs)
    shifted = obs.copy()
    shifted.index = shifted.index + 1
    assert m._obs_key(shifted) != m._obs_key(obs)
    q = obs.copy()
    q.index = pd.period_range("2020Q1", periods=12, freq="Q")
    assert m._obs_key(q) != m._obs_key(obs)
    s = obs.copy()
    s["release"] = s["release"].astype("datetime64[s]")
    assert m._obs_key(s) != m._obs_key(obs)
    assert m._obs_key(obs.reset_index(drop=True)) is None  # not a period index: not kept
    assert m._obs_key(obs.astype({"value": object})) is None  # objects have no bytes of their own
    assert m._fkey(0.0, 1, "a") != m._fkey(-0.0, 1, "a")
    assert m._obs_key(obs.iloc[:0]) is not None  # empty: keyed like any other


def test_empty_and_short_runs() -> None:
    obs = _obs()
    pd.testing.assert_frame_equal(m.compound(obs.iloc[:0], 12), m._compound(obs.iloc[:0], 12))
    pd.testing.assert_frame_equal(m._to_rows("x", obs.iloc[:0]), m._rows("x", obs.iloc[:0]))


def test_no_gap_is_not_kept_and_logged_each_time(caplog: pytest.LogCaptureFixture) -> None:
    short = _obs(n=10)
    with caplog.at_level(logging.WARNING, logger="brmacro.silver_macro"):
        assert m.hp_gap(short, 129_600.0, 24).empty
        assert m.hp_gap(short, 129_600.0, 24).empty
    assert sum("hp_gap" in r.getMessage() for r in caplog.records) == 2
    assert not m._KEPT
    bad = _obs()
    bad.iloc[-1, 0] = -1.0
    with pytest.raises(ValueError, match="positive"):
        m.hp_gap(bad, 129_600.0, 24)
    assert not m._KEPT


def test_the_bound() -> None:
    for i in range(m._KEPT.size + 10):
        m.compound(_obs(n=13, seed=i), 12)
    assert len(m._KEPT) == m._KEPT.size


def test_raw_arrays_are_each_series_conversion() -> None:
    rng = np.random.default_rng(5)
    obs = [dt.date(2020, 1, 1) + dt.timedelta(days=int(x)) for x in rng.integers(0, 900, 60)]
    raw = pd.DataFrame({"series_id": rng.choice(["a", "b", "c"], 60), "observation_date": obs,
                        "value": rng.normal(size=60),
                        "release_date": [o + dt.timedelta(days=int(rng.integers(1, 40))) for o in obs]})
    cols = m._raw_arrays(raw)
    assert cols is not None
    for freq in ("D", "M", "Q"):
        for _sid, g in raw.groupby("series_id", sort=True):  # unsorted, with repeated dates within a period
            g = g.sort_values("observation_date", kind="mergesort")
            at = g.index.to_numpy()
            pd.testing.assert_frame_equal(m._regular_arrays(cols[0][at], cols[1][at], cols[2][at], freq),
                                          m._regular(g, freq))
    assert m._raw_arrays(raw.set_index(raw.index + 1)) is None
    for bad in ([*obs[:59], None], [o.isoformat() for o in obs], [*obs[:59], pd.Timestamp("2021-01-01 12:00")]):
        assert m._raw_arrays(raw.assign(observation_date=bad)) is None
    conv = raw.assign(release_date=pd.to_datetime(raw["release_date"]))
    got = m._raw_arrays(conv)
    assert got is not None and (got[2] == cols[2]).all()


def test_build_macro_kept_is_build_macro_afresh() -> None:
    sgs, fred, focus = make_sgs(), make_fred(), make_focus()
    first = m.build_macro(sgs, fred, focus, D, PARAMS)["part"]
    assert m._KEPT
    hit = m.build_macro(sgs, fred, focus, D, PARAMS)["part"]
    pd.testing.assert_frame_equal(hit, first)
    later = D + dt.timedelta(days=3)  # a later session: the daily series gain rows, the monthly ones are hits
    got = m.build_macro(sgs, fred, focus, later, PARAMS)["part"]
    m._KEPT.clear()
    pd.testing.assert_frame_equal(got, m.build_macro(sgs, fred, focus, later, PARAMS)["part"])
    pd.testing.assert_frame_equal(m.build_macro(sgs, fred, focus, D, PARAMS)["part"], first)


def test_holds_date_objects() -> None:
    from brmacro.io import holds_date_objects

    d = dt.date(2025, 3, 14)
    assert holds_date_objects(pd.Series([d, d], dtype=object))
    for bad in ([], [d, None], [d, dt.datetime(2025, 3, 14)], [d, pd.Timestamp(d)], [d, "2025-03-14"]):
        assert not holds_date_objects(pd.Series(bad, dtype=object))
    assert not holds_date_objects(pd.Series(pd.to_datetime([d])))


def test_core_mean_kept_and_unit_check_first_bad_row() -> None:
    sgs, fred, focus = make_sgs(), make_fred(), make_focus()
    first = m.build_macro(sgs, fred, focus, D, PARAMS)["part"]
    assert any(k[0] == "core_12m" for k in m._KEPT)
    core = first.loc[first["series"] == "br_ipca_core_12m"]
    m._KEPT.clear()
    again = m.build_macro(sgs, fred, focus, D, PARAMS)["part"]
    pd.testing.assert_frame_equal(again.loc[again["series"] == "br_ipca_core_12m"], core)
    df = pd.DataFrame({"observation_date": [dt.date(2024, 1, 1), dt.date(2024, 2, 1), dt.date(2024, 3, 1)],
                       "value": [0.01, np.nan, -2.5]})
    with pytest.raises(m.MacroUnitError, match="-2.5 on 2024-03-01"):
        m._check_units("x", "dec", df, 1.0, 1.0)
    m._check_units("x", "dec", df.iloc[:2], 1.0, 1.0)  # NaN is not out of range
    m._check_units("x", "level", df, 1.0, 1.0)  # no limit for the unit
    with pytest.raises(m.MacroUnitError, match="-2.5"):
        m._check_units("x", "dec", df.astype({"value": object}), 1.0, 1.0)


def test_kept_frames_lru_copies_and_refusals() -> None:
    from brmacro.kept import KeptFrames

    with pytest.raises(ValueError):
        KeptFrames(0)
    k = KeptFrames(2)
    calls: list[str] = []

    def make(tag: str) -> pd.DataFrame:
        calls.append(tag)
        return pd.DataFrame({"v": [1.0, 2.0]})

    a = k.get(("a",), lambda: make("a"))
    a.iloc[0, 0] = 99.0  # the caller's frame is not the kept one
    assert k.get(("a",), lambda: make("a")).iloc[0, 0] == 1.0
    k.get(("b",), lambda: make("b"))
    k.get(("a",), lambda: make("a"))  # a used last: b is dropped first
    k.get(("c",), lambda: make("c"))
    assert list(k) == [("a",), ("c",)] and len(k) == 2
    k.get(None, lambda: make("n"))
    k.get(None, lambda: make("n"))
    k.get(("d",), lambda: make("d"), keep=lambda df: False)
    k.get(("d",), lambda: make("d"), keep=lambda df: False)
    assert calls == ["a", "b", "c", "n", "n", "d", "d"]
    k.clear()
    assert len(k) == 0


def test_the_array_path_is_the_per_series_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows shuffled, dates repeated within a series (the stable sort), kept or not: the per-series path's table."""
    rng = np.random.default_rng(11)
    sgs = make_sgs()
    dup = sgs.iloc[rng.choice(len(sgs), 40, replace=False)].copy()
    dup["value"] = dup["value"] * 0.999  # the same observation dates again, other values
    sgs = pd.concat([sgs, dup]).iloc[rng.permutation(len(sgs) + 40)].reset_index(drop=True)
    fred, focus = make_fred(), make_focus()
    fast = m.build_macro(sgs, fred, focus, D, PARAMS)["part"]
    kept = m.build_macro(sgs, fred, focus, D, PARAMS)["part"]
    m._KEPT.clear()
    monkeypatch.setattr(m, "_raw_arrays", lambda raw: None)
    plain = m.build_macro(sgs, fred, focus, D, PARAMS)["part"]
    assert not m._KEPT or all(k[0] not in ("raw", "regular") for k in m._KEPT)
    pd.testing.assert_frame_equal(fast, plain)
    pd.testing.assert_frame_equal(kept, plain)


def test_a_unit_error_is_raised_on_every_session_and_never_kept() -> None:
    sgs = make_sgs()
    bad = sgs["series_id"] == sgs["series_id"].iloc[0]
    sgs.loc[bad[bad].index[-1], "value"] = 5.0  # a percent in a decimal series
    for _ in range(2):
        with pytest.raises(m.MacroUnitError):
            m.build_macro(sgs, make_fred(), make_focus(), D, PARAMS)
    name = next(x.name for x in m.SERIES if x.sid == sgs["series_id"].iloc[0])
    assert not any(k[0] == "raw" and k[1] == name for k in m._KEPT)
    assert any(k[0] == "raw" for k in m._KEPT)  # the other series were kept


def _plain_focus_series(focus: pd.DataFrame, date: dt.date, spec: dict[str, list[str]]) -> pd.DataFrame:
    """``silver.macro.focus_series`` before issue 16's seventh round (each series converted the years again)."""
    from brmacro.io import dates_on_or_before

    df = focus.loc[dates_on_or_before(focus["release_date"], date)].copy()
    df["resp"] = df["respondents"].fillna(-1)
    df = df.sort_values(["indicator", "reference", "survey_date", "release_date", "resp", "median"],
                        ascending=[True, True, True, True, True, False], kind="mergesort")
    df = df.drop_duplicates(["indicator", "reference", "survey_date"], keep="last")
    year = pd.to_datetime(df["survey_date"]).dt.year
    out = []
    for name, (indicator, ref) in sorted(spec.items()):
        want = (year + (1 if ref == "cy1" else 0)).astype(str) if ref in ("cy0", "cy1") else \
            pd.Series(str(ref), index=df.index)
        sel = df.loc[(df["indicator"] == indicator) & (df["reference"].astype(str) == want)]
        out.append(pd.DataFrame({"series": name, "observation_date": sel["survey_date"].to_numpy(),
                                 "value": sel["median"].to_numpy(dtype=float),
                                 "release_date": sel["release_date"].to_numpy()}))
    return pd.concat(out, ignore_index=True)


def test_focus_series_years_made_once_is_the_per_series_conversion() -> None:
    rng = np.random.default_rng(3)
    days = [dt.date(2023, 1, 6) + dt.timedelta(days=7 * k) for k in range(80)]
    rows = [(ind, ref, d, float(rng.normal(0.04, 0.01)), int(rng.integers(10, 90)), d + dt.timedelta(days=3))
            for d in days for ind in ("IPCA", "Selic", "PIB Total")
            for ref in ("12m", str(d.year), str(d.year + 1), "2030") if rng.random() < 0.9]
    df = pd.DataFrame(rows, columns=["indicator", "reference", "survey_date", "median", "respondents", "release_date"])
    df = pd.concat([df, df.iloc[::5].assign(median=0.5)])  # repeated surveys: the tie-break decides
    df["mean"], df["std"], df["release_basis"] = df["median"], np.nan, "vintage"
    spec = {"a_12m": ["IPCA", "12m"], "b_cy0": ["IPCA", "cy0"], "c_cy1": ["IPCA", "cy1"], "d_cy0": ["Selic", "cy0"],
            "e_cy1": ["Selic", "cy1"], "f_lit": ["PIB Total", "2030"], "g_none": ["Câmbio", "cy0"]}
    for day in (dt.date(2024, 3, 1), dt.date(2024, 12, 31)):
        pd.testing.assert_frame_equal(m.focus_series(df, day, spec), _plain_focus_series(df, day, spec),
                                      check_exact=True)
