"""Job layouts (``layout: auto``), the batch layout's months, and the reads a session- or batch-layout job shares
between its member steps and sessions."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pandas as pd
import pytest

from brmacro.calendar import b3_sessions
from brmacro.io import write_table
from brmacro.pipeline import (
    AUTO_BATCH_LAYOUT_FROM,
    AUTO_SESSION_LAYOUT_FROM,
    Context,
    SharedReads,
    all_schemas,
    other_sessions_pattern,
    output_sessions,
    partition_dir,
    resolve_layout,
    session_batches,
    shared_reads,
)

D = dt.date(2026, 11, 24)


def test_auto_takes_the_step_layout_for_a_few_sessions_then_the_session_then_the_batch_layout() -> None:
    assert resolve_layout("auto", 1) == "step"
    assert resolve_layout("auto", AUTO_SESSION_LAYOUT_FROM - 1) == "step"
    assert resolve_layout("auto", AUTO_SESSION_LAYOUT_FROM) == "session"
    assert resolve_layout("auto", AUTO_BATCH_LAYOUT_FROM - 1) == "session"
    assert resolve_layout("auto", AUTO_BATCH_LAYOUT_FROM) == "batch"
    assert resolve_layout("auto", 4200) == "batch"
    assert resolve_layout("step", 4200) == "step"
    assert resolve_layout("session", 4200) == "session"
    assert resolve_layout("batch", 1) == "batch"


def test_an_unknown_layout_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="layout must be one of auto, step, session, batch, got 'steps'"):
        resolve_layout("steps", 3)


def test_the_batch_layout_runs_one_job_per_calendar_month_of_target_sessions() -> None:
    days = [d for d in b3_sessions() if dt.date(2025, 12, 20) <= d <= dt.date(2026, 2, 3)]
    batches = session_batches(list(reversed(days)) + days[:3])  # any order, repeats: each session once, in order
    assert [name for name, _ in batches] == ["2025_12", "2026_01", "2026_02"]
    assert [s for _, ss in batches for s in ss] == days
    assert all(len({(s.year, s.month) for s in ss}) == 1 for _, ss in batches)
    # 2025-12-24, 25, 31 and 2026-01-01 are not B3 sessions; the month of a range's first and last session is partial
    assert batches[0][1][0] == dt.date(2025, 12, 22) and batches[-1][1] == [dt.date(2026, 2, 2), dt.date(2026, 2, 3)]
    # the same month is the same batch whatever the range around it, so a resumed backfill plans the same jobs
    assert dict(session_batches([d for d in days if d.month == 1])) == {"2026_01": batches[1][1]}


def _ptax(tmp_path: Path, rate: float) -> Path:
    schema = all_schemas()["bronze_bcb_ptax"]["part"]
    row = {"date": D, "buy": rate, "sell": rate, "bulletin_time": pd.Timestamp("2026-11-24 16:00", tz="UTC"),
           "release_date": D, "release_basis": "captured"}
    df = pd.DataFrame([row], columns=schema.names)
    path = tmp_path / "bronze" / "bronze_bcb_ptax" / f"date={D.isoformat()}" / "part.parquet"
    write_table(df, path, schema, asof=D, source="demo")
    return path


def _ctx(path: Path) -> Context:
    return Context(asset="silver_returns", date=D, params={}, inputs={"bronze_bcb_ptax": {"part": path}})


def test_a_job_reads_each_input_table_once_and_each_step_gets_its_own_copy(tmp_path: Path) -> None:
    path = _ptax(tmp_path, 5.0)
    with shared_reads() as reads:
        a = _ctx(path).table("bronze_bcb_ptax")
        a.loc[0, "sell"] = -1.0  # a step mutating its copy
        b = _ctx(path).table("bronze_bcb_ptax")
    assert (reads.misses, reads.hits) == (1, 1)
    assert b.loc[0, "sell"] == 5.0
    c = _ctx(path).table("bronze_bcb_ptax")  # outside the block: no sharing
    pd.testing.assert_frame_equal(b, c)
    assert (reads.misses, reads.hits) == (1, 1)


def test_a_table_rewritten_during_the_job_is_read_again(tmp_path: Path) -> None:
    path = _ptax(tmp_path, 5.0)
    reads = SharedReads()
    first = reads.read("bronze_bcb_ptax", "part", path)
    _ptax(tmp_path, 6.0)
    os.utime(path, ns=(1, 1))  # another identity even if size and mtime were to coincide
    second = reads.read("bronze_bcb_ptax", "part", path)
    assert reads.misses == 2
    assert not first.equals(second)


def test_shared_reads_are_bounded(tmp_path: Path) -> None:
    reads = SharedReads(max_tables=2)
    paths = []
    for i in range(3):
        sub = tmp_path / str(i)
        paths.append(_ptax(sub, 5.0 + i))
        reads.read("bronze_bcb_ptax", "part", paths[-1])
    assert len(reads._frames) == 2
    reads.read("bronze_bcb_ptax", "part", paths[0])  # the oldest was dropped: read again
    assert reads.misses == 4


def test_a_grouped_job_builds_the_sessions_of_its_output_folders_in_order() -> None:
    outs = [partition_dir("results", a, d) for d in ("2026-01-05", "2026-01-02") for a in ("silver_curves", "risk_var")]
    assert output_sessions(outs) == ["2026-01-02", "2026-01-05"]


def test_the_session_rules_of_the_batch_layout_match_only_dates_outside_its_batches() -> None:
    import re

    days = [dt.date(2024, 1, 2), dt.date(2024, 1, 3), dt.date(2024, 2, 1), dt.date(2025, 1, 2)]
    pattern = other_sessions_pattern(days)
    assert "{" not in pattern  # Snakemake would take a quantifier for a wildcard
    for d in days:
        assert not re.fullmatch(pattern, d.isoformat()), d
        assert not re.match(pattern, f"{d.isoformat()}.log"), d  # also followed by a suffix (a log path)
    for other in ("2024-01-04", "2024-01-22", "2024-02-02", "2023-12-29", "2025-01-03", "2024-03-01"):
        assert re.fullmatch(pattern, other), other
    assert not re.fullmatch(pattern, "2024-01-022")  # a date with a digit after it is not a date
    assert re.fullmatch(other_sessions_pattern([]), "2024-01-02")
