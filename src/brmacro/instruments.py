"""The instrument table: every tradable of the model book, its asset class and pricing rule.

Direction is always that of the instrument's *price* (DESIGN §4): +1 long, -1 short. A rates
instrument is long when it receives fixed, so a long DI1 position gains when the DI rate falls
(on B3 that is *selling* the rate; orders are worded receive/pay).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import numpy as np

from brmacro.calendar import anbima_roll_forward

__all__ = [
    "INSTRUMENTS",
    "Instrument",
    "by_name",
    "di1_dv01",
    "di1_maturity",
    "di1_pu",
    "di1_ticker",
]

Kind = Literal["di1", "fx", "equity_br", "ust", "equity_us"]
AssetClass = Literal["rates_br", "fx", "equity_br", "rates_us", "equity_us"]

MONTH_CODES = "FGHJKMNQUVXZ"


@dataclass(frozen=True)
class Instrument:
    """A tradable.

    Attributes
    ----------
    name : str
        Internal name (``DI1_2Y``, ``USDBRL``).
    asset_class : str
        ``rates_br``, ``fx``, ``equity_br``, ``rates_us``, ``equity_us``.
    kind : str
        Pricing rule: ``di1`` (PU = 100,000/(1+r)^(du/252)), ``fx`` (DOL, USD 50,000 a contract),
        ``equity_br`` (IND, BRL 1 per index point), ``ust`` (10-year note future, USD 100,000 face),
        ``equity_us`` (E-mini S&P 500, USD 50 per point).
    tenor_du : int
        Constant maturity in ANBIMA business days for DI1 points (0 otherwise).
    contract : str
        Root of the listed future that carries orders (``DI1``, ``DOL``, ``IND``, ``ZN``, ``ES``).
    multiplier : float
        Currency units per price point (per PU point for DI1).
    currency : str
        ``BRL`` or ``USD``.
    duration : float
        Modified duration in years used for yield shocks (0 for non-rates); DI1 points compute theirs from du.
    """

    name: str
    asset_class: AssetClass
    kind: Kind
    tenor_du: int
    contract: str
    multiplier: float
    currency: str
    duration: float = 0.0
    doc: str = ""


INSTRUMENTS: tuple[Instrument, ...] = (
    Instrument("DI1_1Y", "rates_br", "di1", 252, "DI1", 1.0, "BRL", doc="DI1 constant maturity 1 year (252 du)"),
    Instrument("DI1_2Y", "rates_br", "di1", 504, "DI1", 1.0, "BRL", doc="DI1 constant maturity 2 years (504 du)"),
    Instrument("DI1_5Y", "rates_br", "di1", 1260, "DI1", 1.0, "BRL", doc="DI1 constant maturity 5 years (1260 du)"),
    Instrument("DI1_10Y", "rates_br", "di1", 2520, "DI1", 1.0, "BRL", doc="DI1 constant maturity 10 years (2520 du)"),
    Instrument("USDBRL", "fx", "fx", 0, "DOL", 50_000.0, "BRL",
               doc="USD/BRL via DOL futures (USD 50,000); long = long USD, short BRL"),
    Instrument("IBOV", "equity_br", "equity_br", 0, "IND", 1.0, "BRL", doc="Ibovespa via IND futures (BRL 1/point)"),
    Instrument("UST_10Y", "rates_us", "ust", 0, "ZN", 1_000.0, "USD", duration=8.0,
               doc="US 10-year note future (USD 100,000 face, quoted per 100); long = receive"),
    Instrument("SPX", "equity_us", "equity_us", 0, "ES", 50.0, "USD", doc="S&P 500 via E-mini futures (USD 50/point)"),
)

_BY_NAME = {i.name: i for i in INSTRUMENTS}


def by_name(name: str) -> Instrument:
    """The instrument of an internal name; a clear error for an unknown one."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown instrument {name!r}; known instruments: {sorted(_BY_NAME)}") from None


def di1_pu(rate: float | np.ndarray, du_: float | np.ndarray) -> np.ndarray:
    """DI1 unit price: ``100,000 / (1 + rate)^(du/252)`` (rate decimal per year)."""
    return 100_000.0 / np.power(1.0 + np.asarray(rate, dtype=float), np.asarray(du_, dtype=float) / 252.0)


def di1_dv01(rate: float | np.ndarray, du_: float | np.ndarray) -> np.ndarray:
    """BRL change of one DI1 contract's PU for a 1 bp *fall* in the rate (positive number).

    ``dPU/dr = -PU · (du/252) / (1 + r)``, times 0.0001.
    """
    r = np.asarray(rate, dtype=float)
    n = np.asarray(du_, dtype=float)
    return di1_pu(r, n) * (n / 252.0) / (1.0 + r) * 1e-4


def di1_maturity(year: int, month: int) -> dt.date:
    """A DI1 contract's maturity: the first ANBIMA business day of its month."""
    return anbima_roll_forward(dt.date(year, month, 1))


def di1_ticker(maturity: dt.date) -> str:
    """B3 ticker of the DI1 contract maturing in ``maturity``'s month (``DI1F27``)."""
    return f"DI1{MONTH_CODES[maturity.month - 1]}{maturity.year % 100:02d}"
