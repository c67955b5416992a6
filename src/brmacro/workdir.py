"""Copy the workflow's own files into a fresh working directory (tests, benchmarks, cluster checks)."""

from __future__ import annotations

import shutil
from pathlib import Path

__all__ = ["WORKFLOW_DIRS", "copy_workflow"]

WORKFLOW_DIRS = ("rules", "config", "profiles", "report")


def copy_workflow(repo: str | Path, dest: str | Path) -> Path:
    """A working directory holding the workflow (Snakefile, rules, config, profiles, report captions)."""
    repo, dest = Path(repo), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(repo / "Snakefile", dest / "Snakefile")
    for d in WORKFLOW_DIRS:
        shutil.copytree(repo / d, dest / d, dirs_exist_ok=True)
    return dest
