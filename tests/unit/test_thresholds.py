"""Every risk limit and every alert rule at its threshold: exactly at, just under, just over (issue 20).

Conventions under test (``risk/limits.py`` and ``report/alerts.py`` docstrings, DOMAIN Part B §11.2):
a limit is BREACHED at utilisation >= 1 and WARNING at >= ``warn_fraction``; VAR_*, DRAWDOWN_*,
CONVICTION_SURGE, STALE_DATA, PIPELINE_FAILURE and AGENT_STALE fire strictly above their threshold;
LIMIT_BREACH and SIGNAL_FLIP fire at or above it. "Just" is a relative 1e-9 for real values and one unit
for counts. Each limit's value is built so that the figure the code computes is exactly the threshold.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest

from brmacro.calendar import previous_sessions
from brmacro.params import defaults
from brmacro.report.alerts import evaluate_alerts
from brmacro.report.inputs import Inputs
from brmacro.risk.limits import evaluate_limits
from brmacro.risk.pnl import SessionPnl
from tests.unit.test_report_fixtures import RISK_PARAMS, SESSION, all_tables
from tests.unit.test_risk_limits import _components, _sizing, _var_table

DEFAULTS = defaults("risk.limits")

D = dt.date(2026, 11, 25)
EPS = 1e-9
UNDER, AT, OVER = 1.0 - EPS, 1.0, 1.0 + EPS
WARN = DEFAULTS["warn_fraction"]


def _at(limit: float, f: float) -> float:
    """The float ``x`` nearest ``f · limit`` with ``x / limit == f`` exactly (so "at" is exactly at)."""
    x = f * limit
    if f not in (AT, WARN):
        return x
    for _ in range(64):
        if x / limit == f:
            return x
        x = float(np.nextafter(x, np.inf if x / limit < f else -np.inf))
    raise AssertionError(f"no float x with x / {limit} == {f}")  # pragma: no cover


def _pnls(values: list[float], by_class: dict[str, float] | None = None) -> list[SessionPnl]:
    days = [*previous_sessions(D, len(values) - 1), D]
    out = []
    for k, (d, v) in enumerate(zip(days, values, strict=True)):
        by = pd.Series(by_class) if (by_class and k == len(values) - 1) else pd.Series({"USDBRL": v})
        ac = pd.Series({i: {"USDBRL": "fx", "IBOV": "equity_br", "SPX": "equity_us"}[i] for i in by.index})
        out.append(SessionPnl(d, previous_sessions(d, 2)[0], v, by, ac, "t"))
    return out


#: powers of two, so that 0.8 x limit / limit is exactly 0.8 in floating point
DYADIC = {"var_95": 2.0**-5, "var_99": 2.0**-4, "max_drawdown": 2.0**-3, "max_position": 2.0**-2,
          "max_asset_class_exposure": 2.0**-1, "max_risk_contribution": 2.0**-2, "asset_class_risk_budget": 2.0**-1,
          "daily_loss": 2.0**-6, "weekly_loss": 2.0**-4, "max_asset_class_daily_loss": 2.0**-5,
          "dv01_brl_per_bp": 2.0**16}
QUIET_W = {"DI1_2Y": 0.25, "USDBRL": 0.0625, "IBOV": 0.0625, "SPX": 0.0625}
QUIET_C = {"DI1_2Y": 0.125, "USDBRL": 0.125, "IBOV": 0.125, "SPX": 0.125}


def _case(limit: str, f: float) -> tuple[Any, ...]:
    """(sizing, var table, components, pnls, limits) whose ``limit`` row's value is ``f`` x its limit."""
    w, dv01, comp = dict(QUIET_W), {"DI1_2Y": 1_000.0}, dict(QUIET_C)
    v95, pnls = 0.001, _pnls([0.0] * 5)
    lim = dict(DEFAULTS)
    if f in (WARN * UNDER, WARN, WARN * OVER):
        lim.update(DYADIC)  # x / limit == 0.8 has no float solution for some decimal limits (0.05, 0.7)
    if limit == "var_95":
        v95 = _at(lim["var_95"], f)
    elif limit == "var_99":
        lim["var_95"] = 1.0
        return _sizing(D, w, dv01), _var_table(v95, _at(lim["var_99"], f)), _components(comp), pnls, lim
    elif limit == "max_drawdown":
        pnls = _pnls([0.0, 0.0, 0.0, 0.0, -_at(lim["max_drawdown"], f)])
        lim["daily_loss"] = lim["weekly_loss"] = lim["max_asset_class_daily_loss"] = 1.0
    elif limit == "gross_leverage":
        lim["max_gross_leverage"] = 4.0
        w["DI1_2Y"] = _at(4.0, f) - 0.1875  # + 3 x 0.0625
    elif limit == "single_position":
        w["USDBRL"] = _at(lim["max_position"], f)
        lim["max_asset_class_exposure"] = 10.0
    elif limit == "asset_class_exposure":
        w["IBOV"] = _at(lim["max_asset_class_exposure"], f)
        lim["max_position"] = 10.0
    elif limit == "risk_contribution":
        comp["USDBRL"] = _at(lim["max_risk_contribution"], f)
    elif limit == "asset_class_risk_contribution":
        comp["DI1_2Y"] = _at(lim["asset_class_risk_budget"], f)
        lim["max_risk_contribution"] = 10.0
    elif limit == "daily_loss":
        pnls = _pnls([0.0, 0.0, 0.0, 0.0, -_at(lim["daily_loss"], f)])
        lim["max_asset_class_daily_loss"] = lim["max_drawdown"] = lim["weekly_loss"] = 1.0
    elif limit == "weekly_loss":
        pnls = _pnls([0.0, 0.0, 0.0, 0.0, -_at(lim["weekly_loss"], f)])
        lim["max_asset_class_daily_loss"] = lim["max_drawdown"] = lim["daily_loss"] = 1.0
    elif limit == "asset_class_daily_loss":
        x = _at(lim["max_asset_class_daily_loss"], f)
        pnls = _pnls([0.0, 0.0, 0.0, 0.0, 0.0], by_class={"USDBRL": -x, "IBOV": x})
    elif limit == "dv01":
        dv01 = {"DI1_2Y": 20_000.0, "UST_10Y": -(_at(lim["dv01_brl_per_bp"], f) - 20_000.0)}
        w["UST_10Y"] = 0.125
    else:  # pragma: no cover
        raise AssertionError(limit)
    return _sizing(D, w, dv01), _var_table(v95, v95 * 1.25), _components(comp), pnls, lim


