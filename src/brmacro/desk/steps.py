"""The desk's part of ``portfolio_sizing``: read the positions, value the held book, propose orders.

Called once from :func:`brmacro.portfolio.steps.portfolio_sizing` with the sized model book; returns the
tables of :data:`brmacro.desk.schemas.DESK_SCHEMAS`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import pandas as pd

from brmacro.calendar import previous_sessions
from brmacro.desk.book import (
    MarketData,
    band_orders,
    book_weights_of,
    breaker_state,
    contract_row_info,
    describe_contract,
    held_pnl,
    model_targets,
    orders_table,
)
from brmacro.desk.contracts import roll_calendar
from brmacro.desk.positions import (
    POSITION_FILES,
    PositionsError,
    by_session,
    check_dir_dates,
    read_positions,
)
from brmacro.desk.schemas import BOOKS, CONTRACTS, DESK, HELD, HELD_PNL, ORDERS, ROLLS
from brmacro.io import frame
from brmacro.params import section, value
from brmacro.pipeline import POSITION_PREV_SESSIONS, Context

__all__ = ["PREV_POSITION_SESSIONS", "desk_config", "desk_tables", "positions_of"]

#: Previous sessions whose positions files the held-book P&L reads (five sessions of P&L need the five
#: files before the session: one B3 week for the weekly loss and the drawdown window).
PREV_POSITION_SESSIONS = POSITION_PREV_SESSIONS


def desk_config(params: Mapping[str, Any]) -> dict[str, Any]:
    """The ``desk`` section of a step's params (declared defaults for keys not given)."""
    return section(params, "desk")


def positions_of(ctx: Context) -> dict[dt.date, Path]:
    """The positions files the step was given (declared inputs), by session."""
    paths = [p for tabs in ctx.inputs.values() for p in tabs.values() if Path(p).name in POSITION_FILES]
    paths += [p for lst in ctx.prev.values() for _d, tabs in lst for p in tabs.values()
              if Path(p).name in POSITION_FILES]
    return by_session(paths)


