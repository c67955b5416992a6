"""The constrained mean-variance optimiser (cvxpy + Clarabel); Σ comes from :mod:`brmacro.covariance`.

The optimiser solves, with the risk-aversion term in its standard place,

    maximise   μᵀw − (δ/2) wᵀ M w − Σ_i c_i |w_i − w_ref,i|
    subject to lower ≤ w ≤ upper,  ‖w‖₁ ≤ L,  Σ_{i∈class} |w_i| ≤ cap_class

with ``M = Σ + Σ_BL`` (the predictive covariance). ``w`` are signed exposures as fractions
of NAV. Without binding constraints and costs the solution is ``w = (δM)⁻¹μ``. The cost term charges
the (amortised, per-period) cost ``c_i`` of moving instrument ``i`` away from a reference book
``w_ref`` (``docs/portfolio.md``: the cost model and the choice of reference); being an L1 term, it
leaves an instrument at its reference unless the gain of moving exceeds the cost (a no-trade region).
To keep the solver well
scaled, μ and M are annualised internally (both × periods), which leaves ``w`` unchanged.

A failed or infeasible solve is reported with its status and replaced by the documented
conservative fallback: the flat book (all weights zero) — never 1/N.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import cvxpy as cp
import numpy as np
from numpy.typing import NDArray

__all__ = ["OptimResult", "mean_variance"]

F = NDArray[np.float64]
OK_STATUSES = ("optimal", "optimal_inaccurate")


@dataclass(frozen=True)
class OptimResult:
    """The optimiser's answer.

    Attributes
    ----------
    weights : ndarray
        Target weights (the zero book when ``fallback``).
    status : str
        cvxpy status (``optimal``, ``infeasible``, ...) or ``invalid_input``.
    objective : float or None
        ``μᵀw − (δ/2)wᵀMw − cᵀ|w − w_ref|`` on the working horizon at the solution (None when no
        solution).
    solver : str
        Solver name.
    fallback : bool
        Whether the conservative fallback (zero book) replaced the solution.
    reason : str
        Why the fallback was used ('' otherwise).
    seconds : float
        Wall-clock solve time (for logs only; never write it to an artifact).
    """

    weights: F
    status: str
    objective: float | None
    solver: str
    fallback: bool
    reason: str
    seconds: float


#: Solver residue snapped to the reference book (and to zero): 1e-5 of NAV, a hundredth of the smallest contract.
SNAP = 1e-5


def mean_variance(
    mu: F,
    risk: F,
    delta: float,
    lower: F,
    upper: F,
    gross: float,
    groups: Mapping[str, tuple[Sequence[int], float]] | None = None,
    solver: str = "CLARABEL",
    periods_per_year: int = 252,
    ref: F | None = None,
    cost: F | None = None,
) -> OptimResult:
    """Maximise ``μᵀw − (δ/2) wᵀ·risk·w`` under bounds, gross leverage and group caps.

    Parameters
    ----------
    mu : ndarray (n,)
        Expected returns (per period).
    risk : ndarray (n, n)
        Risk matrix on the same horizon (Σ + Σ_BL), positive semi-definite.
    delta : float
        Risk aversion (> 0).
    lower, upper : ndarray (n,)
        Per-instrument weight bounds.
    gross : float
        Gross leverage cap ``‖w‖₁ ≤ gross``.
    groups : mapping, optional
        Name -> (member indices, cap on the members' gross exposure).
    solver : str
        cvxpy solver name.
    periods_per_year : int
        Used only to rescale the problem internally.
    ref : ndarray (n,), optional
        Reference book of the cost term (flat when omitted).
    cost : ndarray (n,), optional
        Per-period cost of one unit of ``|w_i − ref_i|`` (no cost term when omitted).

    Returns
    -------
    OptimResult
    """
    mu = np.asarray(mu, float)
    n = mu.shape[0]
    lower, upper = np.asarray(lower, float), np.asarray(upper, float)
    zero = np.zeros(n)

    def fail(status: str, reason: str, secs: float = 0.0) -> OptimResult:
        return OptimResult(zero, status, None, solver, True, reason, secs)

    if delta <= 0 or not np.all(np.isfinite(mu)) or not np.all(np.isfinite(risk)):
        return fail("invalid_input", f"delta={delta} or non-finite μ / risk")
    if np.any(lower > upper):
        return fail("infeasible", "a lower bound exceeds its upper bound")
    m = 0.5 * (np.asarray(risk, float) + np.asarray(risk, float).T) * periods_per_year
    evals, evecs = np.linalg.eigh(m)
    if evals.min() < -1e-10 * max(1.0, evals.max()):
        return fail("invalid_input", f"risk matrix not positive semi-definite (min eigenvalue {evals.min():.3g})")
    root = evecs * np.sqrt(np.clip(evals, 0.0, None))  # m = root rootᵀ
    w = cp.Variable(n)
    ref_ = zero if ref is None else np.asarray(ref, float)
    cost_ = zero if cost is None else np.asarray(cost, float)
    if not (np.all(np.isfinite(ref_)) and np.all(np.isfinite(cost_)) and np.all(cost_ >= 0)):
        return fail("invalid_input", "non-finite reference book or negative / non-finite costs")
    obj = cp.Maximize((mu * periods_per_year) @ w - (delta / 2.0) * cp.sum_squares(root.T @ w)
                      - (cost_ * periods_per_year) @ cp.abs(w - ref_))
    cons = [w >= lower, w <= upper, cp.norm1(w) <= gross]
    for _name, (idx, cap) in sorted((groups or {}).items()):
        if len(idx):
            cons.append(cp.norm1(w[list(idx)]) <= cap)
    prob = cp.Problem(obj, cons)
    t0 = time.perf_counter()
    try:
        prob.solve(solver=solver)
    except cp.error.SolverError as exc:
        return fail("solver_error", str(exc), time.perf_counter() - t0)
    secs = time.perf_counter() - t0
    status = str(prob.status)
    if status not in OK_STATUSES or w.value is None:
        return fail(status, f"solver status {status}", secs)
    x = np.asarray(w.value, float)
    # the L1 cost term holds a position exactly at its reference; an interior-point solver returns it to about 1e-6
    # (a position of BRL 100 on BRL 100 million, far below one contract): snap such residues to the reference,
    # so no dust position counts as held (the share-of-VaR limits depend on how many positions are held)
    x = np.where(np.abs(x - ref_) < SNAP, ref_, x)
    x = np.where(np.abs(x) < SNAP, 0.0, x)
    x = np.round(x, 10)
    objective = float(mu @ x - (delta / 2.0) * x @ (m / periods_per_year) @ x - cost_ @ np.abs(x - ref_))
    return OptimResult(x, status, objective, solver, False, "", secs)
