"""Worker processes for rule bodies: two cores really used, without an interpreter per job.

With ``force-use-threads`` every rule body runs in a thread of the Snakemake process, so the steps
(pandas, numpy, cvxpy: much of it holding the GIL) share one core. :func:`start` (called from the
Snakefile's ``onstart`` on a local, non-dry run) opens a pool of worker processes, one per core, whose
interpreters are started once and import the step modules while Snakemake schedules the first jobs.
Each rule body then hands its job to a worker (:func:`run_step`) and waits with the GIL released.

Workers die with the process that opened the pool (a SIGKILL of Snakemake alone, as the OOM killer
does, leaves no worker running) and never publish an artifact after it: :mod:`brmacro._orphan`.

Where no pool was started (a Slurm job, a dry run, one core, the benchmark floor, tests in-process)
:func:`run_step` is the plain in-process :func:`brmacro.pipeline.run_step`. The bytes written are the
same either way: each step pins BLAS to one thread.
"""

from __future__ import annotations

import atexit
import contextvars
import gc
import multiprocessing as mp
import os
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from brmacro import pipeline

__all__ = ["GC_THRESHOLD", "WorkerLost", "call", "checksum_inputs_once", "drop_job_rate_limit", "run_session",
           "run_step", "running", "settle_gc", "start", "stop"]

_LOCK = threading.Lock()
_POOL: ProcessPoolExecutor | None = None


class WorkerLost(RuntimeError):
    """A worker process died (killed, out of memory) while building a partition."""


#: The cyclic garbage collector's thresholds in a process that builds partitions (Python's default: 700, 10, 10)
GC_THRESHOLD = (10_000, 10, 10)


def settle_gc() -> None:
    """The collector's policy of a process that builds many partitions: a worker, and the benchmark floor.

    A step allocates hundreds of thousands of short-lived objects (pandas' indexes, blocks, Python scalars) that
    reference counting frees, yet every 700 net allocations Python's default policy runs a young collection, and
    every 100 of those a full one, which walks the whole heap: the imported modules, the per-process kept frames.
    Measured over 21 sessions in the batch layout (docs/performance.md, "Eighth round"): 45 ms a session in the
    collector (6 full collections of ~125 ms), 4 ms with a young threshold of 10,000 and the heap of the imports
    frozen (``gc.freeze``: moved out of every generation, never walked again), for ~12 MB more resident memory.
    Garbage in reference cycles is still collected, later. The values computed are the same (the collector only
    frees unreachable objects).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)


def _init_worker(owner: int) -> None:
    """Initializer of a pool worker: :func:`brmacro._orphan.guard_worker`, and the collector's thresholds."""
    from brmacro import _orphan

    _orphan.guard_worker(owner)
    gc.set_threshold(*GC_THRESHOLD)


def _warm() -> int:
    """Import every step module in the worker, so the first real job does not pay for it; then
    :func:`settle_gc` (the imports' heap frozen)."""
    for asset in pipeline.STEPS:
        pipeline.step_function(asset)
    pipeline.all_schemas()
    settle_gc()
    return os.getpid()


def start(workers: int) -> bool:
    """Open the worker pool (``workers`` processes) unless it is open or ``workers < 2``; True if open."""
    global _POOL
    with _LOCK:
        if _POOL is not None:
            return True
        if workers < 2:
            return False
        from brmacro import _orphan

        os.environ[_orphan.OWNER_ENV] = str(os.getpid())  # read by the forkserver when it imports _orphan
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["brmacro._orphan", "brmacro.pipeline"])
        _POOL = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                                    initargs=(os.getpid(),))
        for _ in range(workers):
            _POOL.submit(_warm)
        return True


def drop_job_rate_limit(scheduler: Any) -> bool:
    """Drop Snakemake's job rate limiter from a local run's scheduler; True if there was one.

    ``--max-jobs-per-timespan`` (default ``100/1s``, meant for cluster queues) makes the scheduler arm a one-shot
    timer after every pass that had jobs ready, and each timer's pass arms another (Snakemake 9.27): the timers
    pile up, one per job event, and so do the passes, each re-reading the ready jobs' input sizes. A 250-session
    run (999 jobs) spent 38 CPU s in the Snakemake process, 11 s without the limiter (docs/performance.md, "The
    job rate limiter"): CPU taken from the two workers. Locally the limit never binds (two cores, jobs of tens of
    milliseconds or more), and without it a pass still runs whenever a job ends. ``scheduler`` is
    ``workflow.scheduler`` (set before ``onstart``, which runs before the first pass: Snakemake asserts that a
    scheduler without a limiter never had its job count cut); without the attribute nothing is changed.
    """
    if getattr(scheduler, "job_rate_limiter", None) is None:
        return False
    scheduler.job_rate_limiter = None
    return True


