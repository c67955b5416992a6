"""The rates desk's daily reads: COPOM-implied Selic path, carry and roll-down, DV01 ladder, slopes, DAP,
and the 1-day, 1-week and month-to-date changes of every market the report shows.

Pure functions of the session's tables (no file is read here except the shipped COPOM calendar), plus
:func:`rates_section`, which turns them into the report's "Rates desk" section.

Conventions
-----------
* DI1 rates are 252-exponential zero rates; ``du`` counts ANBIMA business days in ``[start, end)``
  (:func:`brmacro.calendar.du`), so a contract at ``du`` accrues the CDI of the sessions D … maturity−1.
* COPOM decisions come after the close of the meeting's second day and take effect on the next business
  day: the CDI of the decision day is still the old rate. The break of meeting *j* is therefore
  ``b_j = du(D, next business day after the decision)``.
* Implied path: CDI is piecewise flat between breaks. Going forward in time, the log capitalisation
  ``G(du) = du/252 · ln(1 + r)`` of every contract maturing inside a period fixes that period's flat
  rate by least squares given ``G`` at the period's start. A period with no contract maturing inside it
  cannot be told apart from the next one: the two are fitted as one flat rate and the row says so
  (``merged``). Before the first contract, the period uses the session's CDI when known.
* Carry and roll-down of a receiver (long the price) at maturity ``τ`` over ``h`` du, curve unchanged:
  carry ``((1 + r(τ)) / (1 + r(h)))^(h/252) − 1`` (the term rate earned against the curve's own funding to
  ``h``), roll-down ``((1 + r(τ)) / (1 + r(τ − h)))^((τ − h)/252) − 1``; both are converted to bp of rate by
  the modified duration ``(τ/252)/(1 + r(τ))`` and to BRL by the position's DV01. Rates between contracts
  come from the silver flat-forward interpolation (:func:`brmacro.silver.curves.flat_forward`).
* Changes: 1 day (previous session in the table), 1 week (5 sessions back) and month to date (the last
  session of the previous month), all taken from the history inside the session's own silver tables
  (DESIGN §3: no new cross-session input).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from brmacro.calendar import anbima_roll_forward, du
from brmacro.instruments import INSTRUMENTS
from brmacro.io import date_objects, dates_on
from brmacro.params import resolve
from brmacro.report.charts import Line, line_chart
from brmacro.report.inputs import Inputs
from brmacro.report.render import Cell, Figures, Section, bp, is_num, na, num, pct
from brmacro.report.sanity import rows_by_key, series_by_key
from brmacro.silver.curves import flat_forward

__all__ = [
    "COPOM_FILE",
    "Changes",
    "carry_rolldown",
    "changes",
    "copom_calendar",
    "copom_implied_path",
    "dv01_ladder",
    "meetings_known",
    "rates_section",
]

COPOM_FILE = Path(__file__).resolve().parents[1] / "data" / "copom_meetings.csv"



# ----------------------------------------------------------------------------------------------- COPOM calendar
@lru_cache(maxsize=4)
def _read_calendar(path: str) -> pd.DataFrame:
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        raise ValueError(f"COPOM calendar {path}: no rows")
    df = pd.DataFrame(rows)
    need = {"calendar_year", "meeting", "first_day", "decision_date", "announced", "announced_basis",
            "dates_basis", "source"}
    if not need <= set(df.columns):
        raise ValueError(f"COPOM calendar {path}: columns {sorted(need - set(df.columns))} missing")
    for c in ("first_day", "decision_date", "announced"):
        try:
            df[c] = pd.to_datetime(df[c], format="%Y-%m-%d").dt.date
        except ValueError as exc:
            raise ValueError(f"COPOM calendar {path}: column {c}: {exc}") from None
    df["calendar_year"] = df["calendar_year"].astype(int)
    df["meeting"] = df["meeting"].astype(int)
    return df.sort_values("decision_date", kind="mergesort").reset_index(drop=True)


def copom_calendar(path: str | Path | None = None) -> pd.DataFrame:
    """The shipped COPOM calendar: one row per ordinary meeting, as announced.

    Parameters
    ----------
    path : str or Path, optional
        The CSV (default :data:`COPOM_FILE`).

    Returns
    -------
    DataFrame
        ``calendar_year``, ``meeting``, ``first_day``, ``decision_date`` (second day; decision after the
        close), ``announced`` (when the year's calendar was public), ``announced_basis``, ``dates_basis``
        and ``source``, sorted by decision date.
    """
    return _read_calendar(str(path or COPOM_FILE)).copy()


def meetings_known(asof: dt.date, calendar: pd.DataFrame | None = None) -> pd.DataFrame:
    """Meetings whose schedule was public at ``asof`` (``announced <= asof``), point in time."""
    cal = copom_calendar() if calendar is None else calendar
    return cal.loc[cal["announced"] <= asof].reset_index(drop=True)


def _next_bday(d: dt.date) -> dt.date:
    return anbima_roll_forward(d + dt.timedelta(days=1))


@dataclass(frozen=True)
class PathResult:
    """The implied CDI path: one row per period (``table``) and plain-language notes."""

    table: pd.DataFrame
    notes: list[str]


def copom_implied_path(
    session: dt.date,
    contracts: pd.DataFrame,
    meetings: Sequence[dt.date],
    cdi: float | None = None,
) -> PathResult:
    """COPOM-implied CDI per meeting from the session's DI1 contracts.

    Parameters
    ----------
    session : datetime.date
        The session D (the contracts' trade date).
    contracts : DataFrame
        DI1 contracts of D: ``ticker``, ``du`` (ANBIMA days to maturity), ``settlement_rate`` (decimal).
    meetings : sequence of date
        Decision dates (second day) of the meetings to price, on or after D, sorted.
    cdi : float, optional
        The CDI in force on D (decimal per year), used for the first period when no contract matures
        before the first meeting takes effect.

    Returns
    -------
    PathResult
        ``table`` columns: ``meeting`` (None for the period before the first meeting), ``effective``,
        ``du_start``, ``du_end``, ``rate`` (implied CDI, decimal per year; NaN when not identified),
        ``change`` (against the previous period), ``n_contracts`` and ``note``.

    Raises
    ------
    ValueError
        When a contract has a non-positive du or a missing rate.
    """
    c = contracts.loc[:, ["ticker", "du", "settlement_rate"]].copy()
    if c.empty:
        raise ValueError(f"copom_implied_path {session}: no DI1 contract on the session")
    if (c["du"] <= 0).any() or c["settlement_rate"].isna().any():
        bad = c.loc[(c["du"] <= 0) | c["settlement_rate"].isna(), "ticker"].tolist()
        raise ValueError(f"copom_implied_path {session}: contracts {bad} have du <= 0 or no settlement rate")
    c = c.sort_values(["du", "ticker"], kind="mergesort")
    cdu = c["du"].to_numpy(dtype=float)
    cy = cdu / 252.0 * np.log1p(c["settlement_rate"].to_numpy(dtype=float))
    meets = [m for m in meetings if m >= session]
    eff = [_next_bday(m) for m in meets]
    breaks = [0.0] + [float(du(session, e)) for e in eff]
    last = float(cdu.max())
    notes: list[str] = []
    # the last period ends at the next break after the last meeting priced, or at the last contract
    ends = breaks[1:] + [last]
    starts = breaks
    labels: list[dt.date | None] = [None, *meets]
    effs: list[dt.date | None] = [None, *eff]
    keep = [i for i in range(len(starts)) if starts[i] < last]
    if len(keep) < len(starts):
        dropped = [labels[i] for i in range(len(starts)) if i not in keep]
        notes.append("meetings after the last DI1 maturity are not priced: "
                     + ", ".join(d.isoformat() for d in dropped if d is not None))
    rows: list[dict[str, Any]] = []
    g = 0.0
    i = 0
    while i < len(keep):
        j = keep[i]
        lo, hi = starts[j], ends[j]
        members = [j]
        inside = (cdu > lo) & (cdu <= hi)
        note = ""
        if j == 0 and not inside.any() and is_num(cdi):
            rate_log = float(np.log1p(float(cdi)))
            note = "CDI of the session (no contract matures before the first meeting takes effect)"
        else:
            k = i
            while not inside.any() and k + 1 < len(keep):
                k += 1
                members.append(keep[k])
                hi = ends[keep[k]]
                inside = (cdu > lo) & (cdu <= hi)
            if not inside.any():
                for m in members:
                    rows.append({"meeting": labels[m], "effective": effs[m], "du_start": int(starts[m]),
                                 "du_end": int(ends[m]), "rate": np.nan, "n_contracts": 0,
                                 "note": "no DI1 contract matures at or after this period"})
                break
            if members[-1] == len(starts) - 1:
                # after the last meeting priced no break is known: fit on the first contract only, so the rate
                # read is the one right after that meeting, not an average over the rest of the curve
                first = int(np.argmax(cdu > lo))
                inside = np.zeros_like(inside)
                inside[first] = True
                hi = float(cdu[first])
                note = (note + "; " if note else "") + f"after the last meeting priced: {c['ticker'].iloc[first]} only"
            dt_ = (cdu[inside] - lo) / 252.0
            rate_log = float(np.sum(dt_ * (cy[inside] - g)) / np.sum(dt_ * dt_))
            if len(members) > 1:
                merged = ("no DI1 contract matures between "
                          + " and ".join(f"meeting {lab.isoformat()}" if (lab := labels[m]) else "today"
                                         for m in members[:2])
                          + "; fitted as one flat rate (no change assumed at the later meeting)")
                note = merged + ("; " + note if note else "")
            i = k
        for m in members:
            rows.append({"meeting": labels[m], "effective": effs[m], "du_start": int(starts[m]),
                         "du_end": int(min(ends[m], hi)), "rate": float(np.expm1(rate_log)),
                         "n_contracts": int(inside.sum()) if m == members[0] else 0, "note": note})
        g += (hi - lo) / 252.0 * rate_log
        i += 1
    tab = pd.DataFrame(rows, columns=["meeting", "effective", "du_start", "du_end", "rate", "n_contracts", "note"])
    tab["change"] = tab["rate"].diff()
    return PathResult(tab, notes)


# ----------------------------------------------------------------------------------------------- carry, roll-down
def _curve_rate(nodes_du: np.ndarray, nodes_rate: np.ndarray, targets: Sequence[float] | np.ndarray) -> np.ndarray:
    rates: np.ndarray = flat_forward(np.asarray(nodes_du, dtype=float), np.asarray(nodes_rate, dtype=float),
                        np.asarray(targets, dtype=float))[0]
    return rates


def carry_rolldown(
    nodes_du: np.ndarray, nodes_rate: np.ndarray, maturities_du: Sequence[float], horizon_du: int
) -> pd.DataFrame:
    """Carry and roll-down of a receiver at each maturity over ``horizon_du``, curve unchanged.

    Parameters
    ----------
    nodes_du, nodes_rate : ndarray
        The session's DI1 vertices (du, zero rate), sorted by du.
    maturities_du : sequence of float
        Maturities (du) of the positions or vertices.
    horizon_du : int
        Horizon in ANBIMA business days (21 ≈ 1 month, 63 ≈ 3 months).

    Returns
    -------
    DataFrame
        ``du``, ``rate``, ``carry_ret``, ``roll_ret`` (simple returns per unit of PU), ``carry_bp``,
        ``roll_bp`` (bp of rate through the modified duration; positive = gain for a receiver).
        Maturities not longer than the horizon get NaN (the contract expires first).
    """
    tau = np.asarray(maturities_du, dtype=float)
    h = float(horizon_du)
    r_tau = _curve_rate(nodes_du, nodes_rate, tau)
    r_h = _curve_rate(nodes_du, nodes_rate, [h])[0]
    short = np.maximum(tau - h, 1.0)
    r_roll = _curve_rate(nodes_du, nodes_rate, short)
    carry = np.power((1 + r_tau) / (1 + r_h), h / 252.0) - 1.0
    roll = np.power((1 + r_tau) / (1 + r_roll), (tau - h) / 252.0) - 1.0
    dur = (tau / 252.0) / (1.0 + r_tau)
    ok = tau > h
    out = pd.DataFrame({"du": tau, "rate": r_tau, "carry_ret": np.where(ok, carry, np.nan),
                        "roll_ret": np.where(ok, roll, np.nan)})
    out["carry_bp"] = out["carry_ret"] / dur * 1e4
    out["roll_bp"] = out["roll_ret"] / dur * 1e4
    return out


# ----------------------------------------------------------------------------------------------- DV01 ladder
def _bucket_names(edges: Sequence[float]) -> list[str]:
    e = [float(x) for x in edges]
    names = [f"0–{e[0]:g}y"] + [f"{a:g}–{b:g}y" for a, b in zip(e[:-1], e[1:], strict=True)] + [f"{e[-1]:g}y+"]
    return names


def dv01_ladder(positions: pd.DataFrame, edges_years: Sequence[float]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """DV01 by contract and by maturity bucket.

    Parameters
    ----------
    positions : DataFrame
        ``contract``, ``du``, ``contracts``, ``dv01_brl`` (BRL per 1 bp fall, signed by position).
    edges_years : sequence of float
        Increasing bucket edges in years (``[1, 2, 5]`` gives 0–1y, 1–2y, 2–5y, 5y+); a maturity on an
        edge belongs to the longer bucket.

    Returns
    -------
    (by_contract, by_bucket)
        ``by_contract``: the positions summed per contract with their bucket, sorted by du;
        ``by_bucket``: every bucket (zero where empty) with ``dv01_brl`` and ``contracts``.
    """
    e = [float(x) for x in edges_years]
    if not e or any(b <= a for a, b in zip(e[:-1], e[1:], strict=False)) or e[0] <= 0:
        raise ValueError(f"dv01_ladder: bucket edges must be positive and increasing, got {e}")
    names = _bucket_names(e)
    p = positions.groupby("contract", as_index=False).agg(du=("du", "first"), contracts=("contracts", "sum"),
                                                           dv01_brl=("dv01_brl", "sum"))
    idx = np.searchsorted(np.asarray(e) * 252.0, p["du"].to_numpy(dtype=float), side="right")
    p["bucket"] = [names[i] for i in idx]
    p = p.sort_values(["du", "contract"], kind="mergesort").reset_index(drop=True)
    b = p.groupby("bucket")[["dv01_brl", "contracts"]].sum()
    by_bucket = pd.DataFrame({"bucket": names}).merge(b, left_on="bucket", right_index=True, how="left").fillna(0.0)
    return p, by_bucket


# ----------------------------------------------------------------------------------------------- changes
@dataclass(frozen=True)
class Changes:
    """Level and changes of one series at a session (None where the history does not reach)."""

    date: dt.date | None
    level: float | None
    d1: float | None
    w1: float | None
    mtd: float | None


def changes(series: pd.Series, session: dt.date, *, relative: bool = False) -> Changes:
    """Level and 1-day, 1-week (5 sessions) and month-to-date changes of a date-indexed series.

    Only observations on or before ``session`` count; the 1-day and 1-week changes are against the
    1st and 5th earlier observations in the series, the month-to-date change against the last
    observation of the previous calendar month. Differences are in the series' units, or simple
    returns (``v / base - 1``) with ``relative`` (prices).

    An index of Python objects (dates as read) is filtered on numpy arrays: the same per-element
    comparisons as a filter of the Series, without a Series per step; an index that is not in order
    once filtered, or not of objects, goes through the Series (:func:`_changes_plain`).
    """
    if series.index.dtype != object:
        return _changes_plain(series, session, relative=relative)
    vals = series.to_numpy()
    days = series.index.to_numpy()
    keep = ~pd.isna(vals)  # what dropna drops
    vals, days = vals[keep], days[keep]
    on = np.asarray(days <= session, dtype=bool)  # the same comparison per element as the list
    vals, days = vals[on], days[on]
    if not pd.Index(days, dtype=object).is_monotonic_increasing:  # the test sort_index makes before sorting
        return _changes_plain(series, session, relative=relative)  # it would reorder: as before
    return _changes_sorted(days, vals, relative)


def _changes_plain(series: pd.Series, session: dt.date, *, relative: bool) -> Changes:
    s = series.dropna()
    s = s.loc[[d <= session for d in s.index]].sort_index()
    return _changes_sorted(s.index, s.to_numpy(), relative)


def _changes_sorted(days: pd.Index | np.ndarray, vals: np.ndarray, relative: bool) -> Changes:
    """:class:`Changes` of observations ``(days, vals)`` already filtered to the session and sorted by day."""
    if len(days) == 0:
        return Changes(None, None, None, None, None)
    d, v = days[-1], float(vals[-1])

    def chg(base: float) -> float | None:
        if relative:
            return None if base == 0 else v / base - 1.0
        return v - base

    d1 = chg(float(vals[-2])) if len(vals) > 1 else None
    w1 = chg(float(vals[-6])) if len(vals) > 5 else None
    first = dt.date(d.year, d.month, 1)
    before = np.flatnonzero([x < first for x in days])
    mtd = chg(float(vals[before[-1]])) if len(before) else None
    return Changes(d, v, d1, w1, mtd)


# ----------------------------------------------------------------------------------------------- section
def _c(t: Any) -> Cell:
    return Cell(str(t))


def _change_cells(figs: Figures, name: str, ch: Changes, src: str, session: dt.date, *,
                  price: bool = False) -> list[Cell]:
    lvl_txt = (num(ch.level, 4 if is_num(ch.level) and abs(float(ch.level)) < 100 else 2, reason="no observation")
               if price else pct(ch.level, 2, reason="no observation"))
    cells = [figs.add("rates", f"{name} level", ch.level, lvl_txt, src)]
    for lab, v, why in (("1d", ch.d1, "no previous session"), ("1w", ch.w1, "history shorter than a week"),
                        ("MTD", ch.mtd, "history does not reach the previous month")):
        txt = pct(v, 2, plus=True, reason=why) if price else bp(v, reason=why)
        cells.append(figs.add("rates", f"{name} {lab} change", v, txt, src))
    when = "n/a" if ch.date is None else ch.date.isoformat() + ("" if ch.date == session else " (not the session)")
    return [*cells, _c(when)]


def _curve_history(curves: pd.DataFrame, curve: str, label: str) -> pd.Series:
    sub = curves.loc[(curves["curve"] == curve) & (curves["tenor_label"] == label)]
    return sub.set_index("date")["rate"]


def _curve_histories(curves: pd.DataFrame) -> dict[tuple[str, str], pd.Series]:
    """:func:`_curve_history` of every (curve, tenor label) of ``curves``, split in one pass (rows in table order).

    Groups in order of first appearance (``groupby(sort=False, dropna=False)``), each group's rows by a stable
    sort of the pair's codes, one Series per group built from the columns' arrays (no frame per group).
    """
    c_codes, c_keys = pd.factorize(curves["curve"], use_na_sentinel=False)
    l_codes, l_keys = pd.factorize(curves["tenor_label"], use_na_sentinel=False)
    code = c_codes.astype(np.int64) * max(len(l_keys), 1) + l_codes
    order = np.argsort(code, kind="stable")
    cuts = np.flatnonzero(code[order][1:] != code[order][:-1]) + 1
    groups = sorted(np.split(order, cuts) if len(order) else [], key=lambda g: int(g[0]))
    date, rate = curves["date"], curves["rate"]
    dates, rates = date.to_numpy(), rate.to_numpy()
    return {(str(c_keys[c_codes[g[0]]]), str(l_keys[l_codes[g[0]]])):
            pd.Series(rates[g], index=pd.Index(dates[g], dtype=date.dtype, name="date"), name="rate")
            for g in groups}


def _session_contracts(b3: pd.DataFrame, session: dt.date, commodity: str) -> pd.DataFrame:
    b3 = b3.loc[dates_on(b3["trade_date"], session).to_numpy()]  # the session's rows first, then convert only those
    b3 = b3.assign(trade_date=date_objects(b3["trade_date"]))
    return b3.loc[(b3["commodity"] == commodity) & (b3["trade_date"] == session) & (b3["du"] > 0)] \
        .sort_values(["du", "ticker"], kind="mergesort").reset_index(drop=True)


def _cdi_annual(macro: pd.DataFrame | None, session: dt.date) -> tuple[float | None, float | None]:
    """(CDI per year from SGS 12, Selic target per year) last observed on or before the session."""
    if macro is None:
        return None, None
    out = []
    for name in ("br_cdi_daily", "br_selic_target"):
        s = macro.loc[macro["series"] == name]  # the series' rows first, then convert only those
        s = s.assign(observation_date=date_objects(s["observation_date"]))
        s = s.loc[s["observation_date"] <= session].sort_values("observation_date")
        out.append(float(s["value"].iloc[-1]) if len(s) else None)
    cdi_day, target = out
    cdi = None if cdi_day is None else float((1.0 + cdi_day) ** 252 - 1.0)
    return cdi, target


def _copom_block(sec: Section, figs: Figures, inp: Inputs, session: dt.date, params: Mapping[str, Any],
                 b3: pd.DataFrame | None, di: pd.DataFrame | None = None) -> None:
    if b3 is None:
        sec.missing("bronze_b3_market_data/part", inp.why("bronze_b3_market_data") + "; no COPOM-implied path")
        return
    di = _session_contracts(b3, session, "DI1") if di is None else di
    if di.empty:
        sec.missing("bronze_b3_market_data/part", f"no DI1 settlement on {session.isoformat()}; no COPOM path")
        return
    try:
        cal = copom_calendar()
    except (OSError, ValueError) as exc:
        sec.missing("COPOM calendar", str(exc))
        return
    known = meetings_known(session, cal)
    ahead = known.loc[known["decision_date"] >= session].head(int(params["copom_meetings_ahead"]))
    last_year = int(cal["calendar_year"].max())
    if session >= dt.date(session.year, 6, 30) and last_year <= session.year:
        sec.p(f"The COPOM calendar for {session.year + 1} is not in the shipped data (src/brmacro/data/"
              f"copom_meetings.csv ends with {last_year}); it is normally public by the end of June "
              f"{session.year}: meetings of {session.year + 1} are not priced.")
    if ahead.empty:
        sec.missing("COPOM calendar", f"no meeting on or after {session.isoformat()} public at the session")
        return
    cdi, target = _cdi_annual(inp.get("silver_macro"), session)
    res = copom_implied_path(session, di, list(ahead["decision_date"]), cdi)
    spread = None if cdi is None or target is None else target - cdi
    src = "bronze_b3_market_data/part + data/copom_meetings.csv"
    rows = []
    for r in cast("Iterable[Any]", res.table.itertuples()):
        name = "before the next meeting" if r.meeting is None else f"COPOM {r.meeting.isoformat()}"
        selic = r.rate + spread if spread is not None and is_num(r.rate) else None
        cum = None if target is None or selic is None else selic - target
        rows.append([
            _c(name), _c("now" if r.effective is None else r.effective.isoformat()),
            figs.add("rates", f"{name} implied CDI", r.rate, pct(r.rate, 2, reason="not identified"), src),
            figs.add("rates", f"{name} move", r.change, bp(r.change, 0, reason="first period"), src),
            figs.add("rates", f"{name} implied Selic", selic,
                     pct(selic, 2, reason="Selic target or CDI not in silver_macro"), src),
            _c(bp(cum, 0, reason="Selic target not in silver_macro")),
            _c(str(int(r.n_contracts))), _c(r.note or "")])
    sec.table(["Period", "Effective", "Implied CDI", "Move at meeting", "Implied Selic", "Vs Selic target now",
               "Contracts fitted", "Note"], rows,
              "COPOM-implied path from the session's DI1 settlements (piecewise-flat CDI between meetings)")
    ok = res.table.loc[res.table["rate"].notna()]
    what = "Selic" if spread is not None else "CDI"
    vals = [float(v) + (spread or 0.0) for v in ok["rate"]]
    labels = ["now" if m is None else m.strftime("%d %b %y") for m in ok["meeting"]]
    xs = [float(i) for i in range(len(vals))]
    lines = [Line(f"implied {what}", xs, vals)]
    if target is not None:
        lines.append(Line(f"Selic target now {pct(target, 2)}", xs, [float(target)] * len(xs)))
    sec.chart(line_chart(lines, title=f"Implied {what} after each COPOM meeting", y_fmt=lambda v: pct(v, 2),
                         x_labels=list(zip(xs, labels, strict=True))),
              "COPOM path", "no implied rate identified")
    priced = res.table.loc[res.table["meeting"].notna() & res.table["rate"].notna()]
    if len(priced):
        nxt = priced.iloc[0]
        last = priced.iloc[-1]
        move = nxt["change"]
        sent = (f"Next COPOM ({nxt['meeting'].isoformat()}): the DI1 curve prices {bp(move, 0)}"
                if is_num(move) else f"Next COPOM ({nxt['meeting'].isoformat()}): move not identified")
        if spread is not None and target is not None:
            sent += f" (Selic {pct(target, 2)} to {pct(nxt['rate'] + spread, 2)})"
        if len(priced) > 1 and is_num(last["rate"]) and is_num(res.table["rate"].iloc[0]):
            sent += (f"; {bp(last['rate'] - res.table['rate'].iloc[0], 0)} in all by the meeting of "
                     f"{last['meeting'].isoformat()}")
        sec.p(sent + ".")
    basis = sorted(set(ahead["dates_basis"]))
    sec.p("Implied Selic = implied CDI + today's Selic target − CDI spread"
          + (f" ({bp(spread, 0)})" if spread is not None else " (not available)")
          + f". Meeting dates as announced (basis: {', '.join(basis)}; announcement on or before "
          f"{session.isoformat()}).")
    for n in res.notes:
        sec.p(n)


def _positions(inp: Inputs, di: pd.DataFrame) -> tuple[pd.DataFrame | None, str]:
    sz = inp.get("portfolio_sizing")
    if sz is None:
        return None, inp.why("portfolio_sizing")
    r = sz.loc[(sz["asset_class"] == "rates_br") & (sz["contracts"] != 0)].copy()
    if r.empty:
        return r.assign(du=[]), ""
    du_by = dict(zip(di["ticker"], di["du"], strict=True))
    r["du"] = r["contract"].map(du_by)
    miss = r.loc[r["du"].isna(), "contract"].tolist()
    r = r.loc[r["du"].notna()]
    return r, ("" if not miss else f"contracts {miss} not in the session's DI1 settlements")


def _carry_block(sec: Section, figs: Figures, inp: Inputs, session: dt.date, params: Mapping[str, Any],
                 curves: pd.DataFrame | None, b3: pd.DataFrame | None, di: pd.DataFrame | None = None) -> None:
    if di is None:
        di = None if b3 is None else _session_contracts(b3, session, "DI1")
    if di is None or di.empty:
        sec.missing("bronze_b3_market_data/part", "no DI1 settlement on the session; no carry, roll-down or ladder")
        return
    x, y = di["du"].to_numpy(dtype=float), di["settlement_rate"].to_numpy(dtype=float)
    horizons = [int(h) for h in params["carry_horizons_du"]]
    src = "bronze_b3_market_data/part"
    vert = sorted(i.tenor_du for i in INSTRUMENTS if i.kind == "di1")
    pos, why = _positions(inp, di)
    items: list[tuple[str, float, float | None]] = [(f"vertex {int(v)}du", float(v), None) for v in vert]
    if pos is not None:
        items += [(f"{r.instrument} {r.contract}", float(r.du), float(r.dv01_brl))
                  for r in cast("Iterable[Any]", pos.sort_values(["du", "instrument"], kind="mergesort").itertuples())]
    results = {h: carry_rolldown(x, y, [d for _, d, _ in items], h) for h in horizons}
    rows = []
    why_na = "matures within the horizon"
    for i, (name, d, dv01) in enumerate(items):
        row = [_c(name), _c(str(int(d))), _c(pct(results[horizons[0]]["rate"].iloc[i], 2))]
        for h in horizons:
            rr = results[h].iloc[i]
            tot = rr.carry_bp + rr.roll_bp if is_num(rr.carry_bp) and is_num(rr.roll_bp) else None
            brl = None if dv01 is None or tot is None else tot * dv01
            row += [figs.add("rates", f"{name} carry {h}du", rr.carry_bp, num(rr.carry_bp, 1, reason=why_na), src),
                    figs.add("rates", f"{name} roll-down {h}du", rr.roll_bp, num(rr.roll_bp, 1, reason=why_na), src),
                    _c(num(tot, 1, reason=why_na)),
                    figs.add("rates", f"{name} carry+roll {h}du BRL", brl,
                             num(brl, 0, reason="a vertex, not a position" if dv01 is None else why_na),
                             src + " + portfolio_sizing/part")]
        rows.append(row)
    heads = ["Vertex / position", "du", "Rate"]
    for h in horizons:
        heads += [f"Carry {h}du (bp)", f"Roll-down {h}du (bp)", f"Total {h}du (bp)", f"Total {h}du (BRL)"]
    sec.table(heads, rows, "Carry and roll-down of a receiver, curve unchanged (bp of rate; BRL = bp x the "
              "position's DV01)")
    if pos is None:
        sec.missing("portfolio_sizing/part", why + "; positions not shown")
        return
    if why:
        sec.missing("portfolio_sizing/part", why)
    if pos.empty:
        sec.p("No DI1 position in the model book: the DV01 ladder is empty.")
        return
    by_c, by_b = dv01_ladder(pos, params["dv01_buckets_years"])
    src2 = "portfolio_sizing/part"
    rows = [[_c(r.contract), _c(str(int(r.du))), _c(r.bucket), _c(f"{r.contracts:+,.0f}"),
             figs.add("rates", f"DV01 {r.contract}", r.dv01_brl, f"{r.dv01_brl:+,.0f}", src2)]
            for r in cast("Iterable[Any]", by_c.itertuples())]
    sec.table(["Contract", "du", "Bucket", "Contracts", "DV01 (BRL/bp)"], rows,
              "DV01 ladder by contract (BRL gained per 1 bp fall in the rate; + = receiver)")
    rows = [[_c(r.bucket), _c(f"{r.contracts:+,.0f}"),
             figs.add("rates", f"DV01 bucket {r.bucket}", r.dv01_brl, f"{r.dv01_brl:+,.0f}", src2)]
            for r in cast("Iterable[Any]", by_b.itertuples())]
    tot = float(by_b["dv01_brl"].sum())
    rows.append([_c("total"), _c(f"{by_b['contracts'].sum():+,.0f}"),
                 figs.add("rates", "DV01 total", tot, f"{tot:+,.0f}", src2)])
    sec.table(["Bucket", "Contracts", "DV01 (BRL/bp)"], rows, "DV01 ladder by maturity bucket")


def _levels_block(sec: Section, figs: Figures, inp: Inputs, session: dt.date, params: Mapping[str, Any],
                  curves: pd.DataFrame | None, b3: pd.DataFrame | None) -> None:
    if curves is None:
        sec.missing("silver_curves/part", inp.why("silver_curves"))
    else:
        src = "silver_curves/part"
        rows = []
        histories = _curve_histories(curves)
        # the DI_PRE tenor labels in order of first appearance (what unique() of its rows gives), then by du
        labels = sorted((lab for c, lab in histories if c == "DI_PRE"), key=lambda s: int(s.removesuffix("du")))
        dap = None if b3 is None else _session_contracts(b3, session, "DAP")
        first_dap = None if dap is None or dap.empty else int(dap["du"].min())
        empty = _curve_history(curves.iloc[:0], "DI_PRE", "")
        for curve, title in (("DI_PRE", "DI"), ("BR_REAL", "DAP real"), ("BR_BEI", "Breakeven")):
            if not any(c == curve for c, _ in histories):
                sec.missing(f"silver_curves/part {curve}", "no DAP settlements in the session's history"
                            if curve != "DI_PRE" else "no DI_PRE curve")
                continue
            for lab in labels:
                if curve != "DI_PRE" and first_dap is not None and int(lab.removesuffix("du")) < first_dap:
                    continue  # shorter than the first DAP maturity: a flat extrapolation, not a market rate
                hist = histories.get((curve, lab))
                ch = changes(empty if hist is None else hist, session)
                rows.append([_c(f"{title} {lab}"), *_change_cells(figs, f"{title} {lab}", ch, src, session)])
        sec.table(["Rate", "Level", "1 day", "1 week", "Month to date", "As of"], rows,
                  "DI, DAP real rates and breakevens ((1 + DI)/(1 + DAP) − 1 at matching du); changes in bp")
        if first_dap is not None:
            sec.p(f"Real rates and breakevens start at the first DAP maturity of the session ({first_dap} du); "
                  "shorter tenors would be extrapolated.")
    slopes = inp.get("silver_curves", "slopes")
    if slopes is None:
        sec.missing("silver_curves/slopes", inp.why("silver_curves", "slopes"))
        return
    slopes = slopes.assign(date=date_objects(slopes["date"]))
    rows = []
    by_name = rows_by_key(slopes["name"])  # each slope's rows, split once
    for name in params["slopes"]:
        s = series_by_key(slopes, "name", name, by_name, "date", "value")
        if s.empty:
            rows.append([_c(name), _c(na("not computed by silver_curves (add it to silver.slopes)")), _c(""),
                         _c(""), _c(""), _c("")])
            continue
        rows.append([_c(name), *_change_cells(figs, name, changes(s, session), "silver_curves/slopes", session)])
    sec.table(["Slope", "Level", "1 day", "1 week", "Month to date", "As of"], rows,
              "Curve slopes (long minus short, from silver_curves); changes in bp")


OTHER_MARKETS = (("USDBRL", "USDBRL", True), ("IBOV", "IBOV", True), ("SPX", "SPX", True),
                 ("UST 10Y", "UST_10Y", False))


def _other_markets_block(sec: Section, figs: Figures, inp: Inputs, session: dt.date) -> None:
    ret = inp.get("silver_returns")
    if ret is None:
        sec.missing("silver_returns/part", inp.why("silver_returns"))
        return
    ret = ret.assign(date=date_objects(ret["date"]))
    rows = []
    by_inst = rows_by_key(ret["instrument"])  # each instrument's rows, split once
    for name, inst, price in OTHER_MARKETS:
        sub = series_by_key(ret, "instrument", inst, by_inst, "date", "level")
        ch = changes(sub, session, relative=price)
        rows.append([_c(name), *_change_cells(figs, name, ch, "silver_returns/part", session, price=price)])
    prices = inp.get("silver_returns", "prices")
    if prices is not None:
        prices = prices.assign(date=date_objects(prices["date"]))
        vix = prices.loc[prices["series"] == "yahoo:^VIX"].set_index("date")["value"]
        rows.append([_c("VIX"), *_change_cells(figs, "VIX", changes(vix, session, relative=True),
                                               "silver_returns/prices", session, price=True)])
    sec.table(["Market", "Level", "1 day", "1 week", "Month to date", "As of"], rows,
              "The other markets of the snapshot: 1-day, 1-week and month-to-date changes (prices in %, UST in bp)")


def rates_section(inp: Inputs, figs: Figures, session: dt.date, params: Mapping[str, Any] | None = None) -> Section:
    """The "Rates desk" section: COPOM path, levels and changes, slopes, carry/roll-down, DV01 ladder.

    Parameters
    ----------
    inp : Inputs
        The report's loaded inputs (bronze_b3_market_data, silver_curves, silver_macro, portfolio_sizing).
    figs : Figures
        Figure registry of the report.
    session : datetime.date
        The report's session.
    params : mapping, optional
        ``report.rates`` (declared defaults, :mod:`brmacro.params.report`, for keys not given).
    """
    p = resolve("report.rates", params)
    sec = Section("rates", "Rates desk")
    for a in ("bronze_b3_market_data", "bronze_bcb_sgs"):
        if a in inp.stale:
            sec.p(f"STALE input {a}: {inp.stale[a]}. The figures below that use it are as of that cache.")
    curves = inp.get("silver_curves")
    if curves is not None:
        curves = curves.assign(date=date_objects(curves["date"]))
        curves = curves.loc[curves["date"] <= session]
    b3 = inp.get("bronze_b3_market_data")
    if b3 is not None:  # the session's rows once: each block's _session_contracts filters them again (a no-op)
        b3 = b3.loc[dates_on(b3["trade_date"], session).to_numpy()]
    # the session's DI1 contracts once for the COPOM path and the carry (each block its own copy)
    di = None if b3 is None else _session_contracts(b3, session, "DI1")
    _copom_block(sec, figs, inp, session, p, b3, None if di is None else di.copy())
    _levels_block(sec, figs, inp, session, p, curves, b3)
    _other_markets_block(sec, figs, inp, session)
    _carry_block(sec, figs, inp, session, p, curves, b3, di)
    return sec
