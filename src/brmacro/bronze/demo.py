"""The deterministic demo market: bronze snapshots of a seeded simulated Brazil/US economy.

The whole path (2005-2030) is simulated once per process and seed
(:func:`brmacro.bronze.demo_model.simulate`), each source's full history is built once from it
(:func:`brmacro.bronze.demo_tables.full_table`), and :func:`snapshot` of a session ``D`` is a
filter of that history: rows released by ``D`` inside the configured lookbacks and crisis windows.
The same ``(source, D, params, seed)`` therefore always gives the same rows, whatever was asked before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from brmacro.bronze.demo_model import REGIMES, simulate
from brmacro.bronze.demo_tables import DAILY, FOCUS, MACRO, SOURCES, full_table
from brmacro.bronze.params import BronzeParams, parse_params
from brmacro.calendar import CALENDAR_END, CALENDAR_START, DateError
from brmacro.params import defaults

__all__ = [
    "DEFAULT_SEED",
    "SOURCES",
    "snapshot",
    "true_regimes",
]

#: The demo market's seed when ``demo.seed`` is not given (its declared default, :mod:`brmacro.params.demo`).
DEFAULT_SEED: int = defaults("demo.seed")
def _years_before(d: dt.date, n: int) -> np.datetime64:
    try:
        x = d.replace(year=d.year - n)
    except ValueError:  # 29 February
        x = d.replace(year=d.year - n, day=28)
    return np.datetime64(x, "D")


def _source_name(source: str) -> str:
    s = source.removeprefix("bronze_")
    if s not in SOURCES:
        raise ValueError(f"demo market: unknown source {source!r}; known: {[f'bronze_{x}' for x in SOURCES]}")
    return s


def snapshot(
    source: str, date: dt.date, params: Mapping[str, Any] | BronzeParams | None = None, *, seed: int = DEFAULT_SEED
) -> pd.DataFrame:
    """What one demo source says as of session ``date``, in its exact bronze schema.

    Parameters
    ----------
    source : str
        ``bcb_sgs``, ``fred``, ``yahoo``, ``bcb_ptax``, ``b3_market_data``, ``treasury_gov`` or
        ``bcb_focus`` (the ``bronze_`` prefix is accepted).
    date : datetime.date
        The as-of date (a session in the pipeline); rows released after it are never included.
    params : mapping or BronzeParams, optional
        The ``bronze:`` config subtree (lookbacks and crisis windows); defaults when omitted.
    seed : int
        The demo seed (config ``demo.seed``).

    Returns
    -------
    pandas.DataFrame
        Rows released by ``date`` whose observation lies in the lookback of its class (daily rows:
        ``daily_lookback_years`` plus the crisis windows; monthly/quarterly/weekly macro rows:
        ``macro_lookback_years``; Focus surveys: ``focus_lookback_years``), sorted by the schema key.

    Raises
    ------
    DateError
        When ``date`` is outside the calendar span.
    BronzeConfigError
        When ``params`` is malformed.
    """
    if not CALENDAR_START <= date <= CALENDAR_END:
        raise DateError(
            f"bronze_{source.removeprefix('bronze_')}: {date} is outside the demo span "
            f"{CALENDAR_START}..{CALENDAR_END}"
        )
    p = parse_params(params)
    t = full_table(_source_name(source), int(seed))
    d = np.datetime64(date, "D")
    in_daily = t.obs >= _years_before(date, p.daily_lookback_years)
    for w in p.crisis_windows:
        if w.start <= date:
            in_daily |= (t.obs >= np.datetime64(w.start, "D")) & (t.obs <= np.datetime64(w.end, "D"))
    mask = (
        ((t.kind == DAILY) & in_daily)
        | ((t.kind == MACRO) & (t.obs >= _years_before(date, p.macro_lookback_years)))
        | ((t.kind == FOCUS) & (t.obs >= _years_before(date, p.focus_lookback_years)))
    ) & (t.release <= d)
    return t.frame.iloc[np.flatnonzero(mask)].reset_index(drop=True)


def true_regimes(seed: int = DEFAULT_SEED) -> pd.Series:
    """The demo economy's true regime on every B3 session (for tests only; the pipeline never reads it).

    Returns
    -------
    pandas.Series
        Regime label (``goldilocks``, ``reflation``, ``stagflation``, ``deflation``) indexed by session
        (``DatetimeIndex`` named ``date``).
    """
    sim = simulate(int(seed))
    m = sim.b3_mask
    idx = pd.DatetimeIndex(sim.days[m].astype("datetime64[ns]"), name="date")
    return pd.Series(np.array(REGIMES, dtype=object)[sim.regime_d[m]], index=idx, name="regime")
