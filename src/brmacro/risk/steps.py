"""Risk steps: ``risk_var``, ``risk_stress`` and ``risk_limits``, one function per asset.

Each reads its declared inputs through :class:`brmacro.pipeline.Context`, calls the library
(:mod:`brmacro.risk.var`, :mod:`brmacro.risk.stress`, :mod:`brmacro.risk.limits`,
:mod:`brmacro.risk.pnl`) and returns one frame per table of :data:`brmacro.risk.schemas.RISK_SCHEMAS`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import asdict
from typing import Any, cast

import pandas as pd

from brmacro.covariance import returns_matrix
from brmacro.errors import InputMissing
from brmacro.params import section
from brmacro.pipeline import PNL_SESSIONS, Context
from brmacro.risk._common import RiskInputError, book_weights
from brmacro.risk.limits import LimitRow, evaluate_limits, open_interest_row
from brmacro.risk.pnl import SessionPnl, model_book_pnl, pnl_frame
from brmacro.risk.schemas import COMPONENTS_BOOKS, LIMITS_BOOKS, STRESS_BOOKS, VAR_BOOKS
from brmacro.risk.stress import compute_stress
from brmacro.risk.var import compute_var

__all__ = ["risk_limits", "risk_stress", "risk_var"]




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


def _desk_books(ctx: Context) -> dict[str, pd.DataFrame]:
    """The desk's held and proposed books (``portfolio_sizing.desk_books``), sizing-like; {} without positions."""
    books = ctx.table("portfolio_sizing", "desk_books")
    return {str(b): t.reset_index(drop=True) for b, t in books.groupby("book", sort=True)}


def _per_book(frames: list[tuple[str, pd.DataFrame]], d: dt.date, schema_cols: list[str]) -> pd.DataFrame:
    if not frames:
        return pd.DataFrame(columns=schema_cols)
    out = pd.concat([f.assign(book=b) for b, f in frames], ignore_index=True)
    out.insert(0, "date", d)
    return out[schema_cols]


def risk_var(ctx: Context) -> dict[str, pd.DataFrame]:
    """VaR/CVaR at the configured confidences by three methods, and the Euler decomposition.

    Also for the desk's held and proposed books (``books``, ``books_components``) when a positions file exists.
    """
    sizing = ctx.table("portfolio_sizing")
    cfg = section(ctx.params, "risk.var")
    try:
        ret = _returns(ctx)
        est, comp = compute_var(ret, _weights(ctx, sizing), ctx.date, cfg)
        bv, bc = [], []
        for name, bk in _desk_books(ctx).items():
            e, c = compute_var(ret, book_weights(bk, f"{ctx.asset} {name} book"), ctx.date, cfg)
            bv.append((name, pd.DataFrame([asdict(x) for x in e])))
            bc.append((name, c))
    except RiskInputError as exc:
        raise _wrap(ctx, exc) from exc
    part = pd.DataFrame([asdict(e) for e in est])
    return {"part": _with_date(part, ctx.date), "components": _with_date(comp, ctx.date),
            "books": _per_book(bv, ctx.date, VAR_BOOKS.names), "books_components": _per_book(bc, ctx.date,
                                                                                              COMPONENTS_BOOKS.names)}


def risk_stress(ctx: Context) -> dict[str, pd.DataFrame]:
    """Hypothetical scenarios, reverse stress and historical replay of today's book."""
    sizing = ctx.table("portfolio_sizing")
    cfg = section(ctx.params, "risk.stress")
    try:
        ret, curves, crisis = _returns(ctx), ctx.table("silver_curves"), ctx.table("silver_returns", "crisis")
        scen, rev, rep = compute_stress(_weights(ctx, sizing), ret, curves, ctx.date, cfg, crisis)
        bs = [(name, compute_stress(book_weights(bk, f"{ctx.asset} {name} book"), ret, curves, ctx.date, cfg,
                                    crisis)[0])
              for name, bk in _desk_books(ctx).items()]
    except RiskInputError as exc:
        raise _wrap(ctx, exc) from exc
    return {
        "part": _with_date(scen, ctx.date),
        "reverse": _with_date(rev, ctx.date),
        "replay": _with_date(rep, ctx.date),
        "books": _per_book(bs, ctx.date, STRESS_BOOKS.names),
    }


