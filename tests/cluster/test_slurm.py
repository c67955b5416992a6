"""The Slurm profile on a real single-node Slurm cluster (tests/cluster/run_slurm_check.sh).

Runs only when ``BRMACRO_SLURM_TEST=1`` (CI sets it): it needs root (it installs and starts munge,
slurmctld and slurmd) and takes a few minutes.

The Slurm executor plugin is kept out of the test environment (once Slurm is installed it asks ``scontrol`` at
every Snakemake start, which waits 9 s whenever no controller is up: docs/performance.md). The interpreter of
``BRMACRO_SLURM_PYTHON`` is used when set (an environment built with ``pip install -e ".[cluster]"``); otherwise
the test installs the ``cluster`` extra's two pinned plugins, without dependencies, into a folder of its own put
on ``PYTHONPATH`` for the check's processes only (their dependencies are the project's own, already installed:
pip's resolver first checks, without installing, that ``.[cluster]`` resolves together with them).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from brmacro.pipeline import STEPS

HERE = Path(__file__).resolve().parent
CHECK = HERE / "run_slurm_check.sh"
REPO = HERE.parents[1]
#: The session the check builds three times (local and one sbatch job cold, then the Slurm executor on the
#: local run's other sessions): the first B3 session of November 2026, so the report's default ``mtd`` track
#: record reads no earlier session and each cold run builds the smallest fan-out (132 partitions; the
#: script's default 2026-11-24 builds 326).
SESSION = "2026-11-03"

pytestmark = pytest.mark.skipif(
    os.environ.get("BRMACRO_SLURM_TEST") != "1",
    reason="Slurm end-to-end check is opt-in: set BRMACRO_SLURM_TEST=1 (needs root; installs and starts "
    "a single-node Slurm with munge, slurmctld and slurmd)",
)


def plugin_env(tmp: Path) -> dict[str, str]:
    """The environment of the check: ``BRMACRO_SLURM_PYTHON``'s interpreter, or this one with the ``cluster``
    extra's plugins installed under ``tmp`` and put on ``PYTHONPATH`` (module docstring)."""
    if os.environ.get("BRMACRO_SLURM_PYTHON"):
        return {**os.environ, "PYTHON": os.environ["BRMACRO_SLURM_PYTHON"]}
    pins = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]["cluster"]
    pip = [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    for args in ([*pip, "--dry-run", f"{REPO}[cluster]"], [*pip, "--no-deps", "--target", str(tmp), *pins]):
        proc = subprocess.run(args, capture_output=True, text=True, timeout=600, check=False)
        assert proc.returncode == 0, f"{' '.join(args)} failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
    path = os.pathsep.join(x for x in (str(tmp), os.environ.get("PYTHONPATH", "")) if x)
    return {**os.environ, "PYTHON": sys.executable, "PYTHONPATH": path}


def test_slurm_profile_end_to_end(tmp_path: Path) -> None:
    """The demo session built through profiles/slurm and as one sbatch job equals the local run, byte for byte."""
    if os.geteuid() != 0:
        pytest.fail("BRMACRO_SLURM_TEST=1 but not root: the check must install and start Slurm daemons")
    env = plugin_env(tmp_path / "plugins")
    proc = subprocess.run(
        ["bash", str(CHECK), SESSION], capture_output=True, text=True, timeout=3600, env=env, check=False
    )
    out = proc.stdout + proc.stderr
    sys.stdout.write(out)  # wall times and job counts show with `pytest -s` or on failure
    assert proc.returncode == 0, f"run_slurm_check.sh failed ({proc.returncode}):\n{out[-6000:]}"
    summary = re.search(r"OK session=\S+ slurm_jobs=(\d+) rule_jobs=(\d+)", out)
    assert summary, f"no summary line in the check's output:\n{out[-3000:]}"
    slurm_jobs, rule_jobs = int(summary[1]), int(summary[2])
    # The executor route built exactly the session's steps, and grouping bundled them: far fewer Slurm jobs.
    assert rule_jobs == len(STEPS)
    assert 0 < slurm_jobs < rule_jobs
    assert "identical" in out
    assert f"OK session={SESSION} " in out
