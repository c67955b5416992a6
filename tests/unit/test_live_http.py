"""The live HTTP layer against the local fixture server: retries, 429, timeouts, cache, archive, redaction."""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import socket
from pathlib import Path

import pytest

from brmacro.bronze.live.common import LiveConfigError, chunk_needs_fetch, end_of_session, parse_live
from brmacro.bronze.live.http import HttpClient, HttpResult, PayloadError, SourceError, redact
from tests.fixtures.live.server import FixtureServer


class Sleeps(list[float]):
    def __call__(self, s: float) -> None:
        self.append(s)


def client(cache: Path | None, sleeps: Sleeps, *, retries: int = 3, timeout: float = 2.0) -> HttpClient:
    return HttpClient(source="test", cache_dir=cache, timeout=timeout, retries=retries, backoff=0.5,
                      max_backoff=4.0, sleep=sleeps, rng=random.Random(1))


@pytest.fixture()
def srv():
    with FixtureServer() as s:
        yield s


def test_retried_then_succeeded(srv: FixtureServer) -> None:
    srv.route("/x", body=b"ok")
    srv.route("/x", status=500, body=b"boom", times=2)
    sleeps = Sleeps()
    c = client(None, sleeps)
    assert c.get(f"{srv.url}/x") == b"ok"
    assert c.requests_count == 3 and srv.count("/x") == 3
    # full jitter: retry k waits uniform in [0, min(max_backoff, 0.5 * 2**(k-1))]
    assert len(sleeps) == 2 and 0 <= sleeps[0] <= 0.5 and 0 <= sleeps[1] <= 1.0


def test_retried_then_failed_names_source_context_status_attempts(srv: FixtureServer) -> None:
    srv.route("/x", status=503, body=b"busy")
    sleeps = Sleeps()
    c = client(None, sleeps, retries=2)
    with pytest.raises(SourceError) as ei:
        c.get(f"{srv.url}/x", {"a": "1"}, context="series bcb_sgs:433 2024-01-01..2024-12-31")
    msg = str(ei.value)
    assert "test" in msg and "bcb_sgs:433" in msg and "2024-01-01..2024-12-31" in msg and "HTTP 503" in msg
    assert "3 attempts" in msg and ei.value.status == 503 and ei.value.attempts == 3
    assert srv.count("/x") == 3 and len(sleeps) == 2


def test_429_honours_retry_after(srv: FixtureServer) -> None:
    srv.route("/x", body=b"ok")
    srv.route("/x", status=429, body=b"slow down", headers={"Retry-After": "3"}, times=1)
    sleeps = Sleeps()
    assert client(None, sleeps).get(f"{srv.url}/x") == b"ok"
    assert sleeps == [3.0]


def test_429_retry_after_capped_by_max_backoff(srv: FixtureServer) -> None:
    srv.route("/x", body=b"ok")
    srv.route("/x", status=429, body=b"", headers={"Retry-After": "120"}, times=1)
    sleeps = Sleeps()
    client(None, sleeps).get(f"{srv.url}/x")
    assert sleeps == [4.0]


def test_timeout_is_retried(srv: FixtureServer) -> None:
    srv.route("/x", body=b"ok")
    srv.route("/x", body=b"late", delay=0.6, times=1)
    sleeps = Sleeps()
    assert client(None, sleeps, timeout=0.2).get(f"{srv.url}/x") == b"ok"
    assert len(sleeps) == 1


def test_connection_error_gives_source_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sleeps = Sleeps()
    with pytest.raises(SourceError, match="ConnectionError") as ei:
        client(None, sleeps, retries=1).get(f"http://127.0.0.1:{port}/x")
    assert ei.value.status is None and ei.value.attempts == 2


def test_client_error_is_not_retried(srv: FixtureServer) -> None:
    srv.route("/x", status=400, body=b'{"error_message": "Bad Request. Series does not exist."}')
    sleeps = Sleeps()
    with pytest.raises(SourceError, match="HTTP 400.*Series does not exist") as ei:
        client(None, sleeps).get(f"{srv.url}/x")
    assert ei.value.attempts == 1 and sleeps == []


def test_cache_serves_repeat_and_fresh_refetches(srv: FixtureServer, tmp_path: Path) -> None:
    srv.route("/x", body=b"v1")
    c = client(tmp_path, Sleeps())
    assert c.get(f"{srv.url}/x", cache_key="k-2024") == b"v1"
    assert c.get(f"{srv.url}/x", cache_key="k-2024") == b"v1"
    assert srv.count("/x") == 1
    srv.route("/x", body=b"v2")
    assert c.get(f"{srv.url}/x", cache_key="k-2024") == b"v1"
    assert c.get(f"{srv.url}/x", cache_key="k-2024", fresh=True) == b"v2"
    assert c.get(f"{srv.url}/x", cache_key="k-2024") == b"v2"
    assert srv.count("/x") == 2
    archived = sorted((tmp_path / "test" / "archive" / "k-2024").glob("*.bin"))
    assert [p.read_bytes() for p in archived] == [b"v1", b"v2"]  # append-only raw archive
    meta = json.loads(archived[0].with_suffix(".json").read_text())
    assert meta["status"] == 200 and meta["sha256"] and dt.datetime.fromisoformat(meta["fetched_at"]).tzinfo


