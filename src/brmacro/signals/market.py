"""Point-in-time access to the silver tables for the strategies.

A :class:`Market` wraps the silver frames of one session and answers the few questions the
strategies ask (a curve point's history, an instrument's levels and returns, a price series,
a macro series as known on each date). Missing data raises :class:`StrategyGap` naming what is
missing, so the strategy is reported as a gap instead of inventing a number.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from brmacro.io import date_objects, dates_on_or_before

__all__ = ["Market", "StrategyGap", "zscore_last", "zscore_path"]


class StrategyGap(ValueError):
    """A strategy cannot compute on this session (an input is missing or degenerate)."""


def _z_end(v: np.ndarray, window: int, need: int) -> float | None:
    """z of ``v[-1]`` against ``v[-window:]`` (population std); None with too few values or no dispersion."""
    v = v[-window:]
    if len(v) < max(need, 2):
        return None
    sd = float(np.std(v))
    if not np.isfinite(sd) or sd <= 1e-14:
        return None
    return float((v[-1] - np.mean(v)) / sd)


def zscore_last(x: pd.Series, window: int, min_obs: int | None = None) -> float:
    """z-score of the last value against the last ``window`` values (population std).

    Parameters
    ----------
    x : pandas.Series
        Observations in time order (NaN dropped).
    window : int
        Number of most recent observations forming the reference distribution (the last one included).
    min_obs : int, optional
        Fewest observations accepted (default ``window // 2``).

    Raises
    ------
    StrategyGap
        With too few observations or a zero standard deviation.
    """
    v = x.dropna().to_numpy(dtype=float)
    need = window // 2 if min_obs is None else min_obs
    z = _z_end(v, window, need)
    if z is None:
        w = v[-window:]
        if len(w) < max(need, 2):
            raise StrategyGap(f"{x.name}: {len(w)} observations, {need} needed for a z-score")
        raise StrategyGap(f"{x.name}: zero dispersion over {len(w)} observations")
    return z


def zscore_path(x: pd.Series, window: int, n: int, min_obs: int | None = None) -> list[float]:
    """z-scores of the last ``n`` observations, oldest first, each against the ``window`` values ending at it.

    The last entry is :func:`zscore_last` (it raises as that does); an earlier one is what
    :func:`zscore_last` gives on the series cut at that observation, NaN where that would raise. Fewer than
    ``n`` entries when the series is shorter.
    """
    v = x.dropna().to_numpy(dtype=float)
    need = window // 2 if min_obs is None else min_obs
    earlier = [_z_end(v[: len(v) - k], window, need) for k in range(min(n, len(v)) - 1, 0, -1)]
    return [math.nan if z is None else z for z in earlier] + [zscore_last(x, window, min_obs)]


@dataclass
class Market:
    """The silver inputs of one session, as the strategies read them.

    Attributes
    ----------
    asof : datetime.date
        The partition session; rows after it are ignored.
    returns, prices, curves, macro : pandas.DataFrame
        ``silver_returns`` part and prices, ``silver_curves`` part, ``silver_macro`` part.
    """

    asof: dt.date
    returns: pd.DataFrame
    prices: pd.DataFrame
    curves: pd.DataFrame
    macro: pd.DataFrame
    _cache: dict[tuple[str, ...], pd.Series] = field(default_factory=dict, repr=False)
    _frames: dict[tuple[int, str], pd.DataFrame] = field(default_factory=dict, repr=False)
    _groups: dict[tuple[int, str], tuple[pd.DataFrame, dict[object, pd.DataFrame]]] = field(
        default_factory=dict, repr=False)

    def _clip(self, df: pd.DataFrame, col: str = "date") -> pd.DataFrame:
        """Rows of ``df`` up to the session, computed once per table (callers filter it further, never mutate)."""
        key = (id(df), col)
        if key not in self._frames:
            self._frames[key] = df[dates_on_or_before(df[col], self.asof)]
        return self._frames[key]

    def _rows(self, df: pd.DataFrame, by: str, value: object, as_int: bool = False) -> pd.DataFrame:
        """The rows of ``df`` up to the session whose ``by`` equals ``value`` (table order, index kept; ``as_int``:
        compared as integers). The clipped table is split by ``by`` once per session, not filtered per question."""
        key = (id(df), by)
        if key not in self._groups:
            clipped = self._clip(df)
            col = clipped[by].astype(int) if as_int else clipped[by]
            self._groups[key] = (clipped.iloc[:0], dict(iter(clipped.groupby(col, sort=False))))
        empty, groups = self._groups[key]
        return groups.get(value, empty)

    def _macro_rows(self, name: str) -> pd.DataFrame:
        """The ``silver_macro`` rows of one series (table order), split by series once per session."""
        key = (id(self.macro), "series")
        if key not in self._frames:
            for series, rows in self.macro.groupby("series", sort=False):
                self._frames[(id(self.macro), f"series:{series}")] = rows
            self._frames[key] = self.macro.iloc[:0]
        return self._frames.get((id(self.macro), f"series:{name}"), self._frames[key])

    def curve_point(self, curve: str, tenor_du: int) -> pd.Series:
        """Rate history (decimal/yr) of one curve point, indexed by date, oldest first."""
        key = ("curve", curve, str(tenor_du))
        if key not in self._cache:
            c = self._rows(self.curves, "tenor_du", int(tenor_du), as_int=True)
            c = c[c["curve"] == curve]
            s = pd.Series(c["rate"].to_numpy(float), index=date_objects(c["date"]), name=f"{curve}@{tenor_du}du")
            s = s[~s.index.duplicated(keep="last")].sort_index().dropna()
            if s.empty:
                raise StrategyGap(f"silver_curves has no {curve} point at {tenor_du} du up to {self.asof}")
            self._cache[key] = s
        return self._cache[key]

    def instrument(self, name: str, col: str = "level") -> pd.Series:
        """One instrument's column of ``silver_returns`` (level, ret, vol_21, ...), indexed by date."""
        key = ("inst", name, col)
        if key not in self._cache:
            r = self._rows(self.returns, "instrument", name)
            s = pd.Series(r[col].to_numpy(float), index=date_objects(r["date"]), name=f"{name}.{col}")
            s = s.sort_index().dropna()
            if s.empty:
                raise StrategyGap(f"silver_returns has no {col} for {name} up to {self.asof}")
            self._cache[key] = s
        return self._cache[key]

    def price(self, series: str) -> pd.Series:
        """A price series of ``silver_returns.prices`` (``yahoo:^VIX``), indexed by date."""
        key = ("price", series)
        if key not in self._cache:
            p = self._rows(self.prices, "series", series)
            s = pd.Series(p["value"].to_numpy(float), index=date_objects(p["date"]), name=series)
            s = s.sort_index().dropna()
            if s.empty:
                raise StrategyGap(f"silver_returns.prices has no {series} up to {self.asof}")
            self._cache[key] = s
        return self._cache[key]

    def macro_obs(self, name: str) -> pd.DataFrame:
        """A macro series' rows released by the session: observation_date, value, release_date (sorted).

        Made once per series and session (strategies ask for the same series several times); each caller gets a copy.
        """
        key = (id(self.macro), f"obs:{name}")
        if key not in self._frames:
            m = self._macro_rows(name)
            m = m[dates_on_or_before(m["release_date"], self.asof)]
            if m.empty:
                raise StrategyGap(f"silver_macro has no {name} released by {self.asof}")
            out = pd.DataFrame(
                {
                    "observation_date": date_objects(m["observation_date"]),
                    "value": m["value"].astype(float),
                    "release_date": date_objects(m["release_date"]),
                }
            )
            self._frames[key] = out.sort_values("observation_date").reset_index(drop=True)
        return self._frames[key].copy()

    def macro_latest(self, name: str) -> tuple[float, dt.date]:
        """The latest observation of a macro series known at the session, and its release date."""
        m = self.macro_obs(name)
        return float(m["value"].iloc[-1]), m["release_date"].iloc[-1]

    def macro_asof(self, name: str, dates: pd.Index) -> pd.Series:
        """The value of a macro series known on each date (latest observation released by then)."""
        m = self.macro_obs(name)
        known = m.sort_values(["release_date", "observation_date"]).copy()
        # on each release date, the latest observation released so far
        known["latest"] = known["observation_date"].cummax()
        known = known[known["observation_date"] == known["latest"]].drop_duplicates("release_date", keep="last")
        idx = pd.to_datetime(pd.Index(list(dates)))
        left = pd.DataFrame({"date": idx}).sort_values("date")
        right = pd.DataFrame({"date": pd.to_datetime(known["release_date"]), "value": known["value"].to_numpy(float)})
        merged = pd.merge_asof(left, right.sort_values("date"), on="date", direction="backward")
        return pd.Series(merged["value"].to_numpy(float), index=[d.date() for d in merged["date"]], name=name)

    def sessions(self) -> list[dt.date]:
        """The returns matrix's session index up to the partition date."""
        d = sorted(set(date_objects(self._clip(self.returns)["date"])))
        if not d:
            raise StrategyGap(f"silver_returns is empty up to {self.asof}")
        return d
