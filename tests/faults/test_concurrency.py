"""Concurrency: a second run on a working directory in use is refused with Snakemake's lock message; runs in
two working directories at once do not interfere (and give the same bytes as the shared demo run)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from brmacro.pipeline import STEPS
from tests.conftest import SESSIONS, workflow_copy
from tests.faults.conftest import (
    FAKE_KEY,
    Answer,
    Tally,
    check_artifacts,
    run_snakemake,
    start_snakemake,
    wait_for,
)

pytestmark = pytest.mark.workflow
D = SESSIONS[1]
BRONZE = [a for a in STEPS if a.startswith("bronze_")]


def test_second_run_on_the_same_directory_is_refused_with_the_lock_message(
    tmp_path: Path, chaos, tally: Tally  # noqa: ANN001
) -> None:
    """Run 1 hangs inside its PTAX request (the chaos server holds the answer) while run 2 starts."""
    srv = chaos(lambda p, q, n: Answer(503, b"down", delay=120.0))
    wd = workflow_copy(tmp_path / "wd")
    live = {"live": {"cache_dir": str(tmp_path / "cache"), "retries": 0, "timeout_seconds": 300,
                     "sources": {"bcb_ptax": {"base_url": f"{srv.url}/ptax"}}}}
    (wd / "slow.yaml").write_text(yaml.safe_dump(live))
    target = f"results/bronze/bronze_bcb_ptax/date={D}/part.parquet"
    args = (target, "--cores", "1", "--configfile", "slow.yaml", "--config", f"date={D}", "source=live")
    first = start_snakemake(wd, *args, out=tmp_path / "first.log")
    try:
        assert wait_for(lambda: len(srv.requests) > 0, first), (tmp_path / "first.log").read_text()[-2000:]
        second = run_snakemake(wd, *args)
        text = second.stdout + second.stderr
        assert second.returncode != 0
        assert "LockException" in text and "Directory cannot be locked" in text, text[-2000:]
        assert first.poll() is None  # the first run was not disturbed
    finally:
        srv.release.set()  # let run 1 receive its 503s and fail on its own
        first.wait(timeout=120)
    assert first.returncode != 0 and "bcb_ptax" in (tmp_path / "first.log").read_text()
    assert not list((wd / "results").rglob("*.parquet"))
    tally.fault(1, survived=True)


def test_runs_in_two_directories_do_not_interfere(demo_run: Path, tmp_path: Path, tally: Tally) -> None:
    wds = [workflow_copy(tmp_path / name) for name in ("a", "b")]
    args = ("bronze_all", "--cores", "1", "--config", f"date={D}")
    procs = [start_snakemake(wd, *args, out=tmp_path / f"{wd.name}.log") for wd in wds]
    for p, wd in zip(procs, wds, strict=True):
        p.wait(timeout=600)
        assert p.returncode == 0, (tmp_path / f"{wd.name}.log").read_text()[-3000:]
    for wd in wds:
        assert check_artifacts(wd / "results", tally) == 7
        for f in wd.rglob("*"):  # the run wrote its files here only, with no secret in any of them
            assert f.resolve().is_relative_to(wd.resolve())
            if f.is_file():
                assert FAKE_KEY.encode() not in f.read_bytes()
    a, b = (wd / "results" / "bronze" for wd in wds)
    files = sorted(p.relative_to(a) for p in a.rglob("*.parquet"))
    assert files == sorted(p.relative_to(b) for p in b.rglob("*.parquet"))
    ref = demo_run / "results" / "bronze"
    for f in files:
        assert (a / f).read_bytes() == (b / f).read_bytes() == (ref / f).read_bytes(), f
    tally.fault(1, survived=True)
