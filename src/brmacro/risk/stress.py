"""Stress tests of the model book: hypothetical scenarios, reverse stress and historical replay.

Conventions
-----------
* Weights are signed NAV fractions in the price convention (a DI1 receiver is long, ``w > 0``).
* A **price** shock ``s`` (a fractional move of the instrument's price) gives ``P&L = w s``.
* A **yield** shock ``dy`` (decimal per year, +200 bp = 0.02) **reprices** the instrument from the
  shocked yield: ``P&L = w (P(y + dy) / P(y) - 1)``. A DI1 point of ``du`` business days at the DI_PRE
  zero rate ``r`` of the session: ``P = PU = 100,000 (1 + r)^(-du/252)``
  (:func:`brmacro.instruments.di1_pu`); the UST 10Y point (ZN) at the session's UST_NOM 10Y par
  yield: ``P`` = the ZN notional 6 % 10-year note (:func:`brmacro.portfolio.sizing.zn_price`). The
  first-order (duration) P&L ``-D w dy`` is kept in the note for comparison: at +500 bp it overstates
  a DI1 receiver's loss (the PU is convex in the rate).
* A yield shock is **parallel** (a number) or a **curve**: ``{du: [...], dy: [...]}`` (linear in du
  between the points, flat beyond them), or a **front shock fading along the curve**
  ``{front: s, fade_years: T}``: ``dy(n) = s (1 - e^(-x)) / x`` with ``x = (n/252) / T``. That is the
  zero-rate move when the expected overnight path moves by ``s e^(-t/T)`` (a surprise that decays with
  mean life ``T`` years; the Nelson-Siegel slope loading): at ``T = 1`` a +100 bp COPOM surprise moves
  the 1Y by 63 bp, the 2Y by 43 bp, the 5Y by 20 bp and the 10Y by 10 bp.
* Scenario shocks and the factor -> instrument mapping are config (``risk.stress``). A held instrument
  that no shocked factor of a scenario maps to is *unmapped*: it contributes nothing and its |weight|
  is reported, never silently treated as hedged. A scenario may name the replay ``window`` its
  magnitudes come from: the note then gives the moves realised in that window on this history.
* Reverse stress: the smallest multiple ``k`` of a scenario's shocks whose repriced P&L loses
  ``reverse_loss`` of NAV (solved numerically: P&L is not linear in yield shocks); infeasible when no
  multiple up to ``reverse_search_max`` loses it or the book has no exposure to it.
* Replay: ``P&L = sum_i w_i (prod_t (1 + r_it) - 1)`` over the window's sessions after its first one
  (the move from the close of its first session to the close of its last), from the ``silver_returns`` matrix
  and, for windows older than its lookback, its ``crisis`` table. A session counts when every held
  instrument has a return; coverage is that count over the B3 sessions of the window after its first.
  No session present: null P&L, "window not in history".
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from brmacro.calendar import sessions_between
from brmacro.covariance import returns_matrix, session_matrix
from brmacro.instruments import by_name, di1_pu
from brmacro.io import date_objects, dates_on
from brmacro.params import resolve
from brmacro.portfolio.sizing import zn_price
from brmacro.risk._common import RiskInputError, check_weights

__all__ = [
    "ReplayResult",
    "ScenarioResult",
    "compute_stress",
    "di1_modified_duration",
    "history_matrices",
    "instrument_durations",
    "instrument_rates",
    "rate_at_tenor",
    "reprice",
    "repricer",
    "replay_window",
    "reverse_multiplier",
    "scenario_pnl",
    "scenario_pnl_function",
    "window_moves",
    "yield_shock_at",
]



#: The reverse stress searches multiples up to this factor times ``reverse_max_multiplier``.
_SEARCH_FACTOR = 20.0


@dataclass(frozen=True)
class ScenarioResult:
    """P&L of one hypothetical scenario on the book.

    Attributes
    ----------
    pnl : float
        Total P&L, NAV fraction (negative = loss), yield shocks fully repriced.
    by_instrument : Series
        P&L per held instrument (0 for unmapped ones).
    unmapped : list of str
        Held instruments the scenario has no shock for.
    unmapped_exposure : float
        Sum of their |weights|.
    exposed : bool
        Whether any held instrument receives a shock.
    first_order : float
        The same scenario through modified duration (``-D w dy``) for the yield shocks.
    """

    pnl: float
    by_instrument: pd.Series
    unmapped: list[str]
    unmapped_exposure: float
    exposed: bool
    first_order: float = float("nan")


@dataclass(frozen=True)
class ReplayResult:
    """Replay of one crisis window on today's weights (``pnl``/``worst_pnl`` None when not in history)."""

    pnl: float | None
    worst_pnl: float | None
    n_sessions: int
    coverage: float
    note: str


