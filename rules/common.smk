# Shared settings: target sessions, paths, wildcard constraints and the named input functions of every rule.
import re
import sys
import time
from functools import lru_cache
from pathlib import Path

from brmacro import pipeline as _pl
from brmacro.calendar import DateError, is_session, previous_sessions, resolve_dates
from brmacro.guards import (
    GuardError,
    check_backtest_range,
    check_live_sessions,
    check_results_dir,
    mark_results_dir,
)
from brmacro import pool as _pool
from brmacro.pipeline import run_backtest
from brmacro.pool import run_session, run_step
from brmacro.runstatus import write_run_status

# Reports written since then were built by this run (brmacro.runstatus).
RUN_STARTED = time.time()
RESULTS = config["results"].rstrip("/")
LAYOUT = config["layout"]

try:
    DATES = resolve_dates(config.get("date"), config.get("start"), config.get("end"))
    check_results_dir(config["results"])
    check_live_sessions(config["source"], DATES)
except (DateError, GuardError) as exc:
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


_ASOF = re.compile(rb"brmacro\.asof..(\d{4}-\d{2}-\d{2})", re.S)


@lru_cache(maxsize=None)
def _check_complete(path):
    """Refuse, before any job, an existing input that is not a whole Parquet file (truncated or overwritten) or
    whose footer's ``brmacro.asof`` is not its partition's session (another session's file put there).

    Snakemake would count it as up to date and run its readers, which fail and lose their own good outputs;
    naming it here with the command that rebuilds it runs nothing. Reads the file's last bytes (its footer).
    """
    from brmacro.io import rebuild_hint

    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
            size = fh.seek(0, 2)
            fh.seek(max(size - 8, 0))
            tail = fh.read(8)
            n = int.from_bytes(tail[:4], "little") if len(tail) == 8 else -1
            footer = b""
            if 0 < n <= size - 12:
                fh.seek(size - 8 - n)
                footer = fh.read(n)
    except FileNotFoundError:
        return  # not built yet: Snakemake builds it
    except OSError:
        head = tail = footer = b""
    if head != b"PAR1" or tail[4:] != b"PAR1" or not footer:
        raise WorkflowError(
            f"brmacro: input {path} is not a complete Parquet file (truncated or overwritten); "
            f"{rebuild_hint(path)}"
        )
    session = Path(path).parent.name.removeprefix("date=")
    m = _ASOF.search(footer)
    found = m.group(1).decode() if m else None
    if found != session:
        raise WorkflowError(
            f"brmacro: input {path} is the artifact of session {found or '(no brmacro.asof metadata)'}, expected "
            f"{session}: another session's file was put in this partition; {rebuild_hint(path)}"
        )


def _complete(paths):
    """``paths`` after :func:`_check_complete` of each table (a session-layout input is a partition folder)."""
    for p in paths:
        if p.endswith(".parquet"):
            _check_complete(p)
        else:
            folder = Path(p)
            for f in _pl.partition_paths(
                RESULTS, folder.parent.name, folder.name.removeprefix("date=")
            ).values():
                _check_complete(str(f))
    return paths


def step_inputs(asset):
    """Input function: the same session's upstream tables and the declared previous sessions (each checked to
    be a whole Parquet file when it exists)."""
    spec = _pl.STEPS[asset]

    def _inputs(wildcards):
        d = _session(wildcards.date)
        same = [p for up in spec.inputs for p in part(up, wildcards.date)]
        prev = [
            p
            for up, ds in _pl.prev_dates(asset, d, config).items()
            for s in ds
            for p in part(up, s.isoformat())
        ]
        # optional inputs from outside (the desk's positions files): declared only when present
        ext_same, ext_prev = _pl.external_inputs(asset, d, config)
        return {
            "same": _complete([p for p in same if p.endswith(".parquet")]) + ext_same,
            "prev": _complete([p for p in prev if p.endswith(".parquet")]) + ext_prev,
        }

    return _inputs


