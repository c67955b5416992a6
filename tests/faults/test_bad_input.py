"""Bad input: each kind is refused with a message naming what is wrong, and leaves no artifact.

Config goes through the same JSON-Schema validation as the Snakefile (``snakemake.utils.validate``) and then
through the step that reads it (:func:`brmacro.pipeline.run_step`, the whole body of every rule); payloads come
from a chaos server on 127.0.0.1 answering every path of every live source.
"""

from __future__ import annotations

import copy
import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from snakemake.utils import validate

from brmacro.calendar import DateError, resolve_dates
from brmacro.io import read_table, write_table
from brmacro.pipeline import all_schemas, build_partition, partition_paths, run_step, step_params
from tests.conftest import REPO, SESSIONS
from tests.faults.conftest import FAKE_KEY, Answer, Tally

LIVE_DAY = "2025-03-14"


def _config() -> dict[str, Any]:
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    validate(cfg, str(REPO / "config" / "schema.yaml"))
    return copy.deepcopy(cfg)


def _set(cfg: dict[str, Any], dotted: str, value: Any) -> None:
    *head, last = dotted.split(".")
    node = cfg
    for k in head:
        node = node[k]
    node[last] = value


# ------------------------------------------------------------------------------------------------ config schema

@pytest.mark.parametrize(
    ("dotted", "value", "needle"),
    [
        ("colour", "red", "colour"),  # unknown top-level key
        ("portfolio.solvr", "CLARABEL", "solvr"),  # unknown nested key
        ("portfolio.delta", "high", "high"),  # wrong type
        ("nav_brl", -5, "-5"),  # out of range
        ("source", "nowhere", "nowhere"),  # not in the enum
        ("results", "../outside", "../outside"),  # path escaping the working directory
        ("date", "2026-11-24; rm -rf /", "rm -rf"),  # not a date
    ],
)
def test_invalid_config_is_refused_by_the_schema(dotted: str, value: Any, needle: str, tally: Tally) -> None:
    cfg = _config()
    _set(cfg, dotted, value)
    with pytest.raises(Exception) as ei:  # noqa: PT011 - snakemake raises WorkflowError wrapping ValidationError
        validate(cfg, str(REPO / "config" / "schema.yaml"))
    ok = needle in str(ei.value)
    assert ok, str(ei.value)[:500]
    tally.bad_input(f"config {dotted}", rejected=ok)


@pytest.mark.parametrize(
    ("kw", "needle"),
    [
        ({"date": "2026-11-20"}, "2026-11-20 is not a B3 session"),  # Consciência Negra holiday
        ({"date": "2026-11-21"}, "is not a B3 session"),  # a Saturday
        ({"start": "2026-11-24", "end": "2026-11-02"}, "after end"),
        ({"start": "2026-11-24"}, "give both start and end"),
    ],
)
def test_bad_sessions_are_refused(kw: dict[str, str], needle: str, tally: Tally) -> None:
    args = {"date": None, "start": None, "end": None, **kw}
    with pytest.raises(DateError, match=needle):
        resolve_dates(args["date"], args["start"], args["end"])
    tally.bad_input("dates " + ",".join(kw), rejected=True)


# ------------------------------------------------------------------------------------------------ steps

def _run(tmp: Path, asset: str, cfg: dict[str, Any], date: str = LIVE_DAY) -> tuple[BaseException, Path]:
    """Run one bronze step as its rule would (no inputs); return the error and the partition folder."""
    outs = list(partition_paths(tmp / "results", asset, date).values())
    log = tmp / "results" / "logs" / asset / f"{date}.log"
    with pytest.raises(Exception) as ei:  # noqa: PT011 - the type is checked by the caller
        run_step(asset, date, step_params(asset, cfg), [], [], outs, log)
    return ei.value, outs[0].parent


def _no_artifact(folder: Path) -> bool:
    return not folder.exists() or not any(folder.glob("*.parquet"))


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda c: c.__setitem__("nav_brl", float("nan")), "nav_brl"),
        (lambda c: c.__setitem__("nav_brl", float("inf")), "nav_brl"),
        (lambda c: c.__setitem__("demo", {"seed": -1}), "demo.seed"),
        (lambda c: c.__setitem__("demo", {"sed": 1}), "unknown keys"),
    ],
)
def test_bad_values_are_refused_by_the_step_too(
    tmp_path: Path, mutate: Callable[[dict[str, Any]], None], needle: str, tally: Tally
) -> None:
    cfg = _config()
    mutate(cfg)
    if needle == "nav_brl" and cfg["nav_brl"] != cfg["nav_brl"]:
        # NaN passes every JSON-Schema bound (infinity now fails the maximum): brmacro.configdoc refuses it before
        # any job (tests/faults/test_silent_wrong.py), and the step refuses it too
        validate(copy.deepcopy(cfg), str(REPO / "config" / "schema.yaml"))
    # nav_brl reaches only the steps that read it (brmacro.pipeline.STEPS): the sizing refuses it
    asset = "portfolio_sizing" if needle == "nav_brl" else "bronze_bcb_ptax"
    err, folder = _run(tmp_path, asset, cfg, SESSIONS[1])
    ok = isinstance(err, ValueError) and needle in str(err) and _no_artifact(folder)
    assert ok, repr(err)
    tally.bad_input(f"step config {needle}", rejected=ok)


