"""Shared pieces of the live connectors: the ``live:`` config, snapshot windows, chunks, release filter.

A live bronze snapshot of session ``D`` follows exactly the demo's semantics
(:func:`brmacro.bronze.demo.snapshot`): rows released by ``D`` whose observation lies in the lookback
of its class (daily rows: ``daily_lookback_years`` plus the crisis windows that start by ``D``;
monthly/quarterly/weekly macro rows: ``macro_lookback_years``; Focus surveys:
``focus_lookback_years``), sorted by the schema key.

Sources are fetched in **calendar-year chunks** through the on-disk cache of
:class:`~brmacro.bronze.live.http.HttpClient`. A cached chunk is re-fetched only when it may miss a
row public by ``D``: when it was fetched before the end of ``D`` (America/Sao_Paulo) *and* the
chunk is not yet settled (fetched less than ``settle_days`` after the chunk's last day). A backfill
over past sessions therefore downloads each chunk once; the daily run re-fetches only the open ones.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from brmacro.bronze.live.http import HttpClient, HttpResult, PayloadError
from brmacro.bronze.params import BronzeParams, parse_params
from brmacro.io import ArtifactError, Schema
from brmacro.params import declared_section, resolve

__all__ = [
    "LIVE_SOURCES",
    "Client",
    "LiveConfigError",
    "LiveParams",
    "SourceParams",
    "Window",
    "chunk_needs_fetch",
    "daily_mask",
    "finalize",
    "get_chunk_at",
    "make_client",
    "parse_live",
    "snapshot_windows",
    "source_options",
    "year_chunks",
    "years_before",
]

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
log = logging.getLogger("brmacro.bronze.live")
T = TypeVar("T")

#: The live sources (``live.sources.<name>``, each declared in :mod:`brmacro.params.live`).
LIVE_SOURCES: tuple[str, ...] = tuple(declared_section("live.sources").keys)

_STRICT_SOURCES = ("bcb_sgs", "fred", "bcb_ptax", "bcb_focus")
"""Sources whose every option is known here; the others (Yahoo, B3, Treasury) validate their own extras."""


ON_SOURCE_FAILURE = ("fail", "stale")


class LiveConfigError(ValueError):
    """The ``live:`` config subtree is malformed, or a required secret is missing from the environment."""


@dataclass(frozen=True)
class SourceParams:
    """``live.sources.<name>``: where a source lives and how its chunks settle.

    Attributes
    ----------
    base_url : str
        Root URL (tests point it at the local fixture server).
    settle_days : int
        Days after a chunk's last day after which a fetched chunk is final (never re-fetched).
    extra : mapping
        Source-specific keys (``api_key_env``, ``page_limit``, ``page_size``, ``years_ahead``).
    """

    base_url: str
    settle_days: int
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LiveParams:
    """The ``live:`` config subtree, validated (missing keys take their defaults).

    Attributes
    ----------
    cache_dir : pathlib.Path or None
        Root of the HTTP cache and raw archive (relative paths are relative to the working directory).
    timeout_seconds, retries, backoff_seconds, max_backoff_seconds
        Retry policy of :class:`~brmacro.bronze.live.http.HttpClient`.
    sources : mapping
        Source name -> :class:`SourceParams`.
    on_source_failure : str
        ``fail`` (the source's bronze job fails) or ``stale`` (the snapshot is rebuilt from the connector's
        cache alone and marked stale).
    """

    cache_dir: Path | None
    timeout_seconds: float
    retries: int
    backoff_seconds: float
    max_backoff_seconds: float
    sources: Mapping[str, SourceParams]
    on_source_failure: str = "fail"

    def source(self, name: str) -> SourceParams:
        """Parameters of one source."""
        try:
            return self.sources[name]
        except KeyError:
            raise LiveConfigError(
                f"config live.sources: unknown source {name!r}; known {sorted(self.sources)}"
            ) from None


def _num(v: Any, where: str, *, integer: bool = False, positive: bool = False) -> Any:
    ok = not isinstance(v, bool) and isinstance(v, int if integer else (int, float))
    if not ok or v < 0 or (positive and v <= 0):
        kind = "integer" if integer else "number"
        raise LiveConfigError(f"config {where}: expected a {'positive' if positive else 'non-negative'} "
                              f"{kind}, got {v!r}")
    return v


def parse_live(live: Mapping[str, Any] | None) -> LiveParams:
    """Validate the ``live:`` config subtree.

    Raises
    ------
    LiveConfigError
        On an unknown key or a value of the wrong type.
    """
    live = dict(live or {})
    known = set(declared_section("live").keys)
    unknown = sorted(set(live) - known)
    if unknown:
        raise LiveConfigError(f"config live: unknown keys {unknown}; known {sorted(known)}")
    top = resolve("live", {k: v for k, v in live.items() if k != "sources"})
    cache = top["cache_dir"]
    if cache is not None and (not isinstance(cache, str) or not cache):
        raise LiveConfigError(f"config live.cache_dir: expected a path string or null, got {cache!r}")
    if cache is not None and ".." in Path(cache).parts:
        raise LiveConfigError(f"config live.cache_dir: {cache!r} must not contain '..' components")
    on_failure = top["on_source_failure"]
    if on_failure not in ON_SOURCE_FAILURE:
        raise LiveConfigError(f"config live.on_source_failure: expected one of {list(ON_SOURCE_FAILURE)}, "
                              f"got {on_failure!r}")
    raw_sources = live.get("sources") or {}
    if not isinstance(raw_sources, Mapping):
        raise LiveConfigError(f"config live.sources: expected a mapping, got {raw_sources!r}")
    bad = sorted(set(raw_sources) - set(LIVE_SOURCES))
    if bad:
        raise LiveConfigError(f"config live.sources: unknown sources {bad}; known {sorted(LIVE_SOURCES)}")
    sources: dict[str, SourceParams] = {}
    for name in LIVE_SOURCES:
        given = raw_sources.get(name) or {}
        defaults = declared_section(f"live.sources.{name}").keys
        extra_keys = sorted(set(given) - set(defaults))
        if extra_keys and name in _STRICT_SOURCES:
            raise LiveConfigError(f"config live.sources.{name}: unknown keys {extra_keys}; known {sorted(defaults)}")
        merged = resolve(f"live.sources.{name}", given)
        url = merged["base_url"]
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise LiveConfigError(f"config live.sources.{name}.base_url: expected an http(s) URL, got {url!r}")
        settle = _num(merged["settle_days"], f"live.sources.{name}.settle_days", integer=True)
        extra = {k: v for k, v in merged.items() if k not in ("base_url", "settle_days")}
        for k, v in extra.items():
            if name not in _STRICT_SOURCES or k not in defaults:
                continue  # options of the other connectors are validated by their own modules
            if k == "api_key_env":
                if not isinstance(v, str) or not v:
                    raise LiveConfigError(f"config live.sources.{name}.{k}: expected a variable name, got {v!r}")
            else:
                _num(v, f"live.sources.{name}.{k}", integer=True, positive=(k != "years_ahead"))
        sources[name] = SourceParams(url.rstrip("/"), int(settle), extra)
    return LiveParams(
        cache_dir=None if cache is None else Path(cache),
        timeout_seconds=float(_num(top["timeout_seconds"], "live.timeout_seconds", positive=True)),
        retries=int(_num(top["retries"], "live.retries", integer=True)),
        backoff_seconds=float(_num(top["backoff_seconds"], "live.backoff_seconds")),
        max_backoff_seconds=float(_num(top["max_backoff_seconds"], "live.max_backoff_seconds")),
        sources=sources,
        on_source_failure=on_failure,
    )


def make_client(source: str, live: LiveParams, **kw: Any) -> HttpClient:
    """An :class:`HttpClient` for one source from the ``live:`` parameters (``kw`` overrides, e.g. ``sleep``)."""
    args: dict[str, Any] = {
        "source": source,
        "cache_dir": live.cache_dir,
        "timeout": live.timeout_seconds,
        "retries": live.retries,
        "backoff": live.backoff_seconds,
        "max_backoff": live.max_backoff_seconds,
    }
    args.update(kw)
    return HttpClient(**args)


def api_key(env_var: str, source: str) -> str:
    """The API key from the environment, or :class:`LiveConfigError` naming the variable (never its value)."""
    key = os.environ.get(env_var, "").strip()
    if not key:
        raise LiveConfigError(
            f"{source}: the environment variable {env_var} is not set; a {source} API key is required for "
            f"source: live (set {env_var}; it is never logged or cached)"
        )
    return key


# ---------------------------------------------------------------------------- windows and chunks

def years_before(d: dt.date, n: int) -> dt.date:
    """The same calendar day ``n`` years before ``d`` (28 February for 29 February)."""
    try:
        return d.replace(year=d.year - n)
    except ValueError:
        return d.replace(year=d.year - n, day=28)


@dataclass(frozen=True)
class Window:
    """An inclusive date range."""

    start: dt.date
    end: dt.date


def snapshot_windows(date: dt.date, bronze: BronzeParams, kind: str) -> list[Window]:
    """Observation windows of a snapshot of session ``date`` for one lookback class.

    Parameters
    ----------
    date : datetime.date
        The session.
    bronze : BronzeParams
        Lookbacks and crisis windows.
    kind : {"daily", "macro", "focus"}
        ``daily`` adds the crisis windows that start by ``date`` (clipped to it).
    """
    if kind == "daily":
        wins = [Window(years_before(date, bronze.daily_lookback_years), date)]
        wins += [Window(w.start, min(w.end, date)) for w in bronze.crisis_windows if w.start <= date]
        return wins
    if kind == "macro":
        return [Window(years_before(date, bronze.macro_lookback_years), date)]
    if kind == "focus":
        return [Window(years_before(date, bronze.focus_lookback_years), date)]
    raise ValueError(f"unknown lookback class {kind!r}; expected daily, macro or focus")


def year_chunks(windows: Iterable[Window]) -> list[int]:
    """Calendar years touched by any window, ascending."""
    years: set[int] = set()
    for w in windows:
        years.update(range(w.start.year, w.end.year + 1))
    return sorted(years)


def daily_mask(obs: pd.Series, windows: Iterable[Window]) -> np.ndarray:
    """Whether each observation date lies in any window."""
    o = pd.to_datetime(pd.Series(obs)).to_numpy()
    m = np.zeros(len(o), dtype=bool)
    for w in windows:
        m |= (o >= np.datetime64(w.start, "ns")) & (o <= np.datetime64(w.end, "ns"))
    return m


def end_of_session(date: dt.date) -> dt.datetime:
    """Midnight after ``date`` in America/Sao_Paulo, in UTC: an answer fetched later holds all of ``date``."""
    local = dt.datetime.combine(date + dt.timedelta(days=1), dt.time(0, 0), SAO_PAULO)
    return local.astimezone(dt.UTC)


def chunk_needs_fetch(cached: HttpResult | None, date: dt.date, chunk_last_day: dt.date, settle_days: int) -> bool:
    """Whether a cached chunk must be re-fetched for a snapshot of session ``date``.

    A cached answer is enough when it was fetched after the end of ``date`` (it holds everything public
    by then), or when it was fetched ``settle_days`` or more after the chunk's last day (the chunk is final).
    """
    if cached is None:
        return True
    fetched = cached.fetched_at if cached.fetched_at.tzinfo else cached.fetched_at.replace(tzinfo=dt.UTC)
    if fetched >= end_of_session(date):
        return False
    settled = dt.datetime.combine(chunk_last_day + dt.timedelta(days=settle_days), dt.time(0, 0), dt.UTC)
    return fetched < settled


def filter_snapshot(
    df: pd.DataFrame, date: dt.date, *, obs_col: str, windows: Iterable[Window]
) -> pd.DataFrame:
    """Rows released by ``date`` whose ``obs_col`` lies in one of ``windows``."""
    if df.empty:
        return df
    rel = pd.to_datetime(df["release_date"]).dt.date
    keep = daily_mask(df[obs_col], windows) & (rel <= date).to_numpy()
    return df.loc[keep].reset_index(drop=True)


def finalize(df: pd.DataFrame, schema: Schema, where: str) -> pd.DataFrame:
    """Columns in schema order, checked against the schema, sorted by the key (duplicates -> :class:`PayloadError`).

    Values are returned as parsed (the schema check runs on a copy; writing rounds floats as it always does).
    """
    if df.empty:
        return schema.empty()
    out = df.loc[:, schema.names].copy()
    try:
        schema.conform(out.copy(), context=where)
    except ArtifactError as exc:
        raise PayloadError(str(exc)) from None
    out = out.sort_values(list(schema.key), kind="mergesort").reset_index(drop=True)
    for c in schema.cols:  # the demo's dtypes: date objects, ns UTC timestamps, int64 when nothing is missing
        if c.kind == "date":
            out[c.name] = pd.to_datetime(out[c.name]).dt.date
        elif c.kind == "timestamp":
            out[c.name] = pd.to_datetime(out[c.name], utc=True).astype("datetime64[ns, UTC]")
        elif c.kind == "float":
            out[c.name] = out[c.name].astype(np.float64)
        elif c.kind == "int" and not out[c.name].isna().any():
            out[c.name] = out[c.name].astype(np.int64)
    return out


def check_no_duplicates(df: pd.DataFrame, key: list[str], where: str) -> None:
    """Raise :class:`PayloadError` naming the first repeated natural key of a parsed payload."""
    if df.empty:
        return
    dup = df.duplicated(key, keep=False)
    if dup.any():
        row = df.loc[dup].iloc[0]
        shown = ", ".join(f"{k}={row[k]}" for k in key)
        raise PayloadError(f"{where}: duplicate rows in the payload for {shown} ({int(dup.sum())} rows)")


__all__ += ["api_key", "check_no_duplicates", "end_of_session", "filter_snapshot", "parse_once", "parse_params"]


#: Parsed answers of this process (:func:`parse_once`), least recently used first.
_PARSED: OrderedDict[tuple[Hashable, ...], Any] = OrderedDict()
_PARSED_MAX = 8192


def parse_once(key: tuple[Hashable, ...], body: bytes, parse: Callable[[], T]) -> T:
    """``parse()`` of one answer, memoised in this process by ``key`` (what the parse depends on besides the
    body: source, series, window) and a digest of ``body``.

    A backfill's jobs each read the same cached yearly chunks (every SGS and FRED series, 20 years): a worker
    process parses each answer once instead of once a session. The result is copied out, so callers may change
    it; a parse that raises is not remembered (the next call raises again).
    """
    import copy
    import hashlib

    k = (*key, hashlib.blake2b(body, digest_size=16).digest())
    hit = _PARSED.get(k)
    if hit is None:
        hit = parse()
        _PARSED[k] = hit
        if len(_PARSED) > _PARSED_MAX:
            _PARSED.popitem(last=False)
    else:
        _PARSED.move_to_end(k)
    return copy.deepcopy(hit)


def load_json(body: bytes, where: str) -> Any:
    """Decode a JSON body, or raise :class:`PayloadError` saying what came instead (empty, HTML, truncated)."""
    import json

    text = body.decode("utf-8-sig", errors="replace").strip()
    if not text:
        raise PayloadError(f"{where}: empty response body where JSON was expected")
    if text.startswith("<"):
        head = " ".join(text[:120].split())
        raise PayloadError(f"{where}: got an HTML/XML page instead of JSON ({head!r}...)")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise PayloadError(
            f"{where}: invalid or truncated JSON ({exc.msg} at char {exc.pos} of {len(text)})"
        ) from None


def as_float(v: Any, where: str, field_name: str) -> float:
    """A finite float from a JSON number or a period-decimal string, else :class:`PayloadError`."""
    if isinstance(v, bool) or v is None:
        raise PayloadError(f"{where}: field {field_name} is {v!r}, not a number")
    if isinstance(v, str):
        s = v.strip()
        if "," in s:
            raise PayloadError(f"{where}: field {field_name} = {v!r} uses a comma; expected a period decimal")
        try:
            x = float(s)
        except ValueError:
            raise PayloadError(f"{where}: field {field_name} = {v!r} is not numeric") from None
    elif isinstance(v, (int, float)):
        x = float(v)
    else:
        raise PayloadError(f"{where}: field {field_name} = {v!r} is not numeric")
    if not np.isfinite(x):
        raise PayloadError(f"{where}: field {field_name} = {v!r} is not finite")
    return x


def as_date(v: Any, fmt: str, where: str, field_name: str) -> dt.date:
    """A date parsed with ``fmt``, else :class:`PayloadError`."""
    try:
        return dt.datetime.strptime(str(v).strip(), fmt).date()
    except ValueError:
        raise PayloadError(f"{where}: field {field_name} = {v!r} is not a date in format {fmt}") from None


def check_fields(row: Any, required: set[str], optional: set[str], where: str) -> None:
    """Raise :class:`PayloadError` when a record is not an object or its fields differ from the documented ones."""
    if not isinstance(row, dict):
        raise PayloadError(f"{where}: expected a JSON object per record, got {type(row).__name__}: {row!r}")
    missing = sorted(required - set(row))
    extra = sorted(set(row) - required - optional)
    if missing or extra:
        raise PayloadError(f"{where}: unexpected record fields: missing {missing}, unexpected {extra}")


__all__ += ["as_date", "as_float", "check_fields", "load_json"]


def scaled(values: Any, scale: float) -> np.ndarray:
    """Published values times the registry scale, rounded to 12 decimals (correctly, one by one).

    ``np.round`` scales by a power of ten and can leave ``0.013099999999994`` for ``1.31 * 0.01``;
    Python's :func:`round` is correctly rounded, so a percent read as ``1.31`` becomes exactly ``0.0131``.
    """
    return np.array([round(float(v) * scale, 12) for v in np.asarray(values, dtype=float)], dtype=float)


__all__ += ["scaled"]


# --------------------------------------------------------------------------- chunks of the market connectors
# (yahoo, treasury_gov, b3_market_data: a cached yearly or daily file is used unless it may miss rows)

class Client(Protocol):
    """What the connectors need of :class:`~brmacro.bronze.live.http.HttpClient`."""

    source: str

    def cached(self, url: str, params: Mapping[str, str] | None = None, *, cache_key: str | None = None) -> (
        HttpResult | None
    ): ...

    def fetch(
        self,
        url: str,
        params: Mapping[str, str] | None = None,
        *,
        cache_key: str | None = None,
        fresh: bool = False,
        headers: Mapping[str, str] | None = None,
        validate: Callable[[int, bytes], object] | None = None,
        context: str = "",
    ) -> HttpResult: ...


def get_chunk_at(
    client: Client,
    url: str,
    params: Mapping[str, str] | None,
    *,
    cache_key: str,
    needs_fetch: Callable[[HttpResult | None], bool],
    parse: Callable[[bytes], T],
    headers: Mapping[str, str] | None = None,
    context: str = "",
) -> tuple[T, HttpResult]:
    """Parse a cached chunk when it is current and valid, else fetch it again (invalid answers are not cached).

    Parameters
    ----------
    needs_fetch : callable
        ``needs_fetch(cached_or_None)``: whether the cached answer may miss rows public by the session
        (:func:`brmacro.bronze.live.common.chunk_needs_fetch`).
    parse : callable
        ``parse(body)``; raises :class:`PayloadError` on a bad payload.

    Returns
    -------
    (value, HttpResult)
        ``parse(body)`` and the answer it was parsed from (status, fetch time).

    Raises
    ------
    PayloadError
        When the fresh answer cannot be parsed (a cached answer that cannot be parsed is fetched again first).
    SourceError
        When it cannot be fetched.
    """
    hit = client.cached(url, params, cache_key=cache_key)
    if hit is not None and hit.status == 200 and not needs_fetch(hit):
        try:
            return parse(hit.body), hit
        except PayloadError as exc:
            log.warning("%s: cached %s is unusable (%s); fetching it again", client.source, cache_key, exc)
    box: list[T] = []

    def _validate(_status: int, body: bytes) -> None:
        box.append(parse(body))

    res = client.fetch(url, params, cache_key=cache_key, fresh=True, headers=headers, validate=_validate,
                       context=context)
    return (box[-1] if box else parse(res.body)), res


def source_options(live: Mapping[str, Any] | None, name: str) -> dict[str, Any]:
    """Connector options of ``live.sources.<name>`` (beyond ``base_url``/``settle_days``), declared defaults
    (:mod:`brmacro.params.live`) for those not given."""
    return dict(parse_live(live).source(name).extra)
