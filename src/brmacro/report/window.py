"""The track-record window of the daily report: which previous sessions it reads (bounded, no chain).

``report.track_record`` is ``mtd`` (the sessions of the report's month up to the session), ``ytd``
(of its year) or an ISO start date. The model book's P&L on session ``s`` is
``portfolio_sizing(s-2) · returns(s)`` (:mod:`brmacro.risk.pnl`) and its VaR forecast for ``s`` is the
``risk_var`` of ``s-2`` (the VaR of the book that was held), so a window ``W..D`` reads the
``portfolio_sizing`` of ``W-2 .. D-1`` and the ``risk_var`` of ``W-2 .. D-2``: previous partitions of
*other* assets only (DESIGN §3), never an earlier report. The window is capped by
``report.track_record_max_sessions``; a longer one is refused when the run is planned.

This module is imported when the workflow is planned: calendar and standard library only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from brmacro.calendar import parse_date, previous_sessions, sessions_between
from brmacro.params import value

__all__ = ["track_record_inputs", "track_record_sessions", "window_start"]

#: Sessions between the close a book is decided from and the session it earns (brmacro.risk.pnl.LAG_SESSIONS).
_LAG = 2


def window_start(session: dt.date, spec: Any) -> dt.date:
    """The first calendar day of the window ``spec`` (``mtd``, ``ytd`` or a date) for ``session``.

    Raises
    ------
    ValueError
        When ``spec`` is neither ``mtd``, ``ytd`` nor an ISO date (the message names the key).
    """
    if spec == "mtd":
        return session.replace(day=1)
    if spec == "ytd":
        return dt.date(session.year, 1, 1)
    try:
        return parse_date(spec, "report.track_record")
    except ValueError as exc:
        raise ValueError(f"config report.track_record: {spec!r} is not 'mtd', 'ytd' or an ISO date") from exc


def track_record_sessions(session: dt.date, report_cfg: Mapping[str, Any] | None) -> list[dt.date]:
    """The B3 sessions of the track-record window ending at ``session`` (oldest first; empty before its start).

    Parameters
    ----------
    session : datetime.date
        The report's session.
    report_cfg : mapping or None
        The ``report:`` config subtree (``track_record``, ``track_record_max_sessions``).

    Raises
    ------
    ValueError
        When the window is longer than ``report.track_record_max_sessions``.
    """
    cfg = {"report": report_cfg or {}}
    spec = value(cfg, "report.track_record")
    cap = int(value(cfg, "report.track_record_max_sessions"))
    start = window_start(session, spec)
    out = sessions_between(start, session) if start <= session else []
    if len(out) > cap:
        raise ValueError(
            f"report.track_record={spec!r} for {session.isoformat()} spans {len(out)} sessions, more than "
            f"report.track_record_max_sessions={cap}: shorten the window or raise the cap (each session read "
            "costs a cold run the upstream build of that session)"
        )
    return out


def track_record_inputs(session: dt.date, report_cfg: Mapping[str, Any] | None) -> dict[str, list[dt.date]]:
    """The previous sessions of ``portfolio_sizing`` and ``risk_var`` the window needs (oldest first).

    The sizing list always holds the previous session (today's orders trade from its book).
    """
    cfg = {"report": report_cfg or {}}
    sizing, var = _inputs(session, str(value(cfg, "report.track_record")),
                          int(value(cfg, "report.track_record_max_sessions")))
    return {"portfolio_sizing": list(sizing), "risk_var": list(var)}


@lru_cache(maxsize=4096)
def _inputs(session: dt.date, spec: str, cap: int) -> tuple[tuple[dt.date, ...], tuple[dt.date, ...]]:
    """Cached for planning: a long backfill asks once per session and rule."""
    win = track_record_sessions(session, {"track_record": spec, "track_record_max_sessions": cap})
    held = {p[0] for s in win if len(p := previous_sessions(s, _LAG)) == _LAG}
    sizing = held | set(previous_sessions(session, 1))
    return tuple(sorted(d for d in sizing if d < session)), tuple(sorted(d for d in held if d < session))