def _live_cfg(url: str, cache: Path, **live: Any) -> dict[str, Any]:
    cfg = _config()
    cfg["source"] = "live"
    srcs = ("bcb_sgs", "fred", "bcb_ptax", "bcb_focus", "yahoo", "b3_market_data", "treasury_gov")
    cfg["live"] = {"cache_dir": str(cache), "timeout_seconds": 2, "retries": 0, "backoff_seconds": 0,
                   "max_backoff_seconds": 0, "sources": {s: {"base_url": f"{url}/{s}"} for s in srcs}, **live}
    return cfg


@pytest.mark.parametrize(
    ("live", "needle"),
    [
        ({"retry": 3}, "unknown keys ['retry']"),
        ({"retries": -1}, "live.retries"),
        ({"cache_dir": "../../elsewhere"}, "live.cache_dir"),
        ({"sources": {"bloomberg": {}}}, "unknown sources ['bloomberg']"),
    ],
)
def test_bad_live_config_is_refused_before_any_request(
    tmp_path: Path, chaos, live: dict[str, Any], needle: str, tally: Tally  # noqa: ANN001
) -> None:
    srv = chaos(lambda p, q, n: Answer(200, b"[]"))
    cfg = _live_cfg(srv.url, tmp_path / "cache")
    cfg["live"].update(live)
    if needle.startswith("unknown"):
        # an undeclared key never reaches a step (its params are the declared keys it reads, brmacro.params):
        # the config check the Snakefile runs before any job refuses it, naming it
        from brmacro.configdoc import ConfigError, validate_config

        with pytest.raises(ConfigError) as ei:
            validate_config(cfg, REPO / "config" / "schema.yaml")
        err, folder = ei.value, tmp_path / "results"
        needle = needle.split("['")[1].rstrip("']")
    else:
        err, folder = _run(tmp_path, "bronze_bcb_sgs", cfg)
    ok = needle in str(err) and _no_artifact(folder) and srv.requests == []
    assert ok, repr(err)
    tally.bad_input(f"live config {needle}", rejected=ok)


def test_missing_api_key_is_named_before_any_request(
    tmp_path: Path, chaos, monkeypatch: pytest.MonkeyPatch, tally: Tally  # noqa: ANN001
) -> None:
    monkeypatch.delenv("FRED_API_KEY", raising=False)
    srv = chaos(lambda p, q, n: Answer(200, b"{}"))
    err, folder = _run(tmp_path, "bronze_fred", _live_cfg(srv.url, tmp_path / "cache"))
    ok = "FRED_API_KEY" in str(err) and "is not set" in str(err) and _no_artifact(folder) and srv.requests == []
    assert ok, repr(err)
    tally.bad_input("missing API key", rejected=ok)


HTML = b"<!DOCTYPE html><html><body>Em manutencao</body></html>"
SOURCES = ("bcb_sgs", "fred", "bcb_ptax", "bcb_focus", "yahoo", "b3_market_data", "treasury_gov")


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("body", [HTML, b""], ids=["html-page", "empty-body"])
def test_malformed_payload_of_each_source_is_refused(
    tmp_path: Path, chaos, monkeypatch: pytest.MonkeyPatch, source: str, body: bytes, tally: Tally  # noqa: ANN001
) -> None:
    from brmacro.bronze.live.http import PayloadError

    monkeypatch.setenv("FRED_API_KEY", FAKE_KEY)
    srv = chaos(lambda p, q, n: Answer(200, body))
    err, folder = _run(tmp_path, f"bronze_{source}", _live_cfg(srv.url, tmp_path / "cache"))
    msg = str(err)
    prefix = {"bcb_sgs": "bcb_sgs", "fred": "fred", "bcb_ptax": "bcb_ptax", "bcb_focus": "bcb_focus",
              "yahoo": "yahoo", "b3_market_data": "b3", "treasury_gov": "treasury"}[source]
    ok = isinstance(err, PayloadError) and prefix in msg and _no_artifact(folder) and FAKE_KEY not in msg
    assert ok, repr(err)
    assert not list((tmp_path / "cache" / source).glob("*.bin"))  # a bad answer is archived, never cached
    log = (tmp_path / "results" / "logs" / f"bronze_{source}" / f"{LIVE_DAY}.log").read_text()
    assert "PayloadError" in log and FAKE_KEY not in log
    tally.bad_input(f"malformed payload {source}", rejected=ok)


def _sgs_records(values: list[tuple[str, str]]) -> Callable[[str, dict[str, str], int], Answer]:
    """SGS answers with records dated on the first day of the requested window (valid dates, bad values)."""

    def plan(path: str, q: dict[str, str], n: int) -> Answer:  # noqa: ARG001
        first = q.get("dataInicial", "01/01/2024")
        recs = ",".join(f'{{"data":"{first}","valor":"{v}"}}' for _, v in values)
        return Answer(200, f"[{recs}]".encode())

    return plan


