"""Execution toward a target book: partial moves and the no-trade band (``docs/portfolio.md`` §3).

One rule, used by the daily orders against the desk's held book (:func:`brmacro.desk.book.band_orders`)
and by the range backtest's sequential simulation (:func:`brmacro.report.backtest.run_backtest`):

    gap_i   = target_i - held_i
    step_i  = gap_i if target_i == 0 (a move to flat is made whole) else participation x gap_i
    step_i  = -held_i if target_i and held_i have opposite signs and reversal_through_flat (closed whole;
              the new side opens from flat at the next session, if the target still has it)
    trade_i = 0 if |step_i| x vol_i <= no_trade_band and target_i != 0 and no reversal (inside the band),
              else step_i

in weights (NAV fractions), ``vol_i`` the instrument's annualised volatility: the band is in risk units, so it
means the same for a DI1 1-year position (weight up to 5x NAV, vol 0.7 %) and an equity index one (vol 20 %).
An unknown (NaN) volatility disables the band for that instrument. Settings: ``portfolio.no_trade_band``,
``portfolio.participation``, ``portfolio.reversal_through_flat`` (a target that flips sign on one session and
back the next, as a conviction hovering around zero does, then costs a close instead of two reversals).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from brmacro.params import defaults
from brmacro.params.portfolio import EXECUTION_KEYS

__all__ = ["EXECUTION_KEYS", "check_execution", "execution_settings", "execution_step"]

F = NDArray[np.float64]


def execution_settings(cfg: Mapping[str, Any]) -> tuple[float, float, bool]:
    """``(no_trade_band, participation, reversal_through_flat)`` from a mapping holding the ``portfolio`` settings
    of :data:`EXECUTION_KEYS` (each one absent: its declared default), checked (:func:`check_execution`)."""
    band, part, flat = (cfg.get(k, defaults(f"portfolio.{k}")) for k in EXECUTION_KEYS)
    check_execution(float(band), float(part))
    return float(band), float(part), bool(flat)


def check_execution(band: float, participation: float) -> None:
    """Refuse a band below zero or a participation outside (0, 1] (ValueError naming the settings)."""
    if not (np.isfinite(band) and band >= 0.0) or not (np.isfinite(participation) and 0.0 < participation <= 1.0):
        raise ValueError(f"execution: portfolio.participation {participation} must be in (0, 1] and "
                         f"portfolio.no_trade_band {band} >= 0")


def execution_step(target: ArrayLike, held: ArrayLike, vol: ArrayLike, band: float, participation: float,
                   through_flat: bool) -> tuple[F, NDArray[np.bool_], NDArray[np.bool_]]:
    """The trade of each instrument toward its target, which ones the no-trade band held back, which ones reverse.

    Parameters
    ----------
    target, held : array-like
        Target and held weights.
    vol : array-like
        Annualised volatility of each instrument (NaN: unknown, no band).
    band : float
        ``no_trade_band``: a step worth at most this in annual volatility (NAV fraction) is not traded.
    participation : float
        Fraction of the gap traded (1: the whole gap); a move to flat is always whole.
    through_flat : bool
        ``reversal_through_flat``: a position whose target has the other sign is closed whole (never banded).

    Returns
    -------
    (trade, inside_band, reversal)
        ``reversal``: the position was closed whole because its target has the other side (``through_flat``).
    """
    check_execution(band, participation)
    t, h, v = (np.asarray(x, float) for x in (target, held, vol))
    gap = t - h
    step = np.where(t == 0, gap, participation * gap)
    reverse = (np.sign(t) * np.sign(h) < 0) & through_flat
    step = np.where(reverse, -h, step)
    known = np.isfinite(v)
    inside = (np.abs(step) * np.where(known, v, 0.0) <= band) & known & (t != 0) & (band > 0) & ~reverse
    return np.where(inside, 0.0, step), inside, reverse
