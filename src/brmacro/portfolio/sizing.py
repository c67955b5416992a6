"""Position sizing and contract arithmetic.

Sizing turns the optimiser's signed targets into the model book (the step,
:func:`brmacro.portfolio.steps.portfolio_sizing`, enforces every book-shape limit of
:mod:`brmacro.portfolio.limits` on top of the method's size):

- ``vol_target`` (default): scale the *whole* book by one factor ``k`` so its ex-ante
  volatility ``sqrt(periods · wᵀΣw)`` equals the target (DOMAIN A7: not instrument by
  instrument), or less when a limit binds first.
- ``half_kelly``: ``w = f · Σ⁻¹ μ`` with ``f = 0.5`` (multivariate fractional Kelly on the
  posterior means; horizon-free because μ and Σ share one horizon), then the caps.
- ``risk_budget``: weights with the optimiser's signs whose risk contributions
  ``w_i (Σw)_i / wᵀΣw`` equal budgets proportional to |conviction| (equal when none), found
  as ``argmin ½yᵀΣ̃y − Σ b_i log y_i`` (Spinu 2013; ``Σ̃ = SΣS``), then scaled to the vol target.

Per-instrument caps are the optimiser's bounds; an instrument whose aggregated |conviction|
exceeds the soft-limit threshold gets ``factor ×`` its cap (soft-limit override, logged), never
beyond ``risk.limits`` (single position, asset-class exposure) nor the class caps.

Contracts: DI1 (PU = 100,000/(1+r)^(du/252); DV01 from the PU), DOL (USD 50,000 × PTAX),
IND (BRL 1 per index point), ZN (USD 1,000 per point of a 6 % 10-year notional note priced
from the 10-year yield), ES (USD 50 per S&P point); USD notionals use the PTAX.
Contract-month rules are in :func:`dol_contract`, :func:`ind_contract` and :func:`cme_quarterly_contract`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import cvxpy as cp
import numpy as np
from numpy.typing import NDArray

from brmacro.calendar import is_session, next_session
from brmacro.instruments import MONTH_CODES

__all__ = [
    "apply_caps",
    "book_vol",
    "cme_quarterly_contract",
    "dol_contract",
    "flat_forward_rate",
    "half_kelly",
    "ind_contract",
    "ind_expiry",
    "risk_budget_weights",
    "risk_contributions",
    "zn_price",
]

F = NDArray[np.float64]


def book_vol(w: F, sigma: F, periods_per_year: int = 252) -> float:
    """Annualised ex-ante volatility ``sqrt(periods · wᵀΣw)`` of a book (Σ per period)."""
    return float(np.sqrt(max(0.0, periods_per_year * float(w @ sigma @ w))))


def half_kelly(mu: F, sigma: F, fraction: float = 0.5) -> F:
    """Fractional Kelly weights ``fraction · Σ⁻¹ μ`` (μ and Σ on the same horizon)."""
    return np.asarray(fraction * np.linalg.solve(sigma, mu), dtype=float)


def risk_contributions(w: F, sigma: F) -> F:
    """Shares of variance ``w_i (Σw)_i / wᵀΣw`` (summing to 1; zeros for a flat book)."""
    var = float(w @ sigma @ w)
    if var <= 0:
        return np.zeros_like(w)
    return np.asarray(w * (sigma @ w) / var, dtype=float)


def risk_budget_weights(sigma: F, signs: F, budgets: F) -> F:
    """Weights with the given signs whose risk contributions are proportional to ``budgets``.

    Instruments with a zero sign or zero budget get zero weight. The scale is arbitrary
    (the caller scales the book to its volatility target).
    """
    s = np.sign(np.asarray(signs, float))
    b = np.asarray(budgets, float)
    act = (s != 0) & (b > 0)
    out = np.zeros(len(s))
    if not act.any():
        return out
    idx = np.flatnonzero(act)
    st = (sigma[np.ix_(idx, idx)] * np.outer(s[idx], s[idx])) * 252.0
    bb = b[idx] / b[idx].sum()
    y = cp.Variable(len(idx), pos=True)
    evals, evecs = np.linalg.eigh(0.5 * (st + st.T))
    root = evecs * np.sqrt(np.clip(evals, 0.0, None))
    prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(root.T @ y) - bb @ cp.log(y)))
    prob.solve(solver="CLARABEL")
    if prob.status not in ("optimal", "optimal_inaccurate") or y.value is None:
        raise ValueError(f"risk_budget: solver status {prob.status}")
    out[idx] = s[idx] * np.asarray(y.value, float)
    return out


def apply_caps(w: F, lower: F, upper: F, gross_cap: float) -> F:
    """Clip to the per-instrument caps, then scale down uniformly if gross exceeds ``gross_cap``.

    A zero weight stays zero, even under bounds that exclude zero (clipping never creates a position), and
    bounds with ``lower > upper`` are refused.

    Raises
    ------
    ValueError
        When a lower bound exceeds its upper bound (naming the position's index).
    """
    lower, upper = np.asarray(lower, float), np.asarray(upper, float)
    bad = np.flatnonzero(lower > upper)
    if bad.size:
        raise ValueError(f"apply_caps: lower bound above upper bound at position(s) {bad.tolist()}")
    w = np.asarray(w, float)
    x = np.where(w == 0, 0.0, np.clip(w, lower, upper))
    g = float(np.abs(x).sum())
    if g > gross_cap > 0:
        x = x * (gross_cap / g)
    return x


# --------------------------------------------------------------------------- contracts

def flat_forward_rate(tenors_du: Sequence[float], rates: Sequence[float], du_: float) -> float:
    """DI rate at ``du_`` by flat-forward interpolation (log of the capitalisation factor linear in du).

    Flat extrapolation of the rate outside the curve.
    """
    t = np.asarray(tenors_du, float)
    r = np.asarray(rates, float)
    order = np.argsort(t)
    t, r = t[order], r[order]
    if du_ <= t[0]:
        return float(r[0])
    if du_ >= t[-1]:
        return float(r[-1])
    lf = np.log1p(r) * t / 252.0
    x = float(np.interp(du_, t, lf))
    return float(np.expm1(x * 252.0 / du_))


def _code(d: dt.date) -> str:
    return f"{MONTH_CODES[d.month - 1]}{d.year % 100:02d}"


def _add_month(year: int, month: int, k: int = 1) -> tuple[int, int]:
    m = month - 1 + k
    return year + m // 12, m % 12 + 1


def _first_session_on_or_after(d: dt.date) -> dt.date:
    return d if is_session(d) else next_session(d)


def dol_contract(asof: dt.date) -> tuple[str, dt.date]:
    """Front DOL future: expires on the first B3 session of the month after ``asof``'s month (``DOLZ26``)."""
    y, m = _add_month(asof.year, asof.month)
    exp = _first_session_on_or_after(dt.date(y, m, 1))
    return f"DOL{_code(exp)}", exp


def ind_expiry(year: int, month: int) -> dt.date:
    """IND expiry rule used here: the Wednesday nearest the 15th of the (even) month, rolled to a B3 session."""
    d15 = dt.date(year, month, 15)
    off = (2 - d15.weekday() + 3) % 7 - 3  # signed days to the nearest Wednesday (weekday 2)
    return _first_session_on_or_after(d15 + dt.timedelta(days=off))


def ind_contract(asof: dt.date) -> tuple[str, dt.date]:
    """Front IND future: the first even-month contract expiring after ``asof`` (``INDZ26``)."""
    y, m = asof.year, asof.month
    for _ in range(14):
        if m % 2 == 0:
            exp = ind_expiry(y, m)
            if exp > asof:
                return f"IND{_code(exp)}", exp
        y, m = _add_month(y, m)
    raise AssertionError("unreachable: an even month exists within 14 months")


def _third_friday(year: int, month: int) -> dt.date:
    d = dt.date(year, month, 1)
    first_fri = d + dt.timedelta(days=(4 - d.weekday()) % 7)
    return first_fri + dt.timedelta(days=14)


def _last_weekday_before_month(year: int, month: int) -> dt.date:
    d = dt.date(year, month, 1) - dt.timedelta(days=1)
    while d.weekday() >= 5:
        d -= dt.timedelta(days=1)
    return d


def cme_quarterly_contract(root: str, asof: dt.date) -> tuple[str, dt.date]:
    """Front quarterly (H/M/U/Z) CME contract for ``ZN`` or ``ES``.

    ES rolls at expiry (third Friday of the contract month). ZN rolls before its first
    notice day, taken as the last weekday of the month before the contract month.
    Returns the ticker (``ESZ26``) and the roll date used.
    """
    y, m = asof.year, asof.month
    for _ in range(16):
        if m in (3, 6, 9, 12):
            if root == "ES":
                last = _third_friday(y, m)
            elif root == "ZN":
                last = _last_weekday_before_month(y, m)
            else:
                raise ValueError(f"no quarterly rule for contract root {root!r}")
            if last > asof:
                return f"{root}{MONTH_CODES[m - 1]}{y % 100:02d}", last
        y, m = _add_month(y, m)
    raise AssertionError("unreachable")


def zn_price(yield_: float, coupon: float = 0.06, years: float = 10.0) -> float:
    """Price per 100 of the ZN notional note (semi-annual ``coupon``, ``years`` to maturity) at ``yield_``.

    An approximation of the futures price (the cheapest-to-deliver is shorter than 10 years),
    used only to convert a notional into a number of contracts.
    """
    n = int(round(years * 2))
    c = 100.0 * coupon / 2.0
    v = 1.0 / (1.0 + yield_ / 2.0)
    disc = v ** np.arange(1, n + 1)
    return float(c * disc.sum() + 100.0 * disc[-1])
