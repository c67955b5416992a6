"""Live Yahoo Finance daily bars through the chart JSON endpoint (``bronze_yahoo``, source ``live``).

Why the chart endpoint and not yfinance: ``yfinance.download`` hides its HTTP session (its own
cookie/crumb handling, threads and cache), so its requests cannot go through the shared
:class:`~brmacro.bronze.live.http.HttpClient`: no on-disk yearly chunks, no raw archive, no retry/429
policy of ours and no recorded-response tests. yfinance itself reads the same endpoint,
``/v8/finance/chart/{ticker}?period1=..&period2=..&interval=1d&events=div,splits``, whose answer is
``chart.result[0]`` with ``timestamp`` (bar start, epoch seconds), ``indicators.quote[0]``
(``open/high/low/close/volume``, raw prices) and ``indicators.adjclose[0].adjclose`` (dividend and
split adjusted as of the fetch day: it rewrites the past after every dividend). Both closes are kept.

Quirks handled here:

* each bar's date is its timestamp in the *exchange's* time zone (``meta.exchangeTimezoneName``):
  FX bars are stamped at 00:00 Europe/London, which is 23:00 UTC of the previous day in summer;
* the request window ``[period1, period2)`` is a calendar year padded by 14 hours on each side, so
  the last session of the year is included (yfinance's exclusive ``end`` returned nothing for a
  one-day window in the older system); a bar outside the requested window is a bad payload;
* a bar with no close (Yahoo serves ``null`` bars on some holidays) is not a bar and is dropped;
* continuous futures (``CL=F``, ``GC=F``, ...) jump at every roll and CL went negative in April 2020:
  a bar whose |log return| exceeds ``jump_threshold``, or whose close (or previous close) is not
  positive, is flagged ``roll_jump``; Yahoo does not say which contract a bar belongs to, so a roll
  and a genuine jump cannot be told apart and both are flagged. The return is taken against the
  previous bar among the years fetched for the snapshot.

Chunks are calendar years, cached by the HTTP client under ``<ticker>-<year>``. A cached chunk is
used for session ``D`` unless it may miss a bar public by ``D``
(:func:`brmacro.bronze.live.common.chunk_needs_fetch`); a cached chunk that no longer parses is fetched
again. Options live in ``live.sources.yahoo`` (declared in :mod:`brmacro.params.live`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from brmacro.bronze.live.common import (
    Client,
    LiveConfigError,
    chunk_needs_fetch,
    filter_snapshot,
    finalize,
    get_chunk_at,
    parse_live,
    snapshot_windows,
    source_options,
    year_chunks,
)
from brmacro.bronze.live.http import PayloadError
from brmacro.bronze.params import parse_params
from brmacro.bronze.schemas import YAHOO
from brmacro.params import factory

__all__ = [
    "YahooParams",
    "fetch_chunk",
    "fetch_snapshot",
    "flag_jumps",
    "parse_chart",
    "parse_yahoo_params",
]

log = logging.getLogger("brmacro.bronze.live.yahoo")

_PAD = dt.timedelta(hours=14)


# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class YahooParams:
    """``live.sources.yahoo``, validated.

    Attributes
    ----------
    base_url : str
        Root URL (``https://query1.finance.yahoo.com``); the chart path is appended.
    settle_days : int
        Days after a year's end after which a fetched year is final.
    tickers : tuple of str
        Tickers fetched.
    continuous_futures : tuple of str or None
        Tickers checked for roll jumps; ``None`` means every ticker ending in ``=F``.
    jump_threshold : float
        |log return| above which a continuous-future bar is flagged ``roll_jump``.
    user_agent : str
        ``User-Agent`` header (Yahoo answers 429 to library user agents).
    """

    base_url: str = field(default_factory=factory("live.sources.yahoo.base_url"))
    settle_days: int = field(default_factory=factory("live.sources.yahoo.settle_days"))
    tickers: tuple[str, ...] = field(default_factory=factory("live.sources.yahoo.tickers", tuple))
    continuous_futures: tuple[str, ...] | None = field(
        default_factory=factory("live.sources.yahoo.continuous_futures", lambda v: None if v is None else tuple(v)))
    jump_threshold: float = field(default_factory=factory("live.sources.yahoo.jump_threshold"))
    user_agent: str = field(default_factory=factory("live.sources.yahoo.user_agent"))

    def futures(self) -> frozenset[str]:
        """The tickers whose jumps are flagged."""
        if self.continuous_futures is None:
            return frozenset(t for t in self.tickers if t.endswith("=F"))
        return frozenset(self.continuous_futures)


def _tickers(v: Any, where: str) -> tuple[str, ...]:
    if isinstance(v, str) or not isinstance(v, (list, tuple)) or not all(isinstance(t, str) and t for t in v):
        raise LiveConfigError(f"config {where}: expected a list of tickers, got {v!r}")
    return tuple(v)


def parse_yahoo_params(live: Mapping[str, Any] | None) -> YahooParams:
    """Validate ``live.sources.yahoo`` (missing keys take their defaults).

    Raises
    ------
    LiveConfigError
        On a malformed value.
    """
    sp = parse_live(live).source("yahoo")
    o = source_options(live, "yahoo")
    thr = o["jump_threshold"]
    if isinstance(thr, bool) or not isinstance(thr, (int, float)) or not thr > 0:
        raise LiveConfigError(f"config live.sources.yahoo.jump_threshold: expected a positive number, got {thr!r}")
    ua = o["user_agent"]
    if not isinstance(ua, str) or not ua:
        raise LiveConfigError(f"config live.sources.yahoo.user_agent: expected a non-empty string, got {ua!r}")
    cf = o["continuous_futures"]
    return YahooParams(
        base_url=sp.base_url, settle_days=sp.settle_days,
        tickers=_tickers(o["tickers"], "live.sources.yahoo.tickers"),
        continuous_futures=None if cf is None else _tickers(cf, "live.sources.yahoo.continuous_futures"),
        jump_threshold=float(thr), user_agent=ua,
    )


# --------------------------------------------------------------------------- parsing

def _num(seq: object, n: int, field: str, where: str) -> np.ndarray:
    if seq is None:
        return np.full(n, np.nan)
    if not isinstance(seq, list) or len(seq) != n:
        raise PayloadError(f"{where}: field {field!r} has {len(seq) if isinstance(seq, list) else type(seq).__name__}"
                           f" values for {n} timestamps")
    out = np.full(n, np.nan)
    for i, v in enumerate(seq):
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(float(v)):
            raise PayloadError(f"{where}: field {field!r} has a non-numeric value {v!r} at bar {i}")
        out[i] = float(v)
    return out


def parse_chart(body: bytes, ticker: str, period1: int, period2: int) -> pd.DataFrame:
    """Parse one chart JSON answer into bars (``date``, ``open``..``volume``, ``adj_close``).

    Parameters
    ----------
    body : bytes
        The response body.
    ticker : str
        The ticker asked for (checked against ``meta.symbol``).
    period1, period2 : int
        The requested window, epoch seconds (a bar outside it is an error).

    Returns
    -------
    pandas.DataFrame
        One row per bar with a close, sorted by date; ``date`` in the exchange's time zone.

    Raises
    ------
    PayloadError
        On an HTML page, empty or truncated JSON, a Yahoo error object, another symbol, arrays of the
        wrong length, non-numeric values, bars outside the window or two bars on one date.
    """
    lo, hi = dt.datetime.fromtimestamp(period1, dt.UTC).date(), dt.datetime.fromtimestamp(period2, dt.UTC).date()
    where = f"yahoo {ticker} {lo}..{hi}"
    text = body.strip()
    if not text:
        raise PayloadError(f"{where}: empty body")
    if text[:1] == b"<":
        raise PayloadError(f"{where}: an HTML page instead of chart JSON: {text[:80]!r}")
    try:
        doc = json.loads(text)
        chart = doc["chart"]
    except (ValueError, KeyError, TypeError) as exc:
        raise PayloadError(f"{where}: not chart JSON (truncated or malformed): {exc}") from None
    if not isinstance(chart, dict):
        raise PayloadError(f"{where}: 'chart' is not an object")
    if chart.get("error"):
        raise PayloadError(f"{where}: Yahoo error {chart['error']}")
    result = chart.get("result")
    if not isinstance(result, list) or len(result) != 1 or not isinstance(result[0], dict):
        raise PayloadError(f"{where}: expected one chart result, got {type(result).__name__}")
    res = result[0]
    meta = res.get("meta") or {}
    sym = meta.get("symbol")
    if sym is not None and str(sym).upper() != ticker.upper():
        raise PayloadError(f"{where}: answer is for symbol {sym!r}")
    ts = res.get("timestamp")
    cols = ["date", "open", "high", "low", "close", "adj_close", "volume"]
    if ts is None:
        return pd.DataFrame({c: pd.Series(dtype=object if c == "date" else float) for c in cols})
    if not isinstance(ts, list) or not all(isinstance(t, int) and not isinstance(t, bool) for t in ts):
        raise PayloadError(f"{where}: 'timestamp' is not a list of integers")
    n = len(ts)
    tzname = meta.get("exchangeTimezoneName")
    try:
        tz: dt.tzinfo = zoneinfo.ZoneInfo(str(tzname)) if tzname else dt.timezone(
            dt.timedelta(seconds=int(meta["gmtoffset"])))
    except (KeyError, TypeError, ValueError, zoneinfo.ZoneInfoNotFoundError):
        raise PayloadError(f"{where}: no usable exchange time zone in meta ({tzname!r})") from None
    ind = res.get("indicators") or {}
    quote = (ind.get("quote") or [{}])[0] or {}
    if not isinstance(quote, dict):
        raise PayloadError(f"{where}: 'indicators.quote[0]' is not an object")
    vals = {k: _num(quote.get(k), n, k, where) for k in ("open", "high", "low", "close", "volume")}
    adj = ind.get("adjclose")
    vals["adj_close"] = _num(adj[0].get("adjclose") if adj and isinstance(adj[0], dict) else None, n, "adjclose", where)
    bad = [t for t in ts if not period1 <= t < period2]
    if bad:
        when = dt.datetime.fromtimestamp(bad[0], dt.UTC).isoformat()
        raise PayloadError(f"{where}: bar at {when} lies outside the requested window")
    dates = [dt.datetime.fromtimestamp(t, tz).date() for t in ts]
    df = pd.DataFrame({"date": dates, **vals})[cols]
    df = df.loc[~np.isnan(df["close"].to_numpy())]
    dup = df["date"].duplicated(keep=False)
    if dup.any():
        raise PayloadError(f"{where}: duplicate bars on {sorted(set(df.loc[dup, 'date']))[0]}")
    out: pd.DataFrame = df.sort_values("date", kind="mergesort").reset_index(drop=True)
    return out


def flag_jumps(close: np.ndarray, threshold: float) -> np.ndarray:
    """``True`` where ``|log(close_t / close_{t-1})| > threshold`` or either close is not positive."""
    c = np.asarray(close, dtype=float)
    out = np.zeros(len(c), dtype=bool)
    if len(c) < 2:
        return out
    prev, cur = c[:-1], c[1:]
    pos = (prev > 0) & (cur > 0)
    lr = np.zeros(len(cur))
    lr[pos] = np.log(cur[pos] / prev[pos])
    out[1:] = ~pos | (np.abs(lr) > threshold)
    return out


def _window(year: int) -> tuple[int, int]:
    start = dt.datetime(year, 1, 1, tzinfo=dt.UTC) - _PAD
    end = dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC) + _PAD
    return int(start.timestamp()), int(end.timestamp())


def fetch_chunk(client: Client, ticker: str, year: int, date: dt.date, yp: YahooParams) -> pd.DataFrame:
    """Bars of ``ticker`` dated in calendar ``year`` (from the cache unless it may miss a bar public by ``date``)."""
    p1, p2 = _window(year)
    params = {"period1": str(p1), "period2": str(p2), "interval": "1d", "events": "div,splits",
              "includeAdjustedClose": "true"}

    def parse(body: bytes) -> pd.DataFrame:
        df = parse_chart(body, ticker, p1, p2)
        return df.loc[[d.year == year for d in df["date"]]].reset_index(drop=True)

    last = dt.date(year, 12, 31)
    return get_chunk_at(
        client, f"{yp.base_url}/v8/finance/chart/{ticker}", params, cache_key=f"{ticker}-{year}",
        needs_fetch=lambda hit: chunk_needs_fetch(hit, date, last, yp.settle_days), parse=parse,
        headers={"User-Agent": yp.user_agent}, context=f"{ticker} {year}",
    )[0]


def fetch_snapshot(date: dt.date, params: Mapping[str, Any], client: Client) -> pd.DataFrame:
    """What Yahoo says as of session ``date``, in the ``bronze_yahoo`` schema.

    Parameters
    ----------
    date : datetime.date
        The session; no bar after it is returned.
    params : mapping
        The step parameters: ``bronze`` (lookbacks, crisis windows) and ``live`` (``live.sources.yahoo``,
        see :class:`YahooParams`).
    client : HttpClient
        The ``yahoo`` HTTP client (cache, retries).

    Returns
    -------
    pandas.DataFrame
        Bars of every configured ticker inside the daily lookback and the crisis windows, raw close
        and adjusted close, ``roll_jump`` flags, ``release_date = date`` of the bar (basis
        ``captured``), sorted by ``(ticker, date)``.

    Raises
    ------
    PayloadError, SourceError
        When a chunk is unusable or cannot be fetched (never a partial answer).
    """
    bronze = parse_params(params.get("bronze"))
    yp = parse_yahoo_params(params.get("live"))
    wins = snapshot_windows(date, bronze, "daily")
    futures = yp.futures()
    frames = []
    for ticker in sorted(yp.tickers):
        bars = pd.concat([fetch_chunk(client, ticker, y, date, yp) for y in year_chunks(wins)], ignore_index=True)
        if bars.empty:
            log.warning("yahoo %s: no bars in the snapshot window of %s", ticker, date)
            continue
        bars = bars.sort_values("date", kind="mergesort").reset_index(drop=True)
        jumps = flag_jumps(bars["close"].to_numpy(), yp.jump_threshold)
        bars["roll_jump"] = jumps if ticker in futures else np.zeros(len(bars), dtype=bool)
        bars["ticker"] = ticker
        bars["release_date"] = bars["date"]
        bars["release_basis"] = "captured"
        frames.append(filter_snapshot(bars, date, obs_col="date", windows=wins))
    if not frames:
        return YAHOO.empty()
    return finalize(pd.concat(frames, ignore_index=True), YAHOO, f"yahoo as of {date}")
