"""Transient faults: every source survives bursts of 5xx, timeouts and 429 that clear; a fault that never
clears fails only that source's branch, and the run-status page names it.

Connector level (all seven sources): the real :class:`HttpClient` and the real connector run on a transport
that injects, on every URL, a burst of ``503``, a timeout and a ``429 Retry-After`` before letting the
recorded answer through (BCB/FRED: the local fixture server; Yahoo/B3/Treasury: the recorded-format routes of
``tests/unit/test_live_markets.py``). Workflow level: a real Snakemake ``--keep-going`` run whose PTAX and FRED
services never recover (a chaos server on 127.0.0.1).
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import requests
import yaml

from brmacro.bronze.live import snapshot
from brmacro.bronze.live.http import HttpClient, SourceError
from brmacro.io import read_table
from brmacro.pipeline import STEPS, all_schemas, partition_paths
from brmacro.series import by_name
from tests.conftest import SESSIONS, workflow_copy
from tests.faults.conftest import (
    FAKE_KEY,
    Answer,
    Tally,
    check_artifacts,
    copy_results,
    remove_partitions,
    run_snakemake,
)
from tests.fixtures.live.routes import live_params, route_bcb, route_fred
from tests.fixtures.live.server import FixtureServer
from tests.unit import test_live_markets as markets

D = dt.date(2025, 3, 14)
BURST = ("503", "timeout", "429")
RETRY_AFTER = 2.0


class _Resp:
    def __init__(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.status_code = status
        self.content = body
        self.headers = headers or {}


class FaultySession:
    """A ``requests.Session`` stand-in injecting ``faults(n)`` on the n-th request (0-based) of each URL."""

    def __init__(self, inner: Callable[..., Any], faults: Callable[[int], str | None]) -> None:
        self.inner = inner
        self.faults = faults
        self.seen: dict[str, int] = {}
        self.injected = 0
        self.passed = 0

    def get(self, url: str, headers: Any = None, timeout: Any = None) -> Any:
        n = self.seen.get(url, 0)
        self.seen[url] = n + 1
        fault = self.faults(n)
        if fault is None:
            self.passed += 1
            return self.inner(url, headers=headers, timeout=timeout)
        self.injected += 1
        if fault == "timeout":
            raise requests.Timeout(f"injected read timeout for {url}")
        if fault == "429":
            return _Resp(429, b'{"error": "too many requests"}', {"Retry-After": f"{RETRY_AFTER:g}"})
        return _Resp(int(fault), b"<html>Service Unavailable</html>")


class Sleeps(list[float]):
    def __call__(self, s: float) -> None:
        self.append(s)


def _fake_get(route: Callable[[str], tuple[int, bytes]]) -> Callable[..., Any]:
    def get(url: str, headers: Any = None, timeout: Any = None) -> _Resp:  # noqa: ARG001
        return _Resp(*route(url))

    return get


def _client(source: str, inner: Callable[..., Any], faults: Callable[[int], str | None],
            retries: int = 3) -> tuple[HttpClient, FaultySession, Sleeps]:
    sess, sleeps = FaultySession(inner, faults), Sleeps()
    c = HttpClient(source=source, cache_dir=None, timeout=1.0, retries=retries, backoff=0.5, max_backoff=4.0,
                   sleep=sleeps, session=sess, rng=random.Random(7))  # type: ignore[arg-type]
    return c, sess, sleeps


NO_CRISIS = {"daily_lookback_years": 1, "macro_lookback_years": 1, "focus_lookback_years": 1, "crisis_windows": []}
SOURCES = ("bcb_sgs", "fred", "bcb_ptax", "bcb_focus", "yahoo", "b3_market_data", "treasury_gov")


def _fetcher(source: str, srv: FixtureServer) -> tuple[Callable[[HttpClient], pd.DataFrame], Callable[..., Any]]:
    """(fetch(client) -> snapshot, inner transport) of one source on its recorded answers."""
    from brmacro.bronze.live import b3, fred, sgs, treasury, yahoo

    bcb = live_params(srv, None)
    real = requests.Session().get
    if source == "bcb_sgs":
        series = [by_name(n) for n in ("br_ipca_mom", "br_selic_daily", "br_gdp_qoq")]
        return (lambda c: sgs.fetch_snapshot(D, bcb, c, series=series)), real
    if source == "fred":
        series = [by_name(n) for n in ("us_cpi", "us_payrolls", "us_dgs10")]
        return (lambda c: fred.fetch_snapshot(D, bcb, c, series=series)), real
    if source in ("bcb_ptax", "bcb_focus"):
        return (lambda c: snapshot(source, D, bcb, client=c)), real
    if source == "yahoo":
        p = {"bronze": NO_CRISIS, "live": {"sources": {"yahoo": {"tickers": ["^BVSP", "BRL=X"]}}}}
        return (lambda c: yahoo.fetch_snapshot(dt.date(2024, 12, 27), p, c)), _fake_get(markets._yahoo_route)
    if source == "b3_market_data":
        p = {"bronze": NO_CRISIS, "live": {"sources": {"b3_market_data": {"history_start": "2024-03-06"}}}}
        return (lambda c: b3.fetch_snapshot(dt.date(2024, 3, 15), p, c)), _fake_get(markets._b3_route())
    p = {"bronze": NO_CRISIS}
    return (lambda c: treasury.fetch_snapshot(dt.date(2024, 7, 3), p, c)), _fake_get(markets._treasury_route)


@pytest.fixture()
def srv(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("FRED_API_KEY", FAKE_KEY)
    with FixtureServer() as s:
        route_bcb(s)
        route_fred(s)
        yield s


@pytest.mark.parametrize("source", SOURCES)
def test_bursts_that_clear_are_survived_with_backoff(source: str, srv: FixtureServer, tally: Tally) -> None:
    fetch, inner = _fetcher(source, srv)
    clean, clean_sess, _ = _client(source, inner, lambda n: None)
    expected = fetch(clean)
    assert len(expected) > 0
    burst = lambda n: BURST[n] if n < len(BURST) else None  # noqa: E731
    c, sess, sleeps = _client(source, inner, burst, retries=3)
    got = fetch(c)
    pd.testing.assert_frame_equal(got, expected)  # same snapshot as without faults
    urls = len(clean_sess.seen)
    assert sess.injected == 3 * urls and sess.passed == urls
    assert c.requests_count == 4 * urls
    # one backoff per fault: full jitter for 503/timeout, the server's Retry-After for 429
    assert len(sleeps) == 3 * urls
    assert sleeps.count(RETRY_AFTER) >= urls
    assert all(0.0 <= s <= 4.0 for s in sleeps)
    tally.fault(sess.injected, survived=True)


@pytest.mark.parametrize("source", SOURCES)
def test_faults_that_never_clear_fail_naming_the_source(source: str, srv: FixtureServer, tally: Tally) -> None:
    fetch, inner = _fetcher(source, srv)
    kinds = ("503", "timeout", "429")
    c, sess, sleeps = _client(source, inner, lambda n: kinds[n % 3], retries=2)
    with pytest.raises(SourceError) as ei:
        fetch(c)
    msg = str(ei.value)
    assert msg.startswith(source) and "giving up after 3 attempts" in msg and ei.value.source == source
    assert FAKE_KEY not in msg
    assert sess.injected == 3 and sess.passed == 0 and len(sleeps) == 2  # stops at the first chunk
    tally.fault(sess.injected, survived=True)


def test_slow_server_times_out_on_a_real_socket_then_recovers(srv: FixtureServer, tally: Tally) -> None:
    """A real read timeout (the fixture server sleeps past the client's timeout) on the first SGS request."""
    from brmacro.bronze.live import sgs

    srv.route("/sgs/bcdata.sgs.433/dados", body=b"[]", delay=0.5, times=1)
    sleeps = Sleeps()
    c = HttpClient(source="bcb_sgs", cache_dir=None, timeout=0.2, retries=2, backoff=0.01, max_backoff=0.05,
                   sleep=sleeps)
    df = sgs.fetch_snapshot(D, live_params(srv, None), c, series=[by_name("br_ipca_mom")])
    assert len(df) == 11 and len(sleeps) == 1 and c.requests_count == 3  # 2 yearly chunks + 1 retry
    tally.fault(1, survived=True)


# ------------------------------------------------------------------------------------------------ workflow

@pytest.mark.workflow
def test_source_that_never_recovers_fails_only_its_branch(demo_run: Path, tmp_path: Path, chaos, tally: Tally) -> None:  # noqa: ANN001
    """PTAX answers 503 and FRED 429 forever: every independent asset of the session is still built.

    The other five bronze partitions of the session come from the demo run (``--rerun-triggers mtime`` keeps
    them); PTAX and FRED are fetched live from a chaos server and fail after their retries (HTTP retries x the
    rules' ``retries: 2``); ``--keep-going`` then builds ``silver_curves``, which depends on neither, and the
    ``onerror`` handler's ``run_status.md`` names what is missing.
    """
    d = SESSIONS[1]

    def plan(path: str, query: dict[str, str], n: int) -> Answer:  # noqa: ARG001
        if path.startswith("/fred"):
            return Answer(429, b'{"error_message": "Too Many Requests"}', {"Retry-After": "0"})
        return Answer(503, b"<html>Service Unavailable</html>")

    srv = chaos(plan)
    wd = workflow_copy(tmp_path / "wd")
    copy_results(demo_run, wd)
    failed = ["bronze_bcb_ptax", "bronze_fred"]
    downstream = [a for a in STEPS if STEPS[a].layer != "bronze"]
    remove_partitions(wd / "results", failed + downstream, d)
    live = {"live": {"cache_dir": str(tmp_path / "cache"), "retries": 2, "timeout_seconds": 2,
                     "backoff_seconds": 0.01, "max_backoff_seconds": 0.05,
                     "sources": {"bcb_ptax": {"base_url": f"{srv.url}/ptax"}, "fred": {"base_url": f"{srv.url}/fred"}}}}
    (wd / "chaos.yaml").write_text(yaml.safe_dump(live))
    out = run_snakemake(wd, "--cores", "1", "--keep-going", "--rerun-triggers", "mtime", "--configfile", "chaos.yaml",
                        "--config", f"date={d}", "source=live")
    text = out.stdout + out.stderr
    assert out.returncode != 0
    assert "bcb_ptax" in text and "giving up after 3 attempts" in text and "HTTP 503" in text
    assert "HTTP 429" in text
    # every HTTP attempt of every Snakemake attempt reached the server: 3 x 3 per source
    n_ptax = sum(p.startswith("/ptax") for p, _ in srv.requests)
    n_fred = sum(p.startswith("/fred") for p, _ in srv.requests)
    assert n_ptax == 9 and n_fred == 9, (n_ptax, n_fred)
    assert all(q.get("api_key") == FAKE_KEY for p, q in srv.requests if p.startswith("/fred"))
    # independent assets were built; the failed sources' branch was not
    results = wd / "results"
    for t, p in partition_paths(results, "silver_curves", d).items():  # reads neither PTAX nor FRED
        read_table(p, all_schemas()["silver_curves"][t])
    status = (results / "run_status.md").read_text()
    assert "run status: error" in status
    line = next(ln for ln in status.splitlines() if ln.startswith(f"- {d}:"))
    missing = set(line.split(":", 1)[1].replace(" ", "").split(","))
    assert {"bronze_bcb_ptax", "bronze_fred", "silver_returns", "silver_macro", "daily_report"} <= missing
    assert not missing & {"silver_curves", "bronze_bcb_sgs", "bronze_yahoo",
                          "bronze_b3_market_data", "bronze_treasury_gov", "bronze_bcb_focus"}
    js = json.loads((results / "run_status.json").read_text())
    assert set(js["missing"][d]) == missing
    check_artifacts(results, tally)
    # the key was sent to the server but is nowhere in what the run wrote or printed
    assert FAKE_KEY not in text
    for f in wd.rglob("*"):
        if f.is_file():
            assert FAKE_KEY.encode() not in f.read_bytes(), f
    tally.fault(n_ptax + n_fred, survived=True)
    tally.note(f"never-clearing PTAX 503 + FRED 429: {n_ptax + n_fred} requests, --keep-going built silver_curves; "
               f"run_status.md names {len(missing)} missing assets of {d}")
