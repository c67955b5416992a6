"""live.on_source_failure: stale — a failed source is rebuilt from the connector's cache and marked stale."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from brmacro.bronze import live
from brmacro.bronze.live import LiveConfigError, SourceError, http, parse_live
from brmacro.bronze.schemas import TREASURY
from brmacro.io import read_meta, write_table
from brmacro.pipeline import partition_paths
from brmacro.report.inputs import load_inputs
from brmacro.runstatus import stale_sources, write_run_status
from tests.unit.test_live_markets import NO_CRISIS, _treasury_route, client

D0 = dt.date(2024, 7, 2)
D = dt.date(2024, 7, 3)


def _down(url: str) -> tuple[int, bytes]:  # noqa: ARG001
    return 503, b"service unavailable"


def _params(cache: Path, mode: str) -> dict:
    return {"bronze": NO_CRISIS, "live": {"cache_dir": str(cache), "on_source_failure": mode}}


def test_stale_snapshot_comes_from_the_cache_and_is_marked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # yesterday's daily run (early D0+1) filled the cache; today's run for D finds the current year's chunk open
    monkeypatch.setattr(http, "_utcnow", lambda: dt.datetime(2024, 7, 3, 1, 0, tzinfo=dt.UTC))
    good, _ = client("treasury_gov", _treasury_route, tmp_path)
    live.snapshot("treasury_gov", D0, {"bronze": NO_CRISIS}, client=good)
    fresh = live.snapshot("treasury_gov", D, {"bronze": NO_CRISIS},
                          client=client("treasury_gov", _treasury_route, tmp_path / "other")[0])
    assert "stale" not in fresh.attrs
    down, s = client("treasury_gov", _down, tmp_path)
    with pytest.raises(SourceError):
        live.snapshot("treasury_gov", D, _params(tmp_path, "fail"), client=down)
    df = live.snapshot("treasury_gov", D, _params(tmp_path, "stale"), client=down)
    assert s.calls, "the live fetch was tried first"
    TREASURY.conform(df)
    assert "the live fetch failed" in df.attrs["stale"] and "on or before 2024-07-03" in df.attrs["stale"]
    assert "latest entry fetched 2024-07-03T01:00:00+00:00" in df.attrs["stale"]
    # every row still released on or before the session, and the same rows the cache gave the live run
    assert (pd.to_datetime(df["release_date"]).dt.date <= D).all()
    pd.testing.assert_frame_equal(df.reset_index(drop=True), fresh.reset_index(drop=True))


def test_stale_without_the_chunk_in_cache_still_fails(tmp_path: Path) -> None:
    down, _ = client("treasury_gov", _down, tmp_path)
    with pytest.raises(SourceError, match="not in the cache"):
        live.snapshot("treasury_gov", D, _params(tmp_path, "stale"), client=down)


def test_on_source_failure_is_validated() -> None:
    assert parse_live({"on_source_failure": "stale"}).on_source_failure == "stale"
    assert parse_live(None).on_source_failure == "fail"
    with pytest.raises(LiveConfigError, match="on_source_failure"):
        parse_live({"on_source_failure": "ignore"})


def test_stale_mark_reaches_metadata_run_status_and_report_inputs(tmp_path: Path) -> None:
    good, _ = client("treasury_gov", _treasury_route, tmp_path / "cache")
    df = live.snapshot("treasury_gov", D0, {"bronze": NO_CRISIS}, client=good)
    res = tmp_path / "results"
    path = partition_paths(res, "bronze_treasury_gov", D0.isoformat())["part"]
    why = "treasury_gov: the live fetch failed; snapshot rebuilt from the connector's cache"
    write_table(df, path, TREASURY, asof=D0, source="live", params={}, extra_meta={"stale": why})
    assert read_meta(path)["brmacro.stale"] == why
    assert stale_sources(res, [D0.isoformat()]) == {D0.isoformat(): {"bronze_treasury_gov": why}}
    st = write_run_status(res, "success", [D0.isoformat()])
    assert st["stale"] == {D0.isoformat(): ["bronze_treasury_gov"]}
    assert "Stale sources" in (res / "run_status.md").read_text()
    inp = load_inputs({"bronze_treasury_gov": {"part": path}}, {}, ["bronze_treasury_gov"])
    assert inp.stale == {"bronze_treasury_gov": why}


def test_a_reconstructed_input_is_said_under_the_report_title(tmp_path: Path) -> None:
    """Issue 17 item 9: a past session built from today's live SGS data says so in the report, not only in metadata."""
    from brmacro.report.build import build_report

    good, _ = client("treasury_gov", _treasury_route, tmp_path / "cache")
    df = live.snapshot("treasury_gov", D0, {"bronze": NO_CRISIS}, client=good)
    res = tmp_path / "results"
    path = partition_paths(res, "bronze_treasury_gov", D0.isoformat())["part"]
    write_table(df, path, TREASURY, asof=D0, source="live", params={}, extra_meta={"reconstructed": "true"})
    inp = load_inputs({"bronze_treasury_gov": {"part": path}}, {}, ["bronze_treasury_gov"])
    assert inp.reconstructed == {"bronze_treasury_gov"}
    sub = build_report(inp, D0, {}, None, None, "live").doc.subtitle
    line = [s for s in sub if s.startswith("RECONSTRUCTED")]
    assert len(line) == 1 and "bronze_treasury_gov" in line[0] and D0.isoformat() in line[0]

    plain = partition_paths(res, "bronze_treasury_gov", "2024-07-03")["part"]
    write_table(df, plain, TREASURY, asof=dt.date(2024, 7, 3), source="live", params={})
    inp2 = load_inputs({"bronze_treasury_gov": {"part": plain}}, {}, ["bronze_treasury_gov"])
    assert inp2.reconstructed == set()
    assert not [s for s in build_report(inp2, dt.date(2024, 7, 3), {}, None, None, "live").doc.subtitle
                if s.startswith("RECONSTRUCTED")]
