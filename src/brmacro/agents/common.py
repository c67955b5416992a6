"""Shared pieces of the five agents: signal records, strength, the composite rule, targets, maths.

Signals are :class:`Signal` records turned into the ``agent_signals`` table by :func:`signals_frame`;
features are :class:`Feature` records (null value + note when not computable). The composite
follows DOMAIN Part B §3.4: drop NO_SIGNAL sub-signals, renormalise the weights, take the weighted
plurality direction, confidence = Σ wᵢ·confᵢ, and multiply by the conflict damper (0.70) when at
least ``min_disagree`` active sub-signals point the other way.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, cast

import numpy as np
import pandas as pd

from brmacro.agents.schemas import FEATURES, SIGNALS
from brmacro.kept import KeptFrames, series_key

__all__ = [
    "CompositeResult",
    "Feature",
    "OLSResult",
    "Signal",
    "clamp",
    "classify_strength",
    "composite",
    "composite_signal",
    "features_frame",
    "fired_branch",
    "gap_signal",
    "kalman_local_level",
    "monthly_last",
    "ols",
    "signals_frame",
    "target_at",
    "to_json",
    "z_of_last",
    "zscore_last",
]

STRENGTHS = ("STRONG", "MODERATE", "WEAK", "NO_SIGNAL")


def classify_strength(conf: float) -> str:
    """STRONG (≥0.75), MODERATE (≥0.50), WEAK (≥0.25), otherwise NO_SIGNAL (DOMAIN B §3.4)."""
    if conf >= 0.75:
        return "STRONG"
    if conf >= 0.50:
        return "MODERATE"
    if conf >= 0.25:
        return "WEAK"
    return "NO_SIGNAL"


def clamp(x: float, lo: float, hi: float) -> float:
    """``x`` limited to ``[lo, hi]``."""
    return float(min(hi, max(lo, x)))


def _clean(v: Any) -> Any:
    if isinstance(v, (np.floating, float)):
        f = float(v)
        return None if not math.isfinite(f) else round(f, 10)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, Mapping):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    if isinstance(v, (dt.date, pd.Timestamp)):
        return v.isoformat()[:10]
    return v


def to_json(obj: Any) -> str:
    """Deterministic JSON (sorted keys, non-finite floats as null, floats rounded to 1e-10)."""
    return json.dumps(_clean(obj), sort_keys=True)


@dataclass
class Signal:
    """One agent signal before it becomes a table row.

    ``direction`` is in the price convention (+1 long the instrument, -1 short). A signal whose
    strength is NO_SIGNAL always carries direction 0.
    """

    signal_id: str
    instrument: str
    direction: int
    confidence: float
    value: float | None
    horizon: int
    drivers: dict[str, Any] = field(default_factory=dict)
    is_composite: bool = False
    strength: str | None = None

    def __post_init__(self) -> None:
        c = float(self.confidence)
        self.confidence = 0.0 if not math.isfinite(c) else clamp(c, 0.0, 1.0)
        if self.value is not None and not math.isfinite(float(self.value)):
            self.value = None
        if self.strength is None:
            self.strength = classify_strength(self.confidence) if self.direction != 0 else "NO_SIGNAL"
        if self.strength == "NO_SIGNAL":
            if self.direction != 0 and isinstance(self.drivers.get("mapping"), str):
                self.drivers["mapping"] += f"; confidence {c:.2f} too low for a signal -> no position (0)"
            self.direction = 0
        self.direction = int(np.sign(self.direction))

    @classmethod
    def gap(cls, signal_id: str, instrument: str, horizon: int, reason: str, **drivers: Any) -> Signal:
        """A signal that cannot be computed: neutral, NO_SIGNAL, null value, the reason in its drivers."""
        return cls(signal_id, instrument, 0, 0.0, None, horizon, {"not_computed": reason, **drivers})


@dataclass(frozen=True)
class Feature:
    """One model input or intermediate, with its unit (or why it is missing) in ``note``."""

    feature: str
    value: float | None
    note: str


def signals_frame(date: dt.date, agent: str, signals: Sequence[Signal]) -> pd.DataFrame:
    """The ``agent_signals`` table of one agent (sorted by signal_id)."""
    rows = [
        {
            "date": date,
            "agent": agent,
            "signal_id": s.signal_id,
            "instrument": s.instrument,
            "direction": int(s.direction),
            "strength": s.strength,
            "confidence": float(s.confidence),
            "value": None if s.value is None else float(s.value),
            "horizon": int(s.horizon),
            "is_composite": bool(s.is_composite),
            "drivers": to_json(s.drivers),
        }
        for s in signals
    ]
    df = pd.DataFrame(rows, columns=SIGNALS.names)
    df["value"] = df["value"].astype(float)
    return df.sort_values("signal_id", kind="mergesort").reset_index(drop=True)


def features_frame(date: dt.date, agent: str, features: Sequence[Feature]) -> pd.DataFrame:
    """The ``agent_features`` table of one agent; a non-finite value becomes null with its note kept."""
    rows = []
    for f in features:
        v = None if f.value is None or not math.isfinite(float(f.value)) else float(f.value)
        rows.append({"date": date, "agent": agent, "feature": f.feature, "value": v, "note": f.note})
    df = pd.DataFrame(rows, columns=FEATURES.names)
    df["value"] = df["value"].astype(float)
    return df.sort_values("feature", kind="mergesort").reset_index(drop=True)


@dataclass(frozen=True)
class CompositeResult:
    """The composite's direction, confidence, net score and the bookkeeping behind them."""

    direction: int
    confidence: float
    score: float
    weights: dict[str, float]
    disagree: int
    damped: bool


