"""The Slurm profile on a real single-node Slurm cluster (tests/cluster/run_slurm_check.sh).

Runs only when ``BRMACRO_SLURM_TEST=1`` (CI sets it): it needs root (it installs and starts munge,
slurmctld and slurmd) and takes a few minutes.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from brmacro.pipeline import STEPS

HERE = Path(__file__).resolve().parent
CHECK = HERE / "run_slurm_check.sh"
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


def test_slurm_profile_end_to_end() -> None:
    """The demo session built through profiles/slurm and as one sbatch job equals the local run, byte for byte."""
    if os.geteuid() != 0:
        pytest.fail("BRMACRO_SLURM_TEST=1 but not root: the check must install and start Slurm daemons")
    # The interpreter whose environment has the Slurm plugin (.ci/run keeps it out of the test venv).
    env = {**os.environ, "PYTHON": os.environ.get("BRMACRO_SLURM_PYTHON", sys.executable)}
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