def risk_limits(ctx: Context) -> dict[str, pd.DataFrame]:
    """Limits, loss limits on the model book's P&L (sizing(D-2) x returns(D)), risk budget, status."""
    sizing = ctx.table("portfolio_sizing")
    try:
        _weights(ctx, sizing)
        mat = returns_matrix(_returns(ctx), ctx.date)
        sizings = dict(ctx.prev_tables("portfolio_sizing"))
        pnls = model_book_pnl(ctx.date, mat, sizings, n_sessions=PNL_SESSIONS)
        limits = section(ctx.params, "risk.limits")
        contracts = ctx.table("portfolio_sizing", "contracts")
        books = _desk_books(ctx)
        model_q = cast("dict[str, float]", sizing.groupby("contract")["contracts"].sum().to_dict())
        extra = [open_interest_row("open_interest_share", model_q, contracts, limits, "model book")]
        bl = []
        if books:
            held_pnls = _held_pnls(ctx.table("portfolio_sizing", "held_pnl"))
            orders = ctx.table("portfolio_sizing", "orders")
            qty = {"held": dict(zip(orders["contract"], orders["held"], strict=True)),
                   "proposed": dict(zip(orders["contract"], orders["proposed"], strict=True))}
            var_b = ctx.table("risk_var", "books")
            comp_b = ctx.table("risk_var", "books_components")
            stress_b = ctx.table("risk_stress", "books")
            by_book: dict[str, dict[str, LimitRow]] = {}
            for name, bk in books.items():
                oi = open_interest_row("open_interest_share", qty[name], contracts, limits, f"{name} book")
                r, _ = evaluate_limits(bk, var_b.loc[var_b["book"] == name], comp_b.loc[comp_b["book"] == name],
                                       held_pnls, limits, stress_b.loc[stress_b["book"] == name], [oi],
                                       pnl_label="held-book")
                bl.append((name, pd.DataFrame([asdict(x) for x in r])))
                by_book[name] = {x.limit: x for x in r}
            hrows = by_book["held"]
            extra += [_renamed(hrows[k], f"held_{k}", "held book (positions file): ")
                      for k in ("daily_loss", "weekly_loss", "max_drawdown")]
            extra.append(open_interest_row("proposed_open_interest_share", qty["proposed"], contracts, limits,
                                           "proposed book"))
        rows, budget = evaluate_limits(
            sizing, ctx.table("risk_var"), ctx.table("risk_var", "components"), pnls, limits,
            ctx.table("risk_stress"), extra,
        )
    except RiskInputError as exc:
        raise _wrap(ctx, exc) from exc
    part = pd.DataFrame([asdict(r) for r in rows])
    return {
        "part": _with_date(part, ctx.date),
        "budget": _with_date(budget, ctx.date),
        "pnl": pnl_frame(pnls),
        "books": _per_book(bl, ctx.date, LIMITS_BOOKS.names),
    }


def _renamed(r: LimitRow, name: str, prefix: str) -> LimitRow:
    return LimitRow(name, r.value, r.limit_value, r.utilisation, r.status, prefix + r.note.replace("model-book",
                                                                                                    "held-book"))


def _held_pnls(t: pd.DataFrame) -> list[SessionPnl]:
    """``portfolio_sizing.held_pnl`` rows as :class:`SessionPnl` (NAV fractions; no per-instrument split)."""
    out = []
    for r in cast("Iterable[Any]", t.sort_values("date").itertuples()):
        ok = bool(r.available) and pd.notna(r.pnl)
        out.append(SessionPnl(pd.Timestamp(r.date).date(), None if pd.isna(r.positions_date) else
                              pd.Timestamp(r.positions_date).date(), float(r.pnl) if ok else None, None, None,
                              str(r.note)))
    return out