def test_invalid_payload_is_archived_not_cached(srv: FixtureServer, tmp_path: Path) -> None:
    srv.route("/x", body=b"<html>maintenance</html>")
    c = client(tmp_path, Sleeps())

    def validate(_status: int, body: bytes) -> None:
        if body.startswith(b"<"):
            raise PayloadError("test: HTML page")

    for _ in range(2):
        with pytest.raises(PayloadError):
            c.get(f"{srv.url}/x", cache_key="k", validate=validate)
    assert srv.count("/x") == 2  # never served from the cache
    assert not (tmp_path / "test" / "k.bin").exists()
    assert len(list((tmp_path / "test" / "archive" / "k").glob("*.bin"))) >= 1


def test_api_key_never_in_errors_logs_or_cache_paths(srv: FixtureServer, tmp_path: Path,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    secret = "SeCrEt0123456789abcdef"
    srv.route("/obs", body=b"{}")
    srv.route("/bad", status=503, body=b"down")
    c = client(tmp_path, Sleeps(), retries=1)
    with caplog.at_level(logging.DEBUG, logger="brmacro.bronze.live.http"):
        c.get(f"{srv.url}/obs", {"series_id": "GDPC1", "api_key": secret})
        with pytest.raises(SourceError) as ei:
            c.get(f"{srv.url}/bad", {"series_id": "GDPC1", "api_key": secret})
    assert secret not in str(ei.value) and "api_key=REDACTED" in str(ei.value) and secret not in ei.value.url
    assert caplog.records and all(secret not in r.getMessage() for r in caplog.records)
    for p in tmp_path.rglob("*"):
        assert secret not in str(p)
        if p.is_file():
            assert secret.encode() not in p.read_bytes()
    with pytest.raises(ValueError, match="secret"):
        c.cache_name(f"{srv.url}/obs", {"api_key": secret}, cache_key=f"x-{secret}")
    # the key does not change the cache name either
    assert c.cache_name("u", {"a": "1", "api_key": "k1"}) == c.cache_name("u", {"a": "1", "api_key": "k2"})


def test_redact() -> None:
    assert redact("https://x/y?series_id=A&api_key=abc123&file_type=json") == (
        "https://x/y?series_id=A&api_key=REDACTED&file_type=json")
    assert redact("token=zzz") == "token=REDACTED"


def test_chunk_freshness_rule() -> None:
    d = dt.date(2025, 3, 14)
    after = HttpResult(200, b"", end_of_session(d) + dt.timedelta(minutes=1), True)
    before = HttpResult(200, b"", end_of_session(d) - dt.timedelta(minutes=1), True)
    assert chunk_needs_fetch(None, d, dt.date(2025, 12, 31), 7)
    assert not chunk_needs_fetch(after, d, dt.date(2025, 12, 31), 7)
    assert chunk_needs_fetch(before, d, dt.date(2025, 12, 31), 7)  # open chunk fetched before the session ended
    assert not chunk_needs_fetch(before, d, dt.date(2024, 12, 31), 7)  # settled chunk
    # end of session is midnight in Sao Paulo (UTC-3 in 2025)
    assert end_of_session(d) == dt.datetime(2025, 3, 15, 3, 0, tzinfo=dt.UTC)


def test_live_config_validation() -> None:
    p = parse_live(None)
    assert p.source("fred").extra["api_key_env"] == "FRED_API_KEY" and p.retries == 4
    with pytest.raises(LiveConfigError, match="unknown keys"):
        parse_live({"retry": 3})
    with pytest.raises(LiveConfigError, match="unknown sources"):
        parse_live({"sources": {"bloomberg": {}}})
    with pytest.raises(LiveConfigError, match="base_url"):
        parse_live({"sources": {"bcb_sgs": {"base_url": "ftp://x"}}})
    with pytest.raises(LiveConfigError, match="retries"):
        parse_live({"retries": -1})


def test_parse_once_parses_an_answer_once_per_process_and_hands_out_copies() -> None:
    import pandas as pd

    from brmacro.bronze.live.common import parse_once

    calls: list[bytes] = []

    def parse(body: bytes) -> pd.DataFrame:
        calls.append(body)
        return pd.DataFrame({"value": [float(len(body))]})

    a = parse_once(("t", "x"), b"abc", lambda: parse(b"abc"))
    a.loc[0, "value"] = -1.0  # the caller's copy
    b = parse_once(("t", "x"), b"abc", lambda: parse(b"abc"))
    assert calls == [b"abc"] and b["value"].tolist() == [3.0]
    assert parse_once(("t", "x"), b"abcd", lambda: parse(b"abcd"))["value"].tolist() == [4.0]  # another body
    assert parse_once(("t", "y"), b"abc", lambda: parse(b"abc"))["value"].tolist() == [3.0]  # another key
    assert len(calls) == 3

    def bad() -> pd.DataFrame:
        calls.append(b"bad")
        raise ValueError("payload")

    for _ in range(2):  # a parse that raises is not remembered: it raises again
        with pytest.raises(ValueError, match="payload"):
            parse_once(("t", "bad"), b"zzz", bad)
    assert calls.count(b"bad") == 2
