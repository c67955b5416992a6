"""Returns: the excess-return matrix of the tradables and the aligned price series.

Every return is the daily **excess** return of what the book holds, in the price convention
(DESIGN §4), between consecutive B3 sessions ``p`` (previous) and ``t``:

* DI1 constant-maturity point of ``n`` du: ``PU_t(r_t(n−k), n−k) / (PU_p(r_p(n), n)·(1+CDI_p)^k) − 1``,
  ``k`` ANBIMA business days in ``[p, t)``, ``CDI_p`` the daily CDI of session ``p``. Rates come
  from the DI1 settlements interpolated flat-forward (:func:`brmacro.silver.curves.flat_forward`).
* USDBRL (long USD): ``S_t/S_p − 1 − [((1+CDI_p)^k − 1) − SOFR_p·days/360]``.
* IBOV: ``I_t/I_p − 1 − ((1+CDI_p)^k − 1)``; SPX: ``I_t/I_p − 1 − SOFR_p·days/360``.
* UST_10Y: ``−D_p·(y_t − y_p) + (y_p − SOFR_p)·days/365`` with ``D_p`` the modified duration of a
  10-year semi-annual par bond at ``y_p`` (:func:`par_bond_duration`).

``days`` are calendar days between the sessions.

Crisis table
------------
Silver keeps ``silver.lookback_sessions`` sessions, but the historical replay of the risk layer
needs the configured crisis windows, years older. ``crisis`` holds the same ``level``/``ret`` of
every window of ``bronze.crisis_windows`` (the slices every bronze partition carries) that starts on
or before the session, clipped to it, computed by the same rules from the same session's bronze rows
(released on or before ``D``). Bronze carries a window from its first day, so the window's first
session has no return (no previous close): a window's returns are those of the sessions after its
first, i.e. the move from the close of its first session to the close of its last. The cost is
bounded by the windows' length (the four defaults: about 270 sessions). A window whose data are
incomplete is left out with a warning; the replay then reports it as not in history.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd

from brmacro.calendar import du as anbima_du
from brmacro.calendar import sessions_between
from brmacro.errors import InputMissing
from brmacro.instruments import INSTRUMENTS, Instrument, di1_pu
from brmacro.io import date_objects, dates_on_or_before
from brmacro.kept import KeptFrames
from brmacro.silver.curves import (
    Nodes,
    align_asof,
    curve_nodes,
    flat_forward,
    interp_linear_rows,
    lookback_window,
    public_by,
    treasury_nodes,
)

__all__ = [
    "PriceGapError",
    "build_returns",
    "crisis_returns",
    "daily_series",
    "di1_excess_returns",
    "par_bond_duration",
    "rolling_vol",
    "rolling_z",
]

log = logging.getLogger("brmacro.silver_returns")


class PriceGapError(InputMissing):
    """A price or rate needed for a return is missing for longer than the forward-fill limit."""


# --------------------------------------------------------------------------------------------
# pure maths
# --------------------------------------------------------------------------------------------


def par_bond_duration(y: np.ndarray | float, years: float = 10.0, freq: int = 2) -> np.ndarray:
    """Modified duration (years) of a par bond: ``(1 − (1 + y/f)^(−f·T)) / y`` (``T`` at ``y → 0``).

    Parameters
    ----------
    y : float or ndarray
        Par yield, decimal per year.
    years : float
        Maturity ``T`` in years.
    freq : int
        Coupons per year ``f``.
    """
    y = np.asarray(y, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        d = -np.expm1(-freq * years * np.log1p(y / freq)) / y
    return np.where(np.abs(y) < 1e-12, years, d)


def di1_excess_returns(nodes: Nodes, sessions: np.ndarray, tenor_du: int, cdi_prev: np.ndarray) -> tuple[
        np.ndarray, np.ndarray]:
    """Level and excess return of a DI1 constant-maturity point over consecutive sessions.

    Parameters
    ----------
    nodes : Nodes
        DI1 vertices (du, rate), one row per entry of ``sessions``.
    sessions : ndarray of datetime64[D]
        Consecutive B3 sessions.
    tenor_du : int
        The constant maturity ``n`` in ANBIMA business days.
    cdi_prev : ndarray
        Daily CDI (decimal per day) of the *previous* session, aligned with ``sessions``
        (the first entry is unused).

    Returns
    -------
    level : ndarray
        Zero rate at ``n`` du per session.
    ret : ndarray
        Excess return (NaN on the first session).
    """
    level = flat_forward(nodes.x, nodes.y, np.array([float(tenor_du)]))[:, 0]
    ret = np.full(len(sessions), np.nan)
    if len(sessions) < 2:
        return level, ret
    k = anbima_du(sessions[:-1], sessions[1:]).astype(float)
    rolled = np.maximum(tenor_du - k, 0.0)
    r_new = flat_forward(nodes.x[1:], nodes.y[1:], rolled[:, None])[:, 0]
    pu_new = di1_pu(r_new, rolled)
    pu_old = di1_pu(level[:-1], float(tenor_du)) * np.power(1.0 + cdi_prev[1:], k)
    ret[1:] = pu_new / pu_old - 1.0
    return level, ret


def rolling_vol(ret: pd.DataFrame, window: int, annualisation: float = 252.0) -> pd.DataFrame:
    """Annualised rolling sample standard deviation (ddof=1), NaN until ``window`` returns exist."""
    vol: pd.DataFrame = ret.rolling(window, min_periods=window).std(ddof=1) * np.sqrt(annualisation)
    return vol


def rolling_z(level: pd.DataFrame, window: int) -> pd.DataFrame:
    """``(x − mean) / std`` over the trailing ``window`` observations (including today), ddof=1.

    NaN until ``window`` observations exist and where the window is constant.
    """
    roll = level.rolling(window, min_periods=window)
    sd = roll.std(ddof=1)
    z = (level - roll.mean()) / sd.where(sd > 0)
    return z


# --------------------------------------------------------------------------------------------
# bronze -> aligned daily series
# --------------------------------------------------------------------------------------------


def daily_series(dates: Sequence[object] | pd.Series | np.ndarray,
                 values: Sequence[float] | pd.Series | np.ndarray) -> pd.Series:
    """A float series indexed by sorted unique ``datetime64[D]`` dates (last value wins on a repeat).

    Without a missing date, the distinct days and each one's last row come from ``np.unique`` of the days
    reversed (sorted, as ``sort_index`` of distinct days sorts them) and the Series is made once from the kept
    days and values, as the filtered one was (the same index conversion of ``datetime64[D]`` days).
    """
    v = np.asarray(values, dtype=float)
    days = pd.to_datetime(pd.Series(cast(Any, dates))).to_numpy().astype("datetime64[D]")
    if len(days) == 0 or len(days) != len(v) or bool(np.isnat(days).any()):
        s = pd.Series(v, index=days)
        s = s[~s.index.duplicated(keep="last")].sort_index()
        out: pd.Series = s[np.isfinite(s.to_numpy())]
        return out
    uniq, first_from_end = np.unique(days[::-1], return_index=True)
    kept = v[len(days) - 1 - first_from_end]
    ok = np.isfinite(kept)
    return pd.Series(kept[ok], index=uniq[ok])


def _aligned(s: pd.Series, sessions: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """Values of ``s`` carried onto ``sessions`` (as of), and the staleness in sessions."""
    pos, lag = align_asof(s.index.to_numpy().astype("datetime64[D]"), sessions)
    vals = np.where(pos >= 0, s.to_numpy()[np.maximum(pos, 0)] if len(s) else np.nan, np.nan)
    vals = np.where(lag <= limit, vals, np.nan)
    return vals, lag


def _require(name: str, s: pd.Series, sessions: np.ndarray, limit: int) -> np.ndarray:
    vals, lag = _aligned(s, sessions, limit)
    bad = lag > limit
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise PriceGapError(
            f"silver_returns: {name} has no value for session {sessions[i]} "
            f"(forward fill limited to {limit} sessions)"
        )
    return vals


def _fred(fred: pd.DataFrame, sid: str, date: dt.date) -> pd.Series:
    df = fred.loc[(fred["series_id"] == sid) & dates_on_or_before(fred["release_date"], date)]
    df = df.sort_values(["observation_date", "vintage"], kind="mergesort").drop_duplicates(
        "observation_date", keep="last")
    return daily_series(df["observation_date"], df["value"])


def _sgs(sgs: pd.DataFrame, sid: str, date: dt.date) -> pd.Series:
    df = sgs.loc[(sgs["series_id"] == sid) & dates_on_or_before(sgs["release_date"], date)]
    return daily_series(df["observation_date"], df["value"])


def _yahoo(yahoo: pd.DataFrame) -> dict[str, pd.Series]:
    """Ticker -> its close (:func:`daily_series`), the frame split once (rows in table order) instead of one
    whole-table filter per ticker."""
    return {str(tk): daily_series(g["date"], g["close"]) for tk, g in yahoo.groupby("ticker", sort=False)}


def build_returns(
    inputs: Mapping[str, pd.DataFrame], date: dt.date, params: Mapping[str, object],
    bronze: Mapping[str, object] | None = None,
) -> dict[str, pd.DataFrame]:
    """Build the ``silver_returns`` tables for session ``date``.

    Parameters
    ----------
    inputs : mapping
        Bronze frames by asset name: ``bronze_yahoo``, ``bronze_bcb_ptax``, ``bronze_b3_market_data``,
        ``bronze_treasury_gov``, ``bronze_bcb_sgs``, ``bronze_fred``.
    date : datetime.date
        The partition session.
    params : mapping
        The ``silver`` config subtree.
    bronze : mapping, optional
        The ``bronze`` config subtree: its ``crisis_windows`` are the windows of the ``crisis`` table
        (the bronze defaults when omitted).

    Returns
    -------
    dict
        ``part`` (returns matrix, long), ``prices`` (aligned price series, long) and ``crisis``
        (level and return over each crisis window started by ``date``).

    Raises
    ------
    PriceGapError
        When a level, the CDI or SOFR is missing for longer than its forward-fill limit
        inside the window, naming the instrument and session.
    """
    lookback = int(params["lookback_sessions"])  # type: ignore[call-overload]
    inst_limit = int(params["instrument_ffill_sessions"])  # type: ignore[call-overload]
    price_limit = int(params["price_ffill_sessions"])  # type: ignore[call-overload]
    rate_limit = int(params["rate_ffill_sessions"])  # type: ignore[call-overload]
    vol_windows = [int(w) for w in params["vol_windows"]]  # type: ignore[attr-defined]
    z_window = int(params["z_window"])  # type: ignore[call-overload]
    ann = float(params["annualisation"])  # type: ignore[arg-type]
    ids: Mapping[str, str] = params["return_series"]  # type: ignore[assignment]
    if sorted(vol_windows) != [21, 63, 252]:
        raise ValueError(f"silver.vol_windows must be [21, 63, 252] (the schema's vol columns), got {vol_windows}")

    yahoo = public_by(inputs["bronze_yahoo"], date)
    ptax = public_by(inputs["bronze_bcb_ptax"], date)
    b3 = public_by(inputs["bronze_b3_market_data"], date)
    tsy = public_by(inputs["bronze_treasury_gov"], date)
    cdi = _sgs(inputs["bronze_bcb_sgs"], ids["cdi"], date)
    sofr = _fred(inputs["bronze_fred"], ids["sofr"], date)
    fx = daily_series(ptax["date"], ptax["sell"])
    di = curve_nodes(b3, "DI1")
    nom = treasury_nodes(tsy, "nominal")
    ust_years = float(params["ust_tenor_years"])  # type: ignore[arg-type]
    ust10 = daily_series(nom.dates, interp_linear_rows(nom.x, nom.y, np.array([ust_years]))[:, 0]) if len(
        nom.dates) else pd.Series(dtype=float)

    closes = _yahoo(yahoo)
    no_close = daily_series(yahoo["date"].iloc[:0], yahoo["close"].iloc[:0])
    level_src: dict[str, pd.Series] = {}
    for ins in INSTRUMENTS:
        if ins.kind == "di1":
            level_src[ins.name] = pd.Series(np.zeros(len(di.dates)), index=di.dates)
        elif ins.kind == "fx":
            level_src[ins.name] = fx
        elif ins.kind == "equity_br":
            level_src[ins.name] = closes.get(ids["ibov"], no_close)
        elif ins.kind == "equity_us":
            level_src[ins.name] = closes.get(ids["spx"], no_close)
        elif ins.kind == "ust":
            level_src[ins.name] = ust10
        else:  # pragma: no cover - instrument table invariant
            raise ValueError(f"silver_returns: no return rule for instrument kind {ins.kind!r} ({ins.name})")
    needed = {**{f"instrument {k}": v for k, v in level_src.items()}, "CDI (bcb_sgs:12)": cdi, "SOFR": sofr}
    for what, s in needed.items():
        if len(s) == 0:
            raise PriceGapError(f"silver_returns: no data for {what} up to {date}")

    full_window = lookback_window(date, lookback)  # once: the prices' window too (the cut below copies it)
    window = full_window
    start = max(s.index[0] for s in needed.values())
    full = len(window)
    window = window[window >= start]
    if len(window) < full:
        log.info("silver_returns %s: common history starts %s; window %d of %d sessions", date, start,
                 len(window), full)
    if len(window) == 0:
        raise PriceGapError(f"silver_returns: no common history of all instruments up to {date}")

    src = _Sources(level_src, di, cdi, sofr, inst_limit, rate_limit, ust_years)
    lv, rt = _levels_returns(src, window)
    stats = {f"vol_{w}": rolling_vol(rt, w, ann) for w in vol_windows}
    stats["z_252"] = rolling_z(lv, z_window)
    part = _long_part(lv, rt, stats)
    part["date"] = date_objects(part["date"])
    part = part[["date", "instrument", "level", "ret", "vol_21", "vol_63", "vol_252", "z_252"]]
    part = part.sort_values(["date", "instrument"], kind="mergesort").reset_index(drop=True)

    prices = _prices(closes, fx, cdi, sofr, full_window, price_limit)
    crisis = crisis_returns(src, date, _crisis_windows(bronze))
    return {"part": part, "prices": prices, "crisis": crisis}


def _long_part(lv: pd.DataFrame, rt: pd.DataFrame, stats: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The level, return and statistics frames (sessions x instruments) as long rows (``date``, ``instrument``,
    ``level``, ``ret``, then ``stats`` in order): ``pd.concat`` of their stacks (the levels' without missing
    values), index reset.

    When every frame has the levels' index and columns (same values and dtypes, each unique), every value is a
    float64 and no level is missing, each stack is the frame's values row after row on the same (date,
    instrument) pairs (no row dropped, nothing to align): the rows are made from the arrays directly. Anything
    else goes through the stacks as before.
    """
    frames = [rt, *stats.values()]
    vals = [f.to_numpy() for f in (lv, *frames)]
    same = all(f.index.equals(lv.index) and f.index.dtype == lv.index.dtype and f.columns.equals(lv.columns)
               and f.columns.dtype == lv.columns.dtype for f in frames)
    if not same or not lv.size or not lv.index.is_unique or not lv.columns.is_unique \
            or any(v.dtype != np.float64 for v in vals) or bool(np.isnan(vals[0]).any()):
        out: pd.DataFrame = pd.concat(
            {"level": lv.stack(), "ret": rt.stack(future_stack=True), **{k_: v.stack(future_stack=True)
                                                                          for k_, v in stats.items()}},
            axis=1,
        ).reset_index(names=["date", "instrument"])
        return out
    n, m = lv.shape
    cols: dict[str, np.ndarray] = {"date": np.repeat(lv.index.to_numpy(), m),
                                   "instrument": np.tile(lv.columns.to_numpy(), n)}
    for name, v in zip(["level", "ret", *stats], vals, strict=True):
        cols[name] = v.reshape(-1)
    return pd.DataFrame(cols)


