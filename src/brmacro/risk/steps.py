"""Risk steps: ``risk_var``, ``risk_stress`` and ``risk_limits``, one function per asset.

Each reads its declared inputs through :class:`brmacro.pipeline.Context`, calls the library
(:mod:`brmacro.risk.var`, :mod:`brmacro.risk.stress`, :mod:`brmacro.risk.limits`,
:mod:`brmacro.risk.pnl`) and returns one frame per table of :data:`brmacro.risk.schemas.RISK_SCHEMAS`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

import pandas as pd

from brmacro.pipeline import Context, InputMissing
from brmacro.risk._common import RiskInputError, book_weights, returns_matrix
from brmacro.risk.limits import evaluate_limits
from brmacro.risk.pnl import model_book_pnl, pnl_frame
from brmacro.risk.stress import compute_stress
from brmacro.risk.var import compute_var

__all__ = ["risk_limits", "risk_stress", "risk_var"]


def _risk_params(ctx: Context) -> Mapping[str, Any]:
    return ctx.params.get("risk", {}) or {}


def _with_date(df: pd.DataFrame, d: dt.date) -> pd.DataFrame:
    out = df.copy()
    out.insert(0, "date", d)
    return out


def _weights(ctx: Context, sizing: pd.DataFrame) -> pd.Series:
    if sizing.empty:
        raise InputMissing(f"{ctx.asset} {ctx.date.isoformat()}: portfolio_sizing has no rows (no book to measure)")
    return book_weights(sizing, f"{ctx.asset} {ctx.date.isoformat()}")


def _returns(ctx: Context) -> pd.DataFrame:
    ret = ctx.table("silver_returns")
    if ret.empty:
        raise InputMissing(f"{ctx.asset} {ctx.date.isoformat()}: silver_returns has no rows (field ret)")
    return ret


def _wrap(ctx: Context, exc: RiskInputError) -> RiskInputError:
    msg = str(exc)
    prefix = f"{ctx.asset} {ctx.date.isoformat()}"
    return RiskInputError(msg if msg.startswith(ctx.asset) else f"{prefix}: {msg}")


def risk_var(ctx: Context) -> dict[str, pd.DataFrame]:
    """VaR/CVaR at the configured confidences by three methods, and the Euler decomposition."""
    sizing = ctx.table("portfolio_sizing")
    try:
        est, comp = compute_var(_returns(ctx), _weights(ctx, sizing), ctx.date, _risk_params(ctx).get("var"))
    except RiskInputError as exc:
        raise _wrap(ctx, exc) from exc
    part = pd.DataFrame([asdict(e) for e in est])
    return {"part": _with_date(part, ctx.date), "components": _with_date(comp, ctx.date)}


def risk_stress(ctx: Context) -> dict[str, pd.DataFrame]:
    """Hypothetical scenarios, reverse stress and historical replay of today's book."""
    sizing = ctx.table("portfolio_sizing")
    try:
        scen, rev, rep = compute_stress(
            _weights(ctx, sizing), _returns(ctx), ctx.table("silver_curves"), ctx.date,
            _risk_params(ctx).get("stress"), ctx.table("silver_returns", "crisis"),
        )
    except RiskInputError as exc:
        raise _wrap(ctx, exc) from exc
    return {
        "part": _with_date(scen, ctx.date),
        "reverse": _with_date(rev, ctx.date),
        "replay": _with_date(rep, ctx.date),
    }


def risk_limits(ctx: Context) -> dict[str, pd.DataFrame]:
    """Limits, loss limits on the model book's P&L (sizing(D-2) x returns(D)), risk budget, status."""
    sizing = ctx.table("portfolio_sizing")
    try:
        _weights(ctx, sizing)
        mat = returns_matrix(_returns(ctx), ctx.date)
        sizings = {d: t for d, t in ctx.prev_tables("portfolio_sizing")}
        pnls = model_book_pnl(ctx.date, mat, sizings, n_sessions=5)
        rows, budget = evaluate_limits(
            sizing, ctx.table("risk_var"), ctx.table("risk_var", "components"), pnls,
            _risk_params(ctx).get("limits"), ctx.table("risk_stress"),
        )
    except RiskInputError as exc:
        raise _wrap(ctx, exc) from exc
    part = pd.DataFrame([asdict(r) for r in rows])
    return {
        "part": _with_date(part, ctx.date),
        "budget": _with_date(budget, ctx.date),
        "pnl": pnl_frame(pnls),
    }
