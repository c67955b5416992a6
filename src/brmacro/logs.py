"""Per-job logging: each rule's log file gets the step's messages and the run facts
(host, Slurm job id) that must never go into an artifact."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["log_file", "step_logging"]

_FMT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@contextmanager
def log_file(logger: logging.Logger, log: str | Path | None) -> Iterator[None]:
    """Write ``logger``'s messages (and its children's) to the file ``log`` while the block runs."""
    if log is None:
        yield
        return
    Path(log).parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(log, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter(_FMT))
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        handler.close()


@contextmanager
def step_logging(asset: str, log: str | Path | None) -> Iterator[logging.Logger]:
    """Route ``brmacro.*`` messages of this job to ``log`` (and record where the job ran).

    Exceptions are logged with their traceback and re-raised.
    """
    logger = logging.getLogger(f"brmacro.{asset}")
    logger.setLevel(logging.INFO)
    with log_file(logger, log):
        job = os.environ.get("SLURM_JOB_ID")
        logger.info("host=%s pid=%d slurm_job_id=%s", socket.gethostname(), os.getpid(), job or "-")
        try:
            yield logger
        except BaseException:
            logger.exception("%s failed", asset)
            raise
