"""Tables the desk adds to ``portfolio_sizing`` (contracts, held book, orders, circuit breaker, rolls).

Quantities are signed whole contracts in the price convention (+ = long the contract's price; DI1 long =
receive fixed). Money is BRL; ``weight`` and P&L fractions are of NAV.
"""

from __future__ import annotations

from brmacro.io import Col, Schema

__all__ = ["BOOKS", "CONTRACTS", "DESK", "DESK_SCHEMAS", "HELD", "HELD_PNL", "ORDERS", "ROLLS"]

CONTRACTS = Schema(
    "portfolio_sizing.contracts",
    (
        Col("date", "date"),
        Col("contract", "str", doc="exchange ticker (DI1F28, DOLF27, INDZ26, ESZ26, ZNH27)"),
        Col("product", "str", doc="DI1 | DOL | IND | ES | ZN"),
        Col("expiry", "date", doc="exchange expiry (DI1/DOL maturity; IND/ES last trade; ZN first notice day)"),
        Col("last_session", "date", doc="last B3 session the desk may hold it"),
        Col("sessions_left", "int", lo=0, doc="B3 sessions in (date, last_session]"),
        Col("in_roll_window", "bool", doc="sessions_left <= desk.roll_sessions[product]: not opened"),
        Col("open_interest", "float", nullable=True, lo=0.0,
            doc="DI1: open contracts in the session's settlement file; null where no file lists the product"),
        Col("listing", "str", doc="B3 settlement file of the session, or the calendar rule"),
    ),
    key=("contract",),
    doc="Every contract the model book, the held book or the orders use, with its listing and roll facts",
)

HELD = Schema(
    "portfolio_sizing.held",
    (
        Col("date", "date"),
        Col("contract", "str"),
        Col("instrument", "str", doc="model instrument its risk is measured on (DI1: nearest point)"),
        Col("asset_class", "str"),
        Col("quantity", "int", doc="contracts held at the close of the session (0 if closed since the day before)"),
        Col("quantity_prev", "int", nullable=True,
            doc="contracts held at the close of the previous session (earn today's P&L); null without its file"),
        Col("avg_price", "float", nullable=True, doc="the desk's average entry price (as delivered; display only)"),
        Col("quote", "float", nullable=True, doc="today's price in the contract's quote (DI1: PU)"),
        Col("notional_brl", "float", nullable=True, doc="quantity x BRL value of one contract"),
        Col("weight", "float", nullable=True, doc="NAV-fraction weight on the instrument (DI1: DV01-matched)"),
        Col("dv01_brl", "float", nullable=True, doc="BRL per 1 bp fall in the yield (DI1, ZN; 0 otherwise)"),
        Col("pnl_brl", "float", nullable=True,
            doc="today's P&L in BRL of quantity_prev from the contract's settlement change; null if not computable"),
        Col("price_source", "str", doc="B3 settlement PU, or the named proxy"),
        Col("note", "str"),
    ),
    key=("contract",),
    doc="The desk's held book (positions file) valued on the session, with the day's contract P&L",
)

HELD_PNL = Schema(
    "portfolio_sizing.held_pnl",
    (
        Col("date", "date", doc="session whose P&L this is"),
        Col("positions_date", "date", nullable=True, doc="session of the positions file held through it"),
        Col("pnl", "float", nullable=True, doc="held-book P&L, NAV fraction, signed; null when unavailable"),
        Col("pnl_brl", "float", nullable=True, doc="the same in BRL"),
        Col("available", "bool"),
        Col("note", "str"),
    ),
    key=("date",),
    doc="Held-book P&L of the last five sessions from contract settlement changes",
)

ORDERS = Schema(
    "portfolio_sizing.orders",
    (
        Col("date", "date"),
        Col("contract", "str"),
        Col("instrument", "str"),
        Col("held", "int", doc="contracts held at the close (positions file)"),
        Col("target", "int", doc="model book in this contract"),
        Col("proposed", "int", doc="proposed position after the orders (= target unless rolling or breaker)"),
        Col("order", "int", doc="proposed - held, contracts, for execution at the next settlement"),
        Col("kind", "str", doc="open | rebalance | close | roll | reduce | hold | expiry"),
        Col("reason", "str"),
    ),
    key=("contract",),
    doc="Orders = proposed - held, per contract (empty when the desk delivered no positions file)",
)

DESK = Schema(
    "portfolio_sizing.desk",
    (
        Col("date", "date"),
        Col("positions_file", "str", doc="the positions file read for the session ('' when none)"),
        Col("positions_present", "bool"),
        Col("circuit_breaker", "bool", doc="the held book breaches a loss limit: orders only reduce risk"),
        Col("daily_loss", "float", nullable=True, doc="held-book loss of the session, NAV fraction (gain negative)"),
        Col("weekly_loss", "float", nullable=True, doc="held-book loss over five sessions, NAV fraction"),
        Col("drawdown", "float", nullable=True, doc="held-book drawdown in the five-session window, NAV fraction"),
        Col("note", "str", doc="one line for the report: what stands in for the book, or why the breaker tripped"),
    ),
    key=("date",),
    doc="One row: positions input and circuit-breaker state",
)

ROLLS = Schema(
    "portfolio_sizing.rolls",
    (
        Col("date", "date"),
        Col("contract", "str"),
        Col("product", "str"),
        Col("last_session", "date"),
        Col("roll_session", "date", doc="first session of the roll window (orders move out from then)"),
        Col("sessions_to_roll", "int", lo=0, doc="B3 sessions until the roll session (0: roll due now)"),
        Col("next_contract", "str"),
    ),
    key=("contract",),
    doc="Roll calendar: rolls of the contracts in use within the next desk.roll_calendar_sessions sessions",
)

BOOKS = Schema(
    "portfolio_sizing.desk_books",
    (
        Col("date", "date"),
        Col("book", "str", doc="held (positions file) | proposed (held + orders)"),
        Col("instrument", "str"),
        Col("asset_class", "str"),
        Col("weight", "float", doc="NAV-fraction weight on the instrument (DI1 contracts DV01-matched)"),
        Col("dv01_brl", "float", doc="BRL per 1 bp fall in the yield"),
    ),
    key=("book", "instrument"),
    doc="The held and proposed books as instrument weights, for VaR, stress and limits (empty without positions)",
)

DESK_SCHEMAS = {"desk_books": BOOKS, "contracts": CONTRACTS, "held": HELD, "held_pnl": HELD_PNL, "orders": ORDERS,
                "desk": DESK, "rolls": ROLLS}
