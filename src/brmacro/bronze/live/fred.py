"""FRED connector: every ``fred`` registry series as of a session, with ALFRED vintages for the revisable ones.

Request (one per series and calendar year of observations, cached; paged by ``offset`` when an answer
holds more than ``page_limit`` rows)::

    GET {base_url}/series/observations?series_id=ID&api_key=KEY&file_type=json
        &observation_start=YYYY-01-01&observation_end=YYYY-12-31&limit=N&offset=K&sort_order=asc
        [&realtime_start=1776-07-04&realtime_end=9999-12-31]   (revisable series only)

Answer: ``{"realtime_start", "realtime_end", "observation_start", "observation_end", "units",
"output_type", "file_type", "order_by", "sort_order", "count", "offset", "limit",
"observations": [{"realtime_start", "realtime_end", "date", "value"}]}``; ``"."`` is a missing value
(skipped). Without the realtime parameters FRED stamps every row with today, so:

* revisable series ask for the full realtime range: each (date, realtime_start) is its own row,
  ``vintage`` numbers them by ``realtime_start`` per observation (0 = first release),
  ``release_date = realtime_start``, ``release_basis = "vintage"``; duplicates are judged on
  (date, realtime_start), never on the date alone (DOMAIN A8);
* other series: one row per date, ``vintage = 0``, release by the registry lag rule (``"lag"``).

The key comes from the environment variable named by ``live.sources.fred.api_key_env`` (default
``FRED_API_KEY``), checked before any request; it never appears in logs, errors or cache names.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from brmacro.bronze.live.common import (
    api_key,
    as_date,
    as_float,
    check_fields,
    check_no_duplicates,
    chunk_needs_fetch,
    filter_snapshot,
    finalize,
    load_json,
    parse_live,
    parse_once,
    parse_params,
    scaled,
    snapshot_windows,
    year_chunks,
)
from brmacro.bronze.live.http import HttpClient, PayloadError
from brmacro.bronze.schemas import BRONZE_SCHEMAS
from brmacro.series import Series, by_source, release_date

__all__ = ["REALTIME_END", "REALTIME_START", "fetch_series_year", "fetch_snapshot", "parse_fred"]

log = logging.getLogger("brmacro.bronze.live.fred")
SCHEMA = BRONZE_SCHEMAS["bronze_fred"]
REALTIME_START = "1776-07-04"
REALTIME_END = "9999-12-31"
_OBS_FIELDS = {"realtime_start", "realtime_end", "date", "value"}


def parse_fred(body: bytes, s: Series, start: dt.date, end: dt.date) -> tuple[pd.DataFrame, int]:
    """Parse one FRED observations page.

    Returns
    -------
    frame : pandas.DataFrame
        ``observation_date``, ``realtime_start`` (dates) and ``value`` (project units), missing
        values (``"."``) dropped.
    count : int
        The total number of rows FRED says the query has (for paging).

    Raises
    ------
    PayloadError
        HTML page, empty or truncated body, no ``observations`` array, unexpected fields, a
        non-numeric value, a date outside the window, or a repeated (date, realtime_start).
    """
    where = f"fred: series {s.sid} ({s.name}) {start}..{end}"
    data = load_json(body, where)
    if not isinstance(data, dict) or not isinstance(data.get("observations"), list):
        msg = data.get("error_message") if isinstance(data, dict) else None
        raise PayloadError(f"{where}: no 'observations' array in the answer" + (f" ({msg})" if msg else ""))
    count = data.get("count", len(data["observations"]))
    if isinstance(count, bool) or not isinstance(count, int):
        raise PayloadError(f"{where}: field count = {count!r} is not an integer")
    obs, rts, vals = [], [], []
    for i, row in enumerate(data["observations"]):
        w = f"{where}, record {i}"
        check_fields(row, _OBS_FIELDS, set(), w)
        d = as_date(row["date"], "%Y-%m-%d", w, "date")
        rs = as_date(row["realtime_start"], "%Y-%m-%d", w, "realtime_start")
        if not start <= d <= end:
            raise PayloadError(f"{where}: record {i} is dated {d}, outside the requested window")
        obs.append(d)
        rts.append(rs)
        vals.append(np.nan if row["value"] == "." else as_float(row["value"], f"{w} ({d})", "value"))
    df = pd.DataFrame({
        "observation_date": pd.Series(obs, dtype=object),
        "realtime_start": pd.Series(rts, dtype=object),
        "value": np.asarray(vals, dtype=float),
    })
    key = ["observation_date", "realtime_start"] if s.revisable else ["observation_date"]
    check_no_duplicates(df, key, where)
    df = df.loc[~np.isnan(df["value"].to_numpy())].reset_index(drop=True)
    df["value"] = scaled(df["value"].to_numpy(), s.scale)
    return df, count


def _parse_page(body: bytes, s: Series, start: dt.date, end: dt.date) -> tuple[pd.DataFrame, int, int]:
    """One page: its observations (:func:`parse_fred`), the total count FRED reports, and the page's length."""
    df, count = parse_fred(body, s, start, end)
    return df, count, len(load_json(body, "fred")["observations"])


