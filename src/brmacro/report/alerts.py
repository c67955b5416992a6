"""The alert rules (DOMAIN Part B §11.2, INPUT_OUTLIER and STRESS_LOSS), evaluated on one session's artifacts.

Thresholds come from ONE source of truth, the ``risk:`` config subtree: VAR_BREACH and VAR_CRITICAL
compare the VaR rows of the ``risk_limits`` artifact with *their own* limit (``risk.limits.var_95`` /
``var_99``, as risk_limits applied them); DRAWDOWN_CRITICAL uses ``risk.limits.max_drawdown``;
LIMIT_BREACH fires at utilisation >= 1.0 (at the limit) unless ``risk.alerts.limit_breach_utilisation``
says otherwise; the others read ``risk.alerts`` (``drawdown_warning``, ``signal_flip_count``,
``conviction_surge``, ``stale_data_sessions``); STRESS_LOSS compares the ``stress_loss`` row of
``risk_limits`` (worst repriced scenario) with ``risk.limits.max_stress_loss``. Everything is in partition terms,
never wall-clock: staleness is counted in B3 sessions between a bronze snapshot's latest
observation and the session; PIPELINE_FAILURE means a declared input is missing or unreadable;
AGENT_STALE means an agent has no composite signal for the session; INPUT_OUTLIER means a price or
rate the book uses moved far outside its own history (:mod:`brmacro.report.sanity`, thresholds in
``report.outlier_*``). Utilisation is a fraction.

A rule whose threshold is not configured or whose input is missing does not fire; its message says
``n/a: <why>`` and its value/threshold are null (the report shows that; PIPELINE_FAILURE fires on
the missing input itself).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd

from brmacro.calendar import sessions_between
from brmacro.io import dates_on
from brmacro.pipeline import AGENTS
from brmacro.report.inputs import Inputs
from brmacro.report.sanity import Outlier
from brmacro.risk.limits import var_limit_row

__all__ = [
    "BRONZE_DATE_COLUMNS",
    "RULES",
    "Alert",
    "alerts_frame",
    "current_drawdown",
    "evaluate_alerts",
    "freshness",
    "sessions_behind",
]

#: rule_id -> severity, in the order of Part B §11.2.
RULES: dict[str, str] = {
    "STALE_DATA": "warning",
    "VAR_BREACH": "warning",
    "VAR_CRITICAL": "critical",
    "DRAWDOWN_WARNING": "warning",
    "DRAWDOWN_CRITICAL": "critical",
    "LIMIT_BREACH": "critical",
    "SIGNAL_FLIP": "warning",
    "CONVICTION_SURGE": "warning",
    "PIPELINE_FAILURE": "critical",
    "AGENT_STALE": "warning",
    "INPUT_OUTLIER": "critical",
    "STRESS_LOSS": "warning",
}

#: bronze asset -> (observation-date column, release-date column or None)
BRONZE_DATE_COLUMNS: dict[str, tuple[str, str]] = {
    "bronze_bcb_sgs": ("observation_date", "release_date"),
    "bronze_fred": ("observation_date", "release_date"),
    "bronze_yahoo": ("date", "release_date"),
    "bronze_bcb_ptax": ("date", "release_date"),
    "bronze_b3_market_data": ("trade_date", "release_date"),
    "bronze_treasury_gov": ("date", "release_date"),
    "bronze_bcb_focus": ("survey_date", "release_date"),
}

#: rule -> keys accepted in ``risk.alerts`` (first found wins).
_ALERT_KEYS: dict[str, tuple[str, ...]] = {
    "STALE_DATA": ("stale_data_sessions",),
    "DRAWDOWN_WARNING": ("drawdown_warning",),
    "LIMIT_BREACH": ("limit_breach_utilisation", "limit_utilisation", "limit_breach"),
    "SIGNAL_FLIP": ("signal_flip_count", "signal_flips", "signal_flip"),
    "CONVICTION_SURGE": ("conviction_surge_delta", "conviction_surge"),
    "PIPELINE_FAILURE": ("pipeline_failure_missing", "pipeline_failure"),
    "AGENT_STALE": ("agent_stale_missing", "agent_stale"),
}


@dataclass(frozen=True)
class Alert:
    """One evaluated rule (a row of ``daily_report/alerts``)."""

    rule_id: str
    severity: str
    fired: bool
    value: float | None
    threshold: float | None
    message: str


# ----------------------------------------------------------------------------------------------- helpers
def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _lookup(section: Mapping[str, Any] | None, rule: str) -> tuple[Any, str]:
    """The configured threshold of ``rule`` in ``risk.alerts`` and the key used ('' if absent)."""
    if not isinstance(section, Mapping):
        return None, ""
    for k in (*_ALERT_KEYS.get(rule, ()), rule.lower(), rule):
        if k in section:
            v = section[k]
            if isinstance(v, Mapping) and "threshold" in v:
                v = v["threshold"]
            return v, k
    return None, ""


def sessions_behind(latest: dt.date, session: dt.date) -> int:
    """B3 sessions in ``(latest, session]``: 0 when the snapshot has the session itself."""
    if latest >= session:
        return 0
    return len(sessions_between(latest + dt.timedelta(days=1), session))


def _latest_date(col: pd.Series) -> dt.date:
    """``max(pd.to_datetime(col).dt.date)``: the plain maximum of a column of dates as read, else on ``datetime64``."""
    values = col.to_numpy()
    if len(values) and set(map(type, values)) == {dt.date}:  # dates as read (io.read_table): compare them as they are
        return max(values)  # type: ignore[no-any-return]
    ts = pd.to_datetime(col)
    if bool(ts.notna().all()):
        return ts.max().date()
    return max(ts.dt.date)


def freshness(inp: Inputs, session: dt.date) -> pd.DataFrame:
    """Per bronze source: latest observation and release dates and how many sessions behind.

    Returns
    -------
    DataFrame
        Columns ``source``, ``rows``, ``latest_observation``, ``latest_release``, ``sessions_behind``
        (None where the snapshot is missing or empty) and ``note``.
    """
    recs: list[dict[str, Any]] = []
    for asset, (obs_col, rel_col) in BRONZE_DATE_COLUMNS.items():
        df = inp.tables.get((asset, "part"))  # read only: no copy of the snapshot (``inp.get``) for two maxima
        if df is None:
            recs.append({"source": asset, "rows": None, "latest_observation": None, "latest_release": None,
                         "sessions_behind": None, "note": f"missing: {asset}/part: {inp.why(asset)}"})
            continue
        if df.empty:
            recs.append({"source": asset, "rows": 0, "latest_observation": None, "latest_release": None,
                         "sessions_behind": None, "note": "empty snapshot"})
            continue
        obs, rel = _latest_date(df[obs_col]), _latest_date(df[rel_col])
        recs.append({"source": asset, "rows": len(df), "latest_observation": obs, "latest_release": rel,
                     "sessions_behind": sessions_behind(obs, session), "note": ""})
    return pd.DataFrame.from_records(recs)


def current_drawdown(pnl: pd.DataFrame) -> tuple[float | None, int]:
    """Drawdown at the last session of the available model-book P&L (positive number = loss).

    Equity compounds ``1 + pnl`` over the available sessions, starting at 1; the drawdown is
    ``1 - equity / running peak`` at the end. Returns ``(None, 0)`` when no P&L is available.
    """
    if pnl is None or pnl.empty:
        return None, 0
    ok = pnl.loc[pnl["available"].astype(bool) & pnl["pnl"].notna()].sort_values("date")
    if ok.empty:
        return None, 0
    eq = np.cumprod(1.0 + ok["pnl"].to_numpy(dtype=float))
    peak = np.maximum.accumulate(np.concatenate([[1.0], eq]))[1:]
    return float(1.0 - eq[-1] / peak[-1]), len(ok)


# ----------------------------------------------------------------------------------------------- rules
def _stale(inp: Inputs, session: dt.date, cfg: Mapping[str, Any] | None, fresh: pd.DataFrame | None = None
           ) -> Alert:
    rule = "STALE_DATA"
    th, key = _lookup(cfg, rule)
    fr = freshness(inp, session) if fresh is None else fresh
    have = fr.loc[fr["sessions_behind"].notna()]
    if th is None:
        extra = (" (risk.alerts.stale_data_seconds is a wall-clock age for the run-status page, not a partition "
                 "threshold)") if isinstance(cfg, Mapping) and "stale_data_seconds" in cfg else ""
        return Alert(rule, RULES[rule], False, None, None,
                     "n/a: risk.alerts.stale_data_sessions (B3 sessions, number or per-source mapping) is not "
                     "configured" + extra)
    per: dict[str, float] = {}
    if isinstance(th, Mapping):
        default = _num(th.get("default"))
        for src in fr["source"]:
            short = str(src).removeprefix("bronze_")
            v = _num(th.get(src, th.get(short, default)))
            if v is not None:
                per[str(src)] = v
    else:
        v = _num(th)
        if v is None:
            return Alert(rule, RULES[rule], False, None, None, f"n/a: risk.alerts.{key} is not a number")
        per = {str(s): v for s in fr["source"]}
    if have.empty:
        return Alert(rule, RULES[rule], False, None, min(per.values()) if per else None,
                     "n/a: no bronze snapshot available to measure staleness")
    stale = [(str(r.source), int(r.sessions_behind), per[str(r.source)])
             for r in cast("Iterable[Any]", have.itertuples())
             if str(r.source) in per and r.sessions_behind > per[str(r.source)]]
    worst = have.sort_values(["sessions_behind", "source"], ascending=[False, True]).iloc[0]
    worst_th = per.get(str(worst["source"]))
    if stale:
        txt = ", ".join(f"{s} {n} sessions behind (max {t:g})" for s, n, t in stale)
        return Alert(rule, RULES[rule], True, float(worst["sessions_behind"]), worst_th, f"stale data: {txt}")
    return Alert(rule, RULES[rule], False, float(worst["sessions_behind"]), worst_th,
                 f"every bronze source within its staleness threshold (worst {worst['source']}: "
                 f"{int(worst['sessions_behind'])} sessions behind)")


def _var(inp: Inputs, rule: str, conf: str) -> Alert:
    limits = inp.get("risk_limits")
    if limits is None:
        return Alert(rule, RULES[rule], False, None, None, f"n/a: risk_limits/part missing: {inp.why('risk_limits')}")
    row = var_limit_row(limits, conf)
    if row is None:
        return Alert(rule, RULES[rule], False, None, None, f"n/a: risk_limits has no VaR {conf}% limit row")
    v, lim = _num(row["value"]), _num(row["limit_value"])
    if v is None or lim is None:
        return Alert(rule, RULES[rule], False, v, lim, f"n/a: VaR {conf}% or its limit not computable: {row['note']}")
    fired = v > lim
    rel = "above" if fired else "within"
    return Alert(rule, RULES[rule], fired, v, lim,
                 f"VaR {conf}% {v * 100:.2f}% of NAV {rel} its limit {lim * 100:.2f}% ({row['limit']})")


def _drawdown(inp: Inputs, rule: str, cfg: Mapping[str, Any] | None, limits: Mapping[str, Any] | None,
              window: tuple[str, float, int] | None = None) -> Alert:
    if rule == "DRAWDOWN_CRITICAL":
        thv = _num(limits.get("max_drawdown")) if isinstance(limits, Mapping) else None
        what = "risk.limits.max_drawdown"
    else:
        thv = _num(_lookup(cfg, rule)[0])
        what = "risk.alerts.drawdown_warning"
    pnl = inp.get("risk_limits", "pnl")
    where = "model-book P&L available (risk_limits; longer history: report.track_record)"
    dd: float | None
    if window is not None and window[2] >= (current_drawdown(pnl)[1] if pnl is not None else 0):
        # the track-record window is the longer history: its drawdown (from the window's peak, as the summary shows)
        dd, n, where = window[1], window[2], f"track-record window ({window[0]})"
    elif pnl is None:
        return Alert(rule, RULES[rule], False, None, thv,
                     f"n/a: risk_limits/pnl missing: {inp.why('risk_limits', 'pnl')}")
    else:
        dd, n = current_drawdown(pnl)
    if dd is None:
        return Alert(rule, RULES[rule], False, None, thv, "n/a: no model-book P&L available in risk_limits/pnl")
    if thv is None:
        return Alert(rule, RULES[rule], False, dd, None, f"n/a: {what} is not configured")
    fired = dd > thv
    return Alert(rule, RULES[rule], fired, dd, thv,
                 f"drawdown {dd * 100:.2f}% over the {n} sessions of the {where} "
                 f"({'above' if fired else 'within'} {thv * 100:.2f}%)")


def _limit_breach(inp: Inputs, cfg: Mapping[str, Any] | None) -> Alert:
    rule = "LIMIT_BREACH"
    th = _num(_lookup(cfg, rule)[0])
    thv = 1.0 if th is None else th  # utilisation is a fraction: 1.0 = at the limit (risk.limits)
    limits = inp.get("risk_limits")
    if limits is None:
        return Alert(rule, RULES[rule], False, None, thv, f"n/a: risk_limits/part missing: {inp.why('risk_limits')}")
    u = limits.loc[limits["utilisation"].notna() & (limits["limit"].astype(str) != "overall")]
    if u.empty:
        return Alert(rule, RULES[rule], False, None, thv, "n/a: no limit utilisation computable in risk_limits")
    u = u.sort_values(["utilisation", "limit"], ascending=[False, True])
    top = u.iloc[0]
    over = u.loc[u["utilisation"] >= thv]
    if len(over):
        txt = ", ".join(f"{r.limit} at {r.utilisation * 100:.0f}%" for r in cast("Iterable[Any]", over.itertuples()))
        return Alert(rule, RULES[rule], True, float(top["utilisation"]), thv,
                     f"limit utilisation at or above {thv * 100:.0f}%: {txt}")
    return Alert(rule, RULES[rule], False, float(top["utilisation"]), thv,
                 f"highest utilisation {top['limit']} at {float(top['utilisation']) * 100:.0f}% "
                 f"(threshold {thv * 100:.0f}%)")


def _flip(inp: Inputs, cfg: Mapping[str, Any] | None) -> Alert:
    rule = "SIGNAL_FLIP"
    thv = _num(_lookup(cfg, rule)[0])
    ev = inp.get("signal_monitor")
    if ev is None:
        return Alert(rule, RULES[rule], False, None, thv,
                     f"n/a: signal_monitor/part missing: {inp.why('signal_monitor')}")
    flips = ev.loc[ev["event"] == "flip"].sort_values("instrument")
    n = float(len(flips))
    summ = inp.get("signal_monitor", "summary")
    if summ is not None:
        allrow = summ.loc[summ["asset_class"] == "all"]
        if len(allrow) and not bool(allrow.iloc[0]["has_previous"]):
            return Alert(rule, RULES[rule], False, None, thv,
                         "n/a: no previous session's aggregation to compare with")
    if thv is None:
        return Alert(rule, RULES[rule], False, n, None, "n/a: risk.alerts has no signal-flip threshold")
    fired = n >= thv
    names = ", ".join(flips["instrument"].astype(str)) or "none"
    return Alert(rule, RULES[rule], fired, n, thv, f"{int(n)} signal flip(s) versus the previous session: {names}")


def _surge(inp: Inputs, cfg: Mapping[str, Any] | None) -> Alert:
    rule = "CONVICTION_SURGE"
    thv = _num(_lookup(cfg, rule)[0])
    ev = inp.get("signal_monitor")
    if ev is None:
        return Alert(rule, RULES[rule], False, None, thv,
                     f"n/a: signal_monitor/part missing: {inp.why('signal_monitor')}")
    ch = ev.loc[ev["event"].isin(["flip", "surge"])]
    if ch.empty:
        return Alert(rule, RULES[rule], False, None, thv, "no conviction change recorded by signal_monitor")
    ch = ch.assign(absd=ch["delta"].abs()).sort_values(["absd", "instrument"], ascending=[False, True])
    top = float(ch.iloc[0]["absd"])
    if thv is None:
        return Alert(rule, RULES[rule], False, top, None, "n/a: risk.alerts has no conviction-surge threshold")
    big = ch.loc[ch["absd"] > thv]
    if len(big):
        txt = ", ".join(f"{r.instrument} {r.delta:+.2f}" for r in cast("Iterable[Any]", big.itertuples()))
        return Alert(rule, RULES[rule], True, top, thv, f"conviction change above {thv:.2f}: {txt}")
    return Alert(rule, RULES[rule], False, top, thv, f"largest conviction change {top:.2f} (threshold {thv:.2f})")


def _pipeline(inp: Inputs, cfg: Mapping[str, Any] | None) -> Alert:
    rule = "PIPELINE_FAILURE"
    th = _num(_lookup(cfg, rule)[0])
    thv = 0.0 if th is None else th  # the rule's meaning: any missing input is a failure
    miss = sorted(f"{a}/{t}" for a, t in inp.missing)
    n = float(len(miss))
    if n > thv:
        return Alert(rule, RULES[rule], True, n, thv, f"{int(n)} input table(s) missing: {', '.join(miss)}")
    return Alert(rule, RULES[rule], False, n, thv, "every declared input was read")


def _agent_stale(inp: Inputs, session: dt.date, cfg: Mapping[str, Any] | None) -> Alert:
    rule = "AGENT_STALE"
    th = _num(_lookup(cfg, rule)[0])
    thv = 0.0 if th is None else th
    bad = []
    for a in AGENTS:
        df = inp.get(a)
        if df is None:
            bad.append(f"{a} (missing)")
            continue
        comp = df.loc[df["is_composite"].astype(bool)]
        if comp.empty:
            bad.append(f"{a} (no composite)")
        elif not dates_on(comp["date"], session).any():
            bad.append(f"{a} (composite not dated {session.isoformat()})")
    n = float(len(bad))
    if n > thv:
        return Alert(rule, RULES[rule], True, n, thv, f"agents without a composite for the session: {', '.join(bad)}")
    return Alert(rule, RULES[rule], False, n, thv, "every agent has a composite signal for the session")


def _outlier(checks: Sequence[Outlier] | None, threshold: float | None, mode: str) -> Alert:
    rule = "INPUT_OUTLIER"
    if checks is None:
        return Alert(rule, RULES[rule], False, None, threshold, "n/a: silver_returns missing, inputs not checked")
    flagged = [c for c in checks if c.flagged]
    zs = [abs(c.z) for c in checks if c.z is not None]
    top = max(zs) if zs else None
    if flagged:
        what = "; ".join(c.text() for c in flagged)
        act = ("orders withheld (report.outliers: hold)"
               if mode == "hold" else "orders not withheld (report.outliers: flag)")
        return Alert(rule, RULES[rule], True, top, threshold, f"input outlier(s): {what}; {act}")
    return Alert(rule, RULES[rule], False, top, threshold,
                 f"{len(zs)} series checked, largest robust z {top:.1f}" if top is not None else "no series checkable")


def _stress_loss(inp: Inputs) -> Alert:
    """The worst hypothetical scenario's loss against ``risk.limits.max_stress_loss`` (the ``stress_loss`` row)."""
    rule = "STRESS_LOSS"
    limits = inp.get("risk_limits")
    if limits is None:
        return Alert(rule, RULES[rule], False, None, None, f"n/a: risk_limits/part missing: {inp.why('risk_limits')}")
    row = limits.loc[limits["limit"].astype(str) == "stress_loss"]
    if row.empty:
        return Alert(rule, RULES[rule], False, None, None, "n/a: risk_limits has no stress_loss row")
    r = row.iloc[0]
    v, lim = _num(r["value"]), _num(r["limit_value"])
    if v is None or lim is None:
        return Alert(rule, RULES[rule], False, v, lim, f"n/a: stress loss not computable: {r['note']}")
    fired = v >= lim
    return Alert(rule, RULES[rule], fired, v, lim,
                 f"worst stress loss {v * 100:.2f}% of NAV {'at or above' if fired else 'within'} "
                 f"risk.limits.max_stress_loss {lim * 100:.2f}% ({r['note']})")


