"""The ``bronze:`` config subtree (lookbacks and crisis windows), validated: read by the demo market, the live
connectors and silver alike, so it lives apart from both."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from brmacro.calendar import DateError, parse_date
from brmacro.params import declared_section, defaults, factory

__all__ = [
    "BronzeConfigError",
    "BronzeParams",
    "CrisisWindow",
    "parse_params",
]

class BronzeConfigError(ValueError):
    """The ``bronze:`` or ``demo:`` config subtree is malformed."""


@dataclass(frozen=True)
class CrisisWindow:
    """A named slice of history every daily snapshot keeps (both ends inclusive)."""

    name: str
    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class BronzeParams:
    """The ``bronze:`` config subtree, validated.

    Attributes
    ----------
    daily_lookback_years : int
        Years of daily history (prices, settlements, curves, daily series) up to the session.
    macro_lookback_years : int
        Years of monthly, quarterly and weekly macro series.
    focus_lookback_years : int
        Years of Focus surveys.
    crisis_windows : tuple of CrisisWindow
        Slices of daily history kept in addition to the lookback when they start before the session.
    """

    daily_lookback_years: int = field(default_factory=factory("bronze.daily_lookback_years"))
    macro_lookback_years: int = field(default_factory=factory("bronze.macro_lookback_years"))
    focus_lookback_years: int = field(default_factory=factory("bronze.focus_lookback_years"))
    crisis_windows: tuple[CrisisWindow, ...] = field(
        default_factory=lambda: _windows(defaults("bronze.crisis_windows")))


def _as_date(v: object, where: str) -> dt.date:
    try:
        return parse_date(v, where)
    except DateError as exc:
        raise BronzeConfigError(str(exc)) from None


def parse_params(bronze: Mapping[str, Any] | BronzeParams | None) -> BronzeParams:
    """Validate the ``bronze:`` config subtree (missing keys take their documented defaults).

    Raises
    ------
    BronzeConfigError
        On an unknown key, a lookback that is not a positive integer, or a malformed crisis window.
    """
    if bronze is None:
        return BronzeParams()
    if isinstance(bronze, BronzeParams):
        return bronze
    known = set(declared_section("bronze").keys)
    unknown = sorted(set(bronze) - known)
    if unknown:
        raise BronzeConfigError(f"config bronze: unknown keys {unknown}; known keys are {sorted(known)}")
    kw: dict[str, Any] = {}
    for k in ("daily_lookback_years", "macro_lookback_years", "focus_lookback_years"):
        if k in bronze:
            v = bronze[k]
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise BronzeConfigError(f"config bronze.{k}: expected a positive integer of years, got {v!r}")
            kw[k] = v
    if "crisis_windows" in bronze:
        kw["crisis_windows"] = _windows(bronze["crisis_windows"])
    return BronzeParams(**kw)


def _windows(given: Any) -> tuple[CrisisWindow, ...]:
    wins = []
    for j, w in enumerate(given or ()):
        where = f"bronze.crisis_windows[{j}]"
        if not isinstance(w, Mapping) or set(w) != {"name", "start", "end"}:
            raise BronzeConfigError(f"config {where}: expected a mapping with keys name, start, end; got {w!r}")
        s, e = _as_date(w["start"], f"{where}.start"), _as_date(w["end"], f"{where}.end")
        if s > e:
            raise BronzeConfigError(f"config {where} ({w['name']}): start {s} is after end {e}")
        wins.append(CrisisWindow(str(w["name"]), s, e))
    return tuple(wins)
