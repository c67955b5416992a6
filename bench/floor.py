"""The floor: the same library calls as a Snakemake run, for the same sessions, in one plain Python process.

Usage: python bench/floor.py RESULTS_DIR START [END] [--default-gc]
Builds every (asset, session) that `snakemake --config start=START end=END` would, in dependency order,
with no orchestration at all. As in a run, the steps' code versions are computed once, and the process takes the
workers' garbage-collector policy (``brmacro.pool.settle_gc``) unless ``--default-gc`` keeps Python's.
"""

from __future__ import annotations

import datetime as dt
import os
import sys

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import yaml

from brmacro.calendar import sessions_between
from brmacro.pipeline import STEPS, build_partition, code_versions, plan
from brmacro.pool import settle_gc


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--default-gc"]
    results, start = args[0], dt.date.fromisoformat(args[1])
    end = dt.date.fromisoformat(args[2]) if len(args) > 2 else start
    with open(os.path.join(os.path.dirname(__file__), "..", "config", "config.yaml")) as fh:
        config = yaml.safe_load(fh)
    if "--default-gc" not in sys.argv:
        settle_gc()
    todo = plan(list(STEPS), sessions_between(start, end))
    code = code_versions()
    for asset, d in todo:
        build_partition(results, asset, d, config, code=code)
    print(f"floor: built {len(todo)} partitions")


if __name__ == "__main__":
    main()
