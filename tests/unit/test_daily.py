"""scripts/daily (brmacro.daily): recovery, keep-going command, success and failure messages, delivery."""

from __future__ import annotations

import datetime as dt
import json
import os
import smtplib
from pathlib import Path

import pytest

from brmacro import daily
from brmacro.daily import Message, build_message, run_daily, send_message

NOW = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)
REPORT_MD = """# brmacro daily report — 2026-12-01

Session 2026-12-01 — source: demo
Alerts fired: 1 of 10 (VAR_BREACH)

## Summary

Yesterday's P&L: -0.12% of NAV

## 1. Market snapshot

DI 1Y 7.19%
"""


def _status(results: Path, state: str, missing: dict | None = None, stale: dict | None = None) -> None:
    results.mkdir(parents=True, exist_ok=True)
    st = {"state": state, "sessions": ["2026-12-01"], "missing": missing or {}}
    if stale:
        st["stale"] = stale
    (results / "run_status.json").write_text(json.dumps(st))


def _report(results: Path) -> Path:
    d = results / "report" / "daily_report" / "date=2026-12-01"
    d.mkdir(parents=True)
    (d / "report.md").write_text(REPORT_MD, encoding="utf-8")
    (d / "report.html").write_text("<html>report</html>", encoding="utf-8")
    return d / "report.html"


def test_success_message_has_the_summary_and_the_report(tmp_path: Path) -> None:
    res = tmp_path / "results"
    _status(res, "success")
    html = _report(res)
    msg = build_message(res, 0, tmp_path / "x.log", env={})
    assert msg.ok and msg.subject == "brmacro report 2026-12-01" and msg.attachment == html
    assert "Yesterday's P&L: -0.12% of NAV" in msg.text  # the first section (summary block)
    assert "Market snapshot" not in msg.text  # only the first section
    assert f"Report: {html.resolve()}" in msg.text
    linked = build_message(res, 0, tmp_path / "x.log", env={"BRMACRO_REPORT_BASE_URL": "https://desk/brmacro/"})
    assert "Report: https://desk/brmacro/report/daily_report/date=2026-12-01/report.html" in linked.text


def test_failure_message_names_failed_sources_and_steps(tmp_path: Path) -> None:
    res = tmp_path / "results"
    _status(res, "error", {"2026-12-01": ["bronze_fred", "silver_macro", "daily_report"]})
    st = json.loads((res / "run_status.json").read_text())
    st["failed_jobs"] = [{"rule": "bronze_fred", "session": "2026-12-01", "log": "results/logs/bronze_fred/x.log"}]
    (res / "run_status.json").write_text(json.dumps(st))
    msg = build_message(res, 1, tmp_path / "daily.log", env={})
    assert not msg.ok and msg.subject == "brmacro daily run FAILED for 2026-12-01"
    assert "- failed job: bronze_fred 2026-12-01 (log results/logs/bronze_fred/x.log)" in msg.text
    assert "- 2026-12-01: failed sources: bronze_fred" in msg.text
    assert "- 2026-12-01: steps without artifacts: silver_macro, daily_report" in msg.text
    assert str(tmp_path / "daily.log") in msg.text and msg.attachment is None
    assert "No report was built for 2026-12-01." in msg.text


def test_stale_sources_are_named_and_the_report_still_goes_out(tmp_path: Path) -> None:
    res = tmp_path / "results"
    _status(res, "success", stale={"2026-12-01": ["bronze_yahoo"]})
    _report(res)
    msg = build_message(res, 0, tmp_path / "x.log", env={})
    assert msg.ok and "(stale sources)" in msg.subject
    assert "stale sources (served from the connector's cache): bronze_yahoo" in msg.text


def test_no_status_means_failure_with_a_hint(tmp_path: Path) -> None:
    msg = build_message(tmp_path / "results", 1, tmp_path / "x.log", env={})
    assert not msg.ok and "No run status" in msg.text


