"""BCB SGS connector: every ``bcb_sgs`` registry series as of a session, in the bronze schema.

Request (one per series and calendar year, cached)::

    GET {base_url}/bcdata.sgs.{code}/dados?formato=json&dataInicial=01/01/YYYY&dataFinal=31/12/YYYY

Answer: a JSON array of ``{"data": "DD/MM/YYYY", "valor": "<period-decimal string>"}`` (some series add
``"datafim"``). Quirks handled (DOMAIN A8): a window with no observation answers **404** with a short
message instead of ``[]`` (treated as an empty year; a 404 HTML page is an error); daily windows over
ten years answer 406, which yearly chunks never trigger. SGS has no vintages: ``release_date`` is the
registry lag rule (end of period + ``lag_days``), ``release_basis = "lag"``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from brmacro.bronze.live.common import (
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

__all__ = ["fetch_series_year", "fetch_snapshot", "parse_sgs"]

log = logging.getLogger("brmacro.bronze.live.sgs")
SCHEMA = BRONZE_SCHEMAS["bronze_bcb_sgs"]


def parse_sgs(status: int, body: bytes, s: Series, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Parse one SGS answer into ``observation_date`` / ``value`` (project units).

    Parameters
    ----------
    status : int
        HTTP status (200, or 404 = no observation in the window).
    body : bytes
        Response body.
    s : Series
        Registry row (code, scale, frequency).
    start, end : datetime.date
        The requested window (observations outside it are an error).

    Raises
    ------
    PayloadError
        HTML page, empty or truncated body, an object instead of an array, unexpected fields,
        a non-numeric value, a malformed or repeated date, a date outside the window, or a monthly or
        quarterly observation not dated on the period's first day.
    """
    where = f"bcb_sgs: series {s.sid} ({s.name}) {start}..{end}"
    if status == 404:
        text = body.decode("utf-8", errors="replace").strip()
        if text.startswith("<"):
            raise PayloadError(f"{where}: HTTP 404 with an HTML page (wrong base URL or series code?)")
        log.info("%s: no observation in the window (HTTP 404: %s)", where, " ".join(text[:160].split()))
        return pd.DataFrame({"observation_date": pd.Series([], dtype=object), "value": pd.Series([], dtype=float)})
    data = load_json(body, where)
    if isinstance(data, dict):
        msg = data.get("error") or data.get("erro") or data
        raise PayloadError(f"{where}: expected a JSON array of observations, got an object: {msg!r}")
    if not isinstance(data, list):
        raise PayloadError(f"{where}: expected a JSON array of observations, got {type(data).__name__}")
    dates: list[dt.date] = []
    values: list[float] = []
    for i, row in enumerate(data):
        check_fields(row, {"data", "valor"}, {"datafim"}, f"{where}, record {i}")
        d = as_date(row["data"], "%d/%m/%Y", f"{where}, record {i}", "data")
        v = as_float(row["valor"], f"{where}, record {i} ({d})", "valor")
        if not start <= d <= end:
            raise PayloadError(f"{where}: record {i} is dated {d}, outside the requested window")
        if s.freq in ("M", "Q") and d.day != 1:
            raise PayloadError(f"{where}: record {i} is dated {d}; a {s.freq} series must be dated on the 1st")
        dates.append(d)
        values.append(v)
    df = pd.DataFrame({"observation_date": pd.Series(dates, dtype=object), "value": np.asarray(values, dtype=float)})
    check_no_duplicates(df, ["observation_date"], where)
    df["value"] = scaled(df["value"].to_numpy(), s.scale)
    return df


def fetch_series_year(
    client: HttpClient, base_url: str, s: Series, year: int, date: dt.date, settle_days: int
) -> pd.DataFrame:
    """One calendar year of one series (cached; re-fetched when it may miss rows public by ``date``)."""
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    url = f"{base_url}/bcdata.sgs.{s.code}/dados"
    params = {"formato": "json", "dataInicial": start.strftime("%d/%m/%Y"), "dataFinal": end.strftime("%d/%m/%Y")}
    key = f"sgs-{s.code}-{year}"
    fresh = chunk_needs_fetch(client.cached(url, params, cache_key=key), date, end, settle_days)
    res = client.fetch(
        url, params, cache_key=key, fresh=fresh, accept=(200, 404),
        validate=lambda st, b: parse_sgs(st, b, s, start, end),
        context=f"series {s.sid} {start}..{end}",
    )
    return parse_once(("sgs", s, start, end, res.status), res.body,
                      lambda: parse_sgs(res.status, res.body, s, start, end))


def fetch_snapshot(
    date: dt.date, params: Mapping[str, Any], client: HttpClient, *, series: Sequence[Series] | None = None
) -> pd.DataFrame:
    """Every SGS registry series as of session ``date``, in the ``bronze_bcb_sgs`` schema.

    Parameters
    ----------
    date : datetime.date
        The session; rows released after it (by the lag rule) are dropped.
    params : mapping
        Step parameters: ``bronze`` (lookbacks, crisis windows) and ``live`` (base URL, settle days).
    client : HttpClient
        The ``bcb_sgs`` client (cache, retries).
    series : sequence of Series, optional
        Registry rows to fetch (default: every ``bcb_sgs`` row of :data:`brmacro.series.SERIES`).

    Raises
    ------
    PayloadError
        On a malformed answer, or when a series has no observation at all over its window.
    SourceError
        When the service cannot be reached.
    """
    bronze = parse_params(params.get("bronze"))
    sp = parse_live(params.get("live")).source("bcb_sgs")
    frames = []
    for s in (by_source("bcb_sgs") if series is None else series):
        wins = snapshot_windows(date, bronze, "daily" if s.freq == "D" else "macro")
        parts = [fetch_series_year(client, sp.base_url, s, y, date, sp.settle_days) for y in year_chunks(wins)]
        df = pd.concat(parts, ignore_index=True)
        if df.empty:
            raise PayloadError(
                f"bcb_sgs: series {s.sid} ({s.name}) has no observation at all in "
                f"{wins[0].start}..{date} (every yearly window empty); check the code"
            )
        df["release_date"] = release_date(df["observation_date"].to_numpy(), s)
        df = filter_snapshot(df, date, obs_col="observation_date", windows=wins)
        df.insert(0, "series_id", s.sid)
        df["release_basis"] = "lag"
        frames.append(df)
    out = pd.concat(frames, ignore_index=True) if frames else SCHEMA.empty()
    return finalize(out, SCHEMA, f"bcb_sgs as of {date}")
