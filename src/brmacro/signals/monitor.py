"""Signal monitor: flips, surges and divergences of the aggregated signals (DOMAIN Part B §8.2).

- *Flip*: the aggregate direction of an instrument (sign of the conviction outside the neutral
  band, so moves to or from neutral count) differs from the previous session's.
- *Surge*: ``|conviction_today - conviction_previous| > surge_threshold``.
- *Divergence*: an active raw signal whose conviction differs from its instrument's aggregate
  conviction by more than ``divergence_threshold``.
- Weekly flips: flips between each pair of consecutive sessions available (the previous sessions
  declared by the step, oldest first, then today).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, cast

import pandas as pd

__all__ = ["divergences", "flips_and_surges", "weekly_flip_counts"]


def _by_inst(df: pd.DataFrame) -> pd.DataFrame:
    return df.set_index("instrument")[["conviction", "direction"]]


def flips_and_surges(
    prev: pd.DataFrame, cur: pd.DataFrame, prev_date: dt.date, surge_threshold: float = 0.3
) -> list[dict[str, object]]:
    """Flip and surge events between two aggregation tables (``instrument``, ``conviction``, ``direction``).

    Instruments present on only one side are skipped (nothing to compare).
    """
    if surge_threshold <= 0:
        raise ValueError(f"signals.monitor.surge_threshold must be positive, got {surge_threshold}")
    p, c = _by_inst(prev), _by_inst(cur)
    out: list[dict[str, object]] = []
    for inst in sorted(set(p.index) & set(c.index)):
        b, a = float(cast(float, p.at[inst, "conviction"])), float(cast(float, c.at[inst, "conviction"]))
        ev = {"instrument": inst, "subject": "", "before": b, "after": a, "delta": a - b, "compared_with": prev_date}
        if int(cast(int, p.at[inst, "direction"])) != int(cast(int, c.at[inst, "direction"])):
            out.append({"event": "flip", **ev})
        if abs(a - b) > surge_threshold:
            out.append({"event": "surge", **ev})
    return out


def divergences(
    signals: pd.DataFrame, agg: pd.DataFrame, threshold: float = 0.5
) -> list[dict[str, object]]:
    """Active raw signals (``status == 'active'``) far from their instrument's aggregate conviction."""
    if threshold <= 0:
        raise ValueError(f"signals.monitor.divergence_threshold must be positive, got {threshold}")
    a = agg.set_index("instrument")["conviction"]
    act = signals[(signals["status"] == "active") & signals["instrument"].isin(a.index)]
    out: list[dict[str, object]] = []
    for row in cast("Iterable[Any]", act.sort_values(["instrument", "signal_id"]).itertuples(index=False)):
        b, after = float(row.conviction), float(a[row.instrument])
        if abs(after - b) > threshold:
            out.append({"event": "divergence", "instrument": row.instrument, "subject": row.signal_id,
                        "before": b, "after": after, "delta": after - b, "compared_with": None})
    return out


def weekly_flip_counts(history: Sequence[pd.DataFrame]) -> dict[str, int]:
    """Flips per instrument over consecutive aggregation tables (oldest first)."""
    counts: dict[str, int] = {}
    for prev, cur in zip(history[:-1], history[1:], strict=False):
        p, c = _by_inst(prev), _by_inst(cur)
        for inst in set(p.index) & set(c.index):
            if int(cast(int, p.at[inst, "direction"])) != int(cast(int, c.at[inst, "direction"])):
                counts[inst] = counts.get(inst, 0) + 1
    return counts