def desk_tables(ctx: Context, sizing_rows: Sequence[Mapping[str, Any]], md: MarketData,
                execution: tuple[float, float, bool] | None = None) -> dict[str, pd.DataFrame]:
    """The desk tables of ``portfolio_sizing`` for the session (see the module docstring).

    ``execution`` (the ``portfolio`` settings of ``EXECUTION_KEYS``: band, participation, reversal through flat):
    the execution rule applied to the orders against a held book (:func:`brmacro.desk.book.band_orders`); None
    sends the whole gap.
    """
    d = ctx.date
    cfg = desk_config(ctx.params)
    nav = float(value(ctx.params, "nav_brl"))
    limits = section(ctx.params, "risk.limits")
    window = previous_sessions(d, PREV_POSITION_SESSIONS)
    check_dir_dates(cfg["positions_dir"], window[0] if window else d, d)
    files = positions_of(ctx)
    stray = sorted(s for s in files if s != d and s not in window)
    if stray:
        raise PositionsError(f"{ctx.asset} {d.isoformat()}: positions files given for sessions outside the window: "
                             f"{[s.isoformat() for s in stray]}")
    positions = {s: read_positions(p, s, md.b3) for s, p in sorted(files.items())}
    pnls, today_pnl = held_pnl(d, positions, md, nav, n_sessions=PREV_POSITION_SESSIONS)
    held_now = positions.get(d)
    target = model_targets(sizing_rows)
    if held_now is None:
        from brmacro.desk.book import BreakerState

        breaker = BreakerState(False, (), "")
        note = (f"no positions file for {d.isoformat()} in {cfg['positions_dir']}: the previous session's model "
                "book stands in for the held book (trades = target - previous model book)")
    else:
        breaker = breaker_state(pnls, limits, bool(cfg["circuit_breaker"]["enabled"]))
        note = (f"CIRCUIT BREAKER: {breaker.reason}; orders only reduce risk (each moves toward zero, sizes cut "
                f"by {cfg['circuit_breaker']['size_factor']:g})" if breaker.tripped else
                f"held book from {files[d]}" + (f"; {breaker.reason}" if breaker.reason else ""))
    orders = orders_table(d, held_now, target, cfg, breaker)
    if held_now is not None and not breaker.tripped and execution is not None and len(orders):
        traded = sorted(set(orders.loc[orders["kind"].isin(["open", "rebalance"]), "contract"]))
        unit, _ = book_weights_of(pd.DataFrame({"contract": traded, "quantity": [1] * len(traded)}), d, md, nav)
        vols = {str(r["instrument"]): float(r["vol"]) for r in sizing_rows}
        orders = band_orders(orders, dict(zip(unit["contract"], unit["weight"], strict=True)), vols, *execution)

    # the held book valued today, with yesterday's quantities and today's contract P&L
    held_rows: list[dict[str, Any]] = []
    if held_now is not None:
        now = held_now.set_index("contract")
        prev = today_pnl.set_index("contract") if len(today_pnl) else pd.DataFrame()
        known_prev = previous_sessions(d, 1)[0] in positions  # the book held through today is known
        for code in sorted(set(now.index) | set(prev.index)):
            q = int(now["quantity"].get(code, 0)) if code in now.index else 0
            try:
                per, _ = book_weights_of(pd.DataFrame({"contract": [code], "quantity": [q]}), d, md, nav)
                r = per.iloc[0]
            except KeyError:  # closed since yesterday and no price today (it matured): P&L row only
                r = None
            pr = prev.loc[code] if code in prev.index else None
            held_rows.append({
                "date": d, "contract": code,
                "instrument": str(r["instrument"]) if r is not None else _instrument_name(code, d, md),
                "asset_class": str(r["asset_class"]) if r is not None else "",
                "quantity": q,
                "quantity_prev": int(pr["quantity_prev"]) if pr is not None else (0 if known_prev else None),
                "avg_price": float(now["avg_price"][code]) if code in now.index else None,
                "quote": float(r["quote"]) if r is not None else None,
                "notional_brl": float(r["notional_brl"]) if r is not None else None,
                "weight": float(r["weight"]) if r is not None else None,
                "dv01_brl": float(r["dv01_brl"]) if r is not None else None,
                "pnl_brl": (None if pd.isna(pr["pnl_brl"]) else float(pr["pnl_brl"])) if pr is not None else (
                    0.0 if known_prev else None),
                "price_source": str(r["price_source"]) if r is not None else "",
                "note": str(pr["note"]) if pr is not None else (
                    "not held the previous session" if known_prev else
                    f"no positions file for {previous_sessions(d, 1)[0].isoformat()}: the day's P&L is unknown"),
            })
        for h in held_rows:
            if not h["asset_class"]:
                h["asset_class"] = _class_name(h["instrument"])
    codes = set(target["contract"]) | set(orders["contract"]) | {h["contract"] for h in held_rows}
    contracts = [{"date": d, **contract_row_info(describe_contract(c, d, md.b3), d, cfg)} for c in sorted(codes)]
    rolls = roll_calendar(d, codes, cfg, md.b3)
    rolls.insert(0, "date", d)
    pnl_rows = [{"date": p.date, "positions_date": p.sizing_date, "pnl": p.pnl,
                 "pnl_brl": None if p.pnl is None else p.pnl * nav, "available": p.available, "note": p.note}
                for p in pnls]
    by = {r.limit: r for r in breaker.rows}
    desk_row = {"date": d, "positions_file": str(files[d]) if d in files else "",
                "positions_present": held_now is not None, "circuit_breaker": breaker.tripped,
                "daily_loss": by["daily_loss"].value if "daily_loss" in by else None,
                "weekly_loss": by["weekly_loss"].value if "weekly_loss" in by else None,
                "drawdown": by["max_drawdown"].value if "max_drawdown" in by else None, "note": note}
    ords = orders.copy()
    inst_of = {h["contract"]: h["instrument"] for h in held_rows}
    ords["instrument"] = [inst_of.get(c, i) if i == "DI1" else i for c, i in zip(ords["contract"], ords["instrument"],
                                                                                 strict=True)]
    ords.insert(0, "date", d)
    books: list[dict[str, Any]] = []
    if held_now is not None:
        proposed = orders.loc[:, ["contract", "proposed"]]
        for name, bk, col in (("held", held_now, "quantity"), ("proposed", proposed, "proposed")):
            _, per_inst = book_weights_of(bk, d, md, nav, qty_col=col)
            books += [{"date": d, "book": name, **r} for r in cast("list[dict[str, Any]]", per_inst.to_dict("records"))]
    return {
        "desk_books": frame(books, BOOKS),
        "contracts": frame(contracts, CONTRACTS),
        "held": frame(held_rows, HELD),
        "held_pnl": frame(pnl_rows, HELD_PNL),
        "orders": frame(cast("list[dict[str, Any]]", ords.to_dict("records")), ORDERS),
        "desk": frame([desk_row], DESK),
        "rolls": frame(cast("list[dict[str, Any]]", rolls.to_dict("records")), ROLLS),
    }


def _instrument_name(code: str, d: dt.date, md: MarketData) -> str:
    from brmacro.desk.book import PRODUCT_INSTRUMENT
    from brmacro.desk.contracts import contract_info

    root = contract_info(code).root
    return PRODUCT_INSTRUMENT.get(root, "DI1")


def _class_name(instrument: str) -> str:
    from brmacro.instruments import by_name

    return "rates_br" if instrument == "DI1" else by_name(instrument).asset_class