def session_inputs(group):
    """Input function of a session-layout rule: the partition folders the group reads."""
    same, _ = _pl.group_inputs(group)

    def _inputs(wildcards):
        d = _session(wildcards.date)
        ext = [
            p
            for a in _pl.SESSION_GROUPS[group]
            for part_ in _pl.external_inputs(a, d, config)
            for p in part_
        ]
        return (
            _complete(
                [partition_dir(u, wildcards.date) for u in same]
                + [
                    partition_dir(u, s.isoformat())
                    for u, ds in _pl.group_prev_dates(group, d, config).items()
                    for s in ds
                ]
            )
            + ext
        )

    return _inputs


def session_outputs(group):
    return [directory(partition_dir(a)) for a in _pl.SESSION_GROUPS[group]]


# The code version of every step (brmacro.codeversion): a param, so a change to the library code a step runs
# reruns that step (and, through their inputs, its dependants) and nothing else.
CODE = _pl.code_versions()


def step_params(asset):
    """Only the config subtrees the step uses (plus the common keys): editing one setting reruns what it touches.
    The step's code version rides along (brmacro.pipeline.CODE_KEY)."""
    return {**_pl.step_params(asset, config), _pl.CODE_KEY: CODE[asset]}


def group_params(group):
    return {
        **_pl.group_params(group, config),
        "code": {a: CODE[a] for a in _pl.SESSION_GROUPS[group]},
    }


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
    """Input function: the sizing of every target session and of the two before the first (the book held on its
    first P&L). A range longer than the returns history is refused here, before its jobs are planned.
    """

    def _sizing(wildcards):
        try:
            check_backtest_range(DATES, config["silver"]["lookback_sessions"])
        except GuardError as exc:
            raise WorkflowError(f"brmacro: {exc}") from None
        sessions = previous_sessions(DATES[0], 2) + list(DATES)
        return [part("portfolio_sizing", d.isoformat())[0] for d in sessions]

    return _sizing


def backtest_params():
    """Only the keys the backtest reads (brmacro.pipeline.run_backtest)."""
    return _pl.backtest_params(config)


def start_workers():
    """On a local run with threads, hand rule bodies to one worker process per core (brmacro.pool). Marks the
    results folder as brmacro's (brmacro.guards)."""
    mark_results_dir(RESULTS)
    if workflow.local_exec and not workflow.remote_exec and workflow.use_threads:
        if _pool.start(workflow.cores):
            print(f"brmacro: rule bodies run in {workflow.cores} worker processes")


def run_status(state, log):
    _pool.stop()
    problems = []
    if state == "success":
        from brmacro.report.dispatch import dispatch_alerts

        dispatch_alerts(
            RESULTS,
            [d.isoformat() for d in DATES],
            problems=problems,
            **config["report"]["dispatch"],
        )
    status = write_run_status(
        RESULTS,
        state,
        [d.isoformat() for d in DATES],
        log,
        started=RUN_STARTED,
        dispatch=problems,
    )
    print(f"brmacro: run {state}; status in {RESULTS}/run_status.md")
    for job in status["failed_jobs"]:
        print(
            f"brmacro: FAILED {job['rule']} {job['session']}: log {job['log'] or '-'}"
        )
    for p in problems:
        print(f"brmacro: alert dispatch: {p}")
    for d in status["sessions"][-3:]:
        print(f"brmacro: {d}: artifacts under {RESULTS}/<layer>/<asset>/date={d}/")
        html = status["reports_built"].get(d)
        old = Path(RESULTS) / "report" / "daily_report" / f"date={d}" / "report.html"
        if html:
            print(f"brmacro: {d}: report {html}")
        elif (
            state == "success" and old.exists()
        ):  # nothing to rebuild: the report is current
            print(f"brmacro: {d}: report {old} (up to date, built by an earlier run)")
