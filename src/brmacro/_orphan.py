"""Worker processes die with the process that opened the pool, and never write after it (brmacro.pool).

Imported by the forkserver (``set_forkserver_preload``): on import there it asks Linux to SIGKILL the
forkserver when its parent (the process that opened the pool, named by ``BRMACRO_POOL_OWNER``) dies.
Each worker calls :func:`guard_worker` (the pool's initializer): SIGKILL when its own parent, the
forkserver, dies; a watchdog thread that exits the worker as soon as the owner is gone (the fallback where
``prctl`` is unavailable); and :func:`owner_alive` which :func:`brmacro.io.write_table` checks just before
the atomic rename, so a worker orphaned mid-job never publishes an artifact.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading

__all__ = ["OWNER_ENV", "guard_worker", "owner_alive", "set_parent_death_signal"]

OWNER_ENV = "BRMACRO_POOL_OWNER"
_PR_SET_PDEATHSIG = 1
_OWNER: int | None = None


def set_parent_death_signal(sig: int = signal.SIGKILL) -> bool:
    """``prctl(PR_SET_PDEATHSIG, sig)`` on Linux: this process gets ``sig`` when its parent dies. True if set."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def owner_alive() -> bool:
    """Whether the process that opened the pool still runs (always True outside a worker)."""
    if _OWNER is None:
        return True
    if os.getppid() == 1:  # re-parented to init: our parent chain is gone
        return False
    try:
        os.kill(_OWNER, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else: the pid was reused, the owner is gone
        return False
    return True


def _watch(interval: float) -> None:
    while True:
        threading.Event().wait(interval)
        if not owner_alive():
            os._exit(70)  # no cleanup handlers: they could write


def guard_worker(owner: int, interval: float = 0.5) -> None:
    """Initializer of a pool worker: die with the forkserver, and exit once ``owner`` is gone."""
    global _OWNER
    _OWNER = owner
    set_parent_death_signal()
    threading.Thread(target=_watch, args=(interval,), name="brmacro-owner-watch", daemon=True).start()
    if not owner_alive():
        os._exit(70)


def _in_forkserver() -> None:
    owner = os.environ.get(OWNER_ENV)
    if owner and owner.isdigit() and os.getppid() == int(owner):
        set_parent_death_signal()
        if os.getppid() != int(owner):  # the owner died before the signal was armed
            os._exit(70)


_in_forkserver()
