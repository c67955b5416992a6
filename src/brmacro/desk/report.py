"""The desk's report section: held positions and their P&L, orders against the held book, held-vs-proposed
risk, the roll calendar, and the one line at the report's top (positions status or circuit breaker).

Reads only ``portfolio_sizing`` desk tables and the risk ``books`` tables; every figure shown is registered
in the report's figures table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, cast

import numpy as np
import pandas as pd

from brmacro.report.inputs import Inputs
from brmacro.report.render import Cell, Figures, Section, is_num, na, num, pct, signed

__all__ = ["desk_banner", "desk_orders", "desk_section"]

_RATES = ("rates_br", "rates_us")


def _c(text: Any) -> Cell:
    return Cell(str(text))


def desk_banner(inp: Inputs) -> str | None:
    """The line the report carries at its top: the circuit breaker, or what stands in for the held book."""
    desk = inp.get("portfolio_sizing", "desk")
    if desk is None or desk.empty:
        return None
    r = desk.iloc[0]
    if bool(r["circuit_breaker"]):
        return str(r["note"])
    if not bool(r["positions_present"]):
        return "Desk positions: " + str(r["note"])
    return None


def desk_orders(inp: Inputs, orders: list[Any] | None, why: str) -> tuple[list[Any] | None, str]:
    """Orders against the held book (``portfolio_sizing.orders``) when the desk delivered positions.

    Without a positions file the report's own orders (target minus the previous model book) stand.
    """
    desk = inp.get("portfolio_sizing", "desk")
    o = inp.get("portfolio_sizing", "orders")
    if desk is None or o is None or desk.empty or not bool(desk.iloc[0]["positions_present"]):
        return orders, why
    from brmacro.report.build import (
        Order,  # the report's order record (wording receive/pay, buy/sell)
    )

    cls = _classes(inp)
    out = [Order(str(r.instrument), cls.get(str(r.instrument), "rates_br" if str(r.contract).startswith("DI1")
                                            else ""), str(r.contract), float(r.order), f"{r.kind}: {r.reason}")
           for r in cast("Iterable[Any]", o.sort_values("contract").itertuples()) if int(r.order) != 0]
    return out, "" if out else "no order: the held book equals the proposed book"


def _classes(inp: Inputs) -> dict[str, str]:
    sz = inp.get("portfolio_sizing")
    return {} if sz is None else dict(zip(sz["instrument"].astype(str), sz["asset_class"].astype(str), strict=True))


def desk_section(inp: Inputs, figs: Figures) -> Section:
    """The "Desk book" section (held positions, day's P&L per position in BRL, orders, risk side by side, rolls)."""
    sec = Section("desk", "Desk book: held positions, orders and rolls")
    desk = inp.get("portfolio_sizing", "desk")
    if desk is None:
        sec.missing("portfolio_sizing/desk", inp.why("portfolio_sizing", "desk"))
        return sec
    r = desk.iloc[0]
    src = "portfolio_sizing/desk"
    sec.p(str(r["note"]) + ".")
    held = inp.get("portfolio_sizing", "held")
    if bool(r["positions_present"]) and held is not None:
        _held(sec, figs, held)
        _orders(sec, figs, inp)
        _pnl(sec, figs, inp)
        _side_by_side(sec, figs, inp)
        for k, label in (("daily_loss", "held-book daily loss"), ("weekly_loss", "held-book weekly loss"),
                         ("drawdown", "held-book drawdown (5 sessions)")):
            figs.add("desk", label, r[k], pct(r[k], 3, reason="not computable"), src)
    _rolls(sec, inp)
    _liquidity(sec, figs, inp)
    return sec


def _held(sec: Section, figs: Figures, held: pd.DataFrame) -> None:
    src = "portfolio_sizing/held"
    rows = []
    for h in held.sort_values("contract").itertuples():
        pnl = figs.add("desk", f"day P&L {h.contract} BRL", h.pnl_brl,
                       signed(h.pnl_brl, 0, reason=str(h.note) or "not computable"), src)
        rows.append([_c(h.contract), _c(h.instrument),
                     figs.add("desk", f"held {h.contract}", h.quantity, signed(h.quantity, 0), src),
                     _c(signed(h.quantity_prev, 0, reason="no file for the previous session")),
                     _c(num(h.quote, 2, reason="no price today")),
                     _c(num(h.notional_brl, 0, reason="no price today")),
                     _c(num(h.dv01_brl, 0, reason="n/a")), pnl, _c(h.price_source or h.note)])
    total = float(held["pnl_brl"].sum()) if held["pnl_brl"].notna().all() else None
    rows.append([_c("total"), _c(""), _c(""), _c(""), _c(""),
                 _c(num(held["notional_brl"].abs().sum(), 0)), _c(num(held["dv01_brl"].sum(), 0)),
                 figs.add("desk", "day P&L held book BRL", total,
                          signed(total, 0, reason="a position's P&L is not computable"), src), _c("")])
    sec.table(["Contract", "Risk on", "Held at close", "Held day before", "Price", "Notional (BRL)",
               "DV01 (BRL/bp)", "Day P&L (BRL)", "Price source"], rows,
              "Held positions (positions file) and the day's P&L per position: quantity held the day before x "
              "the contract's own settlement change (DI1: PU change net of the DI factor, roll-down included)")


def _orders(sec: Section, figs: Figures, inp: Inputs) -> None:
    from brmacro.report.build import order_text  # the report's wording (receive/pay for rates, buy/sell)

    o = inp.get("portfolio_sizing", "orders")
    if o is None:
        sec.missing("portfolio_sizing/orders", inp.why("portfolio_sizing", "orders"))
        return
    cls = _classes(inp)
    rows = []
    for r in cast("Iterable[Any]", o.sort_values("contract").itertuples()):
        ac = cls.get(str(r.instrument), "rates_br" if str(r.contract).startswith("DI1") else "")
        rows.append([_c(r.contract), _c(signed(r.held, 0)), _c(signed(r.target, 0)), _c(signed(r.proposed, 0)),
                     figs.add("desk", f"order {r.contract}", r.order, signed(r.order, 0), "portfolio_sizing/orders"),
                     _c(order_text(ac, float(r.order), str(r.contract)) if int(r.order) else "none"),
                     _c(f"{r.kind}: {r.reason}")])
    sec.table(["Contract", "Held", "Model target", "Proposed", "Order", "Wording", "Why"], rows,
              "Orders = proposed - held, in contracts, for execution at the next settlement")


def _pnl(sec: Section, figs: Figures, inp: Inputs) -> None:
    t = inp.get("portfolio_sizing", "held_pnl")
    if t is None:
        sec.missing("portfolio_sizing/held_pnl", inp.why("portfolio_sizing", "held_pnl"))
        return
    rows = [[_c(p.date.isoformat() if hasattr(p.date, "isoformat") else p.date),
             _c(pct(p.pnl, 3, plus=True) if bool(p.available) else na(str(p.note))),
             _c(signed(p.pnl_brl, 0) if bool(p.available) else na("unavailable")), _c(p.note)]
            for p in t.sort_values("date").itertuples()]
    sec.table(["Session", "P&L (% NAV)", "P&L (BRL)", "From"], rows, "Held-book P&L, last five sessions")


def _pick_var(t: pd.DataFrame, book: str, conf: float) -> float | None:
    x = t.loc[(t["book"] == book) & np.isclose(t["confidence"].astype(float), conf)]
    return float(x["var"].max()) if len(x) else None


def _side_by_side(sec: Section, figs: Figures, inp: Inputs) -> None:
    var = inp.get("risk_var", "books")
    stress = inp.get("risk_stress", "books")
    lim = inp.get("risk_limits", "books")
    if var is None or stress is None or lim is None:
        sec.missing("risk books", "risk_var/risk_stress/risk_limits books tables not available")
        return
    rows = []
    getters: tuple[tuple[str, Callable[[str], float | None]], ...] = (
        ("VaR 95 % (max over methods)", lambda b: _pick_var(var, b, 0.95)),
        ("VaR 99 % (max over methods)", lambda b: _pick_var(var, b, 0.99)),
        ("worst hypothetical stress P&L", lambda b: float(stress.loc[stress["book"] == b, "pnl"].min())
         if (stress["book"] == b).any() else None),
    )
    for label, fn in getters:
        cells = [_c(label)]
        for b in ("held", "proposed"):
            v = fn(b)
            cells.append(figs.add("desk", f"{b} {label}", v, pct(v, 2, reason="not computable"),
                                  "risk_var/books" if "VaR" in label else "risk_stress/books"))
        rows.append(cells)
    for name in ("overall", "gross_leverage", "dv01", "open_interest_share", "daily_loss", "weekly_loss"):
        cells = [_c(f"limit {name}")]
        for b in ("held", "proposed"):
            x = lim.loc[(lim["book"] == b) & (lim["limit"] == name)]
            if x.empty:
                cells.append(_c(na("no row")))
                continue
            u = x.iloc[0]
            txt = f"{u['status']}" + (f" ({pct(u['utilisation'], 0)} of limit)" if is_num(u["utilisation"]) else "")
            cells.append(figs.add("desk", f"{b} limit {name}", u["utilisation"], txt, "risk_limits/books"))
        rows.append(cells)
    sec.table(["Measure", "Held book", "Proposed book (held + orders)"], rows,
              "Held and proposed books side by side (NAV fractions; loss limits on the held book's contract P&L)")


def _rolls(sec: Section, inp: Inputs) -> None:
    t = inp.get("portfolio_sizing", "rolls")
    if t is None:
        sec.missing("portfolio_sizing/rolls", inp.why("portfolio_sizing", "rolls"))
        return
    if t.empty:
        sec.p("Roll calendar: no contract in use rolls within the next 20 sessions.")
        return
    rows = [[_c(r.contract), _c(r.product), _c(r.last_session), _c(r.roll_session),
             _c("now" if int(r.sessions_to_roll) == 0 else str(int(r.sessions_to_roll))), _c(r.next_contract)]
            for r in cast("Iterable[Any]", t.sort_values(["roll_session", "contract"]).itertuples())]
    sec.table(["Contract", "Product", "Last session", "Roll from", "Sessions to roll", "Into"], rows,
              "Roll calendar, next 20 sessions (desk.roll_sessions before each contract's last session)")


def _liquidity(sec: Section, figs: Figures, inp: Inputs) -> None:
    c = inp.get("portfolio_sizing", "contracts")
    if c is None or c.empty:
        return
    rows = [[_c(r.contract), _c(r.expiry), _c(str(int(r.sessions_left))), _c("yes" if r.in_roll_window else "no"),
             _c(num(r.open_interest, 0, reason="no open interest in bronze")), _c(r.listing)]
            for r in cast("Iterable[Any]", c.sort_values("contract").itertuples())]
    sec.table(["Contract", "Expiry", "Sessions left", "In roll window", "Open interest", "Listing"], rows,
              "Contracts in use (model, held and proposed books)")
