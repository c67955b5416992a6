# Shared settings: target sessions, paths, wildcard constraints and the named input functions of every rule.
import atexit
import os
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
from brmacro.pipeline import STEPS, output_sessions, run_backtest
from brmacro.pool import run_session, run_step
from brmacro.runstatus import write_run_status

# Reports written since then were built by this run (brmacro.runstatus).
RUN_STARTED = time.time()
RESULTS = config["results"].rstrip("/")

try:
    DATES = resolve_dates(config.get("date"), config.get("start"), config.get("end"))
    check_results_dir(config["results"])
    check_live_sessions(config["source"], DATES)
except (DateError, GuardError) as exc:
    raise WorkflowError(f"brmacro: {exc}") from None

# layout=auto (the default): the 23 step rules for a few sessions, the session layout from
# brmacro.pipeline.AUTO_SESSION_LAYOUT_FROM sessions, the batch layout from AUTO_BATCH_LAYOUT_FROM
# (docs/performance.md). Same artifacts either way.
LAYOUT = _pl.resolve_layout(config["layout"], len(DATES))

if config["layout"] == "step" and len(DATES) > 60:
    print(
        f"brmacro: {len(DATES)} sessions with layout=step (23 jobs per session); "
        "--config layout=auto (the default) builds the same artifacts with 4 jobs per session or per month "
        "(docs/performance.md)",
        file=sys.stderr,
    )


wildcard_constraints:
    date=r"\d{4}-\d{2}-\d{2}",


# The batch layout's jobs (rules/batches.smk): rule name -> (session group, its month of target sessions).
BATCH_JOBS = (
    {
        f"batch_{g}_{month}": (g, sessions)
        for month, sessions in _pl.session_batches(DATES)
        for g in _pl.SESSION_GROUPS
    }
    if LAYOUT == "batch"
    else {}
)
# The date wildcard of the session rules (rules/sessions.smk): any session, except in the batch layout, where the
# batch rules build the target sessions and the session rules only the earlier sessions the batches read.
SESSION_RULE_DATES = (
    _pl.other_sessions_pattern(DATES) if LAYOUT == "batch" else r"\d{4}-\d{2}-\d{2}"
)


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
    if LAYOUT != "step":
        return [partition_dir(asset, date)]
    return list(_part_files(asset, date))


def part_with_report(asset, date="{date}"):
    """`part()` with the HTML report (daily_report's) marked for `snakemake --report`."""
    marked = {"caption": "../report/daily_report.rst", "category": "Daily report"}
    return [
        p if not p.endswith("report.html") else report(p, **marked)
        for p in part(asset, date)
    ]


@lru_cache(maxsize=None)
def _checked_inputs():
    """The inputs check_complete passed, kept between runs (brmacro.io.CheckedInputs): a rerun reads only the
    footers of files written or changed since. Loaded at the first existing input (brmacro.io imports pandas and
    pyarrow, which a cold run's plan does not need); saved when Snakemake exits, dry runs included. None in a
    job Snakemake runs remotely (a Slurm job re-reads the Snakefile for its one job: it checks that job's inputs
    and leaves the list to the main process)."""
    from brmacro.io import CheckedInputs

    if workflow.remote_exec:
        return None
    checked = CheckedInputs(RESULTS)
    atexit.register(checked.save)
    return checked


@lru_cache(maxsize=None)
def _check_complete(path):
    """brmacro.io.check_complete (an existing input must be a whole Parquet file of its partition's session),
    before any job."""
    from brmacro.io import ArtifactError, check_complete

    if not os.path.exists(path):
        return  # not built yet: the workflow builds it
    checked = _checked_inputs()
    try:
        (checked.check if checked is not None else check_complete)(path)
    except ArtifactError as exc:
        raise WorkflowError(f"brmacro: {exc}") from None


def _complete(paths):
    """``paths`` after :func:`_check_complete` of each table (a session-layout input is a partition folder; one
    not built yet has nothing to check)."""
    for p in paths:
        if p.endswith(".parquet"):
            _check_complete(p)
        elif os.path.isdir(p):
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


def _group_inputs_of(group, d):
    """The partition folders (and the desk's files) the `group` job of session `d` reads, each checked."""
    ext = list(
        dict.fromkeys(  # a file two members read (the desk's positions) is declared once
            p
            for a in _pl.SESSION_GROUPS[group]
            for part_ in _pl.external_inputs(a, d, config)
            for p in part_
        )
    )
    same, _ = _pl.group_inputs(group)
    return (
        _complete(
            [partition_dir(u, d.isoformat()) for u in same]
            + [
                partition_dir(u, s.isoformat())
                for u, ds in _pl.group_prev_dates(group, d, config).items()
                for s in ds
            ]
        )
        + ext
    )


def session_inputs(group):
    """Input function of a session-layout rule: the partition folders the group reads."""

    def _inputs(wildcards):
        d = _session(wildcards.date)
        # a group the step rules built is taken over as built when each member is up to date (no rerun)
        _pl.adopt_step_built(RESULTS, group, d, config)
        return _group_inputs_of(group, d)

    return _inputs


def batch_inputs(group, sessions):
    """Input function of a batch-layout rule: what the group reads for any of its `sessions`, each once."""

    def _inputs(wildcards):
        _pl.adopt_step_built(
            RESULTS, group, sessions, config
        )  # as session_inputs, the month as one job
        return list(
            dict.fromkeys(p for d in sessions for p in _group_inputs_of(group, d))
        )

    return _inputs


