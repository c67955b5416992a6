"""Entries held for a signal's horizon: one rule for the threshold signals of the agents and the strategies.

A signal that fires when its score crosses a threshold switches on and off from one session to the next when
the score hovers around it, and a book that follows it flips (issue 18). :func:`held_z` keeps an entry for the
signal's horizon, decaying, while the score keeps its sign. The past scores come from the session's own inputs
cut at each earlier session (no partition reads an earlier partition of itself, DESIGN §3).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["held_signal", "held_z"]


def held_z(zs: Sequence[float], entry: float, horizon: int) -> tuple[float, int]:
    """The score of a threshold signal with its entries held: ``(z, k)``.

    ``zs`` are the signal's scores on its last sessions, oldest first, today last (NaN: not computable then).
    Today at or beyond ``entry``: today's z, ``k = 0``. Otherwise, if the score crossed the entry ``k`` sessions ago
    (``1 <= k < horizon``, the latest such session) and today's z still has that sign (the dislocation has
    not reverted through its mean), the entry is held: the larger of today's ``|z|`` and the entry's ``|z|``
    decayed linearly to 0 at the horizon, with the entry's sign. Else today's z, ``k = 0`` (neutral).
    """
    today = float(zs[-1])
    if abs(today) >= entry:
        return today, 0
    for k in range(1, min(horizon, len(zs))):
        z = float(zs[-1 - k])
        if math.isfinite(z) and abs(z) >= entry:
            if np.sign(today) != np.sign(z):
                break
            return float(np.sign(z)) * max(abs(today), abs(z) * (1.0 - k / horizon)), k
    return today, 0


def held_signal(zs: Sequence[float], entry: float, scale: float, horizon: int) -> tuple[int, float, float, int]:
    """A threshold signal with its entries held: ``(side, confidence, held score, k)``.

    The held score and ``k`` are :func:`held_z`'s. ``side`` is the held score's sign when today's score is at or
    beyond ``entry`` or an entry is held (``k > 0``), else 0 (also for a NaN score); ``confidence`` is
    ``min(1, |held| / scale)`` on a side, 0 without. The agents' threshold models (BEER, carry-to-risk, the regime
    score) map ``side`` to their instrument's direction.
    """
    held, k = held_z(zs, entry, horizon)
    if not math.isfinite(held) or (not k and abs(held) < entry):
        return 0, 0.0, held, k
    return int(np.sign(held)), min(1.0, abs(held) / scale), held, k
