"""Crash safety: SIGKILL of Snakemake mid-run, a writer killed mid-write, corrupt artifacts planted upstream.

Recovery procedure (documented and checked by these tests): after a SIGKILL, a plain rerun is refused
(the killed process's lock remains: "the remaining lock was likely caused by a kill signal or a power loss",
or, once unlocked, ``IncompleteFilesException`` for the outputs of the jobs that were running). Run the same
command with ``--unlock``, then again with ``--rerun-incomplete``: it completes, and what it rebuilds is
byte-identical to a clean run.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from brmacro.io import ArtifactError, Col, Schema, read_table, write_table
from brmacro.pipeline import STEPS, all_schemas, build_partition, partition_paths
from tests.conftest import REPO, SESSIONS, workflow_copy
from tests.faults.conftest import (
    Tally,
    check_artifacts,
    copy_results,
    kill_hard,
    remove_partitions,
    run_snakemake,
    start_snakemake,
    wait_for,
)

pytestmark = pytest.mark.workflow
D = SESSIONS[1]


def _same_bytes(a: Path, b: Path, assets: list[str], d: str) -> list[str]:
    diff = []
    for asset in assets:
        for p in partition_paths(a, asset, d).values():
            q = b / p.relative_to(a)
            if p.read_bytes() != q.read_bytes():
                diff.append(str(p.relative_to(a)))
    return diff


def _readable_or_absent(results: Path) -> None:
    """Right after a kill: every Parquet in place opens against its schema (half-files can only be *.tmp)."""
    for p in results.rglob("*.parquet"):
        read_table(p, all_schemas()[p.parent.parent.name][p.stem])


def test_sigkill_during_bronze_then_rerun_incomplete(demo_run: Path, tmp_path: Path, tally: Tally) -> None:
    wd = workflow_copy(tmp_path / "wd")
    args = ("bronze_all", "--cores", "1", "--config", f"date={D}")
    proc = start_snakemake(wd, *args, out=tmp_path / "run1.log")
    try:
        hit = wait_for(lambda: any((wd / "results").glob("bronze/*/date=*/part.parquet")), proc)
    finally:
        kill_hard(proc)
    assert hit, (tmp_path / "run1.log").read_text()[-2000:]
    built = len(list((wd / "results").glob("bronze/*/date=*/part.parquet")))
    assert built < 7, "the kill came after the run finished: nothing was interrupted"
    _readable_or_absent(wd / "results")
    plain = run_snakemake(wd, *args)
    assert plain.returncode != 0  # refused, naming the remedy: the stale lock, or the incomplete outputs
    text = plain.stdout + plain.stderr
    assert ("--unlock" in text and "kill signal" in text) or (
        "IncompleteFilesException" in text and "--rerun-incomplete" in text), text[-2000:]
    unlock = run_snakemake(wd, *args, "--unlock")
    assert unlock.returncode == 0, unlock.stderr[-2000:]
    again = run_snakemake(wd, *args, "--rerun-incomplete")
    assert again.returncode == 0, again.stderr[-3000:]
    assert check_artifacts(wd / "results", tally) == 7
    # what was rebuilt after the crash is byte-identical to a clean run's
    assert _same_bytes(wd / "results", demo_run / "results", [a for a in STEPS if a.startswith("bronze")], D) == []
    tally.fault(1, survived=True)
    tally.note(f"SIGKILL during bronze after {built}/7 partitions; plain rerun rc={plain.returncode}; "
               "--rerun-incomplete completed byte-identical")


def test_sigkill_during_risk_job_then_rerun_incomplete(demo_run: Path, tmp_path: Path, tally: Tally) -> None:
    wd = workflow_copy(tmp_path / "wd")
    copy_results(demo_run, wd)
    late = ["risk_var", "risk_stress", "risk_limits", "daily_report"]
    remove_partitions(wd / "results", late, D)
    args = ("--cores", "1", "--config", f"date={D}")
    proc = start_snakemake(wd, *args, out=tmp_path / "run1.log")
    logs = [wd / "results" / "logs" / a / f"{D}.log" for a in ("risk_var", "risk_stress")]
    try:
        hit = wait_for(lambda: any(p.exists() for p in logs), proc)
    finally:
        kill_hard(proc)
    assert hit, (tmp_path / "run1.log").read_text()[-3000:]
    done = [a for a in late if all(p.exists() for p in partition_paths(wd / "results", a, D).values())]
    assert "daily_report" not in done, "the kill came after the run finished"
    _readable_or_absent(wd / "results")
    assert run_snakemake(wd, *args, "--unlock").returncode == 0
    again = run_snakemake(wd, *args, "--rerun-incomplete")
    assert again.returncode == 0, again.stderr[-3000:]
    n = check_artifacts(wd / "results", tally)
    assert n >= 23
    assert _same_bytes(wd / "results", demo_run / "results", late, D) == []
    tally.fault(1, survived=True)
    tally.note(f"SIGKILL during a risk job ({len(done)} of {late} were complete); --rerun-incomplete completed "
               "byte-identical")


def test_writer_killed_mid_write_leaves_old_artifact_intact_and_tmp_is_cleaned(tmp_path: Path, tally: Tally) -> None:
    """SIGKILL inside ``write_table`` (after half the bytes): the old file stays whole; the next write cleans up."""
    path = tmp_path / "t" / "part.parquet"
    script = textwrap.dedent(f"""
        import datetime as dt, os, signal, sys
        sys.path.insert(0, {str(REPO / 'src')!r})
        import pandas as pd, pyarrow.parquet as pq
        from brmacro import io
        s = io.Schema("t", (io.Col("k", "int"), io.Col("v", "float")), key=("k",))
        io.write_table(pd.DataFrame({{"k": [1, 2], "v": [0.5, 0.25]}}), {str(path)!r}, s, asof=dt.date(2026, 11, 24),
                       source="demo")
        real = pq.write_table
        def half_then_die(table, where, **kw):
            real(table, where, **kw)
            data = open(where, "rb").read()
            open(where, "wb").write(data[: len(data) // 2])
            os.kill(os.getpid(), signal.SIGKILL)
        pq.write_table = half_then_die
        io.write_table(pd.DataFrame({{"k": [1, 2, 3], "v": [9.0, 9.0, 9.0]}}), {str(path)!r}, s,
                       asof=dt.date(2026, 11, 24), source="demo")
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr
    schema = Schema("t", (Col("k", "int"), Col("v", "float")), key=("k",))
    stale = list(path.parent.glob(".part.parquet.*.tmp"))
    assert len(stale) == 1  # the half-written file never took the artifact's name
    old = read_table(path, schema)
    assert old["v"].tolist() == [0.5, 0.25]
    with pytest.raises(ArtifactError, match="cannot read"):
        read_table(stale[0], schema)
    write_table(pd.DataFrame({"k": [3], "v": [1.0]}), path, schema, asof=dt.date(2026, 11, 24), source="demo")
    assert list(path.parent.glob("*.tmp")) == [] and read_table(path, schema)["k"].tolist() == [3]
    tally.fault(1, survived=True)


@pytest.fixture()
def results_copy(demo_run: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "results"
    shutil.copytree(demo_run / "results", dst, ignore=shutil.ignore_patterns("logs", "benchmarks", "report"))
    return dst


def _truncate(p: Path) -> None:
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])


def _foreign_schema(p: Path) -> None:
    pq.write_table(pa.table({"date": ["2026-11-24"], "value": [1.0]}), p)


def _nan_in_required(p: Path) -> None:
    t = pq.read_table(p)
    i = next(i for i, f in enumerate(t.schema) if pa.types.is_floating(f.type) and not f.nullable)
    col = t.column(i).to_numpy().copy()
    col[0] = np.nan
    pq.write_table(t.set_column(i, t.schema.field(i), pa.array(col, type=pa.float64())), p)


def _empty_file(p: Path) -> None:
    p.write_bytes(b"")


@pytest.mark.parametrize(
    ("plant", "upstream", "needle"),
    [
        (_truncate, "silver_curves", "cannot read"),
        (_empty_file, "silver_curves", "cannot read"),
        (_foreign_schema, "silver_macro", "but"),
        (_nan_in_required, "silver_returns", "non-finite"),
    ],
)
def test_corrupt_upstream_artifact_is_refused_never_read(
    results_copy: Path, plant, upstream: str, needle: str, tally: Tally,  # noqa: ANN001
) -> None:
    d = dt.date.fromisoformat(D)
    target = partition_paths(results_copy, upstream, D)["part"]
    plant(target)
    for p in partition_paths(results_copy, "agent_inflation", D).values():
        p.unlink()
    import yaml
    from snakemake.utils import validate

    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    validate(cfg, str(REPO / "config" / "schema.yaml"))
    with pytest.raises(ArtifactError) as ei:
        build_partition(results_copy, "agent_inflation", d, cfg)
    msg = str(ei.value)
    ok = needle in msg and str(target) in msg and "rebuild" in msg or "cannot read" in msg
    assert ok, msg
    assert not any(p.exists() for p in partition_paths(results_copy, "agent_inflation", D).values())
    tally.bad_input(f"corrupt artifact ({plant.__name__.strip('_')})", rejected=ok)
    tally.fault(1, survived=True)
