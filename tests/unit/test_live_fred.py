"""FRED connector against recorded answers on the local fixture server: vintages, lag rule, key handling."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pandas as pd
import pytest

from brmacro.bronze.live import LiveConfigError
from brmacro.bronze.live.common import make_client, parse_live
from brmacro.bronze.live.fred import fetch_snapshot, parse_fred
from brmacro.bronze.live.http import PayloadError, SourceError
from brmacro.bronze.schemas import BRONZE_SCHEMAS
from brmacro.series import by_name
from tests.fixtures.live.routes import live_params, route_fred
from tests.fixtures.live.server import FixtureServer

D = dt.date(2025, 3, 14)
SERIES = [by_name(n) for n in ("us_cpi", "us_payrolls", "us_dgs10")]
KEY = "abcdef0123456789abcdef0123456789"
d = dt.date


@pytest.fixture()
def srv(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("FRED_API_KEY", KEY)
    with FixtureServer() as s:
        route_fred(s)
        yield s


def snap(srv: FixtureServer, date: dt.date, cache: Path | None, series=SERIES) -> pd.DataFrame:  # noqa: ANN001
    p = live_params(srv, cache)
    return fetch_snapshot(date, p, make_client("fred", parse_live(p["live"]), sleep=lambda s: None), series=series)


def test_vintages_numbered_by_realtime_start_and_filtered(srv: FixtureServer, tmp_path: Path) -> None:
    df = snap(srv, D, tmp_path)
    assert list(df.columns) == BRONZE_SCHEMAS["bronze_fred"].names
    pay = df[df.series_id == "fred:PAYEMS"]
    assert [
        tuple(r) for r in pay[["observation_date", "vintage", "value", "release_date"]].itertuples(index=False)] == [
        (d(2024, 11, 1), 0, 159284.0, d(2024, 12, 6)), (d(2024, 11, 1), 1, 159285.0, d(2025, 1, 10)),
        (d(2024, 11, 1), 2, 158929.0, d(2025, 2, 7)),
        (d(2024, 12, 1), 0, 159541.0, d(2025, 1, 10)), (d(2024, 12, 1), 1, 159236.0, d(2025, 2, 7)),
        (d(2024, 12, 1), 2, 159222.0, d(2025, 3, 7)),
        (d(2025, 1, 1), 0, 159379.0, d(2025, 2, 7)), (d(2025, 1, 1), 1, 159347.0, d(2025, 3, 7)),
        (d(2025, 2, 1), 0, 159498.0, d(2025, 3, 7)),
    ]  # the 4 April 2025 vintages are not public on 14 March
    assert set(pay.release_basis) == {"vintage"}
    # an earlier session sees fewer vintages, with the same numbers
    early = snap(srv, d(2025, 2, 6), tmp_path)
    pe = early[early.series_id == "fred:PAYEMS"]
    assert [tuple(r) for r in pe[["observation_date", "vintage", "value"]].itertuples(index=False)] == [
        (d(2024, 11, 1), 0, 159284.0), (d(2024, 11, 1), 1, 159285.0), (d(2024, 12, 1), 0, 159541.0)]


def test_lag_rule_and_missing_values(srv: FixtureServer, tmp_path: Path) -> None:
    df = snap(srv, D, tmp_path)
    cpi = df[df.series_id == "fred:CPIAUCSL"]
    # realtime_start of a non-revisable answer is the fetch day: ignored, release = end of month + 14 days
    assert [
        tuple(r) for r in cpi[["observation_date", "value", "vintage", "release_date"]].itertuples(index=False)] == [
        (d(2024, 11, 1), 316.449, 0, d(2024, 12, 14)), (d(2024, 12, 1), 317.603, 0, d(2025, 1, 14)),
        (d(2025, 1, 1), 319.086, 0, d(2025, 2, 14)), (d(2025, 2, 1), 319.775, 0, d(2025, 3, 14))]
    assert set(cpi.release_basis) == {"lag"}
    dgs = df[df.series_id == "fred:DGS10"]  # "." skipped; percent -> decimal; 14 March released on the 15th
    assert [tuple(r) for r in dgs[["observation_date", "value"]].itertuples(index=False)] == [
        (d(2024, 12, 30), pytest.approx(0.0455)), (d(2024, 12, 31), pytest.approx(0.0458)),
        (d(2025, 3, 13), pytest.approx(0.0427))]


def test_request_shape_realtime_range_only_for_revisable(srv: FixtureServer) -> None:
    snap(srv, D, None)
    by_series = {q["series_id"]: q for _, q in srv.requests}
    assert by_series["PAYEMS"]["realtime_start"] == "1776-07-04" and by_series["PAYEMS"]["realtime_end"] == "9999-12-31"
    assert "realtime_start" not in by_series["CPIAUCSL"]
    assert all(q["api_key"] == KEY and q["file_type"] == "json" for _, q in srv.requests)


def test_missing_key_fails_before_any_request(srv: FixtureServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FRED_API_KEY")
    with pytest.raises(LiveConfigError, match="FRED_API_KEY"):
        snap(srv, D, None)
    assert srv.requests == []


def test_key_not_in_errors_logs_or_cache(srv: FixtureServer, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    srv.route("/fred/series/observations", status=503, body=b"down", query={"series_id": "PAYEMS"}, times=3)
    with caplog.at_level(logging.DEBUG):  # urllib3 logs full URLs at DEBUG: they must be redacted too
        with pytest.raises(SourceError) as ei:
            snap(srv, D, None, series=[by_name("us_payrolls")])
        snap(srv, D, tmp_path)
    assert KEY not in str(ei.value) and "REDACTED" in str(ei.value) and "fred:PAYEMS" in str(ei.value)
    assert all(KEY not in r.getMessage() for r in caplog.records)
    for p in tmp_path.rglob("*"):
        assert KEY not in str(p)
        if p.is_file():
            assert KEY.encode() not in p.read_bytes()


def test_cache_two_sessions_each_chunk_once(srv: FixtureServer, tmp_path: Path) -> None:
    snap(srv, d(2025, 3, 13), tmp_path)
    assert srv.count("/fred/") == 6
    snap(srv, D, tmp_path)
    assert srv.count("/fred/") == 6


def test_paging_by_offset(srv: FixtureServer, tmp_path: Path) -> None:
    page1 = (b'{"count":3,"offset":0,"limit":2,"observations":['
             b'{"realtime_start":"2025-01-10","realtime_end":"9999-12-31","date":"2024-11-01","value":"1"},'
             b'{"realtime_start":"2025-01-10","realtime_end":"9999-12-31","date":"2024-12-01","value":"2"}]}')
    page2 = (b'{"count":3,"offset":2,"limit":2,"observations":['
             b'{"realtime_start":"2025-02-07","realtime_end":"9999-12-31","date":"2024-12-01","value":"3"}]}')
    empty = b'{"count":0,"offset":0,"limit":2,"observations":[]}'
    srv.route("/fred/series/observations", body=empty, query={"series_id": "PAYEMS", "observation_start": "2025-01-01"})
    srv.route("/fred/series/observations", body=page1, query={"series_id": "PAYEMS", "offset": "0",
                                                              "observation_start": "2024-01-01"})
    srv.route("/fred/series/observations", body=page2, query={"series_id": "PAYEMS", "offset": "2",
                                                              "observation_start": "2024-01-01"})
    p = live_params(srv, tmp_path, sources={"fred": {"base_url": f"{srv.url}/fred", "page_limit": 2}})
    df = fetch_snapshot(D, p, make_client("fred", parse_live(p["live"])), series=[by_name("us_payrolls")])
    assert [tuple(r) for r in df[["observation_date", "vintage", "value"]].itertuples(index=False)] == [
        (d(2024, 11, 1), 0, 1.0), (d(2024, 12, 1), 0, 2.0), (d(2024, 12, 1), 1, 3.0)]


PAY = by_name("us_payrolls")
CPI = by_name("us_cpi")
Y24 = (d(2024, 1, 1), d(2024, 12, 31))
OBS = '{"realtime_start":"2025-01-10","realtime_end":"9999-12-31","date":"%s","value":"%s"}'


@pytest.mark.parametrize(
    ("body", "series", "match"),
    [
        (b"<html><body>Internal error</body></html>", PAY, "HTML"),
        (b"", PAY, "empty"),
        (b'{"count":1,"observations":[{"realtime_start":"2025-01-10",', PAY, "truncated"),
        (b'{"error_code":400,"error_message":"Bad Request."}', PAY, "no 'observations'"),
        (('{"observations":[%s]}' % (OBS % ("2024-11-01", "abc"))).encode(), PAY, "not numeric"),
        (('{"observations":[%s]}' % (OBS % ("2023-11-01", "1"))).encode(), PAY, "outside"),
        (b'{"observations":[{"date":"2024-11-01","value":"1"}]}', PAY, "unexpected record fields"),
        (('{{"observations":[{},{}]}}'.format(OBS % ("2024-11-01", "1"), OBS % ("2024-11-01", "2"))).encode(), PAY,
         "duplicate"),
    ],
)
def test_bad_payloads(body: bytes, series, match: str) -> None:  # noqa: ANN001
    with pytest.raises(PayloadError, match=match) as ei:
        parse_fred(body, series, *Y24)
    assert "fred:" in str(ei.value) and "2024-01-01..2024-12-31" in str(ei.value)


def test_duplicates_judged_per_natural_key() -> None:
    two_vintages = ('{{"observations":[{},{}]}}'.format(
        OBS % ("2024-11-01", "1"),
        OBS.replace("2025-01-10", "2025-02-07") % ("2024-11-01", "2"))).encode()
    df, _ = parse_fred(two_vintages, PAY, *Y24)  # same date, two realtime_starts: two vintages, no error
    assert len(df) == 2
    with pytest.raises(PayloadError, match="duplicate"):
        parse_fred(two_vintages, CPI, *Y24)  # a non-revisable series may not repeat a date
