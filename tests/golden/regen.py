"""Regenerate ``tests/golden/figures.csv`` on purpose: ``python -m tests.golden.regen [--results DIR]``.

Without ``--results`` it runs the real demo pipeline (Snakemake, ``--cores 2``) for the two sessions of the
workflow tests in a temporary copy of the workflow (~1-3 min on 2 idle cores); with ``--results DIR`` it
reads an existing run's ``results/`` that holds both sessions. It prints what changed against the committed
table, then overwrites it: review that diff in the commit that changes the maths.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from tests.conftest import SESSIONS, snakemake, workflow_copy
from tests.golden.figures import GOLDEN, compare, extract, load, save


def main(argv: list[str] | None = None) -> int:
    """Command line (module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", type=Path, help="an existing results/ directory holding both sessions")
    ap.add_argument("--out", type=Path, default=GOLDEN)
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="brmacro-golden-") as tmp:
        results = a.results
        if results is None:
            wd = workflow_copy(Path(tmp) / "wd")
            print(f"running the demo pipeline for {', '.join(SESSIONS)} in {wd} ...", flush=True)
            snakemake(wd, "--cores", "2", "--config", f"start={SESSIONS[0]}", f"end={SESSIONS[-1]}")
            results = wd / "results"
        figs = [f for s in SESSIONS for f in extract(results, s)]
    if a.out.exists():
        diff = compare(load(a.out), figs)
        print(f"{len(diff)} figure(s) changed against {a.out}:" if diff else f"no change against {a.out}")
        for line in diff:
            print("  " + line)
    save(figs, a.out)
    print(f"wrote {len(figs)} figures to {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
