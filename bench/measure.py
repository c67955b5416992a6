"""Run one command and print its wall time and peak memory as JSON.

Peak memory is the largest *sum* of resident memory over the command's whole process tree (Snakemake and
its worker processes together), sampled every 50 ms from /proc; where /proc is missing it falls back to the
largest single process (``ru_maxrss``).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import threading
import time


def _tree_rss_kb(root: int) -> int:
    """Resident memory (KB) of ``root`` and all its descendants."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(name), int(fields[1])
        children.setdefault(ppid, []).append(pid)
        rss[pid] = int(fields[21]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, ()))
    return total


def main() -> None:
    cwd, *cmd = sys.argv[1:]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            if os.path.isdir("/proc"):
                peak[0] = max(peak[0], _tree_rss_kb(proc.pid))
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = proc.communicate()
    wall = time.perf_counter() - t0
    done.set()
    sampler.join()
    rss_kb = peak[0] or resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out = {"wall_s": wall, "peak_mb": rss_kb / 1024, "rc": proc.returncode,
           "tail": output[-2000:] if proc.returncode else ""}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
