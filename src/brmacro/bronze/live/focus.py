"""BCB Focus connector: weekly survey medians (IPCA, Selic, PIB Total, Câmbio) from the Olinda Expectativas service.

Requests (one per entity and calendar year of survey dates, cached; paged with ``$top``/``$skip``)::

    GET {base_url}/ExpectativasMercadoAnuais?$filter=(Indicador eq 'IPCA' or ...) and Data ge 'YYYY-01-01'
        and Data le 'YYYY-12-31' and baseCalculo eq 0&$orderby=Data&$format=json&$top=N&$skip=K
    GET {base_url}/ExpectativasMercadoInflacao12Meses?$filter=Indicador eq 'IPCA' and Data ge ... and
        Suavizada eq 'S' and baseCalculo eq 0&$orderby=Data&$format=json&$top=N&$skip=K

Answers: ``{"@odata.context": ..., "value": [...]}`` with records ``Indicador, IndicadorDetalhe, Data,
DataReferencia, Media, Mediana, DesvioPadrao, Minimo, Maximo, numeroRespondentes, baseCalculo``
(annual) and ``Indicador, Data, Suavizada, Media, Mediana, DesvioPadrao, Minimo, Maximo,
numeroRespondentes, baseCalculo`` (12 months).

Choices (DOMAIN A8: Focus repeats rows per ``baseCalculo`` and smoothing):

* ``baseCalculo == 0`` (statistics over the answers of the last 30 days, the published Focus figures),
  12-month inflation ``Suavizada == 'S'`` (the smoothed series of the Focus report), annual rows with an
  empty ``IndicadorDetalhe`` only; the filter is asked of the server and applied again here, and what is
  left must be unique per (indicator, reference, Data);
* calendar-year references from the survey's year to ``years_ahead`` years after it;
* **one survey per week**: the last ``Data`` of each week ending on Friday (the Focus cut-off);
  ``survey_date = Data``; ``release_date`` = the first B3 session after that Friday (the Monday of the
  report, or the next session when Monday is a holiday), ``release_basis = "vintage"``;
* percent -> decimal for IPCA, Selic and PIB Total (registry :data:`brmacro.series.FOCUS_INDICATORS`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
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
    parse_params,
    scaled,
    snapshot_windows,
    year_chunks,
)
from brmacro.bronze.live.http import HttpClient, PayloadError
from brmacro.bronze.schemas import BRONZE_SCHEMAS
from brmacro.calendar import next_session
from brmacro.series import FOCUS_INDICATORS

__all__ = ["ANNUAL", "TWELVE_MONTHS", "fetch_snapshot", "parse_focus", "weekly"]

SCHEMA = BRONZE_SCHEMAS["bronze_bcb_focus"]
ANNUAL = "ExpectativasMercadoAnuais"
TWELVE_MONTHS = "ExpectativasMercadoInflacao12Meses"
_STATS = {"Media", "Mediana", "DesvioPadrao", "Minimo", "Maximo", "numeroRespondentes", "baseCalculo"}
_FIELDS = {
    ANNUAL: {"Indicador", "IndicadorDetalhe", "Data", "DataReferencia", *_STATS},
    TWELVE_MONTHS: {"Indicador", "Data", "Suavizada", *_STATS},
}


def _opt_float(v: Any, where: str, name: str, scale: float) -> float:
    return np.nan if v is None else as_float(v, where, name) * scale


def parse_focus(body: bytes, entity: str, start: dt.date, end: dt.date) -> tuple[pd.DataFrame, int]:
    """Parse one page of a Focus entity into survey rows in project units.

    Returns
    -------
    frame : pandas.DataFrame
        ``indicator``, ``reference`` (``'12m'`` or a year), ``survey_date``, ``median``, ``mean``, ``std``,
        ``respondents``: only the rows kept by the documented choice (base 0, smoothed, no detail).
    n : int
        Number of records on the page (for paging).

    Raises
    ------
    PayloadError
        HTML page, empty or truncated body, no ``value`` array, unexpected fields, non-numeric
        statistics, a survey date outside the window, or two kept rows for one (indicator, reference, Data).
    """
    where = f"bcb_focus: {entity} {start}..{end}"
    data = load_json(body, where)
    if not isinstance(data, dict) or not isinstance(data.get("value"), list):
        raise PayloadError(f"{where}: no 'value' array in the OData answer")
    rows = []
    for i, r in enumerate(data["value"]):
        w = f"{where}, record {i}"
        check_fields(r, _FIELDS[entity], set(), w)
        ind = r["Indicador"]
        if ind not in FOCUS_INDICATORS:
            continue
        if r["baseCalculo"] != 0:
            continue
        if entity == ANNUAL and r["IndicadorDetalhe"] not in (None, ""):
            continue
        if entity == TWELVE_MONTHS and (ind != "IPCA" or r["Suavizada"] != "S"):
            continue
        d = as_date(r["Data"], "%Y-%m-%d", w, "Data")
        if not start <= d <= end:
            raise PayloadError(f"{where}: record {i} has Data {d}, outside the requested window")
        if entity == ANNUAL:
            ref = str(r["DataReferencia"]).strip()
            if not (len(ref) == 4 and ref.isdigit()):
                raise PayloadError(f"{w}: DataReferencia = {r['DataReferencia']!r} is not a calendar year")
        else:
            ref = "12m"
        scale = FOCUS_INDICATORS[ind][0]
        wd = f"{w} ({ind} {ref} {d})"
        med = as_float(r["Mediana"], wd, "Mediana") * scale
        resp = r["numeroRespondentes"]
        if resp is not None and (isinstance(resp, bool) or not isinstance(resp, int) or resp < 0):
            raise PayloadError(f"{wd}: numeroRespondentes = {resp!r} is not a non-negative integer")
        rows.append({
            "indicator": ind, "reference": ref, "survey_date": d, "median": med,
            "mean": _opt_float(r["Media"], wd, "Media", scale), "std": _opt_float(r["DesvioPadrao"], wd,
                                                                                   "DesvioPadrao", scale),
            "respondents": resp,
        })
    cols = ["indicator", "reference", "survey_date", "median", "mean", "std", "respondents"]
    df = pd.DataFrame(rows, columns=cols)
    check_no_duplicates(df, ["indicator", "reference", "survey_date"], where)
    for c in ("median", "mean", "std"):
        df[c] = scaled(df[c].to_numpy(dtype=float), 1.0)
    df["respondents"] = df["respondents"].astype("Int64")
    return df, len(data["value"])


def weekly(df: pd.DataFrame) -> pd.DataFrame:
    """The last survey of each Friday-ending week per (indicator, reference), with its release date."""
    if df.empty:
        return df.assign(release_date=pd.Series([], dtype=object))
    d = pd.to_datetime(df["survey_date"])
    friday = (d + pd.to_timedelta((4 - d.dt.weekday) % 7, unit="D")).dt.date
    df = df.assign(_fri=friday.to_numpy()).sort_values(["indicator", "reference", "survey_date"], kind="mergesort")
    df = df.groupby(["indicator", "reference", "_fri"], sort=False).tail(1)
    rel = {f: next_session(f) for f in sorted(set(df["_fri"]))}
    df = df.assign(release_date=[rel[f] for f in df["_fri"]])
    return df.drop(columns="_fri").reset_index(drop=True)


def _filter(entity: str, start: dt.date, end: dt.date) -> str:
    span = f"Data ge '{start.isoformat()}' and Data le '{end.isoformat()}' and baseCalculo eq 0"
    if entity == ANNUAL:
        inds = " or ".join(f"Indicador eq '{i}'" for i in FOCUS_INDICATORS)
        return f"({inds}) and {span}"
    return f"Indicador eq 'IPCA' and {span} and Suavizada eq 'S'"


def fetch_year(
    client: HttpClient, base_url: str, entity: str, year: int, date: dt.date, settle_days: int, page_size: int
) -> pd.DataFrame:
    """One calendar year of survey dates of one entity, every page (cached per page)."""
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    url = f"{base_url}/{entity}"
    pages = []
    skip = 0
    fresh: bool | None = None
    while True:
        params = {"$filter": _filter(entity, start, end), "$orderby": "Data", "$format": "json",
                  "$top": str(page_size), "$skip": str(skip)}
        key = f"focus-{entity}-{year}" + (f"-s{skip}" if skip else "")
        if fresh is None:
            fresh = chunk_needs_fetch(client.cached(url, params, cache_key=key), date, end, settle_days)
        res = client.fetch(url, params, cache_key=key, fresh=fresh,
                           validate=lambda _s, b: parse_focus(b, entity, start, end),
                           context=f"{entity} {start}..{end}")
        df, n = parse_focus(res.body, entity, start, end)
        pages.append(df)
        skip += n
        if n < page_size:
            break
    out = pd.concat(pages, ignore_index=True)
    check_no_duplicates(out, ["indicator", "reference", "survey_date"], f"bcb_focus: {entity} {year} (all pages)")
    return out


def fetch_snapshot(date: dt.date, params: Mapping[str, Any], client: HttpClient) -> pd.DataFrame:
    """Focus medians released by session ``date`` (``focus_lookback_years`` of surveys), ``bronze_bcb_focus`` schema.

    Raises
    ------
    PayloadError, SourceError
        On a malformed answer or an unreachable service.
    """
    bronze = parse_params(params.get("bronze"))
    sp = parse_live(params.get("live")).source("bcb_focus")
    ahead = int(sp.extra.get("years_ahead", 1))
    page = int(sp.extra.get("page_size", 10000))
    wins = snapshot_windows(date, bronze, "focus")
    parts = [fetch_year(client, sp.base_url, e, y, date, sp.settle_days, page)
             for e in (ANNUAL, TWELVE_MONTHS) for y in year_chunks(wins)]
    df = pd.concat(parts, ignore_index=True)
    if not df.empty:
        yr = pd.to_datetime(df["survey_date"]).dt.year.to_numpy()
        ref_year = pd.to_numeric(df["reference"].where(df["reference"] != "12m"), errors="coerce").to_numpy()
        keep = (df["reference"] == "12m").to_numpy() | ((ref_year >= yr) & (ref_year <= yr + ahead))
        df = df.loc[keep].reset_index(drop=True)
    df = weekly(df)
    df["release_basis"] = "vintage"
    df = filter_snapshot(df, date, obs_col="survey_date", windows=wins)
    return finalize(df, SCHEMA, f"bcb_focus as of {date}")
