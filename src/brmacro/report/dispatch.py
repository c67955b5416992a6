"""Optional dispatch of fired alerts to a Slack-style webhook and by SMTP, with a cooldown.

Called by the Snakefile's ``onsuccess`` handler (``dispatch_alerts(results, dates)``). It is never
required for a run to succeed: every failure is logged (without secrets) and swallowed. Channels
are configured only by environment variables:

- ``BRMACRO_SLACK_WEBHOOK_URL``: an Incoming-Webhook URL (POST ``{"text": ...}``).
- ``BRMACRO_SMTP_HOST``, ``BRMACRO_SMTP_PORT`` (default 587), ``BRMACRO_SMTP_USER``,
  ``BRMACRO_SMTP_PASSWORD``, ``BRMACRO_ALERT_TO`` (comma-separated), ``BRMACRO_SMTP_FROM``
  (default the user or ``brmacro@localhost``), ``BRMACRO_SMTP_STARTTLS`` (``1``/``true`` to
  upgrade the connection; default off).

The cooldown state (rule -> last time sent, UTC) lives in ``<results>/alerts_state.json``, outside
every partition, because it depends on the wall clock. A stamp in the future (clock skew, an edited state
file) is invalid: the alert is sent and a warning says so, never silently muted. The whole dispatch has a
total deadline (``deadline_seconds``): a server that drips bytes cannot hold the run (and its lock) past it.
Every failure is also appended to the caller's ``problems`` list, which the run-status page shows.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import smtplib
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from pathlib import Path

import pandas as pd

from brmacro.io import read_table
from brmacro.report.schemas import ALERTS

__all__ = ["STATE_FILE", "DispatchTimeout", "dispatch_alerts", "fired_alerts", "format_message"]

log = logging.getLogger("brmacro.report.dispatch")

STATE_FILE = "alerts_state.json"


class DispatchTimeout(TimeoutError):
    """A delivery did not finish within what was left of the dispatch's total deadline."""


def _within(fn: Callable[[], None], seconds: float) -> None:
    """``fn()`` in a daemon thread, waiting at most ``seconds``; its exception is raised here.

    A delivery still running at the deadline is abandoned (the daemon thread cannot keep the process alive).
    """
    box: list[BaseException] = []

    def target() -> None:
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            box.append(exc)

    t = threading.Thread(target=target, name="brmacro-alert-dispatch", daemon=True)
    t.start()
    t.join(max(seconds, 0.0))
    if t.is_alive():
        raise DispatchTimeout(f"not finished within the dispatch deadline ({seconds:.1f} s left); abandoned")
    if box:
        raise box[0]


def _alerts_path(results: Path, date: str) -> Path:
    return results / "report" / "daily_report" / f"date={date}" / "alerts.parquet"


def fired_alerts(results_dir: str | os.PathLike[str], date: str) -> pd.DataFrame:
    """The fired rows of one session's ``daily_report/alerts`` table (empty when it does not exist)."""
    p = _alerts_path(Path(results_dir), date)
    if not p.exists():
        return ALERTS.empty()
    df = read_table(p, ALERTS)
    return df.loc[df["fired"].astype(bool)].sort_values("rule_id").reset_index(drop=True)


def format_message(date: str, alerts: pd.DataFrame) -> str:
    """Plain-text message for a session's fired alerts."""
    lines = [f"brmacro alerts for session {date}: {len(alerts)} fired"]
    for r in alerts.itertuples():
        lines.append(f"[{str(r.severity).upper()}] {r.rule_id}: {r.message}")
    return "\n".join(lines)