LIMITS = ("var_95", "var_99", "max_drawdown", "gross_leverage", "single_position", "asset_class_exposure",
          "risk_contribution", "asset_class_risk_contribution", "daily_loss", "weekly_loss", "asset_class_daily_loss",
          "dv01")


@pytest.mark.parametrize("limit", LIMITS)
@pytest.mark.parametrize(("f", "status"), [(UNDER, "WARNING"), (AT, "BREACHED"), (OVER, "BREACHED"),
                                           (WARN * UNDER, "OK"), (WARN, "WARNING"), (WARN * OVER, "WARNING")])
def test_limit_at_its_threshold(limit: str, f: float, status: str) -> None:
    rows, _ = evaluate_limits(*_case(limit, f))
    by = {r.limit: r for r in rows}
    r = by[limit]
    assert r.value == pytest.approx(f * r.limit_value, rel=1e-12), (limit, r)
    if f == AT:
        assert r.utilisation == 1.0  # exactly at the limit, no rounding either way
    assert r.status == status, (limit, f, r)
    # strategy_daily_loss and stress_loss need inputs this case does not give (N/A); stress_loss is tested at its
    # threshold in test_risk_stress.py
    others = {k: v.status for k, v in by.items() if k not in (limit, "overall", "strategy_daily_loss", "stress_loss")}
    assert set(others.values()) <= {"OK"}, others  # the case moves only its own limit
    assert by["overall"].status == status


# ------------------------------------------------------------------------------------------- alerts

