"""The whole pipeline with ``source: live`` against the seven services rendered from the demo market.

The real Snakefile runs in a temporary copy (as the demo workflow tests do) for two consecutive sessions,
with every ``live.sources.<name>.base_url`` pointing at :class:`~tests.fixtures.live.demo_services.DemoServices`
(whose "now" is :data:`TODAY`), ``FRED_API_KEY`` in the environment and the HTTP cache inside the working
directory. A second run, after ``results/`` is moved away but the cache kept, rebuilds the bronze layer.

Checked: all 23 assets of both sessions exist, pass their schemas and say ``source = live``; the bronze
snapshots equal the demo's value by value, except where the formats legitimately differ:

* ``bronze_yahoo.roll_jump``: Yahoo does not say which contract a continuous-future bar belongs to; the
  connector flags |log return| > ``jump_threshold`` on ``=F`` tickers, the demo flags its own CL rolls;
* (``bronze_b3_market_data``: none. The price report carries no maturity: the connector derives it from the
  ticker, the 15th rolled forward for DAP, as the demo dates it, so every column agrees.)
* ``bronze_treasury_gov.tenor``: the real-curve CSV spells ``"5 YR"`` (the label is kept as published);
* ``bronze_bcb_focus.release_date``: the connector releases a survey on the first B3 session after its
  Friday (Tuesday or Wednesday after a Monday holiday), the demo on Friday + 3 days.

The API key appears in no file under the working directory, and the second run makes at most the requests
of the chunks that the freshness rule says may still miss rows (none once the clock is past the sessions).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from brmacro.bronze import demo
from brmacro.bronze.live.common import chunk_needs_fetch
from brmacro.bronze.live.http import HttpResult
from brmacro.calendar import anbima_roll_forward, is_session, next_session
from brmacro.io import read_meta, read_table
from brmacro.params import defaults
from brmacro.pipeline import STEPS, all_schemas, partition_paths
from tests.conftest import SESSIONS, workflow_copy
from tests.fixtures.live.demo_services import DemoMarketRenderer, DemoServices, odata_filter

TODAY = dt.date(2026, 11, 25)
KEY = "test-key-123"
SOURCES = ("bcb_sgs", "fred", "yahoo", "bcb_ptax", "b3_market_data", "treasury_gov", "bcb_focus")
workflow = pytest.mark.workflow


@dataclass
class LiveRun:
    """What the two runs left behind."""

    wd: Path
    results: Path  # the first run's results (moved aside before the second run)
    cache: Path
    first: list[tuple[str, str, dict[str, str], int]]
    second: list[tuple[str, str, dict[str, str], int]]
    open_chunks: int
    server_errors: list[str]
    seconds: tuple[float, float]


def _snakemake(wd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("snakemake")
    env = {**os.environ, "PYTHONHASHSEED": "0", "FRED_API_KEY": KEY}
    proc = subprocess.run([str(exe), *args], cwd=wd, capture_output=True, text=True, timeout=900, env=env)
    if proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n"
                             f"{proc.stderr[-8000:]}")
    return proc


_YEAR_KEY = re.compile(r"-(\d{4})(?:-[os]\d+)?$")
_B3_KEY = re.compile(r"^(?:SPRD|PR)(\d{6})$")


def _open_chunks(cache: Path, sessions: list[dt.date]) -> int:
    """Cached chunks the freshness rule would fetch again for any of ``sessions`` (the second run's bound)."""
    n = 0
    for source in SOURCES:
        settle = int(defaults(f"live.sources.{source}.settle_days"))
        for meta_path in sorted((cache / source).glob("*.json")):
            meta = json.loads(meta_path.read_text())
            stem = meta_path.stem
            if (m := _B3_KEY.match(stem)) is not None:
                last = dt.datetime.strptime(m.group(1), "%y%m%d").date()
            elif (m := _YEAR_KEY.search(stem)) is not None:
                last = dt.date(int(m.group(1)), 12, 31)
            else:
                raise AssertionError(f"unexpected cache entry {meta_path}")
            hit = HttpResult(int(meta["status"]), b"", dt.datetime.fromisoformat(meta["fetched_at"]), True)
            n += any(chunk_needs_fetch(hit, d, last, settle) for d in sessions)
    return n


@pytest.fixture(scope="module")
def live_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveRun]:
    """Run the pipeline live twice against the demo services; yield what was observed."""
    with DemoServices(TODAY, api_key=KEY) as srv:
        wd = workflow_copy(tmp_path_factory.mktemp("live_run") / "wd")
        cache = wd / "cache" / "live"
        override = {"live": {
            "cache_dir": str(cache), "retries": 1, "timeout_seconds": 60.0, "backoff_seconds": 0.1,
            "max_backoff_seconds": 1.0, "sources": {s: {"base_url": u} for s, u in srv.base_urls().items()},
        }}
        (wd / "live.yaml").write_text(yaml.safe_dump(override))
        # one job per source at a time (the rules declare src_<source>=1): the first fills the cache for the others
        cfg = ("--configfile", "live.yaml", "--resources", *(f"src_{s}=1" for s in SOURCES),
               "--config", f"start={SESSIONS[0]}", f"end={SESSIONS[-1]}", "source=live")
        t0 = time.monotonic()
        _snakemake(wd, "--cores", "2", *cfg)
        t1 = time.monotonic()
        first = list(srv.requests)
        shutil.move(wd / "results", wd / "results_first")
        bound = _open_chunks(cache, [dt.date.fromisoformat(d) for d in SESSIONS])
        srv.reset()
        t2 = time.monotonic()
        _snakemake(wd, "bronze_all", "--cores", "2", *cfg)
        t3 = time.monotonic()
        yield LiveRun(wd, wd / "results_first", cache, first, list(srv.requests), bound, list(srv.errors),
                      (t1 - t0, t3 - t2))


