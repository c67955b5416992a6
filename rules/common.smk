# Shared settings: target sessions, paths, wildcard constraints and the named input functions of every rule.
import sys
from functools import lru_cache
from pathlib import Path

from brmacro import pipeline as _pl
from brmacro.calendar import DateError, is_session, previous_sessions, resolve_dates
from brmacro import pool as _pool
from brmacro.pipeline import run_backtest
from brmacro.pool import run_session, run_step
from brmacro.runstatus import write_run_status

RESULTS = config["results"].rstrip("/")
LAYOUT = config["layout"]

try:
    DATES = resolve_dates(config.get("date"), config.get("start"), config.get("end"))
except DateError as exc:
    raise WorkflowError(f"brmacro: {exc}") from None

if LAYOUT == "step" and len(DATES) > 60:
    print(
        f"brmacro: {len(DATES)} sessions with layout=step (23 jobs per session); "
        "--config layout=session builds the same artifacts with 3 jobs per session (docs/performance.md)",
        file=sys.stderr,
    )


wildcard_constraints:
    date=r"\d{4}-\d{2}-\d{2}",


def _session(date):
    from datetime import date as _date

    try:
        d = _date.fromisoformat(date)
    except ValueError:
        raise WorkflowError(
            f"brmacro: {date!r} is not a valid YYYY-MM-DD date"
        ) from None
    if not is_session(d):
        raise WorkflowError(f"brmacro: {date} is not a B3 session")
    return d


@lru_cache(maxsize=None)
def _part_files(asset, date):
    paths = [str(p) for p in _pl.partition_paths(RESULTS, asset, date).values()]
    base = partition_dir(asset, date)
    return tuple(paths + [f"{base}/{x}" for x in _pl.STEPS[asset].extra_outputs])


def partition_dir(asset, date="{date}"):
    return _pl.partition_dir(RESULTS, asset, date)


def part(asset, date="{date}"):
    """What one partition of `asset` is to Snakemake: its files (step layout) or its folder (session layout)."""
    if LAYOUT == "session":
        return [partition_dir(asset, date)]
    return list(_part_files(asset, date))


def part_with_report(asset, date="{date}"):
    """`part()` with the HTML report marked for `snakemake --report`."""
    marked = {"caption": "../report/daily_report.rst", "category": "Daily report"}
    return [
        p if not p.endswith("report.html") else report(p, **marked)
        for p in part(asset, date)
    ]


def step_inputs(asset):
    """Input function: the same session's upstream tables and the declared previous sessions."""
    spec = _pl.STEPS[asset]

    def _inputs(wildcards):
        d = _session(wildcards.date)
        same = [p for up in spec.inputs for p in part(up, wildcards.date)]
        prev = [
            p
            for up, n in spec.prev.items()
            for s in previous_sessions(d, n)
            for p in part(up, s.isoformat())
        ]
        # optional inputs from outside (the desk's positions files): declared only when present
        ext_same, ext_prev = _pl.external_inputs(asset, d, config)
        return {
            "same": [p for p in same if p.endswith(".parquet")] + ext_same,
            "prev": [p for p in prev if p.endswith(".parquet")] + ext_prev,
        }

    return _inputs


def session_inputs(group):
    """Input function of a session-layout rule: the partition folders the group reads."""
    same, prev = _pl.group_inputs(group)

    def _inputs(wildcards):
        d = _session(wildcards.date)
        ext = [
            p
            for a in _pl.SESSION_GROUPS[group]
            for part_ in _pl.external_inputs(a, d, config)
            for p in part_
        ]
        return (
            [partition_dir(u, wildcards.date) for u in same]
            + [
                partition_dir(u, s.isoformat())
                for u, n in prev.items()
                for s in previous_sessions(d, n)
            ]
            + ext
        )

    return _inputs


def session_outputs(group):
    return [directory(partition_dir(a)) for a in _pl.SESSION_GROUPS[group]]


def step_params(asset):
    """Only the config subtrees the step uses (plus the common keys): editing one setting reruns what it touches."""
    return _pl.step_params(asset, config)


def group_params(group):
    return _pl.group_params(group, config)


def log_of(asset):
    return f"{RESULTS}/logs/{asset}/{{date}}.log"


def targets(layers=_pl.LAYERS):
    return [
        p
        for a, s in _pl.STEPS.items()
        if s.layer in layers
        for d in DATES
        for p in part(a, d.isoformat())
    ]


BACKTEST_DIR = f"{RESULTS}/backtest/{DATES[0].isoformat()}_{DATES[-1].isoformat()}"


def backtest_sizing():
    """The sizing of every target session and of the two before the first (the book held on its first P&L)."""
    sessions = previous_sessions(DATES[0], 2) + list(DATES)
    return [part("portfolio_sizing", d.isoformat())[0] for d in sessions]


def backtest_params():
    return {k: config[k] for k in ("source", "report")}


def start_workers():
    """On a local run with threads, hand rule bodies to one worker process per core (brmacro.pool)."""
    if workflow.local_exec and not workflow.remote_exec and workflow.use_threads:
        if _pool.start(workflow.cores):
            print(f"brmacro: rule bodies run in {workflow.cores} worker processes")


def run_status(state, log):
    _pool.stop()
    status = write_run_status(RESULTS, state, [d.isoformat() for d in DATES], log)
    if state == "success":
        from brmacro.report.dispatch import dispatch_alerts

        dispatch_alerts(RESULTS, status["sessions"], **config["report"]["dispatch"])
    print(f"brmacro: run {state}; status in {RESULTS}/run_status.md")
    for d in status["sessions"][-3:]:
        print(f"brmacro: {d}: artifacts under {RESULTS}/<layer>/<asset>/date={d}/")
        html = Path(RESULTS) / "report" / "daily_report" / f"date={d}" / "report.html"
        if html.exists():
            print(f"brmacro: {d}: report {html}")
