"""The model book's track record over the report's window: P&L in BRL, drawdown, CDI, VaR exceptions.

The window (:mod:`brmacro.report.window`) is ``W..D``. The P&L of session ``s`` is the one
``risk_limits`` uses (:func:`brmacro.risk.pnl.model_book_pnl`: ``portfolio_sizing(s-2) · returns(s)``,
returns from the report session's ``silver_returns``), a NAV fraction, times ``nav_brl`` for BRL (the
model book is sized on a constant NAV, so BRL P&L adds up). The returns are excess returns over CDI
funding (:mod:`brmacro.silver.returns`), so the book's P&L *is* its excess over CDI; the CDI accrued
over the window comes from ``silver_macro`` (``br_cdi_daily``). Drawdown is measured from the window's
peak of cumulative P&L (the start counts as a peak at 0). A VaR exception on ``s`` is a loss larger
than the 95 % one-day VaR that ``risk_var`` forecast at ``s-2`` for the book held on ``s``, taken as
``risk_limits`` takes it (``risk.limits.var_method``); the count is tested with Kupiec's
proportion-of-failures test.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from brmacro.covariance import returns_matrix
from brmacro.io import date_objects
from brmacro.params import resolve, section
from brmacro.report.inputs import Inputs
from brmacro.report.window import track_record_sessions, window_start
from brmacro.risk.limits import _var_value
from brmacro.risk.pnl import held_sizing_date, model_book_pnl

__all__ = ["Kupiec", "TrackRecord", "build_track_record", "cdi_accrual", "kupiec_pof"]

#: Confidence of the VaR whose exceptions are counted.
VAR_CONFIDENCE = 0.95


@dataclass(frozen=True)
class Kupiec:
    """Kupiec's proportion-of-failures test of a VaR exception count.

    Attributes
    ----------
    n : int
        Sessions with both a P&L and a VaR forecast.
    exceptions : int
        Losses beyond the VaR.
    expected : float
        ``n * (1 - confidence)``.
    lr : float or None
        Likelihood-ratio statistic (chi-squared, 1 degree of freedom); None when ``n == 0``.
    p_value : float or None
        ``P(chi2_1 >= lr)``; a small value rejects the VaR's coverage.
    """

    n: int
    exceptions: int
    expected: float
    lr: float | None
    p_value: float | None


def kupiec_pof(n: int, x: int, confidence: float = VAR_CONFIDENCE) -> Kupiec:
    """Kupiec's POF test: ``LR = -2 ln[(1-p)^(n-x) p^x / ((1-x/n)^(n-x) (x/n)^x)]``, ``p = 1 - confidence``.

    Parameters
    ----------
    n : int
        Number of observations (sessions with a P&L and a VaR forecast).
    x : int
        Number of exceptions, ``0 <= x <= n``.
    confidence : float
        VaR confidence (0.95: expected exception rate 5 %).

    Raises
    ------
    ValueError
        When ``x`` is outside ``[0, n]`` or ``confidence`` outside ``(0, 1)``.
    """
    if not 0 <= x <= n or not 0.0 < confidence < 1.0:
        raise ValueError(f"kupiec_pof: need 0 <= x <= n and 0 < confidence < 1, got n={n}, x={x}, {confidence}")
    p = 1.0 - confidence
    if n == 0:
        return Kupiec(0, 0, 0.0, None, None)
    phat = x / n

    def ll(q: float) -> float:  # log-likelihood of x failures in n at rate q, with 0*log(0) = 0
        return (n - x) * (math.log1p(-q) if n - x else 0.0) + (x * math.log(q) if x else 0.0)

    lr = max(0.0, -2.0 * (ll(p) - ll(phat)))
    return Kupiec(n, x, n * p, lr, math.erfc(math.sqrt(lr / 2.0)))  # chi2(1) survival = erfc(sqrt(lr/2))


def cdi_accrual(macro: pd.DataFrame | None, sessions: list[dt.date]) -> tuple[float | None, str]:
    """CDI compounded over ``sessions`` from ``silver_macro``'s ``br_cdi_daily`` (the rate of the session before).

    Returns ``(None, why)`` when a session's rate is missing. The CDI of session ``p`` accrues from ``p``
    to the next session, so the accrual earned on ``s`` is the rate of the previous session (as in
    :mod:`brmacro.silver.returns`).
    """
    if macro is None:
        return None, "silver_macro missing"
    c = macro.loc[macro["series"] == "br_cdi_daily"]
    if c.empty:
        return None, "silver_macro has no br_cdi_daily"
    s = c.assign(d=date_objects(c["observation_date"])).set_index("d")["value"].sort_index()
    days, vals = s.index.tolist(), s.to_numpy()
    # dates only (the index sorted): the rows before a session are a prefix, its length found by bisection
    prefix = set(map(type, days)) == {dt.date} and all(type(d) is dt.date for d in sessions)
    acc = 1.0
    for d in sessions:
        if prefix:
            k = bisect.bisect_left(days, d)
            prior: Any = vals[:k]
        else:
            prior = s.loc[s.index < d].to_numpy()
        if len(prior) == 0:
            return None, f"no CDI before {d.isoformat()} in silver_macro"
        acc *= 1.0 + float(prior[-1])
    return acc - 1.0, f"br_cdi_daily compounded over {len(sessions)} sessions"


@dataclass
class TrackRecord:
    """The window's daily rows and their summary.

    Attributes
    ----------
    spec : str
        ``report.track_record`` as configured.
    sessions : list of date
        The window's sessions.
    daily : DataFrame
        ``date, sizing_date, pnl, pnl_brl, cum_pnl, cum_brl, drawdown, var95, exception, note``
        (fractions of NAV; ``drawdown`` <= 0 from the running peak of ``cum_pnl``).
    kupiec : Kupiec
        Exceptions over the window.
    cdi : float or None
        CDI accrued over the window.
    cdi_note : str
        How it was computed, or why not.
    why : str
        Why the track record is unavailable ('' when it is).
    start : date or None
        The window's first calendar day (``mtd``: the 1st of the month).
    by_instrument : Series or None
        The session's P&L per held instrument (NAV fraction), None when unavailable.
    """

    spec: str
    sessions: list[dt.date]
    daily: pd.DataFrame
    kupiec: Kupiec
    cdi: float | None
    cdi_note: str
    why: str = ""
    start: dt.date | None = None
    by_instrument: pd.Series | None = None

    def ok(self) -> pd.DataFrame:
        """Rows with an available P&L."""
        return self.daily.loc[self.daily["pnl"].notna()]

    def total(self, since: dt.date | None = None) -> tuple[float | None, str]:
        """Sum of daily P&L (NAV fraction) from ``since`` (whole window when None), or why not."""
        if self.why:
            return None, self.why
        if since is not None and (self.start is None or self.start > since):
            start = self.start.isoformat() if self.start else "n/a"
            return None, (f"window {self.spec!r} starts {start}, after {since.isoformat()} (report.track_record: "
                          "ytd or an earlier date covers it)")
        d = self.daily if since is None else self.daily.loc[self.daily["date"] >= since]
        if d.empty:
            return None, "no session in the window"
        missing = d.loc[d["pnl"].isna()]
        if len(missing):
            return None, f"P&L unavailable on {len(missing)} session(s), first {missing['date'].iloc[0].isoformat()}"
        return float(d["pnl"].sum()), ""


def build_track_record(inp: Inputs, session: dt.date, report_cfg: Mapping[str, Any] | None,
                       risk_params: Mapping[str, Any] | None, nav: float | None) -> TrackRecord:
    """The track record of the model book over the configured window ending at ``session``."""
    cfg = resolve("report", report_cfg)
    spec = str(cfg["track_record"])
    cols = ["date", "sizing_date", "pnl", "pnl_brl", "cum_pnl", "cum_brl", "drawdown", "var95", "exception", "note"]
    empty = pd.DataFrame(columns=cols)
    try:
        win = track_record_sessions(session, cfg)
    except ValueError as exc:
        return TrackRecord(spec, [], empty, kupiec_pof(0, 0), None, "", str(exc))
    if not win:
        return TrackRecord(spec, [], empty, kupiec_pof(0, 0), None, "", f"window {spec!r} has not started")
    ret = inp.get("silver_returns")
    if ret is None:
        return TrackRecord(spec, win, empty, kupiec_pof(0, 0), None, "",
                           f"silver_returns missing: {inp.why('silver_returns')}")
    mat = returns_matrix(ret, session)
    sizings = dict(inp.prev_sizing)
    pnls = model_book_pnl(session, mat, sizings, n_sessions=len(win))
    lim = section({"risk": risk_params} if isinstance(risk_params, Mapping) else None, "risk.limits")
    vars_ = dict(inp.prev_var)
    rows = []
    for r in pnls:
        sd = held_sizing_date(r.date)
        v = None
        if sd in vars_:
            v, _ = _var_value(vars_[sd], VAR_CONFIDENCE, str(lim["var_method"]))
        exceeded = None if r.pnl is None or v is None else bool(-r.pnl > v)
        rows.append({"date": r.date, "sizing_date": r.sizing_date, "pnl": r.pnl, "var95": v, "exception": exceeded,
                     "note": r.note if v is not None else f"{r.note}; no risk_var of {sd}"
                     + (f" ({inp.prev_var_missing})" if inp.prev_var_missing else "")})
    daily = pd.DataFrame(rows)
    p = daily["pnl"].astype(float)
    daily["cum_pnl"] = p.fillna(0.0).cumsum().where(p.notna())
    peak = np.maximum.accumulate(np.concatenate([[0.0], daily["cum_pnl"].ffill().fillna(0.0).to_numpy()]))[1:]
    daily["drawdown"] = (daily["cum_pnl"] - peak).clip(upper=0.0)
    scale = float(nav) if nav is not None else np.nan
    daily["pnl_brl"] = p * scale
    daily["cum_brl"] = daily["cum_pnl"] * scale
    tested = daily.loc[daily["exception"].notna()]
    k = kupiec_pof(len(tested), int(tested["exception"].astype(bool).sum()))
    cdi, note = cdi_accrual(inp.get("silver_macro"), win)
    return TrackRecord(spec, win, daily[cols], k, cdi, note, start=window_start(session, spec),
                       by_instrument=pnls[-1].by_instrument)
