"""Issue 16, eighth round: the silver and report cuts against the code they replace (kept here as references)."""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

import numpy as np
import pandas as pd
import pytest

import brmacro.report.build as b
import brmacro.report.rates as rates
import brmacro.report.sanity as sanity
import brmacro.silver.curves as curves
import brmacro.silver.macro as m
import brmacro.silver.returns as returns
import tests.unit.test_report_fixtures as fx
import tests.unit.test_report_rates as test_report_rates
from brmacro.io import date_objects
from brmacro.report.inputs import Inputs
from brmacro.report.render import Cell, Document, Figures, Section, render_markdown
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


# ----------------------------------------------------------------------------------------------- report market section
def _old_market_section(inp: Inputs, figs: Figures, session: dt.date) -> Section:
    """``report.build.market_section`` before the eighth round (a frame per silver_macro series)."""
    sec = b.Section("market", "1. Market snapshot")
    rows: list[list[Cell]] = []
    curves = inp.get("silver_curves")
    if curves is None:
        sec.missing("silver_curves/part", inp.why("silver_curves"))
    else:
        curves["date"] = date_objects(curves["date"])
        curves = curves.loc[curves["date"] <= session]
        di_pre = curves.loc[curves["curve"] == "DI_PRE"]  # the curve's rows once, then a tenor filter on those
        for name, lab in b.DI_POINTS:
            sub = di_pre.loc[di_pre["tenor_label"] == lab]
            rows.append(b._market_row(figs, name, sub.set_index("date")["rate"], "rate", "silver_curves/part", session))
    ret = inp.get("silver_returns")
    if ret is None:
        sec.missing("silver_returns/part", inp.why("silver_returns"))
    else:
        ret["date"] = date_objects(ret["date"])
        ret = ret.loc[ret["date"] <= session]
        for name, inst, kind in (("USDBRL", "USDBRL", "price"), ("IBOV", "IBOV", "price"),
                                 ("UST 10Y", "UST_10Y", "rate"), ("SPX", "SPX", "price")):
            sub = ret.loc[ret["instrument"] == inst]
            rows.append(b._market_row(figs, name, sub.set_index("date")["level"], kind, "silver_returns/part", session))
    prices = inp.get("silver_returns", "prices")
    if prices is None:
        sec.missing("silver_returns/prices", inp.why("silver_returns", "prices"))
    else:
        prices["date"] = date_objects(prices["date"])
        sub = prices.loc[(prices["series"] == "yahoo:^VIX") & (prices["date"] <= session)]
        rows.append(b._market_row(figs, "VIX", sub.set_index("date")["value"], "price", "silver_returns/prices",
                                  session))
    macro = inp.get("silver_macro")
    if macro is None:
        sec.missing("silver_macro/part", inp.why("silver_macro"))
    else:
        macro["observation_date"] = date_objects(macro["observation_date"])
        macro = macro.loc[macro["observation_date"] <= session]
        by_series: dict[Any, pd.DataFrame] = dict(iter(macro.groupby("series", sort=False)))  # split once

        def ser(name: str) -> pd.Series:
            return by_series.get(name, macro.iloc[:0]).set_index("observation_date")["value"]

        rows.append(b._market_row(figs, "Selic target", ser("br_selic_target"), "rate", "silver_macro/part", session))
        ipca = "br_ipca_12m" if "br_ipca_12m" in by_series else "br_ipca_yoy"
        rows.append(b._market_row(figs, "IPCA 12m", ser(ipca), "rate", "silver_macro/part", session))
        for fs in sorted(x for x in by_series if str(x).startswith("focus_")):
            kind = "price" if any(k in fs for k in ("fx", "cambio", "usdbrl", "brl")) else "rate"
            rows.append(b._market_row(figs, f"Focus {fs.removeprefix('focus_')}", ser(fs), kind, "silver_macro/part",
                                    session))
    if rows:
        sec.table(["Market", "Level", "1-day change", "As of"], rows,
                  "Levels and changes (rates in % per year, changes in bp; prices with % change)")
    if curves is not None:
        di = curves.loc[curves["curve"] == "DI_PRE"]
        if not di.empty:
            today = di["date"].max()
            month_ago = [d for d in sorted(di["date"].unique()) if d <= today - dt.timedelta(days=30)]
            lines = []
            for d in [today] + month_ago[-1:]:
                c = di.loc[di["date"] == d].sort_values("tenor_years")
                lines.append(b.Line(f"DI {d.isoformat()}", c["tenor_years"].tolist(), c["rate"].tolist()))
            ticks = [(float(y), f"{y:g}y") for y in sorted(di.loc[di["date"] == today, "tenor_years"].unique())]
            sec.chart(b.line_chart(lines, title="DI curve: session vs one month before", y_fmt=lambda v: b.pct(v, 1),
                                 x_labels=ticks), "DI curve", "no DI_PRE points in silver_curves")
            if not month_ago:
                sec.p("DI curve one month before: not in silver_curves' history.")
    if ret is not None:
        fx = ret.loc[(ret["instrument"] == "USDBRL") & (ret["date"] > session - dt.timedelta(days=183))]
        fx = fx.sort_values("date")
        if len(fx):
            xs = list(range(len(fx)))
            dates = fx["date"].tolist()
            idx = sorted({0, len(fx) // 2, len(fx) - 1})
            sec.chart(b.line_chart([b.Line("USDBRL", xs, fx["level"].tolist())], title="USDBRL, last 6 months",
                                 y_fmt=lambda v: f"{v:.3f}", x_labels=[(i, dates[i].isoformat()) for i in idx]),
                      "USDBRL 6 months", "no USDBRL level in silver_returns")
        else:
            sec.missing("silver_returns/part", "no USDBRL level over the last 6 months")
    return sec



def _market_inputs(variant: str) -> Inputs:
    tables = dict(fx.silver())
    macro = tables[("silver_macro", "part")]
    extra = pd.DataFrame({
        "series": ["focus_cambio", "focus_selic", "focus_later", "focus_selic", "br_ipca_yoy", "focus_cambio"],
        "observation_date": [dt.date(2025, 5, 30), dt.date(2025, 6, 6), dt.date(2030, 1, 1), dt.date(2025, 5, 30),
                             dt.date(2025, 4, 1), dt.date(2025, 6, 6)],
        "value": [5.7, 0.15, 0.1, np.nan, 0.05, 5.65],
        "release_date": [dt.date(2025, 6, 2)] * 6})
    if variant == "more":
        macro = pd.concat([macro, extra], ignore_index=True)
    elif variant == "shuffled":
        macro = pd.concat([extra, macro], ignore_index=True).iloc[::-1].set_index(np.arange(100, 100 + 11))
    elif variant == "no_ipca_12m":
        macro = pd.concat([macro.loc[macro["series"] != "br_ipca_12m"], extra], ignore_index=True)
    elif variant == "later_only":  # every row after the session: no series at all
        macro = macro.assign(observation_date=dt.date(2031, 1, 1))
    elif variant == "empty":
        macro = macro.iloc[:0]
    elif variant == "missing_name":
        macro = pd.concat([macro, extra.assign(series=[None, "focus_x", None, "focus_x", None, None])],
                          ignore_index=True)
    tables[("silver_macro", "part")] = macro
    if variant == "no_macro":
        del tables[("silver_macro", "part")]
    return Inputs(tables=tables)


@pytest.mark.parametrize("variant", ["plain", "more", "shuffled", "no_ipca_12m", "later_only", "empty",
                                     "missing_name", "no_macro"])
def test_market_section_is_the_section_with_a_frame_per_series(variant: str) -> None:
    session = fx.SESSION
    inp = _market_inputs(variant)
    before = {k: v.copy() for k, v in inp.tables.items()}
    f_new, f_old = Figures(session), Figures(session)
    new = b.market_section(inp, f_new, session)
    old = _old_market_section(inp, f_old, session)
    assert new == old
    assert f_new.records() == f_old.records()
    assert render_markdown(Document("t", [], [new])) == render_markdown(Document("t", [], [old]))
    for k, v in before.items():  # the inputs are not changed
        pd.testing.assert_frame_equal(inp.tables[k], v)


# ----------------------------------------------------------------------------------------------- report outliers
def _old_check_outliers(returns: pd.DataFrame, session: dt.date, window: int, min_obs: int,
                   threshold: float) -> list[sanity.Outlier]:
    """``report.sanity.check_outliers`` before the eighth round (a mask per instrument).

    Check the session's change of every instrument's level in ``silver_returns``.

    Parameters
    ----------
    returns : DataFrame
        The ``silver_returns`` part table (``date``, ``instrument``, ``level``).
    session : datetime.date
        The session checked.
    window : int
        Changes before the session used as the series' history.
    min_obs : int
        Fewer changes: not checked (stated).
    threshold : float
        ``|z|`` at or above which the input is flagged.
    """
    out: list[sanity.Outlier] = []
    df = returns.assign(date=date_objects(returns["date"]))
    df = df.loc[df["date"] <= session]
    for inst in sorted(df["instrument"].astype(str).unique()):
        kind = "rate" if inst.startswith(sanity.RATE_PREFIXES) else "price"
        s = df.loc[df["instrument"] == inst].set_index("date")["level"].astype(float).dropna().sort_index()
        if s.empty or s.index[-1] != session:
            out.append(sanity.Outlier(inst, kind, None, None, 0, False,
                                      f"no level on {session.isoformat()}: not checked"))
            continue
        ch = s.diff() if kind == "rate" else pd.Series(np.log(s.where(s > 0)), index=s.index).diff()
        ch = ch.dropna()
        if ch.empty or ch.index[-1] != session:
            out.append(sanity.Outlier(inst, kind, None, None, 0, False, "no previous level: not checked"))
            continue
        x = float(ch.iloc[-1])
        hist = ch.iloc[:-1].to_numpy(dtype=float)[-window:]
        n = int(np.isfinite(hist).sum())
        if n < min_obs:
            out.append(sanity.Outlier(inst, kind, x, None, n, False,
                                      f"{n} changes of history < {min_obs}: not checked"))
            continue
        z = sanity.mad_z(x, hist)
        if z is None or not math.isfinite(z):
            out.append(sanity.Outlier(inst, kind, x, None, n, False, "no dispersion in the history: not checked"))
            continue
        out.append(sanity.Outlier(inst, kind, x, z, n, abs(z) >= threshold,
                           f"MAD z of the {'change' if kind == 'rate' else 'log change'} over {n} sessions"))
    return out



def _returns(variant: str) -> pd.DataFrame:
    ret = fx.silver()[("silver_returns", "part")]
    rng = np.random.default_rng(8)
    if variant == "shuffled":
        ret = ret.iloc[rng.permutation(len(ret))].set_index(rng.permutation(len(ret)) * 3)
    elif variant == "nan_and_dup":
        ret = pd.concat([ret, ret.iloc[rng.choice(len(ret), 30, replace=False)]], ignore_index=True)
        ret.loc[rng.choice(len(ret), 40, replace=False), "level"] = np.nan
        ret.loc[rng.choice(len(ret), 5, replace=False), "level"] = -1.0
    elif variant == "later":  # an instrument only after the session, another with one level only
        extra = ret.iloc[:2].assign(instrument=["ONLY_LATER", "ONE"],
                                    date=[fx.SESSION + dt.timedelta(days=3), fx.SESSION])
        ret = pd.concat([ret, extra], ignore_index=True)
    elif variant == "not_str":  # not every instrument a str: the masks, as before
        ret = ret.astype({"instrument": object})
        ret.loc[ret.index[:7], "instrument"] = None
    elif variant == "empty":
        ret = ret.iloc[:0]
    elif variant == "timestamps":
        ret = ret.assign(date=pd.to_datetime(ret["date"]))
    return ret


@pytest.mark.parametrize("variant", ["plain", "shuffled", "nan_and_dup", "later", "not_str", "empty", "timestamps"])
@pytest.mark.parametrize("window", [5, 252])
def test_check_outliers_split_once_is_a_mask_per_instrument(variant: str, window: int) -> None:
    ret = _returns(variant)
    for session in (fx.SESSION, fx.SESSION - dt.timedelta(days=10), fx.SESSION + dt.timedelta(days=5)):
        new = sanity.check_outliers(ret, session, window, 3, 1.5)
        old = _old_check_outliers(ret, session, window, 3, 1.5)
        assert repr(new) == repr(old)
        assert new == old
        assert (len(new) == 0) == (variant == "empty")
    assert (sanity.rows_by_key(ret["instrument"]) is None) == (variant in ("not_str", "empty"))


# ----------------------------------------------------------------------------------------------- report agents
def _old_agents_section(inp: Inputs, figs: Figures, key_signals: int) -> Section:
    """``report.build.agents_section`` before the eighth round (the key signals' tuples made twice)."""
    sec = b.Section("agents", "3. Agent views")
    rows = []
    krows = []
    for a in b.AGENTS:
        df = inp.get(a)
        name = a.removeprefix("agent_")
        if df is None:
            sec.missing(f"{a}/part", inp.why(a))
            continue
        comp = df.loc[df["is_composite"].astype(bool)].sort_values("signal_id")
        src = f"{a}/part"
        label = name.replace("_", " ").capitalize()
        if comp.empty:
            rows.append([b._c(name), b._c(b.na("no composite signal")), b._c(""), b.Cell(b.na("no composite signal")),
                         b._c("")])
            para = f"{label}: no composite signal for the session."
        else:
            c = comp.iloc[0]
            rows.append([b._c(name), b._c(b._dir_word(c["direction"])), b._c(c["strength"]),
                         figs.add("agents", f"{name} composite confidence", c["confidence"],
                                  b.num(c["confidence"], 2), src),
                         figs.add("agents", f"{name} composite value", c["value"],
                                  b.num(c["value"], 4, reason="no raw value"), src)])
            para = (f"{label}: {b._dir_word(c['direction'])} {c['instrument']} ({str(c['strength']).lower()}, "
                    f"confidence {b.num(c['confidence'], 2)}, net score {b.signed(c['value'], 2, reason='n/a')}); "
                    f"{b.driver_sentence(c['drivers'])}.")
        others = df.loc[~df["is_composite"].astype(bool)].sort_values(["confidence", "signal_id"],
                                                                      ascending=[False, True])
        top = others.head(key_signals)
        lead = [f"{s.signal_id} {b._dir_word(s.direction)} at confidence {b.num(s.confidence, 2)}: "
                f"{b.driver_sentence(s.drivers, limit=0)}"
                for s in cast("Iterable[Any]", top.itertuples()) if s.direction != 0]
        if lead:
            para += " Deciding signals: " + " ".join(f"({i}) {t}." for i, t in enumerate(lead, 1))
        sec.p(para)
        for s in cast("Iterable[Any]", top.itertuples()):
            krows.append([b._c(name), b._c(s.signal_id), b._c(s.instrument or "(not a tradable)"),
                          b._c(b._dir_word(s.direction)),
                          figs.add("agents", f"{name} {s.signal_id} confidence",
                                   s.confidence, b.num(s.confidence, 2), src),
                          b._c(b.driver_sentence(s.drivers))])
    if rows:
        sec.table(["Agent", "Direction", "Strength", "Confidence", "Net score"], rows,
                  "Composite signal per agent (direction in the instrument's price convention)")
    if krows:
        sec.table(["Agent", "Signal", "Instrument", "Direction", "Confidence", "Why (the branch that fired)"], krows,
                  f"Key signals (top {key_signals} by confidence per agent)")
    return sec



def _agent_inputs(variant: str) -> Inputs:
    tables = dict(fx.agents(hostile=variant == "hostile", drop_composite="agent_fiscal" if variant == "drop" else ""))
    if variant == "many":  # more signals than listed, ties in confidence, a neutral one, no instrument
        for k, (a, t) in enumerate(list(tables)):
            if t != "part":
                continue
            df = tables[(a, t)]
            extra = pd.concat([df.iloc[[1]]] * 5, ignore_index=True)
            extra["signal_id"] = [f"S{k}_{i}" for i in (3, 1, 4, 2, 0)]
            extra["confidence"] = [0.8, 0.8, 0.3, 0.9, 0.8]
            extra["direction"] = [0, 1, -1, 0, 1]
            extra["instrument"] = [None, "X", "Y", None, "Z"]
            tables[(a, t)] = pd.concat([extra, df], ignore_index=True)
    if variant == "missing":
        del tables[("agent_inflation", "part")]
    return Inputs(tables=tables, missing={("agent_inflation", "part"): "boom"} if variant == "missing" else {})


@pytest.mark.parametrize("variant", ["plain", "hostile", "drop", "many", "missing"])
@pytest.mark.parametrize("key_signals", [0, 2, 3])
def test_agents_section_key_signals_once_is_the_section_before(variant: str, key_signals: int) -> None:
    inp = _agent_inputs(variant)
    f_new, f_old = Figures(fx.SESSION), Figures(fx.SESSION)
    new = b.agents_section(inp, f_new, key_signals)
    old = _old_agents_section(inp, f_old, key_signals)
    assert new == old
    assert f_new.records() == f_old.records()
    assert render_markdown(Document("t", [], [new])) == render_markdown(Document("t", [], [old]))


# ----------------------------------------------------------------------------------------------- rows by key
def _frames_by_key() -> list[tuple[str, pd.DataFrame]]:
    rng = np.random.default_rng(12)
    n = 60
    days = [dt.date(2025, 1, 1) + dt.timedelta(days=int(x)) for x in rng.integers(0, 20, n)]
    df = pd.DataFrame({"k": rng.choice(["a", "b", "ç", "d d"], n), "date": days,
                       "v": rng.normal(size=n)}).set_index(rng.permutation(n) + 7)
    df.loc[df.index[:4], "v"] = [np.nan, -0.0, np.inf, 1.0]
    out = [("plain", df), ("ints", df.assign(v=rng.integers(0, 5, n))), ("empty", df.iloc[:0]),
           ("none_key", df.assign(k=df["k"].where(df["v"] > 0, None))),
           ("not_str", df.assign(k=df["k"].astype(object).where(df["v"] > 0, 3))),
           ("timestamps", df.assign(date=pd.to_datetime(df["date"])))]
    return out


@pytest.mark.parametrize("name", ["plain", "ints", "empty", "none_key", "not_str", "timestamps"])
def test_series_by_key_is_the_mask_and_set_index(name: str) -> None:
    df = dict(_frames_by_key())[name]
    rows = sanity.rows_by_key(df["k"])
    assert (rows is None) == (name in ("empty", "none_key", "not_str"))
    for key in ("a", "b", "ç", "d d", "missing", "3"):
        old = df.loc[df["k"] == key].set_index("date")["v"]
        for r in (rows, None):
            new = sanity.series_by_key(df, "k", key, r, "date", "v")
            pd.testing.assert_series_equal(new, old, check_exact=True, check_index_type=True)
            assert new.to_numpy().tobytes() == old.to_numpy().tobytes()
            assert [type(x) for x in new.index] == [type(x) for x in old.index]


# ----------------------------------------------------------------------------------------------- rates section
def _old_other_markets_block(sec: Section, figs: Figures, inp: Inputs, session: dt.date) -> None:
    """``report.rates._other_markets_block`` before the eighth round (a mask per instrument)."""
    ret = inp.get("silver_returns")
    if ret is None:
        sec.missing("silver_returns/part", inp.why("silver_returns"))
        return
    ret = ret.assign(date=date_objects(ret["date"]))
    rows = []
    for name, inst, price in rates.OTHER_MARKETS:
        sub = ret.loc[ret["instrument"] == inst].set_index("date")["level"]
        ch = rates.changes(sub, session, relative=price)
        rows.append([rates._c(name), *rates._change_cells(figs, name, ch, "silver_returns/part", session, price=price)])
    prices = inp.get("silver_returns", "prices")
    if prices is not None:
        prices = prices.assign(date=date_objects(prices["date"]))
        vix = prices.loc[prices["series"] == "yahoo:^VIX"].set_index("date")["value"]
        rows.append([rates._c("VIX"), *rates._change_cells(figs, "VIX", rates.changes(vix, session, relative=True),
                                               "silver_returns/prices", session, price=True)])
    sec.table(["Market", "Level", "1 day", "1 week", "Month to date", "As of"], rows,
              "The other markets of the snapshot: 1-day, 1-week and month-to-date changes (prices in %, UST in bp)")



def _old_rates_section(inp: Inputs, figs: Figures, session: dt.date, params: Any = None) -> Section:
    """``report.rates.rates_section`` before the eighth round: each block takes the session's DI1 contracts itself,
    the other markets through a mask per instrument."""
    p = rates.resolve("report.rates", params)
    sec = Section("rates", "Rates desk")
    curves = inp.get("silver_curves")
    if curves is not None:
        curves = curves.assign(date=date_objects(curves["date"]))
        curves = curves.loc[curves["date"] <= session]
    b3 = inp.get("bronze_b3_market_data")
    if b3 is not None:
        b3 = b3.loc[rates.dates_on(b3["trade_date"], session).to_numpy()]
    rates._copom_block(sec, figs, inp, session, p, b3)
    rates._levels_block(sec, figs, inp, session, p, curves, b3)
    _old_other_markets_block(sec, figs, inp, session)
    rates._carry_block(sec, figs, inp, session, p, curves, b3)
    return sec


def _rates_inputs(variant: str) -> Inputs:
    inp = test_report_rates._inputs()
    t = dict(inp.tables)
    if variant == "no_b3":
        del t[("bronze_b3_market_data", "part")]
    elif variant == "more_markets":  # shuffled, a missing level, VIX prices, an instrument only after the session
        ret = t[("silver_returns", "part")]
        later = ret.iloc[:1].assign(instrument="SPX", date=test_report_rates.D + dt.timedelta(days=2))
        ret = pd.concat([ret, later], ignore_index=True).iloc[::-1]
        ret.loc[ret.index[3], "level"] = np.nan
        t[("silver_returns", "part")] = ret
        t[("silver_returns", "prices")] = pd.DataFrame({"date": sorted(set(ret["date"])), "series": "yahoo:^VIX",
                                                        "value": 15.0})
    elif variant == "not_str":
        ret = t[("silver_returns", "part")]
        t[("silver_returns", "part")] = ret.assign(instrument=ret["instrument"].where(ret["level"] > 1, None))
        slopes = t[("silver_curves", "slopes")]
        t[("silver_curves", "slopes")] = slopes.assign(
            name=slopes["name"].astype(object).where(slopes["value"] > 0, 1))
    elif variant == "no_sizing":
        del t[("portfolio_sizing", "part")]
    return Inputs(tables=t)


@pytest.mark.parametrize("variant", ["plain", "no_b3", "more_markets", "not_str", "no_sizing"])
def test_rates_section_is_the_section_before(variant: str) -> None:
    inp = _rates_inputs(variant)
    d = test_report_rates.D
    f_new, f_old = Figures(d), Figures(d)
    new = rates.rates_section(inp, f_new, d, None)
    old = _old_rates_section(inp, f_old, d, None)
    assert new == old
    assert f_new.records() == f_old.records()
    assert render_markdown(Document("t", [], [new])) == render_markdown(Document("t", [], [old]))


# ----------------------------------------------------------------------------------------------- silver curve nodes
def _old_curve_nodes(b3: pd.DataFrame, commodity: str) -> curves.Nodes:
    """``silver.curves.curve_nodes`` before the eighth round (a frame sorted with the tickers).

    DI1 or DAP vertices per trade date from a ``bronze_b3_market_data`` frame.

    Contracts with ``du <= 0`` (expiring) are dropped; if two contracts share a ``du`` on a
    date, the one with the smaller ticker is kept (deterministic, logged).
    """
    df = b3.loc[(b3["commodity"] == commodity) & (b3["du"] > 0), ["trade_date", "ticker", "du", "settlement_rate"]]
    df = df.assign(d=pd.to_datetime(df["trade_date"]).to_numpy().astype("datetime64[D]"))
    df = df.sort_values(["d", "du", "ticker"], kind="mergesort")
    dup = df.duplicated(["d", "du"])
    if dup.any():
        curves.log.warning("%s: %d contracts share a du with another contract on the same date; kept the first ticker",
                    commodity, int(dup.sum()))
        df = df.loc[~dup]
    return curves._pad(df["d"].to_numpy(), df["du"].to_numpy(dtype=float), df["settlement_rate"].to_numpy(dtype=float))


def _old_treasury_nodes(tsy: pd.DataFrame, curve: str) -> curves.Nodes:
    """``silver.curves.treasury_nodes`` before the eighth round (a frame sorted with the labels).

    Treasury par-yield vertices (tenor in years) per date for ``curve`` (``nominal`` | ``real``)."""
    df = tsy.loc[tsy["curve"] == curve, ["date", "tenor", "tenor_years", "yield"]]
    df = df.assign(d=pd.to_datetime(df["date"]).to_numpy().astype("datetime64[D]"))
    df = df.sort_values(["d", "tenor_years", "tenor"], kind="mergesort")
    dup = df.duplicated(["d", "tenor_years"])
    if dup.any():
        curves.log.warning("treasury %s: %d labels map to an already used tenor; kept the first label", curve,
                           int(dup.sum()))
        df = df.loc[~dup]
    return curves._pad(df["d"].to_numpy(), df["tenor_years"].to_numpy(dtype=float), df["yield"].to_numpy(dtype=float))



def _b3_rows(variant: str) -> pd.DataFrame:
    rng = np.random.default_rng(21)
    days = [dt.date(2025, 1, 2) + dt.timedelta(days=i) for i in range(12)]
    rows = []
    for d in days:
        for com in ("DI1", "DAP"):
            for j, du_ in enumerate(rng.choice(np.arange(-5, 2600), 9, replace=False)):
                rows.append({"trade_date": d, "commodity": com, "ticker": f"{com}{j:02d}{chr(70 + j)}", "du": int(du_),
                             "settlement_rate": float(rng.normal(0.12, 0.01))})
    df = pd.DataFrame(rows)
    df = df.iloc[rng.permutation(len(df))].set_index(rng.permutation(len(df)) * 2)
    if variant == "repeated_du":  # two tickers on one (date, du): the smaller ticker kept, logged
        r = df.iloc[[0]].assign(ticker="AAA", settlement_rate=0.5)
        df = pd.concat([df, r])
    elif variant == "float_du":
        df = df.assign(du=df["du"].astype(float))
        df.loc[df.index[:2], "settlement_rate"] = [np.nan, -0.0]
    elif variant == "nan_du":
        df = df.assign(du=df["du"].astype(float))
        df.loc[df.index[3], "du"] = np.nan
    elif variant == "missing_date":
        df = df.astype({"trade_date": object})
        df.loc[df.index[5], "trade_date"] = None
    elif variant == "strings":
        df = df.assign(trade_date=df["trade_date"].map(lambda d: d.isoformat()))
    elif variant == "timestamps":
        df = df.assign(trade_date=pd.to_datetime(df["trade_date"]))
    elif variant == "none":
        df = df.assign(commodity="OTHER")
    return df


def _same_nodes(a: curves.Nodes, b_: curves.Nodes) -> None:
    for f in ("dates", "x", "y"):
        u, v = getattr(a, f), getattr(b_, f)
        assert u.dtype == v.dtype and u.shape == v.shape and u.tobytes() == v.tobytes(), f


@pytest.mark.parametrize("variant", ["plain", "repeated_du", "float_du", "nan_du", "missing_date", "strings",
                                     "timestamps", "none"])
def test_curve_nodes_without_the_tickers_are_the_nodes_before(variant: str, caplog: pytest.LogCaptureFixture) -> None:
    b3 = _b3_rows(variant)
    logged = []
    for com in ("DI1", "DAP"):
        with caplog.at_level(logging.WARNING, logger=curves.log.name):
            caplog.clear()
            new = curves.curve_nodes(b3, com)
            new_log = [r.getMessage() for r in caplog.records]
            caplog.clear()
            old = _old_curve_nodes(b3, com)
            old_log = [r.getMessage() for r in caplog.records]
        _same_nodes(new, old)
        assert new_log == old_log
        logged += new_log
    assert (len(logged) == 1) == (variant == "repeated_du")


def _tsy_rows(variant: str) -> pd.DataFrame:
    rng = np.random.default_rng(22)
    labels = {"1M": 1 / 12, "3M": 0.25, "1Y": 1.0, "2Y": 2.0, "10Y": 10.0, "30Y": 30.0}
    rows = [{"date": dt.date(2025, 1, 2) + dt.timedelta(days=i), "curve": c, "tenor": t, "tenor_years": y,
             "yield": float(rng.normal(0.04, 0.005))}
            for i in range(15) for c in ("nominal", "real") for t, y in labels.items() if c == "nominal" or y >= 1]
    df = pd.DataFrame(rows).iloc[rng.permutation(len(rows))]
    if variant == "same_years":  # two labels on one tenor: the first label kept, logged
        df = pd.concat([df, df.loc[df["tenor"] == "1Y"].assign(tenor="12M")])
    elif variant == "negative_zero":
        df.loc[df.index[:3], "tenor_years"] = -0.0
    elif variant == "nan_years":
        df.loc[df.index[4], "tenor_years"] = np.nan
    return df


@pytest.mark.parametrize("variant", ["plain", "same_years", "negative_zero", "nan_years"])
def test_treasury_nodes_without_the_labels_are_the_nodes_before(variant: str) -> None:
    tsy = _tsy_rows(variant)
    for c in ("nominal", "real", "none"):
        _same_nodes(curves.treasury_nodes(tsy, c), _old_treasury_nodes(tsy, c))


def test_distinct_nodes_refuses_what_the_frame_path_decides() -> None:
    b3 = _b3_rows("plain")
    keep = b3["commodity"] == "DI1"
    assert curves._distinct_nodes(b3["trade_date"], b3["du"], b3["settlement_rate"], keep) is not None
    for variant, row in (("repeated_du", -1), ("nan_du", 3), ("missing_date", 5)):
        b = _b3_rows(variant)
        com = b["commodity"].iloc[row]  # the curve of the row that makes the frame path decide
        assert curves._distinct_nodes(b["trade_date"], b["du"], b["settlement_rate"], b["commodity"] == com) is None
    assert curves._distinct_nodes(b3["trade_date"], b3["du"], b3["settlement_rate"], keep & False) is None


# ----------------------------------------------------------------------------------------------- silver returns rows
def _old_long_part(lv: pd.DataFrame, rt: pd.DataFrame, stats: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """``silver.returns.build_returns``' long rows before the eighth round (the frames stacked and aligned)."""
    return pd.concat(
        {"level": lv.stack(), "ret": rt.stack(future_stack=True), **{k_: v.stack(future_stack=True)
                                                                      for k_, v in stats.items()}},
        axis=1,
    ).reset_index(names=["date", "instrument"])


def _wide(variant: str) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, pd.DataFrame]]:
    rng = np.random.default_rng(31)
    n = 1 if variant == "one_row" else 30
    idx = pd.DatetimeIndex(pd.bdate_range("2025-01-01", periods=n).to_numpy().astype("datetime64[s]"), name="date")
    cols = pd.Index(["USDBRL", "DI1_1Y", "IBOV", "ç_X"], dtype=object)
    lv = pd.DataFrame(rng.normal(100, 5, (n, 4)), index=idx, columns=cols)
    rt = lv.pct_change()
    rt.iloc[min(3, n - 1), 1] = -0.0
    stats = {"vol_21": rt.rolling(3).std(), "vol_63": rt.rolling(5).std(), "z_252": (lv - lv.mean()) / lv.std()}
    if variant == "nan_level":  # the levels' stack drops it: through the stacks
        lv.iloc[4, 2] = np.nan
    elif variant == "other_index":
        stats["vol_63"] = stats["vol_63"].iloc[1:]
    elif variant == "other_columns":
        stats["z_252"] = stats["z_252"][list(reversed(cols))]
    elif variant == "ints":
        lv = lv.round().astype(np.int64)
    elif variant == "empty":
        lv, rt = lv.iloc[:0], rt.iloc[:0]
        stats = {k: v.iloc[:0] for k, v in stats.items()}
    elif variant == "ns_index":
        lv, rt = lv.set_axis(idx.astype("datetime64[ns]")), rt.set_axis(idx.astype("datetime64[ns]"))
        stats = {k: v.set_axis(idx.astype("datetime64[ns]")) for k, v in stats.items()}
    return lv, rt, stats


@pytest.mark.parametrize("variant", ["plain", "one_row", "nan_level", "other_index", "other_columns", "ints", "empty",
                                     "ns_index"])
def test_long_part_from_the_arrays_is_the_stacks(variant: str) -> None:
    lv, rt, stats = _wide(variant)
    new = returns._long_part(lv, rt, stats)
    old = _old_long_part(lv, rt, stats)
    pd.testing.assert_frame_equal(new, old, check_exact=True)
    for c in new.columns[2:]:
        assert new[c].to_numpy().tobytes() == old[c].to_numpy().tobytes()  # NaN and -0.0 bit for bit


def test_build_returns_rows_are_the_stacks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole step on the silver returns fixture, with the rows made as before."""
    from tests.unit.test_silver_returns import D as RD
    from tests.unit.test_silver_returns import _params, make_inputs

    for inp, n in ((make_inputs(), 25), (make_inputs({"^GSPC": [RD - dt.timedelta(days=3)]}), 20)):
        new = returns.build_returns(inp, RD, _params(lookback_sessions=n))
        with monkeypatch.context() as mp:
            mp.setattr(returns, "_long_part", _old_long_part)
            old = returns.build_returns(inp, RD, _params(lookback_sessions=n))
        for k in ("part", "prices", "crisis"):
            pd.testing.assert_frame_equal(new[k], old[k], check_exact=True)


# ----------------------------------------------------------------------------------------------- silver returns prices
def _old_prices(closes: Mapping[str, pd.Series], fx: pd.Series, cdi: pd.Series, sofr: pd.Series, window: np.ndarray,
            limit: int) -> pd.DataFrame:
    """``silver.returns._prices`` before the eighth round (a frame per series, sorted by pandas)."""
    series: dict[str, pd.Series] = {"ptax:USDBRL": fx, "cdi:daily": cdi, "sofr": sofr}
    for tk in sorted(closes):
        series[f"yahoo:{tk}"] = closes[tk]
    out = []
    for name, s in sorted(series.items()):
        if len(s) == 0:
            continue
        vals, _ = returns._aligned(s, window, limit)
        ok = np.isfinite(vals)
        out.append(pd.DataFrame({"date": window[ok], "series": name, "value": vals[ok]}))
    if not out:
        return pd.DataFrame({"date": [], "series": [], "value": []})
    df = pd.concat(out, ignore_index=True)
    df["date"] = date_objects(df["date"])
    return df.sort_values(["date", "series"], kind="mergesort").reset_index(drop=True)



@pytest.mark.parametrize("variant", ["plain", "empty_series", "no_series", "shuffled_window", "repeated_window",
                                     "one_session"])
def test_prices_from_arrays_are_the_prices_before(variant: str) -> None:
    rng = np.random.default_rng(41)
    days = pd.bdate_range("2024-12-02", periods=40).to_numpy().astype("datetime64[D]")

    def ser(n: int, start: int = 0) -> pd.Series:
        v = rng.normal(10, 1, n)
        if n > 5:
            v[[2, 5]] = [np.nan, -0.0]
        return pd.Series(v, index=days[start:start + n])

    closes = {"^VIX": ser(30, 5), "BRL=X": ser(40), "^BVSP": ser(12, 20), "Ç": ser(3, 37)}
    fx, cdi, sofr = ser(38), ser(40), ser(20, 10)
    window = days[5:]
    if variant == "empty_series":
        closes["^VIX"], sofr = ser(0), ser(0)
    elif variant == "no_series":
        closes, fx, cdi, sofr = {}, ser(0), ser(0), ser(0)
    elif variant == "shuffled_window":
        window = window[rng.permutation(len(window))]
    elif variant == "repeated_window":
        window = np.sort(np.concatenate([window, window[:4]]))
    elif variant == "one_session":
        window = window[-1:]
    for limit in (0, 3):
        new = returns._prices(closes, fx, cdi, sofr, window, limit)
        old = _old_prices(closes, fx, cdi, sofr, window, limit)
        pd.testing.assert_frame_equal(new, old, check_exact=True)
        assert new["value"].to_numpy().tobytes() == old["value"].to_numpy().tobytes()


# ----------------------------------------------------------------------------------------------- silver curves part
def _old_part(args: list[tuple]) -> pd.DataFrame:  # type: ignore[type-arg]
    """``silver.curves``' part table before the eighth round: a frame per curve, concatenated, sorted by pandas."""
    frames = []
    for dates, curve, labels, du, years, values in args:
        S, T = values.shape
        df = pd.DataFrame({"date": np.repeat(dates, T), "curve": curve,
                           "tenor_label": np.tile(np.asarray(labels, dtype=object), S),
                           "tenor_du": np.tile(np.asarray(du, dtype=np.int64), S),
                           "tenor_years": np.tile(np.asarray(years, dtype=float), S), "rate": values.reshape(-1)})
        frames.append(df.loc[np.isfinite(df["rate"].to_numpy())])
    part = pd.concat(frames, ignore_index=True)
    part["date"] = date_objects(part["date"])
    return part.sort_values(["date", "curve", "tenor_label"], kind="mergesort").reset_index(drop=True)


@pytest.mark.parametrize("variant", ["plain", "repeated_label", "repeated_curve", "repeated_dates", "nat", "one",
                                     "all_nan"])
def test_part_from_arrays_is_the_sorted_concat(variant: str) -> None:
    rng = np.random.default_rng(51)
    window = np.arange(np.datetime64("2025-01-02"), np.datetime64("2025-01-30"))
    labels_br = ["21du", "63du", "126du", "1260du", "252du"]
    us = ["3M", "10Y", "1Y", "30Y"]
    specs = [("DI_PRE", labels_br), ("BR_REAL", labels_br), ("UST_NOM", us), ("DI_UST_SPREAD", ["10Y", "1Y"]),
             ("BR_BEI", labels_br)]
    if variant == "repeated_label":
        specs[2] = ("UST_NOM", ["3M", "10Y", "3M", "30Y"])
    elif variant == "repeated_curve":
        specs[4] = ("DI_PRE", ["5du"])
    elif variant == "repeated_dates":
        window = np.sort(np.concatenate([window, window[:5]]))
    elif variant == "nat":
        window = window.copy()
        window[3] = np.datetime64("NaT")
    elif variant == "one":
        specs = specs[:1]
    args = []
    for curve, labels in specs:
        rates = rng.normal(0.1, 0.01, (len(window), len(labels)))
        rates[rng.random(rates.shape) < 0.1] = np.nan
        rates[0, 0] = -0.0
        if variant == "all_nan" and curve == "BR_REAL":
            rates[:] = np.nan
        du = [int(rng.integers(1, 3000)) for _ in labels]
        args.append((window, curve, labels, du, [d / 252 for d in du], rates))
    new = curves._part([curves._long(*a) for a in args])
    old = _old_part(args)
    pd.testing.assert_frame_equal(new, old, check_exact=True)
    assert new["rate"].to_numpy().tobytes() == old["rate"].to_numpy().tobytes()


def test_build_curves_part_is_the_sorted_concat(monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole step on the silver curves fixture, with the part table made as before."""
    import tests.unit.test_silver_curves as tc

    sessions = tc.previous_sessions(tc.D, 79) + [tc.D]
    for dap in (True, False):
        b3, tsy = tc.make_b3(sessions, dap=dap), tc.make_tsy(sessions)
        new = curves.build_curves(b3, tsy, tc.D, tc._params(lookback_sessions=60))
        seen: list[tuple] = []  # type: ignore[type-arg]
        with monkeypatch.context() as mp:
            mp.setattr(curves, "_long", lambda *a, seen=seen: seen.append(a))
            mp.setattr(curves, "_part", lambda blocks, seen=seen: _old_part(seen))
            old = curves.build_curves(b3, tsy, tc.D, tc._params(lookback_sessions=60))
        assert len(seen) >= 4
        for k in ("part", "slopes", "ns_params"):
            pd.testing.assert_frame_equal(new[k], old[k], check_exact=True)


def test_build_returns_prices_window_is_a_fresh_lookback_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """The prices get the lookback window made once (before: made again for them), untouched by the cut of the
    returns' window: the same array as a fresh ``lookback_window``, with a price gap shortening the window too."""
    from tests.unit.test_silver_returns import D as RD
    from tests.unit.test_silver_returns import _params, make_inputs

    seen: list[np.ndarray] = []
    real = returns._prices

    def spy(closes, fx, cdi, sofr, window, limit):  # type: ignore[no-untyped-def]
        seen.append(window.copy())
        return real(closes, fx, cdi, sofr, window, limit)

    monkeypatch.setattr(returns, "_prices", spy)
    for inp, n in ((make_inputs(), 25), (make_inputs(), 400)):
        returns.build_returns(inp, RD, _params(lookback_sessions=n))
        fresh = curves.lookback_window(RD, n)
        assert seen[-1].dtype == fresh.dtype and seen[-1].tobytes() == fresh.tobytes()


def _old_daily_series(dates, values) -> pd.Series:  # type: ignore[no-untyped-def]
    """``silver.returns.daily_series`` before the eighth round (a Series deduplicated, sorted and filtered)."""
    s = pd.Series(np.asarray(values, dtype=float), index=pd.to_datetime(pd.Series(dates)).to_numpy().astype(
        "datetime64[D]"))
    s = s[~s.index.duplicated(keep="last")].sort_index()
    out: pd.Series = s[np.isfinite(s.to_numpy())]
    return out


@pytest.mark.parametrize("variant", ["plain", "repeats", "objects", "strings", "timestamps", "nat", "empty", "one",
                                     "times_of_day"])
def test_daily_series_from_unique_is_the_series_before(variant: str) -> None:
    rng = np.random.default_rng(61)
    n = 50
    days = [dt.date(2025, 1, 1) + dt.timedelta(days=int(x)) for x in rng.integers(0, 40, n)]  # repeats, unsorted
    values = rng.normal(5, 1, n)
    values[[1, 4, 9]] = [np.nan, np.inf, -0.0]
    dates: object = days
    if variant == "plain":
        dates, values = sorted(set(days)), rng.normal(5, 1, len(set(days)))
    elif variant == "objects":
        dates = pd.Series(days, dtype=object)
    elif variant == "strings":
        dates = np.array([d.isoformat() for d in days], dtype=object)
    elif variant == "timestamps":
        dates = pd.Series(pd.to_datetime(days))
    elif variant == "nat":
        dates = [None if i % 7 == 0 else d for i, d in enumerate(days)]
    elif variant == "empty":
        dates, values = [], np.array([])
    elif variant == "one":
        dates, values = days[:1], values[:1]
    elif variant == "times_of_day":
        dates = [pd.Timestamp(d) + pd.Timedelta(hours=int(h)) for d, h in zip(days, rng.integers(0, 24, n),
                                                                                strict=True)]
    new = returns.daily_series(dates, values)
    old = _old_daily_series(dates, values)
    pd.testing.assert_series_equal(new, old, check_exact=True, check_freq=True)
    assert new.to_numpy().tobytes() == old.to_numpy().tobytes()
    assert new.index.dtype == old.index.dtype and new.index.freq == old.index.freq


# ----------------------------------------------------------------------------------------------- report CDI accrual
def _old_cdi_accrual(macro: pd.DataFrame | None, sessions: list[dt.date]) -> tuple[float | None, str]:
    """``report.track.cdi_accrual`` before the eighth round (a filter of the series per session)."""
    if macro is None:
        return None, "silver_macro missing"
    c = macro.loc[macro["series"] == "br_cdi_daily"]
    if c.empty:
        return None, "silver_macro has no br_cdi_daily"
    s = c.assign(d=date_objects(c["observation_date"])).set_index("d")["value"].sort_index()
    acc = 1.0
    for d in sessions:
        prior = s.loc[s.index < d]
        if prior.empty:
            return None, f"no CDI before {d.isoformat()} in silver_macro"
        acc *= 1.0 + float(prior.iloc[-1])
    return acc - 1.0, f"br_cdi_daily compounded over {len(sessions)} sessions"


@pytest.mark.parametrize("variant", ["plain", "repeated", "before_first", "timestamps", "nat", "no_cdi", "none",
                                     "no_sessions"])
def test_cdi_accrual_by_bisection_is_the_filter_per_session(variant: str) -> None:
    import brmacro.report.track as track

    rng = np.random.default_rng(71)
    days = [dt.date(2025, 1, 1) + dt.timedelta(days=int(x)) for x in rng.permutation(60)]
    macro = pd.DataFrame({"series": "br_cdi_daily", "observation_date": days, "value": rng.normal(4e-4, 1e-5, 60),
                          "release_date": days})
    macro = pd.concat([macro, macro.assign(series="br_selic_target")], ignore_index=True)
    sessions = [dt.date(2025, 2, 10) + dt.timedelta(days=i) for i in range(8)]
    if variant == "repeated":
        macro = pd.concat([macro, macro.iloc[:10].assign(value=0.001)], ignore_index=True)
    elif variant == "before_first":  # the first observation's day: nothing before it
        sessions = [*sessions, dt.date(2025, 1, 1)]
    elif variant == "timestamps":
        macro = macro.assign(observation_date=pd.to_datetime(macro["observation_date"]))
    elif variant == "nat":
        macro = macro.astype({"observation_date": object})
        macro.loc[5, "observation_date"] = None
    elif variant == "no_cdi":
        macro = macro.loc[macro["series"] != "br_cdi_daily"]
    elif variant == "no_sessions":
        sessions = []
    m_ = None if variant == "none" else macro
    new = track.cdi_accrual(m_, sessions)
    old = _old_cdi_accrual(m_, sessions)
    assert new == old
    assert (new[0] is None) == (variant in ("before_first", "no_cdi", "none"))


# ----------------------------------------------------------------------------------------------- silver Focus series
def _old_focus_series(focus: pd.DataFrame, date: dt.date, spec: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """``silver.macro.focus_series`` before the eighth round (a frame per series, concatenated).

    Focus medians as series dated by survey date.

    Rows released after ``date`` are dropped. Several rows for one (indicator, reference, survey
    date) are reduced to one: the latest ``release_date`` wins, then the most respondents, then
    the smallest median (a deterministic last resort).

    Parameters
    ----------
    spec : mapping
        Output name -> ``[indicator, reference]`` where reference is ``12m``, ``cy0`` (the survey
        date's calendar year), ``cy1`` (the next year) or a literal year.
    """
    df = focus.loc[m.dates_on_or_before(focus["release_date"], date)].copy()
    if df.empty:
        return pd.DataFrame(columns=m.COLS)
    df["resp"] = df["respondents"].fillna(-1)
    df = df.sort_values(["indicator", "reference", "survey_date", "release_date", "resp", "median"],
                        ascending=[True, True, True, True, True, False], kind="mergesort")
    df = df.drop_duplicates(["indicator", "reference", "survey_date"], keep="last")
    year = pd.to_datetime(df["survey_date"]).dt.year
    refs = df["reference"].astype(str)
    years: dict[str, pd.Series] = {}  # each calendar-year reference's strings, made once for the series that use it
    out = []
    for name, (indicator, ref) in sorted(spec.items()):
        if ref in ("cy0", "cy1"):
            if ref not in years:
                years[ref] = (year + (1 if ref == "cy1" else 0)).astype(str)
            want = years[ref]
        else:
            want = pd.Series(str(ref), index=df.index)
        sel = df.loc[(df["indicator"] == indicator) & (refs == want)]
        out.append(pd.DataFrame({"series": name, "observation_date": sel["survey_date"].to_numpy(),
                                 "value": sel["median"].to_numpy(dtype=float),
                                 "release_date": sel["release_date"].to_numpy()}))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=m.COLS)



@pytest.mark.parametrize("variant", ["plain", "timestamps", "nothing_matches", "empty_spec", "after"])
def test_focus_series_one_frame_is_the_concat_of_frames(variant: str) -> None:
    from tests.unit.test_silver_macro_kept import test_focus_series_years_made_once_is_the_per_series_conversion as t

    rng = np.random.default_rng(81)
    days = [dt.date(2023, 1, 6) + dt.timedelta(days=7 * k) for k in range(60)]
    rows = [(ind, ref, d, float(rng.normal(0.04, 0.01)), int(rng.integers(10, 90)), d + dt.timedelta(days=3))
            for d in days for ind in ("IPCA", "Selic") for ref in ("12m", str(d.year), str(d.year + 1), "2030")
            if rng.random() < 0.9]
    df = pd.DataFrame(rows, columns=["indicator", "reference", "survey_date", "median", "respondents", "release_date"])
    df = pd.concat([df, df.iloc[::4].assign(median=-0.0)])
    df["mean"], df["std"], df["release_basis"] = df["median"], np.nan, "vintage"
    spec: dict[str, list[str]] = {"a_12m": ["IPCA", "12m"], "b_cy0": ["IPCA", "cy0"], "c_cy1": ["Selic", "cy1"],
                                  "f_lit": ["Selic", "2030"], "g_none": ["Câmbio", "cy0"]}
    day = dt.date(2024, 3, 1)
    if variant == "timestamps":
        df = df.assign(survey_date=pd.to_datetime(df["survey_date"]))
    elif variant == "nothing_matches":
        spec = {"g_none": ["Câmbio", "cy0"], "h_none": ["IPCA", "1999"]}
    elif variant == "empty_spec":
        spec = {}
    elif variant == "after":
        day = dt.date(2020, 1, 1)
    new = m.focus_series(df, day, spec)
    old = _old_focus_series(df, day, spec)
    pd.testing.assert_frame_equal(new, old, check_exact=True)
    if len(new):
        assert new["value"].to_numpy().tobytes() == old["value"].to_numpy().tobytes()
    assert (len(new) == 0) == (variant in ("nothing_matches", "empty_spec", "after"))
    t()  # the pre-seventh-round reference too
