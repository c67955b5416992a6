"""Switching a results folder from the step to the session or batch layout, or from the session to the batch layout:
a group built by another layout is taken over as built (Snakemake's folder timestamp) only when each member is up
to date in its own terms."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from brmacro.pipeline import SESSION_GROUPS, SNAKEMAKE_TIMESTAMP, _declared_files, adopt_step_built, partition_dir

D = dt.date(2026, 11, 24)
CFG: dict[str, object] = {"report": {"track_record": "2026-11-24"}}


def _build(root: Path, group: str, d: dt.date = D) -> dict[str, list[Path]]:
    """Every file the group's members read and write, inputs dated before outputs (as a step-layout run leaves)."""
    outs: dict[str, list[Path]] = {}
    for a in SESSION_GROUPS[group]:
        same, prev, written = _declared_files(root, a, d, CFG)
        for p in (*same, *prev):
            if not p.exists():
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_bytes(b"")
                os.utime(p, ns=(1_000_000_000, 1_000_000_000))
        outs[a] = list(written)
    for i, a in enumerate(SESSION_GROUPS[group]):
        for p in outs[a]:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(b"")
            t = 2_000_000_000 + i * 1_000_000_000
            os.utime(p, ns=(t, t))
    return outs


def test_a_step_built_group_is_adopted_at_the_newest_file_it_reads_or_writes(tmp_path: Path) -> None:
    outs = _build(tmp_path, "tail")
    assert adopt_step_built(tmp_path, "tail", D, CFG)
    newest = max(p.stat().st_mtime_ns for ps in outs.values() for p in ps)
    for a in SESSION_GROUPS["tail"]:
        stamp = Path(partition_dir(tmp_path, a, D)) / SNAKEMAKE_TIMESTAMP
        assert stamp.stat().st_mtime_ns >= newest
    assert not adopt_step_built(tmp_path, "tail", D, CFG)  # already a session-layout folder: left to Snakemake


def test_a_member_older_than_what_it_reads_is_left_to_snakemake(tmp_path: Path) -> None:
    _build(tmp_path, "tail")
    a = SESSION_GROUPS["tail"][-1]
    same, _, _ = _declared_files(tmp_path, a, D, CFG)
    late = 9_000_000_000_000_000_000
    os.utime(same[0], ns=(late, late))  # an input rebuilt after the member: the step layout would rerun it
    assert not adopt_step_built(tmp_path, "tail", D, CFG)
    assert not any((Path(partition_dir(tmp_path, m, D)) / SNAKEMAKE_TIMESTAMP).exists() for m in SESSION_GROUPS["tail"])


def test_a_group_with_a_missing_partition_is_left_to_snakemake(tmp_path: Path) -> None:
    outs = _build(tmp_path, "tail")
    outs[SESSION_GROUPS["tail"][0]][0].unlink()
    assert not adopt_step_built(tmp_path, "tail", D, CFG)


def _stamp(folder: Path, t: int) -> None:
    stamp = folder / SNAKEMAKE_TIMESTAMP
    stamp.touch()
    os.utime(stamp, ns=(t, t))


def test_a_month_built_by_session_jobs_is_dated_as_one_batch_job_when_each_session_is_up_to_date(
        tmp_path: Path) -> None:
    """Session jobs built D1 then D2: each session's `core` is newer than its own bronze, but D2's bronze is newer
    than D1's `core`, which a batch job (oldest output against newest input) would rerun. Taken over, every folder
    of the month is dated at the newest of the month; a session out of date against its own bronze is not."""
    d1, d2 = dt.date(2026, 11, 23), D
    for d in (d1, d2):
        _build(tmp_path, "core", d)
    bronze = {d: [Path(partition_dir(tmp_path, a, d)) for a in SESSION_GROUPS["bronze"]] for d in (d1, d2)}
    core = {d: [Path(partition_dir(tmp_path, a, d)) for a in SESSION_GROUPS["core"]] for d in (d1, d2)}
    t = {d1: 10_000_000_000_000_000_000 // 10, d2: 10_000_000_000_000_000_000 // 10 + 2_000_000_000}
    for d in (d1, d2):  # session jobs: bronze at t, core a second later
        for f in bronze[d]:
            _stamp(f, t[d])
        for f in core[d]:
            _stamp(f, t[d] + 1_000_000_000)
    assert not adopt_step_built(tmp_path, "core", d2, CFG)  # one session: up to date as it is
    assert adopt_step_built(tmp_path, "core", [d1, d2], CFG)
    newest = t[d2] + 1_000_000_000
    assert {(f / SNAKEMAKE_TIMESTAMP).stat().st_mtime_ns for d in (d1, d2) for f in core[d]} == {newest}
    assert not adopt_step_built(tmp_path, "core", [d1, d2], CFG)  # nothing left to date
    assert not adopt_step_built(tmp_path, "bronze", [d1, d2], CFG)  # no inputs: never out of date by time

    for f in core[d1]:  # D1's core older than D1's own bronze: out of date in the session layout too
        _stamp(f, t[d1] - 1)
    assert not adopt_step_built(tmp_path, "core", [d1, d2], CFG)
    assert all((f / SNAKEMAKE_TIMESTAMP).stat().st_mtime_ns == t[d1] - 1 for f in core[d1])
