"""A fabricated ``bronze_b3_market_data`` consistent with the fabricated silver curves (desk and portfolio tests).

DI1 listing as the demo's (B3's pattern): the next 12 months, quarter-start months to 5 years, January to
11 years; rates from the fixture's DI_PRE curve (flat forward), open interest by a fixed tier rule.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from brmacro.bronze.schemas import BRONZE_SCHEMAS
from brmacro.calendar import anbima_roll_forward, du, previous_sessions
from brmacro.instruments import MONTH_CODES, di1_pu
from brmacro.portfolio.sizing import flat_forward_rate


def di1_maturities(d: dt.date) -> list[dt.date]:
    out = []
    y, m = d.year, d.month
    k = 0
    while True:
        mat = anbima_roll_forward(dt.date(y, m, 1))
        if mat > d:
            days = (mat - d).days
            if days > 11 * 366:
                break
            if k < 12 or (m in (1, 4, 7, 10) and days <= 5 * 366) or m == 1:
                out.append(mat)
            k += 1
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def b3(curves: pd.DataFrame, asof: dt.date, n_sessions: int = 8, oi_scale: float = 1.0) -> pd.DataFrame:
    """DI1 settlements of the last ``n_sessions`` sessions up to ``asof``."""
    rows = []
    for s in [*previous_sessions(asof, n_sessions - 1), asof]:
        c = curves[(curves["curve"] == "DI_PRE") & (pd.to_datetime(curves["date"]).dt.date == s)]
        t, r = c["tenor_du"].to_numpy(float), c["rate"].to_numpy(float)
        for mat in di1_maturities(s):
            n = int(du(s, mat))
            rate = round(flat_forward_rate(t, r, n), 5)
            tier = 1.0 if mat.month == 1 else (0.3 if mat.month in (4, 7, 10) else 0.1)
            oi = round(1.5e6 * np.exp(-abs(n / 252 - 1.5) / 1.5) * tier * oi_scale)
            ticker = f"DI1{MONTH_CODES[mat.month - 1]}{mat.year % 100:02d}"
            rows.append({"trade_date": s, "commodity": "DI1", "ticker": ticker,
                         "maturity": mat, "du": n, "settlement_rate": rate,
                         "settlement_price": round(float(di1_pu(rate, n)), 2), "open_interest": float(oi),
                         "release_date": s, "release_basis": "captured"})
    df = pd.DataFrame(rows)
    BRONZE_SCHEMAS["bronze_b3_market_data"].conform(df)
    return df
