"""The worker pool dies with its parent (issue 17 item 6): SIGKILL of the parent's PID alone, as the OOM killer
does, leaves no forkserver or worker running and no artifact written after it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from brmacro._orphan import set_parent_death_signal
from tests.faults.conftest import Tally, wait_for

PARENT = textwrap.dedent(
    """
    import datetime as dt, os, sys, time
    from pathlib import Path
    from brmacro import pool
    import tests.faults.test_orphans as t

    out = Path(sys.argv[1])
    assert pool.start(2)
    fut = pool._POOL.submit(t.slow_write, str(out), str(out.parent / "go"))
    print(os.getpid(), flush=True)
    fut.result()
    """
)


def slow_write(path: str, go: str) -> None:
    """In a worker: report its pid, wait for the test's go file, then write an artifact atomically."""
    import datetime as dt
    import time

    import pandas as pd

    from brmacro.io import Col, Schema, write_table

    Path(path).with_suffix(f".pid{os.getpid()}").write_text(str(os.getppid()))
    while not Path(go).exists():
        time.sleep(0.05)
    schema = Schema("orphan_test", (Col("x", "float"),))
    write_table(pd.DataFrame({"x": [1.0]}), path, schema, asof=dt.date(2026, 11, 24), source="demo")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(")")[-1].split()[0] == "Z")


def _children(pid: int) -> set[int]:
    """Every live descendant of ``pid`` (from /proc)."""
    kids: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().split(")")[-1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            kids.setdefault(ppid, []).append(int(d.name))
    out: set[int] = set()
    stack = [pid]
    while stack:
        for c in kids.get(stack.pop(), []):
            out.add(c)
            stack.append(c)
    return out


def test_parent_death_signal_is_available_on_linux() -> None:
    if sys.platform.startswith("linux"):
        assert set_parent_death_signal(0)  # 0 clears it: the call itself works here


def test_sigkill_of_the_parent_alone_leaves_no_worker_and_no_late_artifact(tmp_path: Path, tally: Tally) -> None:
    out = tmp_path / "late.parquet"
    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": f"{repo}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(out)], stdout=subprocess.PIPE, text=True, env=env,
                              cwd=repo)
    try:
        assert parent.stdout is not None
        ppid = int(parent.stdout.readline())
        assert wait_for(lambda: any(tmp_path.glob("late.pid*")), parent, timeout=120), "the job never started"
        descendants = _children(ppid)
        assert len(descendants) >= 2  # the forkserver and its workers
        os.kill(ppid, signal.SIGKILL)  # the parent only, never its group
        parent.wait(timeout=60)
        (tmp_path / "go").write_text("")  # the orphaned job would now write, if it still ran
        gone = wait_for(lambda: not any(_alive(p) for p in descendants), timeout=60, step=0.1)
    finally:
        for p in _children(parent.pid) if parent.poll() is None else set():
            os.kill(p, signal.SIGKILL)
    survivors = [p for p in descendants if _alive(p)]
    for p in survivors:  # clean up before failing
        os.kill(p, signal.SIGKILL)
    ok = gone and not out.exists() and not list(tmp_path.glob(".late.parquet.*"))
    tally.fault(survived=ok)
    assert ok, f"survivors {survivors}, artifact written: {out.exists()}"