def composite(
    subs: Mapping[str, Signal], weights: Mapping[str, float], *, min_disagree: int, damper: float = 0.70
) -> CompositeResult:
    """Combine an agent's sub-signals (DOMAIN B §3.4).

    Parameters
    ----------
    subs : mapping of str to Signal
        Sub-signals by their key in ``weights`` (keys absent from ``weights`` are ignored).
    weights : mapping of str to float
        Fixed weights; renormalised over the active (not NO_SIGNAL) sub-signals.
    min_disagree : int
        Number of active sub-signals opposite to the plurality that triggers the damper.
    damper : float
        Confidence multiplier applied on conflict.

    Returns
    -------
    CompositeResult
        Direction = the weighted plurality of the active directions (0 on a tie or when nothing is
        active); confidence = Σ wᵢ·confᵢ (× damper on conflict); score = Σ wᵢ·dᵢ·confᵢ in [-1, 1].
    """
    active = {k: s for k, s in subs.items() if k in weights and s.strength != "NO_SIGNAL" and weights[k] > 0}
    total = sum(weights[k] for k in active)
    if not active or total <= 0:
        return CompositeResult(0, 0.0, 0.0, {}, 0, False)
    w = {k: weights[k] / total for k in active}
    mass = {d: sum(w[k] for k, s in active.items() if s.direction == d) for d in (-1, 0, 1)}
    best = max(mass.values())
    winners = [d for d, m in mass.items() if math.isclose(m, best, rel_tol=0, abs_tol=1e-12)]
    direction = winners[0] if len(winners) == 1 else 0
    conf = sum(w[k] * s.confidence for k, s in active.items())
    disagree = sum(1 for s in active.values() if s.direction != 0 and s.direction != direction)
    damped = disagree >= min_disagree
    if damped:
        conf *= damper
    score = sum(w[k] * s.direction * s.confidence for k, s in active.items())
    return CompositeResult(int(direction), clamp(conf, 0.0, 1.0), float(score), w, disagree, damped)