def _load_state(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _save_state(path: Path, state: Mapping[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(dict(sorted(state.items())), fh, indent=2)
    os.replace(tmp, path)


def _redact(text: str, env: Mapping[str, str]) -> str:
    for k in ("BRMACRO_SLACK_WEBHOOK_URL", "BRMACRO_SMTP_PASSWORD", "BRMACRO_SMTP_USER"):
        v = env.get(k)
        if v:
            text = text.replace(v, "<redacted>")
    return text


def _send_webhook(url: str, text: str, timeout: float) -> None:
    body = json.dumps({"text": text}).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - operator-configured URL
        if not 200 <= resp.status < 300:
            raise OSError(f"webhook answered HTTP {resp.status}")


def _send_smtp(env: Mapping[str, str], subject: str, text: str, timeout: float,
               attachment: Path | None = None) -> None:
    """Send one message over the ``BRMACRO_SMTP_*`` settings, with the report's HTML attached if given."""
    host = env["BRMACRO_SMTP_HOST"]
    port = int(env.get("BRMACRO_SMTP_PORT") or 587)
    user = env.get("BRMACRO_SMTP_USER") or ""
    to = [a.strip() for a in (env.get("BRMACRO_ALERT_TO") or "").split(",") if a.strip()]
    if not to:
        raise ValueError("BRMACRO_ALERT_TO is empty")
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = env.get("BRMACRO_SMTP_FROM") or user or "brmacro@localhost"
    msg["To"] = ", ".join(to)
    msg.set_content(text)
    if attachment is not None:
        msg.add_attachment(attachment.read_bytes(), maintype="text", subtype="html",
                           filename=f"brmacro-{attachment.parent.name.removeprefix('date=')}.html")
    with smtplib.SMTP(host, port, timeout=timeout) as s:
        s.ehlo()
        if (env.get("BRMACRO_SMTP_STARTTLS") or "").lower() in ("1", "true", "yes"):
            s.starttls()
            s.ehlo()
        if user:
            s.login(user, env.get("BRMACRO_SMTP_PASSWORD") or "")
        s.send_message(msg)


def dispatch_alerts(
    results_dir: str,
    dates: list[str],
    *,
    cooldown_minutes: float = 30.0,
    timeout_seconds: float = 10.0,
    latest_only: bool = True,
    deadline_seconds: float = 60.0,
    now: dt.datetime | None = None,
    env: Mapping[str, str] | None = None,
    problems: list[str] | None = None,
) -> int:
    """Send the fired alerts of the run's sessions; return how many alerts were delivered.

    Parameters
    ----------
    results_dir : str
        The ``<results>`` root (the state file is written there).
    dates : list of str
        The run's sessions (ISO); with ``latest_only`` only the last one is dispatched.
    cooldown_minutes : float
        A rule sent less than this long ago is suppressed.
    timeout_seconds : float
        Network timeout per delivery.
    latest_only : bool
        Dispatch only ``max(dates)``.
    deadline_seconds : float
        Total time the whole dispatch may take (every channel and session); a delivery still running
        then is abandoned and reported.
    now : datetime, optional
        The current time (UTC); the wall clock by default (tests pass it).
    env : mapping, optional
        Environment to read the channel settings from (``os.environ`` by default).
    problems : list of str, optional
        Receives one line per failure or anomaly (delivery failed or timed out, unreadable alerts,
        invalid cooldown stamp), for the run-status page.

    Returns
    -------
    int
        Alerts delivered to at least one channel (0 when no channel is configured). Never raises
        for a delivery failure.
    """
    env = dict(os.environ if env is None else env)
    now = now or dt.datetime.now(dt.UTC)
    problems = [] if problems is None else problems
    t_end = time.monotonic() + float(deadline_seconds)

    def problem(msg: str) -> None:
        msg = _redact(msg, env)
        log.warning("alert dispatch: %s", msg)
        problems.append(msg)

    webhook = env.get("BRMACRO_SLACK_WEBHOOK_URL") or ""
    smtp = bool(env.get("BRMACRO_SMTP_HOST"))
    if not dates or not (webhook or smtp):
        log.info("alert dispatch: no channel configured or no session; nothing sent")
        return 0
    results = Path(results_dir)
    state_path = results / STATE_FILE
    state = _load_state(state_path)
    targets = [max(dates)] if latest_only else sorted(dates)
    sent = 0
    for date in targets:
        try:
            fired = fired_alerts(results, date)
        except (OSError, ValueError) as exc:
            problem(f"cannot read alerts of {date}: {exc}")
            continue
        due = []
        for r in fired.itertuples():
            last = state.get(str(r.rule_id))
            if last:
                try:
                    stamp = dt.datetime.fromisoformat(last)
                    age = now - (stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC))
                except ValueError:
                    age = dt.timedelta.max
                if age < dt.timedelta(0):
                    problem(f"cooldown stamp of {r.rule_id} ({last}) is in the future (clock skew or an edited "
                            f"{STATE_FILE}): ignored, alert sent")
                elif age < dt.timedelta(minutes=cooldown_minutes):
                    log.info("alert dispatch: %s suppressed (cooldown)", r.rule_id)
                    continue
            due.append(r.Index)
        if not due:
            continue
        batch = fired.loc[due]
        text = format_message(date, batch)
        ok = False
        channels: list[tuple[str, Callable[[], None]]] = []
        # B023: each lambda is called within this iteration (the loop below), so it sees this iteration's values
        if webhook:
            channels.append(("webhook", lambda: _send_webhook(webhook, text, timeout_seconds)))  # noqa: B023
        if smtp:
            channels.append(("smtp", lambda: _send_smtp(env, f"brmacro alerts {date}", text, timeout_seconds)))  # noqa: B023
        for name, fn in channels:
            try:
                _within(fn, t_end - time.monotonic())
                ok = True
                log.info("alert dispatch: %d alert(s) of %s sent by %s", len(batch), date, name)
            except Exception as exc:  # noqa: BLE001 - delivery must never fail the run
                problem(f"{name} delivery failed ({len(batch)} alert(s) of {date}): {type(exc).__name__}: {exc}")
        if ok:
            sent += len(batch)
            for rid in batch["rule_id"]:
                state[str(rid)] = now.isoformat()
    try:
        _save_state(state_path, state)
    except OSError as exc:
        problem(f"cannot write {state_path}: {exc}")
    return sent
