"""The ``bronze:`` config subtree (lookbacks and crisis windows), validated: read by the demo market, the live
connectors and silver alike, so it lives apart from both."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from brmacro.calendar import DateError, parse_date

__all__ = [
    "DEFAULT_CRISIS_WINDOWS",
    "BronzeConfigError",
    "BronzeParams",
    "CrisisWindow",
    "parse_params",
]

DEFAULT_CRISIS_WINDOWS: tuple[tuple[str, str, str], ...] = (
    ("taper_tantrum_2013", "2013-05-22", "2013-08-30"),
    ("brazil_2015_2016", "2015-09-01", "2016-02-29"),
    ("covid_2020", "2020-02-20", "2020-03-31"),
    ("brazil_election_2022", "2022-10-01", "2022-11-30"),
)


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

    daily_lookback_years: int = 4
    macro_lookback_years: int = 20
    focus_lookback_years: int = 5
    crisis_windows: tuple[CrisisWindow, ...] = tuple(
        CrisisWindow(n, dt.date.fromisoformat(s), dt.date.fromisoformat(e)) for n, s, e in DEFAULT_CRISIS_WINDOWS
    )


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
    known = {"daily_lookback_years", "macro_lookback_years", "focus_lookback_years", "crisis_windows"}
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
        wins = []
        for j, w in enumerate(bronze["crisis_windows"] or ()):
            where = f"bronze.crisis_windows[{j}]"
            if not isinstance(w, Mapping) or set(w) != {"name", "start", "end"}:
                raise BronzeConfigError(f"config {where}: expected a mapping with keys name, start, end; got {w!r}")
            s, e = _as_date(w["start"], f"{where}.start"), _as_date(w["end"], f"{where}.end")
            if s > e:
                raise BronzeConfigError(f"config {where} ({w['name']}): start {s} is after end {e}")
            wins.append(CrisisWindow(str(w["name"]), s, e))
        kw["crisis_windows"] = tuple(wins)
    return BronzeParams(**kw)
