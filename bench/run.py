"""brmacro benchmark suite: every figure side by side in one run, written to bench/RESULTS.md.

Usage
-----
    .venv/bin/python -m bench.run            # the full suite (about 37 minutes on 2 cores)
    .venv/bin/python -m bench.run --quick    # a short version (the smallest fan-out: 1 session of 2026-11-03 in
                                             # the step layout, a 5-session backfill to 2026-11-09 and small dry
                                             # runs in the session layout, kernels on 2026-11-03) so it cannot rot

Figures: the daily run (one session, cold, whole graph) against the floor (the same library calls in one plain
Python process), backfills, dry runs (graph building), the no-op rerun, and kernel medians. Timings are
measurements, never test assertions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable
SNAKEMAKE = str(Path(PY).with_name("snakemake"))
DAY = "2026-11-24"
#: --quick: the first B3 session of November 2026 (the 2nd is a holiday), so the report's default ``mtd`` track
#: record reads no earlier session of the month and a cold run builds the smallest fan-out (132 partitions
#: instead of DAY's 326); its 5-session backfill ends on the 9th (the same month: 225 instead of 343).
QUICK_DAY, QUICK_BACKFILL_END = "2026-11-03", "2026-11-09"


def workdir(root: Path, name: str) -> Path:
    from brmacro.workdir import copy_workflow

    return copy_workflow(REPO, root / name)


def measure(cwd: Path, *cmd: str) -> dict[str, float]:
    out = subprocess.run([PY, str(REPO / "bench" / "measure.py"), str(cwd), *cmd], capture_output=True, text=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    if res["rc"] != 0:
        raise SystemExit(f"benchmark command failed: {' '.join(cmd)}\n{res['tail']}")
    return res


def sessions_back(end: str, n: int) -> str:
    from brmacro.calendar import previous_sessions

    return previous_sessions(dt.date.fromisoformat(end), n - 1)[0].isoformat()


def med(xs: list[float]) -> float:
    return statistics.median(xs)


def kernel_timings(reps: int, day: str, root: Path) -> dict[str, float]:
    """Median seconds of the heavy kernels on a real demo session built under ``root`` (one BLAS thread, as in the
    pipeline)."""
    from threadpoolctl import threadpool_limits

    from bench.kernels import kernels

    out: dict[str, float] = {}
    with threadpool_limits(limits=1):
        for name, fn in kernels(root, dt.date.fromisoformat(day)).items():
            fn()  # warm-up: imports and first-call caches are not the kernel
            times = []
            for _ in range(reps):
                t0 = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t0)
            out[name] = med(times)
    return out


def snakemake_run(wd: Path, *config: str, dry: bool = False) -> dict[str, float]:
    flags = ["-n"] if dry else ["--cores", "2"]
    return measure(wd, SNAKEMAKE, *flags, "--quiet", "--config", *config)


def fmt(r: dict[str, float]) -> str:
    return f"{r['wall_s']:.1f} s, {r['peak_mb']:.0f} MB"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="short version for CI: 5 sessions, small dry runs")
    ap.add_argument("--reps", type=int, default=3, help="repetitions of the daily runs and floor (median)")
    ap.add_argument("--backfills", default="20,250", help="backfill sizes in sessions (comma-separated)")
    ap.add_argument("--dry", default="1000,4000", help="dry-run sizes in sessions (comma-separated)")
    ap.add_argument("--layouts", default="session,step", help="job layouts for backfills and dry runs")
    ap.add_argument("--out", default=str(REPO / "bench" / "RESULTS.md"))
    args = ap.parse_args()
    reps = 1 if args.quick else args.reps
    backfills = [5] if args.quick else [int(x) for x in args.backfills.split(",") if x]
    dry = (50, 100) if args.quick else tuple(int(x) for x in args.dry.split(",") if x)
    # --quick: backfill and dry runs in the session layout only (the daily runs above cover both layouts)
    layouts = ["session"] if args.quick else [x for x in args.layouts.split(",") if x]
    day, backfill_end = (QUICK_DAY, QUICK_BACKFILL_END) if args.quick else (DAY, DAY)
    # --quick: the daily run in the step layout only (the session layout runs in the backfill below)
    daily_layouts = ("step",) if args.quick else ("step", "session")
    rows: list[tuple[str, str, str]] = []
    root = Path(tempfile.mkdtemp(prefix="brmacro-bench-"))
    try:
        runs: dict[str, list[dict[str, float]]] = {"step": [], "session": [], "floor": []}
        for i in range(reps):  # interleaved, so drift in the machine's speed hits all three alike
            for lay in daily_layouts:
                runs[lay].append(snakemake_run(workdir(root, f"daily-{lay}{i}"), f"date={day}", f"layout={lay}"))
            fd = workdir(root, f"floor{i}")
            runs["floor"].append(measure(fd, PY, str(REPO / "bench" / "floor.py"), str(fd / "results"), day))
        fw = med([r["wall_s"] for r in runs["floor"]])
        for lay, jobs in (("step", "23 jobs per session"), ("session", "4 jobs per session")):
            if not runs[lay]:
                continue
            w = med([r["wall_s"] for r in runs[lay]])
            rows.append((f"daily run, 1 session cold, layout={lay} ({jobs}, with fan-out)",
                         f"{w:.1f} s, {max(r['peak_mb'] for r in runs[lay]):.0f} MB",
                         f"ratio to floor {w / fw:.2f}" + (" (target ≤ 1.3)" if lay == "step" else "")))
        rows.append(("floor: same library calls, one process, no orchestration",
                     f"{fw:.1f} s, {max(r['peak_mb'] for r in runs['floor']):.0f} MB", f"median of {reps}"))
        for lay in layouts:
            for n in backfills:
                wd = workdir(root, f"backfill-{lay}{n}")
                rng = (f"start={sessions_back(backfill_end, n)}", f"end={backfill_end}", f"layout={lay}")
                r = snakemake_run(wd, *rng)
                rows.append((f"backfill, {n} sessions, layout={lay}", fmt(r),
                             f"{r['wall_s'] / n:.2f} s per session" + ("; target ≤ 600 s" if n == 250 else "")))
                if n == max(backfills):
                    noop = snakemake_run(wd, *rng)
                    rows.append((f"no-op rerun, {n} sessions, layout={lay}", fmt(noop),
                                 "target ≤ 5 s" if n == 250 else ""))
            for n in dry:
                wd = workdir(root, f"dry-{lay}{n}")
                r = snakemake_run(wd, f"start={sessions_back(DAY, n)}", f"end={DAY}", f"layout={lay}", dry=True)
                rows.append((f"dry run, {n} sessions, layout={lay}", fmt(r),
                             "target ≤ 60 s and ≤ 1.5 GB" if n == 4000 else ""))
        for name, sec in kernel_timings(3 if args.quick else 7, day, fd / "results").items():
            rows.append((f"kernel: {name}", f"{sec * 1000:.1f} ms (median)", ""))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    write(Path(args.out), rows, args.quick)


def versions() -> str:
    import numpy
    import pandas
    import snakemake

    return (f"Python {platform.python_version()}, Snakemake {snakemake.__version__}"
            f", numpy {numpy.__version__}, pandas {pandas.__version__}")


def install_note() -> str:
    import importlib.util

    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        return "README's (`pip install -e \".[test]\"`), no Slurm plugin"
    return ("WITH the Slurm plugin: where Slurm is installed but its controller is down, every Snakemake start "
            "waits ~9 s for `scontrol` (figures are not comparable; use README's install)")


def write(path: Path, rows: list[tuple[str, str, str]], quick: bool) -> None:
    import os

    lines = [
        "# brmacro benchmarks" + (" (quick run)" if quick else ""),
        "",
        f"- machine: {platform.node()}, {os.cpu_count()} cores, {platform.machine()}, {platform.platform()}",
        f"- date (UTC): {dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()}",
        f"- versions: {versions()}",
        f"- install: {install_note()}",
        "- memory: peak of the summed resident memory of the whole process tree (Snakemake and its workers)",
        f"- command: `.venv/bin/python -m bench.run {' '.join(sys.argv[1:])}`",
        "",
        "| figure | measured (wall, peak memory) | note |",
        "| --- | --- | --- |",
        *[f"| {a} | {b} | {c} |" for a, b, c in rows],
        "",
    ]
    old = path.read_text() if path.exists() else ""
    # hand-written sections (bench.book_range, bench.mutation)
    kept = old[old.index("\n## "):] if "\n## " in old else ""
    path.write_text("\n".join(lines) + kept)
    print("\n".join(lines))


if __name__ == "__main__":
    main()

