"""The operator's daily run (``scripts/daily``): build the day's target, recover from a crash, notify.

One call, :func:`run_daily`:

1. Refuses to start when another ``scripts/daily`` of the same working directory is alive (its pid file
   ``<results>/daily.pid``). Otherwise, if Snakemake's lock directory (``.snakemake/locks``) is not empty, the
   previous run was killed: the documented recovery runs first (``snakemake --unlock``; the build then uses
   ``--rerun-incomplete``, README "After a crash").
2. Runs ``snakemake --cores N --keep-going --rerun-incomplete`` (plus ``--config date=D`` and any extra
   arguments), so a failed source fails only its own branch; its output goes to
   ``<results>/logs/daily/<UTC time>.log``.
3. Reads ``<results>/run_status.json`` (written by the Snakefile's handlers) and sends one message over the
   channels of :mod:`brmacro.report.dispatch` (webhook, SMTP; environment variables only): on success the
   report's summary (its subtitle lines and first section from ``report.md``) with the HTML attached (SMTP)
   or linked (webhook; ``BRMACRO_REPORT_BASE_URL`` + the path under ``<results>``, else the file path); on
   failure the failed steps and sources per session, the stale sources, and the log path, plus the
   report when one was built anyway.

Returns Snakemake's exit code (the recovery's when the unlock itself fails).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import shlex
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from brmacro.guards import GuardError, check_results_dir, mark_results_dir
from brmacro.report import dispatch

__all__ = ["Message", "build_message", "main", "recover_needed", "run_daily", "send_message"]

log = logging.getLogger("brmacro.daily")

BRONZE_PREFIX = "bronze_"
SUMMARY_LINES = 40


@dataclass
class Message:
    """What is sent: subject, plain text and optional HTML attachment."""

    subject: str
    text: str
    attachment: Path | None = None
    ok: bool = True
    details: dict[str, Any] = field(default_factory=dict)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover_needed(workdir: Path) -> bool:
    """Whether Snakemake's lock directory holds locks (a run was killed, or one is running)."""
    locks = workdir / ".snakemake" / "locks"
    return locks.is_dir() and any(locks.iterdir())


