"""Worker processes for rule bodies (brmacro.pool) and the session layout's groups (brmacro.pipeline)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from brmacro import pool
from brmacro.pipeline import SESSION_GROUPS, STEPS, build_partition, group_inputs, partition_paths, step_params
from tests.configparts import CONFIG

DAY = dt.date(2026, 11, 24)


@pytest.fixture
def workers() -> Iterator[None]:
    assert pool.start(2)
    yield
    pool.stop()


def test_session_groups_cover_every_step_once_in_dependency_order() -> None:
    order = [a for g in SESSION_GROUPS.values() for a in g]
    assert sorted(order) == sorted(STEPS)
    seen: set[str] = set()
    for a in order:
        assert set(STEPS[a].inputs) <= seen, a  # same-session inputs come from earlier members or groups
        seen.add(a)


def test_session_groups_are_chain_free() -> None:
    assert group_inputs("bronze") == ([], {})
    core_same, core_prev = group_inputs("core")
    assert core_prev == {} and set(core_same) <= set(SESSION_GROUPS["bronze"])
    _, tail_prev = group_inputs("tail")
    assert tail_prev == {"signal_aggregation": 5, "portfolio_sizing": 6}
    assert not set(tail_prev) & set(SESSION_GROUPS["tail"])


def test_a_group_reading_its_own_earlier_sessions_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(SESSION_GROUPS, "tail", (*SESSION_GROUPS["tail"], "signal_aggregation"))
    with pytest.raises(ValueError, match="reads earlier sessions of signal_aggregation in the same group"):
        group_inputs("tail")


def test_one_worker_means_no_pool() -> None:
    assert not pool.start(1)
    assert not pool.running()


def test_a_step_built_in_a_worker_equals_the_in_process_build(tmp_path: Path, workers: None) -> None:
    cfg = CONFIG
    build_partition(tmp_path / "here", "bronze_fred", DAY, cfg)
    outs = [str(p) for p in partition_paths(tmp_path / "there", "bronze_fred", DAY).values()]
    log = tmp_path / "fred.log"
    pool.run_step("bronze_fred", DAY.isoformat(), step_params("bronze_fred", cfg),
                  [], [], outs, log)
    here = partition_paths(tmp_path / "here", "bronze_fred", DAY)
    for name, path in partition_paths(tmp_path / "there", "bronze_fred", DAY).items():
        assert path.read_bytes() == here[name].read_bytes()
    text = log.read_text()
    assert f"pid={os.getpid()}" not in text and "built bronze_fred 2026-11-24 in" in text


def test_a_step_error_in_a_worker_is_raised_unchanged(tmp_path: Path, workers: None) -> None:
    outs = [str(p) for p in partition_paths(tmp_path, "bronze_fred", DAY).values()]
    with pytest.raises(ValueError, match=r"bronze_fred 2026-11-24: config nav_brl must be a finite number > 0"):
        pool.run_step("bronze_fred", DAY.isoformat(), {"source": "demo", "nav_brl": -1.0}, [], [], outs, None)
    assert not any(Path(p).exists() for p in outs)
    assert pool.running()  # an ordinary failure keeps the workers


def test_a_dead_worker_is_reported_and_later_jobs_run_in_process(workers: None) -> None:
    with pytest.raises(pool.WorkerLost, match="died"):
        pool.call(os._exit, 9)
    assert not pool.running()


def test_the_job_rate_limiter_is_dropped_from_a_scheduler() -> None:
    class Scheduler:
        job_rate_limiter: object | None = object()

    s = Scheduler()
    assert pool.drop_job_rate_limit(s) is True
    assert s.job_rate_limiter is None
    assert pool.drop_job_rate_limit(s) is False  # already none
    assert pool.drop_job_rate_limit(None) is False  # no scheduler (a dry run): nothing to change


def test_snakemakes_scheduler_still_reads_its_rate_limiter_from_the_attribute_dropped() -> None:
    # drop_job_rate_limit relies on JobScheduler.schedule reading self.job_rate_limiter on every pass: a Snakemake
    # that renamed or cached it would silently keep the piling timers (docs/performance.md, "The job rate limiter")
    import inspect

    from snakemake.scheduling.job_scheduler import JobScheduler

    assert "self.job_rate_limiter = (" in inspect.getsource(JobScheduler.__init__)
    source = inspect.getsource(JobScheduler.schedule)
    assert "if self.job_rate_limiter is not None:" in source
    assert "self._schedule_reevalutation(self.job_rate_limiter.timespan)" in source


def test_workers_take_the_collector_policy_and_the_calling_process_keeps_its_own(workers: None) -> None:
    import gc

    before = gc.get_threshold()
    assert pool._POOL is not None
    seen = {pool._POOL.submit(gc.get_threshold).result() for _ in range(4)}
    assert seen == {pool.GC_THRESHOLD}
    assert gc.get_threshold() == before


def test_settle_gc_freezes_the_heap_and_sets_the_thresholds() -> None:
    import subprocess
    import sys

    code = ("import gc; from brmacro.pool import settle_gc, GC_THRESHOLD; assert gc.get_freeze_count() == 0; "
            "settle_gc(); print(gc.get_threshold() == GC_THRESHOLD, gc.get_freeze_count() > 1000)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "True"]


def test_build_partition_with_the_runs_code_versions_writes_the_same_bytes(tmp_path: Path) -> None:
    from brmacro.pipeline import code_versions

    build_partition(tmp_path / "each", "bronze_fred", DAY, CONFIG)
    build_partition(tmp_path / "once", "bronze_fred", DAY, CONFIG, code=code_versions())
    once = partition_paths(tmp_path / "once", "bronze_fred", DAY)
    for name, path in partition_paths(tmp_path / "each", "bronze_fred", DAY).items():
        assert path.read_bytes() == once[name].read_bytes()


def test_a_finished_jobs_inputs_are_checksummed_once_and_give_the_same_answers() -> None:
    import asyncio

    calls: list[tuple[str, object]] = []

    class File(str):
        async def checksum(self, threshold: object = None, force: bool = False, algorithm: object = None) -> object:
            calls.append((str(self), threshold))
            return None if self.endswith("/") else f"sha256:{self}:{threshold}"

    class Job:
        input = [File("a.parquet"), File("b/"), File("a.parquet")]
        output = ["x", "y", "z"]

    class Persistence:
        records: dict[str, dict[str, object]] = {}

        async def finished(self, job: Job) -> None:
            for f in job.output:
                self.records[f] = {str(i): await i.checksum(100) for i in job.input}

    plain, patched = Persistence(), Persistence()
    asyncio.run(plain.finished(Job()))
    expected = dict(plain.records)
    assert len(calls) == 9
    calls.clear()
    assert pool.checksum_inputs_once(patched, File) is True
    assert pool.checksum_inputs_once(patched, File) is False  # once is enough
    patched.records = {}
    asyncio.run(patched.finished(Job()))
    assert patched.records == expected
    assert sorted(calls) == [("a.parquet", 100), ("b/", 100)]  # each input once for the job's three outputs
    calls.clear()
    asyncio.run(File("a.parquet").checksum(100))  # outside a job's recording: Snakemake's own, every time
    asyncio.run(File("a.parquet").checksum(100))
    assert len(calls) == 2
    assert pool.checksum_inputs_once(None) is False


def test_snakemakes_persistence_still_asks_every_input_per_output_where_the_patch_applies() -> None:
    # checksum_inputs_once relies on Persistence.finished asking each input's checksum inside its loop over the
    # outputs, and on the job calling the instance's finished: a Snakemake that changed either makes it a no-op or
    # wrong, so fail loudly here (docs/performance.md, "Snakemake's metadata")
    import inspect

    from snakemake.io import _IOFile
    from snakemake.jobs import Job
    from snakemake.persistence import PersistenceBase
    from snakemake.persistence.db import DbPersistence
    from snakemake.persistence.file import FilePersistence

    assert FilePersistence.finished is PersistenceBase.finished is DbPersistence.finished
    source = inspect.getsource(PersistenceBase.finished)
    assert source.index("for f in job.output:") < source.index("await infile.checksum(self.max_checksum_file_size)")
    assert "for infile in job.input" in source
    assert "await self.dag.workflow.persistence.finished(self)" in inspect.getsource(Job.postprocess)
    assert list(inspect.signature(_IOFile.checksum).parameters) == ["self", "threshold", "force", "algorithm"]