@pytest.mark.parametrize(
    ("values", "needle"),
    [
        ([("d", "NaN")], "not finite"),
        ([("d", "Infinity")], "not finite"),
        ([("d", "-inf")], "not finite"),
        ([("d", "0.42"), ("d", "0.43")], "duplicate"),
    ],
    ids=["nan", "infinity", "minus-inf", "duplicate-dates"],
)
def test_non_finite_values_and_duplicate_dates_are_refused(
    tmp_path: Path, chaos, values: list[tuple[str, str]], needle: str, tally: Tally  # noqa: ANN001
) -> None:
    srv = chaos(_sgs_records(values))
    err, folder = _run(tmp_path, "bronze_bcb_sgs", _live_cfg(srv.url, tmp_path / "cache"))
    ok = needle in str(err) and "bcb_sgs" in str(err) and _no_artifact(folder)
    assert ok, repr(err)
    tally.bad_input(f"payload {needle}", rejected=ok)


# ------------------------------------------------------------------------------------------------ risk/portfolio

@pytest.fixture()
def results_copy(demo_run: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "results"
    shutil.copytree(demo_run / "results", dst, ignore=shutil.ignore_patterns("logs", "benchmarks", "report"))
    return dst


def _rewrite_returns(results: Path, fn: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
    d = dt.date.fromisoformat(SESSIONS[1])
    p = partition_paths(results, "silver_returns", d)["part"]
    s = all_schemas()["silver_returns"]["part"]
    write_table(fn(read_table(p, s)), p, s, asof=d, source="demo")


@pytest.mark.parametrize(
    ("fn", "needle"),
    [
        (lambda df: df.iloc[0:0], "silver_returns has no rows"),  # empty returns window
        (lambda df: df.assign(ret=0.0), "singular covariance"),  # zero variance: singular covariance
    ],
    ids=["empty-window", "singular-covariance"],
)
def test_degenerate_returns_are_refused_by_risk(results_copy: Path, fn, needle: str, tally: Tally) -> None:  # noqa: ANN001
    d = dt.date.fromisoformat(SESSIONS[1])
    _rewrite_returns(results_copy, fn)
    for p in partition_paths(results_copy, "risk_var", d).values():
        p.unlink()
    with pytest.raises(ValueError) as ei:  # InputMissing is a RuntimeError: accept both below
        try:
            build_partition(results_copy, "risk_var", d, _config())
        except RuntimeError as exc:
            raise ValueError(str(exc)) from exc
    ok = needle in str(ei.value) and "risk_var" in str(ei.value)
    ok = ok and not any(p.exists() for p in partition_paths(results_copy, "risk_var", d).values())
    assert ok, str(ei.value)
    tally.bad_input(needle, rejected=ok)


def test_unknown_instrument_in_config_is_refused(results_copy: Path, tally: Tally) -> None:
    d = dt.date.fromisoformat(SESSIONS[1])
    cfg = _config()
    cfg["portfolio"]["universe"] = [*cfg["portfolio"]["universe"], "DI1_3Y"]
    for p in partition_paths(results_copy, "portfolio_optimization", d).values():
        p.unlink()
    with pytest.raises(KeyError) as ei:
        build_partition(results_copy, "portfolio_optimization", d, cfg)
    ok = "unknown instrument 'DI1_3Y'" in str(ei.value) and "DI1_2Y" in str(ei.value)
    ok = ok and not any(p.exists() for p in partition_paths(results_copy, "portfolio_optimization", d).values())
    assert ok
    tally.bad_input("unknown instrument", rejected=ok)


def test_infeasible_optimisation_gives_the_flagged_flat_book_never_a_made_up_one(
    results_copy: Path, tally: Tally
) -> None:
    """Bounds forcing |w| >= 1 under a gross cap of 0.5: cvxpy says infeasible; the documented fallback is the
    flat book, flagged with the solver status and the reason (never 1/N)."""
    d = dt.date.fromisoformat(SESSIONS[1])
    cfg = _config()
    cfg["portfolio"]["bounds"]["DI1_1Y"] = [1.0, 2.0]
    cfg["portfolio"]["gross_leverage"] = 0.5
    validate(copy.deepcopy(cfg), str(REPO / "config" / "schema.yaml"))
    build_partition(results_copy, "portfolio_optimization", d, cfg)
    tabs = {t: read_table(p, all_schemas()["portfolio_optimization"][t])
            for t, p in partition_paths(results_copy, "portfolio_optimization", d).items()}
    diag = next(df for df in tabs.values() if "status" in df.columns)
    row = diag.iloc[0]
    assert row["status"] == "infeasible" and bool(row["fallback"]) and row["fallback_reason"]
    weights = next(df for t, df in tabs.items() if t == "part")
    wcol = next(c for c in ("weight", "target_weight", "w") if c in weights.columns)
    assert (weights[wcol] == 0.0).all()
    tally.bad_input("infeasible optimisation", rejected=True)
