"""Calendars: B3 trading sessions (partitions) and ANBIMA business days (DI1 day counts).

B3 sessions come from ``exchange_calendars`` (calendar ``BVMF``) built over an explicit span,
ANBIMA business days from ``bizdays`` (the ANBIMA holiday list, 2000-2099).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import cast
from zoneinfo import ZoneInfo

import numpy as np

__all__ = [
    "CALENDAR_END",
    "CALENDAR_START",
    "DateError",
    "anbima_days",
    "anbima_holidays",
    "b3_sessions",
    "du",
    "is_session",
    "latest_session",
    "next_session",
    "parse_date",
    "previous_session",
    "previous_sessions",
    "resolve_dates",
    "sessions_between",
]

CALENDAR_START = dt.date(2005, 1, 3)
CALENDAR_END = dt.date(2030, 12, 30)
SAO_PAULO = ZoneInfo("America/Sao_Paulo")


class DateError(ValueError):
    """A requested date or range is not usable (not a session, out of range, start after end)."""


# The B3 sessions as exchange_calendars computes them, stored with the package: building the calendar takes
# ~0.5 s, paid by every Snakemake start and every worker. A test checks the file against exchange_calendars;
# regenerate it after upgrading exchange_calendars with ``python -m brmacro.calendar``.
SESSIONS_FILE = Path(__file__).with_name("data") / "bvmf_sessions.txt"


def computed_sessions() -> np.ndarray:
    """The B3 sessions over the calendar span from ``exchange_calendars`` (``BVMF``), as ``datetime64[D]``."""
    import exchange_calendars as xc

    cal = xc.get_calendar("BVMF", start=CALENDAR_START.isoformat(), end=CALENDAR_END.isoformat())
    return np.array([d.date() for d in cal.sessions], dtype="datetime64[D]")


@lru_cache(maxsize=1)
def _sessions() -> np.ndarray:
    try:
        return np.array(SESSIONS_FILE.read_text(encoding="ascii").split(), dtype="datetime64[D]")
    except FileNotFoundError:
        return computed_sessions()


@lru_cache(maxsize=1)
def _anbima_holidays() -> np.ndarray:
    import bizdays
    import pandas as pd

    cal = bizdays.Calendar.load("ANBIMA")
    return np.array(sorted(pd.Timestamp(h).date() for h in cal.holidays), dtype="datetime64[D]")


def anbima_holidays() -> np.ndarray:
    """ANBIMA national holidays as ``datetime64[D]`` (for vectorised ``numpy.busday_*`` calls)."""
    return _anbima_holidays()


def b3_sessions() -> list[dt.date]:
    """Every B3 session between :data:`CALENDAR_START` and :data:`CALENDAR_END`."""
    return [d.item() for d in _sessions()]


def _check_span(d: dt.date) -> None:
    if not CALENDAR_START <= d <= CALENDAR_END:
        raise DateError(
            f"{d.isoformat()} is outside the calendar span {CALENDAR_START.isoformat()}..{CALENDAR_END.isoformat()}"
        )


def is_session(d: dt.date) -> bool:
    """Whether ``d`` is a B3 trading session."""
    s = _sessions()
    i = int(np.searchsorted(s, np.datetime64(d, "D")))
    return i < len(s) and s[i] == np.datetime64(d, "D")


def previous_session(d: dt.date) -> dt.date:
    """The last session strictly before ``d``."""
    s = _sessions()
    i = int(np.searchsorted(s, np.datetime64(d, "D"))) - 1
    if i < 0:
        raise DateError(f"no B3 session before {d.isoformat()} in the calendar span")
    return s[i].item()  # type: ignore[no-any-return]


def next_session(d: dt.date) -> dt.date:
    """The first session strictly after ``d``."""
    s = _sessions()
    i = int(np.searchsorted(s, np.datetime64(d, "D"), side="right"))
    if i >= len(s):
        raise DateError(f"no B3 session after {d.isoformat()} in the calendar span")
    return s[i].item()  # type: ignore[no-any-return]


def previous_sessions(d: dt.date, n: int) -> list[dt.date]:
    """The ``n`` sessions strictly before ``d``, oldest first (fewer at the calendar start)."""
    s = _sessions()
    i = int(np.searchsorted(s, np.datetime64(d, "D")))
    return [x.item() for x in s[max(0, i - n) : i]]


def sessions_between(start: dt.date, end: dt.date) -> list[dt.date]:
    """Sessions in ``[start, end]``, both inclusive."""
    s = _sessions()
    lo = int(np.searchsorted(s, np.datetime64(start, "D")))
    hi = int(np.searchsorted(s, np.datetime64(end, "D"), side="right"))
    return [x.item() for x in s[lo:hi]]


def latest_session(now: dt.datetime | None = None) -> dt.date:
    """The last *completed* session at ``now`` (default: the wall clock) in America/Sao_Paulo.

    A session counts as completed from 18:30 local time (after the B3 close and the DI1
    settlement); before that, the previous session is the latest.
    """
    now = now or dt.datetime.now(dt.UTC)
    local = now.astimezone(SAO_PAULO)
    d = local.date()
    if is_session(d) and local.time() >= dt.time(18, 30):
        return d
    return previous_session(d)


def _nearest(d: dt.date) -> str:
    before = previous_session(d) if d > CALENDAR_START else None
    after = next_session(d) if d < CALENDAR_END else None
    parts = []
    if before:
        parts.append(f"previous session {before.isoformat()}")
    if after:
        parts.append(f"next session {after.isoformat()}")
    return ", ".join(parts)


def parse_date(value: object, key: str) -> dt.date:
    """A date from a config value (date, datetime or ISO string); :class:`DateError` naming ``key`` otherwise."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise DateError(f"config {key}: {value!r} is not an ISO date (YYYY-MM-DD) or 'latest'") from exc


