"""The seven bronze steps: demo snapshots through the step contract, live refused, bytes reproducible."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from brmacro.bronze import demo, steps
from brmacro.io import read_table
from brmacro.pipeline import BRONZE, Context, all_schemas, partition_paths, run_step

D = dt.date(2026, 11, 24)
PARAMS = {"source": "demo", "nav_brl": 100_000_000.0, "bronze": {"daily_lookback_years": 1},
          "demo": {"seed": demo.DEFAULT_SEED}}


def _ctx(asset: str, params: dict[str, object]) -> Context:
    return Context(asset=asset, date=D, params=params)


@pytest.mark.parametrize("asset", BRONZE)
def test_step_returns_the_demo_snapshot(asset: str) -> None:
    out = getattr(steps, asset)(_ctx(asset, PARAMS))
    assert set(out) == set(all_schemas()[asset]) == {"part"}
    expected = demo.snapshot(asset, D, PARAMS["bronze"], seed=demo.DEFAULT_SEED)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(out["part"], expected)
    all_schemas()[asset]["part"].conform(out["part"])


@pytest.mark.parametrize("asset", BRONZE)
def test_live_source_goes_to_the_live_connectors_never_to_demo(asset: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import brmacro.bronze.live as live

    calls: list[tuple[str, object]] = []

    def fake(source: str, date: object, params: object) -> pd.DataFrame:
        calls.append((source, date))
        raise RuntimeError(f"{source}: live fetch attempted")

    monkeypatch.setattr(live, "snapshot", fake)
    monkeypatch.setattr(demo, "snapshot", lambda *a, **k: pytest.fail("fell back to the demo"))
    with pytest.raises(RuntimeError, match="live fetch attempted"):
        getattr(steps, asset)(_ctx(asset, {**PARAMS, "source": "live"}))
    assert calls and calls[0][0] == asset


def test_unknown_source_and_bad_seed_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown source 'csv'"):
        steps.bronze_fred(_ctx("bronze_fred", {**PARAMS, "source": "csv"}))
    with pytest.raises(ValueError, match="demo.seed"):
        steps.bronze_fred(_ctx("bronze_fred", {**PARAMS, "demo": {"seed": "x"}}))
    with pytest.raises(ValueError, match="unknown keys"):
        steps.bronze_fred(_ctx("bronze_fred", {**PARAMS, "demo": {"seed": 1, "sed": 2}}))


def test_seed_changes_the_data() -> None:
    a = steps.bronze_bcb_ptax(_ctx("bronze_bcb_ptax", PARAMS))["part"]
    b = steps.bronze_bcb_ptax(_ctx("bronze_bcb_ptax", {**PARAMS, "demo": {"seed": 11}}))["part"]
    assert len(a) == len(b) and not a["sell"].equals(b["sell"])


@pytest.mark.parametrize("asset", ["bronze_bcb_ptax", "bronze_bcb_focus", "bronze_treasury_gov"])
def test_run_step_writes_identical_bytes_twice(asset: str, tmp_path: Path) -> None:
    outs = []
    for run in ("a", "b"):
        paths = partition_paths(tmp_path / run, asset, D)
        run_step(asset, D.isoformat(), PARAMS, [], [], [str(p) for p in paths.values()],
                 log=tmp_path / run / f"{asset}.log")
        outs.append(paths["part"])
    assert outs[0].read_bytes() == outs[1].read_bytes()
    back = read_table(outs[0], all_schemas()[asset]["part"])
    assert len(back) > 0 and (back["release_date"] <= D).all()
