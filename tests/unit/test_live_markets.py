"""Live market connectors (Yahoo chart JSON, B3 price reports, Treasury CSVs) on recorded-format fixtures.

No test touches the network: the real :class:`HttpClient` runs on a fake ``requests`` session that
routes each URL to a fixture (hand-written in the real formats) or to a small generated payload.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd
import pytest

from brmacro import calendar
from brmacro.bronze.live import b3, http, treasury, yahoo
from brmacro.bronze.live.http import HttpClient, PayloadError
from brmacro.bronze.schemas import B3, TREASURY, YAHOO
from brmacro.instruments import di1_pu
from brmacro.params import defaults

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "live"
NO_CRISIS = {"daily_lookback_years": 1, "crisis_windows": []}


# ----------------------------------------------------------------------------- fake transport

class _Resp:
    def __init__(self, status: int, body: bytes) -> None:
        self.status_code = status
        self.content = body
        self.headers: dict[str, str] = {}


class FakeSession:
    """A ``requests.Session`` stand-in: ``route(url) -> (status, body)``; counts requests per path."""

    def __init__(self, route: Callable[[str], tuple[int, bytes]]) -> None:
        self.route = route
        self.calls: list[str] = []

    def get(self, url: str, headers: Any = None, timeout: Any = None) -> _Resp:  # noqa: ARG002
        self.calls.append(url)
        return _Resp(*self.route(url))


def client(source: str, route: Callable[[str], tuple[int, bytes]],
           cache: Path | None) -> tuple[HttpClient, FakeSession]:
    s = FakeSession(route)
    c = HttpClient(source=source, cache_dir=cache, timeout=1.0, retries=0, backoff=0.0, max_backoff=0.0,
                   sleep=lambda _x: None, session=s)  # type: ignore[arg-type]
    return c, s


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


# ----------------------------------------------------------------------------- Yahoo

def _chart(ticker: str, year: int, tz: str = "America/New_York") -> bytes:
    """A chart answer with one bar per weekday of ``year`` (close = 100 + day of year / 10)."""
    days = pd.bdate_range(f"{year}-01-01", f"{year}-12-31")
    ts = [int(pd.Timestamp(d).tz_localize(tz).timestamp()) for d in days]
    close = [round(100 + d.dayofyear / 10, 2) for d in days]
    return json.dumps({"chart": {"result": [{
        "meta": {"symbol": ticker, "exchangeTimezoneName": tz, "gmtoffset": 0},
        "timestamp": ts,
        "indicators": {"quote": [{"open": close, "high": close, "low": close, "close": close,
                                  "volume": [1000] * len(ts)}],
                       "adjclose": [{"adjclose": [c - 1 for c in close]}]}}], "error": None}}).encode()


def _yahoo_route(url: str) -> tuple[int, bytes]:
    path = urlsplit(url).path
    ticker = path.rsplit("/", 1)[-1]
    from urllib.parse import unquote
    ticker = unquote(ticker)
    p1 = int(_query(url)["period1"])
    year = (dt.datetime.fromtimestamp(p1, dt.UTC) + dt.timedelta(days=1)).year
    return 200, _chart(ticker, year)


def _window(year: int) -> tuple[int, int]:
    return yahoo._window(year)


def test_parse_chart_value_by_value_raw_and_adjusted_close_null_bar_dropped() -> None:
    p1, p2 = _window(2024)
    df = yahoo.parse_chart((FIX / "yahoo" / "BVSP-2024.json").read_bytes(), "^BVSP", p1, p2)
    assert df["date"].tolist() == [dt.date(2024, 12, 23), dt.date(2024, 12, 24), dt.date(2024, 12, 27),
                                   dt.date(2024, 12, 30)]  # the null bar of the 26th is no bar
    assert df["close"].tolist() == [121078.0, 120767.0, 121092.0, 120283.0]
    assert df["open"].tolist() == [122102.0, 121077.0, 120269.0, 121092.0]
    assert df["high"].iloc[0] == 122162.0 and df["low"].iloc[-1] == 119959.0
    assert df["adj_close"].tolist() == df["close"].tolist()
    assert df["volume"].tolist() == [7318400.0, 3865500.0, 6512900.0, 5432100.0]


def test_parse_chart_dates_bars_in_the_exchange_time_zone() -> None:
    """FX bars are stamped 00:00 Europe/London: 23:00 UTC of the previous day in summer."""
    p1, p2 = _window(2024)
    df = yahoo.parse_chart((FIX / "yahoo" / "BRLX-2024.json").read_bytes(), "BRL=X", p1, p2)
    assert df["date"].tolist() == [dt.date(2024, 7, 1), dt.date(2024, 7, 2), dt.date(2024, 7, 3)]
    assert df["close"].tolist() == [5.5897, 5.6522, 5.6783]


def test_roll_jump_flags_negative_oil_and_big_moves_only() -> None:
    p1, p2 = _window(2020)
    df = yahoo.parse_chart((FIX / "yahoo" / "CLF-2020.json").read_bytes(), "CL=F", p1, p2)
    flags = yahoo.flag_jumps(df["close"].to_numpy(), 0.08)
    # 16->17 Apr: -8.4% log move; 20 Apr: -37.63 (not positive); 21 Apr: previous close not positive;
    # 22 Apr: log(13.78/10.01) = 0.32
    assert flags.tolist() == [False, True, True, True, True]
    assert yahoo.flag_jumps(np.array([100.0, 101.0, 95.0, 95.5]), 0.05).tolist() == [False, False, True, False]
    assert yahoo.flag_jumps(np.array([100.0, 101.0, 95.0, 95.5]), 0.10).tolist() == [False] * 4
    assert yahoo.flag_jumps(np.array([5.0]), 0.1).tolist() == [False]


def _mutate(obj: dict[str, Any], fn: Callable[[dict[str, Any]], None]) -> bytes:
    fn(obj["chart"]["result"][0])
    return json.dumps(obj).encode()


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b"", "empty body"),
        (b"<!DOCTYPE html><html><body>Will be right back</body></html>", "HTML page"),
        (b'{"chart":{"result":[{"meta":', "truncated or malformed"),
        ((FIX / "yahoo" / "error-not-found.json").read_bytes(), "No data found"),
        ("other-symbol", "symbol 'VALE3.SA'"),
        ("short-array", "has 4 values for 5 timestamps"),
        ("text-value", "non-numeric value 'abc'"),
        ("duplicate", "duplicate bars on 2024-12-23"),
        ("outside", "outside the requested window"),
        ("no-tz", "no usable exchange time zone"),
    ],
)
def test_bad_yahoo_payloads_raise_payload_error_naming_ticker(body: Any, match: str) -> None:
    base = json.loads((FIX / "yahoo" / "BVSP-2024.json").read_bytes())
    if body == "other-symbol":
        body = _mutate(base, lambda r: r["meta"].update(symbol="VALE3.SA"))
    elif body == "short-array":
        body = _mutate(base, lambda r: r["indicators"]["quote"][0].update(close=[1.0, 2.0, 3.0, 4.0]))
    elif body == "text-value":
        body = _mutate(base, lambda r: r["indicators"]["quote"][0]["close"].__setitem__(1, "abc"))
    elif body == "duplicate":
        body = _mutate(base, lambda r: r["timestamp"].__setitem__(1, r["timestamp"][0] + 3600))
    elif body == "outside":
        body = _mutate(base, lambda r: r["timestamp"].__setitem__(4, 1767225600))  # 2026-01-01
    elif body == "no-tz":
        body = _mutate(base, lambda r: r.update(meta={"symbol": "^BVSP"}))
    p1, p2 = _window(2024)
    with pytest.raises(PayloadError, match=match) as ei:
        yahoo.parse_chart(body, "^BVSP", p1, p2)
    assert "yahoo ^BVSP" in str(ei.value)


def test_yahoo_snapshot_schema_release_filter_inclusive_end_and_chunk_cache(tmp_path: Path) -> None:
    c, s = client("yahoo", _yahoo_route, tmp_path)
    params = {"bronze": NO_CRISIS}
    d = dt.date(2024, 12, 27)
    df = yahoo.fetch_snapshot(d, params, c)
    YAHOO.conform(df)
    assert list(df.columns) == YAHOO.names
    assert set(df["ticker"]) == set(defaults("live.sources.yahoo.tickers"))
    assert df["date"].max() == d  # inclusive end: the session's own bar is there
    assert df["date"].min() == dt.date(2023, 12, 27)
    assert (df["release_date"] == df["date"]).all() and set(df["release_basis"]) == {"captured"}
    assert df.equals(df.sort_values(["ticker", "date"]).reset_index(drop=True))
    row = df.loc[(df["ticker"] == "^GSPC") & (df["date"] == dt.date(2024, 3, 1))].iloc[0]
    assert row["close"] == round(100 + 61 / 10, 2) and row["adj_close"] == row["close"] - 1
    assert not df.loc[df["ticker"] == "^GSPC", "roll_jump"].any()
    assert len(s.calls) == 2 * len(defaults("live.sources.yahoo.tickers"))  # one request per ticker and year
    # a second session of the same years reads every chunk from the cache
    df2 = yahoo.fetch_snapshot(dt.date(2024, 12, 20), params, c)
    assert len(s.calls) == 2 * len(defaults("live.sources.yahoo.tickers"))
    assert df2["date"].max() == dt.date(2024, 12, 20)
    assert Counter(s.calls).most_common(1)[0][1] == 1


def test_yahoo_open_year_is_fetched_again_when_cached_before_the_session_ended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    c, s = client("yahoo", _yahoo_route, tmp_path)
    yp = yahoo.parse_yahoo_params(None)
    d = dt.date(2024, 12, 27)
    monkeypatch.setattr(http, "_utcnow", lambda: dt.datetime(2024, 12, 27, 15, 0, tzinfo=dt.UTC))  # intraday
    yahoo.fetch_chunk(c, "^GSPC", 2024, d, yp)
    yahoo.fetch_chunk(c, "^GSPC", 2024, d, yp)
    assert len(s.calls) == 2  # fetched during the session: may miss its close, fetched again
    monkeypatch.setattr(http, "_utcnow", lambda: dt.datetime(2024, 12, 28, 9, 0, tzinfo=dt.UTC))
    yahoo.fetch_chunk(c, "^GSPC", 2024, d, yp)
    yahoo.fetch_chunk(c, "^GSPC", 2024, d, yp)
    yahoo.fetch_chunk(c, "^GSPC", 2024, dt.date(2024, 6, 3), yp)
    assert len(s.calls) == 3


def test_yahoo_bad_answer_is_not_cached_and_a_bad_cache_entry_is_fetched_again(tmp_path: Path) -> None:
    answers = [b"<html>rate limited</html>", _chart("^GSPC", 2023)]
    c, s = client("yahoo", lambda _u: (200, answers[min(len(s.calls) - 1, 1)]), tmp_path)
    yp = yahoo.parse_yahoo_params(None)
    with pytest.raises(PayloadError, match="HTML page"):
        yahoo.fetch_chunk(c, "^GSPC", 2023, dt.date(2024, 3, 1), yp)
    df = yahoo.fetch_chunk(c, "^GSPC", 2023, dt.date(2024, 3, 1), yp)
    assert len(df) == len(pd.bdate_range("2023-01-01", "2023-12-31")) and len(s.calls) == 2


def test_yahoo_roll_flag_in_snapshot(tmp_path: Path) -> None:
    def route(url: str) -> tuple[int, bytes]:
        status, raw = _yahoo_route(url)
        if ("CL%3DF" in url or "CL=F" in url) and int(_query(url)["period1"]) == _window(2024)[0]:
            body = json.loads(raw)
            q = body["chart"]["result"][0]["indicators"]["quote"][0]
            q["close"][100] = q["close"][99] * 1.2  # a 20% jump at a roll
            return 200, json.dumps(body).encode()
        return _yahoo_route(url)

    c, _ = client("yahoo", route, tmp_path)
    df = yahoo.fetch_snapshot(dt.date(2024, 12, 27), {"bronze": NO_CRISIS}, c)
    cl = df.loc[df["ticker"] == "CL=F"].reset_index(drop=True)
    jump_day = pd.bdate_range("2024-01-01", "2024-12-31")[100].date()
    after = pd.bdate_range("2024-01-01", "2024-12-31")[101].date()
    # the synthetic closes also fall from 136.3 (29 Dec 2023) to 100.1 (1 Jan 2024): the return is taken
    # across the yearly chunks, so that bar is flagged too
    assert cl.loc[cl["roll_jump"], "date"].tolist() == [dt.date(2024, 1, 1), jump_day, after]
    assert not df.loc[df["ticker"] == "^BVSP", "roll_jump"].any()


# ----------------------------------------------------------------------------- Treasury

def test_treasury_tenor_labels_including_header_drift() -> None:
    assert treasury.tenor_years("1 Mo") == pytest.approx(1 / 12)
    assert treasury.tenor_years("1.5 Month") == pytest.approx(0.125)
    assert treasury.tenor_years("4 Mo") == pytest.approx(4 / 12)
    assert treasury.tenor_years("5 YR") == 5.0 and treasury.tenor_years("30 Yr") == 30.0
    assert treasury.tenor_years("6 Wk") == pytest.approx(6 / 52)
    with pytest.raises(ValueError, match="not a tenor"):
        treasury.tenor_years("Extrapolation Factor")


def test_treasury_csv_value_by_value() -> None:
    nom = treasury.parse_csv((FIX / "treasury" / "nominal-2025.csv").read_bytes(), "nominal", 2025)
    assert len(nom) == 3 * 14 - 1  # the N/A of 1.5 Month on 14 Feb is skipped, not invented
    r = nom.set_index(["date", "tenor"])
    assert r.loc[(dt.date(2025, 2, 19), "10 Yr"), "yield"] == pytest.approx(0.0455)
    assert r.loc[(dt.date(2025, 2, 18), "1.5 Month"), "yield"] == pytest.approx(0.0432)
    assert r.loc[(dt.date(2025, 2, 18), "1.5 Month"), "tenor_years"] == pytest.approx(0.125)
    assert (dt.date(2025, 2, 14), "1.5 Month") not in r.index
    real = treasury.parse_csv((FIX / "treasury" / "real-2025.csv").read_bytes(), "real", 2025)
    assert sorted(set(real["tenor"])) == ["10 YR", "20 YR", "30 YR", "5 YR", "7 YR"]
    assert real.set_index(["date", "tenor"]).loc[(dt.date(2025, 2, 14), "5 YR"), "yield"] == pytest.approx(0.0188)
    assert set(real["curve"]) == {"real"}


def test_treasury_new_tenor_column_is_kept() -> None:
    body = b'Date,"1 Mo","2.5 Month","10 Yr"\n03/03/2025,4.30,4.31,4.20\n'
    df = treasury.parse_csv(body, "nominal", 2025)
    assert df.loc[df["tenor"] == "2.5 Month", "tenor_years"].item() == pytest.approx(2.5 / 12)


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b"", "empty body"),
        (b"<html><body>Access Denied</body></html>", "HTML page"),
        (b'Date,"1 Mo","Extrapolation Factor"\n01/02/2025,4.3,1\n', "unexpected column"),
        (b'Observation,"1 Mo"\n01/02/2025,4.3\n', "expected 'Date'"),
        (b'Date,"1 Mo","3 Mo"\n01/03/2025,4.3,4.2\n01/02/2025,4.3', "truncated"),
        (b'Date,"1 Mo"\n2025-01-02,4.3\n', "bad date"),
        (b'Date,"1 Mo"\n12/31/2024,4.3\n', "outside the requested year"),
        (b'Date,"1 Mo"\n01/02/2025,4.3\n01/02/2025,4.3\n', "appears twice"),
        (b'Date,"1 Mo"\n01/02/2025,4,30\n', "fields for 2 columns"),
        (b'Date,"1 Mo"\n01/02/2025,abc\n', "non-numeric yield 'abc'"),
    ],
)
def test_bad_treasury_payloads(body: bytes, match: str) -> None:
    with pytest.raises(PayloadError, match=match) as ei:
        treasury.parse_csv(body, "nominal", 2025)
    assert "treasury nominal 2025" in str(ei.value)


def _treasury_route(url: str) -> tuple[int, bytes]:
    q = _query(url)
    year = int(q["field_tdr_date_value"])
    assert urlsplit(url).path.endswith(f"/daily-treasury-rates.csv/{year}/all") and q["_format"] == "csv"
    days = pd.bdate_range(f"{year}-01-01", f"{year}-12-31")[::-1]
    if q["type"] == "daily_treasury_real_yield_curve":
        head, vals = 'Date,"5 YR","10 YR"', "1.50,1.75"
    else:
        head, vals = 'Date,"1 Mo","10 Yr"', "5.10,4.20"
    return 200, (head + "\n" + "\n".join(f"{d:%m/%d/%Y},{vals}" for d in days) + "\n").encode()


def test_treasury_snapshot_release_filter_and_one_fetch_per_curve_year(tmp_path: Path) -> None:
    c, s = client("treasury_gov", _treasury_route, tmp_path)
    d = dt.date(2024, 7, 3)
    df = treasury.fetch_snapshot(d, {"bronze": NO_CRISIS}, c)
    TREASURY.conform(df)
    assert df["date"].max() == d and df["date"].min() == dt.date(2023, 7, 3)
    assert set(df["curve"]) == {"nominal", "real"}
    assert df.loc[df["tenor"] == "10 YR", "yield"].eq(0.0175).all()
    assert df.loc[df["tenor"] == "1 Mo", "tenor_years"].eq(1 / 12).all()
    assert len(s.calls) == 4
    treasury.fetch_snapshot(dt.date(2024, 7, 2), {"bronze": NO_CRISIS}, c)
    assert len(s.calls) == 4


def test_treasury_current_year_refetched_when_stale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    c, s = client("treasury_gov", _treasury_route, tmp_path)
    tp = treasury.parse_treasury_params(None)
    monkeypatch.setattr(http, "_utcnow", lambda: dt.datetime(2024, 7, 1, 12, 0, tzinfo=dt.UTC))
    treasury.fetch_year(c, "nominal", 2024, dt.date(2024, 6, 28), tp)
    treasury.fetch_year(c, "nominal", 2024, dt.date(2024, 6, 28), tp)  # fetched after that session: cached
    assert len(s.calls) == 1
    treasury.fetch_year(c, "nominal", 2024, dt.date(2024, 7, 2), tp)  # a later session: stale, fetched again
    assert len(s.calls) == 2


# ----------------------------------------------------------------------------- B3

def _zip(xml: bytes, name: str = "SPRD240216.xml", nested: bool = True) -> bytes:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr(name, xml)
    if not nested:
        return inner.getvalue()
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w") as z:
        z.writestr(name.replace(".xml", ".zip"), inner.getvalue())
    return outer.getvalue()


XML = (FIX / "b3" / "SPRD240216.xml").read_bytes()
S = dt.date(2024, 2, 16)


def test_b3_contract_maturities() -> None:
    assert b3.contract_maturity("DI1F27") == ("DI1", dt.date(2027, 1, 4))  # 1 Jan holiday, 2-3 weekend
    assert b3.contract_maturity("DI1J24") == ("DI1", dt.date(2024, 4, 1))
    assert b3.contract_maturity("DAPK25") == ("DAP", dt.date(2025, 5, 15))
    assert b3.contract_maturity("DAPQ26") == ("DAP", dt.date(2026, 8, 17))  # 15 Aug 2026 is a Saturday
    with pytest.raises(ValueError, match="not a DI1/DAP"):
        b3.contract_maturity("DOLH24")


def test_b3_price_report_value_by_value() -> None:
    df = b3.parse_price_report(b3.extract_xml(_zip(XML), "t"), S, ("DAP", "DI1"), "t")
    assert df["ticker"].tolist() == ["DAPK25", "DAPQ26", "DI1F25", "DI1F27", "DI1H24", "DI1J24"]
    r = df.set_index("ticker")
    assert r.loc["DI1F25", "settlement_rate"] == pytest.approx(0.10045)
    assert r.loc["DI1F25", "settlement_price"] == 91913.34
    assert r.loc["DI1F25", "open_interest"] == 3961004.0
    assert np.isnan(r.loc["DI1F27", "open_interest"])  # no OpnIntrst: a gap, not a zero
    assert r.loc["DI1H24", "maturity"] == dt.date(2024, 3, 1)
    assert r.loc["DI1H24", "du"] == calendar.anbima_days(S, dt.date(2024, 3, 1)) == 10
    assert r.loc["DAPK25", "commodity"] == "DAP" and r.loc["DAPK25", "settlement_rate"] == pytest.approx(0.05712)
    for t, row in r.iterrows():
        assert row["settlement_price"] == pytest.approx(float(di1_pu(row["settlement_rate"], row["du"])), abs=0.01), t
    b3._check_prices(df, 1e-3, "t")
    only_di1 = b3.parse_price_report(b3.extract_xml(_zip(XML, nested=False), "t"), S, ("DI1",), "t")
    assert set(only_di1["commodity"]) == {"DI1"}


def _sub(old: str, new: str) -> bytes:
    assert old.encode() in XML
    return XML.replace(old.encode(), new.encode(), 1)


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b"", "empty body"),
        (b"<html><body>Erro</body></html>", "HTML page"),
        (_zip(XML)[:200], "not a readable ZIP"),
        (_zip(b"x", name="readme.txt"), "holds no XML"),
        (_zip(XML[: len(XML) // 2]), "malformed or truncated XML"),
        (_zip(_sub("<Dt>2024-02-16</Dt></TradDt>\n            <SctyId><TckrSymb>DI1F27",
                   "<Dt>2024-02-15</Dt></TradDt>\n            <SctyId><TckrSymb>DI1F27")), "DI1F27: trade date"),
        (_zip(_sub("<AdjstdQtTax>9.871</AdjstdQtTax>", "<AdjstdQtTax>9,871</AdjstdQtTax>")), "not a number: '9,871'"),
        (_zip(_sub("<TckrSymb>DI1J24</TckrSymb>", "<TckrSymb>DI1F25</TckrSymb>")), "two records"),
        (_zip(XML.replace(b"DI1", b"XX1").replace(b"DAP", b"XXP")), "no DAP/DI1 contract"),
    ],
)
def test_bad_b3_payloads(body: bytes, match: str) -> None:
    where = "b3 SPRD240216.zip (session 2024-02-16)"
    with pytest.raises(PayloadError, match=match) as ei:
        b3.parse_price_report(b3.extract_xml(body, where), S, ("DAP", "DI1"), where)
    assert "2024-02-16" in str(ei.value)


def test_b3_pu_inconsistent_with_rate_is_an_error() -> None:
    bad = _zip(_sub("<AdjstdQtTax>10.045</AdjstdQtTax>", "<AdjstdQtTax>0.10045</AdjstdQtTax>"))  # decimal, not %
    df = b3.parse_price_report(b3.extract_xml(bad, "w"), S, ("DAP", "DI1"), "w")
    with pytest.raises(PayloadError, match="DI1F25: settlement PU 91913.34 disagrees"):
        b3._check_prices(df, 1e-3, "w")


def _b3_xml(session: dt.date) -> bytes:
    """A small price report of a session: DI1 Jan/Apr/Jul/Oct contracts and DAP May (consistent PU)."""
    recs = []
    for y in range(session.year, session.year + 3):
        for m, root in ((1, "DI1"), (4, "DI1"), (7, "DI1"), (10, "DI1"), (5, "DAP")):
            tk = f"{root}{'FGHJKMNQUVXZ'[m - 1]}{y % 100:02d}"
            mat = b3.contract_maturity(tk)[1]
            if mat <= session:
                continue
            rate = 10.0 + (mat - session).days / 365 if root == "DI1" else 5.5
            pu = round(float(di1_pu(round(rate, 3) / 100, calendar.anbima_days(session, mat))), 2)
            recs.append(f"<BizGrp><Document xmlns='urn:bvmf.217.01.xsd'><PricRpt><TradDt><Dt>{session}</Dt></TradDt>"
                        f"<SctyId><TckrSymb>{tk}</TckrSymb></SctyId><FinInstrmAttrbts><OpnIntrst>1000</OpnIntrst>"
                        f"<AdjstdQt>{pu}</AdjstdQt><AdjstdQtTax>{rate:.3f}</AdjstdQtTax></FinInstrmAttrbts>"
                        f"</PricRpt></Document></BizGrp>")
    return (f"<?xml version='1.0'?><Document xmlns='urn:bvmf.052.01.xsd'><BizFileHdr><Xchg>{''.join(recs)}"
            f"</Xchg></BizFileHdr></Document>").encode()


def _b3_route(missing: set[dt.date] = frozenset()) -> Callable[[str], tuple[int, bytes]]:  # type: ignore[assignment]
    def route(url: str) -> tuple[int, bytes]:
        assert urlsplit(url).path == "/pesquisapregao/download"
        name = _query(url)["filelist"]
        session = dt.datetime.strptime(name[4:10], "%y%m%d").date()
        if session in missing:
            return 200, b""
        return 200, _zip(_b3_xml(session), name=name.replace(".zip", ".xml"))
    return route


def test_b3_snapshot_schema_sessions_and_parsed_cache(tmp_path: Path) -> None:
    c, s = client("b3_market_data", _b3_route(), tmp_path)
    d = dt.date(2024, 3, 15)
    df = b3.fetch_snapshot(d, {"bronze": NO_CRISIS}, c)
    B3.conform(df)
    sessions = [x for x in calendar.b3_sessions() if dt.date(2023, 3, 15) <= x <= d]
    assert sorted(set(df["trade_date"])) == sessions
    assert len(s.calls) == len(sessions)
    assert (df["du"] > 0).all() and (df["release_date"] == df["trade_date"]).all()
    assert df.equals(df.sort_values(["trade_date", "ticker"]).reset_index(drop=True))
    parsed = list((tmp_path / "b3_market_data" / "parsed").glob("*.parquet"))
    assert len(parsed) == len(sessions)
    # the previous session: every file already parsed, nothing fetched; survives losing the HTTP cache
    for f in (tmp_path / "b3_market_data").glob("SPRD*"):
        f.unlink()
    df2 = b3.fetch_snapshot(dt.date(2024, 3, 14), {"bronze": NO_CRISIS}, c)
    assert s.calls[len(sessions):] == [  # only the one session the earlier window adds
        "https://www.b3.com.br/pesquisapregao/download?filelist=SPRD230314.zip"]
    same = df2.loc[df2["trade_date"] >= dt.date(2023, 3, 15)].reset_index(drop=True)
    pd.testing.assert_frame_equal(same, df.loc[df["trade_date"] < d].reset_index(drop=True))


def test_b3_missing_session_file_names_the_date(tmp_path: Path) -> None:
    gap = dt.date(2024, 3, 13)
    c, _ = client("b3_market_data", _b3_route({gap}), tmp_path)
    with pytest.raises(PayloadError, match=r"SPRD240313.zip \(session 2024-03-13\): empty body"):
        b3.fetch_snapshot(dt.date(2024, 3, 15), {"bronze": {"daily_lookback_years": 1, "crisis_windows": []}}, c)
    bp = b3.B3Params(known_missing_sessions=(gap,), history_start=dt.date(2024, 1, 2))
    from brmacro.bronze.params import parse_params
    sess = b3.snapshot_sessions(dt.date(2024, 3, 15), parse_params(NO_CRISIS), bp)
    assert gap not in sess and min(sess) == dt.date(2024, 1, 2) and max(sess) == dt.date(2024, 3, 15)


def test_crisis_windows_add_sessions_started_by_the_date() -> None:
    from brmacro.bronze.params import parse_params
    bronze = parse_params({"daily_lookback_years": 1,
                           "crisis_windows": [{"name": "covid", "start": "2020-02-20", "end": "2020-03-31"},
                                              {"name": "later", "start": "2025-01-02", "end": "2025-01-31"}]})
    sess = b3.snapshot_sessions(dt.date(2024, 3, 15), bronze, b3.B3Params())
    assert dt.date(2020, 2, 20) in sess and dt.date(2020, 3, 31) in sess and dt.date(2020, 4, 1) not in sess
    assert max(sess) == dt.date(2024, 3, 15)


def test_connector_options_default_and_reject_bad_live_config() -> None:
    assert b3.parse_b3_params(None).report == "SPRD"
    assert treasury.parse_treasury_params({"sources": {"treasury_gov": {"base_url": "http://127.0.0.1:9"}}}).base_url \
        == "http://127.0.0.1:9"
    from brmacro.bronze.live.common import LiveConfigError
    with pytest.raises(LiveConfigError):
        yahoo.parse_yahoo_params({"sources": {"yahoo": {"base_url": "ftp://x"}}})


def test_dispatcher_and_point_in_time_rows_after_the_session_change_nothing(tmp_path: Path) -> None:
    from brmacro.bronze import live

    d = dt.date(2024, 7, 3)

    def perturbed(url: str) -> tuple[int, bytes]:
        status, body = _treasury_route(url)
        lines = body.decode().splitlines()
        out = [lines[0]] + [ln if dt.datetime.strptime(ln[:10], "%m/%d/%Y").date() <= d else ln[:11] + "9.99,9.99"
                            for ln in lines[1:]]
        return status, ("\n".join(out) + "\n").encode()

    a = live.snapshot("bronze_treasury_gov", d, {"bronze": NO_CRISIS},
                      client=client("treasury_gov", _treasury_route, tmp_path / "a")[0])
    b = live.snapshot("treasury_gov", d, {"bronze": NO_CRISIS},
                      client=client("treasury_gov", perturbed, tmp_path / "b")[0])
    pd.testing.assert_frame_equal(a, b)
    assert len(a) > 0