def _alerts(tables: dict, risk: dict | None = None, missing: tuple[tuple[str, str], ...] = ()) -> dict[str, Any]:
    for k in missing:
        tables.pop(k, None)
    inp = Inputs(tables=dict(tables), expected=tuple(sorted({a for a, _ in tables})))
    for k in missing:
        inp.missing[k] = "not built"
    return {a.rule_id: a for a in evaluate_alerts(inp, SESSION, RISK_PARAMS if risk is None else risk)}


def _quiet() -> dict:
    return all_tables(flips=0, surge=0.0)


def _set_limit_row(t: dict, name: str, value: float, limit: float | None = None) -> None:
    lim = t[("risk_limits", "part")]
    m = lim["limit"] == name
    lim.loc[m, "value"] = value
    if limit is not None:
        lim.loc[m, "limit_value"] = limit
    lim.loc[m, "utilisation"] = value / float(lim.loc[m, "limit_value"].iloc[0])


CASES = [(UNDER, False), (AT, False), (OVER, True)]  # strictly above fires


@pytest.mark.parametrize(("rule", "row", "limit"), [("VAR_BREACH", "var_95", 0.03), ("VAR_CRITICAL", "var_99", 0.05)])
@pytest.mark.parametrize(("f", "fired"), CASES)
def test_var_alerts_fire_strictly_above_the_limit(rule: str, row: str, limit: float, f: float, fired: bool) -> None:
    t = _quiet()
    _set_limit_row(t, row, limit * f)
    a = _alerts(t)[rule]
    assert a.threshold == limit and a.value == pytest.approx(limit * f, rel=1e-12)
    assert a.fired is fired, a


def _dd_tables(p: float) -> dict:
    t = _quiet()
    pnl = t[("risk_limits", "pnl")]
    pnl["pnl"] = [0.0, 0.0, 0.0, 0.0, p]
    return t


@pytest.mark.parametrize(("rule", "key"), [("DRAWDOWN_WARNING", "alerts"), ("DRAWDOWN_CRITICAL", "limits")])
@pytest.mark.parametrize(("f", "fired"), CASES)
def test_drawdown_alerts_fire_strictly_above(rule: str, key: str, f: float, fired: bool) -> None:
    loss = 0.07
    dd = 1.0 - (1.0 - loss) / 1.0  # equity 1 - loss after a flat peak of 1, by hand
    risk = {"limits": dict(RISK_PARAMS["limits"]), "alerts": dict(RISK_PARAMS["alerts"])}
    risk[key]["drawdown_warning" if key == "alerts" else "max_drawdown"] = dd / f  # value = f x threshold
    a = _alerts(_dd_tables(-loss), risk)[rule]
    assert a.value == dd and a.threshold == dd / f
    assert a.fired is fired, a


@pytest.mark.parametrize(("f", "fired"), [(UNDER, False), (AT, True), (OVER, True)])  # at or above fires
def test_limit_breach_fires_at_utilisation_one(f: float, fired: bool) -> None:
    t = _quiet()
    lim = t[("risk_limits", "part")]
    lim.loc[lim["limit"] == "gross_leverage", "utilisation"] = f
    a = _alerts(t)["LIMIT_BREACH"]
    assert a.threshold == 1.0 and a.value == f and a.fired is fired, a
    t2 = _quiet()
    t2[("risk_limits", "part")].loc[lambda x: x["limit"] == "gross_leverage", "utilisation"] = 0.9 * f
    a2 = _alerts(t2, {**RISK_PARAMS, "alerts": {**RISK_PARAMS["alerts"], "limit_breach_utilisation": 0.9}})
    assert a2["LIMIT_BREACH"].fired is fired  # a configured threshold moves the edge with it


@pytest.mark.parametrize(("threshold", "flips", "fired"), [(1, 0, False), (1, 1, True), (1, 2, True),
                                                           (2, 1, False), (2, 2, True), (2, 3, True)])
def test_signal_flip_fires_at_the_count(threshold: int, flips: int, fired: bool) -> None:
    risk = {**RISK_PARAMS, "alerts": {**RISK_PARAMS["alerts"], "signal_flip_count": threshold}}
    a = _alerts(all_tables(flips=flips, surge=0.0), risk)["SIGNAL_FLIP"]
    assert a.value == flips and a.threshold == threshold and a.fired is fired, a


