"""Fault suite: shared helpers, the ``tally`` of injected faults and the summary printed at the end of pytest.

Every test of ``tests/faults`` records what it did in the session-scoped :class:`Tally` (faults injected and
survived, bad inputs tried and rejected with a message, artifacts checked and corrupt ones found);
:func:`pytest_terminal_summary` prints it in pytest's output (CI shows it).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

from brmacro.io import ArtifactError, read_table
from brmacro.pipeline import STEPS, all_schemas

FAKE_KEY = "FaKeFrEdKeY0123456789abcdef012345"  # set as FRED_API_KEY in every run of this suite


# ------------------------------------------------------------------------------------------------ tally

@dataclass
class Tally:
    """Counters of the fault suite (one per pytest session)."""

    faults_injected: int = 0
    faults_survived: int = 0
    bad_inputs_tried: int = 0
    bad_inputs_rejected: int = 0
    artifacts_checked: int = 0
    corrupt_found: int = 0
    kinds: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)

    def fault(self, n: int = 1, *, survived: bool) -> None:
        """Record ``n`` injected faults, survived (the run recovered or failed cleanly) or not."""
        self.faults_injected += n
        if survived:
            self.faults_survived += n

    def bad_input(self, kind: str, rejected: bool) -> None:
        """Record one bad input of ``kind``, rejected with a clear message (and no artifact) or not."""
        self.bad_inputs_tried += 1
        self.kinds.add(kind)
        if rejected:
            self.bad_inputs_rejected += 1

    def note(self, text: str) -> None:
        self.notes.append(text)

    def lines(self) -> list[str]:
        out = [
            f"faults injected:            {self.faults_injected}",
            f"faults survived:            {self.faults_survived}",
            f"bad inputs tried:           {self.bad_inputs_tried} ({len(self.kinds)} kinds)",
            f"rejected with a message:    {self.bad_inputs_rejected}",
            f"artifacts checked:          {self.artifacts_checked}",
            f"corrupt found (must be 0):  {self.corrupt_found}",
        ]
        return out + [f"note: {n}" for n in self.notes]


_TALLY = Tally()


@pytest.fixture(scope="session")
def tally() -> Tally:
    """The suite's counters (see :class:`Tally`)."""
    return _TALLY


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:  # noqa: ARG001
    t = _TALLY
    if not (t.faults_injected or t.bad_inputs_tried or t.artifacts_checked):
        return
    terminalreporter.write_sep("=", "brmacro fault suite")
    for line in t.lines():
        terminalreporter.write_line(line)


# ------------------------------------------------------------------------------------------------ artifacts

def check_artifacts(results: Path, tally: Tally) -> int:
    """Open every Parquet under ``results`` against its declared schema; count; fail on any corrupt or ``*.tmp``.

    Returns the number of artifacts checked.
    """
    schemas = all_schemas()
    n = 0
    corrupt: list[str] = []
    for p in sorted(results.rglob("*.parquet")):
        asset = p.parent.parent.name
        if asset not in STEPS or not p.parent.name.startswith("date="):
            continue  # e.g. the backtest table, not a partition
        n += 1
        try:
            read_table(p, schemas[asset][p.stem])
        except ArtifactError as exc:
            corrupt.append(f"{p}: {exc}")
    leftovers = [str(p) for p in results.rglob("*.tmp")]
    tally.artifacts_checked += n
    tally.corrupt_found += len(corrupt) + len(leftovers)
    assert corrupt == [], corrupt
    assert leftovers == [], f"temporary files left: {leftovers}"
    return n


# ------------------------------------------------------------------------------------------------ chaos server

@dataclass
class Answer:
    """What the chaos server answers to one request."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class ChaosServer:
    """An HTTP server on 127.0.0.1 answering EVERY path with ``plan(path, query, n)``.

    ``n`` is the 0-based number of earlier requests of the same path+query. Requests are recorded in
    ``requests`` as ``(path, query)``.
    """

    def __init__(self, plan: Callable[[str, dict[str, str], int], Answer]) -> None:
        self.plan = plan
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.raw: list[str] = []
        self._seen: dict[str, int] = {}
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self.release = threading.Event()

    def __enter__(self) -> ChaosServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                path = unquote(parts.path)
                query = dict(parse_qsl(parts.query, keep_blank_values=True))
                with server._lock:
                    server.requests.append((path, query))
                    server.raw.append(self.path)
                    n = server._seen.get(self.path, 0)
                    server._seen[self.path] = n + 1
                ans = server.plan(path, query, n)
                if ans.delay:
                    server.release.wait(ans.delay)
                try:
                    self.send_response(ans.status)
                    self.send_header("Content-Length", str(len(ans.body)))
                    for k, v in ans.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(ans.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    @property
    def url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"


@pytest.fixture()
def chaos() -> Iterator[Callable[[Callable[[str, dict[str, str], int], Answer]], ChaosServer]]:
    """Factory of started :class:`ChaosServer` s, stopped at the end of the test."""
    started: list[ChaosServer] = []

    def make(plan: Callable[[str, dict[str, str], int], Answer]) -> ChaosServer:
        s = ChaosServer(plan).__enter__()
        started.append(s)
        return s

    yield make
    for s in started:
        s.__exit__()


# ------------------------------------------------------------------------------------------------ processes

def snakemake_env() -> dict[str, str]:
    return {**os.environ, "PYTHONHASHSEED": "0", "FRED_API_KEY": FAKE_KEY}


def snakemake_exe() -> str:
    return str(Path(sys.executable).with_name("snakemake"))


def run_snakemake(wd: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    """The Snakemake CLI in ``wd`` with the fake FRED key in the environment (never checks the return code)."""
    return subprocess.run([snakemake_exe(), *args], cwd=wd, capture_output=True, text=True, timeout=timeout,
                          env=snakemake_env())


def start_snakemake(wd: Path, *args: str, out: Path) -> subprocess.Popen[bytes]:
    """Start the Snakemake CLI in its own process group (so a SIGKILL reaches only what this test started)."""
    fh = out.open("wb")
    return subprocess.Popen([snakemake_exe(), *args], cwd=wd, stdout=fh, stderr=subprocess.STDOUT,
                            env=snakemake_env(), start_new_session=True)


def kill_hard(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process group of a Snakemake started by :func:`start_snakemake` and reap it."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)


def wait_for(cond: Callable[[], bool], proc: subprocess.Popen[bytes] | None = None, timeout: float = 240.0,
             step: float = 0.01) -> bool:
    """Poll ``cond`` until true (True), the process exits or the timeout passes (False)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if cond():
            return True
        if proc is not None and proc.poll() is not None:
            return cond()
        time.sleep(step)
    return False


def copy_results(src: Path, dst: Path) -> None:
    """Copy a finished run's ``results`` (artifacts only, mtimes kept) into a fresh working directory."""
    shutil.copytree(src / "results", dst / "results", ignore=shutil.ignore_patterns("run_status.*", "logs",
                                                                                      "benchmarks"))


def remove_partitions(results: Path, assets: list[str], date: str) -> None:
    from brmacro.pipeline import partition_paths

    for a in assets:
        base = results / STEPS[a].layer / a / f"date={date}"
        shutil.rmtree(base, ignore_errors=True)
        assert not any(p.exists() for p in partition_paths(results, a, date).values())


def session(d: str) -> dt.date:
    return dt.date.fromisoformat(d)