def di1_modified_duration(rate: float, tenor_du: float) -> float:
    """Modified duration of a DI1 point: ``(du/252) / (1 + r)`` in years (rate decimal per year)."""
    if not np.isfinite(rate) or rate <= -1.0:
        raise RiskInputError(f"DI1 duration: rate {rate!r} is not a usable decimal rate")
    return (float(tenor_du) / 252.0) / (1.0 + float(rate))


def rate_at_tenor(curves: pd.DataFrame, asof: dt.date, curve: str, tenor_du: int) -> float:
    """Zero rate of ``curve`` at ``tenor_du`` on ``asof`` (linear in du between standard tenors).

    Raises
    ------
    RiskInputError
        When the curve has no points on ``asof`` or ``tenor_du`` is outside them.
    """
    c = curves.loc[dates_on(curves["date"], asof) & (curves["curve"] == curve)]
    c = c.dropna(subset=["rate"]).sort_values("tenor_du")
    if c.empty:
        raise RiskInputError(f"silver_curves has no {curve} points on {asof.isoformat()}")
    x = c["tenor_du"].to_numpy(dtype=float)
    y = c["rate"].to_numpy(dtype=float)
    if not x[0] <= tenor_du <= x[-1]:
        raise RiskInputError(
            f"silver_curves {curve} on {asof.isoformat()} spans {int(x[0])}..{int(x[-1])} du; "
            f"{tenor_du} du is outside it"
        )
    return float(np.interp(float(tenor_du), x, y))


def _tenor_du(name: str) -> int:
    """Tenor of a rates instrument in du: the DI1 constant maturity; the UST point at 10 years (2520 du)."""
    ins = by_name(name)
    return int(ins.tenor_du) if ins.kind == "di1" else 10 * 252


def instrument_rates(instruments: Sequence[str], curves: pd.DataFrame | None, asof: dt.date) -> dict[str, float]:
    """The session's yield of each rates instrument (decimal per year), the level its shocks reprice from.

    DI1 points: the DI_PRE zero rate at their du; UST_10Y: the UST_NOM 10Y par yield. Other
    instruments are not listed.

    Raises
    ------
    RiskInputError
        When the curves are missing or do not cover the instrument's tenor on ``asof``.
    """
    out: dict[str, float] = {}
    if curves is not None and any(by_name(n).kind in ("di1", "ust") for n in instruments):
        curves = curves.loc[dates_on(curves["date"], asof)]  # the session only, once
    for name in instruments:
        ins = by_name(name)
        if ins.kind not in ("di1", "ust"):
            continue
        if curves is None:
            raise RiskInputError(f"yield of {name}: no silver_curves given")
        curve = "DI_PRE" if ins.kind == "di1" else "UST_NOM"
        out[name] = rate_at_tenor(curves, asof, curve, _tenor_du(name))
    return out


def instrument_durations(
    instruments: Sequence[str], curves: pd.DataFrame | None, asof: dt.date
) -> dict[str, float]:
    """Modified duration (years) of each rates instrument at the session's yield (first-order comparison).

    DI1 points: ``(du/252)/(1+r)``; UST_10Y: ``-P'(y)/P(y)`` of the ZN notional note at the 10Y yield.
    """
    rates = instrument_rates(instruments, curves, asof)
    return {k: _duration(k, v) for k, v in rates.items()}


def _duration(name: str, rate: float) -> float:
    ins = by_name(name)
    if ins.kind == "di1":
        return di1_modified_duration(rate, ins.tenor_du)
    h = 1e-6
    return -(zn_price(rate + h) - zn_price(rate - h)) / (2 * h) / zn_price(rate)


def reprice(name: str, rate: float, dy: float) -> float:
    """Price return ``P(rate + dy) / P(rate) - 1`` of a rates instrument (DI1 PU or ZN notional note).

    Raises
    ------
    RiskInputError
        When the shocked rate is not above -100 % (no price), or the instrument is not a rates one.
    """
    return repricer(name, rate)(dy)


