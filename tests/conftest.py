"""Shared fixtures: one real Snakemake run of the demo pipeline, reused by every workflow test."""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from brmacro.workdir import copy_workflow

REPO = Path(__file__).resolve().parents[1]
# Two consecutive sessions; their fan-out (monitor and limits read previous sessions) builds a week more.
SESSIONS = ("2026-11-23", "2026-11-24")
#: What every test run sets over config/config.yaml. The report's track record starts at the first test session
#: instead of the default ``mtd``, whose window (November 3 .. 24) makes a cold run build ~2x the jobs (331
#: instead of 156 for :data:`SESSIONS`). The default window is still planned by the real Snakefile
#: (tests/workflow/test_workflow.py::test_the_default_track_record_window_is_planned_by_snakemake), run whole
#: by ``bench.run`` and tested in-process (tests/unit/test_report_summary.py).
TEST_CONFIG: dict[str, Any] = {"report": {"track_record": SESSIONS[0]}}


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    for k, v in over.items():
        base[k] = _merge(base.get(k) or {}, v) if isinstance(v, dict) else v
    return base


def run_config() -> dict[str, Any]:
    """config/config.yaml with :data:`TEST_CONFIG` over it: the config of every test's working directory."""
    return _merge(copy.deepcopy(yaml.safe_load((REPO / "config" / "config.yaml").read_text())), TEST_CONFIG)


def workflow_copy(dest: Path) -> Path:
    """A working directory holding the workflow's files (Snakefile, rules, config, profiles, report).

    Its config/config.yaml is :func:`run_config` (the repository's with :data:`TEST_CONFIG` over it).
    """
    wd = copy_workflow(REPO, dest)
    (wd / "config" / "config.yaml").write_text(yaml.safe_dump(run_config(), sort_keys=False, allow_unicode=True))
    return wd


def snakemake(workdir: Path, *args: str, check: bool = True, timeout: int = 1200) -> subprocess.CompletedProcess[str]:
    """Run the real Snakemake CLI of this interpreter's environment in ``workdir``."""
    exe = Path(sys.executable).with_name("snakemake")
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    proc = subprocess.run(
        [str(exe), *args], cwd=workdir, capture_output=True, text=True, timeout=timeout, env=env
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def job_counts(out: str) -> dict[str, int]:
    """Rule -> job count from Snakemake's ``Job stats`` table (empty when there is nothing to be done)."""
    counts: dict[str, int] = {}
    if "Job stats:" not in out:
        return counts
    for line in out.split("Job stats:", 1)[1].splitlines()[3:]:
        m = re.match(r"^(\w+)\s+(\d+)$", line.strip())
        if not m:
            break
        counts[m.group(1)] = int(m.group(2))
    return counts


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo pipeline run once for :data:`SESSIONS` (all 23 assets); returns its working directory."""
    wd = workflow_copy(tmp_path_factory.mktemp("demo_run"))
    snakemake(wd, "--cores", "2", "--config", f"start={SESSIONS[0]}", f"end={SESSIONS[-1]}")
    return wd


@pytest.fixture(scope="session")
def batch_layout_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The demo pipeline for the last of :data:`SESSIONS` alone in ``layout=batch``, cold: the target session by the
    batch rules (one job per session group and month), the earlier sessions it reads by the session rules (4 jobs
    per session), so one run exercises both grouped layouts.

    Returns its working directory and Snakemake's output. Shared by the layout tests (tests/workflow): copy the
    directory before changing anything in it.
    """
    wd = workflow_copy(tmp_path_factory.mktemp("batch_layout_run"))
    out = snakemake(wd, "--cores", "2", "--config", f"date={SESSIONS[-1]}", "layout=batch")
    return wd, out.stdout + out.stderr