# ----------------------------------------------------------------------------------------- the run

@workflow
def test_every_asset_of_both_sessions_exists_passes_its_schema_and_is_live(live_run: LiveRun) -> None:
    checked = 0
    for d in SESSIONS:
        for asset in STEPS:
            for table, path in partition_paths(live_run.results, asset, d).items():
                assert path.exists(), f"{asset}/{table} missing for {d}"
                df = read_table(path, all_schemas()[asset][table])
                meta = read_meta(path)
                assert meta["brmacro.asof"] == d
                assert meta["brmacro.source"] == "live", f"{asset}/{table} of {d}: source {meta['brmacro.source']}"
                if table == "part" and asset.startswith(("bronze", "silver", "agent", "portfolio_sizing", "risk_var")):
                    assert len(df) > 0, f"{asset} is empty on {d}"
                checked += 1
        base = live_run.results / "report" / "daily_report" / f"date={d}"
        assert "<html" in (base / "report.html").read_text().lower()
    assert len(STEPS) == 23 and checked >= 2 * 23


@workflow
def test_every_service_answered_and_nothing_failed(live_run: LiveRun) -> None:
    assert live_run.server_errors == []
    assert {s for s, *_ in live_run.first} == set(SOURCES)
    bad = [(s, p, st) for s, p, _, st in live_run.first if st != 200 and not (s == "bcb_sgs" and st == 404)]
    assert bad == []
    fred = [q for s, _, q, _ in live_run.first if s == "fred"]
    assert fred and all(q.get("api_key") == "<valid>" for q in fred)  # the key reached FRED, and only FRED
    assert not any("api_key" in q for s, _, q, _ in live_run.first if s != "fred")


@workflow
def test_the_api_key_is_in_no_file_of_the_working_directory(live_run: LiveRun) -> None:
    needle = KEY.encode()
    files = [p for p in live_run.wd.rglob("*") if p.is_file()]
    assert any(p.suffix == ".log" for p in files) and any(live_run.cache.rglob("*.bin"))
    leaks = [str(p) for p in files if needle in p.read_bytes()]
    assert leaks == []


