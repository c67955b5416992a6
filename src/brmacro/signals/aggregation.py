"""Regime-aware aggregation of strategy and agent signals into one conviction per instrument.

DOMAIN Part B §8.1, with its defects fixed: staleness is counted in B3 sessions from the
partition date (not weekdays from the wall clock), the regime probabilities of the cross-asset
view really tilt the weights, and every contribution is kept for audit.

Per signal: conviction ``c = clamp(z / z_scale, -1, 1)``; staleness factor
``s = max(0, 1 - n / max_sessions)`` with ``n`` the B3 sessions from the signal's data date to
the partition date; regime tilt ``t = max(floor, sum_r P(r) TILT[r][prefix])``. Methods:

- ``bayesian`` (default): weights ``conf x s x t``; conviction ``sum w c / sum w``;
- ``confidence_weighted``: weights ``conf x s``;
- ``rank_based``: each active signal scores ``sign(c) x rank(|c|)/n x s`` (average ranks);
  the conviction is their mean.

Crowding: with at least ``min_signals`` active signals, if the share on the majority sign
exceeds ``threshold`` the conviction is multiplied by ``1 - penalty``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from brmacro.calendar import sessions_between
from brmacro.params import defaults

__all__ = [
    "Aggregate",
    "aggregate_instrument",
    "contributions_json",
    "conviction_from_z",
    "regime_tilt",
    "stale_sessions",
    "staleness_factor",
]

Method = Literal["bayesian", "confidence_weighted", "rank_based"]



def conviction_from_z(z: float, z_scale: float = 2.0) -> float:
    """``clamp(z / z_scale, -1, 1)``."""
    return float(np.clip(z / z_scale, -1.0, 1.0))


def stale_sessions(signal_date: dt.date, asof: dt.date) -> int:
    """B3 sessions after ``signal_date`` up to and including ``asof`` (0 when the data is of ``asof``).

    Raises
    ------
    ValueError
        When ``signal_date`` is after ``asof`` (look-ahead).
    """
    if signal_date > asof:
        raise ValueError(f"signal dated {signal_date} is after the partition date {asof} (look-ahead)")
    if signal_date == asof:
        return 0
    return len(sessions_between(signal_date + dt.timedelta(days=1), asof))


def staleness_factor(n_sessions: int, max_sessions: int) -> float:
    """``max(0, 1 - n / max_sessions)``: full weight today, none after ``max_sessions`` sessions."""
    if max_sessions <= 0:
        raise ValueError(f"staleness max_sessions must be positive, got {max_sessions}")
    return float(max(0.0, 1.0 - n_sessions / max_sessions))


def regime_tilt(
    signal_id: str,
    probs: Mapping[str, float],
    tilts: Mapping[str, Mapping[str, float]] | None = None,
    floor: float = 0.01,
) -> float:
    """Regime tilt of a signal: ``sum_r P(r) TILT[r][prefix]`` (longest matching prefix; unknown -> 1).

    Parameters
    ----------
    signal_id : str
        Strategy or agent signal id; matched upper-case on the table's prefixes.
    probs : mapping
        Regime -> probability (summing to 1).
    tilts : mapping, optional
        Prefix -> regime -> multiplier (default: the declared ``signals.regime_tilts``).
    floor : float
        Lowest tilt returned.
    """
    table = defaults("signals.regime_tilts") if tilts is None else tilts
    sid = signal_id.upper()
    matches = [p for p in table if sid.startswith(p.upper())]
    if not matches:
        return 1.0
    row = table[max(matches, key=len)]
    t = sum(float(probs.get(r, 0.0)) * float(row.get(r, 1.0)) for r in probs)
    return float(max(floor, t))


@dataclass(frozen=True)
class Aggregate:
    """The consensus of one instrument."""

    conviction: float
    direction: int
    confidence: float
    crowded: bool
    n_signals: int
    weights: tuple[float, ...]


def aggregate_instrument(
    conviction: Sequence[float],
    confidence: Sequence[float],
    staleness: Sequence[float],
    tilt: Sequence[float],
    method: Method = "bayesian",
    crowding_threshold: float = 0.8,
    crowding_penalty: float = 0.2,
    crowding_min_signals: int = 2,
    direction_threshold: float = 0.05,
) -> Aggregate:
    """Aggregate the active signals of one instrument.

    Parameters
    ----------
    conviction, confidence, staleness, tilt : sequence of float
        One entry per active signal (non-zero direction), in a fixed order.
    method : {"bayesian", "confidence_weighted", "rank_based"}
        Weighting scheme (module docstring).
    crowding_threshold, crowding_penalty, crowding_min_signals : float, float, int
        Crowding rule.
    direction_threshold : float
        |conviction| above which the direction is non-zero.

    Returns
    -------
    Aggregate
        ``weights`` are the per-signal weights used (rank scores for ``rank_based``).
    """
    c = np.asarray(conviction, float)
    conf = np.asarray(confidence, float)
    s = np.asarray(staleness, float)
    t = np.asarray(tilt, float)
    keep = s > 0
    if not (len(c) == len(conf) == len(s) == len(t)):
        raise ValueError("aggregate_instrument: inputs of different lengths")
    n = int(keep.sum())
    if n == 0:
        return Aggregate(0.0, 0, 0.0, False, 0, tuple(0.0 for _ in c))
    if method == "bayesian":
        w = conf * s * t
    elif method == "confidence_weighted":
        w = conf * s
    elif method == "rank_based":
        w = np.zeros_like(c)
    else:
        raise ValueError(f"signals.method: unknown aggregation method {method!r}")
    w = np.where(keep, w, 0.0)
    if method == "rank_based":
        ranks = pd.Series(np.abs(c[keep])).rank(method="average").to_numpy()
        score = np.zeros_like(c)
        score[keep] = np.sign(c[keep]) * ranks / n * s[keep]
        conv = float(score[keep].mean())
        w = score
    else:
        conv = float(np.dot(w, c) / w.sum()) if w.sum() > 0 else 0.0
    pos, neg = int((c[keep] > 0).sum()), int((c[keep] < 0).sum())
    crowded = n >= crowding_min_signals and max(pos, neg) / n > crowding_threshold
    if crowded:
        conv *= 1.0 - crowding_penalty
    conv = float(np.clip(conv, -1.0, 1.0))
    d = int(np.sign(conv)) if abs(conv) > direction_threshold else 0
    return Aggregate(conv, d, float(conf[keep].mean()), bool(crowded), n, tuple(float(x) for x in w))


def contributions_json(rows: Sequence[Mapping[str, Any]]) -> str:
    """Canonical JSON of the contribution records (sorted keys, rounded floats)."""
    clean = [{k: (round(v, 10) if isinstance(v, float) else v) for k, v in r.items()} for r in rows]
    return json.dumps(clean, sort_keys=True)
