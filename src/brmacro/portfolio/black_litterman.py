"""Black-Litterman posterior for the macro book (He & Litterman 1999).

Everything is on one horizon: the daily covariance ``Σ`` of the instruments' excess returns,
daily prior ``π`` and daily view returns ``Q``. The view uncertainty is He & Litterman's
``Ω = diag(τ P Σ Pᵀ)`` (the variance of the view portfolio scaled by τ) divided by the view's
confidence: ``Ω_ii = τ p_i Σ p_iᵀ / (c_i + ε)``, ``c_i`` the confidence already scaled by the regime
clarity. This is *not* Idzorek's (2005) method, which solves for the Ω that makes the posterior tilt
a given percentage of the way to the 100 %-confidence portfolio.

A view on one instrument is sized by Grinold & Kahn's forecasting rule ("alpha = volatility × IC ×
score", *Active Portfolio Management*, 2nd ed. 2000, ch. 10) on the view's own horizon ``H``
(sessions): the expected return over ``H`` is ``IC × σ√H × z`` (σ daily), i.e. per session
``Q = IC × σ × z / √H`` and per year ``IC × σ_annual × z × √(252/H)``. The view's implied Sharpe ratio
is ``IC × z × √(252/H)``. The former ``Q = IC × σ × z`` per *session*, annualised × 252, counted a
persistent signal as 252 independent one-day bets (√252 ≈ 16 times too large at ``H = 1`` year).

The prior. A macro book of DI1, FX and index futures has no market portfolio, so
``π = δ Σ w_mkt`` is undefined (DOMAIN Part B §13.20). Two documented choices:

- ``zero`` (default): ``π = 0``. Excess returns of futures have no reliable unconditional
  premium at a daily horizon; with no view the optimiser holds nothing, which is the
  conservative book, and every position can be traced to a view.
- ``risk_parity``: ``π = δ Σ w_ref`` with ``w_ref`` the long-only inverse-volatility
  portfolio scaled to ``ref_vol`` per year, i.e. the reference book a risk-parity allocator
  would hold (its implied returns are the equilibrium of that allocator).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "BLPosterior",
    "black_litterman",
    "omega_from_confidence",
    "prior_returns",
    "view_return",
]

F = NDArray[np.float64]


@dataclass(frozen=True)
class BLPosterior:
    """Posterior of the Black-Litterman model.

    Attributes
    ----------
    mu : ndarray
        Posterior mean returns ``μ_BL`` (same horizon as Σ).
    cov_mean : ndarray
        Posterior covariance of the mean, ``Σ_BL = [(τΣ)⁻¹ + PᵀΩ⁻¹P]⁻¹``. The risk of a
        position is ``Σ + Σ_BL`` (the predictive covariance), never ``Σ_BL`` alone.
    prior : ndarray
        The prior mean ``π``.
    """

    mu: F
    cov_mean: F
    prior: F


def view_return(ic: float, sigma: F | float, z: F | float, horizon: float = 1.0) -> F:
    """Expected return per period of a view held ``horizon`` periods: ``Q = IC × σ × z / √horizon``.

    σ is the volatility per period (the horizon of Σ); module docstring for the reference.
    """
    if not horizon >= 1:
        raise ValueError(f"view horizon must be at least one period, got {horizon}")
    return np.asarray(ic * np.asarray(sigma, float) * np.asarray(z, float) / np.sqrt(horizon), dtype=float)


def omega_from_confidence(sigma: F, P: F, confidence: F, tau: float, eps: float = 1e-6) -> F:
    """Diagonal view uncertainty ``Ω_ii = τ p_i Σ p_iᵀ / (c_i + eps)``.

    Raises
    ------
    ValueError
        When a confidence is outside [0, 1].
    """
    c = np.asarray(confidence, float)
    if np.any((c < 0) | (c > 1)) or not np.all(np.isfinite(c)):
        raise ValueError(f"view confidences must be in [0, 1], got {c}")
    var = np.einsum("ij,jk,ik->i", P, sigma, P)
    return np.diag(tau * var / (c + eps))


def prior_returns(
    sigma: F, delta: float, method: Literal["zero", "risk_parity"] = "zero", ref_vol: float = 0.10,
    periods_per_year: int = 252,
) -> F:
    """The prior mean ``π`` (module docstring).

    Parameters
    ----------
    sigma : ndarray
        Covariance of returns on the working horizon (daily).
    delta : float
        Risk aversion.
    method : {"zero", "risk_parity"}
        Prior choice.
    ref_vol : float
        Annualised volatility of the risk-parity reference book.
    periods_per_year : int
        Periods of Σ's horizon in a year (252 for daily).
    """
    n = sigma.shape[0]
    if method == "zero":
        return np.zeros(n)
    if method == "risk_parity":
        vol = np.sqrt(np.diag(sigma))
        if np.any(vol <= 0):
            raise ValueError("risk_parity prior: an instrument has zero variance")
        w = 1.0 / vol
        w *= ref_vol / np.sqrt(periods_per_year * float(w @ sigma @ w))
        return np.asarray(delta * sigma @ w, dtype=float)
    raise ValueError(f"portfolio.prior: unknown prior {method!r} (zero | risk_parity)")


def black_litterman(sigma: F, pi: F, P: F, Q: F, omega: F, tau: float) -> BLPosterior:
    """Posterior mean and covariance of the mean.

    Uses the equivalent, better-conditioned update form
    ``μ = π + τΣPᵀ(PτΣPᵀ + Ω)⁻¹(Q − Pπ)``, ``Σ_BL = τΣ − τΣPᵀ(PτΣPᵀ + Ω)⁻¹PτΣ``
    (identical to ``[(τΣ)⁻¹ + PᵀΩ⁻¹P]⁻¹[(τΣ)⁻¹π + PᵀΩ⁻¹Q]``). With no views, ``μ = π`` and
    ``Σ_BL = τΣ``.

    Parameters
    ----------
    sigma : ndarray (n, n)
        Covariance of returns.
    pi : ndarray (n,)
        Prior mean.
    P : ndarray (k, n)
        Pick matrix (one row per view).
    Q : ndarray (k,)
        View returns.
    omega : ndarray (k, k)
        View uncertainty.
    tau : float
        Scale of the uncertainty of the prior mean.
    """
    sigma = np.asarray(sigma, float)
    pi = np.asarray(pi, float)
    n = sigma.shape[0]
    if sigma.shape != (n, n) or pi.shape != (n,):
        raise ValueError(f"black_litterman: Σ {sigma.shape} and π {pi.shape} do not match")
    if tau <= 0:
        raise ValueError(f"black_litterman: tau must be positive, got {tau}")
    ts = tau * sigma
    P = np.asarray(P, float).reshape(-1, n)
    if P.shape[0] == 0:
        return BLPosterior(pi.copy(), ts.copy(), pi.copy())
    Q = np.asarray(Q, float).reshape(-1)
    if Q.shape[0] != P.shape[0] or np.shape(omega) != (P.shape[0], P.shape[0]):
        raise ValueError("black_litterman: P, Q and Ω disagree on the number of views")
    A = P @ ts @ P.T + omega
    K = np.linalg.solve(A, P @ ts).T  # τΣPᵀA⁻¹ (A symmetric)
    mu = pi + K @ (Q - P @ pi)
    cov = ts - K @ P @ ts
    cov = 0.5 * (cov + cov.T)
    return BLPosterior(np.asarray(mu, float), np.asarray(cov, float), pi.copy())