def repricer(name: str, rate: float) -> Callable[[float], float]:
    """``dy -> reprice(name, rate, dy)`` with the instrument and the price at ``rate`` looked up once.

    The price at ``rate`` is the same number at every call, so the reverse stress's hundreds of evaluations
    of one instrument compute it once; each call does the shocked price and the checks, in the same order.
    """
    ins = by_name(name)
    ok = bool(np.isfinite(rate)) and rate > -1.0
    base: Any = None
    kind = ins.kind
    rate_f = float(rate)
    if ok and kind == "di1":
        base = di1_pu(rate, ins.tenor_du)
    elif ok and kind == "ust":
        base = zn_price(rate_f)

    def at(dy: float) -> float:
        shocked = rate_f + float(dy)
        if not math.isfinite(shocked) or shocked <= -1.0 or not ok:
            raise RiskInputError(f"stress: {name} at {rate:.4%} shocked by {dy * 1e4:+.0f} bp has no price")
        if kind == "di1":
            return float(di1_pu(shocked, ins.tenor_du) / base) - 1.0
        if kind == "ust":
            return float(zn_price(shocked) / base - 1.0)
        raise RiskInputError(f"stress: yield shock on {name}, which is not a rates instrument")

    return at


def yield_shock_at(spec: Any, tenor_du: float) -> float:
    """The yield change (decimal per year) a yield-factor shock gives at ``tenor_du`` business days.

    Parameters
    ----------
    spec : float or mapping
        A number (parallel); ``{"du": [...], "dy": [...]}`` (linear in du between the points, flat
        beyond); or ``{"front": s, "fade_years": T}`` (``s (1 - e^-x) / x``, ``x = du / 252 / T``).

    Raises
    ------
    RiskInputError
        For any other form.
    """
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        return float(spec)
    if isinstance(spec, Mapping) and set(spec) == {"du", "dy"}:
        x = np.asarray(spec["du"], dtype=float)
        y = np.asarray(spec["dy"], dtype=float)
        if x.ndim != 1 or len(x) == 0 or x.shape != y.shape or not bool(np.all(np.diff(x) > 0)):
            raise RiskInputError(f"stress: curve shock {dict(spec)!r} needs increasing du and one dy per du")
        return float(np.interp(float(tenor_du), x, y))
    if isinstance(spec, Mapping) and set(spec) == {"front", "fade_years"}:
        t = float(spec["fade_years"])
        if not t > 0:
            raise RiskInputError(f"stress: fade_years must be positive, got {t}")
        years = float(tenor_du) / 252.0 / t
        return float(spec["front"]) * (1.0 if years == 0 else -np.expm1(-years) / years)
    raise RiskInputError(f"stress: yield shock {spec!r} is neither a number, {{du, dy}} nor {{front, fade_years}}")


def _shock_text(factor: str, kind: str, spec: Any) -> str:
    if kind == "price":
        return f"{factor} {float(spec):+.2%}"
    if isinstance(spec, Mapping) and "dy" in spec:
        pts = "/".join(f"{int(d)}du {float(v) * 1e4:+.0f}" for d, v in zip(spec["du"], spec["dy"], strict=True))
        return f"{factor} curve {pts} bp"
    if isinstance(spec, Mapping) and "front" in spec:
        return f"{factor} front {float(spec['front']) * 1e4:+.0f}bp fading (mean life {float(spec['fade_years']):g}y)"
    return f"{factor} {float(spec) * 1e4:+.0f}bp"


def scenario_pnl(
    weights: pd.Series,
    shocks: Mapping[str, Any],
    factors: Mapping[str, Mapping[str, Any]],
    rates: Mapping[str, float],
) -> ScenarioResult:
    """P&L of a scenario on signed weights, yield shocks fully repriced.

    Parameters
    ----------
    weights : Series
        Signed NAV-fraction weights by instrument.
    shocks : mapping
        Factor -> shock (price factors: fractional price move; yield factors: see :func:`yield_shock_at`).
    factors : mapping
        Factor -> ``{"type": "price"|"yield", "instruments": [...]}``.
    rates : mapping
        Instrument -> the session's yield (needed for every held instrument a yield factor maps).

    Raises
    ------
    RiskInputError
        For an unknown factor or factor type, or a yield shock on an instrument with no yield.
    """
    held = weights[weights != 0]
    pnl = pd.Series(0.0, index=held.index, dtype=float)
    first = 0.0
    mapped: set[str] = set()
    for factor, shock in shocks.items():
        if factor not in factors:
            raise RiskInputError(f"stress: shock on unknown factor {factor!r}; known: {sorted(factors)}")
        spec = factors[factor]
        kind = spec.get("type")
        if kind not in ("price", "yield"):
            raise RiskInputError(f"stress: factor {factor!r} has type {kind!r}, expected price or yield")
        for inst in spec.get("instruments", []):
            if inst not in held.index:
                continue
            w = float(held[inst])
            if kind == "price":
                pnl[inst] += w * float(shock)
                first += w * float(shock)
            else:
                if inst not in rates:
                    raise RiskInputError(f"stress: yield shock on {inst} but it has no yield on the session")
                dy = yield_shock_at(shock, _tenor_du(str(inst)))
                pnl[inst] += w * reprice(str(inst), rates[inst], dy)
                first += -_duration(str(inst), rates[inst]) * w * dy
            mapped.add(str(inst))
    unmapped = sorted(str(i) for i in held.index if i not in mapped)
    return ScenarioResult(
        pnl=float(pnl.sum()),
        by_instrument=pnl,
        unmapped=unmapped,
        unmapped_exposure=float(held.loc[unmapped].abs().sum()) if unmapped else 0.0,
        exposed=bool(mapped),
        first_order=float(first),
    )