#: The input checksums of the job whose metadata Snakemake is recording (:func:`checksum_inputs_once`), else None
_JOB_CHECKSUMS: contextvars.ContextVar[dict[tuple[str, Any], Any] | None] = contextvars.ContextVar(
    "brmacro_job_checksums", default=None)


def checksum_inputs_once(persistence: Any, iofile: Any = None) -> bool:
    """Have Snakemake checksum a finished job's inputs once for the job, not once per output; True if changed.

    Snakemake 9.27's ``Persistence.finished`` records each output's metadata and, for each output, asks every input
    of the job for its checksum (``_IOFile.checksum``: a ``stat`` or three for a folder, which gets none). A batch-
    layout job has hundreds of outputs and inputs: ~850,000 such calls in 13 months of sessions, most of the
    Snakemake process's own CPU (docs/performance.md, "Snakemake's metadata"). While ``finished`` records one job
    (``persistence.finished``, replaced on this instance), each input's checksum is asked once and the answer given
    again for the other outputs: the records are the same, since a job's inputs do not change while its outputs are
    recorded. A checksum asked outside ``finished``, with ``force`` or an explicit algorithm, is Snakemake's own.
    ``iofile`` is the class whose ``checksum`` is wrapped (Snakemake's ``_IOFile``; tests give their own).
    """
    finished = getattr(persistence, "finished", None)
    if finished is None or getattr(finished, "_brmacro_once", False):
        return False
    if iofile is None:
        from snakemake.io import _IOFile  # type: ignore[import-untyped]

        iofile = _IOFile
    plain = iofile.checksum
    if not getattr(plain, "_brmacro_once", False):
        async def checksum(self: Any, threshold: Any = None, force: bool = False, algorithm: Any = None) -> Any:
            memo = _JOB_CHECKSUMS.get()
            if memo is None or force or algorithm is not None:
                return await plain(self, threshold, force, algorithm)
            key = (str(self), threshold)
            if key not in memo:
                memo[key] = await plain(self, threshold)
            return memo[key]

        checksum._brmacro_once = True  # type: ignore[attr-defined]
        iofile.checksum = checksum

    async def once(job: Any) -> Any:
        token = _JOB_CHECKSUMS.set({})
        try:
            return await finished(job)
        finally:
            _JOB_CHECKSUMS.reset(token)

    once._brmacro_once = True  # type: ignore[attr-defined]
    persistence.finished = once
    return True


def running() -> bool:
    """Whether rule bodies go to worker processes."""
    return _POOL is not None


def stop() -> None:
    """Close the pool (waits for running jobs)."""
    global _POOL
    with _LOCK:
        pool, _POOL = _POOL, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


atexit.register(stop)


def call(fn: Callable[..., None], *args: Any) -> None:
    """``fn(*args)`` in a worker process when the pool is open, else in-process.

    ``fn`` must be a module-level function and ``args`` plain values (they are pickled); the
    exception ``fn`` raises, if any, is raised here unchanged.
    """
    pool = _POOL
    if pool is None:
        fn(*args)
        return
    try:
        pool.submit(fn, *args).result()
    except BrokenProcessPool:
        stop()
        raise WorkerLost(
            f"{fn.__name__}{args[:2]}: the worker process running this job died (killed or out of memory); "
            "nothing was kept of its outputs. Rerun the workflow; the remaining jobs run in-process."
        ) from None


def run_step(*args: Any) -> None:
    """The body of a step rule: :func:`brmacro.pipeline.run_step` (same arguments) through :func:`call`."""
    call(pipeline.run_step, *_plain(args))


def run_session(*args: Any) -> None:
    """The body of a session-layout rule: :func:`brmacro.pipeline.run_session` (same arguments) through :func:`call`."""
    call(pipeline.run_session, *_plain(args))


def _plain(obj: Any) -> Any:
    """Snakemake's Namedlists, IOFiles and nested mappings as plain lists, strings and dicts (picklable, no
    references to the workflow)."""
    if isinstance(obj, (str, Path)):
        return str(obj)
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj
