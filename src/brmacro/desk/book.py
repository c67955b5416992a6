"""The desk's held book: contract prices, contract P&L, held-vs-proposed weights, orders and the circuit breaker.

Timing (docs/desk.md): the positions file of session ``D`` is the book at the close of ``D``. Orders computed
from the run for ``D`` (early ``D+1``) execute at the settlement of ``D+1``, so trades are
``proposed(D) - held(D)``. The book held *through* session ``s`` is the file of the session before ``s``
(trades of ``s`` are assumed done at ``s``'s settlement, earning nothing on ``s``), so the day's P&L is

    P&L(s) = sum_c held_c(s-1) x [value_c(s) - value_c(s-1) x carry_c]

with ``value`` the BRL value of one contract: DI1 the settlement PU (``carry`` = the DI factor
``(1+CDI)^du`` B3 applies to the previous PU, so the P&L is the exchange's daily adjustment, roll-down
included); DOL, IND, ES and ZN a *proxy* from the underlying's close (PTAX, Ibovespa, S&P 500, ZN priced from
the 10-year yield; USD converted at the session's PTAX), because the bronze layer has no settlement file for
them; every row says which price it used.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd

from brmacro.calendar import du, previous_session, previous_sessions
from brmacro.desk.contracts import (
    Contract,
    ContractError,
    contract_info,
    di1_listed,
    in_roll_window,
    instrument_of,
    sessions_left,
)
from brmacro.instruments import INSTRUMENTS, by_name, di1_dv01
from brmacro.params import resolve
from brmacro.portfolio.sizing import zn_price
from brmacro.risk.limits import LimitRow, loss_row
from brmacro.risk.pnl import SessionPnl

__all__ = [
    "BreakerState",
    "MarketData",
    "book_weights_of",
    "breaker_state",
    "circuit_breaker_orders",
    "contract_value",
    "held_pnl",
    "orders_table",
]

_DI1_POINTS = tuple(i for i in INSTRUMENTS if i.kind == "di1")
_MULT = {"DOL": 50.0, "IND": 1.0, "ES": 50.0, "ZN": 1000.0}  # currency units per quote point
_UNDERLYING = {"DOL": "USDBRL", "IND": "IBOV", "ES": "SPX", "ZN": "UST_10Y"}


@dataclass
class MarketData:
    """What the desk prices contracts from (all point in time as of the session).

    Attributes
    ----------
    b3 : DataFrame
        ``bronze_b3_market_data`` of the session (its history included).
    levels : DataFrame
        ``silver_returns`` part (``date``, ``instrument``, ``level``).
    prices : DataFrame
        ``silver_returns.prices`` (``ptax:USDBRL``, ``cdi:daily``).
    zn_coupon, zn_years : float
        The ZN notional note (portfolio.contracts).
    """

    b3: pd.DataFrame
    levels: pd.DataFrame
    prices: pd.DataFrame
    zn_coupon: float = 0.06
    zn_years: float = 10.0

    def __post_init__(self) -> None:
        self._lv = _lookup(self.levels["date"], self.levels["instrument"], self.levels["level"])
        self._px = _lookup(self.prices["date"], self.prices["series"], self.prices["value"])

    def level(self, name: str, d: dt.date) -> float:
        """An instrument's level on session ``d``; KeyError naming the series when absent."""
        try:
            return self._lv[(d, name)]
        except KeyError:
            raise KeyError(f"silver_returns has no level for {name} on {d.isoformat()}") from None

    def price(self, series: str, d: dt.date) -> float:
        """A ``silver_returns.prices`` value on session ``d``."""
        try:
            return self._px[(d, series)]
        except KeyError:
            raise KeyError(f"silver_returns.prices has no {series} on {d.isoformat()}") from None


def _session_dates(col: pd.Series) -> list[dt.date]:
    """A date column as ``datetime.date`` values (the session of a timestamp), columnar where it can be."""
    if col.dtype.kind == "M" and col.dt.tz is None:
        return list(col.to_numpy().astype("datetime64[D]").astype(object))
    return [x if type(x) is dt.date else pd.Timestamp(x).date() for x in col]


def _lookup(dates: pd.Series, names: pd.Series, values: pd.Series) -> dict[tuple[dt.date, str], float]:
    """(session, name) -> value of the non-missing rows, later rows winning (as the row-wise dict did)."""
    ok = values.notna().to_numpy()
    keep_d = [d for d, k in zip(_session_dates(dates), ok, strict=True) if k]
    keep_n = [str(n) for n in names.to_numpy()[ok]]
    return dict(zip(zip(keep_d, keep_n, strict=True), values.to_numpy(dtype=float)[ok].tolist(), strict=True))


def contract_value(c: str, d: dt.date, md: MarketData) -> tuple[float, float, str]:
    """(BRL value of one contract, quote, price source) of contract ``c`` on session ``d``.

    Raises
    ------
    KeyError
        When the price is not available on ``d`` (the message names the series).
    """
    info = contract_info(c)
    if info.root == "DI1":
        try:
            hit = di1_listed(md.b3, d, c)
        except ContractError:  # no DI1 settlement at all on that session
            hit = None
        if hit is None or hit.settlement_price is None:
            raise KeyError(f"bronze_b3_market_data has no settlement of {c} on {d.isoformat()}")
        return float(hit.settlement_price), float(hit.settlement_price), "B3 settlement PU"
    fx = md.price("ptax:USDBRL", d)
    if info.root == "DOL":
        q = fx * 1000.0
        return q * _MULT["DOL"], q, "proxy: PTAX x 1,000 (no DOL settlement in bronze)"
    lvl = md.level(_UNDERLYING[info.root], d)
    if info.root == "IND":
        return lvl, lvl, "proxy: Ibovespa close (no IND settlement in bronze)"
    if info.root == "ES":
        return lvl * _MULT["ES"] * fx, lvl, "proxy: S&P 500 close x PTAX (no ES settlement in bronze)"
    q = zn_price(lvl, md.zn_coupon, md.zn_years)
    return q * _MULT["ZN"] * fx, q, "proxy: ZN priced from the 10-year yield x PTAX (no ZN settlement in bronze)"


def _carry(c: str, prev: dt.date, d: dt.date, md: MarketData) -> float:
    """The factor applied to the previous value before differencing (DI1: the DI factor; others 1)."""
    if contract_info(c).root != "DI1":
        return 1.0
    cdi = md.price("cdi:daily", prev)
    return float((1.0 + cdi) ** int(du(prev, d)))


def day_pnl(c: str, qty: float, d: dt.date, md: MarketData) -> tuple[float | None, str]:
    """BRL P&L on session ``d`` of ``qty`` contracts of ``c`` held through it, and a note."""
    if qty == 0:
        return 0.0, "flat"
    prev = previous_session(d)
    try:
        v1, _, src = contract_value(c, d, md)
        v0, _, _ = contract_value(c, prev, md)
        k = _carry(c, prev, d, md)
    except KeyError as exc:
        return None, str(exc)
    return float(qty * (v1 - v0 * k)), src + (" adjusted by the DI factor" if k != 1.0 else "")


def held_pnl(asof: dt.date, positions: Mapping[dt.date, pd.DataFrame], md: MarketData, nav: float,
             n_sessions: int = 5) -> tuple[list[SessionPnl], pd.DataFrame]:
    """The held book's P&L on the ``n_sessions`` sessions ending at ``asof`` (oldest first).

    Session ``s`` uses the positions file of the session before ``s``; without it, that session's P&L is
    unavailable (never zero). Returns the :class:`SessionPnl` rows (NAV fractions, ``by_instrument`` per
    contract) and the per-contract P&L of ``asof`` (``contract``, ``quantity_prev``, ``pnl_brl``, ``note``).
    """
    sessions = [*previous_sessions(asof, n_sessions - 1), asof]
    out: list[SessionPnl] = []
    today = pd.DataFrame(columns=["contract", "quantity_prev", "pnl_brl", "note"])
    for s in sessions:
        held_d = previous_session(s)
        pos = positions.get(held_d)
        if pos is None:
            out.append(SessionPnl(s, held_d, None, None, None, f"no positions file for {held_d.isoformat()} "
                                                                "(the book held through the session)"))
            continue
        rows = []
        for r in cast("Iterable[Any]", pos.itertuples()):
            pnl, note = day_pnl(str(r.contract), float(r.quantity), s, md)
            rows.append({"contract": str(r.contract), "quantity_prev": int(r.quantity), "pnl_brl": pnl, "note": note})
        t = pd.DataFrame(rows, columns=["contract", "quantity_prev", "pnl_brl", "note"])
        if s == asof:
            today = t
        bad = t.loc[t["pnl_brl"].isna()]
        if len(bad):
            out.append(SessionPnl(s, held_d, None, None, None, "; ".join(bad["note"].astype(str))))
            continue
        by = pd.Series(t["pnl_brl"].astype(float).to_numpy() / nav, index=t["contract"].to_numpy())
        cls = pd.Series([_class_of(c) for c in t["contract"]], index=t["contract"].to_numpy())
        out.append(SessionPnl(s, held_d, float(by.sum()), by, cls,
                              f"positions of {held_d.isoformat()} x settlement change of {s.isoformat()}"))
    return out, today


def _class_of(code: str) -> str:
    root = contract_info(code).root
    return "rates_br" if root == "DI1" else by_name(_UNDERLYING[root]).asset_class


# ----------------------------------------------------------------------------------------------- weights