@workflow
def test_second_run_uses_the_cache(live_run: LiveRun) -> None:
    assert len(live_run.first) > 1000  # the first run downloaded the history (B3: one file per session)
    assert len(live_run.second) <= live_run.open_chunks, live_run.second[:20]


@workflow
def test_second_run_rebuilds_the_same_bronze_bytes(live_run: LiveRun) -> None:
    for d in SESSIONS:
        for asset in STEPS:
            if not asset.startswith("bronze_"):
                continue
            again = partition_paths(live_run.wd / "results", asset, d)["part"]
            first = partition_paths(live_run.results, asset, d)["part"]
            assert again.read_bytes() == first.read_bytes(), f"{asset} of {d} differs between runs"


# ----------------------------------------------------------------------------------------- live == demo

def _bronze_params(wd: Path) -> tuple[dict[str, object], int]:
    cfg = yaml.safe_load((wd / "config" / "config.yaml").read_text())
    return cfg["bronze"], int(cfg.get("demo", {}).get("seed", demo.DEFAULT_SEED))


def _assert_frames_equal(live: pd.DataFrame, exp: pd.DataFrame, where: str, skip: tuple[str, ...] = ()) -> None:
    assert len(live) == len(exp), f"{where}: {len(live)} live rows, {len(exp)} demo rows"
    for c in exp.columns:
        if c in skip:
            continue
        a, b = live[c].to_numpy(), exp[c].to_numpy()
        if exp[c].dtype.kind == "f":
            ok = np.isclose(a.astype(float), b.astype(float), rtol=1e-11, atol=1e-14, equal_nan=True)
        elif c == "bulletin_time":
            ok = (pd.to_datetime(live[c], utc=True) == pd.to_datetime(exp[c], utc=True)).to_numpy()
        else:
            ok = np.array([x == y for x, y in zip(a, b, strict=True)], dtype=bool)
        if not ok.all():
            i = int(np.flatnonzero(~ok)[0])
            raise AssertionError(f"{where}: column {c} differs in {int((~ok).sum())} rows, first "
                                 f"live {live.iloc[i].to_dict()} vs demo {exp.iloc[i].to_dict()}")


@workflow
@pytest.mark.parametrize("source", SOURCES)
def test_bronze_snapshots_equal_the_demo(live_run: LiveRun, source: str) -> None:
    bronze, seed = _bronze_params(live_run.wd)
    asset = f"bronze_{source}"
    schema = all_schemas()[asset]["part"]
    for d in SESSIONS:
        date = dt.date.fromisoformat(d)
        live = read_table(partition_paths(live_run.results, asset, d)["part"], schema)
        exp = demo.snapshot(source, date, bronze, seed=seed)
        where = f"{asset} of {d}"
        if source == "yahoo":
            _assert_frames_equal(live, exp, where, skip=("roll_jump",))
            assert not live.loc[~live["ticker"].str.endswith("=F"), "roll_jump"].any()
        elif source == "b3_market_data":
            di1 = (exp["commodity"] == "DI1").to_numpy()
            _assert_frames_equal(live.loc[di1].reset_index(drop=True), exp.loc[di1].reset_index(drop=True), where)
            dap_live, dap_exp = live.loc[~di1].reset_index(drop=True), exp.loc[~di1].reset_index(drop=True)
            assert len(dap_exp) > 0
            _assert_frames_equal(dap_live, dap_exp, where)
            codes = "FGHJKMNQUVXZ"
            want = [anbima_roll_forward(dt.date(2000 + int(t[4:]), codes.index(t[3]) + 1, 15))
                    for t in dap_live["ticker"]]
            assert list(dap_live["maturity"]) == want
        elif source == "treasury_gov":
            _assert_frames_equal(live, exp, where, skip=("tenor",))
            assert (live["tenor"].str.lower() == exp["tenor"].str.lower()).all()
            assert set(live.loc[live["curve"] == "real", "tenor"]) == {"5 YR", "7 YR", "10 YR", "20 YR", "30 YR"}
        elif source == "bcb_focus":
            _assert_frames_equal(live, exp, where, skip=("release_date",))
            fridays = pd.to_datetime(live["survey_date"]).dt.date
            assert list(live["release_date"]) == [next_session(f) for f in fridays]
            monday_open = np.array([is_session(f + dt.timedelta(days=3)) for f in fridays])
            assert monday_open.any() and (~monday_open).any()  # both cases occur over five years
            assert (live["release_date"].to_numpy()[monday_open] == exp["release_date"].to_numpy()[monday_open]).all()
        else:
            _assert_frames_equal(live, exp, where)