@pytest.mark.parametrize(("f", "fired"), CASES)
def test_conviction_surge_fires_strictly_above(f: float, fired: bool) -> None:
    th = RISK_PARAMS["alerts"]["conviction_surge"]
    a = _alerts(all_tables(flips=0, surge=th * f))["CONVICTION_SURGE"]
    assert a.value == pytest.approx(th * f, rel=1e-12) and a.threshold == th and a.fired is fired, a
    neg = all_tables(flips=0, surge=th * f)
    ev = neg[("signal_monitor", "part")]
    ev["delta"] = -ev["delta"]  # a collapse of conviction counts like a surge
    assert _alerts(neg)["CONVICTION_SURGE"].fired is fired


@pytest.mark.parametrize(("behind", "fired"), [(1, False), (2, False), (3, True)])
def test_stale_data_fires_beyond_the_allowed_sessions(behind: int, fired: bool) -> None:
    t = _quiet()
    y = t[("bronze_yahoo", "part")]
    y["date"] = previous_sessions(SESSION, behind)[0]  # sessions_behind counts B3 sessions in (latest, session]
    a = _alerts(t)["STALE_DATA"]
    assert a.fired is fired, a
    if fired:
        assert "bronze_yahoo 3 sessions behind (max 2)" in a.message
    focus = _quiet()
    focus[("bronze_bcb_focus", "part")]["survey_date"] = previous_sessions(SESSION, 6 + behind - 2)[0]
    assert _alerts(focus)["STALE_DATA"].fired is fired  # Focus's own threshold: 6 sessions




@pytest.mark.parametrize(("threshold", "n", "fired"), [(0, 0, False), (0, 1, True), (1, 1, False), (1, 2, True)])
def test_pipeline_failure_and_agent_stale_fire_above_their_count(threshold: int, n: int, fired: bool) -> None:
    drop = (("risk_stress", "part"), ("risk_stress", "reverse"))[:n]
    risk = {**RISK_PARAMS, "alerts": {**RISK_PARAMS["alerts"], "pipeline_failure_missing": threshold,
                                      "agent_stale_missing": threshold}}
    a = _alerts(_quiet(), risk, missing=drop)["PIPELINE_FAILURE"]
    assert a.value == n and a.fired is fired, a
    agents = ("agent_inflation", "agent_fiscal")[:n]
    t = _quiet()
    for ag in agents:
        df = t[(ag, "part")]
        t[(ag, "part")] = df.loc[~df["is_composite"]]
    s = _alerts(t, risk)["AGENT_STALE"]
    assert s.value == n and s.fired is fired, s


# ------------------------------------------------------------------------------------------- calendar

@pytest.mark.parametrize(("local", "expected"), [
    (dt.time(18, 29, 59), dt.date(2026, 11, 23)),  # just under: Tuesday's session is not completed yet
    (dt.time(18, 30, 0), dt.date(2026, 11, 24)),  # exactly at 18:30 Sao Paulo: completed
    (dt.time(18, 30, 1), dt.date(2026, 11, 24)),
    (dt.time(0, 0, 0), dt.date(2026, 11, 23)),
])
def test_latest_session_turns_at_18_30_sao_paulo(local: dt.time, expected: dt.date) -> None:
    """``date: latest`` is the last session completed at 18:30 local time (UTC-3, no DST since 2019)."""
    from brmacro.calendar import latest_session

    utc = dt.datetime.combine(dt.date(2026, 11, 24), local, tzinfo=dt.timezone(dt.timedelta(hours=-3)))
    assert latest_session(utc.astimezone(dt.UTC)) == expected
    # Saturday evening after a Friday session: still Friday (not a session day, whatever the hour)
    sat = dt.datetime(2026, 11, 28, 21, 45, tzinfo=dt.UTC)  # 18:45 in Sao Paulo
    assert latest_session(sat) == dt.date(2026, 11, 27)