def scenario_pnl_function(
    weights: pd.Series, shocks: Mapping[str, Any], factors: Mapping[str, Mapping[str, Any]], rates: Mapping[str, float]
) -> Callable[[float], float]:
    """``k -> P&L of k x the scenario's shocks`` (repriced), for the reverse stress.

    Equals ``scenario_pnl(weights, k x shocks, ...).pnl``; the shocks are resolved at each instrument's
    tenor once, so one evaluation costs a few float operations per held instrument.
    """
    held = weights[weights != 0]
    linear = 0.0
    rate_terms: list[tuple[Callable[[float], float], float, float]] = []
    for factor, shock in shocks.items():
        if factor not in factors:
            raise RiskInputError(f"stress: shock on unknown factor {factor!r}; known: {sorted(factors)}")
        spec = factors[factor]
        for inst in spec.get("instruments", []):
            if inst not in held.index:
                continue
            w = float(held[inst])
            if spec.get("type") == "price":
                linear += w * float(shock)
            else:
                if inst not in rates:
                    raise RiskInputError(f"stress: yield shock on {inst} but it has no yield on the session")
                rate_terms.append((repricer(str(inst), rates[inst]), w, yield_shock_at(shock, _tenor_du(str(inst)))))

    def pnl_at(k: float) -> float:
        return k * linear + sum(w * price(k * dy) for price, w, dy in rate_terms)

    return pnl_at


def reverse_multiplier(
    pnl: float | Callable[[float], float], exposed: bool, loss: float, max_multiplier: float
) -> tuple[float | None, str]:
    """The smallest multiple ``k > 0`` of a scenario whose P&L loses ``loss`` of NAV.

    Parameters
    ----------
    pnl : float or callable
        The scenario's P&L at ``k = 1`` when it is linear in the shocks (then ``k = loss / -pnl``), or
        ``k -> P&L of k x the shocks`` (solved numerically: a grid up to ``20 x max_multiplier``, then
        Brent's method on the first bracket).
    exposed : bool
        Whether the book has any exposure to the scenario.
    loss : float
        Positive NAV fraction.
    max_multiplier : float
        Multiples above it are flagged as beyond the plausible range.

    Returns
    -------
    (multiplier, note)
        ``None`` and the reason when no multiple loses ``loss``.
    """
    if not exposed:
        return None, "infeasible: the book has no exposure to this scenario's shocks"
    if not callable(pnl):
        if pnl >= 0.0:
            return None, f"infeasible: the scenario makes money ({pnl:+.4%} of NAV), no multiple of it loses"
        k = loss / -pnl
        note = f"k = {loss:.2%} / {-pnl:.4%}: {k:.3f}x the scenario's shocks lose {loss:.0%} of NAV"
    else:
        f = pnl
        top = _SEARCH_FACTOR * max_multiplier
        grid = np.concatenate([np.linspace(0.0, max_multiplier, 201)[1:],
                               np.geomspace(max_multiplier, top, 101)[1:]])
        prev, found = 0.0, None
        for g in grid:
            try:
                v = f(float(g))
            except RiskInputError:
                break  # a yield shocked below -100 %: larger multiples have no price either
            if v <= -loss:
                found = float(g)
                break
            prev = float(g)
        if found is None:
            return None, (f"infeasible: no multiple up to {top:g}x of the scenario loses {loss:.0%} of NAV "
                          f"(P&L at 1x {f(1.0):+.4%})")
        k = found if f(found) == -loss else float(brentq(lambda x: f(x) + loss, prev, found, xtol=1e-12, rtol=1e-12))
        note = f"{k:.3f}x the scenario's shocks lose {loss:.0%} of NAV (full repricing, solved numerically)"
    if k > max_multiplier:
        note += f"; beyond the plausible range (> {max_multiplier:g}x)"
    return k, note


