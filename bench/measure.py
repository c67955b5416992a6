"""Run one command and print its wall time and peak memory (max RSS over its process tree's children) as JSON."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time


def main() -> None:
    cwd, *cmd = sys.argv[1:]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out = {"wall_s": wall, "peak_mb": rss_kb / 1024, "rc": proc.returncode,
           "tail": (proc.stdout + proc.stderr)[-2000:] if proc.returncode else ""}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
