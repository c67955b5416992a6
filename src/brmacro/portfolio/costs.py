"""Transaction costs per instrument, each in its own market unit (``docs/portfolio.md`` has the sources).

One model, used in three places: the cost term of the optimiser (relative to the reference book),
the no-trade band, and the range backtest's sequential execution.

A one-way trade of one contract costs ``ticks`` minimum price increments of the contract (half the
bid-ask: 0.5 tick in a one-tick market, more where the book is wider) plus the exchange fee per
contract:

- **DI1**: the tick is in *rate* (B3 contract specification: 0.002 rate points up to 3 months to
  maturity, 0.005 from 4 to 60 months, 0.01 beyond 60 months, i.e. 0.2 / 0.5 / 1 bp). In BRL a
  tick costs ``tick_bp × DV01`` per contract, so a 10-year contract (tick 1 bp, DV01 ≈ 7× a 1-year
  one's) costs far more than a short one: wider for long maturities, as a desk pays.
- **DOL**: tick BRL 0.5 per USD 1,000 (BRL 25 per USD 50,000 contract). **IND**: 5 index points at
  BRL 1. **ZN**: half of 1/32 of a point, USD 15.625. **ES**: 0.25 point at USD 50, USD 12.50.

The optimiser and the backtest work in weights (NAV fractions), so the model is expressed as the
cost of trading one unit of notional, ``c_i = cost per contract / notional per contract`` — a
fraction (e.g. 0.0002 = 2 bp of notional). For DI1 that is ``ticks · tick_bp · 1e-4 · (du/252)/(1+r)
+ fee/PU`` on the instrument's constant maturity.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from brmacro.instruments import by_name, di1_pu

__all__ = ["cost_fractions", "di1_tick_bp", "one_way_cost"]

_TICK = {"fx": 0.5 * 50.0, "equity_br": 5.0, "ust": 15.625, "equity_us": 12.5}  # contract currency per tick


def di1_tick_bp(du_: float) -> float:
    """B3's DI1 tick in rate bp for a contract ``du_`` business days (≈ du/21 months) from maturity."""
    months = du_ / 21.0
    if months <= 3:
        return 0.2
    if months <= 60:
        return 0.5
    return 1.0


def one_way_cost(name: str, level: float, ptax: float, costs: Mapping[str, Any]) -> tuple[float, str]:
    """One-way cost of trading one unit of notional of ``name``, and how it was computed.

    Parameters
    ----------
    name : str
        Instrument.
    level : float
        The instrument's level on the session (``silver_returns.level``: a yield for rates, else a price).
    ptax : float
        BRL per USD (the USD fees and ticks of DOL, ZN and ES).
    costs : mapping
        ``portfolio.costs``: instrument -> ``{ticks, fee}``.

    Returns
    -------
    (fraction, note)
        Cost as a fraction of traded notional, and a plain description with the unit figure.

    Raises
    ------
    ValueError
        When the instrument has no cost entry or an input is not finite and positive where it must be.
    """
    inst = by_name(name)
    if name not in costs:
        raise ValueError(f"portfolio.costs: no cost for {name}")
    ticks, fee = float(costs[name]["ticks"]), float(costs[name]["fee"])
    if not (math.isfinite(level) and math.isfinite(ptax) and ptax > 0):
        raise ValueError(f"cost of {name}: level {level} or PTAX {ptax} is not a usable number")
    if inst.kind == "di1":
        tick = di1_tick_bp(inst.tenor_du)
        pu = float(di1_pu(level, inst.tenor_du))
        dur = (inst.tenor_du / 252.0) / (1.0 + level)
        frac = ticks * tick * 1e-4 * dur + fee / pu
        return frac, f"{ticks:g} x {tick:g} bp of rate x DV01 + BRL {fee:g}"
    if inst.kind == "fx":
        notional = inst.multiplier * ptax
        per = ticks * _TICK["fx"] + fee * ptax
        return per / notional, f"{ticks:g} tick(s) of BRL 0.5/USD 1,000 + USD {fee:g}"
    if inst.kind == "equity_br":
        return (ticks * _TICK["equity_br"] + fee) / (inst.multiplier * level), f"{ticks:g} x 5 points + BRL {fee:g}"
    if inst.kind == "ust":
        from brmacro.portfolio.sizing import zn_price

        notional = inst.multiplier * zn_price(level)
        return (ticks * _TICK["ust"] + fee) / notional, f"{ticks:g} x 1/64 point (USD 15.625) + USD {fee:g}"
    if inst.kind == "equity_us":
        return (ticks * _TICK["equity_us"] + fee) / (inst.multiplier * level), f"{ticks:g} x 0.25 point + USD {fee:g}"
    raise ValueError(f"no cost rule for {name} ({inst.kind})")


def cost_fractions(names: Sequence[str], levels: Mapping[str, float], ptax: float,
                   costs: Mapping[str, Any]) -> NDArray[np.float64]:
    """:func:`one_way_cost` fractions of every instrument of ``names`` (in that order)."""
    return np.array([one_way_cost(n, float(levels[n]), ptax, costs)[0] for n in names], dtype=float)