def composite_signal(
    signal_id: str,
    instrument: str,
    horizon: int,
    subs: Mapping[str, Signal],
    weights: Mapping[str, float],
    *,
    min_disagree: int,
    damper: float,
) -> Signal:
    """The composite as a :class:`Signal` (value = net score Σ wᵢ·dᵢ·confᵢ; drivers = sub-signals used)."""
    res = composite(subs, weights, min_disagree=min_disagree, damper=damper)
    drivers = {
        "weights": res.weights,
        "directions": {k: subs[k].direction for k in res.weights},
        "confidences": {k: subs[k].confidence for k in res.weights},
        "disagree": res.disagree,
        "damped": res.damped,
    }
    if not res.weights:
        used = [s for k, s in subs.items() if k in weights]
        if all(s.value is None for s in used):
            return Signal(signal_id, instrument, 0, 0.0, None, horizon,
                          {"not_computed": "no sub-signal could be computed", **drivers}, is_composite=True)
        # every sub-signal computed but none fired: a genuine neutral composite (net score 0)
        return Signal(signal_id, instrument, 0, 0.0, 0.0, horizon, {"note": "no active sub-signal", **drivers},
                      is_composite=True)
    return Signal(signal_id, instrument, res.direction, res.confidence, res.score, horizon, drivers, is_composite=True)


def fired_branch(direction: int, up: str, down: str, flat: str) -> str:
    """The text of the branch of a signal's rule that fired, with the numbers that decided it.

    Parameters
    ----------
    direction : int
        The direction the rule gave the instrument (+1, -1 or 0).
    up, down, flat : str
        The branch texts for +1, -1 and 0 (e.g. ``"US core 2.9% above target 2.0% -> short UST_10Y (-1)"``).
    """
    return up if direction > 0 else (down if direction < 0 else flat)


def gap_signal(value: float, threshold: float, scale: float) -> tuple[int, float]:
    """Sign of ``value`` when ``|value| ≥ threshold`` (else 0) and confidence ``min(1, |value|/scale)``."""
    if not math.isfinite(value) or abs(value) < threshold:
        return 0, 0.0
    return int(np.sign(value)), clamp(abs(value) / scale, 0.0, 1.0)


def target_at(date: dt.date | pd.Timestamp, table: Sequence[Mapping[str, Any]]) -> float:
    """The Brazilian inflation target (decimal) in force on ``date`` from the config table.

    Parameters
    ----------
    date : date
        The day the target applies to.
    table : sequence of mapping
        ``[{from: date, target: decimal}, ...]``; the entry with the latest ``from`` on or before
        ``date`` wins.

    Raises
    ------
    ValueError
        When ``date`` precedes every entry.
    """
    d = pd.Timestamp(date).date()
    best: tuple[dt.date, float] | None = None
    for row in table:
        start = pd.Timestamp(row["from"]).date()
        if start <= d and (best is None or start > best[0]):
            best = (start, float(row["target"]))
    if best is None:
        raise ValueError(f"agents.inflation_target: no target in force on {d.isoformat()}")
    return best[1]


def zscore_last(s: pd.Series, window: int, min_obs: int) -> float:
    """z-score of the last value of ``s`` against its trailing ``window`` values (NaN if too short)."""
    return z_of_last(s.dropna().to_numpy(dtype=float)[-window:], min_obs)


def z_of_last(x: np.ndarray, min_obs: int) -> float:
    """The agents' z-score of the last of ``x`` (valid values, the window already cut) against all of them: sample
    std; NaN with fewer than ``min_obs`` (or 2) values or no dispersion. :func:`zscore_last` and every path of past
    scores (the regime score's, the carry model's) compute it here."""
    if len(x) < max(min_obs, 2):
        return math.nan
    sd = float(x.std(ddof=1))
    if not math.isfinite(sd) or sd <= 0:
        return math.nan
    return float((x[-1] - x.mean()) / sd)


@dataclass(frozen=True)
class OLSResult:
    """Coefficients (constant first when added), residual std and fit size."""

    coef: np.ndarray
    resid_std: float
    r2: float
    nobs: int


