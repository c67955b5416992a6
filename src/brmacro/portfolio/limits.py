"""The book-shape limits a proposed book must meet, and the check of a book against them.

One set of limits, from two config subtrees (each threshold is read where it is defined):

- ``portfolio``: instrument bounds (a soft-limit override may widen one by its factor, never beyond the
  limits below), asset-class caps, gross leverage;
- ``risk.limits`` (what ``risk_limits`` checks and the report shows): gross leverage, single-position
  and asset-class exposure (classes in ``notional_exempt_classes`` exempt), total |DV01|, one-day VaR
  at 95 % and 99 % (``var_method``), the largest share of parametric VaR of a position and of a class.

Every limit but the risk-contribution shares is *positively homogeneous* in the weights: scaling the
book by ``k ≥ 0`` scales the gross, the class exposures, the DV01 and every VaR (historical, parametric
and Monte Carlo with a fixed seed) by ``k``. So one factor — the smallest of the ratios ``limit / value``
— brings a book inside all of them at once while keeping its mix (:func:`scale_caps`). Risk
contributions do not change with ``k``; sizing reshapes the book for them (``portfolio.sizing``).

Bounds that exclude zero (``[1, 2]``) are refused by the configuration check before any job
(:func:`brmacro.configdoc.cross_key_errors`); given directly, they are the optimiser's mandate, and for sizing
and this check they cap the exposure on their side (``min(lower, 0) ≤ w ≤ max(upper, 0)``): scaling never pushes a
position beyond them, a flat book always passes, and a zero target is never moved into them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from brmacro.instruments import by_name

__all__ = ["BookLimits", "book_breaches", "book_limits", "check_book", "scale_caps", "share_caps", "share_limit",
           "var_value"]

F = NDArray[np.float64]
TOL = 1e-9


@dataclass(frozen=True)
class BookLimits:
    """The limits of one book (module docstring).

    Attributes
    ----------
    names : list of str
        Instruments, in order.
    lower, upper : ndarray
        Exposure caps per instrument (``lower ≤ 0 ≤ upper``).
    groups : dict
        Class -> (member indices, cap on the members' gross exposure); only classes with a cap.
    gross : float
        Cap on ``Σ|w|``.
    dv01 : float or None
        Cap on ``Σ|DV01|`` in BRL per bp (None: no DV01 limit).
    var : dict
        Confidence -> one-day VaR limit (NAV fraction).
    var_method : str
        ``historical`` | ``parametric`` | ``monte_carlo`` | ``max``.
    rc_position, rc_class : float
        Largest share of parametric VaR for a position and for an asset class.
    rc_position_by_size, rc_class_by_size : tuple of float
        The same limits for books of 1, 2, ... positions (classes) held, where ``rc_position`` cannot be met
        (:func:`share_limit`; ``risk.limits.max_risk_contribution_by_size``, ``asset_class_risk_budget_by_size``).
    """

    names: list[str]
    lower: F
    upper: F
    groups: dict[str, tuple[list[int], float]]
    gross: float
    dv01: float | None
    var: dict[float, float] = field(default_factory=dict)
    var_method: str = "max"
    rc_position: float = 1.0
    rc_class: float = 1.0
    rc_position_by_size: tuple[float, ...] = ()
    rc_class_by_size: tuple[float, ...] = ()


def share_limit(limit: float, by_size: Sequence[float] | None, n: int) -> float:
    """The share-of-VaR limit of a book of ``n`` positions (or asset classes) held.

    Shares of VaR sum to 1, so in a book of ``n`` positions the largest is at least ``1/n``: a 40 % limit cannot
    be met by one or two positions (with two, one always carries at least half). ``by_size[n-1]`` is the limit
    for a book of exactly ``n`` (``risk.limits.max_risk_contribution_by_size``, ``[1.0, 0.55]``: a single
    position carries all the risk, two are held near risk parity, at most 55 % in one); a larger book, or one
    the list does not cover, has ``limit``. The same rule, for asset classes, with
    ``asset_class_risk_budget_by_size``. One function, used by sizing and by ``risk_limits``.
    """
    seq = list(by_size or [])
    return float(seq[n - 1]) if 0 < n <= len(seq) else float(limit)


def share_caps(lim: BookLimits, w: F) -> tuple[float, float, int, int]:
    """(position limit, class limit, positions held, classes held) of the book ``w`` (:func:`share_limit`)."""
    held = np.abs(np.asarray(w, float)) > 0
    n = int(held.sum())
    m = len({by_name(x).asset_class for x, h in zip(lim.names, held, strict=True) if h})
    return (share_limit(lim.rc_position, lim.rc_position_by_size, n),
            share_limit(lim.rc_class, lim.rc_class_by_size, m), n, m)


def book_limits(names: Sequence[str], pcfg: Mapping[str, Any], risk_limits: Mapping[str, Any],
                widen: F | None = None) -> BookLimits:
    """The limits of a book over ``names`` from the ``portfolio`` config and the ``risk.limits`` mapping.

    Parameters
    ----------
    names : sequence of str
        Instruments.
    pcfg : mapping
        The merged ``portfolio`` config (``bounds``, ``class_caps``, ``gross_leverage``).
    risk_limits : mapping
        ``risk.limits`` (missing keys take their declared defaults, :mod:`brmacro.params`).
    widen : ndarray, optional
        Per-instrument factor on the bounds (the soft-limit override), still capped by ``risk.limits``.
    """
    from brmacro.params import resolve

    lim = resolve("risk.limits", risk_limits)
    exempt = set(lim["notional_exempt_classes"])
    f = np.ones(len(names)) if widen is None else np.asarray(widen, float)
    lo = np.array([min(float(pcfg["bounds"][x][0]), 0.0) for x in names]) * f
    hi = np.array([max(float(pcfg["bounds"][x][1]), 0.0) for x in names]) * f
    classes = [by_name(x).asset_class for x in names]
    pos_cap = float(lim["max_position"])
    for i, c in enumerate(classes):
        if c not in exempt:
            lo[i], hi[i] = max(lo[i], -pos_cap), min(hi[i], pos_cap)
    groups: dict[str, tuple[list[int], float]] = {}
    for c in sorted(set(classes)):
        caps = [float(pcfg["class_caps"][c])] if c in pcfg.get("class_caps", {}) else []
        if c not in exempt:
            caps.append(float(lim["max_asset_class_exposure"]))
        if caps:
            groups[c] = ([i for i, k in enumerate(classes) if k == c], min(caps))
    return BookLimits(
        names=list(names), lower=lo, upper=hi, groups=groups,
        gross=min(float(pcfg["gross_leverage"]), float(lim["max_gross_leverage"])),
        dv01=float(lim["dv01_brl_per_bp"]) if "dv01_brl_per_bp" in lim else None,
        var={0.95: float(lim["var_95"]), 0.99: float(lim["var_99"])}, var_method=str(lim["var_method"]),
        rc_position=float(lim["max_risk_contribution"]), rc_class=float(lim["asset_class_risk_budget"]),
        rc_position_by_size=tuple(float(x) for x in lim.get("max_risk_contribution_by_size") or ()),
        rc_class_by_size=tuple(float(x) for x in lim.get("asset_class_risk_budget_by_size") or ()),
    )


def var_value(var_table: pd.DataFrame, confidence: float, method: str) -> float:
    """The VaR ``risk_limits`` compares with its limit: one method's, or the largest of the three (``max``)."""
    t = var_table[np.isclose(var_table["confidence"].astype(float), confidence)]
    if method != "max":
        t = t[t["method"] == method]
    return float(t["var"].max()) if len(t) else 0.0


def scale_caps(w: F, dv01_per_w: F, lim: BookLimits, var_at_1: Mapping[float, float] | None = None
               ) -> list[tuple[str, float]]:
    """For each homogeneous limit, the largest factor ``k`` such that ``k·w`` meets it.

    Parameters
    ----------
    w : ndarray
        The book's shape (weights).
    dv01_per_w : ndarray
        BRL DV01 per unit of weight, per instrument (0 for non-rates).
    lim : BookLimits
        The limits.
    var_at_1 : mapping, optional
        Confidence -> VaR of ``w`` itself (as :func:`var_value` measures it).

    Returns
    -------
    list of (name, k)
        One entry per limit that ``w`` touches (``inf`` never appears; a flat book gives an empty list).
    """
    out: list[tuple[str, float]] = []
    a = np.abs(w)
    for i, x in enumerate(lim.names):
        if w[i] > TOL and lim.upper[i] >= 0:
            out.append((f"bound:{x}", lim.upper[i] / w[i]))
        elif w[i] < -TOL:
            out.append((f"bound:{x}", lim.lower[i] / w[i]))
    for c, (idx, cap) in sorted(lim.groups.items()):
        g = float(a[idx].sum())
        if g > TOL:
            out.append((f"class_cap:{c}", cap / g))
    if a.sum() > TOL:
        out.append(("gross", lim.gross / float(a.sum())))
    d = float(np.abs(w * dv01_per_w).sum())
    if lim.dv01 is not None and d > TOL:
        out.append(("dv01", lim.dv01 / d))
    for conf, v in sorted((var_at_1 or {}).items()):
        if v > TOL and conf in lim.var:
            out.append((f"var_{round(conf * 100)}", lim.var[conf] / v))
    return out


def check_book(w: F, dv01_brl: F, lim: BookLimits, var: Mapping[float, float] | None = None,
               shares: F | None = None) -> list[str]:
    """Every book-shape limit ``w`` breaks, in words (empty: the book meets them all).

    Parameters
    ----------
    w : ndarray
        Weights.
    dv01_brl : ndarray
        DV01 of each position in BRL per bp.
    lim : BookLimits
        The limits.
    var : mapping, optional
        Confidence -> the book's VaR (:func:`var_value`).
    shares : ndarray, optional
        Each position's share of parametric VaR (``risk_var`` components).
    """
    out = []
    rel = 1e-9
    for i, x in enumerate(lim.names):
        if w[i] > lim.upper[i] * (1 + rel) + TOL or w[i] < lim.lower[i] * (1 + rel) - TOL:
            out.append(f"{x} weight {w[i]:.4f} outside [{lim.lower[i]:.4f}, {lim.upper[i]:.4f}]")
    a = np.abs(w)
    for c, (idx, cap) in sorted(lim.groups.items()):
        if a[idx].sum() > cap * (1 + rel) + TOL:
            out.append(f"class {c} exposure {a[idx].sum():.4f} > {cap:.4f}")
    if a.sum() > lim.gross * (1 + rel) + TOL:
        out.append(f"gross {a.sum():.4f} > {lim.gross:.4f}")
    d = float(np.abs(dv01_brl).sum())
    if lim.dv01 is not None and d > lim.dv01 * (1 + rel) + 1e-6:
        out.append(f"|DV01| {d:,.0f} > {lim.dv01:,.0f} BRL/bp")
    for conf, v in sorted((var or {}).items()):
        if conf in lim.var and v > lim.var[conf] * (1 + rel) + TOL:
            out.append(f"VaR {conf:.0%} {v:.4f} > {lim.var[conf]:.4f}")
    if shares is not None and np.any(a > 0):
        s = np.nan_to_num(np.asarray(shares, float))
        rc_pos, rc_cls, _n, _m = share_caps(lim, w)
        for i, x in enumerate(lim.names):
            if s[i] > rc_pos + 1e-6:
                out.append(f"{x} share of VaR {s[i]:.3f} > {rc_pos:.3f}")
        by_class: dict[str, float] = {}
        for i, x in enumerate(lim.names):
            c = by_name(x).asset_class
            by_class[c] = by_class.get(c, 0.0) + s[i]
        for c, v in sorted(by_class.items()):
            if v > rc_cls + 1e-6:
                out.append(f"class {c} share of VaR {v:.3f} > {rc_cls:.3f}")
    return out


def book_breaches(sizing: pd.DataFrame, returns: pd.DataFrame, asof: Any, pcfg: Mapping[str, Any],
                  risk: Mapping[str, Any], conviction: pd.Series | None = None) -> list[str]:
    """The book-shape limits a ``portfolio_sizing`` table breaks, measured as ``risk_var``/``risk_limits`` do.

    ``conviction`` (``signal_aggregation`` by instrument) gives the soft-limit widening of the bounds; without
    it the plain bounds are checked. Used by the benchmark and tests.
    """
    from brmacro.portfolio.steps import portfolio_config
    from brmacro.risk.var import compute_var

    cfg = portfolio_config({"portfolio": pcfg})
    names = list(sizing["instrument"])
    sz = cfg["sizing"]
    conv = np.zeros(len(names)) if conviction is None else conviction.reindex(names).fillna(0.0).to_numpy(float)
    widen = np.where(np.abs(conv) > float(sz["soft_limit_conviction"]), float(sz["soft_limit_factor"]), 1.0)
    lim = book_limits(names, cfg, (risk or {}).get("limits", {}), widen)
    w = sizing["weight"].to_numpy(float)
    if not np.any(w):
        return []
    est, comp = compute_var(returns, pd.Series(w, index=names), asof, (risk or {}).get("var"))
    vt = pd.DataFrame([{"method": e.method, "confidence": e.confidence, "var": e.var} for e in est])
    var = {c: var_value(vt, c, lim.var_method) for c in lim.var}
    shares = comp.set_index("instrument")["pct_contribution"].reindex(names).to_numpy(float)
    return check_book(w, sizing["dv01_brl"].to_numpy(float), lim, var, shares)
