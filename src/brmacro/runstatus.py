"""The run-status page: what depends on the wall clock or the run, kept out of partition artifacts.

Written by the Snakefile's ``onsuccess``/``onerror`` handlers to ``<results>/run_status.json`` and
``<results>/run_status.md``: the state, the time, the target sessions, the jobs that failed (rule, session
and log, read from Snakemake's own log), per session which assets have no artifact, the daily reports this
run built (never one left by an earlier run), and any alert-dispatch failure.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["failed_jobs", "missing_assets", "reports_built", "unreadable_artifacts", "write_run_status"]


def missing_assets(results: str | Path, dates: Sequence[str]) -> dict[str, list[str]]:
    """Session -> assets whose partition is absent or incomplete."""
    from brmacro.pipeline import STEPS, partition_paths

    out: dict[str, list[str]] = {}
    for d in dates:
        miss = [a for a in STEPS if not all(p.exists() for p in partition_paths(results, a, d).values())]
        if miss:
            out[d] = miss
    return out


CHECK_SESSIONS = 10


def unreadable_artifacts(results: str | Path, dates: Sequence[str]) -> list[dict[str, str]]:
    """Target partition files that exist but cannot serve as inputs: truncated or not Parquet (footer
    unreadable), or stamped with another session (``brmacro.asof``). Each with the command that rebuilds it.

    Snakemake counts such a file as up to date (it only compares times), so the run status must name it.
    Only footers are read (about a millisecond per file), of the last :data:`CHECK_SESSIONS` sessions (a
    long backfill's status stays quick; its older partitions are checked when read).
    """
    import pyarrow.parquet as pq

    from brmacro.io import rebuild_hint
    from brmacro.pipeline import STEPS, partition_paths

    out: list[dict[str, str]] = []
    for d in list(dates)[-CHECK_SESSIONS:]:
        for a in STEPS:
            for p in partition_paths(results, a, d).values():
                if not p.exists():
                    continue
                try:
                    md = pq.read_schema(p).metadata or {}
                    found = md.get(b"brmacro.asof", b"").decode()
                    err = "" if found == d else f"artifact of session {found or '(none)'}, expected {d}"
                except Exception as exc:  # noqa: BLE001 - any failure to read the footer makes it unusable
                    err = f"{type(exc).__name__}: {exc}"
                if err:
                    out.append({"session": d, "asset": a, "file": str(p), "error": err, "rebuild": rebuild_hint(p)})
    return out


_ERROR = re.compile(r"^(?:Error in rule|\s+rule) ([A-Za-z0-9_]+)(?:, jobid: \d+)?:?\s*$")
_LOG = re.compile(r"^\s+log: (.+?)(?: \(check log file\(s\) for error details\))?\s*$")
_SESSION = re.compile(r"(\d{4}-\d{2}-\d{2})")


def failed_jobs(snakemake_log: str | Path | None) -> list[dict[str, str]]:
    """The jobs Snakemake reports as failed in its log: rule, session (from the job's log path) and log file.

    Parameters
    ----------
    snakemake_log : path, optional
        Snakemake's own log of the run (the ``log`` of ``onerror``); absent or unreadable gives [].
    """
    if not snakemake_log:
        return []
    try:
        text = Path(snakemake_log).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    out: list[dict[str, str]] = []
    rule: str | None = None
    for line in text.splitlines():
        m = _ERROR.match(line)
        if m:
            rule = m.group(1)
            continue
        if rule is None:
            continue
        lm = _LOG.match(line)
        if lm:
            for logp in lm.group(1).split(", "):
                sm = _SESSION.search(Path(logp).name) or _SESSION.search(logp)
                job = {"rule": rule, "session": sm.group(1) if sm else "", "log": logp.strip()}
                if job not in out:
                    out.append(job)
            rule = None
        elif line and not line[0].isspace():
            if not any(j["rule"] == rule for j in out):
                out.append({"rule": rule, "session": "", "log": ""})
            rule = None
    return out


def reconstructed_sessions(results: str | Path, dates: Sequence[str]) -> list[str]:
    """Sessions whose daily report is marked ``brmacro.reconstructed`` (built from today's live data of a source
    without vintages, :data:`brmacro.pipeline.NO_VINTAGES`)."""
    from brmacro.io import read_meta
    from brmacro.pipeline import partition_paths

    out = []
    for d in dates:
        p = partition_paths(results, "daily_report", d)["part"]
        try:
            if read_meta(p).get("brmacro.reconstructed") == "true":
                out.append(d)
        except (OSError, ValueError):
            continue
    return out


def reports_built(results: str | Path, dates: Sequence[str], since: float | None) -> dict[str, str]:
    """Session -> path of the daily report (HTML) written at or after ``since`` (epoch seconds) by this run."""
    out: dict[str, str] = {}
    for d in dates:
        html = Path(results) / "report" / "daily_report" / f"date={d}" / "report.html"
        try:
            mtime = html.stat().st_mtime
        except OSError:
            continue
        if since is None or mtime >= since:
            out[d] = str(html)
    return out


def _atomic_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def write_run_status(
    results: str | Path,
    state: str,
    dates: Sequence[str],
    log: str | Sequence[str] | None = None,
    *,
    started: float | None = None,
    dispatch: Sequence[str] = (),
) -> dict[str, Any]:
    """Write the run-status JSON and Markdown; return the status mapping.

    Parameters
    ----------
    results : path
        The results root.
    state : str
        ``success`` or ``error``.
    dates : sequence of str
        The run's target sessions.
    log : path or paths, optional
        Snakemake's log of the run; failed jobs are read from it.
    started : float, optional
        When the run started (epoch seconds): only reports written since then are listed as built.
    dispatch : sequence of str
        Alert-dispatch failures (:func:`brmacro.report.dispatch.dispatch_alerts` ``problems``).
    """
    results = Path(results)
    missing = missing_assets(results, dates)
    unreadable = unreadable_artifacts(results, dates)
    logs = [log] if isinstance(log, (str, Path)) else list(log or [])
    failed = [j for lg in logs for j in failed_jobs(lg)]
    built = reports_built(results, dates, started)
    recon = reconstructed_sessions(results, dates)
    status: dict[str, Any] = {
        "state": state,
        "finished_utc": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "sessions": list(dates),
        "snakemake_log": ", ".join(map(str, logs)) if logs else None,
        "failed_jobs": failed,
        "missing": missing,
        "unreadable": unreadable,
        "reports_built": built,
        "reconstructed": recon,
        "dispatch_problems": list(dispatch),
        "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
    }
    _atomic_text(results / "run_status.json", json.dumps(status, indent=2, sort_keys=True) + "\n")
    lines = [f"# brmacro run status: {state}", "", f"- finished (UTC): {status['finished_utc']}",
             f"- sessions: {', '.join(dates[:5])}{' ...' if len(dates) > 5 else ''} ({len(dates)})",
             f"- snakemake log: {status['snakemake_log'] or '-'}", ""]
    if failed:
        lines.append("## Failed jobs (read each log for the error)")
        lines += [f"- {j['rule']}{' ' + j['session'] if j['session'] else ''}: {j['log'] or '(no log file)'}"
                  for j in failed]
        lines.append("")
    elif state != "success":
        lines += ["## The run failed before or outside any job (see the snakemake log above)", ""]
    if unreadable:
        lines.append("## Unreadable artifacts (Snakemake counts them as up to date: rebuild them)")
        lines += [f"- {u['session']} {u['asset']}: {u['file']}: {u['error']}; {u['rebuild']}" for u in unreadable]
        lines.append("")
    if missing:
        lines.append("## Missing artifacts (see each asset's log under logs/)")
        for d, assets in missing.items():
            lines.append(f"- {d}: {', '.join(assets)}")
    elif state == "success" and not unreadable:
        lines.append("All target artifacts exist.")
    else:
        lines.append("Every target artifact has a file, but the run failed: a failed job's artifacts may be from an "
                     "earlier run.")
    lines.append("")
    if built:
        lines.append("## Daily reports built by this run")
        lines += [f"- {d}: {p}" for d, p in built.items()]
    else:
        lines.append("No daily report was built by this run.")
    if recon:
        lines += ["", "## Reconstructed sessions (live data without vintages: not the data as it was)",
                  ", ".join(recon)]
    if dispatch:
        lines += ["", "## Alert dispatch problems"] + [f"- {p}" for p in dispatch]
    _atomic_text(results / "run_status.md", "\n".join(lines) + "\n")
    return status
