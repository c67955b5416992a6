"""The floor: the same library calls as a Snakemake run, for the same sessions, in one plain Python process.

Usage: python bench/floor.py RESULTS_DIR START [END]
Builds every (asset, session) that `snakemake --config start=START end=END` would, in dependency order,
with no orchestration at all.
"""

from __future__ import annotations

import datetime as dt
import os
import sys

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import yaml

from brmacro.calendar import sessions_between
from brmacro.pipeline import STEPS, build_partition, plan


def main() -> None:
    results, start = sys.argv[1], dt.date.fromisoformat(sys.argv[2])
    end = dt.date.fromisoformat(sys.argv[3]) if len(sys.argv) > 3 else start
    with open(os.path.join(os.path.dirname(__file__), "..", "config", "config.yaml")) as fh:
        config = yaml.safe_load(fh)
    todo = plan(list(STEPS), sessions_between(start, end))
    for asset, d in todo:
        build_partition(results, asset, d, config)
    print(f"floor: built {len(todo)} partitions")


if __name__ == "__main__":
    main()