# ----------------------------------------------------------------------------------------- the services alone

def test_odata_filter_evaluates_the_connectors_filters() -> None:
    pred = odata_filter("(Indicador eq 'IPCA' or Indicador eq 'Selic') and Data ge '2024-01-01' and "
                        "Data le '2024-12-31' and baseCalculo eq 0", {"Indicador", "Data", "baseCalculo"})
    assert pred({"Indicador": "Selic", "Data": "2024-05-03", "baseCalculo": 0})
    assert not pred({"Indicador": "Câmbio", "Data": "2024-05-03", "baseCalculo": 0})
    assert not pred({"Indicador": "IPCA", "Data": "2025-01-03", "baseCalculo": 0})
    assert not pred({"Indicador": "IPCA", "Data": "2024-05-03", "baseCalculo": 1})
    assert odata_filter("not (Suavizada eq 'S')", {"Suavizada"})({"Suavizada": "N"})
    with pytest.raises(ValueError, match="unknown property"):
        odata_filter("Foo eq 1", {"Data"})
    with pytest.raises(ValueError):
        odata_filter("(Data eq '2024-01-01'", {"Data"})


def test_services_publish_units_and_never_serve_the_future() -> None:
    r = DemoMarketRenderer(TODAY, api_key=KEY)
    sgs = json.loads(r.sgs("/dados/serie/bcdata.sgs.432/dados",
                           {"formato": "json", "dataInicial": "01/01/2026", "dataFinal": "31/12/2026"}).body)
    last = sgs[-1]
    exp = demo.snapshot("bcb_sgs", TODAY, None)
    selic = exp.loc[exp["series_id"] == "bcb_sgs:432"].iloc[-1]
    assert dt.datetime.strptime(last["data"], "%d/%m/%Y").date() == selic["observation_date"] <= TODAY
    assert float(last["valor"]) == pytest.approx(selic["value"] * 100.0, abs=1e-9)  # percent as published
    empty = r.sgs("/dados/serie/bcdata.sgs.432/dados",
                  {"formato": "json", "dataInicial": "01/01/2030", "dataFinal": "31/12/2030"})
    assert empty.status == 404 and b"Value(s) not found" in empty.body
    assert r.sgs("/dados/serie/bcdata.sgs.432/dados",
                 {"formato": "json", "dataInicial": "01/01/2010", "dataFinal": "31/12/2025"}).status == 406
    assert r.fred("/fred/series/observations", {"series_id": "DGS10", "file_type": "json"}).status == 400
    assert r.fred("/fred/series/observations", {"series_id": "DGS10", "file_type": "json",
                                                 "api_key": "wrong"}).status == 400
    tomorrow = next_session(TODAY)
    assert r.b3("/pesquisapregao/download", {"filelist": f"SPRD{tomorrow:%y%m%d}.zip"}).status == 404
    csv = r.treasury("/resource-center/data-chart-center/interest-rates/daily-treasury-rates.csv/2026/all",
                     {"type": "daily_treasury_yield_curve", "field_tdr_date_value": "2026"}).body.decode()
    newest = dt.datetime.strptime(csv.splitlines()[1].split(",")[0], "%m/%d/%Y").date()
    assert newest <= TODAY and csv.startswith('Date,"1 Mo","1.5 Month","2 Mo"')
