"""risk_limits library: model-book P&L timing, loss limits (losses only, B3 sessions), limits, status."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from brmacro.calendar import is_session, previous_sessions
from brmacro.covariance import returns_matrix
from brmacro.params import defaults
from brmacro.risk import RiskInputError
from brmacro.risk.limits import evaluate_limits, loss_row, overall_status, status_of
from brmacro.risk.pnl import SessionPnl, held_sizing_date, model_book_pnl

DEFAULTS = defaults("risk.limits")

D = dt.date(2026, 11, 25)  # the week D-4..D spans the 2026-11-20 holiday (Dia da Consciencia Negra)
CLASSES = {"DI1_2Y": "rates_br", "USDBRL": "fx", "IBOV": "equity_br", "SPX": "equity_us", "UST_10Y": "rates_us"}


def _sizing(d: dt.date, weights: dict[str, float], dv01: dict[str, float] | None = None) -> pd.DataFrame:
    dv01 = dv01 or {}
    return pd.DataFrame({
        "date": d,
        "instrument": list(weights),
        "asset_class": [CLASSES[i] for i in weights],
        "target_weight": list(weights.values()),
        "weight": list(weights.values()),
        "notional_brl": [v * 1e8 for v in weights.values()],
        "contract": "X",
        "contracts": 0.0,
        "dv01_brl": [dv01.get(i, 0.0) for i in weights],
        "vol": 0.1,
        "method": "vol_target",
        "origin": "views: TEST",
    })


def _returns(days: list[dt.date], rets: dict[str, list[float]]) -> pd.DataFrame:
    rows = [{"date": d, "instrument": i, "ret": r[k]} for i, r in rets.items() for k, d in enumerate(days)]
    return returns_matrix(pd.DataFrame(rows), D)


def _var_table(v95: float, v99: float) -> pd.DataFrame:
    return pd.DataFrame({
        "method": ["historical", "historical", "parametric", "parametric", "monte_carlo", "monte_carlo"],
        "confidence": [0.95, 0.99] * 3,
        "var": [v95, v99, v95 * 0.9, v99 * 0.9, v95 * 0.95, v99 * 0.95],
        "cvar": [v95 * 1.2, v99 * 1.2] * 3,
    })


def _components(pct: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame({"instrument": list(pct), "weight": 0.0, "marginal_var": 0.0, "component_var": 0.0,
                         "pct_contribution": list(pct.values())})


def test_week_counts_b3_sessions_across_the_holiday() -> None:
    assert not is_session(dt.date(2026, 11, 20))
    sessions = [*previous_sessions(D, 6), D]  # 11-16, 11-17, 11-18, 11-19, 11-23, 11-24, 11-25
    assert dt.date(2026, 11, 20) not in sessions
    sizings = {d: _sizing(d, {"IBOV": 1.0}) for d in sessions[:-1]}
    # A -10% IBOV day on 11-17 is six sessions back: outside the week; every later day loses 1%.
    mat = _returns(sessions, {"IBOV": [0.0, -0.10, -0.01, -0.01, -0.01, -0.01, -0.01]})
    pnls = model_book_pnl(D, mat, sizings)
    assert [p.date for p in pnls] == sessions[2:]
    assert held_sizing_date(dt.date(2026, 11, 23)) == dt.date(2026, 11, 18)  # two sessions back skips 11-20
    assert all(p.available for p in pnls)
    week = loss_row("weekly_loss", sum(p.pnl for p in pnls if p.pnl is not None), 0.05, 0.8, "")
    assert week.value == pytest.approx(0.05) and week.status == "BREACHED"


def test_pnl_uses_sizing_of_two_sessions_before() -> None:
    d2, d1 = previous_sessions(D, 2)
    sizings = {d2: _sizing(d2, {"USDBRL": 1.0}), d1: _sizing(d1, {"USDBRL": -3.0})}
    mat = _returns([D], {"USDBRL": [0.02]})
    today = model_book_pnl(D, mat, sizings, n_sessions=1)[0]
    assert today.sizing_date == d2 and today.pnl == pytest.approx(0.02)  # not -0.06 from D-1's book


def test_missing_sizing_or_return_is_stated_not_zero() -> None:
    mat = _returns([D], {"USDBRL": [0.02]})
    rows = model_book_pnl(D, mat, {}, n_sessions=2)
    assert all(r.pnl is None and "start of history" in r.note for r in rows)
    d2 = previous_sessions(D, 2)[0]
    r = model_book_pnl(D, mat, {d2: _sizing(d2, {"IBOV": 1.0})}, n_sessions=1)[0]
    assert r.pnl is None and "IBOV" in r.note


def test_gain_never_breaches_and_losses_do() -> None:
    gain = loss_row("daily_loss", +0.10, 0.02, 0.8, "")
    assert gain.status == "OK" and gain.utilisation == 0.0 and gain.value == pytest.approx(-0.10)
    assert loss_row("daily_loss", -0.025, 0.02, 0.8, "").status == "BREACHED"
    warn = loss_row("daily_loss", -0.017, 0.02, 0.8, "")
    assert warn.status == "WARNING" and warn.utilisation == pytest.approx(0.85)
    assert loss_row("daily_loss", None, 0.02, 0.8, "x").status == "N/A"


def test_status_logic() -> None:
    assert status_of(0.5, 0.8) == "OK"
    assert status_of(0.8, 0.8) == "WARNING"
    assert status_of(1.0, 0.8) == "BREACHED"
    assert status_of(None, 0.8) == "N/A"
    assert overall_status(["OK", "N/A", "WARNING"]) == "WARNING"
    assert overall_status(["WARNING", "BREACHED"]) == "BREACHED"
    assert overall_status(["OK", "N/A"]) == "OK"


def _pnls(values: list[float | None], cls: str = "fx") -> list[SessionPnl]:
    days = [*previous_sessions(D, len(values) - 1), D]
    out = []
    for d, v in zip(days, values, strict=False):
        by = None if v is None else pd.Series({"USDBRL": v})
        ac = None if v is None else pd.Series({"USDBRL": cls})
        out.append(SessionPnl(d, previous_sessions(d, 2)[0], v, by, ac, "t"))
    return out


def test_evaluate_limits_values_and_overall() -> None:
    sizing = _sizing(D, {"DI1_2Y": 2.5, "USDBRL": -0.3, "IBOV": 0.1, "SPX": 0.2},
                     dv01={"DI1_2Y": 45_000.0})
    comp = _components({"DI1_2Y": 0.5, "USDBRL": 0.3, "IBOV": 0.1, "SPX": 0.1})
    # the Part B limits (the config defaults are looser for a DI1-heavy book)
    part_b = {**DEFAULTS, "max_gross_leverage": 3.0, "max_risk_contribution": 0.20, "asset_class_risk_budget": 0.40}
    rows, budget = evaluate_limits(
        sizing, _var_table(0.02, 0.03), comp, _pnls([0.001, -0.002, 0.0, 0.003, -0.004]), part_b
    )
    by = {r.limit: r for r in rows}
    assert by["var_95"].value == pytest.approx(0.02) and by["var_95"].utilisation == pytest.approx(0.02 / 0.03)
    assert by["gross_leverage"].value == pytest.approx(3.1) and by["gross_leverage"].status == "BREACHED"
    # DI1 notional is exempt from the single-position cap; USDBRL is the largest capped position.
    assert by["single_position"].value == pytest.approx(0.3) and by["single_position"].status == "BREACHED"
    assert by["asset_class_exposure"].value == pytest.approx(0.3)
    assert by["dv01"].value == pytest.approx(45_000.0) and by["dv01"].status == "WARNING"
    assert by["risk_contribution"].value == pytest.approx(0.5) and by["risk_contribution"].status == "BREACHED"
    assert by["daily_loss"].value == pytest.approx(0.004) and by["daily_loss"].status == "OK"
    assert by["weekly_loss"].value == pytest.approx(0.002)
    assert by["asset_class_daily_loss"].value == pytest.approx(0.004)
    # cumulative P&L 0, .001, -.001, -.001, .002, -.002: peak .002, now -.002
    assert by["max_drawdown"].value == pytest.approx(0.004)
    assert by["strategy_daily_loss"].status == "N/A"
    assert by["overall"].status == "BREACHED" and rows[-1].limit == "overall"
    b = budget.set_index(["level", "name"])
    assert b.loc[("asset_class", "rates_br"), "utilisation"] == pytest.approx(0.5 / 0.4)
    assert b.loc[("position", "USDBRL"), "utilisation"] == pytest.approx(0.3 / 0.2)
    assert b.loc[("total", "total"), "risk_contribution"] == pytest.approx(1.0)


def test_quiet_book_is_ok_and_large_gain_does_not_breach() -> None:
    sizing = _sizing(D, {"DI1_2Y": 0.5, "USDBRL": 0.05, "IBOV": 0.05, "SPX": 0.05, "UST_10Y": 0.1})
    comp = _components({"DI1_2Y": 0.15, "USDBRL": 0.15, "IBOV": 0.15, "SPX": 0.15, "UST_10Y": 0.15})
    rows, _ = evaluate_limits(sizing, _var_table(0.01, 0.015), comp, _pnls([0.01, 0.02, 0.05, 0.01, 0.08]))
    by = {r.limit: r for r in rows}
    assert by["daily_loss"].status == "OK" and by["weekly_loss"].status == "OK"
    assert by["daily_loss"].utilisation == 0.0 and by["weekly_loss"].value == pytest.approx(-0.17)
    assert by["overall"].status == "OK", [(r.limit, r.status) for r in rows]


def test_partial_week_and_unavailable_today() -> None:
    sizing = _sizing(D, {"USDBRL": 0.1})
    rows, _ = evaluate_limits(sizing, _var_table(0.01, 0.015), _components({"USDBRL": 1.0}),
                              _pnls([None, None, -0.01, -0.01, None]))
    by = {r.limit: r for r in rows}
    assert by["daily_loss"].status == "N/A" and by["asset_class_daily_loss"].status == "N/A"
    assert by["weekly_loss"].value == pytest.approx(0.02) and "partial: 2 of 5" in by["weekly_loss"].note
    assert "daily_loss" in by["overall"].note


def test_var_method_choice_and_bad_input() -> None:
    sizing = _sizing(D, {"USDBRL": 0.1})
    comp = _components({"USDBRL": 1.0})
    rows, _ = evaluate_limits(sizing, _var_table(0.02, 0.03), comp, _pnls([0.0]), {"var_method": "parametric"})
    assert {r.limit: r for r in rows}["var_95"].value == pytest.approx(0.018)
    bad = sizing.copy()
    bad["weight"] = np.nan
    with pytest.raises(RiskInputError, match="USDBRL"):
        evaluate_limits(bad, _var_table(0.02, 0.03), comp, _pnls([0.0]))
    with pytest.raises(RiskInputError, match="positive"):
        evaluate_limits(sizing, _var_table(0.02, 0.03), comp, _pnls([0.0]), {**DEFAULTS, "daily_loss": 0.0})


def test_var_limit_row_picks_the_var_row_of_a_confidence_never_cvar() -> None:
    from brmacro.risk.limits import var_limit_row

    tab = pd.DataFrame({"limit": ["cvar_95", "var_99", "var_95", "gross_leverage"],
                        "limit_value": [0.04, 0.05, 0.03, 3.0]})
    assert var_limit_row(tab, "95")["limit_value"] == 0.03
    assert var_limit_row(tab, "99")["limit_value"] == 0.05
    assert var_limit_row(tab.iloc[[0, 3]], "95") is None
