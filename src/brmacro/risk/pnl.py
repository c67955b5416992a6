"""The model book's realised P&L over the last few sessions (DESIGN §3, timing).

Data as of the close of ``D`` is processed early on ``D+1`` and the book decided from it trades at
the next settlement, so the book *held* over session ``s`` is the sizing of two sessions before:

    pnl(s) = sum_i weight_i(portfolio_sizing of s-2) * ret_i(s)

with ``ret`` the daily excess returns of the session's ``silver_returns`` (price convention, NAV
fractions). Sessions are counted on the B3 calendar (never on what is on disk). When the sizing
that was held is absent (start of history) or a held instrument has no return, the session's P&L
is unavailable and the note says why: never a zero.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from brmacro.calendar import previous_sessions
from brmacro.risk._common import RiskInputError, book_weights

__all__ = ["LAG_SESSIONS", "SessionPnl", "held_sizing_date", "model_book_pnl", "pnl_frame"]

#: Sessions between the close a book is decided from and the session whose returns it earns.
LAG_SESSIONS = 2


@dataclass(frozen=True)
class SessionPnl:
    """The model book's P&L on one session.

    Attributes
    ----------
    date : datetime.date
        The session whose returns are earned.
    sizing_date : datetime.date or None
        The session of the ``portfolio_sizing`` held (``date`` minus two B3 sessions).
    pnl : float or None
        NAV fraction, signed; None when unavailable.
    by_instrument : Series or None
        P&L per held instrument.
    asset_class : Series or None
        Asset class per held instrument (from the sizing table).
    note : str
        What was used, or why the P&L is unavailable.
    """

    date: dt.date
    sizing_date: dt.date | None
    pnl: float | None
    by_instrument: pd.Series | None
    asset_class: pd.Series | None
    note: str

    @property
    def available(self) -> bool:
        """Whether the P&L could be computed."""
        return self.pnl is not None


def held_sizing_date(session: dt.date) -> dt.date | None:
    """The session whose ``portfolio_sizing`` is held over ``session`` (two B3 sessions before)."""
    prev = previous_sessions(session, LAG_SESSIONS)
    return prev[0] if len(prev) == LAG_SESSIONS else None


def _one(session: dt.date, mat: pd.DataFrame, sizings: Mapping[dt.date, pd.DataFrame]) -> SessionPnl:
    sd = held_sizing_date(session)
    if sd is None:
        return SessionPnl(session, None, None, None, None, "no session two sessions before in the calendar")
    if sd not in sizings:
        return SessionPnl(
            session, sd, None, None, None, f"portfolio_sizing of {sd.isoformat()} not available (start of history)"
        )
    sizing = sizings[sd]
    w = book_weights(sizing, f"model-book P&L of {session.isoformat()} (sizing {sd.isoformat()})")
    held = w[w != 0]
    classes = sizing.set_index("instrument")["asset_class"].astype(str) if "asset_class" in sizing else None
    if held.empty:
        return SessionPnl(session, sd, 0.0, held.astype(float), classes, f"flat book (sizing {sd.isoformat()})")
    if session not in mat.index:
        return SessionPnl(session, sd, None, None, None, f"silver_returns has no row for {session.isoformat()}")
    row = mat.loc[session]
    absent = [str(i) for i in held.index if i not in row.index or not np.isfinite(row.get(i, np.nan))]
    if absent:
        return SessionPnl(
            session, sd, None, None, None, f"no return on {session.isoformat()} for held {', '.join(absent)}"
        )
    contrib: pd.Series = held * row.loc[held.index].astype(float)
    cls = classes.reindex(held.index) if classes is not None else None
    return SessionPnl(
        session, sd, float(contrib.sum()), contrib, cls,
        f"sizing of {sd.isoformat()} x returns of {session.isoformat()}",
    )


def model_book_pnl(
    asof: dt.date,
    mat: pd.DataFrame,
    sizings: Mapping[dt.date, pd.DataFrame],
    n_sessions: int = 5,
) -> list[SessionPnl]:
    """The model book's P&L on the ``n_sessions`` B3 sessions ending at ``asof``, oldest first.

    Parameters
    ----------
    asof : datetime.date
        The last session.
    mat : DataFrame
        Returns matrix (sessions x instruments) from :func:`brmacro.covariance.returns_matrix`.
    sizings : mapping
        Session -> ``portfolio_sizing`` table, for whatever previous sessions are available.
    n_sessions : int
        How many sessions (5 = one B3 week).

    Raises
    ------
    RiskInputError
        When a sizing table has NaN weights.
    """
    if n_sessions < 1:
        raise RiskInputError(f"model-book P&L: n_sessions must be >= 1, got {n_sessions}")
    sessions = [*previous_sessions(asof, n_sessions - 1), asof]
    return [_one(s, mat, sizings) for s in sessions]


def pnl_frame(rows: list[SessionPnl]) -> pd.DataFrame:
    """The ``risk_limits.pnl`` table (one row per session, ``date`` = the session earned), from
    :func:`model_book_pnl`."""
    return pd.DataFrame({
        "date": [r.date for r in rows],
        "sizing_date": [r.sizing_date for r in rows],
        "pnl": [r.pnl for r in rows],
        "available": [r.available for r in rows],
        "note": [r.note for r in rows],
    })