def book_weights_of(book: pd.DataFrame, d: dt.date, md: MarketData, nav: float, qty_col: str = "quantity"
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Contracts -> the model's instruments: per-contract valuation and per-instrument weights.

    DI1 contracts go to the DI1 point nearest in business days, DV01-matched (a contract of DV01 ``x`` BRL/bp
    is the weight whose DV01 on that point is ``x``); other contracts are their notional over NAV.

    Returns
    -------
    (per_contract, per_instrument)
        ``per_contract``: contract, instrument, asset_class, quantity, quote, value_brl, notional_brl, weight,
        dv01_brl, price_source. ``per_instrument``: the sizing-like table risk steps read (instrument,
        asset_class, weight, dv01_brl), every instrument of the universe (zeros where none is held).
    """
    rows = []
    for r in book.itertuples():
        code, q = str(r.contract), float(getattr(r, qty_col))
        c = contract_info(code)
        v, quote, src = contract_value(code, d, md)
        dv01 = 0.0
        if c.root == "DI1":
            lc = di1_listed(md.b3, d, code)
            assert lc is not None and lc.du is not None and lc.settlement_rate is not None
            inst = instrument_of(lc, _DI1_POINTS)
            n_i = by_name(inst).tenor_du
            dv01 = q * float(di1_dv01(lc.settlement_rate, lc.du))
            dur_i = (n_i / 252.0) / (1.0 + lc.settlement_rate)
            w = dv01 / (nav * dur_i * 1e-4)
        else:
            inst = _UNDERLYING[c.root]
            w = q * v / nav
            if c.root == "ZN":
                dv01 = q * v * by_name(inst).duration * 1e-4
        rows.append({"contract": code, "instrument": inst, "asset_class": by_name(inst).asset_class, "quantity": q,
                     "quote": quote, "value_brl": v, "notional_brl": q * v, "weight": w, "dv01_brl": dv01,
                     "price_source": src})
    per = pd.DataFrame(rows, columns=["contract", "instrument", "asset_class", "quantity", "quote", "value_brl",
                                      "notional_brl", "weight", "dv01_brl", "price_source"])
    by_inst = pd.DataFrame({"instrument": [i.name for i in INSTRUMENTS],
                            "asset_class": [i.asset_class for i in INSTRUMENTS]})
    agg = per.groupby("instrument")[["weight", "dv01_brl"]].sum() if len(per) else \
        pd.DataFrame(columns=["weight", "dv01_brl"], dtype=float)
    by_inst["weight"] = by_inst["instrument"].map(agg["weight"]).fillna(0.0).astype(float)
    by_inst["dv01_brl"] = by_inst["instrument"].map(agg["dv01_brl"]).fillna(0.0).astype(float)
    return per, by_inst


# ----------------------------------------------------------------------------------------------- breaker

@dataclass(frozen=True)
class BreakerState:
    """Whether the held book's loss limits trip the circuit breaker, and why."""

    tripped: bool
    rows: tuple[LimitRow, ...]
    reason: str


def breaker_state(pnls: Sequence[SessionPnl], limits: Mapping[str, Any] | None, enabled: bool = True
                  ) -> BreakerState:
    """The held book's daily, weekly and drawdown loss rows and whether any is BREACHED."""
    from brmacro.risk.limits import _drawdown  # the same drawdown the limits table uses

    lim = resolve("risk.limits", limits)
    warn = float(lim["warn_fraction"])
    today = pnls[-1] if pnls else None
    avail = [p for p in pnls if p.pnl is not None]
    week = float(sum(float(p.pnl) for p in avail if p.pnl is not None)) if avail else None
    dd, dd_note = _drawdown(pnls)
    rows = (
        loss_row("daily_loss", today.pnl if today else None, float(lim["daily_loss"]), warn,
                 f"held book, {today.note}" if today else "no P&L"),
        loss_row("weekly_loss", week, float(lim["weekly_loss"]), warn,
                 f"held book, sum over {len(avail)} of {len(pnls)} sessions"),
        LimitRow("max_drawdown", dd, float(lim["max_drawdown"]),
                 None if dd is None else dd / float(lim["max_drawdown"]),
                 "N/A" if dd is None else ("BREACHED" if dd >= float(lim["max_drawdown"]) else
                                           "WARNING" if dd >= warn * float(lim["max_drawdown"]) else "OK"),
                 "held book; " + dd_note.replace("model-book", "held-book")),
    )
    breached = [r for r in rows if r.status == "BREACHED"]
    if not breached and all(r.status == "N/A" for r in rows):
        return BreakerState(False, rows, "circuit breaker not evaluable: no held-book P&L in the window ("
                            + (today.note if today else "no session") + ")")
    if not breached:
        return BreakerState(False, rows, "")
    what = ", ".join(f"{r.limit} {r.utilisation:.0%} of its limit" for r in breached if r.utilisation is not None)
    if not enabled:
        return BreakerState(False, rows, f"held book breaches {what}; circuit breaker disabled "
                                         "(desk.circuit_breaker.enabled: false)")
    return BreakerState(True, rows, f"held book breaches {what}")


def circuit_breaker_orders(held: int, target: int, factor: float) -> int:
    """The proposed position under the circuit breaker: never away from zero, at most ``factor`` of the held size.

    ``proposed = sign(h) * min(trunc(|h| * factor), max(0, sign(h) * target))``: the model's target where it
    reduces further (to zero when it wants the other side), else the held size cut by ``factor``.
    """
    if held == 0:
        return 0
    s = 1 if held > 0 else -1
    cut = int(np.floor(abs(held) * factor))
    return s * min(cut, max(0, s * int(target)))


# ----------------------------------------------------------------------------------------------- orders

def orders_table(asof: dt.date, held: pd.DataFrame | None, target: pd.DataFrame, cfg: Mapping[str, Any],
                 breaker: BreakerState) -> pd.DataFrame:
    """Per contract: held, model target, proposed, order (= proposed - held), kind and reason.

    ``target`` has ``contract``, ``instrument`` and ``contracts`` (the model book, contracts chosen by
    :func:`brmacro.desk.contracts.contract_for`). With no positions file, ``held`` is None and the table is
    empty (the report falls back to the previous model book). A held contract in its roll window is closed
    and its exposure re-opened in the model's contract (a roll); one on its last session is not ordered (it
    expires and settles). Under the circuit breaker no position is opened or increased.

    Raises
    ------
    ContractError
        If an order would open or increase a position in a contract inside its roll window or expired
        (a guard: the contract choice never proposes one).
    """
    cols = ["contract", "instrument", "held", "target", "proposed", "order", "kind", "reason"]
    if held is None:
        return pd.DataFrame(columns=cols)
    factor = float(resolve("desk.circuit_breaker", cfg.get("circuit_breaker"))["size_factor"])
    tgt = cast("dict[str, int]", target.groupby("contract")["contracts"].sum().round().astype(int).to_dict())
    t_inst = dict(zip(target["contract"], target["instrument"], strict=False))
    h: dict[str, int] = dict(zip(held["contract"], held["quantity"].astype(int), strict=True))
    rows = []
    for code in sorted(set(tgt) | set(h)):
        c = contract_info(code)
        hq, tq = int(h.get(code, 0)), int(tgt.get(code, 0))
        left = sessions_left(asof, c.last_session)
        inst = t_inst.get(code) or (PRODUCT_INSTRUMENT.get(c.root, "DI1"))
        if left == 0:
            rows.append({"contract": code, "instrument": inst, "held": hq, "target": 0, "proposed": hq, "order": 0,
                         "kind": "expiry", "reason": f"last session {c.last_session.isoformat()}: it expires on "
                                                     f"{c.expiry.isoformat()} and settles; no order"})
            continue
        rolling = in_roll_window(asof, c, cfg)
        if breaker.tripped:
            p = 0 if rolling else circuit_breaker_orders(hq, tq, factor)
            if hq == 0:
                why = f"no new position (model target {tq:+d})"
            elif rolling:
                why = "in its roll window: closed, not rolled"
            elif p == 0 and hq * tq <= 0:
                why = "closed (model target flat or on the other side)"
            elif p == tq:
                why = "reduced to the model target"
            else:
                why = f"cut to {factor:g} of the held size (model target {tq:+d})"
            reason = f"circuit breaker ({breaker.reason}): {why}"
            kind = "reduce" if p != hq else "hold"
        else:
            p = 0 if rolling else tq
            if rolling and hq:
                kind, reason = "roll", f"in its roll window ({left} sessions to {c.last_session.isoformat()})"
            elif hq == 0:
                kind, reason = "open", "model target"
            elif p == 0:
                kind, reason = "close", "model target is in another contract or flat"
            else:
                kind, reason = "rebalance", "model target"
        if (rolling or left == 0) and abs(p) > abs(hq):
            raise ContractError(f"order guard {asof.isoformat()}: {code} is in its roll window; no position may "
                                "be opened or increased in it")
        rows.append({"contract": code, "instrument": inst, "held": hq, "target": tq, "proposed": p, "order": p - hq,
                     "kind": kind, "reason": reason})
    return pd.DataFrame(rows, columns=cols)


def band_orders(orders: pd.DataFrame, weight_per_contract: Mapping[str, float], vol: Mapping[str, float],
                band: float, participation: float, through_flat: bool) -> pd.DataFrame:
    """The orders after the execution rule: partial moves and the no-trade band (``docs/portfolio.md`` §3).

    The rule is :func:`brmacro.portfolio.execution.execution_step`, the one the range backtest simulates, applied
    in weights (``quantity × weight_per_contract``, the held book's own valuation) to each ``open`` or
    ``rebalance`` order of an instrument traded in that one contract: a step worth at most ``band`` in annual
    volatility is not sent (kind ``hold``, the reason says so); otherwise ``participation`` of the gap is sent,
    rounded to whole contracts; with ``through_flat`` (``portfolio.reversal_through_flat``) an order that would
    reverse the position closes it instead (kind ``close``), the new side left to the next session. Closes (a
    move to flat is whole), rolls, expiries, contract switches (an instrument in two contracts) and
    circuit-breaker orders are left as they are.
    """
    from brmacro.portfolio.execution import execution_step

    per_inst = orders.loc[orders["kind"] != "expiry", "instrument"].value_counts()
    rows: list[dict[str, Any]] = []
    for rec in orders.to_dict("records"):
        r = {str(k): v for k, v in rec.items()}
        rows.append(r)
        if r["kind"] not in ("open", "rebalance") or per_inst.get(r["instrument"], 0) != 1:
            continue
        wpc = float(weight_per_contract.get(str(r["contract"]), 0.0))
        v = float(vol.get(str(r["instrument"]), float("nan")))
        hq, tq = int(r["held"]), int(r["target"])
        if wpc == 0.0 or hq == tq:
            continue
        trade, inside, reversal = execution_step([tq * wpc], [hq * wpc], [v], band, participation, through_flat)
        step = (tq - hq) * wpc * participation  # the target is not flat here (a close is never banded)
        p = hq + int(np.rint(trade[0] / wpc))
        if bool(reversal[0]):
            r.update(proposed=0, order=-hq, kind="close",
                     reason=f"reversal through flat: {hq:+d} closed, the model target {tq:+d} opens from flat at the "
                            "next session if it still has that side (portfolio.reversal_through_flat)")
        elif bool(inside[0]) or p == hq:
            why = (f"inside the no-trade band: |dw| {abs(step):.4f} x vol {v * 100:.1f} % = "
                   f"{abs(step) * v:.5f} <= {band:g}"
                   if bool(inside[0]) else f"{participation:g} of the gap rounds to no contract")
            r.update(proposed=hq, order=0, kind="hold", reason=f"not sent, {why} (model target {tq:+d})")
        elif p != tq:
            r.update(proposed=p, order=p - hq,
                     reason=f"{r['reason']}; partial move: {participation:g} of the gap to {tq:+d} "
                            "(portfolio.participation)")
    return pd.DataFrame(rows, columns=orders.columns)


#: Instrument carried by each calendar product (DI1 varies by tenor).
PRODUCT_INSTRUMENT = dict(_UNDERLYING)


def model_targets(sizing_rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The model book as (contract, instrument, contracts) rows."""
    return pd.DataFrame([{"contract": r["contract"], "instrument": r["instrument"], "contracts": r["contracts"]}
                         for r in sizing_rows], columns=["contract", "instrument", "contracts"])


def contract_row_info(c: Contract, asof: dt.date, cfg: Mapping[str, Any]) -> dict[str, Any]:
    """A row of the ``contracts`` table."""
    return {"contract": c.code, "product": c.root, "expiry": c.expiry, "last_session": c.last_session,
            "sessions_left": sessions_left(asof, c.last_session), "in_roll_window": in_roll_window(asof, c, cfg),
            "open_interest": c.open_interest, "listing": c.listing}


def describe_contract(code: str, asof: dt.date, b3: pd.DataFrame) -> Contract:
    """The contract with its listing facts on ``asof`` (DI1 from the file; others by calendar)."""
    c = contract_info(code)
    if c.root == "DI1":
        hit = di1_listed(b3, asof, code)
        if hit is None:
            raise ContractError(f"{code} is not in the B3 settlement file of {asof.isoformat()}")
        return hit
    return Contract(c.code, c.root, c.year, c.month, c.expiry, c.last_session,
                    listing=f"calendar rule ({c.root} is not in the bronze B3 settlement file)")