def fetch_series_year(
    client: HttpClient, base_url: str, key: str, s: Series, year: int, date: dt.date, settle_days: int,
    page_limit: int,
) -> pd.DataFrame:
    """One calendar year of observations of one series, every page (cached per page)."""
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    url = f"{base_url}/series/observations"
    pages: list[pd.DataFrame] = []
    offset = 0
    fresh: bool | None = None
    while True:
        params = {
            "series_id": s.code, "file_type": "json", "observation_start": start.isoformat(),
            "observation_end": end.isoformat(), "sort_order": "asc", "limit": str(page_limit), "offset": str(offset),
        }
        if s.revisable:
            params.update(realtime_start=REALTIME_START, realtime_end=REALTIME_END)
        ckey = f"fred-{s.code}-{year}" + (f"-o{offset}" if offset else "")
        if fresh is None:  # the first page decides for the whole chunk
            fresh = chunk_needs_fetch(client.cached(url, params, cache_key=ckey), date, end, settle_days)
        res = client.fetch(
            url, {**params, "api_key": key}, cache_key=ckey, fresh=fresh,
            validate=lambda _st, b: parse_fred(b, s, start, end),
            context=f"series {s.sid} {start}..{end}",
        )
        df, count, n = parse_once(("fred", s, start, end), res.body, partial(_parse_page, res.body, s, start, end))
        pages.append(df)
        offset += n
        if n == 0 or offset >= count:
            break
    out = pd.concat(pages, ignore_index=True)
    key_cols = ["observation_date", "realtime_start"] if s.revisable else ["observation_date"]
    check_no_duplicates(out, key_cols, f"fred: series {s.sid} ({s.name}) {start}..{end} (all pages)")
    return out


def _stamp(df: pd.DataFrame, s: Series) -> pd.DataFrame:
    if s.revisable:
        df = df.sort_values(["observation_date", "realtime_start"], kind="mergesort").reset_index(drop=True)
        df["vintage"] = df.groupby("observation_date", sort=False).cumcount().astype(np.int64)
        df["release_date"] = df["realtime_start"]
        df["release_basis"] = "vintage"
    else:
        df = df.sort_values("observation_date", kind="mergesort").reset_index(drop=True)
        df["vintage"] = np.zeros(len(df), dtype=np.int64)
        df["release_date"] = release_date(df["observation_date"].to_numpy(), s)
        df["release_basis"] = "lag"
    return df.drop(columns=["realtime_start"])


def fetch_snapshot(
    date: dt.date, params: Mapping[str, Any], client: HttpClient, *, series: Sequence[Series] | None = None
) -> pd.DataFrame:
    """Every FRED registry series as of session ``date``, in the ``bronze_fred`` schema.

    Parameters
    ----------
    date : datetime.date
        The session; vintages (or lag-rule releases) after it are dropped.
    params : mapping
        Step parameters: ``bronze`` (lookbacks) and ``live`` (base URL, key variable, paging).
    client : HttpClient
        The ``fred`` client.
    series : sequence of Series, optional
        Registry rows to fetch (default: every ``fred`` row).

    Raises
    ------
    LiveConfigError
        When the API key variable is not set (before any request).
    PayloadError, SourceError
        On a malformed answer or an unreachable service.
    """
    bronze = parse_params(params.get("bronze"))
    sp = parse_live(params.get("live")).source("fred")
    key = api_key(str(sp.extra.get("api_key_env", "FRED_API_KEY")), "fred")
    limit = int(sp.extra.get("page_limit", 100000))
    frames = []
    for s in (by_source("fred") if series is None else series):
        wins = snapshot_windows(date, bronze, "daily" if s.freq == "D" else "macro")
        parts = [fetch_series_year(client, sp.base_url, key, s, y, date, sp.settle_days, limit)
                 for y in year_chunks(wins)]
        df = pd.concat(parts, ignore_index=True)
        if df.empty:
            raise PayloadError(f"fred: series {s.sid} ({s.name}) has no observation at all in {wins[0].start}..{date}")
        df = filter_snapshot(_stamp(df, s), date, obs_col="observation_date", windows=wins)
        df.insert(0, "series_id", s.sid)
        frames.append(df)
    out = pd.concat(frames, ignore_index=True) if frames else SCHEMA.empty()
    return finalize(out, SCHEMA, f"fred as of {date}")
