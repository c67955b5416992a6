"""The run-status page: what depends on the wall clock or the run, kept out of partition artifacts.

Written by the Snakefile's ``onsuccess``/``onerror`` handlers to ``<results>/run_status.json`` and
``<results>/run_status.md``: the state, the time, the target sessions and, per session, which assets
have no artifact (so a failed source is named, with its log).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["missing_assets", "stale_sources", "write_run_status"]


def missing_assets(results: str | Path, dates: Sequence[str]) -> dict[str, list[str]]:
    """Session -> assets whose partition is absent or incomplete."""
    from brmacro.pipeline import STEPS, partition_paths

    out: dict[str, list[str]] = {}
    for d in dates:
        miss = [a for a in STEPS if not all(p.exists() for p in partition_paths(results, a, d).values())]
        if miss:
            out[d] = miss
    return out


def stale_sources(results: str | Path, dates: Sequence[str]) -> dict[str, dict[str, str]]:
    """Session -> bronze asset -> why its snapshot is stale (artifact metadata ``brmacro.stale``)."""
    from brmacro.io import read_meta
    from brmacro.pipeline import BRONZE, partition_paths

    out: dict[str, dict[str, str]] = {}
    for d in dates:
        for a in BRONZE:
            p = partition_paths(results, a, d).get("part")
            if p is None or not p.exists():
                continue
            try:
                why = read_meta(p).get("brmacro.stale")
            except (OSError, ValueError):
                continue
            if why:
                out.setdefault(d, {})[a] = why
    return out


def _atomic_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def write_run_status(
    results: str | Path, state: str, dates: Sequence[str], log: str | Sequence[str] | None = None
) -> dict[str, Any]:
    """Write the run-status JSON and Markdown; return the status mapping."""
    results = Path(results)
    missing = missing_assets(results, dates)
    stale = stale_sources(results, dates)
    status: dict[str, Any] = {
        "state": state,
        "finished_utc": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "sessions": list(dates),
        "snakemake_log": (log if isinstance(log, str) else ", ".join(map(str, log))) if log else None,
        "missing": missing,
        "stale": {d: sorted(v) for d, v in stale.items()},
        "stale_reasons": stale,
        "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
    }
    _atomic_text(results / "run_status.json", json.dumps(status, indent=2, sort_keys=True) + "\n")
    lines = [f"# brmacro run status: {state}", "", f"- finished (UTC): {status['finished_utc']}",
             f"- sessions: {', '.join(dates[:5])}{' ...' if len(dates) > 5 else ''} ({len(dates)})",
             f"- snakemake log: {status['snakemake_log'] or '-'}", ""]
    if missing:
        lines.append("## Missing artifacts (see each asset's log under logs/)")
        for d, assets in missing.items():
            lines.append(f"- {d}: {', '.join(assets)}")
    else:
        lines.append("All target artifacts exist.")
    if stale:
        lines += ["", "## Stale sources (snapshot rebuilt from the connector's cache, live.on_source_failure: stale)"]
        for d, why in stale.items():
            lines += [f"- {d}: {a}: {w}" for a, w in sorted(why.items())]
    _atomic_text(results / "run_status.md", "\n".join(lines) + "\n")
    return status
