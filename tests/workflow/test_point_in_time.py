"""Point in time: change everything released after D; every artifact of D stays byte-identical.

The demo's full history is perturbed (every numeric value of every row released after D is scaled),
then all 23 assets of D are rebuilt in-process, exactly as their rules build them, on top of the same
previous-session artifacts. The release filter, not the release dates, is what this proves; the lag
table is tested separately (tests/unit/test_demo.py: IPCA, GDP, Focus release days).
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import pytest
from snakemake.utils import validate

from brmacro.bronze import demo
from brmacro.pipeline import STEPS, build_partition
from tests.conftest import REPO, SESSIONS, run_config

pytestmark = pytest.mark.workflow


def _perturbed(original, after: dt.date):  # type: ignore[no-untyped-def]
    cut = np.datetime64(after, "D")

    def full_table(source: str, seed: int):  # type: ignore[no-untyped-def]
        t = original(source, seed)
        late = t.release > cut
        frame = t.frame.copy()
        for col in frame.columns:
            if frame[col].dtype.kind == "f":
                frame.loc[late, col] = frame.loc[late, col] * 1.5 + 0.01
        return dataclasses.replace(t, frame=frame)

    return full_table


def _config() -> dict:  # type: ignore[type-arg]
    cfg = run_config()  # the demo run's config (its track-record window)
    validate(cfg, str(REPO / "config" / "schema.yaml"))
    return copy.deepcopy(cfg)


def test_data_released_after_d_changes_no_artifact_of_d(
    demo_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = dt.date.fromisoformat(SESSIONS[0])
    src = demo_run / "results"
    dst = tmp_path / "results"
    # previous sessions' artifacts are shared; every partition of D is rebuilt from perturbed sources
    for f in src.rglob("date=*/*"):
        if f.parent.name != f"date={d.isoformat()}" and f.parent.name < f"date={d.isoformat()}":
            target = dst / f.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f, target)
    # sanity: the perturbation really changes what a later session sees
    later = dt.date.fromisoformat(SESSIONS[1])
    before = demo.snapshot("bcb_ptax", later)
    monkeypatch.setattr(demo, "full_table", _perturbed(demo.full_table, d))
    assert not before.equals(demo.snapshot("bcb_ptax", later))

    cfg = _config()
    for asset in STEPS:
        build_partition(dst, asset, d, cfg)
    files = sorted(src.rglob(f"date={d.isoformat()}/*"))
    changed = [str(f.relative_to(src)) for f in files if (dst / f.relative_to(src)).read_bytes() != f.read_bytes()]
    assert changed == [], f"changed when data released after {d} changed: {changed}"
    assert len(files) >= 23
