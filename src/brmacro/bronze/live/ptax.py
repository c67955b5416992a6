"""BCB PTAX connector: the official closing BRL/USD fixing, one row per day, from the Olinda OData service.

Request (one per calendar year, cached)::

    GET {base_url}/CotacaoDolarPeriodo(dataInicial=@dataInicial,dataFinalCotacao=@dataFinalCotacao)
        ?@dataInicial='01-01-YYYY'&@dataFinalCotacao='12-31-YYYY'&$format=json

Answer: ``{"@odata.context": ..., "value": [{"cotacaoCompra": 5.4272, "cotacaoVenda": 5.4278,
"dataHoraCotacao": "2025-09-08 13:09:40.608"}]}`` (dates in the request are US ``MM-DD-YYYY`` in
single quotes; times in the answer are America/Sao_Paulo).

Choice (DOMAIN A8): this entity has **no** ``tipoBoletim``; since the 2011 methodology it serves one
row per day, the closing PTAX (about 13:10), but older years carry several quotes a day (e.g. 11:29 and
16:38 in the 1980s). We keep the **last quote of each day** (the closing) and stamp ``bulletin_time``
with it, in UTC. ``CotacaoMoedaPeriodo`` (with ``tipoBoletim == "Fechamento PTAX"``) would need a
currency argument and five bulletins a day for the same result. Release: captured (``release_date =
date``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from brmacro.bronze.live.common import (
    SAO_PAULO,
    as_float,
    check_fields,
    check_no_duplicates,
    chunk_needs_fetch,
    filter_snapshot,
    finalize,
    load_json,
    parse_live,
    parse_params,
    snapshot_windows,
    year_chunks,
)
from brmacro.bronze.live.http import HttpClient, PayloadError
from brmacro.bronze.schemas import BRONZE_SCHEMAS

__all__ = ["ENTITY", "fetch_snapshot", "fetch_year", "parse_ptax"]

SCHEMA = BRONZE_SCHEMAS["bronze_bcb_ptax"]
ENTITY = "CotacaoDolarPeriodo(dataInicial=@dataInicial,dataFinalCotacao=@dataFinalCotacao)"
_FIELDS = {"cotacaoCompra", "cotacaoVenda", "dataHoraCotacao"}


def _parse_time(v: Any, where: str) -> dt.datetime:
    s = str(v).strip()
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            return dt.datetime.strptime(s, fmt)
        except ValueError:
            continue
    raise PayloadError(f"{where}: field dataHoraCotacao = {v!r} is not 'YYYY-MM-DD HH:MM:SS[.fff]'")


def parse_ptax(body: bytes, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Parse one ``CotacaoDolarPeriodo`` answer into one closing row per day.

    Returns
    -------
    pandas.DataFrame
        ``date``, ``buy``, ``sell``, ``bulletin_time`` (UTC), sorted by date.

    Raises
    ------
    PayloadError
        HTML page, empty or truncated body, no ``value`` array, unexpected fields, a non-numeric or
        non-positive rate, a time outside the window, or a quote repeated at the same time.
    """
    where = f"bcb_ptax: USD {start}..{end}"
    data = load_json(body, where)
    if not isinstance(data, dict) or not isinstance(data.get("value"), list):
        raise PayloadError(f"{where}: no 'value' array in the OData answer")
    times, buys, sells = [], [], []
    for i, row in enumerate(data["value"]):
        w = f"{where}, record {i}"
        check_fields(row, _FIELDS, set(), w)
        t = _parse_time(row["dataHoraCotacao"], w)
        if not start <= t.date() <= end:
            raise PayloadError(f"{where}: record {i} is dated {t.date()}, outside the requested window")
        b = as_float(row["cotacaoCompra"], f"{w} ({t})", "cotacaoCompra")
        s = as_float(row["cotacaoVenda"], f"{w} ({t})", "cotacaoVenda")
        if b <= 0 or s <= 0:
            raise PayloadError(f"{w} ({t}): non-positive rate (buy {b}, sell {s})")
        times.append(t)
        buys.append(b)
        sells.append(s)
    df = pd.DataFrame({"local": pd.Series(times, dtype="datetime64[ns]"), "buy": np.asarray(buys, dtype=float),
                       "sell": np.asarray(sells, dtype=float)})
    check_no_duplicates(df, ["local"], where)
    if df.empty:
        return pd.DataFrame({"date": pd.Series([], dtype=object), "buy": [], "sell": [],
                             "bulletin_time": pd.Series([], dtype="datetime64[ns, UTC]")})
    df["date"] = df["local"].dt.date
    df = df.sort_values("local", kind="mergesort").groupby("date", sort=True).tail(1)  # the closing quote
    df["bulletin_time"] = df["local"].dt.tz_localize(SAO_PAULO).dt.tz_convert("UTC")
    return df[["date", "buy", "sell", "bulletin_time"]].sort_values("date").reset_index(drop=True)


def fetch_year(client: HttpClient, base_url: str, year: int, date: dt.date, settle_days: int) -> pd.DataFrame:
    """One calendar year of closing quotes (cached; re-fetched when it may miss a quote public by ``date``)."""
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    url = f"{base_url}/{ENTITY}"
    params = {"@dataInicial": f"'{start:%m-%d-%Y}'", "@dataFinalCotacao": f"'{end:%m-%d-%Y}'", "$format": "json"}
    key = f"ptax-usd-{year}"
    fresh = chunk_needs_fetch(client.cached(url, params, cache_key=key), date, end, settle_days)
    res = client.fetch(url, params, cache_key=key, fresh=fresh, validate=lambda _s, b: parse_ptax(b, start, end),
                       context=f"USD {start}..{end}")
    return parse_ptax(res.body, start, end)


def fetch_snapshot(date: dt.date, params: Mapping[str, Any], client: HttpClient) -> pd.DataFrame:
    """PTAX closing bulletins up to session ``date`` (daily lookback + crisis windows), ``bronze_bcb_ptax`` schema.

    Raises
    ------
    PayloadError, SourceError
        On a malformed answer or an unreachable service.
    """
    bronze = parse_params(params.get("bronze"))
    sp = parse_live(params.get("live")).source("bcb_ptax")
    wins = snapshot_windows(date, bronze, "daily")
    df = pd.concat([fetch_year(client, sp.base_url, y, date, sp.settle_days) for y in year_chunks(wins)],
                   ignore_index=True)
    df["release_date"] = df["date"]
    df["release_basis"] = "captured"
    df = filter_snapshot(df, date, obs_col="date", windows=wins)
    return finalize(df, SCHEMA, f"bcb_ptax as of {date}")
