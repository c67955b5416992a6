"""Alert rules on constructed inputs, and their dispatch to local HTTP/SMTP receivers with a cooldown."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import logging
import socketserver
import threading
from pathlib import Path

import pandas as pd
import pytest

from brmacro.calendar import previous_sessions
from brmacro.io import write_table
from brmacro.report.alerts import current_drawdown, evaluate_alerts, sessions_behind
from brmacro.report.dispatch import STATE_FILE, dispatch_alerts
from brmacro.report.inputs import Inputs
from brmacro.report.schemas import ALERTS
from tests.unit.test_report_fixtures import RISK_PARAMS, SESSION, all_tables


def _inp(tables: dict) -> Inputs:
    return Inputs(tables=dict(tables), expected=tuple(sorted({a for a, _ in tables})))


def _eval(risk: dict | None = None, **kw) -> dict[str, object]:
    tables = all_tables(**kw)
    for k in kw.get("drop", ()):
        tables.pop(k)
    inp = _inp(tables)
    for k in kw.get("drop", ()):
        inp.missing[k] = "not built"
    return {a.rule_id: a for a in evaluate_alerts(inp, SESSION, RISK_PARAMS if risk is None else risk)}


def test_quiet_session_fires_only_what_it_should():
    a = _eval(flips=0, surge=0.0)
    assert not any(x.fired for x in a.values()), [x for x in a.values() if x.fired]
    assert len(a) == 12


@pytest.mark.parametrize(("var95", "breach", "critical"), [(0.012, False, False), (0.031, True, False),
                                                            (0.04, True, True)])
def test_var_rules_use_the_risk_limits(var95, breach, critical):
    a = _eval(var95=var95, flips=0, surge=0.0)
    assert a["VAR_BREACH"].fired is breach and a["VAR_BREACH"].threshold == 0.03
    assert a["VAR_CRITICAL"].fired is critical and a["VAR_CRITICAL"].threshold == 0.05
    assert a["VAR_CRITICAL"].value == pytest.approx(var95 * 1.4)


def test_drawdown_closed_form_and_rules():
    path = (0.01, -0.03, -0.03, 0.0, 0.0)
    dd, n = current_drawdown(pd.DataFrame({"date": range(5), "pnl": path, "available": True}))
    assert n == 5 and dd == pytest.approx(1 - 0.97 * 0.97)  # peak 1.01 after the gain
    a = _eval(pnl_path=path)
    assert a["DRAWDOWN_WARNING"].fired and not a["DRAWDOWN_CRITICAL"].fired
    a = _eval(pnl_path=(-0.04, -0.04, -0.04, 0.0, 0.0))
    assert a["DRAWDOWN_CRITICAL"].fired and a["DRAWDOWN_CRITICAL"].threshold == 0.10
    gains = _eval(pnl_path=(0.05, 0.05, 0.05, 0.05, 0.05))
    assert not gains["DRAWDOWN_WARNING"].fired and gains["DRAWDOWN_WARNING"].value == 0.0  # gains are not losses


def test_limit_breach_uses_fractions():
    t = all_tables()
    lim = t[("risk_limits", "part")]
    lim.loc[lim["limit"] == "gross_leverage", "utilisation"] = 0.99
    a = {x.rule_id: x for x in evaluate_alerts(_inp(t), SESSION, RISK_PARAMS)}
    assert not a["LIMIT_BREACH"].fired and a["LIMIT_BREACH"].threshold == 1.0
    lim.loc[lim["limit"] == "gross_leverage", "utilisation"] = 1.0
    a = {x.rule_id: x for x in evaluate_alerts(_inp(t), SESSION, RISK_PARAMS)}
    assert a["LIMIT_BREACH"].fired and "gross_leverage" in a["LIMIT_BREACH"].message


def test_signal_rules():
    assert not _eval(flips=0, surge=0.0)["SIGNAL_FLIP"].fired
    a = _eval(flips=2, surge=0.2)
    assert a["SIGNAL_FLIP"].fired and a["SIGNAL_FLIP"].value == 2
    assert not a["CONVICTION_SURGE"].fired  # flips move 0.2, surge 0.2 <= 0.3
    assert _eval(flips=0, surge=0.45)["CONVICTION_SURGE"].fired


def test_pipeline_failure_and_agent_stale():
    a = _eval(drop=(("risk_var", "part"),))
    assert a["PIPELINE_FAILURE"].fired and "risk_var/part" in a["PIPELINE_FAILURE"].message
    a = _eval(drop_composite="agent_fiscal")
    assert a["AGENT_STALE"].fired and "agent_fiscal" in a["AGENT_STALE"].message
    a = _eval(drop=(("agent_inflation", "part"),))
    assert a["AGENT_STALE"].fired and "agent_inflation (missing)" in a["AGENT_STALE"].message


def test_stale_data_in_sessions():
    assert sessions_behind(dt.date(2025, 6, 6), dt.date(2025, 6, 9)) == 1  # Friday -> Monday
    assert sessions_behind(SESSION, SESSION) == 0
    t = all_tables()
    b3 = t[("bronze_b3_market_data", "part")]
    b3["trade_date"] = previous_sessions(SESSION, 3)[0]
    a = {x.rule_id: x for x in evaluate_alerts(_inp(t), SESSION, RISK_PARAMS)}
    assert a["STALE_DATA"].fired and "bronze_b3_market_data 3 sessions behind" in a["STALE_DATA"].message
    # focus has its own threshold (6): 2 sessions behind does not fire
    assert "bronze_bcb_focus" not in a["STALE_DATA"].message


def test_unconfigured_threshold_does_not_fire():
    risk = {"limits": {}, "alerts": {"stale_data_seconds": 3600}}
    a = _eval(risk=risk, flips=3, surge=0.9, pnl_path=(-0.2, 0.0, 0.0, 0.0, 0.0))
    for rule in ("STALE_DATA", "DRAWDOWN_WARNING", "DRAWDOWN_CRITICAL", "SIGNAL_FLIP", "CONVICTION_SURGE"):
        assert not a[rule].fired and a[rule].message.startswith("n/a"), rule
        assert a[rule].threshold is None
    assert "stale_data_seconds" in a["STALE_DATA"].message


# ----------------------------------------------------------------------------------------------- dispatch
def _write_alerts(results: Path, fired: tuple[str, ...]) -> None:
    rows = [{"date": SESSION, "rule_id": r, "severity": "critical", "fired": r in fired, "value": 1.0,
             "threshold": 0.0, "message": f"{r} message"} for r in ("PIPELINE_FAILURE", "VAR_BREACH", "SIGNAL_FLIP")]
    p = results / "report" / "daily_report" / f"date={SESSION.isoformat()}" / "alerts.parquet"
    write_table(pd.DataFrame(rows, columns=ALERTS.names), p, ALERTS, asof=SESSION, source="demo")


class _Hook(http.server.BaseHTTPRequestHandler):
    bodies: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802
        n = int(self.headers["Content-Length"])
        type(self).bodies.append(json.loads(self.rfile.read(n)))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        return None


class _Smtp(socketserver.StreamRequestHandler):
    """A minimal SMTP responder: EHLO/HELO, MAIL, RCPT, DATA, QUIT."""

    messages: list[str] = []

    def handle(self) -> None:
        self.wfile.write(b"220 localhost test SMTP\r\n")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            cmd = line.decode().strip().upper()
            if cmd.startswith(("EHLO", "HELO")):
                self.wfile.write(b"250 localhost\r\n")
            elif cmd.startswith(("MAIL", "RCPT", "RSET", "NOOP")):
                self.wfile.write(b"250 OK\r\n")
            elif cmd == "DATA":
                self.wfile.write(b"354 go ahead\r\n")
                data = []
                while True:
                    ln = self.rfile.readline()
                    if ln in (b".\r\n", b".\n", b""):
                        break
                    data.append(ln.decode())
                type(self).messages.append("".join(data))
                self.wfile.write(b"250 queued\r\n")
            elif cmd == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"502 not implemented\r\n")


@pytest.fixture()
def servers():
    _Hook.bodies, _Smtp.messages = [], []
    http_srv = http.server.HTTPServer(("127.0.0.1", 0), _Hook)
    smtp_srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Smtp)
    smtp_srv.daemon_threads = True
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in (http_srv, smtp_srv)]
    for t in threads:
        t.start()
    yield http_srv.server_address[1], smtp_srv.server_address[1]
    for s in (http_srv, smtp_srv):
        s.shutdown()
        s.server_close()


def test_dispatch_reaches_webhook_and_smtp_with_cooldown(tmp_path, servers, caplog):
    hport, sport = servers
    _write_alerts(tmp_path, ("PIPELINE_FAILURE", "VAR_BREACH"))
    secret = "T000/B000/secret-token"
    env = {"BRMACRO_SLACK_WEBHOOK_URL": f"http://127.0.0.1:{hport}/hook/{secret}",
           "BRMACRO_SMTP_HOST": "127.0.0.1", "BRMACRO_SMTP_PORT": str(sport), "BRMACRO_ALERT_TO": "pm@example.com"}
    t0 = dt.datetime(2025, 6, 11, 9, 0, tzinfo=dt.UTC)
    caplog.set_level(logging.DEBUG, logger="brmacro.report.dispatch")
    n = dispatch_alerts(str(tmp_path), [SESSION.isoformat()], env=env, now=t0, timeout_seconds=5)
    assert n == 2
    assert len(_Hook.bodies) == 1 and "PIPELINE_FAILURE" in _Hook.bodies[0]["text"]
    assert "SIGNAL_FLIP" not in _Hook.bodies[0]["text"]  # not fired
    assert len(_Smtp.messages) == 1 and "VAR_BREACH" in _Smtp.messages[0]
    state = json.loads((tmp_path / STATE_FILE).read_text())
    assert set(state) == {"PIPELINE_FAILURE", "VAR_BREACH"}
    # a repeat within the cooldown is suppressed; after it, sent again
    assert dispatch_alerts(str(tmp_path), [SESSION.isoformat()], env=env, now=t0 + dt.timedelta(minutes=10)) == 0
    assert len(_Hook.bodies) == 1
    assert dispatch_alerts(str(tmp_path), [SESSION.isoformat()], env=env, now=t0 + dt.timedelta(minutes=31)) == 2
    assert len(_Hook.bodies) == 2 and len(_Smtp.messages) == 2
    assert secret not in caplog.text


def test_dispatch_never_fails_the_run(tmp_path, caplog):
    _write_alerts(tmp_path, ("PIPELINE_FAILURE",))
    secret = "hooks/secret-xyz"
    env = {"BRMACRO_SLACK_WEBHOOK_URL": f"http://127.0.0.1:9/{secret}", "BRMACRO_SMTP_HOST": "127.0.0.1",
           "BRMACRO_SMTP_PORT": "9", "BRMACRO_ALERT_TO": "a@b.c", "BRMACRO_SMTP_PASSWORD": "pw-secret"}
    caplog.set_level(logging.DEBUG, logger="brmacro.report.dispatch")
    assert dispatch_alerts(str(tmp_path), [SESSION.isoformat()], env=env, timeout_seconds=2) == 0
    assert "delivery failed" in caplog.text
    assert secret not in caplog.text and "pw-secret" not in caplog.text
    assert dispatch_alerts(str(tmp_path), [SESSION.isoformat()], env={}) == 0  # no channel
    assert dispatch_alerts(str(tmp_path), ["2025-01-02"], env=env, timeout_seconds=2) == 0  # no partition


@pytest.mark.parametrize("drop", [(), (("bronze_bcb_sgs", "part"),)])
def test_freshness_given_is_freshness_computed_and_leaves_the_inputs_as_they_were(drop):
    """The report computes the freshness table once for the staleness alert and its table (issue 16, seventh
    round): the alerts are those computed from the inputs, and freshness reads the snapshots without changing them."""
    from brmacro.report.alerts import freshness

    tables = all_tables()
    for k in drop:
        tables.pop(k)
    inp = _inp(tables)
    for k in drop:
        inp.missing[k] = "not built"
    before = {k: v.copy() for k, v in inp.tables.items()}
    fr = freshness(inp, SESSION)
    assert fr["sessions_behind"].notna().any()
    assert evaluate_alerts(inp, SESSION, RISK_PARAMS, fresh=fr) == evaluate_alerts(inp, SESSION, RISK_PARAMS)
    pd.testing.assert_frame_equal(freshness(inp, SESSION), fr)
    assert inp.tables.keys() == before.keys()
    for k, v in before.items():
        pd.testing.assert_frame_equal(inp.tables[k], v)