def test_run_daily_recovers_then_keeps_going_and_sends(tmp_path: Path) -> None:
    (tmp_path / ".snakemake" / "locks").mkdir(parents=True)
    (tmp_path / ".snakemake" / "locks" / "0.input.lock").write_text("x")
    calls: list[list[str]] = []
    sent: list[Message] = []

    def runner(cmd, log_path):
        calls.append(list(cmd))
        if "--unlock" in cmd:
            (tmp_path / ".snakemake" / "locks" / "0.input.lock").unlink()
            return 0
        _status(tmp_path / "results", "success")
        _report(tmp_path / "results")
        return 0

    rc = run_daily(["--date", "2026-12-01", "--snakemake", "smk", "--dry-run"], tmp_path, runner,
                   lambda m: sent.append(m) or ["test"], NOW)
    assert rc == 0
    assert calls[0] == ["smk", "--unlock"]
    assert calls[1] == ["smk", "--cores", "2", "--keep-going", "--rerun-incomplete", "--config", "date=2026-12-01",
                        "--dry-run"]
    assert len(sent) == 1 and sent[0].ok and sent[0].attachment is not None
    assert not (tmp_path / "results" / "daily.pid").exists()


def test_run_daily_without_locks_does_not_unlock_and_reports_failure(tmp_path: Path) -> None:
    calls: list[list[str]] = []
    sent: list[Message] = []

    def runner(cmd, log_path):
        calls.append(list(cmd))
        _status(tmp_path / "results", "error", {"2026-12-01": ["bronze_b3_market_data"]})
        return 1

    rc = run_daily(["--snakemake", "smk"], tmp_path, runner, lambda m: sent.append(m) or [], NOW)
    assert rc == 1 and len(calls) == 1 and "--unlock" not in calls[0]
    assert "failed sources: bronze_b3_market_data" in sent[0].text


def test_run_daily_refuses_while_another_is_alive(tmp_path: Path) -> None:
    res = tmp_path / "results"
    res.mkdir()
    (res / "daily.pid").write_text(f"{os.getppid()}\n")  # a live process that is not us
    rc = run_daily(["--snakemake", "smk"], tmp_path, lambda c, p: pytest.fail("must not run"),
                   lambda m: pytest.fail("must not send"), NOW)
    assert rc == 75


def test_send_message_uses_smtp_with_attachment_and_webhook(tmp_path: Path, monkeypatch) -> None:
    html = tmp_path / "date=2026-12-01" / "report.html"
    html.parent.mkdir()
    html.write_text("<html>r</html>")
    got: dict = {}

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            got["host"] = (host, port)

        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

        def ehlo(self):
            pass

        def starttls(self):
            got["tls"] = True

        def login(self, u, p):
            got["login"] = u

        def send_message(self, m):
            got["msg"] = m

    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    monkeypatch.setattr(daily.dispatch, "_send_webhook", lambda url, text, t: got.setdefault("hook", (url, text)))
    env = {"BRMACRO_SMTP_HOST": "mail", "BRMACRO_ALERT_TO": "pm@desk", "BRMACRO_SMTP_STARTTLS": "1",
           "BRMACRO_SLACK_WEBHOOK_URL": "https://hook"}
    done = send_message(Message("brmacro report 2026-12-01", "summary\n", html), env)
    assert done == ["webhook", "smtp"]
    parts = list(got["msg"].iter_attachments())
    assert parts[0].get_filename() == "brmacro-2026-12-01.html" and parts[0].get_content() == "<html>r</html>"
    assert got["hook"][1].startswith("*brmacro report 2026-12-01*")
    # a failing channel is logged, never raised
    monkeypatch.setattr(daily.dispatch, "_send_webhook", lambda *a: (_ for _ in ()).throw(OSError("down")))
    assert send_message(Message("s", "t"), {"BRMACRO_SLACK_WEBHOOK_URL": "https://hook"}) == []


def test_run_daily_refuses_a_foreign_results_folder(tmp_path: Path) -> None:
    res = tmp_path / "results"
    res.mkdir()
    (res / "thesis.tex").write_text("not brmacro's")
    sent: list[Message] = []
    rc = run_daily(["--snakemake", "smk"], tmp_path, lambda c, p: pytest.fail("must not run"),
                   lambda m: sent.append(m) or [], NOW)
    assert rc == 2 and "brmacro did not create" in sent[0].text
    assert not (res / "daily.pid").exists()


def test_run_daily_marks_a_new_results_folder_as_brmacro_s(tmp_path: Path) -> None:
    from brmacro.guards import MARKER, check_results_dir

    run_daily(["--snakemake", "smk"], tmp_path, lambda c, p: 1, lambda m: [], NOW)
    assert (tmp_path / "results" / MARKER).exists()
    check_results_dir(tmp_path / "results")  # the workflow's guard accepts it (logs/daily is inside)
