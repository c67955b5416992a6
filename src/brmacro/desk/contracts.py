"""Listed contracts, expiries and rolls: the one home of contract selection (DOMAIN A11).

Products and their exchange rules
---------------------------------
* ``DI1`` (B3): matures on the first ANBIMA business day of the contract month; the last session it trades
  is the B3 session before. What is *listed* is what the session's B3 settlement file
  (``bronze_b3_market_data``) lists; what is *liquid* is its open interest.
* ``DOL`` (B3): expires on the first B3 session of the contract month, last trade the session before; every
  month is listed.
* ``IND`` (B3): even months (G J M Q V Z), expiring on the Wednesday nearest the 15th (rolled forward to a
  session), which is its last trading session.
* ``ES`` (CME): quarterly (H M U Z), last trade on the third Friday of the month.
* ``ZN`` (CME): quarterly; desks leave it before the first notice day, the last business day of the month
  before the contract month, which is taken here as its last session.

Roll rule
---------
On session ``D`` a contract is *in its roll window* when the B3 sessions in ``(D, last_session]`` number
``desk.roll_sessions[product]`` or fewer: from that session on the desk no longer opens it and moves the
position to the next contract. A contract whose last session is before or on ``D`` is *expired* for ordering
purposes. Counting is on the B3 calendar (the desk's calendar); CME dates follow the weekday rules above.

The bronze B3 file of this project holds DI1 and DAP only, so only DI1 is checked against a listing and an
open interest; DOL, IND, ES and ZN follow their calendar rule and say so in :attr:`Contract.listing`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

import numpy as np
import pandas as pd

from brmacro.calendar import (
    CALENDAR_END,
    DateError,
    anbima_holidays,
    anbima_roll_forward,
    b3_sessions,
    du,
    is_session,
    next_session,
    previous_session,
)
from brmacro.instruments import MONTH_CODES, Instrument
from brmacro.params import defaults

__all__ = [
    "PRODUCTS",
    "Contract",
    "ContractError",
    "choose_di1",
    "contract_for",
    "contract_info",
    "di1_candidates",
    "di1_listed",
    "front_contract",
    "in_roll_window",
    "instrument_of",
    "parse_code",
    "roll_calendar",
    "sessions_left",
]

#: Product roots the desk trades, and the instrument each root carries (DI1 maps by tenor).
PRODUCTS: dict[str, str] = {"DI1": "rates_br", "DOL": "USDBRL", "IND": "IBOV", "ES": "SPX", "ZN": "UST_10Y"}

_CODE = re.compile(r"^(DI1|DOL|IND|ES|ZN)([FGHJKMNQUVXZ])(\d{2})$")
_QUARTERLY = (3, 6, 9, 12)


class ContractError(ValueError):
    """No contract qualifies, or a contract code is unknown, malformed or expired."""


@dataclass(frozen=True)
class Contract:
    """One listed futures contract as the desk sees it on a session.

    Attributes
    ----------
    code : str
        Exchange ticker (``DI1F28``, ``DOLF27``, ``ESZ26``).
    root : str
        Product (a key of :data:`PRODUCTS`).
    year, month : int
        Contract month.
    expiry : datetime.date
        Exchange expiry (DI1/DOL: maturity; IND/ES: last trade; ZN: first notice day).
    last_session : datetime.date
        Last B3 session the desk may hold it (DI1/DOL: the session before maturity; ZN: first notice day).
    du : int or None
        DI1: ANBIMA business days from the session to maturity.
    open_interest : float or None
        DI1: open contracts in the session's settlement file; None where no file lists the product.
    settlement_price : float or None
        DI1: settlement PU of the session.
    settlement_rate : float or None
        DI1: settlement rate of the session (decimal).
    listing : str
        Where the listing comes from (``B3 settlement file`` or the calendar rule).
    """

    code: str
    root: str
    year: int
    month: int
    expiry: dt.date
    last_session: dt.date
    du: int | None = None
    open_interest: float | None = None
    settlement_price: float | None = None
    settlement_rate: float | None = None
    listing: str = "calendar rule"


# ----------------------------------------------------------------------------------------------- calendar rules

def _code(root: str, year: int, month: int) -> str:
    return f"{root}{MONTH_CODES[month - 1]}{year % 100:02d}"


def _first_session_on_or_after(d: dt.date) -> dt.date:
    return d if is_session(d) else next_session(d)


def _last_session_on_or_before(d: dt.date) -> dt.date:
    return d if is_session(d) else previous_session(d)


def _third_friday(year: int, month: int) -> dt.date:
    d = dt.date(year, month, 1)
    return d + dt.timedelta(days=(4 - d.weekday()) % 7 + 14)


def _ind_expiry(year: int, month: int) -> dt.date:
    d15 = dt.date(year, month, 15)
    off = (2 - d15.weekday() + 3) % 7 - 3  # signed days to the nearest Wednesday (weekday 2)
    return _first_session_on_or_after(d15 + dt.timedelta(days=off))


def _zn_first_notice(year: int, month: int) -> dt.date:
    d = dt.date(year, month, 1) - dt.timedelta(days=1)
    while d.weekday() >= 5:
        d -= dt.timedelta(days=1)
    return d


def _session_before(d: dt.date) -> dt.date:
    """The B3 session before ``d``; beyond the stored calendar, the ANBIMA business day before (far contracts)."""
    if d <= CALENDAR_END:
        return previous_session(d)
    prev = np.busday_offset(np.datetime64(d, "D"), -1, roll="backward", holidays=anbima_holidays())
    return cast(dt.date, prev.item())


def _dates(root: str, year: int, month: int) -> tuple[dt.date, dt.date]:
    """(expiry, last session the desk may hold) of a contract month."""
    if root == "DI1":
        mat = anbima_roll_forward(dt.date(year, month, 1))
        return mat, _session_before(mat)
    if root == "DOL":
        exp = _first_session_on_or_after(dt.date(year, month, 1))
        return exp, previous_session(exp)
    if root == "IND":
        if month % 2:
            raise ContractError(f"IND has even contract months only (G J M Q V Z); got {_code(root, year, month)}")
        exp = _ind_expiry(year, month)
        return exp, exp
    if root in ("ES", "ZN"):
        if month not in _QUARTERLY:
            raise ContractError(f"{root} is quarterly (H M U Z); got {_code(root, year, month)}")
        exp = _third_friday(year, month) if root == "ES" else _zn_first_notice(year, month)
        return exp, _last_session_on_or_before(exp)
    raise ContractError(f"unknown product {root!r}; known: {sorted(PRODUCTS)}")


def parse_code(code: str) -> tuple[str, int, int]:
    """``(root, year, month)`` of a ticker such as ``DI1F28``; :class:`ContractError` for anything else."""
    m = _CODE.match(str(code).strip())
    if not m:
        raise ContractError(
            f"contract code {code!r} is not <root><month letter><yy> with root one of {sorted(PRODUCTS)} "
            f"(e.g. DI1F28, DOLF27, INDZ26, ESZ26, ZNH27)"
        )
    root, letter, yy = m.groups()
    return root, 2000 + int(yy), MONTH_CODES.index(letter) + 1


def contract_info(code: str) -> Contract:
    """The calendar facts of a contract code (no listing check)."""
    root, year, month = parse_code(code)
    exp, last = _dates(root, year, month)
    return Contract(code, root, year, month, exp, last)


@lru_cache(maxsize=1)
def _session_array() -> np.ndarray:
    return np.array(b3_sessions(), dtype="datetime64[D]")


def _count(asof: dt.date, end: dt.date) -> int:
    s = _session_array()
    return int(np.searchsorted(s, np.datetime64(end, "D"), side="right")
               - np.searchsorted(s, np.datetime64(asof, "D"), side="right"))


def sessions_left(asof: dt.date, last_session: dt.date) -> int:
    """B3 sessions in ``(asof, last_session]`` (0 when the contract's last session is on or before ``asof``)."""
    if last_session <= asof:
        return 0
    if last_session <= CALENDAR_END:
        return _count(asof, last_session)
    # beyond the stored B3 calendar: its sessions, then ANBIMA business days (only far contracts get here)
    return _count(asof, CALENDAR_END) + int(du(CALENDAR_END, last_session))


def _roll(root: str, cfg: Mapping[str, Any]) -> int:
    rs = {**defaults("desk.roll_sessions"), **dict(cfg.get("roll_sessions") or {})}
    return int(rs[root])


def in_roll_window(asof: dt.date, c: Contract, cfg: Mapping[str, Any]) -> bool:
    """Whether ``c`` is in its roll window (or expired) on ``asof``: the desk must not open it."""
    return sessions_left(asof, c.last_session) <= _roll(c.root, cfg)


def _months(root: str) -> tuple[int, ...]:
    if root == "IND":
        return (2, 4, 6, 8, 10, 12)
    if root in ("ES", "ZN"):
        return _QUARTERLY
    return tuple(range(1, 13))


def front_contract(root: str, asof: dt.date, cfg: Mapping[str, Any]) -> Contract:
    """The first contract of a calendar-listed product (DOL, IND, ES, ZN) not in its roll window on ``asof``."""
    if root not in ("DOL", "IND", "ES", "ZN"):
        raise ContractError(f"front_contract: {root} is chosen from the settlement file, not by calendar")
    y, m = asof.year, asof.month
    for _ in range(30):
        if m in _months(root):
            exp, last = _dates(root, y, m)
            c = Contract(_code(root, y, m), root, y, m, exp, last,
                         listing=f"calendar rule ({root} is not in the bronze B3 settlement file)")
            if not in_roll_window(asof, c, cfg):
                return c
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    raise ContractError(f"no {root} contract outside its roll window within 30 months of {asof.isoformat()}")


# ----------------------------------------------------------------------------------------------- DI1 from the file

def di1_candidates(b3: pd.DataFrame, asof: dt.date) -> pd.DataFrame:
    """The DI1 contracts of ``asof``'s settlement file (one row per ticker), with their calendar facts.

    Raises
    ------
    ContractError
        When the file has no DI1 row on the session.
    """
    key = (id(b3), asof)
    hit = _CANDIDATES.get(key)
    if hit is not None and hit[0] is b3:
        return hit[1].copy()
    di, days = _di1_days(b3)
    t = di.loc[days == np.datetime64(asof, "D")]
    if t.empty:
        raise ContractError(f"bronze_b3_market_data {asof.isoformat()}: no DI1 settlement on the session "
                            "(field trade_date); no DI1 contract can be chosen")
    t = t.drop_duplicates("ticker").copy()
    mats = pd.to_datetime(t["maturity"]).dt.date
    t["month"] = [m.month for m in mats]
    t["year"] = [m.year for m in mats]
    t["last_session"] = [_session_before(m) for m in mats]
    t = t.sort_values("maturity").reset_index(drop=True)
    if len(_CANDIDATES) > 64:
        _CANDIDATES.clear()
    _CANDIDATES[key] = (b3, t)  # the frame is held, so its id cannot be reused while cached
    out: pd.DataFrame = t.copy()
    return out


#: Per-session DI1 candidates of a B3 table, and the table's DI1 rows with their sessions (read-only use).
_CANDIDATES: dict[tuple[int, dt.date], tuple[pd.DataFrame, pd.DataFrame]] = {}
_DAYS: dict[int, tuple[pd.DataFrame, pd.DataFrame, np.ndarray]] = {}


def _di1_days(b3: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    hit = _DAYS.get(id(b3))
    if hit is not None and hit[0] is b3:
        return hit[1], hit[2]
    di = b3.loc[b3["commodity"] == "DI1"]
    days = pd.to_datetime(di["trade_date"]).to_numpy(dtype="datetime64[D]")
    if len(_DAYS) > 4:
        _DAYS.clear()
    _DAYS[id(b3)] = (b3, di, days)
    return di, days


def _di1_contract(r: Any, asof: dt.date) -> Contract:
    mat = pd.Timestamp(r.maturity).date()
    oi = None if pd.isna(r.open_interest) else float(r.open_interest)
    return Contract(str(r.ticker), "DI1", int(r.year), int(r.month), mat, r.last_session, int(r.du), oi,
                    float(r.settlement_price), float(r.settlement_rate),
                    listing=f"B3 settlement file of {asof.isoformat()}")


def choose_di1(b3: pd.DataFrame, asof: dt.date, tenor_du: int, cfg: Mapping[str, Any]) -> Contract:
    """The DI1 contract carrying a constant-maturity point of ``tenor_du`` on ``asof``.

    Candidates are the contracts of the session's settlement file with open interest ≥
    ``desk.min_open_interest`` that are not in their roll window. For a point of ``desk.di1_january_beyond_du``
    business days or more only January contracts are used (where the curve's liquidity sits) when one qualifies.
    The nearest maturity in business days wins; ties go to the larger open interest.

    Raises
    ------
    ContractError
        When no contract qualifies (the message says how many were listed and why each group failed).
    """
    t = di1_candidates(b3, asof)
    min_oi = float(cfg.get("min_open_interest", defaults("desk.min_open_interest")))
    roll = _roll("DI1", cfg)
    lasts = list(t["last_session"])
    left = np.array(_sessions_left_pairs([asof] * len(lasts), lasts), dtype=np.int64)
    oi = t["open_interest"].astype(float).fillna(-1.0).to_numpy()
    ok = (left > roll) & (oi >= min_oi)
    if not ok.any():
        raise ContractError(
            f"bronze_b3_market_data {asof.isoformat()}: no DI1 contract for {tenor_du} du qualifies: "
            f"{len(t)} listed, {int((left > roll).sum())} outside the roll window of {roll} sessions, "
            f"{int((oi >= min_oi).sum())} with open interest >= desk.min_open_interest ({min_oi:,.0f})"
        )
    jan_beyond = int(cfg.get("di1_january_beyond_du", defaults("desk.di1_january_beyond_du")))
    if tenor_du >= jan_beyond:
        jan = ok & (t["month"].to_numpy() == 1)
        if jan.any():
            ok = jan
    at = _nearest_position(t, ok, oi, int(tenor_du))
    if at is not None:
        return _di1_contract(t.iloc[at], asof)
    cand = t.loc[ok].copy()
    cand["_dist"] = (cand["du"].astype(int) - int(tenor_du)).abs()
    cand["_oi"] = -cand["open_interest"].astype(float)
    best = cand.sort_values(["_dist", "_oi", "maturity"], kind="mergesort").iloc[0]
    return _di1_contract(best, asof)


def _nearest_position(t: pd.DataFrame, ok: np.ndarray, oi: np.ndarray, tenor_du: int) -> int | None:
    """The row of :func:`choose_di1`'s sort (nearest ``du``, then larger open interest, then earlier maturity) on
    arrays: the first of ``np.lexsort`` (stable) by distance and negated open interest, ties in row order, which is
    maturity order (:func:`di1_candidates` sorts by it, so a tie on maturity too is in row order, as the stable sort
    keeps it). None (the pandas sort) unless ``du`` is int64, the qualifying open interests are positive finite numbers
    (no NaN to place last, no signed zero) and the maturities are all ``datetime.date``."""
    if t["du"].dtype != np.int64 or {type(m) for m in t["maturity"]} != {dt.date}:
        return None
    rows = np.flatnonzero(ok)
    oi_ok = oi[rows]
    if not (np.isfinite(oi_ok).all() and (oi_ok > 0).all()):
        return None
    dist = np.abs(t["du"].to_numpy()[rows] - tenor_du)
    return int(rows[np.lexsort((-oi_ok, dist))[0]])


def _sessions_left_pairs(asofs: Sequence[Any], last_sessions: Sequence[Any]) -> list[int]:
    """``[sessions_left(a, s) for a, s in zip(asofs, last_sessions)]``: within the stored calendar by one
    ``searchsorted`` of each side (the same two positions :func:`_count` takes), beyond it and for anything but
    ``datetime.date`` objects one by one."""
    if any(type(x) is not dt.date for x in (*asofs, *last_sessions)):
        return [sessions_left(a, s) for a, s in zip(asofs, last_sessions, strict=True)]
    sess = _session_array()
    n = (np.searchsorted(sess, np.array(last_sessions, dtype="datetime64[D]"), side="right")
         - np.searchsorted(sess, np.array(asofs, dtype="datetime64[D]"), side="right")).tolist()
    return [0 if s <= a else int(k) if s <= CALENDAR_END else sessions_left(a, s)
            for a, s, k in zip(asofs, last_sessions, n, strict=True)]


def di1_listed(b3: pd.DataFrame, asof: dt.date, code: str) -> Contract | None:
    """The contract ``code`` as listed in the session's file, or None when the file does not list it."""
    t = di1_candidates(b3, asof)
    hit = np.flatnonzero(t["ticker"] == code)
    if not len(hit):
        return None
    # the first matching row as a Series (the fields _di1_contract converts, the same values as itertuples' namedtuple)
    return _di1_contract(t.iloc[int(hit[0])], asof)


# ----------------------------------------------------------------------------------------------- instruments

def contract_for(inst: Instrument, asof: dt.date, b3: pd.DataFrame | None, cfg: Mapping[str, Any]) -> Contract:
    """The contract that carries ``inst`` on ``asof`` (the one place portfolio code chooses a contract).

    Parameters
    ----------
    inst : Instrument
        The model instrument.
    asof : datetime.date
        The session.
    b3 : DataFrame or None
        The session's ``bronze_b3_market_data`` (needed for DI1).
    cfg : mapping
        The ``desk`` config mapping (declared defaults, :mod:`brmacro.params`, fill missing keys).
    """
    if inst.kind == "di1":
        if b3 is None:
            raise ContractError(f"{inst.name} {asof.isoformat()}: DI1 needs the session's B3 settlement file")
        return choose_di1(b3, asof, inst.tenor_du, cfg)
    return front_contract(inst.contract, asof, cfg)


def instrument_of(c: Contract, di1_points: Iterable[Instrument]) -> str:
    """The model instrument a contract's risk is measured on (DI1: the point nearest in business days)."""
    if c.root != "DI1":
        return PRODUCTS[c.root]
    pts = sorted(di1_points, key=lambda i: i.tenor_du)
    if c.du is None:
        raise ContractError(f"{c.code}: DI1 contract without business days to maturity")
    du = c.du
    return min(pts, key=lambda i: (abs(i.tenor_du - du), i.tenor_du)).name


def roll_calendar(asof: dt.date, codes: Iterable[str], cfg: Mapping[str, Any],
                  b3: pd.DataFrame | None = None) -> pd.DataFrame:
    """Rolls falling in the next ``desk.roll_calendar_sessions`` B3 sessions for the contracts in use.

    One row per contract whose roll session (the first session of its roll window) is within the horizon,
    or already passed (roll due now): ``contract``, ``product``, ``last_session``, ``roll_session``,
    ``sessions_to_roll`` (0 = roll due on the next orders), ``next_contract``.
    """
    horizon = int(cfg.get("roll_calendar_sessions", defaults("desk.roll_calendar_sessions")))
    future: list[dt.date] = []
    d = asof
    for _ in range(horizon):
        try:
            d = next_session(d)
        except DateError:  # the end of the calendar span: a shorter horizon
            break
        future.append(d)
    rows = []
    for code in sorted(set(codes)):
        c = contract_info(code)
        if c.last_session <= asof:  # gone: it expires and settles; nothing left to roll
            continue
        roll = _roll(c.root, cfg)
        # the roll session: the first session s with sessions_left(s, last) <= roll
        starts = [asof, *future]
        left = _sessions_left_pairs(starts, [c.last_session] * len(starts))
        window = [s for s, n in zip(starts, left, strict=True) if n <= roll]
        if not window:
            continue
        rs = window[0]
        if c.root == "DI1":
            nxt = "next DI1 chosen from that session's settlement file"
            if b3 is not None and rs == asof:
                try:
                    nxt = choose_di1(b3, asof, int(du(asof, c.expiry)), cfg).code
                except ContractError as exc:
                    nxt = f"none qualifies: {exc}"
        else:
            nxt = front_contract(c.root, rs, cfg).code
        rows.append({"contract": code, "product": c.root, "last_session": c.last_session, "roll_session": rs,
                     "sessions_to_roll": len([s for s in future if s <= rs]) if rs > asof else 0,
                     "next_contract": nxt})
    return pd.DataFrame(rows, columns=["contract", "product", "last_session", "roll_session", "sessions_to_roll",
                                       "next_contract"])