def replay_window(
    mat: pd.DataFrame, weights: pd.Series, start: dt.date, end: dt.date, asof: dt.date
) -> ReplayResult:
    """Apply the window's cumulative returns to today's weights: from the close of its first session to its end."""
    days = sessions_between(start, end)
    expected = days[1:]
    if start > asof:
        return ReplayResult(None, None, 0, 0.0, f"window starts after the session {asof.isoformat()}")
    base = days[0] if days else start
    held = [str(i) for i in weights.index[weights.to_numpy() != 0]]
    missing = [i for i in held if i not in mat.columns]
    sub = mat.loc[(mat.index > base) & (mat.index <= min(end, asof))]
    if held and not missing:
        sub = sub.loc[:, held].dropna()
    elif not held:
        sub = sub.dropna(how="all")
    else:
        sub = sub.iloc[0:0]
    n = len(sub)
    coverage = n / len(expected) if expected else 0.0
    if n == 0:
        span = f"{mat.index[0]}..{mat.index[-1]}" if len(mat) else "empty"
        why = f"; no returns at all for {missing}" if missing else ""
        return ReplayResult(None, None, 0, 0.0, f"window not in history (returns cover {span}){why}")
    if not held:
        return ReplayResult(0.0, 0.0, n, min(coverage, 1.0), "flat book")
    w = weights.loc[held].to_numpy(dtype=float)
    growth = np.cumprod(1.0 + sub.to_numpy(dtype=float), axis=0) - 1.0
    path = growth @ w
    notes = []
    if n < len(expected):
        notes.append(f"partial: {n} of {len(expected)} sessions present")
    if end > asof:
        notes.append(f"window ends after the session {asof.isoformat()}")
    notes.append(f"returns of {sub.index[0]}..{sub.index[-1]} (from the close of {base})")
    return ReplayResult(float(path[-1]), float(path.min()), n, min(coverage, 1.0), "; ".join(notes))


def window_moves(levels: pd.DataFrame, start: dt.date, end: dt.date) -> dict[str, float]:
    """What each instrument's level did over a window: from the first to the last session present in it.

    Parameters
    ----------
    levels : DataFrame
        Session x instrument levels (yields for rates instruments, prices otherwise).
    start, end : datetime.date
        The window.

    Returns
    -------
    dict
        Instrument -> yield change (decimal) for rates instruments, fractional price change otherwise;
        instruments without two levels in the window are left out.
    """
    sub = levels.loc[(levels.index >= start) & (levels.index <= end)]
    out: dict[str, float] = {}
    for name in sub.columns:
        s = sub[name].dropna()
        if len(s) < 2:
            continue
        kind = by_name(str(name)).kind
        a, b = float(s.iloc[0]), float(s.iloc[-1])
        out[str(name)] = b - a if kind in ("di1", "ust") else b / a - 1.0
    return out


def _moves_text(moves: Mapping[str, float]) -> str:
    parts = []
    for name in sorted(moves):
        kind = by_name(name).kind
        parts.append(f"{name} {moves[name] * 1e4:+.0f}bp" if kind in ("di1", "ust") else f"{name} {moves[name]:+.1%}")
    return ", ".join(parts)


def _date(v: Any) -> dt.date:
    return v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v))


def history_matrices(returns: pd.DataFrame, crisis: pd.DataFrame | None, asof: dt.date) -> tuple[
        pd.DataFrame, pd.DataFrame]:
    """Returns and levels (session x instrument) of the lookback, completed by the crisis windows.

    The lookback's value wins where both have one (the crisis table's first session of a window has
    no return).
    """
    mat = returns_matrix(returns, asof)
    lv = _level_matrix(returns, asof)
    if crisis is not None and len(crisis):
        c = crisis.drop_duplicates(["date", "instrument"], keep="first")
        mat = mat.combine_first(returns_matrix(c, asof))
        lv = lv.combine_first(_level_matrix(c, asof))
    return mat, lv