@dataclass(frozen=True)
class _Sources:
    """The aligned inputs of the return rules (levels by instrument, DI1 vertices, CDI, SOFR) and their limits."""

    level_src: Mapping[str, pd.Series]
    di: Nodes
    cdi: pd.Series
    sofr: pd.Series
    inst_limit: int
    rate_limit: int
    ust_years: float


def _levels_returns(src: _Sources, window: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Level and excess-return frames (session x instrument) over consecutive B3 sessions ``window``."""
    cdi_v = _require("CDI (bcb_sgs:12)", src.cdi, window, src.rate_limit)
    sofr_v = _require("SOFR (fred:SOFR)", src.sofr, window, src.rate_limit)
    cdi_prev = np.concatenate([[np.nan], cdi_v[:-1]])
    sofr_prev = np.concatenate([[np.nan], sofr_v[:-1]])
    days = np.concatenate([[np.nan], np.diff(window).astype(float)])
    k = np.concatenate([[np.nan], anbima_du(window[:-1], window[1:]).astype(float)]) if len(window) > 1 else \
        np.array([np.nan])
    cdi_carry = np.power(1.0 + cdi_prev, k) - 1.0
    sofr_carry = sofr_prev * days / 360.0

    levels: dict[str, np.ndarray] = {}
    rets: dict[str, np.ndarray] = {}
    for ins in INSTRUMENTS:
        levels[ins.name], rets[ins.name] = _instrument(ins, src.level_src[ins.name], src.di, window, src.inst_limit,
                                                       cdi_prev, cdi_carry, sofr_prev, sofr_carry, days,
                                                       src.ust_years)
    idx = pd.Index(window, name="date")
    return pd.DataFrame(levels, index=idx), pd.DataFrame(rets, index=idx)


def _crisis_windows(bronze: Mapping[str, object] | None) -> list[tuple[str, dt.date, dt.date]]:
    """``(name, start, end)`` of ``bronze.crisis_windows`` (the bronze defaults when ``bronze`` is None)."""
    from brmacro.bronze.params import parse_params

    wins = parse_params(bronze).crisis_windows
    return [(w.name, w.start, w.end) for w in wins]


def crisis_returns(src: _Sources, date: dt.date, windows: Sequence[tuple[str, dt.date, dt.date]]) -> pd.DataFrame:
    """The ``crisis`` table: level and excess return of every instrument over each crisis window.

    Parameters
    ----------
    src : _Sources
        The aligned bronze inputs of the session (rows released on or before ``date`` only).
    date : datetime.date
        The partition session: windows starting after it are skipped, the others clipped to it.
    windows : sequence of (name, start, end)
        The configured crisis windows (``bronze.crisis_windows``).

    Returns
    -------
    DataFrame
        Columns ``window, date, instrument, level, ret`` (``ret`` null on a window's first session).
        A window whose inputs have a gap longer than the forward-fill limits is left out (logged).

    Notes
    -----
    The table is a function of the windows' sessions, the limits and the observations of each input dated on
    or before the windows' last session (what :func:`align_asof` can pick), nothing else. A process building
    consecutive sessions after the windows gets the same inputs each time: the last 4 tables
    are kept per process keyed by exactly those bytes (:func:`_crisis_key`) and handed out as copies; the
    windows left out are logged again for the session.
    """
    spans: list[tuple[str, dt.date, dt.date, np.ndarray]] = []
    for name, start, end in windows:
        if start > date:
            continue
        sessions = np.array(sessions_between(start, min(end, date)), dtype="datetime64[D]")
        if len(sessions):
            spans.append((name, start, end, sessions))
    table = _CRISIS.get(_crisis_key(src, spans), lambda: _crisis_table(src, spans))
    for name, start, end, why in table.attrs.pop("left_out", ()):  # a copy's attrs: the kept table keeps its own
        log.warning("silver_returns %s: crisis window %s (%s..%s) left out: %s", date, name, start, end, why)
    return table


#: crisis tables kept per process (:func:`crisis_returns`) by content key; each carries the windows left out and
#: why in ``attrs["left_out"]``, logged again for the session on a hit
_CRISIS: KeptFrames[pd.DataFrame] = KeptFrames(4)


def _crisis_key(src: _Sources, spans: Sequence[tuple[str, dt.date, dt.date, np.ndarray]]) -> tuple[Any, ...] | None:
    """Everything :func:`_crisis_table` reads, as bytes: None (do not keep) when an input is out of order.

    The table reads each input only through :func:`align_asof` on the windows' sessions: for each session,
    whether an observation is dated on or before it, that observation's date (its staleness) and its value
    (the DI1 vertices: its padded tenors and rates). The key is those picks, per input, with the windows'
    sessions and the limits. An input whose dates are not sorted and unique makes :func:`align_asof` fail on
    the whole series, so such inputs are not keyed (computed every time, as before).
    """
    if not spans:
        return ()
    ses = np.concatenate([sp[3] for sp in spans])
    parts: list[Any] = [src.inst_limit, src.rate_limit, src.ust_years,
                        tuple((name, start, end, sessions.tobytes()) for name, start, end, sessions in spans)]

    def picks(obs: np.ndarray, *values: np.ndarray) -> tuple[Any, ...] | None:
        if any(v.dtype.hasobject for v in values) or (len(obs) > 1 and not bool(np.all(obs[1:] > obs[:-1]))):
            return None  # objects have no bytes of their own; out of order fails in align_asof
        if len(obs) == 0:
            return ("empty", *(str(v.dtype) for v in values))
        pos = np.searchsorted(obs, ses, side="right") - 1
        at = np.maximum(pos, 0)
        return ((pos >= 0).tobytes(), obs[at].tobytes(),
                *((str(v.dtype), v.shape[1:], v[at].tobytes()) for v in values))

    for s in [*(src.level_src[ins.name] for ins in INSTRUMENTS), src.cdi, src.sofr]:
        part = picks(s.index.to_numpy().astype("datetime64[D]"), s.to_numpy())
        if part is None:
            return None
        parts.append(part)
    part = picks(np.asarray(src.di.dates, dtype="datetime64[D]"), np.asarray(src.di.x), np.asarray(src.di.y))
    if part is None:
        return None
    parts.append(part)
    return tuple(parts)


def _crisis_table(src: _Sources, spans: Sequence[tuple[str, dt.date, dt.date, np.ndarray]]) -> pd.DataFrame:
    """The crisis table of the windows' sessions ``spans``; the windows left out (name, start, end, why) in its
    ``attrs["left_out"]``."""
    out: list[pd.DataFrame] = []
    left_out: list[tuple[str, dt.date, dt.date, str]] = []
    for name, start, end, sessions in spans:
        try:
            lv, rt = _levels_returns(src, sessions)
        except PriceGapError as exc:
            left_out.append((name, start, end, str(exc)))
            continue
        df = pd.concat({"level": lv.stack(), "ret": rt.stack(future_stack=True)}, axis=1).reset_index(
            names=["date", "instrument"])
        df.insert(0, "window", name)
        out.append(df)
    if not out:
        res = pd.DataFrame({"window": pd.Series(dtype=str), "date": pd.Series(dtype=object),
                            "instrument": pd.Series(dtype=str), "level": pd.Series(dtype=float),
                            "ret": pd.Series(dtype=float)})
    else:
        res = pd.concat(out, ignore_index=True)
        res["date"] = date_objects(res["date"])
        res = res.sort_values(["window", "date", "instrument"], kind="mergesort").reset_index(drop=True)
    res.attrs["left_out"] = tuple(left_out)
    return res


def _instrument(ins: Instrument, src: pd.Series, di: Nodes, window: np.ndarray, limit: int, cdi_prev: np.ndarray,
                cdi_carry: np.ndarray, sofr_prev: np.ndarray, sofr_carry: np.ndarray, days: np.ndarray,
                ust_years: float) -> tuple[np.ndarray, np.ndarray]:
    if ins.kind == "di1":
        pos, lag = align_asof(di.dates, window)
        _check_gap(ins.name, window, lag, limit)
        return di1_excess_returns(di.take(pos), window, ins.tenor_du, cdi_prev)
    lvl = _require(f"instrument {ins.name}", src, window, limit)
    prev = np.concatenate([[np.nan], lvl[:-1]])
    if ins.kind == "fx":
        ret = lvl / prev - 1.0 - (cdi_carry - sofr_carry)
    elif ins.kind == "equity_br":
        ret = lvl / prev - 1.0 - cdi_carry
    elif ins.kind == "equity_us":
        ret = lvl / prev - 1.0 - sofr_carry
    else:  # ust
        dur = par_bond_duration(prev, ust_years)
        ret = -dur * (lvl - prev) + (prev - sofr_prev) * days / 365.0
    return lvl, ret


def _check_gap(name: str, window: np.ndarray, lag: np.ndarray, limit: int) -> None:
    bad = lag > limit
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise PriceGapError(
            f"silver_returns: instrument {name} has no value for session {window[i]} "
            f"(forward fill limited to {limit} sessions)"
        )


def _prices(closes: Mapping[str, pd.Series], fx: pd.Series, cdi: pd.Series, sofr: pd.Series, window: np.ndarray,
            limit: int) -> pd.DataFrame:
    series: dict[str, pd.Series] = {"ptax:USDBRL": fx, "cdi:daily": cdi, "sofr": sofr}
    for tk in sorted(closes):
        series[f"yahoo:{tk}"] = closes[tk]
    dates, names, values = [], [], []  # each series' rows as arrays, one frame of them all (not one per series)
    for name, s in sorted(series.items()):
        if len(s) == 0:
            continue
        vals, _ = _aligned(s, window, limit)
        ok = np.isfinite(vals)
        dates.append(window[ok])
        names.append(np.full(int(ok.sum()), name, dtype=object))
        values.append(vals[ok])
    if not dates:
        return pd.DataFrame({"date": [], "series": [], "value": []})
    df = pd.DataFrame({"date": np.concatenate(dates), "series": np.concatenate(names),
                       "value": np.concatenate(values)})
    df["date"] = date_objects(df["date"])
    w = window.astype("datetime64[D]")
    if len(w) > 1 and not bool((w[1:] > w[:-1]).all()):  # not increasing (lookback_window is): as before
        return df.sort_values(["date", "series"], kind="mergesort").reset_index(drop=True)
    # the names are sorted and distinct and each one's dates increasing and distinct: every (date, series) pair
    # is distinct, so the one order sort_values gives is by date, then by the name's place in the sorted names
    block = np.repeat(np.arange(len(dates)), [len(d) for d in dates])
    order = np.lexsort((block, np.concatenate(dates).astype("datetime64[D]").view("int64")))
    return df.take(order).reset_index(drop=True)
