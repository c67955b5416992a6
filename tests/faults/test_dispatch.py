"""Alert dispatch (issue 17 item 7): a total deadline, future cooldown stamps refused, failures reported."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading

from brmacro.report.dispatch import STATE_FILE, dispatch_alerts
from tests.faults.conftest import Tally
from tests.unit.test_alerts import SESSION, _Hook, _write_alerts, servers  # noqa: F401 - fixture


class _Drip(http.server.BaseHTTPRequestHandler):
    """A webhook that answers one header line every 0.5 s, forever (each read is within the socket timeout)."""

    stop = threading.Event()

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.wfile.write(b"HTTP/1.1 200 OK\r\n")
        while not self.stop.wait(0.5):
            try:
                self.wfile.write(b"X-Drip: 1\r\n")
                self.wfile.flush()
            except OSError:
                return

    def log_message(self, *a):
        return


def test_a_dripping_webhook_cannot_hold_the_run_past_the_total_deadline(tmp_path, tally: Tally):
    _write_alerts(tmp_path, ("PIPELINE_FAILURE",))
    _Drip.stop.clear()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Drip)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        env = {"BRMACRO_SLACK_WEBHOOK_URL": f"http://127.0.0.1:{srv.server_address[1]}/hook"}
        problems: list[str] = []
        n = dispatch_alerts(str(tmp_path), [SESSION.isoformat()], env=env, timeout_seconds=5, deadline_seconds=2,
                            problems=problems)
    finally:
        _Drip.stop.set()
        srv.shutdown()
        srv.server_close()
    ok = n == 0 and any("webhook delivery failed" in p and "deadline" in p for p in problems)
    tally.fault(survived=ok)  # returning at all proves the deadline: the drip never ends
    assert ok, problems


def test_a_cooldown_stamp_in_the_future_is_invalid_the_alert_is_sent_and_reported(
    tmp_path, servers, tally: Tally  # noqa: F811 - the fixture imported above
):
    hport, _ = servers
    _write_alerts(tmp_path, ("VAR_BREACH",))
    now = dt.datetime(2025, 6, 11, 9, 0, tzinfo=dt.UTC)
    (tmp_path / STATE_FILE).write_text(json.dumps({"VAR_BREACH": (now + dt.timedelta(days=3)).isoformat()}))
    env = {"BRMACRO_SLACK_WEBHOOK_URL": f"http://127.0.0.1:{hport}/hook"}
    problems: list[str] = []
    assert dispatch_alerts(str(tmp_path), [SESSION.isoformat()], env=env, now=now, problems=problems) == 1
    assert len(_Hook.bodies) == 1 and "VAR_BREACH" in _Hook.bodies[0]["text"]
    assert any("VAR_BREACH" in p and "future" in p for p in problems), problems
    assert json.loads((tmp_path / STATE_FILE).read_text())["VAR_BREACH"] == now.isoformat()
    tally.bad_input("cooldown stamp in the future", rejected=True)


def test_delivery_failures_are_returned_for_the_run_status(tmp_path, tally: Tally):
    _write_alerts(tmp_path, ("PIPELINE_FAILURE",))
    problems: list[str] = []
    env = {"BRMACRO_SLACK_WEBHOOK_URL": "http://127.0.0.1:9/hook/secret-abc"}
    assert dispatch_alerts(str(tmp_path), [SESSION.isoformat()], env=env, timeout_seconds=2, problems=problems) == 0
    assert len(problems) == 1 and "webhook delivery failed" in problems[0] and "secret-abc" not in problems[0]
    tally.fault(survived=True)
