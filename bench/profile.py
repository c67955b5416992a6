"""Profile of the floor: where one session's cost goes, per step and per kind of cost.

Usage: python -m bench.profile RESULTS_DIR START [END] [--top N] [--pstats FILE] [--targets-only] [--no-profile]

Builds every (asset, session) the floor builds (``bench/floor.py``: the same library calls as a Snakemake run,
one plain process, the code versions computed once and the workers' garbage-collector policy unless
``--default-gc``), under cProfile, and prints

- per step: partitions built, total and mean CPU seconds;
- per kind of cost (cumulative seconds of the named library functions, nested calls counted once by the
  outermost): Parquet reads (``brmacro.io.read_table``), Parquet writes with the schema check
  (``brmacro.io.write_table``), model fits (cvxpy solves, the HMM, statsmodels), the rest of the step bodies;
- the top functions by own time (``tottime``).

Times are CPU seconds of this process (``time.process_time``, for the profile as well), so a machine shared
with other work changes them little; the cProfile overhead inflates pure-Python code more than numpy/Arrow code,
so compare them with each other and with a run before/after, not with the floor's wall time.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import os
import pstats
import time
from collections import defaultdict
from pathlib import Path

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import yaml  # noqa: E402

from brmacro.calendar import sessions_between  # noqa: E402
from brmacro.pipeline import STEPS, build_partition, code_versions, plan  # noqa: E402
from brmacro.pool import settle_gc  # noqa: E402

REPO = Path(__file__).resolve().parents[1]

#: kind of cost -> (file suffix, function name) whose cumulative time counts for it
KINDS: dict[str, list[tuple[str, str]]] = {
    "Parquet read + schema check (io.read_table)": [("brmacro/io.py", "read_table")],
    "Parquet write + schema conform (io.write_table)": [("brmacro/io.py", "write_table")],
    "solver (cvxpy Problem.solve)": [("cvxpy/problems/problem.py", "solve")],
    "HMM fit (hmmlearn fit)": [("hmmlearn/base.py", "fit")],
    "statsmodels fits": [("statsmodels/base/model.py", "fit"), ("statsmodels/regression/linear_model.py", "fit")],
}


def _cum(stats: pstats.Stats, suffix: str, func: str) -> float:
    tot = 0.0
    for (fname, _line, name), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if name == func and fname.endswith(suffix):
            tot += ct
    return tot


def _plain(per_step: dict[str, list[float]], per_session: dict[dt.date, float], cpu: float, n: int) -> None:
    """Print CPU seconds per step and per session, measured without cProfile."""
    print(f"built {n} partitions of {len(per_session)} sessions in {cpu:.2f} CPU s (no profiler)")
    print("\n| session | CPU s |\n| --- | --- |")
    for d, s in sorted(per_session.items()):
        print(f"| {d} | {s:.2f} |")
    later = sorted(per_session.items())[1:]
    if later:
        print(f"| mean of the sessions after the first (no imports) | {sum(s for _, s in later) / len(later):.2f} |")
    print("\n| step | partitions | total CPU s | mean CPU s | mean after the first |\n| --- | --- | --- | --- | --- |")
    for asset, ts in sorted(per_step.items(), key=lambda kv: -sum(kv[1])):
        rest = ts[1:] or ts
        print(f"| {asset} | {len(ts)} | {sum(ts):.2f} | {sum(ts) / len(ts):.3f} | {sum(rest) / len(rest):.3f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results")
    ap.add_argument("start")
    ap.add_argument("end", nargs="?")
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--pstats", help="write the raw profile here (for snakeviz / pstats)")
    ap.add_argument("--no-profile", action="store_true",
                    help="CPU seconds per step and per session without cProfile (its overhead inflates pandas code)")
    ap.add_argument("--targets-only", action="store_true",
                    help="build only the partitions of START..END (their earlier sessions must exist already)")
    ap.add_argument("--default-gc", action="store_true",
                    help="Python's garbage-collector policy instead of the workers' (brmacro.pool.settle_gc)")
    args = ap.parse_args()
    start = dt.date.fromisoformat(args.start)
    end = dt.date.fromisoformat(args.end) if args.end else start
    with open(REPO / "config" / "config.yaml") as fh:
        config = yaml.safe_load(fh)
    if not args.default_gc:
        settle_gc()
    code = code_versions()
    todo = plan(list(STEPS), sessions_between(start, end))
    if args.targets_only:
        todo = [(a, d) for a, d in todo if start <= d <= end]
    per_step: dict[str, list[float]] = defaultdict(list)
    per_session: dict[dt.date, float] = defaultdict(float)
    prof = cProfile.Profile(time.process_time)
    t_all = time.process_time()
    for asset, d in todo:
        t0 = time.process_time()
        if not args.no_profile:
            prof.enable()
        build_partition(args.results, asset, d, config, code=code)
        if not args.no_profile:
            prof.disable()
        per_step[asset].append(time.process_time() - t0)
        per_session[d] += per_step[asset][-1]
    cpu = time.process_time() - t_all
    if args.no_profile:
        _plain(per_step, per_session, cpu, len(todo))
        return
    if args.pstats:
        prof.dump_stats(args.pstats)
    stats = pstats.Stats(prof)
    sessions = len({d for _, d in todo})
    print(f"built {len(todo)} partitions of {sessions} sessions in {cpu:.1f} CPU s (cProfile on)")
    print("\n| step | partitions | total CPU s | mean CPU s |\n| --- | --- | --- | --- |")
    for asset, ts in sorted(per_step.items(), key=lambda kv: -sum(kv[1])):
        print(f"| {asset} | {len(ts)} | {sum(ts):.2f} | {sum(ts) / len(ts):.3f} |")
    total = sum(sum(ts) for ts in per_step.values())
    print("\n| kind of cost | s | share |\n| --- | --- | --- |")
    for kind, funcs in KINDS.items():
        s = sum(_cum(stats, suf, fn) for suf, fn in funcs)
        print(f"| {kind} | {s:.2f} | {s / total:.0%} |")
    print(f"| all steps | {total:.2f} | 100% |")
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(args.top)
    print("\n" + buf.getvalue())
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats("brmacro", args.top)
    print(buf.getvalue())


if __name__ == "__main__":
    main()