def _level_matrix(df: pd.DataFrame, asof: dt.date) -> pd.DataFrame:
    if "level" not in df.columns:
        return pd.DataFrame()
    fast = session_matrix(df, "level", asof, repeats="first")  # a table as read: one factorization of its keys
    if fast is not None:
        return fast
    x = df.loc[:, ["date", "instrument", "level"]].copy()
    x["date"] = date_objects(x["date"])
    x = x[x["date"] <= asof].drop_duplicates(["date", "instrument"], keep="first")
    m = x.pivot(index="date", columns="instrument", values="level").astype(float).sort_index()
    m.columns.name = None
    return m


def compute_stress(
    weights: pd.Series,
    returns: pd.DataFrame,
    curves: pd.DataFrame | None,
    asof: dt.date,
    params: Mapping[str, Any] | None = None,
    crisis: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Scenario, reverse-stress and replay tables of today's book.

    Parameters
    ----------
    weights : Series
        Signed weights by instrument (NAV fractions).
    returns : DataFrame
        The long ``silver_returns`` table.
    curves : DataFrame or None
        The ``silver_curves`` table (DI_PRE / UST_NOM on ``asof`` are needed when a rates point is held).
    asof : datetime.date
        The session.
    params : mapping, optional
        The ``risk.stress`` config subtree.
    crisis : DataFrame, optional
        The ``silver_returns.crisis`` table (returns and levels of the crisis windows).

    Returns
    -------
    (scenarios, reverse, replay)
        Frames with the columns of the risk_stress tables except ``date``.
    """
    p = resolve("risk.stress", params)
    w = check_weights(weights, f"risk_stress {asof.isoformat()}")
    held = [str(i) for i in w.index[w.to_numpy() != 0]]
    factors: Mapping[str, Mapping[str, Any]] = p["factors"]
    yield_insts = sorted({i for f in factors.values() if f.get("type") == "yield" for i in f.get("instruments", [])})
    rates = instrument_rates([i for i in yield_insts if i in held], curves, asof)
    rate_note = ", ".join(f"{k} {v:.2%}" for k, v in sorted(rates.items()))
    mat, levels = history_matrices(returns, crisis, asof)
    windows = {str(win["name"]): (_date(win["start"]), _date(win["end"])) for win in p["replay_windows"]}
    srows: list[dict[str, Any]] = []
    rrows: list[dict[str, Any]] = []
    for name, spec in sorted(p["scenarios"].items()):
        shocks = dict(spec["shocks"])
        res = scenario_pnl(w, shocks, factors, rates)
        losers = res.by_instrument[res.by_instrument < 0]
        worst = str(losers.idxmin()) if len(losers) else ""
        shock_txt = ", ".join(_shock_text(k, factors[k]["type"], v) for k, v in shocks.items())
        note = f"{spec.get('period', '')}: {shock_txt}"
        if rates:
            note += f"; repriced from {rate_note}; first-order (duration) P&L {res.first_order:+.4%}"
        if res.unmapped:
            note += f"; unmapped: {', '.join(res.unmapped)}"
        win = spec.get("window")
        if win:
            if win not in windows:
                raise RiskInputError(f"stress: scenario {name} names window {win!r}, not a replay window")
            ws, we = windows[win]
            moves = window_moves(levels, ws, min(we, asof)) if ws <= asof else {}
            note += (f"; realised in {win} on this history: {_moves_text(moves)}" if moves
                     else f"; window {win} not in history")
        srows.append({
            "scenario": name,
            "kind": "hypothetical",
            "pnl": res.pnl,
            "worst_instrument": worst,
            "worst_pnl": float(losers.min()) if len(losers) else 0.0,
            "unmapped_exposure": res.unmapped_exposure,
            "note": note,
        })
        k, knote = reverse_multiplier(scenario_pnl_function(w, shocks, factors, rates), res.exposed,
                                      float(p["reverse_loss"]), float(p["reverse_max_multiplier"]))
        rrows.append({"scenario": name, "multiplier": k, "note": knote})
    prows: list[dict[str, Any]] = []
    for wname, (start, end) in windows.items():
        if start > end:
            raise RiskInputError(f"replay window {wname}: start {start} after end {end}")
        rr = replay_window(mat, w, start, end, asof)
        prows.append({
            "window": wname, "start": start, "end": end, "pnl": rr.pnl, "worst_pnl": rr.worst_pnl,
            "n_sessions": rr.n_sessions, "coverage": rr.coverage, "note": rr.note,
        })
    return pd.DataFrame(srows), pd.DataFrame(rrows), pd.DataFrame(prows)