def session_outputs(group, sessions=None):
    """The partition folders a session-layout job (`{date}`) or a batch-layout job (its `sessions`) writes."""
    dates = ["{date}"] if sessions is None else [d.isoformat() for d in sessions]
    return [
        directory(partition_dir(a, d)) for d in dates for a in _pl.SESSION_GROUPS[group]
    ]


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


# Bronze steps fetch from a source in live mode, so their jobs are retried on failure, one per source at a time.
SOURCE_RETRIES = 2


def source_resources(asset):
    """A bronze step's resource `src_<source>=1` (at most one job per source at a time), none for the others."""
    if _pl.STEPS[asset].layer != "bronze":
        return {}
    return {f"src_{asset.removeprefix('bronze_')}": 1}


def group_resources(group):
    """A session or batch job's resources: those of its member steps (the bronze group holds every source)."""
    return {
        k: v for a in _pl.SESSION_GROUPS[group] for k, v in source_resources(a).items()
    }


#: A batch job's time limit on a cluster (`runtime`, minutes; the Slurm executor's `--time`): 10 minutes plus this
#: per session of its month. The demo costs ~2 CPU s a session for all four groups together; the margin covers a
#: slow shared filesystem and live sources (docs/cluster.md).
BATCH_MINUTES_PER_SESSION = 2


def batch_resources(group, sessions):
    """A batch job's resources: its group's, and a `runtime` that grows with the sessions of its month."""
    return {
        **group_resources(group),
        "runtime": 10 + BATCH_MINUTES_PER_SESSION * len(sessions),
    }


def log_of(asset):
    return f"{RESULTS}/logs/{asset}/{{date}}.log"


def _batch_target(group, sessions):
    """The one output a batch job is asked for: its first partition folder that does not exist, else its first.
    Snakemake checks the outputs of a job it was asked for by another file only through that file and their
    times, so a job whose named folder exists would not rebuild a missing one (a range extended inside a month, a
    deleted folder); naming the missing one does, and the job rebuilds its whole month.
    """
    outs = [
        partition_dir(a, d.isoformat())
        for d in sessions
        for a in _pl.SESSION_GROUPS[group]
    ]
    return next((f for f in outs if not os.path.isdir(f)), outs[0])


def targets(layers=_pl.LAYERS):
    """Every partition of the target sessions in `layers`. In the batch layout, one partition per batch job
    (`_batch_target`): the plan does not weigh ~23 folders per session against ~800 jobs (~12 s over 16 years).
    """
    if LAYOUT == "batch":
        return [
            _batch_target(g, sessions)
            for g, sessions in BATCH_JOBS.values()
            if any(_pl.STEPS[a].layer in layers for a in _pl.SESSION_GROUPS[g])
        ]
    return [
        p
        for a, s in _pl.STEPS.items()
        if s.layer in layers
        for d in DATES
        for p in part(a, d.isoformat())
    ]


BACKTEST_DIR = f"{RESULTS}/backtest/{DATES[0].isoformat()}_{DATES[-1].isoformat()}"


def _backtest_sessions():
    """The sizing sessions of the range: every target session and the two before the first (the book held on its
    first P&L). A range its returns windows cannot cover is refused here, before its jobs are planned.
    """
    try:
        check_backtest_range(DATES, config["silver"]["lookback_sessions"])
    except GuardError as exc:
        raise WorkflowError(f"brmacro: {exc}") from None
    return previous_sessions(DATES[0], 2) + list(DATES)


def backtest_inputs(asset):
    """Input function: one partition of `asset` per sizing session of the range (`portfolio_sizing`, and the
    `portfolio_optimization` views and `signal_aggregation` signals behind the attribution).
    """

    def _inputs(wildcards):
        return [part(asset, d.isoformat())[0] for d in _backtest_sessions()]

    return _inputs


def backtest_returns():
    """Input function: the `silver_returns` of the range's sessions whose windows chain over the whole range
    (brmacro.pipeline.backtest_returns_sessions)."""

    def _returns(wildcards):
        _backtest_sessions()
        sessions = _pl.backtest_returns_sessions(
            DATES, config["silver"]["lookback_sessions"]
        )
        return [part("silver_returns", d.isoformat())[0] for d in sessions]

    return _returns


def backtest_params():
    """Only the keys the backtest reads (brmacro.pipeline.run_backtest)."""
    return _pl.backtest_params(config)


def start_workers():
    """On a local run with threads, hand rule bodies to one worker process per core and drop the job rate limiter;
    on any run, checksum a finished job's inputs once (brmacro.pool). Marks the results folder as brmacro's
    (brmacro.guards)."""
    mark_results_dir(RESULTS)
    if workflow.local_exec and not workflow.remote_exec and workflow.use_threads:
        if _pool.start(workflow.cores):
            print(f"brmacro: rule bodies run in {workflow.cores} worker processes")
        _pool.drop_job_rate_limit(getattr(workflow, "scheduler", None))
    _pool.checksum_inputs_once(getattr(workflow, "persistence", None))


def run_status(state, log):
    _pool.stop()
    # the tables this run wrote are whole by construction: the next run need not read their footers
    checked = _checked_inputs()
    if checked is not None:
        checked.add_written(
            [
                p
                for a in STEPS
                for d in DATES
                for p in _pl.partition_paths(RESULTS, a, d).values()
            ],
            since=RUN_STARTED,
        )
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