def evaluate_alerts(inp: Inputs, session: dt.date, risk_params: Mapping[str, Any] | None,
                    outliers: Sequence[Outlier] | None = None, outlier_z: float | None = None,
                    outlier_mode: str = "flag", pnl_window: tuple[str, float, int] | None = None,
                    fresh: pd.DataFrame | None = None) -> list[Alert]:
    """Evaluate the rules on one session's inputs.

    Parameters
    ----------
    inp : Inputs
        The report's loaded inputs.
    session : datetime.date
        The partition's session.
    risk_params : mapping or None
        The ``risk:`` config subtree (``alerts`` and ``limits`` mappings).
    outliers : sequence of Outlier, optional
        The input sanity checks (None: not checked, the rule says why).
    outlier_z, outlier_mode :
        ``report.outlier_z`` and ``report.outliers``.
    pnl_window : (str, float, int), optional
        The track record's name, its drawdown from the window's peak (positive = loss) and its sessions with
        P&L: the drawdown rules use it when it is at least as long as ``risk_limits/pnl``.
    fresh : DataFrame, optional
        ``freshness(inp, session)`` when the caller has it already (the report shows it too); computed when None.

    Returns
    -------
    list of Alert
        One per rule, in :data:`RULES` order.
    """
    cfg = risk_params.get("alerts") if isinstance(risk_params, Mapping) else None
    limits = risk_params.get("limits") if isinstance(risk_params, Mapping) else None
    return [
        _stale(inp, session, cfg, fresh),
        _var(inp, "VAR_BREACH", "95"),
        _var(inp, "VAR_CRITICAL", "99"),
        _drawdown(inp, "DRAWDOWN_WARNING", cfg, limits, pnl_window),
        _drawdown(inp, "DRAWDOWN_CRITICAL", cfg, limits, pnl_window),
        _limit_breach(inp, cfg),
        _flip(inp, cfg),
        _surge(inp, cfg),
        _pipeline(inp, cfg),
        _agent_stale(inp, session, cfg),
        _outlier(outliers, outlier_z, outlier_mode),
        _stress_loss(inp),
    ]


def alerts_frame(alerts: Sequence[Alert], session: dt.date) -> pd.DataFrame:
    """The ``daily_report/alerts`` table."""
    return pd.DataFrame.from_records(
        [{"date": session, "rule_id": a.rule_id, "severity": a.severity, "fired": bool(a.fired), "value": a.value,
          "threshold": a.threshold, "message": a.message} for a in alerts],
        columns=["date", "rule_id", "severity", "fired", "value", "threshold", "message"],
    )
