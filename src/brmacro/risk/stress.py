"""Stress tests of the model book: hypothetical scenarios, reverse stress and historical replay.

Conventions
-----------
* Weights are signed NAV fractions in the price convention (a DI1 receiver is long, ``w > 0``).
* A **price** shock ``s`` (a fractional move of the instrument's price) gives ``P&L = w s``.
* A **yield** shock ``dy`` (decimal per year, +200 bp = 0.02) gives the first-order
  ``P&L = -D w dy`` with the modified duration ``D``: for a DI1 point
  ``D = (du/252) / (1 + r)`` with ``r`` the DI_PRE zero rate at that du on the session
  (``-dPU/dr / PU`` of ``PU = 100,000 (1 + r)^(-du/252)``); for a UST point the instrument table's
  duration. So a receiver loses when rates rise.
* Scenario shocks and the factor -> instrument mapping are config (``risk.stress``). A held instrument
  that no shocked factor of a scenario maps to is *unmapped*: it contributes nothing and its |weight|
  is reported, never silently treated as hedged.
* Reverse stress: P&L is linear in the shocks, so the multiple ``k`` of a scenario that loses
  ``reverse_loss`` of NAV is exactly ``reverse_loss / -P&L``; infeasible when the scenario makes money
  or the book has no exposure to it.
* Replay: ``P&L = sum_i w_i (prod_t (1 + r_it) - 1)`` over the window's sessions present in the
  returns matrix (a session counts when every held instrument has a return); coverage is that count
  over the B3 sessions of the window. No session present: null P&L, "window not in history".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from brmacro.calendar import sessions_between
from brmacro.instruments import by_name
from brmacro.risk._common import RiskInputError, check_weights, returns_matrix

__all__ = [
    "DEFAULTS",
    "ReplayResult",
    "ScenarioResult",
    "compute_stress",
    "di1_modified_duration",
    "instrument_durations",
    "rate_at_tenor",
    "replay_window",
    "reverse_multiplier",
    "scenario_pnl",
]

_DI_FACTORS = ("DI1_1Y", "DI1_2Y", "DI1_5Y", "DI1_10Y")

#: Defaults of the ``risk.stress`` config subtree (Part B §10.2 scenarios; the config file repeats them).
DEFAULTS: dict[str, Any] = {
    "reverse_loss": 0.10,
    "reverse_max_multiplier": 5.0,
    "factors": {
        "USDBRL": {"type": "price", "instruments": ["USDBRL"]},
        "DI_PRE": {"type": "yield", "instruments": list(_DI_FACTORS)},
        "NTN_B_REAL": {"type": "price", "instruments": []},
        "IBOVESPA": {"type": "price", "instruments": ["IBOV"]},
        "SP500": {"type": "price", "instruments": ["SPX"]},
        "OIL": {"type": "price", "instruments": []},
        "UST_NOM": {"type": "yield", "instruments": ["UST_10Y"]},
        "CDS_BR": {"type": "price", "instruments": []},
    },
    "scenarios": {
        "taper_tantrum_2013": {
            "period": "May-Aug 2013",
            "shocks": {"USDBRL": 0.15, "DI_PRE": 0.02, "NTN_B_REAL": -0.08, "IBOVESPA": -0.15, "UST_NOM": 0.01},
        },
        "br_crisis_2015": {
            "period": "Sep 2015-Feb 2016",
            "shocks": {"USDBRL": 0.30, "DI_PRE": 0.04, "NTN_B_REAL": -0.15, "IBOVESPA": -0.25},
        },
        "covid_2020": {
            "period": "Feb-Mar 2020",
            "shocks": {"USDBRL": 0.20, "DI_PRE": 0.02, "IBOVESPA": -0.35, "SP500": -0.30, "OIL": -0.50},
        },
        "rate_shock_2022": {
            "period": "Oct-Nov 2022",
            "shocks": {"USDBRL": 0.25, "DI_PRE": 0.05, "NTN_B_REAL": -0.12},
        },
        "br_fiscal_crisis": {
            "period": "Sep 2015-Mar 2016 (2015 magnitude)",
            "shocks": {"USDBRL": 0.25, "DI_PRE": 0.035, "NTN_B_REAL": -0.10, "IBOVESPA": -0.18, "CDS_BR": 0.40},
        },
        "global_risk_off": {
            "period": "Feb-Mar 2020 (COVID magnitude)",
            "shocks": {"USDBRL": 0.20, "DI_PRE": 0.015, "IBOVESPA": -0.30, "SP500": -0.25, "OIL": -0.40,
                       "UST_NOM": -0.005, "CDS_BR": 0.30},
        },
    },
    "replay_windows": [
        {"name": "taper_tantrum_2013", "start": "2013-05-22", "end": "2013-08-30"},
        {"name": "br_crisis_2015", "start": "2015-09-01", "end": "2016-02-29"},
        {"name": "covid_2020", "start": "2020-02-20", "end": "2020-03-31"},
        {"name": "rate_shock_2022", "start": "2022-10-01", "end": "2022-11-30"},
    ],
}


@dataclass(frozen=True)
class ScenarioResult:
    """P&L of one hypothetical scenario on the book.

    Attributes
    ----------
    pnl : float
        Total P&L, NAV fraction (negative = loss).
    by_instrument : Series
        P&L per held instrument (0 for unmapped ones).
    unmapped : list of str
        Held instruments the scenario has no shock for.
    unmapped_exposure : float
        Sum of their |weights|.
    exposed : bool
        Whether any held instrument receives a shock.
    """

    pnl: float
    by_instrument: pd.Series
    unmapped: list[str]
    unmapped_exposure: float
    exposed: bool


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
    c = curves.loc[(pd.to_datetime(curves["date"]).dt.date == asof) & (curves["curve"] == curve)]
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


def instrument_durations(
    instruments: Sequence[str], curves: pd.DataFrame | None, asof: dt.date
) -> dict[str, float]:
    """Modified duration (years) of each rates instrument, for yield shocks.

    DI1 points from the DI_PRE curve of the session at their constant du; UST points from the
    instrument table. Other instruments are not listed.
    """
    out: dict[str, float] = {}
    for name in instruments:
        ins = by_name(name)
        if ins.kind == "di1":
            if curves is None:
                raise RiskInputError(f"DI1 duration of {name}: no silver_curves given")
            r = rate_at_tenor(curves, asof, "DI_PRE", ins.tenor_du)
            out[name] = di1_modified_duration(r, ins.tenor_du)
        elif ins.kind == "ust":
            out[name] = float(ins.duration)
    return out


def scenario_pnl(
    weights: pd.Series,
    shocks: Mapping[str, float],
    factors: Mapping[str, Mapping[str, Any]],
    durations: Mapping[str, float],
) -> ScenarioResult:
    """First-order P&L of a scenario on signed weights.

    Parameters
    ----------
    weights : Series
        Signed NAV-fraction weights by instrument.
    shocks : mapping
        Factor -> shock (price factors: fractional price move; yield factors: decimal yield change).
    factors : mapping
        Factor -> ``{"type": "price"|"yield", "instruments": [...]}``.
    durations : mapping
        Instrument -> modified duration in years (needed for every held instrument a yield factor maps).

    Raises
    ------
    RiskInputError
        For an unknown factor or factor type, or a yield shock on an instrument with no duration.
    """
    held = weights[weights != 0]
    pnl = pd.Series(0.0, index=held.index, dtype=float)
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
            else:
                if inst not in durations:
                    raise RiskInputError(f"stress: yield shock on {inst} but it has no duration")
                pnl[inst] += -durations[inst] * w * float(shock)
            mapped.add(str(inst))
    unmapped = sorted(str(i) for i in held.index if i not in mapped)
    return ScenarioResult(
        pnl=float(pnl.sum()),
        by_instrument=pnl,
        unmapped=unmapped,
        unmapped_exposure=float(held.loc[unmapped].abs().sum()) if unmapped else 0.0,
        exposed=bool(mapped),
    )


def reverse_multiplier(pnl: float, exposed: bool, loss: float, max_multiplier: float) -> tuple[float | None, str]:
    """The multiple of a scenario that loses ``loss`` of NAV (P&L is linear in the shocks).

    Returns
    -------
    (multiplier, note)
        ``loss / -pnl`` when the scenario loses; ``None`` and the reason otherwise.
    """
    if not exposed:
        return None, "infeasible: the book has no exposure to this scenario's shocks"
    if pnl >= 0.0:
        return None, f"infeasible: the scenario makes money ({pnl:+.4%} of NAV), no multiple of it loses"
    k = loss / -pnl
    note = f"k = {loss:.2%} / {-pnl:.4%}: {k:.3f}x the scenario's shocks lose {loss:.0%} of NAV"
    if k > max_multiplier:
        note += f"; beyond the plausible range (> {max_multiplier:g}x)"
    return k, note


def replay_window(
    mat: pd.DataFrame, weights: pd.Series, start: dt.date, end: dt.date, asof: dt.date
) -> ReplayResult:
    """Apply the window's cumulative returns, from the sessions present, to today's weights."""
    expected = sessions_between(start, end)
    if start > asof:
        return ReplayResult(None, None, 0, 0.0, f"window starts after the session {asof.isoformat()}")
    held = [str(i) for i in weights.index[weights.to_numpy() != 0]]
    missing = [i for i in held if i not in mat.columns]
    sub = mat.loc[(mat.index >= start) & (mat.index <= min(end, asof))]
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
        return ReplayResult(None, None, 0, 0.0, f"window not in history (returns matrix covers {span}){why}")
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
    notes.append(f"sessions {sub.index[0]}..{sub.index[-1]}")
    return ReplayResult(float(path[-1]), float(path.min()), n, min(coverage, 1.0), "; ".join(notes))


def _params(p: Mapping[str, Any] | None) -> dict[str, Any]:
    out = dict(DEFAULTS)
    out.update(dict(p or {}))
    return out


def _date(v: Any) -> dt.date:
    return v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v))


def compute_stress(
    weights: pd.Series,
    returns: pd.DataFrame,
    curves: pd.DataFrame | None,
    asof: dt.date,
    params: Mapping[str, Any] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Scenario, reverse-stress and replay tables of today's book.

    Parameters
    ----------
    weights : Series
        Signed weights by instrument (NAV fractions).
    returns : DataFrame
        The long ``silver_returns`` table.
    curves : DataFrame or None
        The ``silver_curves`` table (DI_PRE on ``asof`` is needed when a DI1 point is held).
    asof : datetime.date
        The session.
    params : mapping, optional
        The ``risk.stress`` config subtree.

    Returns
    -------
    (scenarios, reverse, replay)
        Frames with the columns of the risk_stress tables except ``date``.
    """
    p = _params(params)
    w = check_weights(weights, f"risk_stress {asof.isoformat()}")
    held = [str(i) for i in w.index[w.to_numpy() != 0]]
    factors: Mapping[str, Mapping[str, Any]] = p["factors"]
    yield_insts = sorted({i for f in factors.values() if f.get("type") == "yield" for i in f.get("instruments", [])})
    durations = instrument_durations([i for i in yield_insts if i in held], curves, asof)
    dur_note = ", ".join(f"{k} D={v:.3f}" for k, v in sorted(durations.items()))
    srows: list[dict[str, Any]] = []
    rrows: list[dict[str, Any]] = []
    for name, spec in sorted(p["scenarios"].items()):
        shocks = {str(k): float(v) for k, v in spec["shocks"].items()}
        res = scenario_pnl(w, shocks, factors, durations)
        losers = res.by_instrument[res.by_instrument < 0]
        worst = str(losers.idxmin()) if len(losers) else ""
        shock_txt = ", ".join(
            f"{k} {v:+.2%}" if factors[k]["type"] == "price" else f"{k} {v * 1e4:+.0f}bp" for k, v in shocks.items()
        )
        note = f"{spec.get('period', '')}: {shock_txt}"
        if dur_note:
            note += f"; durations {dur_note}"
        if res.unmapped:
            note += f"; unmapped: {', '.join(res.unmapped)}"
        srows.append({
            "scenario": name,
            "kind": "hypothetical",
            "pnl": res.pnl,
            "worst_instrument": worst,
            "worst_pnl": float(losers.min()) if len(losers) else 0.0,
            "unmapped_exposure": res.unmapped_exposure,
            "note": note,
        })
        k, knote = reverse_multiplier(
            res.pnl, res.exposed, float(p["reverse_loss"]), float(p["reverse_max_multiplier"])
        )
        rrows.append({"scenario": name, "multiplier": k, "note": knote})
    mat = returns_matrix(returns, asof)
    prows: list[dict[str, Any]] = []
    for win in p["replay_windows"]:
        start, end = _date(win["start"]), _date(win["end"])
        if start > end:
            raise RiskInputError(f"replay window {win['name']}: start {start} after end {end}")
        rr = replay_window(mat, w, start, end, asof)
        prows.append({
            "window": str(win["name"]), "start": start, "end": end, "pnl": rr.pnl, "worst_pnl": rr.worst_pnl,
            "n_sessions": rr.n_sessions, "coverage": rr.coverage, "note": rr.note,
        })
    return pd.DataFrame(srows), pd.DataFrame(rrows), pd.DataFrame(prows)
