"""The desk's positions file: where it is, how it is read, and every check on it (docs/desk.md).

One optional file per session, ``<desk.positions_dir>/date=<D>/positions.csv`` (or ``positions.parquet``):
the desk's holdings at the close of session ``D``. Columns:

* ``contract`` (required): exchange ticker, e.g. ``DI1F28``, ``DOLF27``, ``INDZ26``, ``ESZ26``, ``ZNH27``.
* ``quantity`` (required): signed whole number of contracts in the price convention of the project:
  + = long the contract's *price* (DI1: long the PU = receive fixed, i.e. *sold* the rate on B3;
  DOL: long USD; IND, ES, ZN: long the future).
* ``avg_price`` (optional): the desk's average entry price in the contract's quote (shown, not used in P&L).
* ``date`` (optional): if present, must equal ``D`` on every row.

Every error names the file, the row (1-based data row, header excluded) and the field.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from brmacro.calendar import is_session
from brmacro.desk.contracts import ContractError, contract_info, di1_listed
from brmacro.pipeline import POSITION_FILES  # file names accepted in a session's folder (exactly one)

__all__ = ["POSITION_FILES", "PositionsError", "check_dir_dates", "find_positions", "read_positions"]

_COLUMNS = ("contract", "quantity", "avg_price", "date")
_DATE_DIR = re.compile(r"^date=(.*)$")


class PositionsError(ValueError):
    """A positions file (or its folder) is not acceptable; the message names file, row and field."""


def session_dir(positions_dir: str | Path, d: dt.date) -> Path:
    """The folder of session ``d``'s positions file."""
    return Path(positions_dir) / f"date={d.isoformat()}"


def find_positions(positions_dir: str | Path, d: dt.date) -> Path | None:
    """The positions file of session ``d``, or None when the desk delivered none.

    Raises
    ------
    PositionsError
        When both a CSV and a Parquet file exist for the session (ambiguous).
    """
    base = session_dir(positions_dir, d)
    found = [base / n for n in POSITION_FILES if (base / n).is_file()]
    if len(found) > 1:
        raise PositionsError(f"{base}: both {' and '.join(p.name for p in found)} exist for {d.isoformat()}; "
                             "deliver exactly one positions file per session")
    return found[0] if found else None


def check_dir_dates(positions_dir: str | Path, start: dt.date, end: dt.date) -> None:
    """Refuse a ``date=X`` folder in ``[start, end]`` whose ``X`` is not a B3 session or not a date."""
    root = Path(positions_dir)
    if not root.is_dir():
        return
    for p in sorted(root.iterdir()):
        m = _DATE_DIR.match(p.name)
        if not p.is_dir() or not m:
            continue
        if not any((p / n).exists() for n in POSITION_FILES):
            continue
        try:
            d = dt.date.fromisoformat(m.group(1))
        except ValueError:
            raise PositionsError(f"{p}: folder date {m.group(1)!r} is not a YYYY-MM-DD date (field date)") from None
        if start <= d <= end and not is_session(d):
            raise PositionsError(f"{p}: {d.isoformat()} is not a B3 session (field date); positions are "
                                 "delivered for sessions only")


def _raw(path: Path) -> pd.DataFrame:
    try:
        if path.suffix == ".csv":
            return pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
        return pd.read_parquet(path)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except Exception as exc:  # a broken file: say which
        raise PositionsError(f"{path}: cannot be read as {path.suffix[1:]}: {exc}") from exc


def _quantity(v: object, where: str) -> int:
    if isinstance(v, bool):
        raise PositionsError(f"{where}, field quantity: {v!r} is not a whole number of contracts")
    if isinstance(v, str):
        s = v.strip()
        if not re.fullmatch(r"[+-]?\d+(\.0*)?", s):
            raise PositionsError(f"{where}, field quantity: {v!r} is not a whole number of contracts")
        return int(float(s))
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise PositionsError(f"{where}, field quantity: {v!r} is not a whole number of contracts") from None
    if not math.isfinite(f) or f != int(f):
        raise PositionsError(f"{where}, field quantity: {v!r} is not a whole number of contracts")
    return int(f)


