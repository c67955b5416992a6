"""Shared fixtures: one real Snakemake run of the demo pipeline, reused by every workflow test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from brmacro.workdir import copy_workflow

REPO = Path(__file__).resolve().parents[1]
# Two consecutive sessions; their fan-out (monitor and limits read previous sessions) builds a week more.
SESSIONS = ("2026-11-23", "2026-11-24")


def workflow_copy(dest: Path) -> Path:
    """A working directory holding the workflow's files (Snakefile, rules, config, profiles, report)."""
    return copy_workflow(REPO, dest)


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


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo pipeline run once for :data:`SESSIONS` (all 23 assets); returns its working directory."""
    wd = workflow_copy(tmp_path_factory.mktemp("demo_run"))
    snakemake(wd, "--cores", "2", "--config", f"start={SESSIONS[0]}", f"end={SESSIONS[-1]}")
    return wd
