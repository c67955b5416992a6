"""The daily report of the shared demo run renders in headless Chromium without console errors."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import SESSIONS

pytestmark = pytest.mark.workflow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--enable-logging=stderr", "--v=0",
]


@pytest.mark.skipif(
    CHROMIUM is None and os.environ.get("CI") != "true",
    reason="needs Debian's chromium (root-installed; .ci/run installs it, so CI never skips this)",
)
def test_report_renders_in_headless_chromium(demo_run: Path, tmp_path: Path) -> None:
    assert CHROMIUM, "chromium is not installed (CI must install it: see .ci/run)"
    html = demo_run / "results" / "report" / "daily_report" / f"date={SESSIONS[-1]}" / "report.html"
    shot = tmp_path / "report.png"
    profile = tmp_path / "profile"
    proc = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", f"--screenshot={shot}", "--window-size=1280,4000",
         html.as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    assert shot.exists() and shot.stat().st_size > 10_000, proc.stderr[-2000:]
    console = [line for line in proc.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == [], console
    dom = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", html.as_uri()],
        capture_output=True, text=True, timeout=120,
    ).stdout
    for section in ("Summary", "Market snapshot", "Rates desk", "Regime", "Agent views", "Signals", "Portfolio",
                    "Risk", "Actions", "Track record", "Input sanity"):
        assert section.lower() in dom.lower(), f"section {section!r} missing from the rendered page"
