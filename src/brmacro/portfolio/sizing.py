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
Which listed contract carries a position (and when it rolls) is :mod:`brmacro.desk.contracts`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import cvxpy as cp
import numpy as np
from numpy.typing import NDArray

__all__ = [
    "book_vol",
    "first_passing_step",
    "flat_forward_rate",
    "half_kelly",
    "parity_within_caps",
    "risk_budget_weights",
    "risk_contributions",
    "shrink_guess",
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


def parity_within_caps(sigma: F, signs: F, classes: Sequence[str], position_cap: float, class_cap: float
                       ) -> F | None:
    """A risk-budgeted book with the given signs whose every share of variance meets the caps, or None.

    Tried in order: equal budgets (risk parity, every share ``1/N``), then equal budgets per asset class split
    equally within it (every class ``1/M``). The fallback of sizing when iterative scaling does not converge —
    a book whose positions hedge one another (negative shares) can defeat it although parity meets the caps.
    """
    s = np.sign(np.asarray(signs, float))
    act = s != 0
    if not act.any():
        return None
    cls = np.asarray(classes)
    held = sorted(set(cls[act]))
    per_class = np.array([np.sum(act & (cls == c)) for c in cls], float)
    tries = [np.where(act, 1.0, 0.0), np.where(act, 1.0 / np.maximum(per_class, 1.0) / len(held), 0.0)]
    for budgets in tries:
        w = risk_budget_weights(sigma, s, budgets)
        sh = risk_contributions(w, sigma)
        if np.all(sh <= position_cap + 1e-9) and all(float(sh[cls == c].sum()) <= class_cap + 1e-9 for c in held):
            return w
    return None


def first_passing_step(passes: Callable[[int], bool], n_steps: int, guess: int = 1) -> int | None:
    """The smallest ``m`` in ``[0, n_steps)`` with ``passes(m)``, or None: the shrink search of sizing.

    ``passes(m)`` says whether the book scaled by ``0.99**m`` and rounded to contracts meets every limit. A
    linear scan (``m = 0, 1, 2, ...``) calls it up to ``n_steps`` times, each a full VaR; here ``m = 0`` is tried
    first (most sessions pass at once), then ``guess`` (the closed form: every homogeneous limit scales
    linearly with the book, so ``m ≈ log(limit / value) / log 0.99``), doubling until a step passes, then
    bisecting down to the first passing one. For a monotone ``passes`` (once a book passes, every smaller one
    does) the answer is the linear scan's, in ``O(log n_steps)`` calls; if none of the steps probed passes, None.
    """
    seen: dict[int, bool] = {}

    def ok(m: int) -> bool:
        if m not in seen:
            seen[m] = bool(passes(m))
        return seen[m]

    if n_steps <= 0:
        return None
    if ok(0):
        return 0
    lo, hi = 0, min(max(int(guess), 1), n_steps - 1)  # lo fails; find a passing hi
    while not ok(hi):
        if hi >= n_steps - 1:
            return None
        lo, hi = hi, min(2 * hi, n_steps - 1)
    while hi - lo > 1:  # lo fails, hi passes
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if ok(mid) else (mid, hi)
    return hi


def shrink_guess(ratio: float, step: float = 0.99) -> int:
    """Steps of ``step`` that bring a homogeneous measure at ``1/ratio`` of its limit inside it (at least 1)."""
    if not (math.isfinite(ratio) and 0.0 < ratio < 1.0):
        return 1
    return max(1, math.ceil(math.log(ratio) / math.log(step)))


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
