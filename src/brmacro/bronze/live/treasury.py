"""Live US Treasury daily par curves, nominal and real (``bronze_treasury_gov``, source ``live``).

Source: Treasury's yearly CSV exports,
``https://home.treasury.gov/resource-center/data-chart-center/interest-rates/daily-treasury-rates.csv/{YEAR}/all``
with ``type=daily_treasury_yield_curve`` (nominal, from 1990) or ``type=daily_treasury_real_yield_curve``
(real/TIPS, from 2003), ``field_tdr_date_value={YEAR}``, ``page`` and ``_format=csv``. The file lists the
newest day first, dates as ``MM/DD/YYYY``, yields in percent, quoted headers. Headers drift: the nominal
file grew ``"2 Mo"`` (2018), ``"4 Mo"`` (2022) and ``"1.5 Month"`` (2025); the real file spells ``"5 YR"``
in capitals. Every tenor column is kept under its label as published, with ``tenor_years`` parsed from
it (``Mo``/``Month`` -> /12, ``Wk``/``Week`` -> /52, ``Yr``/``Year`` -> years); a column that is not a
tenor is a bad payload. Empty, ``N/A`` and ``-`` cells are skipped (a tenor not quoted that day).

One request per curve and calendar year, cached by the HTTP client under ``<curve>-<year>``; a year
is fetched again when the cached copy may miss a curve public by the session
(:func:`brmacro.bronze.live.common.chunk_needs_fetch`: the open year, until it settles). Options live in
``live.sources.treasury_gov`` (declared in :mod:`brmacro.params.live`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

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
from brmacro.bronze.schemas import TREASURY
from brmacro.params import factory

__all__ = [
    "CSV_PATH",
    "TreasuryParams",
    "fetch_snapshot",
    "fetch_year",
    "parse_csv",
    "parse_treasury_params",
    "tenor_years",
]

log = logging.getLogger("brmacro.bronze.live.treasury")

_TENOR_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mo|mos|month|months|wk|wks|week|weeks|yr|yrs|year|years)\s*$", re.I)
_UNIT_YEARS = {"mo": 1 / 12, "wk": 1 / 52, "we": 1 / 52, "yr": 1.0, "ye": 1.0}
_MISSING = {"", "N/A", "NA", "-", "ND"}


CSV_PATH = "/resource-center/data-chart-center/interest-rates/daily-treasury-rates.csv"


@dataclass(frozen=True)
class TreasuryParams:
    """``live.sources.treasury_gov``, validated.

    Attributes
    ----------
    base_url : str
        Root URL (``https://home.treasury.gov``); :data:`CSV_PATH` + ``/{YEAR}/all`` is appended.
    settle_days : int
        Days after a year's end after which a fetched year is final.
    curves : dict
        Bronze curve name (``nominal``, ``real``) -> Treasury ``type`` value.
    """

    base_url: str = field(default_factory=factory("live.sources.treasury_gov.base_url"))
    settle_days: int = field(default_factory=factory("live.sources.treasury_gov.settle_days"))
    curves: dict[str, str] = field(default_factory=factory("live.sources.treasury_gov.curves"))


def parse_treasury_params(live: Mapping[str, Any] | None) -> TreasuryParams:
    """Validate ``live.sources.treasury_gov`` (missing keys take their defaults).

    Raises
    ------
    LiveConfigError
        On a malformed value.
    """
    sp = parse_live(live).source("treasury_gov")
    c = source_options(live, "treasury_gov")["curves"]
    if not isinstance(c, Mapping) or not c or not all(isinstance(k, str) and k and isinstance(v, str) and v
                                                      for k, v in c.items()):
        raise LiveConfigError(f"config live.sources.treasury_gov.curves: expected a mapping curve -> type, got {c!r}")
    return TreasuryParams(base_url=sp.base_url, settle_days=sp.settle_days, curves=dict(c))


def tenor_years(label: str) -> float:
    """Years of a Treasury column label (``"1 Mo"`` -> 1/12, ``"1.5 Month"`` -> 0.125, ``"5 YR"`` -> 5).

    Raises
    ------
    ValueError
        When the label is not a tenor.
    """
    m = _TENOR_RE.match(label)
    if not m:
        raise ValueError(f"{label!r} is not a tenor label")
    return float(m.group(1)) * _UNIT_YEARS[m.group(2).lower()[:2]]


def parse_csv(body: bytes, curve: str, year: int) -> pd.DataFrame:
    """Parse one yearly CSV into long rows (``date``, ``curve``, ``tenor``, ``tenor_years``, ``yield``).

    Raises
    ------
    PayloadError
        On an empty body, an HTML page, a header without ``Date`` or with a column that is not a tenor,
        a row of the wrong width (truncated file), a bad date, a date outside ``year``, a repeated date
        or a non-numeric yield.
    """
    where = f"treasury {curve} {year}"
    text = body.decode("utf-8-sig", errors="replace").strip()
    if not text:
        raise PayloadError(f"{where}: empty body")
    if text[:1] == "<":
        raise PayloadError(f"{where}: an HTML page instead of CSV: {text[:80]!r}")
    rows = list(csv.reader(io.StringIO(text)))
    header = [h.strip() for h in rows[0]]
    if not header or header[0].lower() != "date":
        raise PayloadError(f"{where}: first column is {header[0]!r}, expected 'Date'")
    labels = header[1:]
    try:
        years = [tenor_years(h) for h in labels]
    except ValueError as exc:
        raise PayloadError(f"{where}: unexpected column: {exc}") from None
    if len(set(labels)) != len(labels):
        raise PayloadError(f"{where}: repeated column labels {labels}")
    out: dict[str, list[Any]] = {"date": [], "tenor": [], "tenor_years": [], "yield": []}
    seen: set[dt.date] = set()
    for i, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise PayloadError(f"{where}: line {i} has {len(row)} fields for {len(header)} columns (truncated?)")
        try:
            d = dt.datetime.strptime(row[0].strip(), "%m/%d/%Y").date()
        except ValueError:
            raise PayloadError(f"{where}: line {i}: bad date {row[0]!r} (expected MM/DD/YYYY)") from None
        if d.year != year:
            raise PayloadError(f"{where}: line {i}: date {d} is outside the requested year")
        if d in seen:
            raise PayloadError(f"{where}: date {d} appears twice")
        seen.add(d)
        for lab, yrs, cell in zip(labels, years, row[1:], strict=True):
            c = cell.strip()
            if c.upper() in _MISSING:
                continue
            try:
                v = float(c)
            except ValueError:
                raise PayloadError(f"{where}: {d} {lab}: non-numeric yield {cell!r}") from None
            if not math.isfinite(v):
                raise PayloadError(f"{where}: {d} {lab}: non-finite yield {cell!r}")
            out["date"].append(d)
            out["tenor"].append(lab)
            out["tenor_years"].append(yrs)
            out["yield"].append(round(v / 100.0, 8))
    df = pd.DataFrame(out)
    df.insert(1, "curve", curve)
    return df


def fetch_year(client: Client, curve: str, year: int, date: dt.date, tp: TreasuryParams) -> pd.DataFrame:
    """Rows of ``curve`` for calendar ``year`` (from the cache unless it may miss a curve public by ``date``)."""
    params = {"type": tp.curves[curve], "field_tdr_date_value": str(year), "page": "", "_format": "csv"}
    last = dt.date(year, 12, 31)
    return get_chunk_at(
        client, f"{tp.base_url}{CSV_PATH}/{year}/all", params, cache_key=f"{curve}-{year}",
        needs_fetch=lambda hit: chunk_needs_fetch(hit, date, last, tp.settle_days),
        parse=lambda body: parse_csv(body, curve, year), context=f"{curve} curve {year}",
    )[0]


def fetch_snapshot(date: dt.date, params: Mapping[str, Any], client: Client) -> pd.DataFrame:
    """What Treasury says as of session ``date``, in the ``bronze_treasury_gov`` schema.

    Parameters
    ----------
    date : datetime.date
        The session; no curve dated after it is returned.
    params : mapping
        Step parameters: ``bronze`` (lookbacks, crisis windows) and ``live`` (``live.sources.treasury_gov``).
    client : HttpClient
        The ``treasury_gov`` HTTP client.

    Returns
    -------
    pandas.DataFrame
        Par yields (decimal) of every configured curve and published tenor in the daily lookback and
        the crisis windows, ``release_date = date`` (basis ``captured``), sorted by the schema key.

    Raises
    ------
    PayloadError, SourceError
        When a yearly file is unusable or cannot be fetched.
    """
    bronze = parse_params(params.get("bronze"))
    tp = parse_treasury_params(params.get("live"))
    wins = snapshot_windows(date, bronze, "daily")
    frames = [fetch_year(client, c, y, date, tp) for c in sorted(tp.curves) for y in year_chunks(wins)]
    frames = [f for f in frames if len(f)]
    if not frames:
        return TREASURY.empty()
    df = pd.concat(frames, ignore_index=True)
    df["release_date"] = df["date"]
    df["release_basis"] = "captured"
    return finalize(filter_snapshot(df, date, obs_col="date", windows=wins), TREASURY, f"treasury_gov as of {date}")