def read_positions(path: str | Path, d: dt.date, b3: pd.DataFrame | None) -> pd.DataFrame:
    """Read and check the positions file of session ``d``.

    Parameters
    ----------
    path : path
        The file (CSV or Parquet).
    d : datetime.date
        The session the file is for (from its folder).
    b3 : DataFrame or None
        A ``bronze_b3_market_data`` table holding session ``d``'s settlements: a DI1 contract must be listed
        there. None skips that check (used for the previous sessions' files when that session's file of B3
        is not at hand; their contracts are still checked against the calendar).

    Returns
    -------
    DataFrame
        ``contract``, ``quantity`` (int), ``avg_price`` (float or NaN), one row per contract, file order.

    Raises
    ------
    PositionsError
        For a date that is not a session, an empty file, a missing or unknown column, a malformed, unknown,
        expired or unlisted contract, a non-integer quantity, a bad average price or a duplicate contract.
    """
    p = Path(path)
    if not is_session(d):
        raise PositionsError(f"{p}: {d.isoformat()} is not a B3 session (field date)")
    raw = _raw(p)
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    if raw.empty or not len(raw):
        raise PositionsError(f"{p}: the file is empty (no position rows, field contract); a flat book is "
                             "delivered as rows with quantity 0 for the contracts closed")
    unknown = [c for c in raw.columns if c not in _COLUMNS]
    if unknown:
        raise PositionsError(f"{p}: unknown column(s) {unknown}; expected contract, quantity[, avg_price, date]")
    for c in ("contract", "quantity"):
        if c not in raw.columns:
            raise PositionsError(f"{p}: missing column {c!r} (field {c})")
    rows = []
    seen: dict[str, int] = {}
    for i, r in enumerate(raw.to_dict("records"), start=1):
        where = f"{p}, row {i}"
        code = str(r["contract"]).strip().upper()
        if "date" in raw.columns:
            v = r["date"]
            try:
                rd = v if isinstance(v, dt.date) and not isinstance(v, dt.datetime) else \
                    pd.Timestamp(str(v).strip()).date()
            except ValueError:
                raise PositionsError(f"{where}, field date: {v!r} is not a date") from None
            if rd != d:
                raise PositionsError(f"{where}, field date: {rd.isoformat()} differs from the folder's session "
                                     f"{d.isoformat()}")
        try:
            info = contract_info(code)
        except ContractError as exc:
            raise PositionsError(f"{where}, field contract: unknown contract: {exc}") from None
        if info.expiry <= d:
            raise PositionsError(f"{where}, field contract: {code} expired on {info.expiry.isoformat()} (at or before "
                                 f"the session {d.isoformat()}); it cannot be held at the close")
        if info.root == "DI1" and b3 is not None and di1_listed(b3, d, code) is None:
            raise PositionsError(f"{where}, field contract: {code} is not in the B3 settlement file of "
                                 f"{d.isoformat()} (bronze_b3_market_data)")
        q = _quantity(r["quantity"], where)
        if code in seen:
            raise PositionsError(f"{where}, field contract: duplicate contract {code} (also on row {seen[code]}); "
                                 "one net row per contract")
        seen[code] = i
        ap = r.get("avg_price", None)
        if ap is None or (isinstance(ap, str) and not ap.strip()) or (isinstance(ap, float) and math.isnan(ap)):
            price = float("nan")
        else:
            try:
                price = float(ap)
            except (TypeError, ValueError):
                raise PositionsError(f"{where}, field avg_price: {ap!r} is not a number") from None
            if not math.isfinite(price) or price <= 0:
                raise PositionsError(f"{where}, field avg_price: {ap!r} must be a finite number > 0")
        rows.append({"contract": code, "quantity": q, "avg_price": price})
    return pd.DataFrame(rows, columns=["contract", "quantity", "avg_price"])


def by_session(paths: Sequence[str | Path]) -> dict[dt.date, Path]:
    """Declared positions files grouped by their folder's session."""
    out: dict[dt.date, Path] = {}
    for p in map(Path, paths):
        m = _DATE_DIR.match(p.parent.name)
        if m is None:
            raise PositionsError(f"{p}: not under a date=YYYY-MM-DD folder")
        d = dt.date.fromisoformat(m.group(1))
        if d in out:
            raise PositionsError(f"{p.parent}: both {out[d].name} and {p.name} exist for {d.isoformat()}; "
                                 "deliver exactly one positions file per session")
        out[d] = p
    return out
