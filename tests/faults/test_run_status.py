"""Run status after a failure (issue 17 item 8): failed jobs with their logs, no stale report, unreadable inputs."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from brmacro.runstatus import failed_jobs, write_run_status
from tests.faults.conftest import Tally

D = "2026-11-24"

SNAKEMAKE_LOG = """Building DAG of jobs...
[Tue Dec  1 10:00:00 2026]
Error in rule agent_fiscal:
    message: None
    jobid: 12
    input: results/silver/silver_curves/date=2026-11-24/part.parquet
    output: results/agents/agent_fiscal/date=2026-11-24/part.parquet
    log: results/logs/agent_fiscal/2026-11-24.log (check log file(s) for error details)

RuleException:
ArtifactError in file rules/steps.smk, line 20:
Error in rule risk_var:
    jobid: 30
    log: results/logs/risk_var/2026-11-23.log (check log file(s) for error details)
Exiting because a job execution failed. Look above for error messages
"""


def test_failed_jobs_are_read_from_the_snakemake_log(tmp_path: Path) -> None:
    log = tmp_path / "snakemake.log"
    log.write_text(SNAKEMAKE_LOG)
    assert failed_jobs(log) == [
        {"rule": "agent_fiscal", "session": D, "log": f"results/logs/agent_fiscal/{D}.log"},
        {"rule": "risk_var", "session": "2026-11-23", "log": "results/logs/risk_var/2026-11-23.log"},
    ]
    assert failed_jobs(tmp_path / "absent.log") == [] and failed_jobs(None) == []


def test_after_a_failure_the_status_names_the_failed_jobs_and_never_an_earlier_runs_report(
    tmp_path: Path, tally: Tally
) -> None:
    results = tmp_path / "results"
    html = results / "report" / "daily_report" / f"date={D}" / "report.html"
    html.parent.mkdir(parents=True)
    html.write_text("<html>an earlier run's report</html>")
    old = time.time() - 3600
    os.utime(html, (old, old))
    log = tmp_path / "snakemake.log"
    log.write_text(SNAKEMAKE_LOG)
    status = write_run_status(results, "error", [D], str(log), started=time.time() - 60)
    md = (results / "run_status.md").read_text()
    ok = ("agent_fiscal 2026-11-24: results/logs/agent_fiscal/2026-11-24.log" in md
          and "All target artifacts exist" not in md and str(html) not in md
          and status["reports_built"] == {} and "No daily report was built by this run" in md)
    # a report written by this run is listed
    html.write_text("<html>this run's report</html>")
    status = write_run_status(results, "success", [D], None, started=time.time() - 60)
    ok = ok and status["reports_built"] == {D: str(html)}
    js = json.loads((results / "run_status.json").read_text())
    ok = ok and js["reports_built"] == {D: str(html)}
    tally.fault(survived=ok)
    assert ok, md


def test_an_unreadable_artifact_is_named_with_the_command_that_rebuilds_it(demo_run: Path, tmp_path: Path,
                                                                            tally: Tally) -> None:
    from tests.conftest import SESSIONS
    from tests.faults.conftest import copy_results

    wd = tmp_path / "wd"
    wd.mkdir()
    copy_results(demo_run, wd)
    d = SESSIONS[-1]
    p = wd / "results" / "silver" / "silver_curves" / f"date={d}" / "part.parquet"
    p.write_bytes(p.read_bytes()[:100])
    q = wd / "results" / "portfolio" / "portfolio_sizing" / f"date={d}" / "part.parquet"
    q.write_bytes((wd / "results" / "portfolio" / "portfolio_sizing" / f"date={SESSIONS[0]}" /
                   "part.parquet").read_bytes())
    status = write_run_status(wd / "results", "success", [d], None)
    md = (wd / "results" / "run_status.md").read_text()
    named = {u["asset"]: u for u in status["unreadable"]}
    ok = (set(named) == {"silver_curves", "portfolio_sizing"}
          and f"--forcerun silver_curves --config date={d}" in md
          and f"artifact of session {SESSIONS[0]}, expected {d}" in md and "All target artifacts exist" not in md)
    tally.bad_input("truncated artifact in the run status", rejected=ok)
    tally.bad_input("another session's artifact in the run status", rejected=ok)
    assert ok, md
