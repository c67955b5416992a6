"""Macro: every registry series point in time, the derived series and the Focus medians.

* Raw series: every ``bronze_bcb_sgs`` / ``bronze_fred`` row whose ``series_id`` is in the registry
  (:mod:`brmacro.series`), renamed to its internal name; for FRED the **highest vintage released
  by the partition date** of each observation wins. Rows released after the partition date are
  dropped (bronze already excludes them; silver checks again).
* Derived series carry ``release_date`` = the latest release among the inputs of each value. The
  HP-filter gaps are computed with the **two-sided** filter on all data public at the partition
  date, so every gap value depends on the whole sample: their release date is the latest release
  of the whole input (they are revised whenever a new observation comes out).
* Focus: one row per (indicator, reference, survey date) -- see :func:`focus_series`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.tsa.filters.hp_filter import hpfilter

from brmacro.errors import InputMissing
from brmacro.io import date_objects, dates_on_or_before, holds_date_objects
from brmacro.kept import KeptFrames
from brmacro.series import SERIES, Series

__all__ = [
    "MacroUnitError",
    "Obs",
    "build_macro",
    "compound",
    "focus_series",
    "hp_gap",
    "latest_vintage",
    "ratio_change",
    "saar_from_index",
    "saar_from_rates",
]

log = logging.getLogger("brmacro.silver_macro")

COLS = ["series", "observation_date", "value", "release_date"]


class MacroUnitError(InputMissing):
    """A series value is outside the plausible range of its declared unit (percent instead of decimal?)."""


# A regular-frequency observation table: PeriodIndex -> (value, release as datetime64)
Obs = pd.DataFrame

#: per-series results kept per process (:class:`brmacro.kept.KeptFrames`): a monthly or quarterly series and
#: what is derived from it change only on a release day, so consecutive sessions of one process share them.
_KEPT: KeptFrames[pd.DataFrame] = KeptFrames(256)


def _obs_key(obs: Obs) -> tuple[Any, ...] | None:
    """Everything a derived-series function reads of ``obs``, as bytes: its period index (frequency, name,
    ordinals) and each column's name, dtype and values; None (do not keep) for another index or an object
    column. Values that differ only in a NaN payload or a -0.0 differ here (a miss, never a wrong hit)."""
    idx = obs.index
    if not isinstance(idx, pd.PeriodIndex) or not isinstance(idx.name, (str, type(None))) \
            or not obs.columns.is_unique:
        return None
    ordinals: np.ndarray = idx.asi8  # type: ignore[attr-defined]
    parts: list[Any] = [idx.freqstr, idx.name, ordinals.tobytes(), tuple(map(str, obs.columns)),
                        tuple(type(c).__name__ for c in obs.columns)]
    for name in obs.columns:
        a = obs[name].to_numpy()
        if a.dtype.hasobject:
            return None
        parts.append((a.dtype.str, a.tobytes()))
    return tuple(parts)


def _fkey(*args: Any) -> tuple[Any, ...]:
    """Arguments as a key: floats by their exact bits (``hex``: -0.0 is not 0.0), everything else as given."""
    return tuple(a.hex() if isinstance(a, float) else a for a in args)


def _period_ordinals(dates: np.ndarray, freq: str) -> np.ndarray:
    """``PeriodIndex(dates, freq).astype("int64")``: for days, months and quarters (Q-DEC) the ordinal is a count
    since 1970-01 (days, months, months // 3, floored), taken on ``datetime64`` without building Period objects."""
    if freq in ("D", "M", "Q") and dates.dtype.kind == "M" and not np.isnat(dates).any():
        if freq == "D":
            return dates.astype("datetime64[D]").astype("int64")
        months = dates.astype("datetime64[M]").astype("int64")
        return months if freq == "M" else months // 3
    return np.asarray(pd.PeriodIndex(dates, freq=freq).astype("int64"))


def _period_starts(index: pd.PeriodIndex) -> np.ndarray:
    """``index.to_timestamp(how="start").date``: the inverse of :func:`_period_ordinals` for days, months and
    quarters (Q-DEC) without NaT, a ``datetime.date`` per period from ``datetime64`` (no Timestamp per period)."""
    ords = np.asarray(index.astype("int64"))
    if index.freqstr in ("D", "M", "Q-DEC") and not (ords == np.iinfo(np.int64).min).any():
        if index.freqstr == "D":
            days = ords.astype("datetime64[D]")
        else:
            days = (ords * (3 if index.freqstr == "Q-DEC" else 1)).astype("datetime64[M]").astype("datetime64[D]")
        if len(days) == 0 or (days.min() >= np.datetime64("0001-01-01") and days.max() <= np.datetime64("9999-12-31")):
            out: np.ndarray = days.astype(object)
            return out
    starts: np.ndarray = index.to_timestamp(how="start").date
    return starts


def _regular(df: pd.DataFrame, freq: str) -> Obs:
    """Values and releases on a contiguous PeriodIndex (gaps as NaN/NaT)."""
    if df.empty:
        return pd.DataFrame({"value": pd.Series(dtype=float), "release": pd.Series(dtype="datetime64[ns]")},
                            index=pd.PeriodIndex([], freq=freq))
    return _regular_arrays(pd.to_datetime(df["observation_date"]).to_numpy(), df["value"].to_numpy(dtype=float),
                           pd.to_datetime(df["release_date"]).to_numpy(), freq)


def _regular_arrays(observed: np.ndarray, value: np.ndarray, release: np.ndarray, freq: str) -> Obs:
    """:func:`_regular` of a non-empty series given as arrays (observation dates and releases as ``datetime64``)."""
    # The last row of each period, on a contiguous range of period ordinals (numpy, no index alignment):
    # the same frame as indexing by period, dropping repeated periods (keep the last), sorting and reindexing.
    ords = _period_ordinals(observed, freq)
    uniq, first_from_end = np.unique(ords[::-1], return_index=True)
    last = len(ords) - 1 - first_from_end
    at = uniq - uniq[0]
    vals = np.full(int(at[-1]) + 1, np.nan)
    vals[at] = value[last]
    rels = np.full(int(at[-1]) + 1, np.datetime64("NaT"), dtype=release.dtype)
    rels[at] = release[last]
    full = pd.period_range(pd.Period(ordinal=int(uniq[0]), freq=freq), periods=len(vals), freq=freq)
    return pd.DataFrame({"value": vals, "release": rels}, index=full)


def _ns(rel: pd.Series) -> pd.Series:
    """Datetimes as float nanoseconds (NaN for NaT), for rolling maxima."""
    v = pd.to_datetime(rel).to_numpy().astype("datetime64[ns]")
    return pd.Series(np.where(np.isnat(v), np.nan, v.view("int64").astype(float)), index=rel.index)


def _from_ns(v: pd.Series) -> pd.Series:
    return pd.to_datetime(v.round(), unit="ns")


def _rolling_release(rel: pd.Series, window: int) -> pd.Series:
    return _from_ns(_ns(rel).rolling(window, min_periods=window).max())


def compound(obs: Obs, window: int) -> Obs:
    """``∏(1 + m) − 1`` over ``window`` consecutive periods (NaN if any period is missing).

    Parameters
    ----------
    obs : DataFrame
        Regular observations (``value`` per period as a decimal, ``release``).
    window : int
        Number of periods (12 for a 12-month change from monthly changes).

    Notes
    -----
    Kept per process by the bytes of ``obs`` (:data:`_KEPT`): a monthly series is compounded once per release.
    """
    k = _obs_key(obs)
    return _KEPT.get(None if k is None else ("compound", *_fkey(window), k), lambda: _compound(obs, window))


def _compound(obs: Obs, window: int) -> Obs:
    val = np.expm1(np.log1p(obs["value"]).rolling(window, min_periods=window).sum())
    return pd.DataFrame({"value": val, "release": _rolling_release(obs["release"], window)}, index=obs.index)


def saar_from_rates(obs: Obs, window: int = 3, periods_per_year: int = 12) -> Obs:
    """Annualised change from ``window`` period rates: ``(∏(1 + m))^(periods_per_year/window) − 1``."""
    c = compound(obs, window)
    c["value"] = np.power(1.0 + c["value"], periods_per_year / window) - 1.0
    return c


def ratio_change(obs: Obs, lag: int, power: float = 1.0) -> Obs:
    """``(I_t / I_{t−lag})^power − 1`` on a regular index level; release = later of the two (kept per process by
    the bytes of ``obs``, :data:`_KEPT`)."""
    k = _obs_key(obs)
    return _KEPT.get(None if k is None else ("ratio_change", *_fkey(lag, power), k),
                     lambda: _ratio_change(obs, lag, power))


def _ratio_change(obs: Obs, lag: int, power: float) -> Obs:
    val = np.power(obs["value"] / obs["value"].shift(lag), power) - 1.0
    rel = pd.concat([obs["release"], obs["release"].shift(lag)], axis=1).max(axis=1, skipna=False)
    return pd.DataFrame({"value": val, "release": pd.to_datetime(rel)}, index=obs.index)


def saar_from_index(obs: Obs, months: int = 3, periods_per_year: int = 12) -> Obs:
    """``(I_t / I_{t−months})^(periods_per_year/months) − 1``."""
    return ratio_change(obs, months, periods_per_year / months)


def hp_gap(obs: Obs, lamb: float, min_obs: int) -> Obs:
    """Gap of ``log(level)`` to its two-sided Hodrick-Prescott trend (statsmodels ``hpfilter``).

    Uses the trailing run of consecutive observations. Every value's release is the latest
    release of that run (the two-sided filter revises the whole path with each new point).

    Raises
    ------
    ValueError
        A non-positive level.

    Notes
    -----
    A gap is kept per process by the bytes of ``obs`` (:data:`_KEPT`); no gap (too short a run, logged) is not.
    """
    k = _obs_key(obs)
    return _KEPT.get(None if k is None else ("hp_gap", *_fkey(lamb, min_obs), k), lambda: _hp_gap(obs, lamb, min_obs),
                     keep=lambda out: len(out) > 0)


def _hp_gap(obs: Obs, lamb: float, min_obs: int) -> Obs:
    v = obs["value"]
    ok = v.notna().to_numpy()
    if not ok.any():
        return obs.iloc[:0]
    last = int(np.flatnonzero(ok)[-1])
    first = last
    while first > 0 and ok[first - 1]:
        first -= 1
    run = obs.iloc[first:last + 1]
    if len(run) < min_obs:
        log.warning("hp_gap: %d consecutive observations (< %d); no gap", len(run), min_obs)
        return obs.iloc[:0]
    if bool((run["value"] <= 0).any()):
        raise ValueError("hp_gap: levels must be positive to take logs")
    cycle, _trend = hpfilter(np.log(run["value"].to_numpy(dtype=float)), lamb=lamb)
    rel = run["release"].max()
    return pd.DataFrame({"value": np.asarray(cycle, dtype=float), "release": rel}, index=run.index)


def latest_vintage(fred: pd.DataFrame, date: dt.date) -> pd.DataFrame:
    """FRED rows public by ``date``, keeping the highest vintage per (series, observation)."""
    df = fred.loc[dates_on_or_before(fred["release_date"], date)]
    df = df.sort_values(["series_id", "observation_date", "vintage", "release_date"], kind="mergesort")
    return df.drop_duplicates(["series_id", "observation_date"], keep="last").reset_index(drop=True)


def focus_series(focus: pd.DataFrame, date: dt.date, spec: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """Focus medians as series dated by survey date.

    Rows released after ``date`` are dropped. Several rows for one (indicator, reference, survey
    date) are reduced to one: the latest ``release_date`` wins, then the most respondents, then
    the smallest median (a deterministic last resort).

    Parameters
    ----------
    spec : mapping
        Output name -> ``[indicator, reference]`` where reference is ``12m``, ``cy0`` (the survey
        date's calendar year), ``cy1`` (the next year) or a literal year.
    """
    df = focus.loc[dates_on_or_before(focus["release_date"], date)].copy()
    if df.empty:
        return pd.DataFrame(columns=COLS)
    df["resp"] = df["respondents"].fillna(-1)
    df = df.sort_values(["indicator", "reference", "survey_date", "release_date", "resp", "median"],
                        ascending=[True, True, True, True, True, False], kind="mergesort")
    df = df.drop_duplicates(["indicator", "reference", "survey_date"], keep="last")
    year = pd.to_datetime(df["survey_date"]).dt.year
    refs = df["reference"].astype(str)
    years: dict[str, pd.Series] = {}  # each calendar-year reference's strings, made once for the series that use it
    survey, release = df["survey_date"].to_numpy(), df["release_date"].to_numpy()
    median = df["median"].to_numpy(dtype=float)
    out: list[tuple[np.ndarray, ...]] = []
    for name, (indicator, ref) in sorted(spec.items()):
        if ref in ("cy0", "cy1"):
            if ref not in years:
                years[ref] = (year + (1 if ref == "cy1" else 0)).astype(str)
            want = years[ref]
        else:
            want = pd.Series(str(ref), index=df.index)
        at = np.flatnonzero(((df["indicator"] == indicator) & (refs == want)).to_numpy(dtype=bool))
        out.append((np.full(len(at), name, dtype=object), survey[at], median[at], release[at]))
    if not out:
        return pd.DataFrame(columns=COLS)
    # one frame of every series' rows (the columns' arrays at the selected positions): what pd.concat of a frame
    # per series gave (each piece the same dtypes, taken from the same columns; a fresh index)
    return pd.DataFrame({c: np.concatenate([o[i] for o in out]) for i, c in enumerate(COLS)})


def _check_units(name: str, unit: str, df: pd.DataFrame, max_dec: float, max_day: float) -> None:
    lim = {"dec": max_dec, "dec_day": max_day}.get(unit)
    if lim is None or df.empty:
        return
    v = df["value"]
    bad = np.abs(v.to_numpy()) > lim if v.dtype == np.float64 else (v.abs() > lim).to_numpy()
    if bad.any():
        r = df.iloc[int(np.argmax(bad))]
        raise MacroUnitError(
            f"silver_macro: {name} = {r['value']} on {r['observation_date']} exceeds {lim} in absolute value for "
            f"unit {unit!r}; inputs must already be decimals (percent given?)"
        )


def _to_rows(name: str, obs: Obs) -> pd.DataFrame:
    """The rows of a derived series (kept per process by the bytes of ``obs``, :data:`_KEPT`)."""
    k = _obs_key(obs)
    return _KEPT.get(None if k is None else ("rows", name, k), lambda: _rows(name, obs))


def _rows(name: str, obs: Obs) -> pd.DataFrame:
    ok = np.isfinite(obs["value"].to_numpy(dtype=float)) & obs["release"].notna().to_numpy()
    o = obs.loc[ok]
    return pd.DataFrame({
        "series": name,
        "observation_date": _period_starts(o.index) if isinstance(o.index, pd.PeriodIndex)
        else pd.to_datetime(o.index).date,
        "value": o["value"].to_numpy(dtype=float),
        "release_date": date_objects(o["release"]).to_numpy(),
    })


def _raw_rows(s: Series, g: pd.DataFrame, max_dec: float, max_day: float) -> pd.DataFrame:
    """The rows of registry series ``s`` (``g``: its raw rows sorted by observation date), its units checked."""
    _check_units(s.name, s.unit, g, max_dec, max_day)
    return pd.DataFrame({"series": s.name, "observation_date": g["observation_date"].to_numpy(),
                         "value": g["value"].to_numpy(dtype=float), "release_date": g["release_date"].to_numpy()})


def _raw_rows_at(s: Series, raw: pd.DataFrame, at: np.ndarray, max_dec: float, max_day: float,
                 columns: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> pd.DataFrame:
    """:func:`_raw_rows` of the rows ``at`` of ``raw``. ``columns``: ``raw``'s observation dates, values (float64)
    and releases as its columns' arrays, when its ``value`` column is float64: the rows are then taken from them
    (the very arrays ``raw.iloc[at]``'s columns give) without building ``raw.iloc[at]``, which is built only to
    raise the units error as before."""
    if columns is None:
        return _raw_rows(s, raw.iloc[at], max_dec, max_day)
    value = columns[1][at]
    lim = {"dec": max_dec, "dec_day": max_day}.get(s.unit)
    if lim is not None and len(at) and bool((np.abs(value) > lim).any()):
        return _raw_rows(s, raw.iloc[at], max_dec, max_day)  # raises MacroUnitError
    return pd.DataFrame({"series": s.name, "observation_date": columns[0][at], "value": value,
                         "release_date": columns[2][at]})


def _raw_arrays(raw: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The observation dates, values and releases of ``raw`` (a ``RangeIndex``) as :func:`_regular` converts each
    series' rows, converted once: None (convert per series, as :func:`_regular` does) unless each date column
    holds only ``datetime.date`` objects (``pd.to_datetime`` is then per element: a column's conversion is the
    conversion of its rows) or is already a naive ``datetime64``."""
    if not isinstance(raw.index, pd.RangeIndex) or raw.index.start != 0 or raw.index.step != 1:
        return None
    out = []
    for name in ("observation_date", "release_date"):
        col = raw[name]
        if not (holds_date_objects(col) or (col.dtype.kind == "M" and getattr(col.dtype, "tz", None) is None)):
            return None
        out.append(pd.to_datetime(col).to_numpy())
    return out[0], raw["value"].to_numpy(dtype=float), out[1]


def build_macro(
    sgs: pd.DataFrame, fred: pd.DataFrame, focus: pd.DataFrame, date: dt.date, params: Mapping[str, object]
) -> dict[str, pd.DataFrame]:
    """Build the ``silver_macro`` table for session ``date``.

    Parameters
    ----------
    sgs, fred, focus : DataFrame
        ``bronze_bcb_sgs``, ``bronze_fred``, ``bronze_bcb_focus`` (history up to ``date``).
    date : datetime.date
        The partition session.
    params : mapping
        The ``silver`` config subtree (``macro`` subtree inside).

    Raises
    ------
    MacroUnitError
        A decimal series with implausible magnitudes (a percent slipped through).
    """
    cfg: Mapping[str, object] = params["macro"]  # type: ignore[assignment]
    max_dec = float(cfg["max_abs_decimal"])  # type: ignore[arg-type]
    max_day = float(cfg["max_abs_decimal_day"])  # type: ignore[arg-type]
    sgs = sgs.loc[dates_on_or_before(sgs["release_date"], date)]
    raw = pd.concat([sgs[["series_id", "observation_date", "value", "release_date"]],
                     latest_vintage(fred, date)[["series_id", "observation_date", "value", "release_date"]]],
                    ignore_index=True)
    by_sid = {s.sid: s for s in SERIES}
    unknown = sorted(set(raw["series_id"]) - set(by_sid))
    if unknown:
        log.warning("silver_macro %s: series not in the registry ignored: %s", date, unknown)

    frames: list[pd.DataFrame] = []
    obs: dict[str, Obs] = {}
    reg: dict[str, Series] = {}
    cols = _raw_arrays(raw)
    columns = None if cols is None or raw["value"].dtype != np.float64 else \
        (raw["observation_date"].to_numpy(), cols[1], raw["release_date"].to_numpy())
    groups = raw.groupby("series_id", sort=True)
    for sid, rows in groups.indices.items():
        s = by_sid.get(str(sid))
        if s is None:
            continue
        reg[s.name] = s
        freq = {"M": "M", "Q": "Q"}.get(s.freq, "D")
        at = np.asarray(rows)
        if cols is None or np.isnat(cols[0][at]).any():  # per series (pandas puts missing dates last)
            g = raw.iloc[at].sort_values("observation_date", kind="mergesort")
            frames.append(_raw_rows(s, g, max_dec, max_day))
            obs[s.name] = _regular(g, freq)
            continue
        # the rows in the order of g.sort_values("observation_date", kind="mergesort"): a stable sort of the
        # same dates (datetime.date objects order as their datetime64 values; no missing date here)
        at = at[np.argsort(cols[0][at], kind="stable")]
        observed, value, release = cols[0][at], cols[1][at], cols[2][at]
        data = (observed.dtype.str, observed.tobytes(), value.tobytes(), release.dtype.str, release.tobytes())
        frames.append(_KEPT.get(("raw", s.name, s.unit, *_fkey(max_dec, max_day), *data),
                                partial(_raw_rows_at, s, raw, at, max_dec, max_day, columns)))
        obs[s.name] = _KEPT.get(("regular", freq, *data), partial(_regular_arrays, observed, value, release, freq))

    for name, o in _derived(obs, cfg, date).items():
        frames.append(_to_rows(name, o))
    foc = focus_series(focus, date, cfg["focus"])  # type: ignore[arg-type]
    for key, g in foc.groupby("series", sort=True):
        if str(key).startswith(("focus_ipca", "focus_selic", "focus_gdp")):
            _check_units(str(key), "dec", g, max_dec, max_day)
    frames.append(foc)

    part = pd.concat([f for f in frames if len(f)], ignore_index=True) if any(len(f) for f in frames) else \
        pd.DataFrame(columns=COLS)
    part["observation_date"] = date_objects(part["observation_date"])
    part["release_date"] = date_objects(part["release_date"])
    part = part.loc[np.isfinite(part["value"].to_numpy(dtype=float))]
    late = part["release_date"] > date
    if late.any():  # pragma: no cover - guarded by the filters above
        raise AssertionError(f"silver_macro: a value released after {date} survived the filters")
    return {"part": part.sort_values(["series", "observation_date"], kind="mergesort").reset_index(drop=True)}


def _core_mean(twelve: Sequence[Obs], min_cores: int) -> Obs:
    """The mean of the core measures' 12-month changes where at least ``min_cores`` are there; release = the
    latest of those present."""
    val = pd.concat([t["value"] for t in twelve], axis=1)
    rels = pd.concat([_ns(t["release"]) for t in twelve], axis=1)
    enough = val.notna().sum(axis=1) >= min_cores
    return pd.DataFrame({
        "value": val.mean(axis=1).where(enough),
        "release": _from_ns(rels.where(val.notna().to_numpy()).max(axis=1).where(enough)),
    })


def _derived(obs: Mapping[str, Obs], cfg: Mapping[str, object], date: dt.date) -> dict[str, Obs]:
    out: dict[str, Obs] = {}

    def have(*names: str) -> bool:
        missing = [n for n in names if n not in obs or obs[n]["value"].notna().sum() == 0]
        if missing:
            log.warning("silver_macro %s: inputs %s missing; dependent series not built", date, missing)
        return not missing

    lam_m = float(cfg["hp_lambda_monthly"])  # type: ignore[arg-type]
    lam_q = float(cfg["hp_lambda_quarterly"])  # type: ignore[arg-type]
    min_m = int(cfg["hp_min_obs_monthly"])  # type: ignore[call-overload]
    min_q = int(cfg["hp_min_obs_quarterly"])  # type: ignore[call-overload]

    if have("br_ipca_mom"):
        out["br_ipca_12m"] = compound(obs["br_ipca_mom"], 12)
        out["br_ipca_3m_saar"] = saar_from_rates(obs["br_ipca_mom"], 3)
    if have("br_ipca_services"):
        out["br_ipca_services_12m"] = compound(obs["br_ipca_services"], 12)
    cores = [c for c in cfg["core_measures"] if c in obs]  # type: ignore[attr-defined]
    min_cores = int(cfg["core_min_measures"])  # type: ignore[call-overload]
    if len(cores) >= min_cores:
        twelve = [compound(obs[c], 12) for c in cores]
        keys = [_obs_key(t) for t in twelve]
        out["br_ipca_core_12m"] = _KEPT.get(None if any(k is None for k in keys) else ("core_12m", min_cores, *keys),
                                            partial(_core_mean, twelve, min_cores))
    else:
        log.warning("silver_macro %s: %d core measures (< %d); br_ipca_core_12m not built", date, len(cores),
                    min_cores)
    ibc_yoy = str(cfg["ibc_yoy_series"])
    if have(ibc_yoy):
        out["br_ibc_br_yoy"] = ratio_change(obs[ibc_yoy], 12)
    if have("br_ibc_br"):
        out["br_output_gap"] = hp_gap(obs["br_ibc_br"], lam_m, min_m)
    if have("br_gdp_qoq"):
        q = obs["br_gdp_qoq"]
        out["br_gdp_yoy"] = compound(q, 4)
        level = q.copy()
        level["value"] = np.exp(np.log1p(q["value"]).cumsum())  # chained index (NaN after a gap)
        level["release"] = q["release"]
        out["br_gdp_gap"] = hp_gap(level, lam_q, min_q)
    fiscal = (("br_primary_balance", "br_primary_balance_gdp"), ("br_nominal_deficit", "br_nominal_deficit_gdp"))
    for num, name in fiscal:
        if have(num, "br_gdp_12m_brl"):
            a, b = obs[num].align(obs["br_gdp_12m_brl"], join="inner")
            rel = pd.concat([a["release"], b["release"]], axis=1).max(axis=1, skipna=False)
            out[name] = pd.DataFrame({"value": a["value"] / b["value"].where(b["value"] > 0),
                                      "release": pd.to_datetime(rel)})
    if have("br_selic_target"):
        out["br_selic"] = obs["br_selic_target"].dropna()
    if have("br_cdi_daily"):
        c = obs["br_cdi_daily"].dropna()
        out["br_cdi_annual"] = pd.DataFrame({"value": np.power(1.0 + c["value"], 252) - 1.0, "release": c["release"]})
    if have("us_cpi"):
        out["us_cpi_yoy"] = ratio_change(obs["us_cpi"], 12)
    if have("us_cpi_core"):
        out["us_cpi_core_yoy"] = ratio_change(obs["us_cpi_core"], 12)
        out["us_cpi_core_3m_saar"] = saar_from_index(obs["us_cpi_core"], 3)
    if have("us_pce_core"):
        out["us_pce_core_yoy"] = ratio_change(obs["us_pce_core"], 12)
        out["us_pce_core_3m_saar"] = saar_from_index(obs["us_pce_core"], 3)
    if have("us_payrolls"):
        p = obs["us_payrolls"]
        rel = pd.concat([p["release"], p["release"].shift(1)], axis=1).max(axis=1, skipna=False)
        out["us_payrolls_chg"] = pd.DataFrame({"value": p["value"].diff(), "release": pd.to_datetime(rel)})
    if have("us_gdp_real"):
        out["us_gdp_yoy"] = ratio_change(obs["us_gdp_real"], 4)
    return out
