"""Checks the Snakefile makes before planning any job (issue 17): where results go, what a run may target.

- :func:`check_results_dir`: ``results`` may not be a system folder (``/``, ``/etc``, ``/usr``, ...) nor a
  non-empty folder brmacro did not create; brmacro marks the folders it writes with :data:`MARKER`.
- :func:`check_backtest_range`: a backtest range that its sessions' returns windows cannot cover
  (``silver.lookback_sessions`` too short to chain them) is refused before planning its jobs, not in its last job.
- :func:`check_live_sessions`: ``source: live`` cannot build a session that has not completed yet.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from pathlib import Path

__all__ = ["MARKER", "GuardError", "check_backtest_range", "check_live_sessions", "check_results_dir",
           "mark_results_dir"]

MARKER = ".brmacro-results"
# Folders that are never a results root; those in SYSTEM_TREES not even below them.
SYSTEM_TREES = ("/etc", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/boot", "/dev", "/proc", "/sys",
                "/run", "/var/lib", "/var/log")
SYSTEM_ROOTS = ("/", "/var", "/home", "/root", "/opt", "/srv", "/tmp", "/mnt", "/media", "/snap")
# What a results folder written by brmacro (before the marker existed) may hold.
TEMP_PREFIXES = (".run_status.", ".alerts_state.json.")
KNOWN_ENTRIES = frozenset({"bronze", "silver", "agents", "signals", "portfolio", "risk", "report", "logs",
                           "benchmarks", "backtest", "run_status.json", "run_status.md", "alerts_state.json",
                           "snakemake_report.zip", MARKER})


class GuardError(ValueError):
    """A setting that must stop the workflow before any job."""


def check_results_dir(results: str | os.PathLike[str]) -> Path:
    """Refuse a system folder, or an existing non-empty folder brmacro did not create; return the path.

    A folder is brmacro's when it holds :data:`MARKER`, or only entries brmacro writes (a results folder
    from before the marker).
    """
    p = Path(os.path.abspath(os.path.expanduser(str(results))))
    home = Path(os.path.expanduser("~")).resolve()
    real = p.resolve() if p.exists() else p
    for cand in {p, real}:
        s = str(cand)
        if s in SYSTEM_ROOTS or cand == home or any(s == t or s.startswith(t + "/") for t in SYSTEM_TREES):
            raise GuardError(f"config results={results!r} resolves to {cand}, a system folder: choose a folder of "
                             "its own, e.g. results")
    if real.exists():
        if not real.is_dir():
            raise GuardError(f"config results={results!r}: {real} exists and is not a folder")
        # temporary files of brmacro's atomic writes (left by a killed run) are brmacro's too
        entries = {e.name for e in real.iterdir() if not e.name.startswith(TEMP_PREFIXES)}
        if entries and MARKER not in entries and not entries <= KNOWN_ENTRIES:
            strange = sorted(entries - KNOWN_ENTRIES)[:5]
            raise GuardError(
                f"config results={results!r}: {real} is a non-empty folder brmacro did not create (it holds "
                f"{strange}); choose an empty or new folder"
            )
    return p


def mark_results_dir(results: str | os.PathLike[str]) -> None:
    """Create the results folder if needed and write :data:`MARKER` in it (idempotent)."""
    p = Path(results)
    p.mkdir(parents=True, exist_ok=True)
    m = p / MARKER
    if not m.exists():
        m.write_text("This folder holds brmacro artifacts (brmacro.guards).\n", encoding="utf-8")


def check_backtest_range(dates: Sequence[dt.date], lookback_sessions: int) -> None:
    """Refuse a backtest range that cannot be covered before planning its jobs.

    A range of any length is covered by chaining the ``silver_returns`` of several of its sessions
    (:func:`brmacro.pipeline.backtest_returns_sessions`), each holding ``silver.lookback_sessions`` sessions; the
    windows must overlap by a session, so the lookback must be at least 3 sessions. An empty range is refused too.
    """
    if not dates:
        raise GuardError("backtest: the range has no B3 session")
    if int(lookback_sessions) < 3:
        raise GuardError(
            f"backtest {dates[0]}..{dates[-1]}: silver.lookback_sessions = {lookback_sessions} is too short to chain "
            "the silver_returns windows that cover the range (at least 3)"
        )


def check_live_sessions(source: str, dates: Sequence[dt.date], now: dt.datetime | None = None) -> None:
    """Refuse ``source: live`` for a session that has not completed (its data is not published yet)."""
    if source != "live" or not dates:
        return
    from brmacro.calendar import latest_session

    latest = latest_session(now)
    future = [d for d in dates if d > latest]
    if future:
        raise GuardError(
            f"source=live: session {future[0]} has not completed yet (the latest completed B3 session is {latest}); "
            "live data for it does not exist. Use an earlier date, or source=demo"
        )
