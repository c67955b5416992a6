"""Risk limits, loss limits, the risk budget and the overall status of the model book.

Every threshold lives in the ``risk.limits`` config mapping, the single source of truth that the
report's alerts read too (VaR alerts use ``var_95``/``var_99``, a limit alert fires at utilisation 1,
the critical drawdown alert at ``max_drawdown``); alert-only thresholds are under ``risk.alerts``.

Conventions
-----------
* ``utilisation = value / limit_value`` as a fraction; a limit is BREACHED at ``utilisation >= 1``,
  WARNING at ``utilisation >= warn_fraction`` (default 0.8), OK below; N/A when the value cannot be
  computed (the note says why). The overall status is BREACHED if any row is, else WARNING if any
  row is, else OK.
* **Loss limits count losses only**: ``value`` is the loss (``-P&L``, so a gain is negative) and
  ``utilisation = max(-P&L, 0) / limit``: a gain never breaches.
* The weekly loss is the sum of the model book's daily P&L over the last five **B3 sessions**
  (:mod:`brmacro.risk.pnl`), however many calendar days they span. Drawdown is measured on the same
  bounded five-session window (the partition may not read its own history; the full-history drawdown
  is the range backtest's).
* Notional caps (single position, asset-class exposure) exempt the rates classes by default
  (``notional_exempt_classes``): rates risk is limited in DV01 (BRL per bp, gross over the rates
  instruments, from ``portfolio_sizing.dv01_brl``) and by risk contribution (DOMAIN A7). Gross leverage
  counts every instrument.
* The stress-loss limit (``max_stress_loss``) is a loss limit on the worst ``risk_stress`` scenario,
  fully repriced (:mod:`brmacro.risk.stress`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd

from brmacro.params import resolve
from brmacro.risk._common import RiskInputError, book_weights
from brmacro.risk.pnl import SessionPnl

__all__ = [
    "LimitRow",
    "budget_table",
    "evaluate_limits",
    "loss_row",
    "open_interest_row",
    "overall_status",
    "status_of",
    "stress_loss_row",
    "var_limit_row",
]

_RATES = ("rates_br", "rates_us")
_METHODS = ("historical", "parametric", "monte_carlo")


@dataclass(frozen=True)
class LimitRow:
    """One row of the limits table."""

    limit: str
    value: float | None
    limit_value: float | None
    utilisation: float | None
    status: str
    note: str


def status_of(utilisation: float | None, warn_fraction: float) -> str:
    """``BREACHED`` at >= 1, ``WARNING`` at >= ``warn_fraction``, ``OK`` below, ``N/A`` for None."""
    if utilisation is None or not np.isfinite(utilisation):
        return "N/A"
    if utilisation >= 1.0:
        return "BREACHED"
    if utilisation >= warn_fraction:
        return "WARNING"
    return "OK"


def overall_status(statuses: Sequence[str]) -> str:
    """BREACHED if any status is, else WARNING if any is, else OK (N/A rows do not lower it)."""
    if "BREACHED" in statuses:
        return "BREACHED"
    if "WARNING" in statuses:
        return "WARNING"
    return "OK"


def _row(name: str, value: float | None, limit: float, warn: float, note: str) -> LimitRow:
    if limit <= 0:
        raise RiskInputError(f"risk.limits: {name} limit must be positive, got {limit}")
    util = None if value is None else float(value) / limit
    return LimitRow(name, value, limit, util, status_of(util, warn), note)


def loss_row(name: str, pnl: float | None, limit: float, warn: float, note: str) -> LimitRow:
    """A loss limit: value is the loss ``-pnl``; only a loss uses the limit (a gain never breaches)."""
    if limit <= 0:
        raise RiskInputError(f"risk.limits: {name} limit must be positive, got {limit}")
    if pnl is None:
        return LimitRow(name, None, limit, None, "N/A", note)
    loss = -float(pnl)
    util = max(loss, 0.0) / limit
    if loss < 0:
        note = f"gain of {-loss:.4%}; {note}"
    return LimitRow(name, loss, limit, util, status_of(util, warn), note)


def _var_value(var_table: pd.DataFrame, confidence: float, method: str) -> tuple[float | None, str]:
    t = var_table.loc[np.isclose(var_table["confidence"].astype(float), confidence)]
    if method == "max":
        t = t.loc[t["method"].isin(_METHODS)]
        if t.empty:
            return None, f"risk_var has no {confidence:.0%} row"
        i = int(np.argmax(t["var"].to_numpy(dtype=float)))
        return float(t["var"].iloc[i]), f"max over methods ({t['method'].iloc[i]})"
    t = t.loc[t["method"] == method]
    if t.empty:
        return None, f"risk_var has no {method} {confidence:.0%} row"
    return float(t["var"].iloc[0]), method


def _drawdown(pnls: Sequence[SessionPnl]) -> tuple[float | None, str]:
    avail = [r for r in pnls if r.pnl is not None]
    if not avail:
        return None, "no model-book P&L available in the window"
    cum = np.cumsum([0.0, *[float(r.pnl) for r in avail if r.pnl is not None]])
    dd = float(np.max(cum) - cum[-1])
    note = f"current drawdown from the peak of the {len(pnls)}-session window's cumulative P&L"
    if len(avail) < len(pnls):
        note += f" (partial: {len(avail)} of {len(pnls)} sessions)"
    return dd, note + "; full-history drawdown is the range backtest's"


def open_interest_row(name: str, quantities: Mapping[str, float], contracts: pd.DataFrame,
                      limits: Mapping[str, Any] | None, what: str) -> LimitRow:
    """Liquidity limit: the largest ``|position| / open interest`` over the book's DI1 contracts.

    ``contracts`` is ``portfolio_sizing.contracts`` (open interest from the session's B3 settlement file).
    Products with no open interest in bronze (DOL, IND, ES, ZN) are named in the note, not measured.
    """
    lim = resolve("risk.limits", limits)
    oi = contracts.set_index("contract")["open_interest"] if len(contracts) else pd.Series(dtype=float)
    held = {str(c): abs(float(q)) for c, q in quantities.items() if float(q) != 0}
    measured = {c: q / float(oi[c]) for c, q in held.items() if c in oi.index and pd.notna(oi[c]) and float(oi[c]) > 0}
    unmeasured = sorted(c for c in held if c not in measured)
    tail = f"; not measured (no open interest in bronze): {', '.join(unmeasured)}" if unmeasured else ""
    if not measured:
        return _row(name, 0.0, float(lim["max_open_interest_share"]), float(lim["warn_fraction"]),
                    f"{what}: no position in a contract with open interest{tail}")
    top = max(sorted(measured), key=lambda c: measured[c])
    return _row(name, measured[top], float(lim["max_open_interest_share"]), float(lim["warn_fraction"]),
                f"{what}: largest |position| / open interest: {top} {held[top]:,.0f} of {float(oi[top]):,.0f}"
                + tail)


def budget_table(
    components: pd.DataFrame, classes: Mapping[str, str], position_budget: float, class_budget: float
) -> pd.DataFrame:
    """Risk budget rows (level, name, risk_contribution, budget, utilisation).

    ``risk_contribution`` is the share of the parametric VaR (``risk_var.components.pct_contribution``;
    0 for a flat book).
    """
    pct = components.set_index("instrument")["pct_contribution"].astype(float).fillna(0.0)
    rows: list[dict[str, Any]] = []
    for inst, v in pct.items():
        rows.append({"level": "position", "name": str(inst), "risk_contribution": float(v), "budget": position_budget})
    by_class: dict[str, float] = {}
    for inst, v in pct.items():
        c = classes.get(str(inst))
        if c is None:
            raise RiskInputError(f"risk budget: instrument {inst} of risk_var.components is not in portfolio_sizing")
        by_class[c] = by_class.get(c, 0.0) + float(v)
    for c, v in sorted(by_class.items()):
        rows.append({"level": "asset_class", "name": c, "risk_contribution": v, "budget": class_budget})
    rows.append({"level": "total", "name": "total", "risk_contribution": float(pct.sum()), "budget": 1.0})
    df = pd.DataFrame(rows)
    df["utilisation"] = df["risk_contribution"] / df["budget"]
    return df


def stress_loss_row(stress: pd.DataFrame | None, limit: float, warn: float) -> LimitRow:
    """The stress-loss limit: the worst hypothetical scenario's repriced P&L (``risk_stress``) as a loss.

    Parameters
    ----------
    stress : DataFrame or None
        Today's ``risk_stress`` table (``scenario``, ``pnl``); None or empty gives an N/A row.
    limit : float
        ``risk.limits.max_stress_loss`` (NAV fraction).
    warn : float
        ``warn_fraction``.
    """
    if stress is None or stress.empty:
        return loss_row("stress_loss", None, limit, warn, "risk_stress has no scenario rows")
    i = int(np.argmin(stress["pnl"].to_numpy(dtype=float)))
    name = str(stress["scenario"].iloc[i])
    return loss_row("stress_loss", float(stress["pnl"].iloc[i]), limit, warn,
                    f"worst of {len(stress)} risk_stress scenarios: {name} (full repricing), NAV fraction")


def evaluate_limits(
    sizing: pd.DataFrame,
    var_table: pd.DataFrame,
    components: pd.DataFrame,
    pnls: Sequence[SessionPnl],
    limits: Mapping[str, Any] | None = None,
    stress: pd.DataFrame | None = None,
    extra_rows: Sequence[LimitRow] = (),
    pnl_label: str = "model-book",
) -> tuple[list[LimitRow], pd.DataFrame]:
    """All limit rows (the last one ``overall``) and the risk-budget table.

    Parameters
    ----------
    sizing : DataFrame
        Today's ``portfolio_sizing`` (weights, asset classes, DV01).
    var_table, components : DataFrame
        Today's ``risk_var`` tables.
    pnls : sequence of SessionPnl
        Model-book P&L of the last five sessions, oldest first, the last being today.
    limits : mapping, optional
        The ``risk.limits`` config mapping (declared defaults (:mod:`brmacro.params`) fill missing keys).
    stress : DataFrame, optional
        Today's ``risk_stress`` scenarios, for the ``stress_loss`` row (N/A without them).
    extra_rows : sequence of LimitRow
        Further rows computed elsewhere (the desk's liquidity and held-book loss rows), placed before
        ``overall`` and counted in it.
    pnl_label : str
        Whose P&L ``pnls`` is, for the notes (``model-book``; ``held-book`` for the desk's positions).
    """
    lim = resolve("risk.limits", limits)
    warn = float(lim["warn_fraction"])
    w = book_weights(sizing, "risk_limits")
    classes = cast("dict[str, str]", sizing.set_index("instrument")["asset_class"].astype(str).to_dict())
    exempt = set(lim["notional_exempt_classes"])
    rows: list[LimitRow] = []

    for conf, key in ((0.95, "var_95"), (0.99, "var_99")):
        v, how = _var_value(var_table, conf, str(lim["var_method"]))
        rows.append(_row(key, v, float(lim[key]), warn, f"one-day VaR {conf:.0%}, NAV fraction, {how}"))

    dd, dd_note = _drawdown(pnls)
    rows.append(_row("max_drawdown", dd, float(lim["max_drawdown"]), warn, dd_note))

    gross = float(w.abs().sum())
    rows.append(_row("gross_leverage", gross, float(lim["max_gross_leverage"]), warn,
                     "sum of |weight| over all instruments, x NAV"))

    capped = w[[classes.get(str(i), "") not in exempt for i in w.index]]
    if len(capped) and capped.abs().max() > 0:
        top = str(capped.abs().idxmax())
        rows.append(_row("single_position", float(capped.abs().max()), float(lim["max_position"]), warn,
                         f"largest |weight|: {top}; exempt classes {sorted(exempt)}"))
    else:
        rows.append(_row("single_position", 0.0, float(lim["max_position"]), warn,
                         f"no position outside exempt classes {sorted(exempt)}"))

    expo: dict[str, float] = {}
    for i, v in capped.items():
        c = classes[str(i)]
        expo[c] = expo.get(c, 0.0) + abs(float(v))
    if expo and max(expo.values()) > 0:
        top_c = max(sorted(expo), key=lambda c: expo[c])
        rows.append(_row("asset_class_exposure", expo[top_c], float(lim["max_asset_class_exposure"]), warn,
                         f"largest gross exposure by class: {top_c}; exempt classes {sorted(exempt)}"))
    else:
        rows.append(_row("asset_class_exposure", 0.0, float(lim["max_asset_class_exposure"]), warn,
                         f"no exposure outside exempt classes {sorted(exempt)}"))

    from brmacro.portfolio.limits import share_limit  # one rule for books too small for the share limits

    held = [str(i) for i, v in w.items() if v != 0]
    n_pos, n_cls = len(held), len({classes.get(i) for i in held})
    rc_pos = share_limit(float(lim["max_risk_contribution"]), lim.get("max_risk_contribution_by_size"), n_pos)
    rc_cls = share_limit(float(lim["asset_class_risk_budget"]), lim.get("asset_class_risk_budget_by_size"), n_cls)
    size_note = (f" (limit for a book of {n_pos} position(s))" if rc_pos != float(lim["max_risk_contribution"])
                 else "")
    size_note_c = (f" (limit for a book of {n_cls} class(es))" if rc_cls != float(lim["asset_class_risk_budget"])
                   else "")
    budget = budget_table(components, classes, rc_pos, rc_cls)
    pos = budget.loc[budget["level"] == "position"]
    cls = budget.loc[budget["level"] == "asset_class"]
    if np.any(w.to_numpy()) and len(pos):
        i = int(np.argmax(pos["risk_contribution"].to_numpy()))
        rows.append(_row("risk_contribution", float(pos["risk_contribution"].iloc[i]), rc_pos, warn,
                         f"largest share of parametric VaR: {pos['name'].iloc[i]}{size_note}"))
        j = int(np.argmax(cls["risk_contribution"].to_numpy()))
        rows.append(_row("asset_class_risk_contribution", float(cls["risk_contribution"].iloc[j]), rc_cls, warn,
                         f"largest share of parametric VaR by class: {cls['name'].iloc[j]}{size_note_c}"))
    else:
        rows.append(_row("risk_contribution", 0.0, float(lim["max_risk_contribution"]), warn, "flat book"))
        rows.append(_row("asset_class_risk_contribution", 0.0, float(lim["asset_class_risk_budget"]), warn,
                         "flat book"))

    rows.append(LimitRow("strategy_daily_loss", None, float(lim["max_strategy_daily_loss"]), None, "N/A",
                         "the model book carries no per-strategy P&L attribution (portfolio_sizing has none)"))

    today = pnls[-1] if pnls else None
    if today is not None and today.pnl is not None and today.by_instrument is not None:
        by_cls: dict[str, float] = {}
        for inst, v in today.by_instrument.items():
            c = str(today.asset_class.get(inst, "?")) if today.asset_class is not None else "?"
            by_cls[c] = by_cls.get(c, 0.0) + float(v)
        if by_cls:
            worst_c = min(sorted(by_cls), key=lambda c: by_cls[c])
            rows.append(loss_row("asset_class_daily_loss", by_cls[worst_c], float(lim["max_asset_class_daily_loss"]),
                                 warn, f"worst class on {today.date.isoformat()}: {worst_c}"))
        else:
            rows.append(loss_row("asset_class_daily_loss", 0.0, float(lim["max_asset_class_daily_loss"]), warn,
                                 "flat book"))
    else:
        rows.append(loss_row("asset_class_daily_loss", None, float(lim["max_asset_class_daily_loss"]), warn,
                             today.note if today is not None else "no P&L"))

    rows.append(loss_row("daily_loss", today.pnl if today is not None else None, float(lim["daily_loss"]), warn,
                         f"{pnl_label} P&L of {today.date.isoformat()}: {today.note}" if today else "no P&L"))

    avail = [r for r in pnls if r.pnl is not None]
    week = float(sum(float(r.pnl) for r in avail if r.pnl is not None)) if avail else None
    wnote = f"sum of the {pnl_label} P&L over the {len(pnls)} B3 sessions " + (
        f"{pnls[0].date.isoformat()}..{pnls[-1].date.isoformat()}" if pnls else ""
    )
    if avail and len(avail) < len(pnls):
        missing = ", ".join(r.date.isoformat() for r in pnls if r.pnl is None)
        wnote += f" (partial: {len(avail)} of {len(pnls)} sessions; unavailable {missing})"
    rows.append(loss_row("weekly_loss", week, float(lim["weekly_loss"]), warn, wnote))

    rates = sizing.loc[sizing["asset_class"].isin(_RATES)]
    dv01 = rates["dv01_brl"].astype(float)
    if not np.isfinite(dv01.to_numpy()).all():
        raise RiskInputError("risk_limits: portfolio_sizing dv01_brl is not finite for a rates instrument")
    br = float(rates.loc[rates["asset_class"] == "rates_br", "dv01_brl"].sum())
    rows.append(_row("dv01", float(dv01.abs().sum()), float(lim["dv01_brl_per_bp"]), warn,
                     f"gross |DV01| over rates instruments, BRL per bp; net BR DV01 {br:,.0f} BRL/bp"))

    rows.append(stress_loss_row(stress, float(lim["max_stress_loss"]), warn))

    rows.extend(extra_rows)
    worst = max((r.utilisation for r in rows if r.utilisation is not None), default=None)
    na = [r.limit for r in rows if r.status == "N/A"]
    status = overall_status([r.status for r in rows])
    onote = f"{sum(r.status == 'BREACHED' for r in rows)} breached, {sum(r.status == 'WARNING' for r in rows)} warning"
    if na:
        onote += f"; not computable: {', '.join(na)}"
    rows.append(LimitRow("overall", worst, None, worst, status, onote + "; value = highest utilisation"))
    return rows, budget


def var_limit_row(limits: pd.DataFrame, conf: str) -> pd.Series | None:
    """The VaR limit row of a ``risk_limits`` table at confidence ``conf`` (``"95"`` or ``"99"``: ``var_95``,
    ``var_99``; CVaR rows excluded), the first by name when several match; None when the table has none."""
    names = limits["limit"].astype(str).str.lower()
    m = names.str.contains("var") & ~names.str.contains("cvar") & names.str.contains(conf)
    if not m.any():
        return None
    return limits.loc[m].sort_values("limit").iloc[0]