def _read_status(results: Path) -> dict[str, Any]:
    try:
        data = json.loads((results / "run_status.json").read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _summary(md: Path, limit: int = SUMMARY_LINES) -> str:
    """The report's subtitle lines and its first section (the summary block), from report.md."""
    try:
        lines = md.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        return f"(report.md unreadable: {exc})"
    out: list[str] = []
    sections = 0
    for ln in lines:
        if ln.startswith("## "):
            sections += 1
            if sections > 1:
                break
        out.append(ln)
    text = [ln for ln in out if ln.strip()]
    if len(text) > limit:
        text = text[:limit] + [f"... (first {limit} lines; the full report is attached or linked)"]
    return "\n".join(text)


def _link(results: Path, html: Path, env: Mapping[str, str]) -> str:
    base = (env.get("BRMACRO_REPORT_BASE_URL") or "").rstrip("/")
    if base:
        try:
            return f"{base}/{html.relative_to(results).as_posix()}"
        except ValueError:
            return f"{base}/{html.name}"
    return str(html.resolve())


def build_message(results: Path, rc: int, log_path: Path, env: Mapping[str, str] | None = None) -> Message:
    """The message of a finished daily run, from the run status and the report files.

    Parameters
    ----------
    results : Path
        The ``<results>`` root.
    rc : int
        Snakemake's exit code.
    log_path : Path
        The daily log (named in failure messages).
    env : mapping, optional
        Environment (``BRMACRO_REPORT_BASE_URL``); ``os.environ`` by default.
    """
    env = dict(os.environ if env is None else env)
    status = _read_status(results)
    sessions = [str(s) for s in status.get("sessions") or []]
    missing: dict[str, list[str]] = {str(k): list(v) for k, v in (status.get("missing") or {}).items()}
    stale: dict[str, list[str]] = {str(k): list(v) for k, v in (status.get("stale") or {}).items()}
    last = max(sessions) if sessions else None
    html = md = None
    if last:
        d = results / "report" / "daily_report" / f"date={last}"
        html = d / "report.html" if (d / "report.html").exists() else None
        md = d / "report.md" if (d / "report.md").exists() else None
    ok = rc == 0 and status.get("state") == "success" and not missing and html is not None
    lines: list[str] = []
    if ok:
        subject = f"brmacro report {last}" + (" (stale sources)" if stale else "")
        lines.append(f"brmacro daily run succeeded for {last}.")
    else:
        subject = f"brmacro daily run FAILED{f' for {last}' if last else ''}"
        lines.append(f"brmacro daily run failed (snakemake exit code {rc}, "
                     f"run status {status.get('state', 'not written')}).")
        if rc < 0:
            lines.append(f"Snakemake was killed by signal {-rc}; the next scripts/daily applies the crash recovery.")
        if not status:
            lines.append(f"No run status in {results}/run_status.json: the workflow stopped before its handlers "
                         "(killed, or a configuration or date error); see the log.")
        for j in status.get("failed_jobs") or []:
            lines.append(f"- failed job: {j.get('rule', '?')}{' ' + j['session'] if j.get('session') else ''}"
                         f" (log {j.get('log') or '-'})")
        for s in sorted(missing):
            assets = missing[s]
            src = [a for a in assets if a.startswith(BRONZE_PREFIX)]
            steps = [a for a in assets if not a.startswith(BRONZE_PREFIX)]
            if src:
                lines.append(f"- {s}: failed sources: {', '.join(src)}")
            if steps:
                lines.append(f"- {s}: steps without artifacts: {', '.join(steps)}")
        lines.append(f"Log: {log_path}")
        lines.append(f"Per-step logs: {results}/logs/<asset>/<session>.log; status: {results}/run_status.md")
    for s in sorted(stale):
        lines.append(f"- {s}: stale sources (served from the connector's cache): {', '.join(stale[s])}")
    if html is not None:
        lines.append(f"Report: {_link(results, html, env)}")
    if md is not None:
        lines += ["", _summary(md)]
    elif last:
        lines.append(f"No report was built for {last}.")
    return Message(subject, "\n".join(lines) + "\n", html, ok,
                   {"sessions": sessions, "missing": missing, "stale": stale})


def send_message(msg: Message, env: Mapping[str, str] | None = None, timeout: float = 10.0,
                 deadline: float = 60.0) -> list[str]:
    """Send over the configured channels; return the channels that delivered (never raises).

    Each delivery has the network ``timeout`` and the whole sending ``deadline`` seconds (a delivery still running
    then is abandoned, as in :mod:`brmacro.report.dispatch`).
    """
    import time

    env = dict(os.environ if env is None else env)
    done = []
    end = time.monotonic() + deadline
    webhook = env.get("BRMACRO_SLACK_WEBHOOK_URL") or ""
    channels: list[tuple[str, Callable[[], None]]] = []
    if webhook:
        channels.append(("webhook", lambda: dispatch._send_webhook(webhook, f"*{msg.subject}*\n{msg.text}", timeout)))
    if env.get("BRMACRO_SMTP_HOST"):
        channels.append(("smtp", lambda: dispatch._send_smtp(env, msg.subject, msg.text, timeout, msg.attachment)))
    for name, fn in channels:
        try:
            dispatch._within(fn, end - time.monotonic())
            done.append(name)
        except Exception as exc:  # noqa: BLE001 - a delivery failure must not hide the run's result
            log.warning("daily: %s delivery failed: %s: %s", name, type(exc).__name__, dispatch._redact(str(exc), env))
    if not done:
        log.info("daily: no channel delivered (none configured, or all failed)")
    return done


Runner = Callable[[Sequence[str], Path], int]


def _default_runner(cmd: Sequence[str], log_path: Path) -> int:
    """Run ``cmd`` with its output appended to ``log_path`` (a file, not a pipe: worker processes a killed
    Snakemake leaves behind would otherwise hold the pipe open and the wait would never end)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    print(f"scripts/daily: {shlex.join(cmd)} (output in {log_path})", file=sys.stderr, flush=True)
    with open(log_path, "a", encoding="utf-8") as fh:
        fh.write(f"$ {shlex.join(cmd)}\n")
        fh.flush()
        return subprocess.run(list(cmd), stdout=fh, stderr=subprocess.STDOUT, check=False).returncode


def _parse(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    p = argparse.ArgumentParser(prog="scripts/daily", description=__doc__.split("\n\n")[0])
    p.add_argument("--date", help="session to build (default: the config's date, i.e. latest)")
    p.add_argument("--cores", type=int, default=2, help="cores for snakemake (default 2)")
    p.add_argument("--results", default=None, help="the results root if not the config's (default: results)")
    p.add_argument("--snakemake", default=None, help="snakemake executable (default: next to this Python)")
    p.add_argument("--no-send", action="store_true", help="print the message instead of sending it")
    p.add_argument("--timeout", type=float, default=10.0, help="network timeout per delivery, seconds")
    return p.parse_known_args(list(argv))


def run_daily(
    argv: Sequence[str],
    workdir: Path | None = None,
    runner: Runner | None = None,
    sender: Callable[[Message], list[str]] | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Run the day's target with recovery and notification (see the module docstring).

    Parameters
    ----------
    argv : sequence of str
        Command-line arguments; unknown ones are passed to snakemake.
    workdir : Path, optional
        The project directory (default: the current directory).
    runner : callable, optional
        ``runner(cmd, log_path) -> exit code`` (tests pass a fake).
    sender : callable, optional
        ``sender(message) -> channels`` (tests pass a fake).
    now : datetime, optional
        Time used to name the log (UTC).
    """
    args, extra = _parse(argv)
    wd = (workdir or Path.cwd()).resolve()
    results = wd / (args.results or _config_results(wd))
    now = now or dt.datetime.now(dt.UTC)
    log_path = results / "logs" / "daily" / f"{now.strftime('%Y%m%dT%H%M%SZ')}.log"
    runner = runner or _default_runner
    smk = args.snakemake or str(Path(sys.executable).with_name("snakemake"))
    pidfile = results / "daily.pid"
    if pidfile.exists():
        try:
            other = int(pidfile.read_text().strip())
        except ValueError:
            other = -1
        if other > 0 and other != os.getpid() and _pid_alive(other):
            print(f"scripts/daily: another daily run is in progress (pid {other}, {pidfile}); not starting",
                  file=sys.stderr)
            return 75
    try:
        check_results_dir(results)  # the workflow's own guard: never write into a folder brmacro did not create
    except GuardError as exc:
        msg = Message("brmacro daily run FAILED (results folder)", f"{exc}\nNothing was built.\n", None, False)
        _deliver(msg, args, sender)
        return 2
    mark_results_dir(results)
    pidfile.write_text(f"{os.getpid()}\n")
    try:
        if recover_needed(wd):
            print("scripts/daily: Snakemake locks left by a killed run: running the documented recovery "
                  "(snakemake --unlock, then --rerun-incomplete)", file=sys.stderr)
            rc = runner([smk, "--unlock"], log_path)
            if rc != 0:
                msg = Message("brmacro daily run FAILED (recovery)",
                              f"snakemake --unlock failed with exit code {rc}; nothing was built.\nLog: {log_path}\n",
                              None, False)
                _deliver(msg, args, sender)
                return rc
        cmd = [smk, "--cores", str(args.cores), "--keep-going", "--rerun-incomplete"]
        cfg = []
        if args.date:
            cfg.append(f"date={args.date}")
        if args.results:
            cfg.append(f"results={args.results}")
        if cfg:
            cmd += ["--config", *cfg]
        cmd += extra
        rc = runner(cmd, log_path)
        msg = build_message(results, rc, log_path)
        _deliver(msg, args, sender)
        return rc
    finally:
        pidfile.unlink(missing_ok=True)


def _deliver(msg: Message, args: argparse.Namespace, sender: Callable[[Message], list[str]] | None) -> None:
    if args.no_send:
        print(f"Subject: {msg.subject}\n\n{msg.text}")
        return
    (sender or (lambda m: send_message(m, timeout=args.timeout)))(msg)


def _config_results(wd: Path) -> str:
    try:
        import yaml

        cfg = yaml.safe_load((wd / "config" / "config.yaml").read_text(encoding="utf-8")) or {}
        return str(cfg.get("results") or "results").rstrip("/")
    except (OSError, ValueError, ImportError):
        return "results"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``scripts/daily`` (``python -m brmacro.daily``)."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return run_daily(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    raise SystemExit(main())
