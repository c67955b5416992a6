"""scripts/daily against the real Snakefile: the report message on the demo run, failed sources named on failure."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, SESSIONS, workflow_copy

pytestmark = pytest.mark.workflow


def _daily(wd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    if not (wd / "scripts").exists():
        shutil.copytree(REPO / "scripts", wd / "scripts")
    env = {**os.environ, "BRMACRO_PYTHON": sys.executable, "PYTHONHASHSEED": "0"}
    for k in ("BRMACRO_SLACK_WEBHOOK_URL", "BRMACRO_SMTP_HOST"):
        env.pop(k, None)
    return subprocess.run([str(wd / "scripts" / "daily"), "--no-send", *args], cwd=wd, capture_output=True,
                          text=True, timeout=1200, env=env)


def test_daily_sends_the_report_of_the_demo_run(demo_run: Path) -> None:
    out = _daily(demo_run, "--config", f"start={SESSIONS[0]}", f"end={SESSIONS[-1]}")
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"Subject: brmacro report {SESSIONS[-1]}" in out.stdout
    html = demo_run / "results" / "report" / "daily_report" / f"date={SESSIONS[-1]}" / "report.html"
    assert f"Report: {html.resolve()}" in out.stdout
    assert f"# brmacro daily report — {SESSIONS[-1]}" in out.stdout  # the summary comes from report.md
    assert not (demo_run / "results" / "daily.pid").exists()
    assert list((demo_run / "results" / "logs" / "daily").glob("*.log"))


def test_daily_names_the_failed_sources(tmp_path: Path) -> None:
    wd = workflow_copy(tmp_path / "wd")
    dead = "http://127.0.0.1:9"  # discard port: nothing listens
    sources = ("bcb_sgs", "fred", "yahoo", "bcb_ptax", "b3_market_data", "treasury_gov", "bcb_focus")
    override = {"live": {"cache_dir": str(tmp_path / "cache"), "retries": 0, "timeout_seconds": 2,
                         "sources": {s: {"base_url": dead} for s in sources}}}
    (wd / "dead.yaml").write_text(yaml.safe_dump(override))
    out = _daily(wd, "--cores", "1", "bronze_all", "--configfile", "dead.yaml", "--config", f"date={SESSIONS[0]}",
                 "source=live")
    assert out.returncode != 0
    assert f"Subject: brmacro daily run FAILED for {SESSIONS[0]}" in out.stdout, out.stdout + out.stderr
    line = next(ln for ln in out.stdout.splitlines() if "failed sources:" in ln)
    for s in sources:
        assert f"bronze_{s}" in line
    assert "steps without artifacts: silver_curves" in out.stdout
