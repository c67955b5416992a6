"""Calendars: B3 sessions (partitions) and ANBIMA du (DI1 day counts)."""

from __future__ import annotations

import datetime as dt

import pytest

from brmacro.calendar import (
    DateError,
    anbima_days,
    is_session,
    next_session,
    previous_session,
    previous_sessions,
    resolve_dates,
    sessions_between,
)
from brmacro.instruments import di1_dv01, di1_maturity, di1_pu, di1_ticker

D = dt.date


@pytest.mark.parametrize(
    "holiday",
    [
        D(2026, 1, 1),  # Confraternizacao Universal
        D(2026, 2, 16),  # Carnival Monday
        D(2026, 2, 17),  # Carnival Tuesday
        D(2026, 4, 3),  # Good Friday
        D(2026, 4, 21),  # Tiradentes
        D(2026, 11, 20),  # Consciencia Negra (national since 2024)
        D(2026, 12, 25),
        D(2022, 4, 15),  # Good Friday 2022
    ],
)
def test_known_holidays_are_not_sessions(holiday: dt.date) -> None:
    assert not is_session(holiday)


def test_ordinary_days_are_sessions() -> None:
    assert is_session(D(2026, 11, 19)) and is_session(D(2026, 11, 23))
    assert not is_session(D(2026, 11, 21))  # Saturday


def test_neighbours_and_ranges() -> None:
    assert previous_session(D(2026, 11, 23)) == D(2026, 11, 19)
    assert previous_sessions(D(2026, 11, 24), 2) == [D(2026, 11, 19), D(2026, 11, 23)]
    assert sessions_between(D(2026, 11, 18), D(2026, 11, 23)) == [D(2026, 11, 18), D(2026, 11, 19), D(2026, 11, 23)]


def test_du_counts_business_days_start_inclusive_end_exclusive() -> None:
    # Thu 19, (Fri 20 holiday), Mon 23 -> 2 du to Tue 24
    assert anbima_days(D(2026, 11, 19), D(2026, 11, 24)) == 2
    # one ordinary week
    assert anbima_days(D(2026, 11, 23), D(2026, 11, 30)) == 5
    # Carnival week 2026: Mon 16 and Tue 17 Feb are holidays
    assert anbima_days(D(2026, 2, 16), D(2026, 2, 23)) == 3


def test_di1_contract_conventions() -> None:
    mat = di1_maturity(2027, 1)
    assert mat == D(2027, 1, 4)  # 1 Jan holiday, 2-3 Jan weekend
    assert di1_ticker(mat) == "DI1F27"
    assert di1_ticker(di1_maturity(2028, 7)) == "DI1N28"
    # PU and DV01 by hand: r = 10%, du = 252 -> PU = 100000/1.1
    assert float(di1_pu(0.10, 252)) == pytest.approx(100_000 / 1.1)
    # DV01 = PU * (du/252)/(1+r) * 1e-4, and equals the finite difference of PU for 1 bp
    fd = float(di1_pu(0.10 - 0.00005, 504) - di1_pu(0.10 + 0.00005, 504))
    assert float(di1_dv01(0.10, 504)) == pytest.approx(fd, rel=1e-6)


def test_resolve_dates_refuses_bad_requests() -> None:
    with pytest.raises(DateError, match="previous session 2026-11-19, next session 2026-11-23"):
        resolve_dates("2026-11-20")
    with pytest.raises(DateError, match="after end"):
        resolve_dates(start="2026-11-24", end="2026-11-02")
    with pytest.raises(DateError, match="outside the calendar span"):
        resolve_dates("1999-01-04")
    with pytest.raises(DateError, match="ISO date"):
        resolve_dates("26/11/2026")
    with pytest.raises(DateError, match="give both"):
        resolve_dates(start="2026-11-02")
    assert resolve_dates(start="2026-11-18", end="2026-11-23") == [D(2026, 11, 18), D(2026, 11, 19), D(2026, 11, 23)]


def test_stored_sessions_are_what_exchange_calendars_computes() -> None:
    """src/brmacro/data/bvmf_sessions.txt (read at every start) must equal exchange_calendars' BVMF sessions;
    after upgrading exchange_calendars, regenerate it with `python -m brmacro.calendar`."""
    import numpy as np

    from brmacro.calendar import SESSIONS_FILE, computed_sessions

    stored = np.array(SESSIONS_FILE.read_text(encoding="ascii").split(), dtype="datetime64[D]")
    np.testing.assert_array_equal(stored, computed_sessions())


def test_the_ends_of_the_stored_session_list() -> None:
    """Kills ``calendar.py`` mutants at the ends of the stored list: the first B3 session of the span is Monday
    2005-01-03, the last Monday 2030-12-30 (B3 is closed on 31 December); stepping, membership and ranges
    at both ends, by the calendar."""
    first, last = D(2005, 1, 3), D(2030, 12, 30)
    assert is_session(first) and is_session(last)
    assert not is_session(D(2030, 12, 31)) and not is_session(D(2031, 1, 2))  # past the end of the list
    assert previous_session(D(2005, 1, 4)) == first
    with pytest.raises(DateError, match="no B3 session before 2005-01-03"):
        previous_session(first)
    assert next_session(D(2030, 12, 27)) == last  # Friday -> Monday
    with pytest.raises(DateError, match="no B3 session after 2030-12-30"):
        next_session(last)
    assert previous_sessions(D(2005, 1, 5), 5) == [first, D(2005, 1, 4)]  # fewer at the calendar start
    assert previous_sessions(first, 3) == []
    assert sessions_between(D(2030, 12, 28), D(2031, 1, 10)) == [last]
    assert resolve_dates(first) == [first] and resolve_dates(last) == [last]
