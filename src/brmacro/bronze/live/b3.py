"""Live B3 DI1 and DAP settlements by contract (``bronze_b3_market_data``, source ``live``).

Source: B3's daily *price report* files, ISO 20022-style XML ``BVBG.086.01 PriceReport``, one per
session, at ``https://www.b3.com.br/pesquisapregao/download?filelist=<REPORT><YYMMDD>.zip``:

* ``SPRD<YYMMDD>.zip`` - the simplified report (derivatives only, about 50 kB), the default;
* ``PR<YYMMDD>.zip`` - the full report (every instrument, about 5 MB), same record layout.

The download is a ZIP holding another ZIP holding one or more XML files (B3 re-issues corrected
files; the last name in sort order is the newest). Each ``PricRpt`` record carries ``TradDt/Dt``,
``SctyId/TckrSymb`` and ``FinInstrmAttrbts`` with ``AdjstdQt`` (settlement PU), ``AdjstdQtTax``
(settlement rate, percent per year, 252 basis) and ``OpnIntrst`` (open contracts); namespaces
(``urn:bvmf.052.01.xsd`` envelope, ``urn:bvmf.217.01.xsd`` records) are matched by local name.
This is the source the ``pyield`` library reads for history since B3 switched off the old
"Sistema Pregão"/"Ajustes do Pregão" pages in December 2025; pyield's own PR-derived history starts on
2018-01-02. How far back B3 itself serves the files could not be checked from here (no network):
a session whose file is missing, empty or not a ZIP is an error naming the session and the file;
``history_start`` leaves older sessions out explicitly (logged), and ``known_missing_sessions`` lists
sessions B3 never published (both in ``live.sources.b3_market_data``, declared in :mod:`brmacro.params.live`).

Contracts: tickers ``DI1`` / ``DAP`` + month code + two-digit year (6 characters). Maturity: DI1 on
the first ANBIMA business day of the contract month (:func:`brmacro.instruments.di1_maturity`); DAP on
the 15th of the month or the next ANBIMA business day (it follows the NTN-B dates). ``du`` counts ANBIMA
business days from the session to maturity; contracts at or past maturity are left out. Every row's
PU is checked against ``100,000 / (1 + rate)^(du/252)`` within ``price_tolerance`` (relative): a
mismatch means a wrong maturity/calendar or unit, and is an error rather than a silent curve kink.

Each session's file is parsed once: the parsed rows are kept beside the HTTP cache
(``<cache_dir>/b3_market_data/parsed/<REPORT><YYMMDD>-<commodities>.parquet``), because a partition's
lookback touches hundreds of files.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import math
import os
import re
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from brmacro import calendar
from brmacro.bronze.live.common import (
    Client,
    LiveConfigError,
    chunk_needs_fetch,
    daily_mask,
    finalize,
    get_chunk_at,
    parse_live,
    snapshot_windows,
    source_options,
)
from brmacro.bronze.live.http import PayloadError
from brmacro.bronze.params import BronzeParams, parse_params
from brmacro.bronze.schemas import B3
from brmacro.calendar import DateError, parse_date
from brmacro.instruments import MONTH_CODES, di1_maturity, di1_pu
from brmacro.params import factory

__all__ = [
    "DOWNLOAD_PATH",
    "B3Params",
    "PARSED_COLUMNS",
    "contract_maturity",
    "extract_xml",
    "fetch_session",
    "fetch_snapshot",
    "file_name",
    "parse_b3_params",
    "parse_price_report",
    "snapshot_sessions",
]

log = logging.getLogger("brmacro.bronze.live.b3")

PARSED_COLUMNS = ("trade_date", "commodity", "ticker", "maturity", "du", "settlement_rate", "settlement_price",
                  "open_interest")
_PARSER_VERSION = "1"
_TICKER_RE = re.compile(r"^(DI1|DAP)([FGHJKMNQUVXZ])(\d{2})$")


DOWNLOAD_PATH = "/pesquisapregao/download"


@dataclass(frozen=True)
class B3Params:
    """``live.sources.b3_market_data``, validated.

    Attributes
    ----------
    base_url : str
        Root URL (``https://www.b3.com.br``); :data:`DOWNLOAD_PATH` is appended, the file name goes in
        its ``filelist`` parameter.
    settle_days : int
        Days after a session after which its fetched file is final.
    report : str
        ``SPRD`` (simplified derivatives report) or ``PR`` (full report).
    commodities : tuple of str
        Contracts kept (``DI1``, ``DAP``).
    price_tolerance : float
        Largest relative gap between the settlement PU and the PU implied by the settlement rate.
    known_missing_sessions : tuple of datetime.date
        Sessions without a file at B3; skipped with a log line.
    history_start : datetime.date or None
        Sessions before it are not fetched (logged); ``None`` fetches every session asked for.
    user_agent : str
        ``User-Agent`` header.
    """

    base_url: str = field(default_factory=factory("live.sources.b3_market_data.base_url"))
    settle_days: int = field(default_factory=factory("live.sources.b3_market_data.settle_days"))
    report: str = field(default_factory=factory("live.sources.b3_market_data.report"))
    commodities: tuple[str, ...] = field(
        default_factory=factory("live.sources.b3_market_data.commodities", lambda v: tuple(sorted(v))))
    price_tolerance: float = field(default_factory=factory("live.sources.b3_market_data.price_tolerance"))
    known_missing_sessions: tuple[dt.date, ...] = field(default_factory=factory(
        "live.sources.b3_market_data.known_missing_sessions",
        lambda v: tuple(sorted(dt.date.fromisoformat(str(x)) for x in v))))
    history_start: dt.date | None = field(default_factory=factory(
        "live.sources.b3_market_data.history_start", lambda v: None if v is None else dt.date.fromisoformat(str(v))))
    user_agent: str = field(default_factory=factory("live.sources.b3_market_data.user_agent"))


def _date(v: object, where: str) -> dt.date:
    try:
        return parse_date(v, where)
    except DateError as exc:
        raise LiveConfigError(str(exc)) from None


def parse_b3_params(live: Mapping[str, Any] | None) -> B3Params:
    """Validate ``live.sources.b3_market_data`` (missing keys take their defaults).

    Raises
    ------
    LiveConfigError
        On a malformed value.
    """
    sp = parse_live(live).source("b3_market_data")
    o = source_options(live, "b3_market_data")
    w = "config live.sources.b3_market_data"
    if o["report"] not in ("SPRD", "PR"):
        raise LiveConfigError(f"{w}.report: expected 'SPRD' or 'PR', got {o['report']!r}")
    c = o["commodities"]
    if isinstance(c, str) or not isinstance(c, (list, tuple)) or not c or not set(c) <= {"DI1", "DAP"}:
        raise LiveConfigError(f"{w}.commodities: expected a non-empty list of DI1/DAP, got {c!r}")
    tol = o["price_tolerance"]
    if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not tol > 0:
        raise LiveConfigError(f"{w}.price_tolerance: expected a positive number, got {tol!r}")
    ua = o["user_agent"]
    if not isinstance(ua, str) or not ua:
        raise LiveConfigError(f"{w}.user_agent: expected a non-empty string, got {ua!r}")
    missing = o["known_missing_sessions"] or []
    if isinstance(missing, str) or not isinstance(missing, (list, tuple)):
        raise LiveConfigError(f"{w}.known_missing_sessions: expected a list of ISO dates, got {missing!r}")
    return B3Params(
        base_url=sp.base_url, settle_days=sp.settle_days, report=o["report"], commodities=tuple(sorted(set(c))),
        price_tolerance=float(tol),
        known_missing_sessions=tuple(sorted(_date(v, f"{w}.known_missing_sessions[{i}]")
                                            for i, v in enumerate(missing))),
        history_start=None if o["history_start"] is None else _date(o["history_start"], f"{w}.history_start"),
        user_agent=ua,
    )


def file_name(session: dt.date, report: str) -> str:
    """B3's file name for a session: ``SPRD240216.zip`` / ``PR231228.zip``."""
    return f"{report}{session:%y%m%d}.zip"


def contract_maturity(ticker: str) -> tuple[str, dt.date]:
    """``(commodity, maturity)`` of a DI1/DAP ticker (``DI1F27`` -> DI1, first business day of Jan 2027).

    Raises
    ------
    ValueError
        When the ticker is not a DI1/DAP futures ticker.
    """
    m = _TICKER_RE.match(ticker)
    if not m:
        raise ValueError(f"{ticker!r} is not a DI1/DAP futures ticker")
    root, month, year = m.group(1), MONTH_CODES.index(m.group(2)) + 1, 2000 + int(m.group(3))
    if root == "DI1":
        return root, di1_maturity(year, month)
    return root, calendar.anbima_roll_forward(dt.date(year, month, 15))


def extract_xml(body: bytes, where: str) -> bytes:
    """The newest price-report XML inside a B3 download (ZIP of ZIP of XML; a flat ZIP is accepted).

    Raises
    ------
    PayloadError
        On an empty body, an HTML page, a truncated or non-ZIP body, or a ZIP without XML.
    """
    if not body.strip():
        raise PayloadError(f"{where}: empty body (B3 has no file for this session)")
    if body.lstrip()[:1] == b"<":
        raise PayloadError(f"{where}: an HTML page instead of a ZIP: {body.lstrip()[:80]!r}")
    xmls: dict[str, bytes] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as outer:
            for name in sorted(outer.namelist()):
                data = outer.read(name)
                if name.lower().endswith(".zip"):
                    with zipfile.ZipFile(io.BytesIO(data)) as inner:
                        for n2 in sorted(inner.namelist()):
                            if n2.lower().endswith(".xml"):
                                xmls[n2] = inner.read(n2)
                elif name.lower().endswith(".xml"):
                    xmls[name] = data
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise PayloadError(f"{where}: not a readable ZIP (truncated?): {exc}") from None
    if not xmls:
        raise PayloadError(f"{where}: the ZIP holds no XML file")
    return xmls[sorted(xmls)[-1]]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child_text(elem: ET.Element, *path: str) -> str | None:
    cur: ET.Element | None = elem
    for name in path:
        if cur is None:
            return None
        cur = next((c for c in cur if _local(c.tag) == name), None)
    if cur is None or cur.text is None:
        return None
    return cur.text.strip() or None


def _number(text: str | None, where: str, field: str) -> float:
    if text is None:
        return math.nan
    try:
        v = float(text)
    except ValueError:
        raise PayloadError(f"{where}: {field} is not a number: {text!r}") from None
    if not math.isfinite(v):
        raise PayloadError(f"{where}: {field} is not finite: {text!r}")
    return v


def parse_price_report(xml: bytes, session: dt.date, commodities: tuple[str, ...], where: str) -> pd.DataFrame:
    """DI1/DAP settlement rows of one BVBG.086.01 price report (columns :data:`PARSED_COLUMNS`).

    Raises
    ------
    PayloadError
        On malformed or truncated XML, a record of another trade date, a non-numeric value, a ticker
        repeated with different values, or a file without any contract of ``commodities``.
    """
    recs: dict[str, tuple[float, float, float]] = {}
    skipped = 0
    try:
        for _, elem in ET.iterparse(io.BytesIO(xml), events=("end",)):
            if _local(elem.tag) != "PricRpt":
                continue
            ticker = _child_text(elem, "SctyId", "TckrSymb")
            if ticker is None or not _TICKER_RE.match(ticker) or ticker[:3] not in commodities:
                elem.clear()
                continue
            w = f"{where} {ticker}"
            td = _child_text(elem, "TradDt", "Dt")
            if td != session.isoformat():
                raise PayloadError(f"{w}: trade date {td!r}, expected the session {session}")
            pu = _number(_child_text(elem, "FinInstrmAttrbts", "AdjstdQt"), w, "AdjstdQt (settlement PU)")
            rate = _number(_child_text(elem, "FinInstrmAttrbts", "AdjstdQtTax"), w, "AdjstdQtTax (settlement rate)")
            oi = _number(_child_text(elem, "FinInstrmAttrbts", "OpnIntrst"), w, "OpnIntrst (open interest)")
            elem.clear()
            if math.isnan(pu) or math.isnan(rate):
                skipped += 1
                continue
            rec = (rate, pu, oi)
            if ticker in recs and recs[ticker] != rec and not (
                    recs[ticker][:2] == rec[:2] and all(math.isnan(x) for x in (recs[ticker][2], oi))):
                raise PayloadError(f"{w}: two records with different settlements {recs[ticker]} and {rec}")
            recs[ticker] = rec
    except ET.ParseError as exc:
        raise PayloadError(f"{where}: malformed or truncated XML: {exc}") from None
    if skipped:
        log.warning("%s: %d contract(s) without a settlement rate or PU left out", where, skipped)
    if not recs:
        raise PayloadError(f"{where}: no {'/'.join(commodities)} contract in the price report")
    rows = []
    for ticker in sorted(recs):
        rate, pu, oi = recs[ticker]
        root, mat = contract_maturity(ticker)
        rows.append((session, root, ticker, mat, round(rate / 100.0, 8), pu, oi))
    df = pd.DataFrame(rows, columns=["trade_date", "commodity", "ticker", "maturity", "settlement_rate",
                                     "settlement_price", "open_interest"])
    df.insert(4, "du", calendar.du(np.array(df["trade_date"].tolist(), dtype="datetime64[D]"),
                                   np.array(df["maturity"].tolist(), dtype="datetime64[D]")).astype(np.int64))
    return df.loc[df["du"] > 0, list(PARSED_COLUMNS)].reset_index(drop=True)


def _check_prices(df: pd.DataFrame, tol: float, where: str) -> None:
    implied = di1_pu(df["settlement_rate"].to_numpy(float), df["du"].to_numpy(float))
    gap = np.abs(df["settlement_price"].to_numpy(float) / implied - 1.0)
    bad = np.flatnonzero(~(gap <= tol))
    if len(bad):
        r = df.iloc[int(bad[0])]
        raise PayloadError(
            f"{where} {r['ticker']}: settlement PU {r['settlement_price']} disagrees with rate "
            f"{r['settlement_rate']} over {r['du']} du (implied {implied[bad[0]]:.2f}, gap {gap[bad[0]]:.2e} > "
            f"{tol}): wrong maturity, calendar or units"
        )


def _parsed_path(client: Client, session: dt.date, bp: B3Params) -> Path | None:
    root = getattr(client, "cache_dir", None)
    if root is None:
        return None
    name = f"{file_name(session, bp.report)[:-4]}-{'_'.join(bp.commodities)}-v{_PARSER_VERSION}.parquet"
    return Path(root) / client.source / "parsed" / name


def _schema() -> pa.Schema:
    return pa.schema([("trade_date", pa.date32()), ("commodity", pa.string()), ("ticker", pa.string()),
                      ("maturity", pa.date32()), ("du", pa.int64()), ("settlement_rate", pa.float64()),
                      ("settlement_price", pa.float64()), ("open_interest", pa.float64())])


def _read_parsed(path: Path) -> pd.DataFrame | None:
    try:
        t = pq.read_table(path)
    except (OSError, pa.ArrowInvalid):
        return None
    if not t.schema.equals(_schema(), check_metadata=False):
        return None
    df: pd.DataFrame = t.to_pandas()
    for c in ("trade_date", "maturity"):
        df[c] = [pd.Timestamp(x).date() for x in df[c]]
    return df


def _write_parsed(path: Path, df: pd.DataFrame) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        pq.write_table(pa.Table.from_pandas(df, schema=_schema(), preserve_index=False), tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def fetch_session(client: Client, session: dt.date, bp: B3Params) -> pd.DataFrame:
    """Settlement rows of one session (parsed cache, else the HTTP cache or B3), PU/rate checked.

    Raises
    ------
    PayloadError
        When the session's file is missing, unreadable or inconsistent (the message names the session).
    SourceError
        When B3 cannot be reached.
    """
    name = file_name(session, bp.report)
    where = f"b3 {name} (session {session})"
    path = _parsed_path(client, session, bp)
    df = _read_parsed(path) if path is not None and path.exists() else None
    if df is None:
        fetched, res = get_chunk_at(
            client, f"{bp.base_url}{DOWNLOAD_PATH}", {"filelist": name}, cache_key=name[:-4],
            needs_fetch=lambda hit: chunk_needs_fetch(hit, session, session, bp.settle_days),
            parse=lambda body: parse_price_report(extract_xml(body, where), session, bp.commodities, where),
            headers={"User-Agent": bp.user_agent}, context=f"price report of session {session}",
        )
        if path is not None and not chunk_needs_fetch(res, session, session, bp.settle_days):
            _write_parsed(path, fetched)
        df = fetched
    _check_prices(df, bp.price_tolerance, where)
    return df


def snapshot_sessions(date: dt.date, bronze: BronzeParams, bp: B3Params) -> list[dt.date]:
    """B3 sessions whose files a snapshot of ``date`` reads (lookback and crisis windows, by ``date``)."""
    sessions = pd.Series([s for s in calendar.b3_sessions() if s <= date], dtype=object)
    keep = sessions.loc[daily_mask(sessions, snapshot_windows(date, bronze, "daily"))].tolist()
    missing = set(bp.known_missing_sessions)
    out = [s for s in keep if s not in missing and (bp.history_start is None or s >= bp.history_start)]
    if bp.history_start is not None and any(s < bp.history_start for s in keep):
        log.warning("b3: %d session(s) before live.b3.history_start %s left out of the snapshot of %s",
                    sum(s < bp.history_start for s in keep), bp.history_start, date)
    return out


def fetch_snapshot(date: dt.date, params: Mapping[str, Any], client: Client) -> pd.DataFrame:
    """What B3's settlement files say as of session ``date``, in the ``bronze_b3_market_data`` schema.

    Parameters
    ----------
    date : datetime.date
        The session (its own file is included).
    params : mapping
        Step parameters: ``bronze`` (lookbacks, crisis windows) and ``live.b3`` (see :class:`B3Params`).
    client : HttpClient
        The ``b3_market_data`` HTTP client.

    Returns
    -------
    pandas.DataFrame
        One row per contract and session, rates in decimals, ``release_date = trade_date`` (basis
        ``captured``), sorted by ``(trade_date, ticker)``.

    Raises
    ------
    PayloadError
        When a session's file is missing or bad (naming the session and file).
    SourceError
        When B3 cannot be reached.
    """
    bronze = parse_params(params.get("bronze"))
    bp = parse_b3_params(params.get("live"))
    frames = [fetch_session(client, s, bp) for s in snapshot_sessions(date, bronze, bp)]
    if not frames:
        return B3.empty()
    df = pd.concat(frames, ignore_index=True)
    df["release_date"] = df["trade_date"]
    df["release_basis"] = "captured"
    return finalize(df, B3, f"b3_market_data as of {date}")
