"""The step table and the one call every Snakemake rule body makes.

A *step* is one asset: a library function ``build(ctx) -> {table: DataFrame}`` in
``brmacro.<layer>.steps`` (or ``brmacro.bronze.steps``), whose tables are declared once in the
layer's ``schemas`` module. :func:`run_step` loads the declared inputs, calls the function, checks
every table against its schema and writes them atomically. Rules only say *what* depends on
*what* (:data:`STEPS`); this module and the layers say *how*.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import importlib
import logging
import math
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from brmacro.errors import InputMissing
from brmacro.params import declared_section
from brmacro.params.portfolio import EXECUTION_KEYS

if TYPE_CHECKING:  # pandas and pyarrow load only when a step runs: the Snakefile imports this module to plan
    import pandas as pd

    from brmacro.agents import steps as agents_steps
    from brmacro.bronze import steps as bronze_steps
    from brmacro.io import Schema
    from brmacro.portfolio import steps as portfolio_steps
    from brmacro.report import steps as report_steps
    from brmacro.risk import steps as risk_steps
    from brmacro.signals import steps as signals_steps
    from brmacro.silver import steps as silver_steps

__all__ = [
    "LAYERS",
    "STEPS",
    "WINDOWS",
    "Context",
    "StepSpec",
    "all_schemas",
    "backtest_returns_sessions",
    "group_prev_dates",
    "prev_dates",
    "run_step",
    "tables_of",
]

LAYERS = ("bronze", "silver", "agents", "signals", "portfolio", "risk", "report")
if not TYPE_CHECKING:  # each layer's steps module, imported when a step first runs (see StepSpec.build)
    from brmacro._lazy import LazyModule

    bronze_steps, silver_steps, agents_steps, signals_steps, portfolio_steps, risk_steps, report_steps = (
        LazyModule(f"brmacro.{layer}.steps") for layer in LAYERS
    )
SILVER = ("silver_curves", "silver_returns", "silver_macro")
AGENTS = ("agent_inflation", "agent_monetary_policy", "agent_fiscal", "agent_fx_equilibrium", "agent_cross_asset")
BRONZE = (
    "bronze_bcb_sgs",
    "bronze_fred",
    "bronze_yahoo",
    "bronze_bcb_ptax",
    "bronze_b3_market_data",
    "bronze_treasury_gov",
    "bronze_bcb_focus",
)


#: A step: the library function building one partition's tables from its :class:`Context`.
StepFunction = Callable[["Context"], Mapping[str, "pd.DataFrame"]]


@dataclass(frozen=True)
class StepSpec:
    """What one asset depends on.

    Attributes
    ----------
    layer : str
        One of :data:`LAYERS`.
    inputs : tuple of str
        Assets of the same session it reads.
    prev : mapping of str to int
        Assets it reads from the ``n`` previous B3 sessions (bounded fan-out, never itself).
    config : tuple of str
        The dotted config keys (``risk.var``, ``agents.damper``, ``nav_brl``) the step reads: the rule passes
        exactly these (and :data:`COMMON_KEYS`) as ``params`` (:func:`step_params`), so editing any other key
        reruns nothing of this step. Each is declared in :mod:`brmacro.params`.
    extra_outputs : tuple of str
        Non-Parquet files it writes beside its tables (the report's HTML and Markdown).
    window : str
        Name of a config-dependent window of further previous sessions (:data:`WINDOWS`), '' for none:
        the report's track record reads a bounded, configured window of previous sizings and VaRs.
    external : tuple of str
        Optional inputs from outside the workflow (:func:`external_inputs`), e.g. the desk's positions files.
    build : callable
        Returns the step function, ``brmacro.<layer>.steps.<asset>`` (a reference an editor and mypy follow;
        calling it imports the steps module, which planning never does: docs/architecture.md).
    """

    layer: str
    inputs: tuple[str, ...] = ()
    prev: Mapping[str, int] = field(default_factory=dict)
    config: tuple[str, ...] = ()
    extra_outputs: tuple[str, ...] = ()
    window: str = ""
    external: tuple[str, ...] = ()
    build: Callable[[], StepFunction] = field(kw_only=True, compare=False, repr=False)


#: Sessions of model-book P&L the risk limits evaluate (daily, weekly and drawdown limits; risk.steps).
PNL_SESSIONS = 5

#: The live connection settings every live bronze step reads (``live.sources.<source>`` is its own).
_LIVE_TOP = tuple(f"live.{k}" for k in ("cache_dir", "timeout_seconds", "retries", "backoff_seconds",
                                          "max_backoff_seconds", "on_source_failure"))
#: What every agent reads beside its own section (``agents.<agent>``).
_AGENT_COMMON = ("agents.inflation_target", "agents.damper")
#: What signal_aggregation reads: every ``signals`` key but the monitor's (signal_monitor reads only that).
_SIGNALS_AGGREGATION = tuple(f"signals.{k}" for k in declared_section("signals").keys if k != "monitor")



def _bronze(asset: str, build: Callable[[], Callable[[Context], Mapping[str, pd.DataFrame]]]) -> StepSpec:
    """A bronze step: the bronze and demo sections, the live connection settings and its own source's."""
    return StepSpec("bronze", config=("bronze", "demo", *_LIVE_TOP, f"live.sources.{asset.removeprefix('bronze_')}"),
                    build=build)


STEPS: dict[str, StepSpec] = {
    "bronze_bcb_sgs": _bronze("bronze_bcb_sgs", lambda: bronze_steps.bronze_bcb_sgs),
    "bronze_fred": _bronze("bronze_fred", lambda: bronze_steps.bronze_fred),
    "bronze_yahoo": _bronze("bronze_yahoo", lambda: bronze_steps.bronze_yahoo),
    "bronze_bcb_ptax": _bronze("bronze_bcb_ptax", lambda: bronze_steps.bronze_bcb_ptax),
    "bronze_b3_market_data": _bronze("bronze_b3_market_data", lambda: bronze_steps.bronze_b3_market_data),
    "bronze_treasury_gov": _bronze("bronze_treasury_gov", lambda: bronze_steps.bronze_treasury_gov),
    "bronze_bcb_focus": _bronze("bronze_bcb_focus", lambda: bronze_steps.bronze_bcb_focus),
    "silver_curves": StepSpec(
        "silver", ("bronze_b3_market_data", "bronze_treasury_gov"),
        config=tuple(f"silver.{k}" for k in ("lookback_sessions", "di_tenors_du", "us_tenors", "spread_tenors",
                                             "slopes", "nelson_siegel", "treasury_ffill_sessions")),
        build=lambda: silver_steps.silver_curves,
    ),
    "silver_returns": StepSpec(
        "silver",
        ("bronze_yahoo", "bronze_bcb_ptax", "bronze_b3_market_data", "bronze_treasury_gov", "bronze_bcb_sgs",
         "bronze_fred"),
        config=(*(f"silver.{k}" for k in ("lookback_sessions", "annualisation", "instrument_ffill_sessions",
                                          "price_ffill_sessions", "rate_ffill_sessions", "return_series",
                                          "ust_tenor_years", "vol_windows", "z_window")),
                "bronze.crisis_windows"),  # the windows of the crisis table
        build=lambda: silver_steps.silver_returns,
    ),
    "silver_macro": StepSpec(
        "silver", ("bronze_bcb_sgs", "bronze_fred", "bronze_bcb_focus"), config=("silver.macro",),
        build=lambda: silver_steps.silver_macro,
    ),
    "agent_inflation": StepSpec(
        "agents", SILVER, config=("agents.inflation", *_AGENT_COMMON), build=lambda: agents_steps.agent_inflation
    ),
    "agent_monetary_policy": StepSpec(
        "agents", (*SILVER, "agent_inflation"), config=("agents.monetary_policy", *_AGENT_COMMON),
        build=lambda: agents_steps.agent_monetary_policy,
    ),
    "agent_fiscal": StepSpec(
        "agents", SILVER, config=("agents.fiscal", *_AGENT_COMMON), build=lambda: agents_steps.agent_fiscal
    ),
    "agent_fx_equilibrium": StepSpec(
        "agents", SILVER, config=("agents.fx_equilibrium", "agents.damper"),
        build=lambda: agents_steps.agent_fx_equilibrium,
    ),
    "agent_cross_asset": StepSpec(
        "agents", (*SILVER, *AGENTS[:4]), config=("agents.cross_asset", *_AGENT_COMMON),
        build=lambda: agents_steps.agent_cross_asset,
    ),
    # the strategies read the agents' inflation-target table (one table, DOMAIN A7)
    "signal_aggregation": StepSpec(
        "signals", (*SILVER, *AGENTS), config=(*_SIGNALS_AGGREGATION, "agents.inflation_target"),
        build=lambda: signals_steps.signal_aggregation,
    ),
    "signal_monitor": StepSpec(
        "signals", ("signal_aggregation",), {"signal_aggregation": 5}, config=("signals.monitor",),
        build=lambda: signals_steps.signal_monitor,
    ),
    "portfolio_optimization": StepSpec(
        "portfolio",
        ("signal_aggregation", "agent_cross_asset", "silver_returns", "bronze_b3_market_data"),
        config=("portfolio", "desk", "nav_brl"),  # nav_brl: the desk's contracts as weights of NAV
        external=("desk_positions_session",),  # the desk's book of the session: the cost term's reference
        build=lambda: portfolio_steps.portfolio_optimization,
    ),
    "portfolio_sizing": StepSpec(
        "portfolio",
        ("portfolio_optimization", "signal_aggregation", "silver_returns", "silver_curves", "bronze_b3_market_data"),
        config=("portfolio", "risk.var", "risk.limits", "desk", "nav_brl"),
        external=("desk_positions",),
        build=lambda: portfolio_steps.portfolio_sizing,
    ),
    "risk_var": StepSpec(
        "risk", ("portfolio_sizing", "silver_returns"), config=("risk.var",), build=lambda: risk_steps.risk_var
    ),
    "risk_stress": StepSpec(
        "risk", ("portfolio_sizing", "silver_returns", "silver_curves"), config=("risk.stress",),
        build=lambda: risk_steps.risk_stress,
    ),
    "risk_limits": StepSpec(
        "risk",
        ("portfolio_sizing", "risk_var", "risk_stress", "silver_returns"),
        {"portfolio_sizing": PNL_SESSIONS + 1},  # the P&L of D-k is sizing(D-k-2) x returns(D-k), k < PNL_SESSIONS
        config=("risk.limits",),
        build=lambda: risk_steps.risk_limits,
    ),
    "daily_report": StepSpec(
        "report",
        (*BRONZE, *SILVER, *AGENTS, "signal_aggregation", "signal_monitor", "portfolio_optimization",
         "portfolio_sizing", "risk_var", "risk_stress", "risk_limits"),
        {"portfolio_sizing": 1},
        config=("report", "risk", "nav_brl"),
        extra_outputs=("report.html", "report.md"),
        window="track_record",
        build=lambda: report_steps.daily_report,
    ),
}


def _track_record(d: dt.date, config: Mapping[str, Any] | None) -> dict[str, list[dt.date]]:
    from brmacro.report.window import track_record_inputs

    return track_record_inputs(d, (config or {}).get("report"))


#: window name -> (session, config) -> asset -> previous sessions it reads (bounded; never the asset itself).
WINDOWS: dict[str, Callable[[dt.date, Mapping[str, Any] | None], dict[str, list[dt.date]]]] = {
    "track_record": _track_record,
}


def prev_dates(asset: str, d: dt.date, config: Mapping[str, Any] | None = None) -> dict[str, list[dt.date]]:
    """Upstream asset -> the previous sessions ``asset`` reads for session ``d`` (declared counts and window).

    ``config`` is the run's config (the window's keys; their defaults when None).
    """
    from brmacro.calendar import previous_sessions

    spec = STEPS[asset]
    out: dict[str, set[dt.date]] = {up: set(previous_sessions(d, n)) for up, n in spec.prev.items()}
    if spec.window:
        for up, ds in WINDOWS[spec.window](d, config).items():
            if up == asset:
                raise ValueError(f"{asset}: window {spec.window} would read earlier sessions of itself (a chain)")
            out.setdefault(up, set()).update(x for x in ds if x < d)
    return {up: sorted(ds) for up, ds in out.items()}


def group_prev_dates(group: str, d: dt.date, config: Mapping[str, Any] | None = None) -> dict[str, list[dt.date]]:
    """What a session-layout job reads from previous sessions: the union over its members (other groups' assets)."""
    members = SESSION_GROUPS[group]
    out: dict[str, set[dt.date]] = {}
    for a in members:
        for up, ds in prev_dates(a, d, config).items():
            if up in members:
                raise ValueError(f"session group {group}: {a} reads earlier sessions of {up} in the same group")
            out.setdefault(up, set()).update(ds)
    return {up: sorted(ds) for up, ds in out.items()}

# The session layout (config ``layout: session``): four jobs per session instead of 23. A group never
# reads an earlier session of an asset in the same or an earlier group, so there is no chain (DESIGN §3):
# ``core`` reads only its own session, ``tail`` (the steps with previous-session inputs) reads ``core`` and
# ``var``. The groups are cut where the target sessions' steps read earlier sessions (the sizing of the P&L
# window, the VaR the report backtests), so an earlier session the targets read is a whole group in both layouts:
# the step layout's partitions are then taken over by the session layout as built (:func:`adopt_step_built`), and a
# session layout run builds no more of an earlier session than the step layout does.
SESSION_GROUPS: dict[str, tuple[str, ...]] = {
    "bronze": BRONZE,
    "core": (*SILVER, *AGENTS, "signal_aggregation", "portfolio_optimization", "portfolio_sizing"),
    "var": ("risk_var",),
    "tail": ("risk_stress", "signal_monitor", "risk_limits", "daily_report"),
}

#: ``layout: auto`` takes the session layout from this many target sessions on, the step layout below it
#: (docs/performance.md: where the two cross, and why a few sessions keep the 23 step rules).
AUTO_SESSION_LAYOUT_FROM = 6
#: ... and the batch layout (one job per group and calendar month of sessions) from this many on.
AUTO_BATCH_LAYOUT_FROM = 250
LAYOUTS = ("auto", "step", "session", "batch")


def resolve_layout(layout: str, n_sessions: int) -> str:
    """The job layout a run uses: ``step``, ``session`` or ``batch`` (``auto`` picks by the number of target
    sessions)."""
    if layout not in LAYOUTS:
        raise ValueError(f"config layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    if layout == "auto":
        if n_sessions >= AUTO_BATCH_LAYOUT_FROM:
            return "batch"
        return "session" if n_sessions >= AUTO_SESSION_LAYOUT_FROM else "step"
    return layout


# Config keys every step sees (they change the meaning of every artifact).
COMMON_KEYS = ("source",)
# The key of a rule's params holding the step's code version (brmacro.codeversion); run_step removes it
# from the params the step sees and records it as the artifacts' ``brmacro.code`` metadata.
CODE_KEY = "_code"


@lru_cache(maxsize=1)
def all_schemas() -> dict[str, dict[str, Schema]]:
    """Asset -> table -> schema, collected from each layer's ``schemas`` module."""
    from brmacro.bronze.schemas import BRONZE_SCHEMAS

    out: dict[str, dict[str, Schema]] = {name: {"part": s} for name, s in BRONZE_SCHEMAS.items()}
    for layer in LAYERS[1:]:
        mod = importlib.import_module(f"brmacro.{layer}.schemas")
        out.update(getattr(mod, f"{layer.upper()}_SCHEMAS"))
    return out


def tables_of(asset: str) -> list[str]:
    """The table names an asset writes (``part`` first)."""
    names = list(all_schemas()[asset])
    return sorted(names, key=lambda n: (n != "part", n))


def step_function(asset: str) -> StepFunction:
    """The step function of ``asset`` (:attr:`StepSpec.build`; imports its layer's steps module)."""
    return STEPS[asset].build()


@dataclass
class Context:
    """Everything a step function may read: the session, its parameters and its declared inputs.

    Attributes
    ----------
    asset : str
        The asset being built.
    date : datetime.date
        The partition's session.
    params : mapping
        The config subtrees named by the step's :attr:`StepSpec.config`, plus :data:`COMMON_KEYS`.
    inputs : mapping
        Asset -> table -> path, for the same session.
    prev : mapping
        Asset -> list of (session, table -> path), oldest first, for the previous sessions declared.
    out_dir : pathlib.Path or None
        The partition folder (for extra outputs such as the report's HTML).
    meta : dict
        Extra key-value metadata a step sets for its artifacts (written as ``brmacro.<key>``), e.g. ``stale``.
    """

    asset: str
    date: dt.date
    params: Mapping[str, Any]
    inputs: Mapping[str, Mapping[str, Path]] = field(default_factory=dict)
    prev: Mapping[str, Sequence[tuple[dt.date, Mapping[str, Path]]]] = field(default_factory=dict)
    out_dir: Path | None = None
    meta: dict[str, str] = field(default_factory=dict)
    _cache: dict[tuple[str, str, str], pd.DataFrame] = field(default_factory=dict, repr=False)

    @property
    def source(self) -> str:
        """``demo`` or ``live`` (its declared default when the params do not give it)."""
        from brmacro.params import value

        return str(value(self.params, "source"))

    def table(self, asset: str, name: str = "part") -> pd.DataFrame:
        """A same-session input table, read once and checked against its schema."""
        try:
            path = self.inputs[asset][name]
        except KeyError:
            raise InputMissing(f"{self.asset}: input {asset}/{name} is not declared for this step") from None
        return self._read(asset, name, path)

    def prev_tables(self, asset: str, name: str = "part") -> list[tuple[dt.date, pd.DataFrame]]:
        """The declared previous sessions of an input table, oldest first."""
        return [(d, self._read(asset, name, paths[name])) for d, paths in self.prev.get(asset, ())]

    def _read(self, asset: str, name: str, path: Path) -> pd.DataFrame:
        key = (asset, name, str(path))
        if key not in self._cache:
            shared = _SHARED_READS.get()
            self._cache[key] = (shared.read(asset, name, path) if shared is not None
                                else _read_checked(asset, name, path))
        return self._cache[key].copy()

    @cached_property
    def reconstructed(self) -> bool:
        """Whether this partition is *reconstructed* (:func:`reconstructed`): for the report to say so."""
        paths = [p for tabs in self.inputs.values() for p in tabs.values()]
        paths += [p for sessions in self.prev.values() for _, tabs in sessions for p in tabs.values()]
        return reconstructed(self.asset, self.date, self.source, paths)

    @cached_property
    def log(self) -> logging.Logger:
        """The step's logger (also written to the rule's log file by :func:`run_step`)."""
        return logging.getLogger(f"brmacro.{self.asset}")


def _read_checked(asset: str, name: str, path: Path) -> pd.DataFrame:
    from brmacro.io import read_table

    return read_table(path, all_schemas()[asset][name])


class SharedReads:
    """Input tables read once per job and handed to every member step that reads them (the session layout).

    Keyed by path and the file's identity (size, mtime, inode), so a file rewritten during the job is read
    again; steps get copies (:meth:`Context._read`), never the cached frame. Bounded by ``max_tables``
    (least recently used first out), so a job's memory does not grow with the history it reads.
    """

    def __init__(self, max_tables: int = 256) -> None:
        self.max_tables = max_tables
        self._frames: dict[tuple[str, str, str, int, int, int], pd.DataFrame] = {}
        self.hits = 0
        self.misses = 0

    def read(self, asset: str, name: str, path: Path) -> pd.DataFrame:
        key = (asset, name, *file_identity(path))
        df = self._frames.pop(key, None)
        if df is None:
            self.misses += 1
            df = _read_checked(asset, name, path)
        else:
            self.hits += 1
        self._frames[key] = df  # most recently used last
        while len(self._frames) > self.max_tables:
            self._frames.pop(next(iter(self._frames)))
        return df


def file_identity(path: str | Path) -> tuple[str, int, int, int]:
    """A file's path and identity (size, modification time in ns, inode): the key under which a read of it is kept
    (:class:`SharedReads`, the agents' silver view), so a file rewritten is read again.

    Raises
    ------
    OSError
        When the file is not there.
    """
    st = os.stat(path)
    return str(path), st.st_size, st.st_mtime_ns, st.st_ino


_SHARED_READS: contextvars.ContextVar[SharedReads | None] = contextvars.ContextVar("brmacro_shared_reads",
                                                                                   default=None)


@contextlib.contextmanager
def shared_reads(max_tables: int = 256) -> Iterator[SharedReads]:
    """Within this block, :class:`Context` reads go through one :class:`SharedReads` (one job's inputs)."""
    cache = SharedReads(max_tables)
    token = _SHARED_READS.set(cache)
    try:
        yield cache
    finally:
        _SHARED_READS.reset(token)


def partition_dir(results: str | Path, asset: str, date: dt.date | str) -> str:
    """The folder of an asset's partition, ``<results>/<layer>/<asset>/date=D`` (``date`` may be a pattern)."""
    d = date if isinstance(date, str) else date.isoformat()
    return f"{str(results).rstrip('/')}/{STEPS[asset].layer}/{asset}/date={d}"


def partition_paths(results: str | Path, asset: str, date: dt.date | str) -> dict[str, Path]:
    """Table name -> path of an asset's partition (``<results>/<layer>/<asset>/date=D/<table>.parquet``)."""
    base = Path(partition_dir(results, asset, date))
    return {t: base / ("part.parquet" if t == "part" else f"{t}.parquet") for t in tables_of(asset)}


def _group(paths: Sequence[str | Path]) -> dict[str, dict[str, Path]]:
    """Group input file paths by asset and table from their hive-style location."""
    out: dict[str, dict[str, Path]] = {}
    for p in map(Path, paths):
        asset = p.parent.parent.name
        out.setdefault(asset, {})[p.stem] = p
    return out


def _dated(paths: Sequence[str | Path]) -> dict[str, list[tuple[dt.date, dict[str, Path]]]]:
    by: dict[tuple[str, dt.date], dict[str, Path]] = {}
    for p in map(Path, paths):
        d = dt.date.fromisoformat(p.parent.name.removeprefix("date="))
        by.setdefault((p.parent.parent.name, d), {})[p.stem] = p
    out: dict[str, list[tuple[dt.date, dict[str, Path]]]] = {}
    for (asset, d), tabs in sorted(by.items()):
        out.setdefault(asset, []).append((d, tabs))
    return out


def code_version(asset: str) -> str:
    """The code version of a step (:func:`brmacro.codeversion.code_hash`)."""
    from brmacro.codeversion import code_hash

    return code_hash(STEPS[asset].layer, asset)


def code_versions(assets: Sequence[str] | None = None) -> dict[str, str]:
    """Asset -> code version, for the rules' params (all steps by default)."""
    from brmacro.codeversion import code_hashes

    return code_hashes({a: STEPS[a].layer for a in (assets if assets is not None else STEPS)})


# Live sources that serve only today's revised values (no vintages): a past session built from them is not the
# data as it was, and is marked ``brmacro.reconstructed`` (README, docs/live.md).
NO_VINTAGES = ("bronze_bcb_sgs",)


def reconstructed(asset: str, session: dt.date, source: str, inputs: Sequence[str | Path],
                  now: dt.datetime | None = None) -> bool:
    """Whether a partition is *reconstructed*: built by ``source: live`` from a source without vintages for a
    session before the latest completed one, or from an input that is."""
    if source != "live":
        return False
    if asset in NO_VINTAGES:
        from brmacro.calendar import latest_session

        return session < latest_session(now)
    from brmacro.io import read_meta

    for p in inputs:
        try:
            if read_meta(p).get("brmacro.reconstructed") == "true":
                return True
        except (OSError, ValueError):
            continue  # an unreadable input fails the step itself, with its message
    return False


def _check_common(asset: str, date: str, params: Mapping[str, Any]) -> None:
    """Refuse common keys the JSON schema cannot (NaN and infinity pass every numeric bound there)."""
    nav = params.get("nav_brl")
    if nav is not None and (isinstance(nav, bool) or not isinstance(nav, (int, float)) or not math.isfinite(nav)
                            or nav <= 0):
        raise ValueError(f"{asset} {date}: config nav_brl must be a finite number > 0 (BRL), got {nav!r}")


#: (number of imported modules, threadpoolctl controller of the libraries loaded then), this process
_BLAS_CONTROLLER: list[tuple[int, Any]] = []


def one_blas_thread() -> contextlib.AbstractContextManager[Any]:
    """``threadpoolctl.threadpool_limits(limits=1)``, the loaded BLAS/OpenMP libraries looked up once per imports.

    Looking them up walks every shared object of the process (~1.5 ms, once per step before). A library is
    loaded by importing an extension module, which adds to ``sys.modules``: the lookup is repeated only when
    modules were imported since. Limits and the restore on exit are threadpoolctl's, on the current thread counts.
    """
    import sys

    from threadpoolctl import ThreadpoolController

    n = len(sys.modules)
    if not _BLAS_CONTROLLER or _BLAS_CONTROLLER[0][0] != n:
        _BLAS_CONTROLLER[:] = [(n, ThreadpoolController())]
    limiter: contextlib.AbstractContextManager[Any] = _BLAS_CONTROLLER[0][1].limit(limits=1)
    return limiter


def run_step(
    asset: str,
    date: str,
    params: Mapping[str, Any],
    inputs: Sequence[str | Path],
    prev_inputs: Sequence[str | Path],
    outputs: Sequence[str | Path],
    log: str | Path | None = None,
) -> None:
    """Build one partition of ``asset``: the whole body of its Snakemake rule.

    Parameters
    ----------
    asset : str
        Step name (a key of :data:`STEPS`).
    date : str
        The session, ISO format.
    params : mapping
        The rule's ``params`` (its config subtrees and the common keys).
    inputs, prev_inputs : sequence of path
        Same-session and previous-session input files, as the rule declared them.
    outputs : sequence of path
        The files the rule declared; tables are written to the ``.parquet`` ones by name.
    log : path, optional
        The rule's log file.

    Raises
    ------
    ArtifactError
        When a produced table does not match its declared schema (nothing is left behind).
    """
    import resource
    import time

    from brmacro.io import ArtifactError, params_hash, write_table
    from brmacro.logs import step_logging
    from brmacro.params import reading_only

    t0 = time.perf_counter()
    session = dt.date.fromisoformat(date)
    params = dict(params)
    code = str(params.pop(CODE_KEY, "") or code_version(asset))
    _check_common(asset, date, params)
    outs = [Path(o) for o in outputs]
    with step_logging(asset, log) as logger:
        ctx = Context(
            asset=asset,
            date=session,
            params=params,
            inputs=_group(inputs),
            prev=_dated(prev_inputs),
            out_dir=outs[0].parent if outs else None,
        )
        logger.info("building %s for %s (source=%s)", asset, date, ctx.source)
        # One BLAS thread: float sums (hence artifact bytes) must not depend on the machine's core count.
        with one_blas_thread(), reading_only(asset, step_keys(asset)):
            tables = dict(step_function(asset)(ctx))
        recon = ctx.reconstructed
        if recon:
            logger.warning("%s %s is reconstructed: built from today's live data of a source without vintages "
                           "(%s), not the data as it was on the session", asset, date, ", ".join(NO_VINTAGES))
        schemas = all_schemas()[asset]
        if set(tables) != set(schemas):
            raise ArtifactError(
                f"{asset}: step returned tables {sorted(tables)} but {sorted(schemas)} are declared"
            )
        by_name = {p.stem: p for p in outs if p.suffix == ".parquet"}
        digest = params_hash(params)  # one hash for all the step's tables
        written: list[Path] = []
        try:
            for name, schema in schemas.items():
                df = tables[name]
                path = by_name[name]
                meta = {"code": code, **({"reconstructed": "true"} if recon else {}), **ctx.meta}
                write_table(df, path, schema, asof=session, source=ctx.source, params_digest=digest, extra_meta=meta)
                written.append(path)
                logger.info("wrote %s (%d rows)", path, len(df))
        except BaseException:
            for p in written:
                p.unlink(missing_ok=True)
            raise
        logger.info("built %s %s in %.2f s (process peak RSS %.0f MB)", asset, date, time.perf_counter() - t0,
                    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def plan(assets: Sequence[str], sessions: Sequence[dt.date],
         config: Mapping[str, Any] | None = None) -> list[tuple[str, dt.date]]:
    """Every (asset, session) a build of ``assets`` for ``sessions`` needs, in dependency order.

    The same closure Snakemake derives from the files: same-session inputs and the declared
    previous sessions (with the windows of ``config``, their defaults when None), recursively.
    Used by the benchmark floor and by tests.
    """
    order = {a: i for i, a in enumerate(STEPS)}
    seen: set[tuple[str, dt.date]] = set()
    stack = [(a, d) for a in assets for d in sessions]
    while stack:
        a, d = stack.pop()
        if (a, d) in seen:
            continue
        seen.add((a, d))
        spec = STEPS[a]
        stack.extend((up, d) for up in spec.inputs)
        stack.extend((up, s) for up, ds in prev_dates(a, d, config).items() for s in ds)
    return sorted(seen, key=lambda ad: (ad[1], order[ad[0]]))


#: Positions files per session folder, and how many previous sessions' files ``desk_positions`` declares
#: (kept here, free of pandas, because planning imports this module; brmacro.desk.positions agrees).
POSITION_FILES = ("positions.csv", "positions.parquet")
POSITION_PREV_SESSIONS = 5


def external_inputs(asset: str, date: dt.date, config: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """Optional inputs from outside the workflow that exist *now*: (same session, previous sessions).

    ``desk_positions``: the desk's files ``<desk.positions_dir>/date=<D>/positions.{csv,parquet}`` of the
    session and of the :data:`POSITION_PREV_SESSIONS` sessions before; ``desk_positions_session``: the session's
    file only (``portfolio_optimization``: the reference book of its cost term). No rule produces them; a file is
    declared only if present when the DAG is built, so a missing one is never a missing-input error and the
    step reads only what was declared. Adding, editing or removing a file later changes the rule's inputs
    (Snakemake's ``input``/``mtime`` rerun triggers), so the next run rebuilds the session (docs/desk.md).
    """
    from brmacro.calendar import previous_sessions

    same: list[str] = []
    prev: list[str] = []
    for kind in STEPS[asset].external:
        if kind not in ("desk_positions", "desk_positions_session"):
            raise ValueError(f"{asset}: unknown external input {kind!r}")
        root = Path(str((config.get("desk") or {}).get("positions_dir", "positions")))
        back = POSITION_PREV_SESSIONS if kind == "desk_positions" else 0
        for s in [*previous_sessions(date, back), date]:
            base = root / f"date={s.isoformat()}"
            hits = [str(base / n) for n in POSITION_FILES if (base / n).is_file()]
            (same if s == date else prev).extend(hits)
    return same, prev


def step_keys(asset: str) -> tuple[str, ...]:
    """The dotted config keys a step reads: :data:`COMMON_KEYS` and its :attr:`StepSpec.config`."""
    return (*COMMON_KEYS, *STEPS[asset].config)


def step_params(asset: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """The ``params`` a rule passes: exactly the keys the step reads (:func:`step_keys`), nested as in the config.

    The step reads them with :func:`brmacro.params.section` (declared defaults for keys not given).
    """
    from brmacro.params import select

    return select(config, step_keys(asset))


def _declared_files(results: str | Path, asset: str, date: dt.date,
                    config: Mapping[str, Any] | None = None) -> tuple[list[Path], list[Path], list[Path]]:
    """Same-session inputs, previous-session inputs and outputs of one partition, as its rule declares them."""
    spec = STEPS[asset]
    same = [p for up in spec.inputs for p in partition_paths(results, up, date).values()]
    prev = [
        p for up, ds in prev_dates(asset, date, config).items() for s in ds
        for p in partition_paths(results, up, s).values()
    ]
    if spec.external and config is not None:
        ext_same, ext_prev = external_inputs(asset, date, config)
        same += [Path(p) for p in ext_same]
        prev += [Path(p) for p in ext_prev]
    outs: list[Path] = list(partition_paths(results, asset, date).values())
    outs += [outs[0].parent / x for x in spec.extra_outputs]
    return same, prev, outs


#: Snakemake's mtime carrier of a directory output (the session layout's partitions); readers skip dot-files.
SNAKEMAKE_TIMESTAMP = ".snakemake_timestamp"


def _mtime_ns(path: Path) -> int:
    """Snakemake's view of a path's modification time: a folder's timestamp file where it has one."""
    stamp = path / SNAKEMAKE_TIMESTAMP
    return (stamp if path.is_dir() and stamp.exists() else path).stat().st_mtime_ns


def adopt_step_built(results: str | Path, group: str, dates: dt.date | Sequence[dt.date],
                     config: Mapping[str, Any]) -> bool:
    """Let the session or batch layout take over a session group built by another layout, as built.

    The step rules write files; a session job's outputs are the partition folders, dated by Snakemake's
    timestamp file. A step-built folder has none, so Snakemake dates it by the folder itself, and in the step
    layout a bronze folder is often written after a silver folder that does not read it: the group would look
    older than its inputs and rerun (same bytes). Here each member is checked in the step layout's own terms
    (every file of its partition exists and is no older than every file it reads, as its rule declares them);
    when all are, each folder gets the timestamp file dated at the newest file or folder the group reads or
    writes, which is what a session job finishing now would record.

    ``dates`` is one session (a session-layout job) or the sessions of a batch-layout job. Snakemake dates a batch
    as one job (its oldest output against its newest input), so a month the session jobs built one session at a
    time (stamped folders, each session up to date against its own inputs) would look out of date whenever a
    later session's input was written after an earlier session's outputs: such a month has its folders re-dated
    at the newest of the whole batch. Folders partly stamped, missing, or out of date in their own terms are left
    to Snakemake. Returns whether folders were dated.
    """
    members = SESSION_GROUPS[group]
    days = [dates] if isinstance(dates, dt.date) else list(dates)
    folders = [Path(partition_dir(results, a, d)) for d in days for a in members]
    if any(not f.is_dir() for f in folders):
        return False
    stamped = [(f / SNAKEMAKE_TIMESTAMP).exists() for f in folders]
    if any(stamped) and not all(stamped):
        return False
    if all(stamped) and group_inputs(group) == ([], {}):
        return False  # a job without inputs is never out of date by time (the bronze group)
    newest = 0
    for d in days:
        mine = [Path(partition_dir(results, a, d)) for a in members]
        for a in members:
            same, prev, outs = _declared_files(results, a, d, config)
            if not all(p.is_file() for p in (*same, *prev, *outs)):
                return False
            # what Snakemake dates an input by: its folder's timestamp (a partition), the file itself (the desk's
            # positions files, rewritten in place without touching their folder); the later of the two
            dirs = [max(p.stat().st_mtime_ns, _mtime_ns(p.parent)) for p in (*same, *prev)]
            if all(stamped):  # built by session or batch jobs: dated by their stamps against the folders they read
                if dirs and max(dirs) > min(_mtime_ns(f) for f in mine):
                    return False
                newest = max(newest, *dirs, *(_mtime_ns(f) for f in mine))
                continue
            written = [p.stat().st_mtime_ns for p in outs]
            if dirs and max(p.stat().st_mtime_ns for p in (*same, *prev)) > min(written):
                return False  # out of date in the step layout too: Snakemake reruns it
            newest = max(newest, *written, *dirs)
    if all(stamped):
        if min(_mtime_ns(f) for f in folders) >= newest:
            return False  # Snakemake finds the job up to date as it is
    else:
        newest = max(newest, *(f.stat().st_mtime_ns for f in folders))
    for f in folders:
        stamp = f / SNAKEMAKE_TIMESTAMP
        stamp.touch()
        os.utime(stamp, ns=(newest, newest))
    return True


def build_partition(results: str | Path, asset: str, date: dt.date, config: Mapping[str, Any],
                    log: str | Path | None = None, code: Mapping[str, str] | None = None) -> None:
    """Build one partition in-process exactly as its rule would (inputs must exist).

    ``code`` is the steps' code versions (:func:`code_versions`), which a run computes once (the Snakefile, for
    every rule's params); without it each call computes its step's own (a walk of the package's files).
    """
    same, prev, outs = _declared_files(results, asset, date, config)
    run_step(asset, date.isoformat(), {**step_params(asset, config), CODE_KEY: (code or {}).get(asset, "")}, same,
             prev, outs, log)


def group_inputs(group: str) -> tuple[list[str], dict[str, int]]:
    """What a session-layout job reads: same-session assets of other groups, and previous sessions.

    Raises
    ------
    ValueError
        If the group would read an earlier session of its own assets (a chain).
    """
    members = SESSION_GROUPS[group]
    same = sorted({u for a in members for u in STEPS[a].inputs if u not in members})
    prev: dict[str, int] = {}
    for a in members:
        for u, n in STEPS[a].prev.items():
            if u in members:
                raise ValueError(f"session group {group}: {a} reads earlier sessions of {u} in the same group")
            prev[u] = max(prev.get(u, 0), n)
    return same, prev


def group_params(group: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """The ``params`` of a session-layout job: the results root and the keys its member steps read (each once).

    Each member gets its own :func:`step_params` from this union, so its artifacts are those of the step layout.
    """
    from brmacro.params import select

    keys = [k for a in SESSION_GROUPS[group] for k in step_keys(a)]
    return {"results": str(config["results"]), "config": select(config, keys)}


def run_session(group: str, dates: str | Sequence[str], params: Mapping[str, Any],
                log: str | Path | None = None) -> None:
    """Build every member step of a session group for one session, or for each of a batch of sessions in order:
    the body of a session-layout rule (one session) and of a batch-layout rule (:func:`session_batches`).

    Each member is built exactly as its own rule would build it (:func:`run_step`, same declared files,
    same params), in :data:`SESSION_GROUPS` order; messages of all members go to the job's log. The input tables
    are read once per job (:func:`shared_reads`): in a batch, the earlier sessions one session reads are mostly
    those the session before it read.
    """
    from brmacro.logs import log_file

    days = [dates] if isinstance(dates, str) else list(dates)
    logger = logging.getLogger("brmacro")
    code = dict(params.get("code") or {})
    with log_file(logger, log), shared_reads() as reads:
        for date in days:
            session = dt.date.fromisoformat(date)
            for asset in SESSION_GROUPS[group]:
                same, prev, outs = _declared_files(params["results"], asset, session, params["config"])
                run_step(asset, date, {**step_params(asset, params["config"]), CODE_KEY: code.get(asset, "")}, same,
                         prev, outs, None)
        logger.info("%s %s: %d session(s), %d input tables read, %d reads served from them", group,
                    days[0] if len(days) == 1 else f"{days[0]}..{days[-1]}", len(days), reads.misses, reads.hits)


def other_sessions_pattern(sessions: Sequence[dt.date]) -> str:
    """A regular expression matching a ``YYYY-MM-DD`` date that is none of ``sessions``: the ``date`` wildcard of
    the session rules in the batch layout, so they build only the earlier sessions the batches read and Snakemake
    never weighs a session job against a batch job for a target session (a trie of the dates, so matching does not
    scan them all; no ``{}`` quantifiers, which Snakemake's patterns would take for wildcards)."""
    tree: dict[str, dict[str, list[str]]] = {}
    for d in sorted(set(sessions)):
        tree.setdefault(f"{d.year:04d}", {}).setdefault(f"{d.month:02d}", []).append(f"{d.day:02d}")
    digits = r"\d\d\d\d-\d\d-\d\d"
    if not tree:
        return digits
    years = "|".join(y + "-(?:" + "|".join(m + "-(?:" + "|".join(ds) + ")" for m, ds in ms.items()) + ")"
                     for y, ms in tree.items())
    return rf"(?!(?:{years})(?!\d)){digits}"


def output_sessions(outputs: Sequence[str | Path]) -> list[str]:
    """The sessions a session- or batch-layout job builds, in order: those of its output partition folders
    (``.../date=YYYY-MM-DD``), so a job needs no other record of which sessions it holds."""
    return sorted({Path(str(o)).name.removeprefix("date=") for o in outputs})


def session_batches(sessions: Sequence[dt.date]) -> list[tuple[str, list[dt.date]]]:
    """The jobs of the batch layout: the target sessions grouped by calendar month, as ``(name, sessions)`` in
    order, ``name`` ``YYYY_MM``. Each session group runs one job per month (:func:`run_session`); a month inside the
    range is the same batch whatever the range around it (the first and last months hold only the range's
    sessions), so an interrupted backfill resumes month by month.
    """
    out: dict[str, list[dt.date]] = {}
    for d in sorted(set(sessions)):
        out.setdefault(f"{d.year:04d}_{d.month:02d}", []).append(d)
    return list(out.items())


def context_for(results: str | Path, asset: str, date: dt.date, config: Mapping[str, Any]) -> Context:
    """The :class:`Context` a step gets for one partition (inputs must exist); for benchmarks and tests."""
    same, prev, outs = _declared_files(results, asset, date, config)
    return Context(asset=asset, date=date, params=step_params(asset, config), inputs=_group(same),
                   prev=_dated(prev), out_dir=outs[0].parent)


def _part_file(path: str | Path) -> Path:
    """A partition's ``part`` table, given the table itself (step layout) or its folder (session layout)."""
    p = Path(path)
    return p / "part.parquet" if p.is_dir() else p


def backtest_returns_sessions(dates: Sequence[dt.date], lookback_sessions: int) -> list[dt.date]:
    """Sessions of the range whose ``silver_returns`` together cover it, latest first.

    Each partition carries the ``lookback_sessions`` sessions up to its date; the next one back is
    ``lookback_sessions - 2`` sessions earlier, so consecutive windows overlap by a session (a window's first
    return may need the session before it), down to the range's first session. A range of any length is covered
    (:func:`brmacro.guards.check_backtest_range` refuses a lookback under 3 first).
    """
    step = int(lookback_sessions) - 2
    if step < 1:
        raise ValueError(f"silver.lookback_sessions = {lookback_sessions}: at least 3 to chain returns windows")
    ds = sorted(dates)
    idx = list(range(len(ds) - 1, 0, -step))
    if not idx or idx[-1] != 0:
        idx.append(0)
    return [ds[i] for i in idx]


def _table_file(path: str | Path, table: str) -> Path:
    """A partition's table ``table``, given any of its files (step layout) or its folder (session layout)."""
    p = Path(path)
    base = p if p.is_dir() or p.suffix != ".parquet" else p.parent  # a missing folder stays a folder
    return base / ("part.parquet" if table == "part" else f"{table}.parquet")


def _stitch_returns(paths: Sequence[str | Path], schemas: Mapping[str, Mapping[str, Any]]) -> tuple[
        pd.DataFrame, dict[dt.date, float]]:
    """``silver_returns`` of several sessions as one table (a date's row from the latest partition holding a return
    for it: a window's first row has none, its session before being outside the window) and the daily CDI of their
    ``prices`` tables (``cdi:daily``)."""
    import pandas as pd

    from brmacro.io import read_table

    parts, cdi = [], []
    for p in paths:
        asof = dt.date.fromisoformat(_table_file(p, "part").parent.name.removeprefix("date="))
        parts.append(read_table(_table_file(p, "part"), schemas["silver_returns"]["part"]).assign(_asof=asof))
        px = read_table(_table_file(p, "prices"), schemas["silver_returns"]["prices"])
        cdi.append(px[px["series"] == "cdi:daily"].assign(_asof=asof))
    both = pd.concat(parts, ignore_index=True)
    rets = (both.assign(_has=both["ret"].notna()).sort_values(["_has", "_asof"], kind="mergesort")
            .drop_duplicates(["date", "instrument"], keep="last").drop(columns=["_asof", "_has"])
            .sort_values(["date", "instrument"], kind="mergesort").reset_index(drop=True))
    c = pd.concat(cdi, ignore_index=True).sort_values("_asof", kind="mergesort").drop_duplicates("date", keep="last")
    return rets, {pd.Timestamp(d).date(): float(v) for d, v in zip(c["date"], c["value"], strict=True)}


#: The config keys the ``backtest`` rule reads (one cost model: the portfolio's).
BACKTEST_KEYS = ("source", "report.backtest", "portfolio.costs", *(f"portfolio.{k}" for k in EXECUTION_KEYS))


def backtest_params(config: Mapping[str, Any]) -> dict[str, Any]:
    """The ``params`` of the ``backtest`` rule: only :data:`BACKTEST_KEYS`."""
    from brmacro.params import select

    return select(config, BACKTEST_KEYS)


def run_backtest(
    sizing: Sequence[str | Path],
    returns: str | Path | Sequence[str | Path],
    params: Mapping[str, Any],
    out_html: str | Path,
    out_table: str | Path,
    log: str | Path | None = None,
    views: Sequence[str | Path] | None = None,
    signals: Sequence[str | Path] | None = None,
) -> None:
    """The body of the ``backtest`` rule: one tear sheet over a range of sessions.

    ``sizing`` are the ``portfolio_sizing`` partitions of every session of the range (and the two before
    it, for the first P&L), ``returns`` the ``silver_returns`` partitions that cover the range
    (:func:`backtest_returns_sessions`; one path: the range's last session), ``views`` and ``signals`` the
    ``portfolio_optimization`` and ``signal_aggregation`` partitions of the same sessions as ``sizing`` (their
    ``views`` and ``strategy_signals`` tables feed the attribution by signal and agent).
    """
    from brmacro.io import read_table
    from brmacro.logs import step_logging
    from brmacro.report.backtest import build_backtest

    schemas = all_schemas()

    def dated(paths: Sequence[str | Path], asset: str, table: str) -> dict[dt.date, Any]:
        out = {}
        for p in (_table_file(x, table) for x in paths):
            out[dt.date.fromisoformat(p.parent.name.removeprefix("date="))] = read_table(p, schemas[asset][table])
        return out

    with step_logging("backtest", log) as logger:
        books = dated(sizing, "portfolio_sizing", "part")
        rets, cdi = _stitch_returns([returns] if isinstance(returns, (str, Path)) else list(returns), schemas)
        first = min(books)
        if rets["date"].min() > first:
            raise InputMissing(
                f"backtest: silver_returns given start on {rets['date'].min()}, after the range's first sizing "
                f"{first}; give the partitions of brmacro.pipeline.backtest_returns_sessions"
            )
        from brmacro.params import value
        from brmacro.report.backtest import backtest_settings

        bt = backtest_settings(params)  # one cost model and one execution rule with the daily orders
        vw = dated(views, "portfolio_optimization", "views") if views is not None else None
        sg = dated(signals, "signal_aggregation", "strategy_signals") if signals is not None else None
        res = build_backtest(books, rets, bt, out_html, out_table, source=str(value(params, "source")),
                             views=vw, signals=sg, cdi=cdi)
        logger.info("backtest over %d sessions written to %s", len(res.daily), out_html)