def resolve_dates(
    date: object = "latest",
    start: object | None = None,
    end: object | None = None,
    now: dt.datetime | None = None,
) -> list[dt.date]:
    """The target sessions of a run from the config keys ``date`` or ``start``/``end``.

    Raises
    ------
    DateError
        When a single date is not a session (naming the sessions before and after it), a range
        is inverted or empty, or a date is outside the calendar span.
    """
    if start is not None or end is not None:
        if start is None or end is None:
            raise DateError("config start/end: give both start and end for a range")
        s, e = parse_date(start, "start"), parse_date(end, "end")
        if s > e:
            raise DateError(f"config start {s.isoformat()} is after end {e.isoformat()}")
        _check_span(s)
        _check_span(e)
        out = sessions_between(s, e)
        if not out:
            raise DateError(f"no B3 session between {s.isoformat()} and {e.isoformat()}")
        return out
    if date is None or str(date) == "latest":
        return [latest_session(now)]
    d = parse_date(date, "date")
    _check_span(d)
    if not is_session(d):
        raise DateError(f"{d.isoformat()} is not a B3 session ({d.strftime('%A')}); {_nearest(d)}")
    return [d]


def anbima_days(start: dt.date, end: dt.date) -> int:
    """ANBIMA business days in ``[start, end)``: the DI1 ``du`` from ``start`` to ``end``."""
    hol = _anbima_holidays()
    return int(np.busday_count(np.datetime64(start, "D"), np.datetime64(end, "D"), holidays=hol))


def du(start: dt.date | np.ndarray, end: dt.date | np.ndarray) -> np.ndarray:
    """Vectorised :func:`anbima_days` over arrays of dates (``datetime64[D]``)."""
    return np.busday_count(
        np.asarray(start, dtype="datetime64[D]"), np.asarray(end, dtype="datetime64[D]"), holidays=_anbima_holidays()
    )


def anbima_roll_forward(d: dt.date) -> dt.date:
    """``d`` if it is an ANBIMA business day, else the next one."""
    return cast(dt.date, np.busday_offset(np.datetime64(d, "D"), 0, roll="forward", holidays=_anbima_holidays()).item())


if __name__ == "__main__":
    SESSIONS_FILE.parent.mkdir(exist_ok=True)
    SESSIONS_FILE.write_text("\n".join(str(d) for d in computed_sessions()) + "\n", encoding="ascii")
    print(f"wrote {SESSIONS_FILE}")