def ols(y: np.ndarray, x: np.ndarray, *, add_const: bool = True) -> OLSResult:
    """Ordinary least squares through statsmodels.

    Parameters
    ----------
    y : ndarray, shape (n,)
    x : ndarray, shape (n, k)
    add_const : bool
        Prepend a constant column.
    """
    import statsmodels.api as sm

    xx = np.asarray(x, dtype=float)
    if xx.ndim == 1:
        xx = xx[:, None]
    if add_const:
        xx = np.column_stack([np.ones(len(xx)), xx])
    res = sm.OLS(np.asarray(y, dtype=float), xx).fit()
    return OLSResult(np.asarray(res.params, dtype=float), float(np.sqrt(res.scale)), float(res.rsquared), int(res.nobs))


def kalman_local_level(
    y: np.ndarray, *, q: float, r: float, x0: float, p0: float
) -> tuple[np.ndarray, np.ndarray]:
    """Kalman filter of a local-level model: ``x_t = x_{t-1} + w_t``, ``y_t = x_t + v_t``.

    Parameters
    ----------
    y : ndarray
        Observations (NaN = missing: predict only).
    q, r : float
        State and observation noise variances.
    x0, p0 : float
        Prior mean and variance of the state before the first observation.

    Returns
    -------
    (ndarray, ndarray)
        Filtered state means and variances, one per observation.
    """
    n = len(y)
    xs = np.empty(n)
    ps = np.empty(n)
    x, p = float(x0), float(p0)
    for t in range(n):
        p = p + q if t > 0 else p
        if math.isfinite(float(y[t])):
            k = p / (p + r)
            x = x + k * (float(y[t]) - x)
            p = (1.0 - k) * p
        xs[t], ps[t] = x, p
    return xs, ps


def month_starts(s: pd.Series) -> pd.Series:
    """A monthly series labelled on each month's first day (the last value of a month observed twice), ``s`` itself
    unchanged.

    A pure function of the series, which changes only when it is released: kept per process
    (:class:`brmacro.kept.KeptFrames`) under its exact bytes (:func:`brmacro.kept.series_key`: values, dates, the
    index's frequency and name, the series' name), so the sessions of a batch job between two releases share it; a
    copy is handed out (the same values, index, inferred frequency and names).
    """
    k = series_key(s)
    return _KEPT_MONTH_STARTS.get(None if k is None else ("month_starts", k), partial(_by_month_start, s))


def _by_month_start(s: pd.Series) -> pd.Series:
    s = s.copy()
    s.index = pd.DatetimeIndex(s.index).to_period("M").to_timestamp(how="start")
    return s[~s.index.duplicated(keep="last")]


def _monthly_last_sorted(s: pd.Series) -> pd.Series | None:
    idx = s.index
    if not (isinstance(idx, pd.DatetimeIndex) and idx.dtype == np.dtype("datetime64[ns]") and s.dtype == np.float64
            and len(idx) and idx.is_monotonic_increasing and not idx.hasnans):
        return None
    month = idx.to_numpy().astype("datetime64[M]")
    last = np.append(month[1:] != month[:-1], True)
    starts = pd.DatetimeIndex(month[last].astype("datetime64[ns]"), name=idx.name, freq="infer")
    return pd.Series(s.to_numpy()[last], index=starts, name=s.name)


#: :func:`month_starts` of the last series of this process (24 a session: inflation, monetary policy, fiscal)
_KEPT_MONTH_STARTS: KeptFrames[pd.Series] = KeptFrames(64)


def monthly_last(s: pd.Series) -> pd.Series:
    """Last value of each calendar month of a daily series, labelled on the month's first day.

    For a float64 series on an ascending naive ``datetime64[ns]`` index without ``NaT`` (a silver series), in numpy:
    the last row of each month (rows ascending, so a month's rows are one run) labelled on the month's first day,
    the frequency inferred as ``to_timestamp`` infers it; anything else goes through the period grouping.
    """
    fast = _monthly_last_sorted(s.dropna())
    if fast is not None:
        return fast
    s = s.dropna()
    idx = pd.DatetimeIndex(s.index)
    out = s.groupby(idx.to_period("M")).last()
    out.index = cast(pd.PeriodIndex, out.index).to_timestamp(how="start")
    return out
