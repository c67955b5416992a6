"""Tests written to kill the mutants that passed (or barely died in) the unit suite (issue 20).

Each test sits where the bug would live (the step's wiring, the declared schema, the registry row) and
compares against numbers computed here by hand, never against the library function under test. The
mutant each test kills is named in its docstring; ``bench/mutation.py`` re-applies them.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from types import SimpleNamespace

import cvxpy as cp
import numpy as np
import pandas as pd
import pytest

from brmacro.agents.schemas import SIGNALS
from brmacro.bronze.live.sgs import parse_sgs
from brmacro.calendar import anbima_days, previous_sessions
from brmacro.io import ArtifactError, Col, Schema, params_hash, write_table
from brmacro.params import defaults
from brmacro.portfolio.optimizer import mean_variance
from brmacro.portfolio.steps import (
    portfolio_config,
    portfolio_optimization,
    portfolio_sizing,
    reshape_for_risk_budget,
    small_book_note,
)
from brmacro.risk import RiskInputError
from brmacro.risk.limits import budget_table, evaluate_limits, loss_row
from brmacro.risk.stress import instrument_rates, reverse_multiplier
from brmacro.risk.var import monte_carlo_var, select_window
from brmacro.series import by_name
from brmacro.silver.returns import build_returns
from tests.unit import test_signals_fixtures as fx
from tests.unit import test_silver_returns as sr
from tests.unit.test_portfolio import _inputs
from tests.unit.test_risk_limits import _components, _pnls, _sizing, _var_table

ASOF = dt.date(2026, 11, 24)
DEFAULT_CONFIG = defaults("portfolio")
NAMES = list(DEFAULT_CONFIG["universe"])


# ------------------------------------------------------------------------------------------- io / schemas

@pytest.mark.parametrize("col", [0, 1, 2])
def test_every_column_is_checked_including_the_first(tmp_path: Path, col: int) -> None:
    """Kills ``io.py``: the schema check skipping a column (``self.cols`` -> ``self.cols[1:]`` / ``[:-1]``)."""
    s = Schema("three", (Col("a", "float", lo=0.0, hi=1.0), Col("b", "float", lo=0.0, hi=1.0),
                         Col("c", "float", lo=0.0, hi=1.0)))
    good = {"a": [0.5], "b": [0.5], "c": [0.5]}
    write_table(pd.DataFrame(good), tmp_path / "ok.parquet", s, asof=ASOF, source="demo")
    bad = {**good, "abc"[col]: [1.5]}
    with pytest.raises(ArtifactError, match=f"column '{'abc'[col]}' = .*1\\.5.* outside"):
        write_table(pd.DataFrame(bad), tmp_path / "bad.parquet", s, asof=ASOF, source="demo")
    missing = {**good, "abc"[col]: [np.nan]}
    with pytest.raises(ArtifactError, match=f"column '{'abc'[col]}' is missing a value"):
        write_table(pd.DataFrame(missing), tmp_path / "bad.parquet", s, asof=ASOF, source="demo")
    assert not (tmp_path / "bad.parquet").exists()


def _signal(confidence: float) -> pd.DataFrame:
    return pd.DataFrame([{
        "date": ASOF, "agent": "inflation", "signal_id": "INFLATION_PHILLIPS", "instrument": "DI1_2Y",
        "direction": 1, "strength": "STRONG", "confidence": confidence, "value": 0.01, "horizon": 21,
        "is_composite": False, "drivers": "{}",
    }], columns=SIGNALS.names)


def test_agent_confidence_above_one_is_refused_at_write(tmp_path: Path) -> None:
    """Kills ``agents/schemas.py``: the ``hi=1.0`` bound on agent ``confidence`` removed (or loosened)."""
    write_table(_signal(1.0), tmp_path / "one.parquet", SIGNALS, asof=ASOF, source="demo")  # exactly 1: a certainty
    write_table(_signal(0.0), tmp_path / "zero.parquet", SIGNALS, asof=ASOF, source="demo")
    for bad in (1.0 + 1e-9, 1.2, 100.0, -1e-9):  # 100 = a percent written where a fraction is due
        with pytest.raises(ArtifactError, match="'confidence'"):
            write_table(_signal(bad), tmp_path / "bad.parquet", SIGNALS, asof=ASOF, source="demo")
    assert not (tmp_path / "bad.parquet").exists()


# ------------------------------------------------------------------------------------------- series / bronze

def test_sgs_cdi_is_stored_as_a_decimal_per_day() -> None:
    """Kills ``series.py``: SGS series 12 (CDI) left in percent instead of decimal (scale 0.01 -> 1)."""
    s = by_name("br_cdi_daily")
    assert s.sid == "bcb_sgs:12"
    # the BCB publishes CDI as percent per day, e.g. 0.040168 % on a day of CDI 10.65 % a year
    body = b'[{"data":"02/01/2024","valor":"0.043739"},{"data":"03/01/2024","valor":"0.040168"}]'
    df = parse_sgs(200, body, s, dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    assert df["value"].tolist() == pytest.approx([0.00043739, 0.00040168], rel=1e-12)
    annual = (1.0 + df["value"].iloc[1]) ** 252 - 1.0
    assert annual == pytest.approx(0.1065, abs=5e-4)  # a plausible Brazilian overnight rate, as a decimal


# ------------------------------------------------------------------------------------------- silver_returns

def test_carry_uses_the_cdi_fixed_on_the_previous_session() -> None:
    """Kills ``silver/returns.py``: CDI of the same session used for the carry instead of the previous one.

    The fixture's CDI differs every session, so a one-session shift changes every return.
    """
    inp = sr.make_inputs()
    sgs = inp["bronze_bcb_sgs"].copy()
    cdi_by_day = {d: 0.00030 + 0.00001 * i for i, d in enumerate(sorted(sgs["observation_date"]))}
    sgs["value"] = sgs["observation_date"].map(cdi_by_day)
    inp["bronze_bcb_sgs"] = sgs
    part = build_returns(inp, sr.D, sr._params(lookback_sessions=12))["part"]
    lv = part.pivot(index="date", columns="instrument", values="level")
    rt = part.pivot(index="date", columns="instrument", values="ret")
    days = list(lv.index)
    checked = 0
    for d0, d1 in zip(days[:-1], days[1:], strict=False):
        cdi0 = cdi_by_day[d0]  # fixed on d0, accrued over (d0, d1]
        carry = (1.0 + cdi0) ** anbima_days(d0, d1) - 1.0
        assert rt.loc[d1, "IBOV"] == pytest.approx(lv.loc[d1, "IBOV"] / lv.loc[d0, "IBOV"] - 1.0 - carry,
                                                   rel=1e-12, abs=1e-15)
        sofr_c = sr.SOFR * (d1 - d0).days / 360.0
        assert rt.loc[d1, "USDBRL"] == pytest.approx(
            lv.loc[d1, "USDBRL"] / lv.loc[d0, "USDBRL"] - 1.0 - (carry - sofr_c), rel=1e-12, abs=1e-15)
        checked += 1
    assert checked == 11


# ------------------------------------------------------------------------------------------- risk_limits

def test_dv01_limit_is_on_gross_not_net_exposure() -> None:
    """Kills ``risk/limits.py``: the DV01 limit computed on net instead of gross DV01.

    A receiver and a payer of almost the same DV01 net to ~1,000 BRL/bp but carry 59,000 BRL/bp of
    curve risk: above the 50,000 limit.
    """
    sz = _sizing(ASOF, {"DI1_2Y": 1.0, "UST_10Y": -0.5, "USDBRL": 0.1},
                 dv01={"DI1_2Y": 30_000.0, "UST_10Y": -29_000.0})
    rows, _ = evaluate_limits(sz, _var_table(0.01, 0.015), _components({"DI1_2Y": 0.5, "UST_10Y": 0.3,
                                                                         "USDBRL": 0.2}), [], {})
    dv01 = {r.limit: r for r in rows}["dv01"]
    assert dv01.value == pytest.approx(59_000.0)
    assert dv01.limit_value == 50_000.0 and dv01.utilisation == pytest.approx(59_000.0 / 50_000.0)
    assert dv01.status == "BREACHED"
    assert {r.limit: r for r in rows}["overall"].status == "BREACHED"
    # two receivers of opposite-sign DV01 in BR rates: same gross, same breach
    sz2 = _sizing(ASOF, {"DI1_2Y": 1.0}, dv01={"DI1_2Y": -59_000.0})
    dv01b = {r.limit: r for r in evaluate_limits(sz2, _var_table(0.01, 0.015), _components({"DI1_2Y": 1.0}), [],
                                                 {})[0]}["dv01"]
    assert dv01b.value == pytest.approx(59_000.0) and dv01b.status == "BREACHED"


# ------------------------------------------------------------------------------------------- portfolio steps

@pytest.fixture(scope="module")
def tabs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, pd.DataFrame]]:
    return _inputs(tmp_path_factory.mktemp("tabs"))


def _opt(tmp: Path, tabs: dict, params: dict, name: str = "o") -> dict[str, pd.DataFrame]:
    return portfolio_optimization(fx.context(tmp / name, "portfolio_optimization", tabs, params))


def _sigma(cov: pd.DataFrame) -> np.ndarray:
    return cov.pivot(index="instrument_a", columns="instrument_b", values="cov").loc[NAMES, NAMES].to_numpy(float)


def test_optimiser_lower_bounds_reach_and_bind_in_the_step(tmp_path: Path, tabs: dict) -> None:
    """Kills ``portfolio/optimizer.py``: the ``w >= lower`` constraint dropped (or the step not passing it).

    The fixture's views want short USDBRL (about -0.10 with the default bounds) and short DI1_2Y (about
    -0.46) beyond the bounds set here, one bound at a time (USDBRL held at its bound moves DI1_2Y's optimum
    too); the book must sit exactly on each lower bound, not merely near it.
    """
    free = _opt(tmp_path, tabs, {}, "free")["part"].set_index("instrument")
    assert free.loc["USDBRL", "target_weight"] < -0.08 and free.loc["DI1_2Y", "target_weight"] < -0.3
    for name, lower in (("USDBRL", -0.05), ("DI1_2Y", -0.2)):
        bounds = {**DEFAULT_CONFIG["bounds"], name: [lower, DEFAULT_CONFIG["bounds"][name][1]]}
        part = _opt(tmp_path, tabs, {"portfolio": {"bounds": bounds}}, name)["part"].set_index("instrument")
        assert part.loc[name, "lower"] == lower
        assert part.loc[name, "target_weight"] == pytest.approx(lower, abs=1e-5)  # solver tolerance
    long_only = {k: [0.0, v[1]] for k, v in DEFAULT_CONFIG["bounds"].items()}
    lo = _opt(tmp_path, tabs, {"portfolio": {"bounds": long_only}}, "lo")["part"]
    assert (lo["target_weight"] >= -1e-7).all(), lo[["instrument", "target_weight"]]
    assert (lo.set_index("instrument").loc[["USDBRL", "DI1_1Y", "DI1_2Y"], "target_weight"].abs() < 1e-7).all()


def test_class_caps_reach_the_optimiser(tmp_path: Path, tabs: dict) -> None:
    """Kills ``portfolio/steps.py``: class caps that never reach the optimiser (groups empty or not passed)."""
    free = _opt(tmp_path, tabs, {"portfolio": {"class_caps": dict.fromkeys(DEFAULT_CONFIG["class_caps"], 100.0)}},
                "free")["part"]
    free_rates = free.loc[free["asset_class"] == "rates_br", "target_weight"].abs().sum()
    assert free_rates > 0.35  # the views want more than the cap tested below (about 0.39 of DI1_2Y)
    caps = {**DEFAULT_CONFIG["class_caps"], "rates_br": 0.3}
    part = _opt(tmp_path, tabs, {"portfolio": {"class_caps": caps}}, "cap")["part"]
    rates = part.loc[part["asset_class"] == "rates_br", "target_weight"].abs().sum()
    assert rates == pytest.approx(0.3, abs=1e-5)  # binding, not just below


def test_view_uncertainty_follows_regime_clarity(tmp_path: Path, tabs: dict) -> None:
    """Kills ``portfolio/steps.py``: Ω ignoring the regime clarity (raw confidence used for Ω).

    ``Ω_ii = τ σ_ii / (c_i (floor + (1 - floor) clarity) + ε)`` computed here from the step's own Σ table.
    """
    tau, floor, eps = DEFAULT_CONFIG["tau"], DEFAULT_CONFIG["clarity_floor"], DEFAULT_CONFIG["omega_eps"]
    got = {}
    for clarity in (0.0, 1.0):
        t = {**tabs, "agent_cross_asset": {**tabs["agent_cross_asset"],
                                           "view": tabs["agent_cross_asset"]["view"].assign(regime_clarity=clarity)}}
        o = _opt(tmp_path, t, {}, f"c{clarity}")
        sigma = _sigma(o["covariance"])
        v = o["views"].set_index("view_id")
        assert len(v) >= 3
        scale = floor + (1.0 - floor) * clarity
        for _vid, r in v.iterrows():
            i = NAMES.index(r["instrument"])
            assert r["adj_confidence"] == pytest.approx(r["confidence"] * scale, rel=1e-12)
            assert r["omega"] == pytest.approx(tau * sigma[i, i] / (r["confidence"] * scale + eps), rel=1e-9)
        got[clarity] = o
    # an unclear regime (clarity 0) makes every view 5x less certain than a clear one
    ratio = got[0.0]["views"]["omega"].to_numpy() / got[1.0]["views"]["omega"].to_numpy()
    conf = got[0.0]["views"]["confidence"].to_numpy()
    np.testing.assert_allclose(ratio, (conf + eps) / (conf * floor + eps), rtol=1e-9)
    assert not np.allclose(got[0.0]["part"]["posterior_return"], got[1.0]["part"]["posterior_return"])


def test_sizing_vol_target_is_annualised_by_hand(tmp_path: Path, tabs: dict) -> None:
    """Kills ``portfolio/sizing.py``: ``book_vol`` without annualisation (checked without ``book_vol``).

    With caps that never bind (the portfolio bounds and caps and the ``risk.limits`` the sizing enforces:
    gross, DV01, VaR, position and class risk contributions) and a NAV so large that rounding to whole
    contracts moves the book by less than 1e-7, the sized book's ex-ante volatility ``sqrt(252 · wᵀΣw)`` is
    the 10 % target; the optimiser's reported ``ex_ante_vol`` is the same formula on its targets.
    """
    wide = {"portfolio": {"bounds": {k: [-50.0, 50.0] for k in NAMES}, "gross_leverage": 100.0,
                          "class_caps": dict.fromkeys(DEFAULT_CONFIG["class_caps"], 100.0)},
            "risk": {"limits": {"max_risk_contribution": 1.0, "asset_class_risk_budget": 1.0, "max_position": 50.0,
                                "max_asset_class_exposure": 100.0, "max_gross_leverage": 100.0,
                                "dv01_brl_per_bp": 1e15, "var_95": 1.0, "var_99": 1.0}},
            "nav_brl": 1e12}
    o = _opt(tmp_path, tabs, wide, "wide")
    t = {**tabs, "portfolio_optimization": o}
    sized = portfolio_sizing(fx.context(tmp_path / "sz", "portfolio_sizing", t, wide))
    assert sized["book"]["binding"].iloc[0] == "vol_target"  # no cap binds: the target alone sizes the book
    out = sized["part"].set_index("instrument")
    sigma = _sigma(o["covariance"])
    w = out.loc[NAMES, "weight"].to_numpy(float)
    daily_var = float(np.einsum("i,ij,j->", w, sigma, w))
    assert np.sqrt(daily_var) == pytest.approx(0.10 / np.sqrt(252.0), rel=1e-6)  # 0.63 % a day
    target = o["part"].set_index("instrument").loc[NAMES, "target_weight"].to_numpy(float)
    solve = o["solve"].iloc[0]
    assert solve["ex_ante_vol"] == pytest.approx(np.sqrt(252.0 * float(np.einsum("i,ij,j->", target, sigma,
                                                                                  target))), rel=1e-9)
    assert solve["gross"] == pytest.approx(np.abs(target).sum(), rel=1e-12)
    # each instrument's annualised vol column is sqrt(252 σ_ii)
    np.testing.assert_allclose(out.loc[NAMES, "vol"].to_numpy(float), np.sqrt(252.0 * np.diag(sigma)), rtol=1e-9)


# ------------------------------------------------------------------------------------------- sampled survivors
# Survivors of the seeded sample of `python -m bench.mutation sample` (bench/RESULTS.md) that were real gaps.

def test_zn_rolls_on_the_last_weekday_before_the_contract_month() -> None:
    """Kills ``desk/contracts.py`` ``_zn_first_notice`` off by a day (ZN first-notice day and roll).

    Contract selection moved from ``portfolio/sizing.py`` (``cme_quarterly_contract``) to
    ``brmacro.desk.contracts``: ZN's expiry is the first notice day, the last weekday of the month before the
    contract month, and the desk may hold it up to that session; it rolls ``desk.roll_sessions["ZN"]`` B3
    sessions before.
    """
    from brmacro.desk.contracts import contract_info, front_contract

    # December 2026 ZN: the last weekday of November 2026 is Monday the 30th
    z26 = contract_info("ZNZ26")
    assert (z26.expiry, z26.last_session) == (dt.date(2026, 11, 30), dt.date(2026, 11, 30))
    # March 2027 ZN: the last weekday of February 2027 is Friday the 26th (the 28th is a Sunday)
    h27 = contract_info("ZNH27")
    assert (h27.expiry, h27.last_session) == (dt.date(2027, 2, 26), dt.date(2027, 2, 26))
    # held to the first notice day itself (no roll window): the day before still December, on it March
    now = {"roll_sessions": {"ZN": 0}}
    assert front_contract("ZN", dt.date(2026, 11, 27), now).code == "ZNZ26"  # Friday before: still December
    assert front_contract("ZN", dt.date(2026, 11, 30), now).code == "ZNH27"  # on the first notice day: March
    assert front_contract("ZN", dt.date(2027, 2, 25), now).code == "ZNH27"
    assert front_contract("ZN", dt.date(2027, 2, 26), now).code == "ZNM27"
    # the default 3-session roll window: B3 sessions in (D, 30 Nov] are 25, 26, 27, 30 Nov from the 24th
    assert front_contract("ZN", dt.date(2026, 11, 24), {}).code == "ZNZ26"  # 4 sessions left: still held
    assert front_contract("ZN", dt.date(2026, 11, 25), {}).code == "ZNH27"  # 3 left: in the roll window


def test_overall_limit_value_is_the_highest_utilisation() -> None:
    """Kills ``risk/limits.py``: the overall row's value taken as the lowest utilisation (``max`` -> ``min``)."""
    sz = _sizing(ASOF, {"DI1_2Y": 1.0, "USDBRL": 0.2}, dv01={"DI1_2Y": 25_000.0})
    rows, _ = evaluate_limits(sz, _var_table(0.015, 0.02), _components({"DI1_2Y": 0.2, "USDBRL": 0.1}), [], {})
    by = {r.limit: r for r in rows}
    assert by["var_95"].utilisation == pytest.approx(0.5) and by["dv01"].utilisation == pytest.approx(0.5)
    assert by["single_position"].utilisation == pytest.approx(0.8)  # 0.2 / 0.25: the highest
    assert by["overall"].value == pytest.approx(0.8) and by["overall"].status == "WARNING"


def test_canonical_rounding_of_large_numbers_keeps_twelve_digits(tmp_path: Path) -> None:
    """Kills ``io.py`` ``_canonical_float``: the branch for |x| >= 1e12 dividing instead of multiplying back."""
    from brmacro.io import read_table

    s = Schema("big", (Col("x", "float"),))
    p = write_table(pd.DataFrame({"x": [1234567890123456.0, -9.87654321098765e15, 123.4567890123456]}),
                    tmp_path / "big.parquet", s, asof=ASOF, source="demo")
    assert read_table(p, s)["x"].tolist() == [1234567890120000.0, -9.87654321099e15, 123.456789012]


def test_usd_futures_contracts_by_hand(tmp_path: Path, tabs: dict) -> None:
    """Kills ``portfolio/steps.py``: ZN and ES contract counts (USD notionals via PTAX), checked by hand.

    ZN: notional / PTAX / (USD 1,000 x price of a 6 % 10-year semi-annual note at the 10-year yield);
    ES: notional / PTAX / (USD 50 x S&P level).

    The fixture's views are on Brazilian instruments only, so ``hedges: allow`` lets the optimiser hold UST
    and S&P (the default ``forbid`` holds them at zero). The sized book is rounded to whole contracts, so the
    hand count is a whole number and equals the table's count.
    """
    p = {"portfolio": {"hedges": "allow"}}
    t = {**tabs, "portfolio_optimization": _opt(tmp_path, tabs, p, "usd")}
    book = portfolio_sizing(fx.context(tmp_path / "usd_sz", "portfolio_sizing", t, p))["part"].set_index("instrument")
    ptax = float(tabs["silver_returns"]["prices"].query("series == 'ptax:USDBRL'").sort_values("date")["value"]
                 .iloc[-1])
    lv = tabs["silver_returns"]["part"].sort_values("date")
    y = float(lv.loc[lv["instrument"] == "UST_10Y", "level"].iloc[-1])
    spx = float(lv.loc[lv["instrument"] == "SPX", "level"].iloc[-1])
    v = 1.0 / (1.0 + y / 2.0)
    price = sum(3.0 * v**k for k in range(1, 21)) + 100.0 * v**20
    zn, es = book.loc["UST_10Y"], book.loc["SPX"]
    assert zn["notional_brl"] != 0 and es["notional_brl"] != 0
    zn_hand, es_hand = zn["notional_brl"] / ptax / (1_000.0 * price), es["notional_brl"] / ptax / (50.0 * spx)
    assert zn_hand == pytest.approx(np.rint(zn_hand), abs=1e-6) and es_hand == pytest.approx(np.rint(es_hand), abs=1e-6)
    assert zn["contracts"] == np.rint(zn_hand) != 0 and zn["contract"] == "ZNZ26"
    assert es["contracts"] == np.rint(es_hand) != 0 and es["contract"] == "ESZ26"
    # and the UST DV01 in BRL: notional x duration x 1 bp, sign of the position; an equity future has none
    assert np.sign(zn["dv01_brl"]) == np.sign(zn["weight"])
    assert es["dv01_brl"] == 0.0


def test_black_litterman_refuses_mismatched_shapes() -> None:
    """Kills ``portfolio/black_litterman.py``: the Σ/π shape check weakened (``or`` -> ``and``)."""
    from brmacro.portfolio.black_litterman import black_litterman

    sigma = np.eye(3) * 1e-4
    with pytest.raises(ValueError, match="do not match"):
        black_litterman(sigma, np.zeros(2), np.zeros((0, 3)), np.zeros(0), np.zeros((0, 0)), 0.05)
    with pytest.raises(ValueError, match="do not match"):
        black_litterman(np.eye(3)[:, :2], np.zeros(3), np.zeros((0, 3)), np.zeros(0), np.zeros((0, 0)), 0.05)


def test_a_held_instrument_with_a_nan_return_makes_the_pnl_unavailable() -> None:
    """Kills ``risk/pnl.py``: a held instrument present with a non-finite return counted as available."""
    from brmacro.risk.pnl import model_book_pnl

    d = dt.date(2026, 11, 25)
    d2 = previous_sessions(d, 2)[0]
    mat = pd.DataFrame({"USDBRL": [np.nan], "IBOV": [0.01]}, index=pd.Index([d], name="date"))
    r = model_book_pnl(d, mat, {d2: _sizing(d2, {"USDBRL": 1.0, "IBOV": 0.5})}, n_sessions=1)[0]
    assert r.pnl is None and "USDBRL" in r.note


def test_monte_carlo_t_marginals_carry_their_scale() -> None:
    """Kills ``risk/var.py``: the t marginals' scale divided instead of multiplied (``* scales`` -> ``/``).

    One instrument, t with 5 degrees of freedom and scale 1 %: the one-day 99 % VaR of a unit position is
    ``0.01 x t_5^{-1}(0.99) = 3.36 %`` up to sampling error; a 2-instrument book with a normal leg too.
    """
    from scipy import stats

    rng = np.random.default_rng(20)
    out = monte_carlo_var(np.array([1.0]), np.array([[1e-4]]), np.array([5.0]), np.array([0.01]), [0.99], 200_000,
                          rng)
    assert out[0.99][0] == pytest.approx(0.01 * stats.t.ppf(0.99, 5), rel=0.03)
    two = monte_carlo_var(np.array([1.0, 2.0]), np.diag([1e-4, 4e-6]), np.array([5.0, 1e9]), np.array([0.01, 0.002]),
                          [0.95], 200_000, np.random.default_rng(21))
    # independent legs: the VaR is between the t leg's alone and the sum of both legs' VaRs
    t_leg, n_leg = 0.01 * stats.t.ppf(0.95, 5), 2 * 0.002 * stats.norm.ppf(0.95)
    assert t_leg < two[0.95][0] < t_leg + n_leg


@pytest.mark.parametrize(("start_offset", "outcome"),
                         [(-2, "replayed"), (-1, "replayed"), (0, "empty"), (1, "refused")])
def test_replay_window_starting_on_the_session_is_replayed(start_offset: int, outcome: str) -> None:
    """Kills ``risk/stress.py``: a replay window that starts on the session itself refused (``>`` -> ``>=``).

    A window is measured from the close of its first session (docs/risk.md), so its P&L compounds the returns
    of the sessions after the first, up to the session; its coverage counts those sessions. Window start two
    sessions before, one before, on, and one after the session (end: the next session): only "after" is
    refused as starting after the session; one starting on it is accepted but has no return yet.
    """
    from brmacro.calendar import next_session, previous_session
    from brmacro.risk.stress import replay_window

    d = dt.date(2026, 11, 24)
    p1 = previous_session(d)
    p2 = previous_session(p1)
    start = {-2: p2, -1: p1, 0: d, 1: next_session(d)}[start_offset]
    idx = pd.Index([p2, p1, d], name="date")
    mat = pd.DataFrame({"IBOV": [-0.01, -0.02, -0.05]}, index=idx)  # p2's own return is before its close
    res = replay_window(mat, pd.Series({"IBOV": 0.5}), start, next_session(d), d)
    if outcome == "replayed":
        rets = [-0.02, -0.05] if start_offset == -2 else [-0.05]  # the sessions after the first, to the session
        growth = float(np.prod([1.0 + r for r in rets])) - 1.0
        assert res.pnl == pytest.approx(0.5 * growth, rel=1e-12)
        assert res.n_sessions == len(rets)
        # sessions after the first up to the window's end (the next session, not yet in the returns)
        assert res.coverage == pytest.approx(len(rets) / (len(rets) + 1), rel=1e-12)
        assert "starts after the session" not in res.note
    elif outcome == "empty":  # accepted; nothing after its first close yet
        assert res.pnl is None and res.n_sessions == 0
        assert "starts after the session" not in res.note and "not in history" in res.note
    else:
        assert res.pnl is None and "starts after the session" in res.note


def test_moment_fitted_t_marginals_match_the_sample_variance() -> None:
    """Kills ``risk/var.py`` ``fit_t_marginals``: the moments fit's scale ``sd·sqrt((ν-2)/ν)`` inverted.

    A Student-t with ν degrees of freedom and scale s has variance ``s² ν / (ν - 2)``: the moments fit
    must reproduce the sample variance exactly, and ν from the excess kurtosis ``6 / (ν - 4)``.
    """
    from scipy import stats

    from brmacro.risk.var import fit_t_marginals

    rng = np.random.default_rng(5)
    x = np.column_stack([0.01 * rng.standard_t(7, 4000), 0.02 * rng.standard_t(12, 4000)])
    dfs, scales = fit_t_marginals(x, "moments")
    sd = x.std(axis=0, ddof=1)
    assert np.all(dfs < 1_000.0)  # both columns fat-tailed: t marginals, not normal
    np.testing.assert_allclose(scales**2 * dfs / (dfs - 2.0), sd**2, rtol=1e-12)
    g2 = np.array([stats.kurtosis(x[:, j], fisher=True, bias=False) for j in range(2)])
    np.testing.assert_allclose(dfs, 4.0 + 6.0 / g2, rtol=1e-12)


def test_returns_window_starting_on_the_first_observation_keeps_it() -> None:
    """Kills ``silver/returns.py`` ``_aligned``: the first observation of a series dropped (``pos >= 0`` -> ``> 0``).

    With a lookback longer than the history, the window starts on the latest first observation of all inputs;
    that session's levels are the observed values themselves.
    """
    inp = sr.make_inputs()
    part = build_returns(inp, sr.D, sr._params(lookback_sessions=60))["part"]
    first = part["date"].min()
    y = inp["bronze_yahoo"]
    for inst, tk in (("IBOV", "^BVSP"), ("SPX", "^GSPC")):
        obs = y.loc[(y["ticker"] == tk) & (y["date"] == first), "close"]
        assert len(obs) == 1
        lvl = part.loc[(part["date"] == first) & (part["instrument"] == inst), "level"]
        assert lvl.tolist() == pytest.approx(obs.tolist(), rel=1e-12)


def test_optimiser_refuses_a_zero_risk_aversion() -> None:
    """Kills ``portfolio/optimizer.py``: ``delta <= 0`` loosened to ``< 0`` (δ = 0 makes risk free)."""
    mu, m = np.array([0.001, -0.001]), np.diag([1e-4, 1e-4])
    for delta in (0.0, -1.0):
        res = mean_variance(mu, m, delta, np.full(2, -1.0), np.full(2, 1.0), 2.0)
        assert res.status == "invalid_input" and res.fallback and not res.weights.any()
    ok = mean_variance(mu, m, 1e-9, np.full(2, -1.0), np.full(2, 1.0), 2.0)
    assert ok.status == "optimal" and ok.weights == pytest.approx([1.0, -1.0], abs=1e-6)  # bounds bind


def test_parameter_hash_follows_the_parameters(tmp_path: Path) -> None:
    """Kills ``io.py``: the ``brmacro.params_hash`` metadata ignoring the parameters given."""
    from brmacro.io import read_meta

    s = Schema("t", (Col("x", "float"),))
    df = pd.DataFrame({"x": [1.0]})
    h = {}
    for name, params in (("a", {"k": 1}), ("b", {"k": 2}), ("c", None)):
        h[name] = read_meta(write_table(df, tmp_path / f"{name}.parquet", s, asof=ASOF, source="demo",
                                        params=params))["brmacro.params_hash"]
    assert len({h["a"], h["b"], h["c"]}) == 3
    assert h["c"] == params_hash({})


def test_registry_scales_follow_the_units() -> None:
    """Kills ``series.py``: a registry scale that does not match its unit (CDI left in percent, an index x 0).

    Sources publish rates, inflation and growth in percent: ``dec``/``dec_day`` series are scaled by 0.01;
    levels, indices and amounts are kept as published (scale 1).
    """
    from brmacro.series import SERIES

    for s in SERIES:
        expected = 0.01 if s.unit in ("dec", "dec_day") else 1.0
        assert s.scale == expected, (s.name, s.unit, s.scale)
    assert by_name("br_cdi_daily").unit == "dec_day" and by_name("us_indpro").unit == "index"


def test_var_covariance_is_ledoit_wolf_on_standardised_returns() -> None:
    """Kills ``risk/var.py`` ``shrunk_covariance``: returns scaled by σ instead of standardised before shrinking.

    Reference: scikit-learn's Ledoit-Wolf on the z-scores computed here; the variances are kept as sampled.
    """
    from sklearn.covariance import LedoitWolf

    from brmacro.risk.var import shrunk_covariance

    rng = np.random.default_rng(11)
    base = rng.standard_normal((300, 3)) @ np.array([[1.0, 0.4, 0.0], [0.0, 1.0, 0.3], [0.0, 0.0, 1.0]])
    x = base * np.array([0.01, 0.03, 0.002])
    cov, shrinkage = shrunk_covariance(x, ["a", "b", "c"])
    sd = x.std(axis=0, ddof=1)
    z = (x - x.mean(axis=0)) / sd
    ref = LedoitWolf().fit(z)
    assert shrinkage == pytest.approx(ref.shrinkage_, rel=1e-12)
    np.testing.assert_allclose(np.diag(cov), sd**2, rtol=1e-12)
    c = ref.covariance_
    np.testing.assert_allclose(cov, c / np.sqrt(np.outer(np.diag(c), np.diag(c))) * np.outer(sd, sd), rtol=1e-10)


def test_flat_book_has_no_risk_contribution_and_breaches_nothing() -> None:
    """Kills ``risk/limits.py``: a flat book given a risk contribution (flat-book rows, ``and`` -> ``or``)."""
    sz = _sizing(ASOF, {"DI1_2Y": 0.0, "USDBRL": 0.0})
    rows, _ = evaluate_limits(sz, _var_table(0.0, 0.0), _components({"DI1_2Y": 0.0, "USDBRL": 0.0}), [], {})
    by = {r.limit: r for r in rows}
    for name in ("risk_contribution", "asset_class_risk_contribution"):
        assert by[name].value == 0.0 and by[name].status == "OK" and by[name].note == "flat book"
    assert by["overall"].status == "OK" and by["overall"].value == 0.0


def test_black_litterman_refuses_views_that_disagree() -> None:
    """Kills ``portfolio/black_litterman.py``: the P/Q/Ω agreement check weakened (``or`` -> ``and``)."""
    from brmacro.portfolio.black_litterman import black_litterman

    sigma, P = np.eye(3) * 1e-4, np.eye(3)[:2]
    with pytest.raises(ValueError, match="disagree"):
        black_litterman(sigma, np.zeros(3), P, np.zeros(3), np.eye(2) * 1e-5, 0.05)  # 3 returns for 2 views
    with pytest.raises(ValueError, match="disagree"):
        black_litterman(sigma, np.zeros(3), P, np.zeros(2), np.eye(3) * 1e-5, 0.05)  # Ω of 3 views


def test_replay_window_outside_history_counts_no_session() -> None:
    """Kills ``risk/stress.py``: a window not in history reported with one session instead of none."""
    from brmacro.risk.stress import replay_window

    mat = pd.DataFrame({"IBOV": [0.01]}, index=pd.Index([dt.date(2026, 11, 24)], name="date"))
    res = replay_window(mat, pd.Series({"IBOV": 1.0}), dt.date(2020, 2, 20), dt.date(2020, 3, 31), ASOF)
    assert res.pnl is None and res.worst_pnl is None and res.n_sessions == 0 and res.coverage == 0.0
    assert "not in history" in res.note
    # a window that opens after the session: nothing replayed either
    later = replay_window(mat, pd.Series({"IBOV": 1.0}), dt.date(2026, 12, 1), dt.date(2026, 12, 10), ASOF)
    assert later.pnl is None and later.n_sessions == 0 and later.coverage == 0.0
    assert "starts after the session" in later.note


def test_model_book_pnl_keeps_each_instruments_asset_class() -> None:
    """Kills ``risk/pnl.py``: the per-instrument asset classes dropped from the session's P&L."""
    from brmacro.risk.pnl import model_book_pnl

    d = dt.date(2026, 11, 25)
    d2 = previous_sessions(d, 2)[0]
    mat = pd.DataFrame({"USDBRL": [-0.01], "IBOV": [0.02]}, index=pd.Index([d], name="date"))
    r = model_book_pnl(d, mat, {d2: _sizing(d2, {"USDBRL": 1.0, "IBOV": 0.5})}, n_sessions=1)[0]
    assert r.pnl == pytest.approx(-0.01 + 0.5 * 0.02)
    assert r.by_instrument.to_dict() == pytest.approx({"USDBRL": -0.01, "IBOV": 0.01})
    assert r.asset_class.to_dict() == {"USDBRL": "fx", "IBOV": "equity_br"}


def test_registry_revisable_flags() -> None:
    """Kills ``series.py`` revisable-flag flips: which series carry vintages is part of point-in-time correctness.

    SGS serves today's values with no vintages (DOMAIN Part A), so no SGS row is revisable; on FRED, the
    monthly/quarterly activity and price series revised after release are fetched with their ALFRED vintages,
    and no daily market series is.
    """
    from brmacro.series import SERIES

    assert not [s.name for s in SERIES if s.source == "bcb_sgs" and s.revisable]
    fred_rev = sorted(s.code for s in SERIES if s.source == "fred" and s.revisable)
    assert fred_rev == ["GDPC1", "INDPRO", "NFCI", "PAYEMS", "PCEPI", "PCEPILFE"]
    assert not [s.name for s in SERIES if s.source == "fred" and s.freq == "D" and s.revisable]


# ------------------------------------------------------------------------------------------- sampled survivors
# Survivors of the seeded sample (``python -m bench.mutation sample --n 300 --seed 20``), killed here.

def test_each_view_closes_the_bound_against_it(tmp_path: Path, tabs: dict) -> None:
    """Kills ``portfolio/steps.py`` bound-side mutants (``hi >= 0`` -> ``hi >= 1``, ``lo <= 0`` -> ``lo < 0``).

    A viewed instrument is never held against its own view (docs/portfolio.md): a long view lifts the lower bound
    to 0 when the upper bound allows a long, a short view lowers the upper bound to 0 when the lower bound allows
    a short, a bound already at 0 included. Bounds of ±0.5 and [0, 0.5] are set here; the answer is read off them.
    """
    o = _opt(tmp_path, tabs, {}, "side")
    side = o["views"].groupby("instrument")["z"].apply(lambda z: float(np.sign(z).sum()))
    longs, shorts = [str(x) for x, s in side.items() if s > 0], [str(x) for x, s in side.items() if s < 0]
    assert longs and shorts
    up, dn = longs[0], shorts[0]
    bounds = {**DEFAULT_CONFIG["bounds"], up: [-0.5, 0.5], dn: [0.0, 0.5]}
    part = _opt(tmp_path, tabs, {"portfolio": {"bounds": bounds}}, "side2")["part"].set_index("instrument")
    assert (part.loc[up, "lower"], part.loc[up, "upper"]) == (0.0, 0.5)
    assert (part.loc[dn, "lower"], part.loc[dn, "upper"]) == (0.0, 0.0)
    assert part.loc[dn, "target_weight"] == 0.0


def test_a_target_that_rounds_to_zero_contracts_says_so(tmp_path: Path, tabs: dict) -> None:
    """Kills ``portfolio/steps.py``: the origin of a position that rounds to zero contracts (``w != 0`` -> ``!= 1``).

    On a NAV of BRL 1 million the fixture's USDBRL target (about -10 % of NAV, BRL 96 thousand) is less than
    half a DOL contract (USD 50,000, about BRL 250 thousand): zero contracts, and the row must say why; the
    DI1_2Y target (13 contracts of about BRL 100 thousand PU) stays held with its views as origin.
    """
    params = {"nav_brl": 1e6}
    t2 = {**tabs, "portfolio_optimization": _opt(tmp_path, tabs, params, "nav")}
    part = portfolio_sizing(fx.context(tmp_path / "s", "portfolio_sizing", t2, params))["part"].set_index("instrument")
    assert part.loc["USDBRL", "target_weight"] < -0.08 and part.loc["USDBRL", "contracts"] == 0.0
    assert part.loc["USDBRL", "weight"] == 0.0 and part.loc["USDBRL", "origin"] == "flat: rounds to zero contracts"
    assert part.loc["DI1_2Y", "contracts"] != 0 and part.loc["DI1_2Y", "origin"].startswith("views: ")
    zero = part[(part["weight"] == 0) & (part["target_weight"] != 0)]
    assert (zero["origin"] == "flat: rounds to zero contracts").all()
    # an instrument the optimiser does not hold keeps the optimiser's reason (``target != 0`` -> ``!= 1``)
    opt_origin = t2["portfolio_optimization"]["part"].set_index("instrument")["origin"]
    unheld = part.index[part["target_weight"] == 0]
    assert len(unheld) and (part.loc[unheld, "origin"] == opt_origin[unheld]).all()
    assert not part.loc[unheld, "origin"].str.contains("rounds to zero").any()


def test_psd_guard_tolerates_rounding_noise_only() -> None:
    """Kills ``portfolio/optimizer.py`` PSD-guard mutants: an annualised eigenvalue down to -1e-10 x max(1, largest
    eigenvalue) is rounding noise and is solved; below it the risk matrix is refused.

    Daily risk matrices diag(1, -5e-11), diag(1e-4, -2e-13) and diag(1e-4, -1e-9), annualised x252: eigenvalues
    252 and -1.26e-8 (tolerance -2.52e-8: solved), 0.0252 and -5.04e-11 (tolerance -1e-10, the floor of 1:
    solved), 0.0252 and -2.52e-7 (refused).
    """
    mu, lo, hi = np.array([1e-4, 0.0]), np.full(2, -1.0), np.full(2, 1.0)
    for risk in (np.diag([1.0, -5e-11]), np.diag([1e-4, -2e-13])):
        res = mean_variance(mu, risk, 2.5, lo, hi, 2.0)
        assert res.status == "optimal" and not res.fallback, (risk, res.reason)
    bad = mean_variance(mu, np.diag([1e-4, -1e-9]), 2.5, lo, hi, 2.0)
    assert bad.status == "invalid_input" and "not positive semi-definite" in bad.reason


@pytest.mark.parametrize(("key", "low", "inclusive", "step"), [
    ("sizing.target_vol", 0.0, False, 0.5), ("sizing.kelly_fraction", 0.0, False, 0.5),
    ("sizing.limit_headroom", 0.0, False, 0.5), ("view_horizon_sessions", 1.0, True, 1.0),
    ("max_view_sharpe", 0.0, False, 0.5), ("cost_aversion", 0.0, True, 0.5), ("cost_holding_sessions", 1.0, True, 1.0),
])
def test_portfolio_guards_at_their_bounds(key: str, low: float, inclusive: bool, step: float) -> None:
    """Kills ``portfolio/steps.py`` guard mutants (a bound or its inclusiveness changed): each key just under, at
    and just over the bound its meaning gives it: a vol target, Kelly fraction, headroom or view-Sharpe cap of 0
    voids the book (strictly positive); a cost aversion of 0 means no cost term (allowed, config/README.md); a
    horizon or holding period is at least one session."""
    def cfg(v: float) -> dict:
        head, _, leaf = key.partition(".")
        return {"portfolio": {head: {leaf: v}} if leaf else {key: v}}

    portfolio_config(cfg(low + step))
    with pytest.raises(ValueError, match=f"portfolio.{key}"):
        portfolio_config(cfg(low - step))
    if inclusive:
        portfolio_config(cfg(low))
    else:
        with pytest.raises(ValueError, match=f"portfolio.{key}"):
            portfolio_config(cfg(low))


def test_registry_release_lags_of_daily_series() -> None:
    """Kills ``series.py`` release-lag mutants of the daily series (point in time: a lag too long hides a value
    the desk had, too short uses one it did not).

    FRED posts its daily market series (H.15 rates and yields, SOFR from the New York Fed, breakevens, ICE OAS)
    on the next business day: lag 1. The PTAX fixing is published by the BCB at 13:00 on its own day and the
    Selic target is set at the Copom meeting itself: lag 0.
    """
    from brmacro.series import SERIES

    fred_daily = {s.code: s.lag_days for s in SERIES if s.source == "fred" and s.freq == "D"}
    assert fred_daily == dict.fromkeys(["T5YIE", "T10YIE", "DFF", "SOFR", "DGS2", "DGS10", "DFII10", "BAMLH0A0HYM2",
                                        "BAMLC0A0CM"], 1)
    assert by_name("br_ptax_sell_sgs").lag_days == 0 and by_name("br_selic_target").lag_days == 0


@pytest.mark.parametrize("guess", [1, 3, 40, 99, 200])
def test_shrink_search_never_answers_past_its_last_step(guess: int) -> None:
    """Kills ``portfolio/sizing.py``: the doubling of the shrink search allowed past ``n_steps - 1``.

    A book that passes only from step 100 on has no passing step in ``[0, 100)``: the linear scan over
    ``range(100)`` finds none, so the search must answer None, not 100 or 101.
    """
    from brmacro.portfolio.sizing import first_passing_step

    assert first_passing_step(lambda m: m >= 100, 100, guess) is None
    assert first_passing_step(lambda m: m >= 99, 100, guess) == 99


def test_position_and_class_limits_of_a_book_with_a_flat_instrument() -> None:
    """Kills ``risk/limits.py``: the single-position limit read as zero when one instrument of the book is flat
    (``max`` -> ``min``) or when no position exceeds 1 (``> 0`` -> ``> 1``).

    USDBRL -0.3, IBOV 0.2, SPX 0 and DI1_2Y 1.0 (rates_br, exempt from these two limits by default): the largest
    position is |-0.3| (USDBRL), the largest class exposure fx's 0.3.
    """
    sz = _sizing(ASOF, {"USDBRL": -0.3, "IBOV": 0.2, "SPX": 0.0, "DI1_2Y": 1.0}, dv01={"DI1_2Y": 10_000.0})
    rows, _ = evaluate_limits(sz, _var_table(0.01, 0.015),
                              _components({"USDBRL": 0.3, "IBOV": 0.2, "SPX": 0.0, "DI1_2Y": 0.5}), [], {})
    by = {r.limit: r for r in rows}
    assert by["single_position"].value == pytest.approx(0.3) and "USDBRL" in by["single_position"].note
    assert by["asset_class_exposure"].value == pytest.approx(0.3) and "fx" in by["asset_class_exposure"].note


def test_parity_within_caps_falls_back_to_equal_budgets_per_class() -> None:
    """Kills ``portfolio/sizing.py``: the second try of ``parity_within_caps`` (equal budgets per class) voided.

    Three uncorrelated instruments of equal vol, two in class a, one in b; signs +, +, -. Plain parity gives
    every position 1/3 of the variance, class a 2/3 > the 0.6 class cap; equal budgets per class give a's
    two 1/4 each and b's one 1/2 (within a position cap of 0.55). With a diagonal Σ a share is
    w_i² σ² / Σ w² σ², so the weights are ∝ sqrt(budget): |w| ∝ (1/2, 1/2, 1/√2) (to the solver's tolerance).
    """
    from brmacro.portfolio.sizing import parity_within_caps

    sigma = np.eye(3) * 1e-4
    w = parity_within_caps(sigma, np.array([1.0, 1.0, -1.0]), ["a", "a", "b"], 0.55, 0.6)
    assert w is not None
    shares = w**2 / np.sum(w**2)
    np.testing.assert_allclose(shares, [0.25, 0.25, 0.5], rtol=1e-3)
    assert np.sign(w).tolist() == [1.0, 1.0, -1.0]
    assert w[2] / w[0] == pytest.approx(-np.sqrt(2.0), rel=1e-3)
    # caps no budget can meet: a class cap of 0.4 with two classes (each at least 1/2 in the second try)
    assert parity_within_caps(sigma, np.array([1.0, 1.0, -1.0]), ["a", "a", "b"], 0.55, 0.4) is None


def test_a_conviction_at_the_floor_makes_no_view(tmp_path: Path, tabs: dict) -> None:
    """Kills ``portfolio/steps.py``: the conviction floor made exclusive (``<=`` -> ``<``).

    ``portfolio.min_abs_conviction`` set to exactly USDBRL's |conviction| in the fixture: no USDBRL view (a
    conviction must exceed the floor); the floor one hundredth below it keeps the view.
    """
    conv = float(tabs["signal_aggregation"]["part"].set_index("instrument").loc["USDBRL", "conviction"])
    assert conv != 0.0
    at = _opt(tmp_path, tabs, {"portfolio": {"min_abs_conviction": abs(conv)}}, "at")["views"]
    below = _opt(tmp_path, tabs, {"portfolio": {"min_abs_conviction": abs(conv) * 0.99}}, "below")["views"]
    assert "USDBRL" not in set(at["instrument"]) and "USDBRL" in set(below["instrument"])


def test_a_common_history_of_one_session_is_kept() -> None:
    """Kills ``silver/returns.py``: a common history of exactly one session refused as none (``== 0`` -> ``== 1``).

    With the S&P observed only on the session itself, the common window is that one session: a level for every
    instrument (the S&P's is its close on the day) and no return yet (no previous session in the window).
    """
    inp = sr.make_inputs(drop={"^GSPC": sr.SESSIONS[:-1]})
    part = build_returns(inp, sr.D, sr._params(lookback_sessions=60))["part"]
    assert set(part["date"]) == {sr.D} and len(part) == part["instrument"].nunique() == 8
    y = inp["bronze_yahoo"]
    close = float(y.loc[(y["ticker"] == "^GSPC") & (y["date"] == sr.D), "close"].iloc[0])
    assert float(part.loc[part["instrument"] == "SPX", "level"].iloc[0]) == pytest.approx(close, rel=1e-12)
    assert part["ret"].isna().all()


def test_a_covariance_hedge_names_the_viewed_position_that_most_explains_it(tmp_path: Path, tabs: dict) -> None:
    """Kills ``portfolio/steps.py``: a hedge's origin naming the viewed position that least explains it
    (``max`` -> ``min``). docs/portfolio.md: ``covariance hedge of X`` with ``X = argmax_j |Σ_ij w_j| / σ_j`` over the
    held viewed positions j, computed here from the step's covariance table and weights."""
    o = _opt(tmp_path, tabs, {"portfolio": {"hedges": "allow"}}, "hedge")
    part = o["part"].set_index("instrument")
    sigma = _sigma(o["covariance"])
    w = part.loc[NAMES, "target_weight"].to_numpy(float)
    viewed = [NAMES.index(x) for x in sorted(set(o["views"]["instrument"])) if part.loc[x, "target_weight"] != 0]
    hedged = [x for x in NAMES if str(part.loc[x, "origin"]).startswith("covariance hedge of ")]
    assert hedged and len(viewed) >= 2
    for x in hedged:
        i = NAMES.index(x)
        score = {NAMES[k]: abs(sigma[i, k] * w[k]) / np.sqrt(sigma[k, k]) for k in viewed}
        assert len(set(score.values())) == len(score)  # no tie
        assert part.loc[x, "origin"] == f"covariance hedge of {max(score, key=lambda k: score[k])}"


def test_a_binding_gross_limit_is_met_with_the_headroom(tmp_path: Path, tabs: dict) -> None:
    """Kills ``portfolio/steps.py``: the headroom divided into a homogeneous limit's scale instead of multiplied.

    docs/portfolio.md: gross, DV01 and VaR are sized to ``limit_headroom`` (0.98) of their limit, so contract
    rounding cannot tip them over. A 100 % vol target with a gross-leverage limit of 1.0: gross binds and the
    sized book's gross is 0.98 of it, give or take the rounding to contracts (well under 0.5 %), not above 0.99.
    """
    params = {"portfolio": {"sizing": {"target_vol": 1.0}}, "risk": {"limits": {"max_gross_leverage": 1.0}}}
    t2 = {**tabs, "portfolio_optimization": _opt(tmp_path, tabs, params, "gross")}
    book = portfolio_sizing(fx.context(tmp_path / "s", "portfolio_sizing", t2, params))["book"].iloc[0]
    assert book["binding"] == "gross"
    assert book["gross"] == pytest.approx(0.98, abs=0.005)


def test_open_interest_limit_measures_the_largest_absolute_share() -> None:
    """Kills ``risk/limits.py`` open-interest mutants: held positions selected as the zero ones (``!=`` -> ``==``)
    or a short's share taken with its sign (``abs`` dropped).

    A short of 300 contracts in an open interest of 1,000 (30 %) and a long of 100 in 10,000 (1 %): the limit
    reads 0.30 on the short; DOL has no open interest in bronze and is named, not measured.
    """
    from brmacro.risk.limits import open_interest_row

    contracts = pd.DataFrame({"contract": ["DI1F27", "DI1F28"], "open_interest": [1_000.0, 10_000.0]})
    row = open_interest_row("open_interest", {"DI1F27": -300.0, "DI1F28": 100.0, "DOLF27": 5.0, "DI1F29": 0.0},
                            contracts, {}, "model book")
    assert row.value == pytest.approx(0.30, rel=1e-12)
    assert "DI1F27 300 of 1,000" in row.note and "not measured (no open interest in bronze): DOLF27" in row.note


def test_each_positions_view_q_is_its_aggregated_view(tmp_path: Path, tabs: dict) -> None:
    """Kills ``portfolio/steps.py``: the ``view_q`` column filled from the cross-asset views instead of the
    aggregated signal views (``== "signal_aggregation"`` -> ``!=``).

    The PM reads ``view_q`` next to each position: the q of that instrument's ``AGG:`` view, read here from the
    step's own views table; an instrument without an aggregated view shows none, whatever the cross-asset views say.
    """
    o = _opt(tmp_path, tabs, {}, "vq")
    views = o["views"]
    agg = views[views["source"] == "signal_aggregation"].set_index("instrument")["q"]
    assert len(agg) >= 2
    part = o["part"].set_index("instrument")
    for x in NAMES:
        if x in agg.index:
            assert part.loc[x, "view_q"] == pytest.approx(float(agg[x]), rel=1e-12), x
        else:
            assert pd.isna(part.loc[x, "view_q"]), x


@pytest.mark.parametrize("field", ["confidence", "direction"])
def test_a_cross_asset_view_missing_a_field_makes_no_view(tmp_path: Path, tabs: dict, field: str) -> None:
    """Kills ``portfolio/steps.py``: a cross-asset view with no ``confidence`` read at full confidence, or with
    no ``direction`` read as long (defaults ``0.0`` -> ``1.0``, ``0`` -> ``1``).

    With ``use_cross_asset_views`` on, the fixture's ``equity_br`` view (IBOV, long, confidence 0.6) becomes the
    view ``XA:equity_br``; the same views without that field make no cross-asset view (never a made-up 1).
    """
    view = tabs["agent_cross_asset"]["view"]
    raw = json.loads(view["views"].iloc[-1])
    assert raw["equity_br"]["confidence"] == 0.6 and raw["equity_br"]["direction"] == 1
    on = {"portfolio": {"use_cross_asset_views": True}}
    full = _opt(tmp_path, tabs, on, f"xa_{field}")["views"].set_index("view_id")
    assert full.loc["XA:equity_br", "confidence"] == 0.6
    cut = {k: {f: x for f, x in v.items() if f != field} for k, v in raw.items()}
    t = {**tabs, "agent_cross_asset": {**tabs["agent_cross_asset"], "view": view.assign(views=json.dumps(cut))}}
    assert not _opt(tmp_path, t, on, f"xa_no_{field}")["views"]["view_id"].str.startswith("XA:").any()


def test_a_view_names_only_the_contributions_that_carry_a_signal_id(tmp_path: Path, tabs: dict) -> None:
    """Kills ``portfolio/steps.py``: the contribution filter ``isinstance(c, Mapping) and c.get("signal_id")``
    loosened to ``or`` (a contribution without a signal id, or not an object, then breaks the step).

    USDBRL's aggregated view is given three contributions: one with a signal id, one without, one a bare number;
    its strategies are the one id, and the step runs.
    """
    agg = tabs["signal_aggregation"]["part"].copy()
    contrib = [{"signal_id": "FX_BR_COMPOSITE", "weight": 0.7}, {"weight": 0.3}, 5]
    agg.loc[agg["instrument"] == "USDBRL", "contributions"] = json.dumps(contrib)
    t = {**tabs, "signal_aggregation": {**tabs["signal_aggregation"], "part": agg}}
    views = _opt(tmp_path, t, {}, "contrib")["views"].set_index("view_id")
    assert views.loc["AGG:USDBRL", "strategies"] == "FX_BR_COMPOSITE"


@pytest.mark.parametrize("method", ["half_kelly", "risk_budget"])
def test_sizing_methods_size_no_position_the_optimiser_does_not_hold(tmp_path: Path, tabs: dict, method: str) -> None:
    """Kills ``portfolio/steps.py``: under ``sizing.method: half_kelly`` an instrument the optimiser holds at zero
    given a shape of 1 instead of 0, and under ``risk_budget`` its budget divided by the held mask instead of
    multiplied (both shapes are masked to the optimiser's book)."""
    params = {"portfolio": {"sizing": {**DEFAULT_CONFIG["sizing"], "method": method}}}
    o = _opt(tmp_path, tabs, params, method)
    target = o["part"].set_index("instrument")["target_weight"]
    flat = [x for x in NAMES if target[x] == 0]
    assert flat and (target != 0).any()
    t = {**tabs, "portfolio_optimization": o}
    sized = portfolio_sizing(fx.context(tmp_path / f"{method}_sz", "portfolio_sizing", t, params))["part"]
    w = sized.set_index("instrument")["weight"]
    assert np.isfinite(w).all() and (w[flat] == 0).all(), w
    assert (w[[x for x in NAMES if x not in flat]] != 0).any()


def test_ust_10y_reprices_from_the_ten_year_point_of_a_sloped_curve() -> None:
    """Kills ``risk/stress.py``: the UST point's tenor in calendar days (``10 * 365``) instead of business days
    (``10 * 252`` du, where silver_curves puts the UST_NOM 10Y par yield).

    On a sloped UST curve (2Y 4.0 %, 10Y 4.5 %, 30Y 5.0 %) the yield UST_10Y's shocks reprice from is the 10Y
    point itself, 4.5 %, not a point interpolated towards the 30Y.
    """
    curves = pd.DataFrame({"date": ASOF, "curve": "UST_NOM", "tenor_label": ["2Y", "10Y", "30Y"],
                           "tenor_du": [504, 2520, 7560], "tenor_years": [2.0, 10.0, 30.0],
                           "rate": [0.040, 0.045, 0.050]})
    assert instrument_rates(["UST_10Y"], curves, ASOF) == {"UST_10Y": 0.045}


def test_risk_budget_reshaping_fails_when_either_cap_cannot_be_met() -> None:
    """Kills ``portfolio/steps.py``: ``reshape_for_risk_budget`` reporting success when only one of the position
    and class caps is met (``and`` -> ``or``).

    Two uncorrelated positions of equal risk in one class: each carries 1/2 of the variance (under a 0.6 position
    cap) but their class carries all of it, which no scaling changes (shares are scale-free), so a 0.5 class cap
    cannot be met. Mirror: one position alone in its class meets a class cap of 1 but never a 0.5 position cap.
    """
    sigma = np.eye(2) * 1e-4
    x, ok = reshape_for_risk_budget(np.array([1.0, 1.0]), sigma, ["rates_br", "rates_br"], 0.6, 0.5)
    assert not ok and x[0] == pytest.approx(x[1]) and x[0] > 0  # signs and proportions kept
    assert reshape_for_risk_budget(np.array([1.0, 1.0]), sigma, ["rates_br", "fx"], 0.6, 0.6)[1]
    _, ok = reshape_for_risk_budget(np.array([1.0]), sigma[:1, :1], ["fx"], 0.5, 1.0)
    assert not ok


@pytest.mark.parametrize("bounds", [[-np.inf, 0.5], [-0.5, np.inf], [np.nan, 0.5]])
def test_portfolio_bounds_must_both_be_finite(bounds: list[float]) -> None:
    """Kills ``portfolio/steps.py``: the bounds guard ``isfinite(lo) and isfinite(hi)`` loosened to ``or`` (a bound
    pair with one infinite end accepted; the optimiser would then hold an unbounded position)."""
    params = {"portfolio": {"bounds": {**DEFAULT_CONFIG["bounds"], "USDBRL": bounds}}}
    with pytest.raises(ValueError, match=r"portfolio\.bounds\.USDBRL: .*both finite"):
        portfolio_config(params)


def test_a_one_class_book_meets_a_class_budget_of_one_without_headroom(tmp_path: Path, tabs: dict) -> None:
    """Kills ``portfolio/steps.py``: the sizing headroom applied to a share limit of exactly 1 (``rc_cls < 1`` ->
    ``<= 1``): a class limit of 1 means no limit, and a book of one class (which always carries all the VaR) must
    be sized, not flattened for missing a 0.98 cap.

    Bounds of 0 on every instrument but USDBRL leave a book of one position in one class: its limits are
    ``max_risk_contribution_by_size[0]`` = ``asset_class_risk_budget_by_size[0]`` = 1.
    """
    bounds = {k: (v if k == "USDBRL" else [0.0, 0.0]) for k, v in DEFAULT_CONFIG["bounds"].items()}
    params = {"portfolio": {"bounds": bounds}}
    o = _opt(tmp_path, tabs, params, "one_class")
    target = o["part"].set_index("instrument")["target_weight"]
    assert target["USDBRL"] < 0 and (target.drop("USDBRL") == 0).all()
    sized = portfolio_sizing(fx.context(tmp_path / "one_class_sz", "portfolio_sizing",
                                        {**tabs, "portfolio_optimization": o}, params))
    w = sized["part"].set_index("instrument")["weight"]
    assert w["USDBRL"] < 0, sized["book"][["binding", "reason"]].to_dict("records")
    assert not str(sized["book"]["binding"].iloc[0]).startswith(("flat", "risk_contribution"))


def test_a_week_without_any_pnl_is_not_called_partial() -> None:
    """Kills ``risk/limits.py``: the weekly-loss note's partial clause when no session of the week has a P&L
    (``avail and ...`` -> ``or``): the row is N/A with no value, and its note lists no "0 of 5" partial week."""
    rows, _ = evaluate_limits(_sizing(ASOF, {"USDBRL": 0.1}), _var_table(0.01, 0.015), _components({"USDBRL": 1.0}),
                              _pnls([None] * 5))
    week = {r.limit: r for r in rows}["weekly_loss"]
    assert week.value is None and week.status == "N/A"
    assert "partial" not in week.note and week.note.startswith("sum of the ")


def test_a_flat_books_var_window_starts_at_its_first_observed_session() -> None:
    """Kills ``risk/var.py``: ``select_window`` keeping the all-missing rows of a flat book's window (``if not
    held`` -> ``if held``): with nothing held, only sessions where some instrument has a return are in the window,
    so it starts at the first of them."""
    days = [*previous_sessions(ASOF, 9), ASOF]
    mat = pd.DataFrame({"USDBRL": [np.nan] * 4 + [0.01] * 6, "IBOV": [np.nan] * 5 + [0.02] * 5},
                       index=pd.Index(days))
    win = select_window(mat, pd.Series({"USDBRL": 0.0, "IBOV": 0.0}), ASOF, 10)
    assert win.first == days[4] and list(win.returns.index) == days[4:]


def test_di1_contracts_by_hand_from_the_di_pre_curve(tmp_path: Path, tabs: dict) -> None:
    """Kills ``portfolio/steps.py``: DI1 contracts priced off another curve of silver_curves than DI_PRE
    (``== "DI_PRE"`` -> ``!=``).

    Each DI1 position's count is its notional over the contract's PU, ``100,000 (1 + r)^(-du/252)``, with ``du`` the
    contract's business days in bronze_b3 and ``r`` the DI_PRE rate at ``du`` interpolated flat-forward (log
    discount factors linear in du between the curve's points), computed here without the library. The sized book
    is rounded to whole contracts, so the hand count is a whole number equal to the table's.
    """
    t = {**tabs, "portfolio_optimization": _opt(tmp_path, tabs, {}, "di1")}
    ctx = fx.context(tmp_path / "di1_sz", "portfolio_sizing", t, {})
    book = portfolio_sizing(ctx)["part"].set_index("instrument")
    c = tabs["silver_curves"]["part"]
    c = c[(c["curve"] == "DI_PRE") & (c["date"] == ctx.date)].sort_values("tenor_du")
    x, y = c["tenor_du"].to_numpy(float), c["rate"].to_numpy(float)
    b3 = tabs["bronze_b3_market_data"]["part"]
    b3 = b3[b3["trade_date"] == ctx.date].set_index("ticker")
    held = [n for n in NAMES if n.startswith("DI1_") and book.loc[n, "contracts"] != 0]
    assert held
    for name in held:
        row = book.loc[name]
        du = float(b3.loc[row["contract"], "du"])
        log_df = np.interp(du, x, -x / 252.0 * np.log1p(y))
        pu = 100_000.0 * np.exp(log_df)
        hand = row["notional_brl"] / pu
        assert hand == pytest.approx(np.rint(hand), abs=1e-6), name
        assert row["contracts"] == np.rint(hand), name


def test_the_soft_limit_needs_a_conviction_above_its_threshold(tmp_path: Path, tabs: dict,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    """Kills ``portfolio/steps.py``: the soft-limit widening at a conviction equal to its threshold (``>`` ->
    ``>=``): ``portfolio.sizing.soft_limit_conviction`` set to exactly USDBRL's |conviction| widens nothing, one
    hundredth below it widens USDBRL's cap (the sizing says so in its log)."""
    conv = abs(float(tabs["signal_aggregation"]["part"].set_index("instrument").loc["USDBRL", "conviction"]))
    t = {**tabs, "portfolio_optimization": _opt(tmp_path, tabs, {}, "soft")}
    for level, widened in ((conv, False), (conv * 0.99, True)):
        p = {"portfolio": {"sizing": {**DEFAULT_CONFIG["sizing"], "soft_limit_conviction": level}}}
        caplog.clear()
        with caplog.at_level("WARNING"):
            portfolio_sizing(fx.context(tmp_path / f"soft{level}", "portfolio_sizing", t, p))
        assert ("soft limit override for USDBRL" in caplog.text) is widened, (level, caplog.text)


def test_a_price_series_observed_once_is_in_the_prices_table() -> None:
    """Kills ``silver/returns.py``: a price series with a single observation in the lookback left out of the
    ``prices`` table as if empty (``len(s) == 0`` -> ``== 1``).

    With the S&P observed only on the session itself, ``yahoo:^GSPC`` still has its close of the day in the table.
    """
    inp = sr.make_inputs(drop={"^GSPC": sr.SESSIONS[:-1]})
    prices = build_returns(inp, sr.D, sr._params(lookback_sessions=60))["prices"]
    spx = prices[prices["series"] == "yahoo:^GSPC"]
    y = inp["bronze_yahoo"]
    close = float(y.loc[(y["ticker"] == "^GSPC") & (y["date"] == sr.D), "close"].iloc[0])
    assert float(spx.loc[spx["date"] == sr.D, "value"].iloc[0]) == pytest.approx(close, rel=1e-12)


def test_a_flat_pnl_is_neither_a_loss_nor_a_gain() -> None:
    """Kills ``risk/limits.py``: a P&L of exactly 0 described as a gain (``loss < 0`` -> ``<= 0``): the loss row
    of a flat day is at 0 utilisation, OK, and its note is the one given (no "gain of 0.0000%")."""
    row = loss_row("daily_loss", 0.0, 0.02, 0.8, "model book P&L")
    assert row.value == 0.0 and row.utilisation == 0.0 and row.status == "OK"
    assert row.note == "model book P&L"
    assert loss_row("daily_loss", 0.001, 0.02, 0.8, "n").note.startswith("gain of 0.1000%")


def test_a_flat_instruments_missing_risk_share_counts_as_zero() -> None:
    """Kills ``risk/limits.py``: a missing (NaN) share of VaR — an instrument the book does not hold — read as a
    whole share (``fillna(0.0)`` -> ``fillna(1.0)``): its position row and its class carry 0, the total 1."""
    comp = _components({"USDBRL": 1.0, "IBOV": float("nan")})
    t = budget_table(comp, {"USDBRL": "fx", "IBOV": "equity_br"}, 0.4, 0.6).set_index(["level", "name"])
    assert t.loc[("position", "IBOV"), "risk_contribution"] == 0.0
    assert t.loc[("asset_class", "equity_br"), "risk_contribution"] == 0.0
    assert t.loc[("total", "total"), "risk_contribution"] == 1.0


def test_parameter_hash_of_strings_dates_and_nulls() -> None:
    """Kills ``io.py``: ``_canon``'s whole-float test loosened (``and`` -> ``or``), which then calls ``int()`` on a
    string, a date or None: every parameter kind hashes, stably, and each value counts."""
    base = {"solver": "CLARABEL", "start": dt.date(2024, 1, 2), "cap": None, "n": 3, "x": 2.0, "xs": [1.5, "a"]}
    h = params_hash(base)
    assert h == params_hash(dict(reversed(list(base.items()))))  # key order does not count
    for k, v in (("solver", "OSQP"), ("start", dt.date(2024, 1, 3)), ("cap", 0.5), ("x", 2.5)):
        assert params_hash({**base, k: v}) != h, k


def test_opposing_views_on_one_instrument_leave_both_sides_open(tmp_path: Path, tabs: dict) -> None:
    """Kills ``portfolio/steps.py``: an instrument whose views cancel (one long, one short: net side 0) bounded to
    the short side as if its views were short (``side < 0`` -> ``<= 0``).

    IBOV gets the cross-asset view ``XA:equity_br`` (long) and an aggregated conviction turned short: its bounds
    stay the configured ones on both sides.
    """
    agg = tabs["signal_aggregation"]["part"].copy()
    i = agg["instrument"] == "IBOV"
    agg.loc[i, "conviction"] = -agg.loc[i, "conviction"].abs()
    agg.loc[i, "direction"] = -1
    t = {**tabs, "signal_aggregation": {**tabs["signal_aggregation"], "part": agg}}
    o = _opt(tmp_path, t, {"portfolio": {"use_cross_asset_views": True}}, "opposed")
    v = o["views"].set_index("view_id")
    assert v.loc["AGG:IBOV", "z"] < 0 < v.loc["XA:equity_br", "z"]
    row = o["part"].set_index("instrument").loc["IBOV"]
    assert [row["lower"], row["upper"]] == list(DEFAULT_CONFIG["bounds"]["IBOV"])


def test_risk_budget_sizing_without_any_held_conviction_uses_equal_budgets(tmp_path: Path, tabs: dict) -> None:
    """Kills ``portfolio/steps.py``: ``risk_budget`` sizing by conviction when no held instrument has one
    (``> 0`` -> ``>= 0``): budgets of |conviction| = 0 would size nothing; equal budgets size the held book.

    Every aggregated conviction set to 0 (no aggregated view), the cross-asset IBOV view alone drives the book.
    """
    agg = tabs["signal_aggregation"]["part"].assign(conviction=0.0, direction=0)
    t = {**tabs, "signal_aggregation": {**tabs["signal_aggregation"], "part": agg}}
    params = {"portfolio": {"use_cross_asset_views": True,
                            "sizing": {**DEFAULT_CONFIG["sizing"], "method": "risk_budget"}}}
    o = _opt(tmp_path, t, params, "rb0")
    target = o["part"].set_index("instrument")["target_weight"]
    assert target["IBOV"] > 0
    sized = portfolio_sizing(fx.context(tmp_path / "rb0_sz", "portfolio_sizing", {**t, "portfolio_optimization": o},
                                        params))["part"].set_index("instrument")["weight"]
    assert sized["IBOV"] > 0


def test_rates_without_curves_are_a_clear_error_and_other_instruments_need_none() -> None:
    """Kills ``risk/stress.py``: the session filter of ``instrument_rates`` run on missing curves (``curves is not
    None and ...`` -> ``is None`` / ``or``), which then fails with an AttributeError instead of saying what is
    missing, or fails for a book with no rates instrument at all."""
    with pytest.raises(RiskInputError, match="yield of DI1_1Y: no silver_curves given"):
        instrument_rates(["DI1_1Y", "IBOV"], None, ASOF)
    assert instrument_rates(["IBOV", "USDBRL"], None, ASOF) == {}


def test_a_solution_without_an_optimal_status_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """Kills ``portfolio/optimizer.py``: a solver answer kept when its status is not optimal but it carries
    values (``status not in OK or value is None`` -> ``and``): a solve stopped at an iteration limit
    (``user_limit``) gives the flat fallback, saying why, never the half-solved weights."""
    solve = cp.Problem.solve

    def stopped(self: cp.Problem, *args: object, **kwargs: object) -> object:
        out = solve(self, *args, **kwargs)
        self._status = "user_limit"  # the values of the last iterate stay in the variables
        return out

    sigma = np.diag([1e-4, 2e-4])
    ok = mean_variance(np.array([1e-3, -1e-3]), sigma, 2.5, np.full(2, -1.0), np.full(2, 1.0), 2.0)
    assert not ok.fallback and np.any(ok.weights != 0)
    monkeypatch.setattr(cp.Problem, "solve", stopped)
    res = mean_variance(np.array([1e-3, -1e-3]), sigma, 2.5, np.full(2, -1.0), np.full(2, 1.0), 2.0)
    assert res.fallback and "user_limit" in res.reason and not np.any(res.weights)


def test_the_small_book_note_names_only_the_limits_that_changed() -> None:
    """Kills ``portfolio/steps.py``: the class clause of the small-book note when the class limit did not change
    (``c != rc_class`` -> ``==``): a book of one class is told its 100 % class limit; a book of three classes,
    which keeps the configured limit, is told nothing about classes."""
    lim = SimpleNamespace(rc_position=0.4, rc_position_by_size=[1.0, 0.55], rc_class=0.6, rc_class_by_size=[1.0])
    one = small_book_note(lim, 3, 1)
    assert one == "; 1 asset class: share-of-VaR limit 100 % per class (60 % needs 2 or more)"
    assert small_book_note(lim, 3, 3) == ""
    assert "2 positions: share-of-VaR limit 55 % per position" in small_book_note(lim, 2, 3)


def test_risk_budget_check_accepts_a_share_exactly_at_its_cap() -> None:
    """Kills ``portfolio/steps.py``: the final check of ``reshape_for_risk_budget`` with its tolerance turned
    against the cap (``position_cap + 1e-9`` -> ``- 1e-9``): a share exactly at its cap meets it. With no
    iteration allowed the check runs on the book as given: two uncorrelated positions of equal risk carry 1/2 each,
    which meets a 0.5 position cap and not a 0.49 one."""
    sigma = np.eye(2) * 1e-4
    w = np.array([1.0, -1.0])
    assert reshape_for_risk_budget(w, sigma, ["fx", "equity_br"], 0.5, 1.0, iterations=0)[1]
    assert not reshape_for_risk_budget(w, sigma, ["fx", "equity_br"], 0.49, 1.0, iterations=0)[1]


def test_a_monte_carlo_marginal_at_the_df_cap_is_drawn_normal() -> None:
    """Kills ``risk/var.py``: a marginal whose fitted df equals ``max_df`` drawn from t(max_df) instead of the
    normal (``dfs >= max_df`` -> ``>``). The docstring's rule: ``df >= max_df`` is normal. Same seed, same draws:
    df exactly at the cap gives the very figures of an infinite df."""
    cov = np.array([[1e-4, 2e-5], [2e-5, 4e-4]])
    args = (np.array([1.0, -0.5]), cov)
    scales = np.sqrt(np.diag(cov))
    at_cap = monte_carlo_var(*args, np.array([1000.0, 1000.0]), scales, [0.95, 0.99], 20_000,
                             np.random.default_rng(7), 1000.0)
    normal = monte_carlo_var(*args, np.array([np.inf, np.inf]), scales, [0.95, 0.99], 20_000,
                             np.random.default_rng(7), 1000.0)
    assert at_cap == normal


def test_reverse_stress_finds_the_smallest_multiple_below_one() -> None:
    """Kills ``risk/stress.py``: the reverse-stress scan starting above 1x (``linspace(0.0, ...)`` -> ``1.0``): the
    answer is the *smallest* multiple that loses the amount. A P&L path that loses 10 % at 0.5x (11 % at 0.55x),
    recovers above it from 0.6x to 1.5x and loses it again at 2x: the answer is 0.5, not 2."""
    def pnl(k: float) -> float:  # piecewise linear through these points
        return float(np.interp(k, [0.0, 0.5, 0.55, 0.6, 1.5, 2.0, 10.0], [0.0, -0.1, -0.11, -0.05, -0.05, -0.1, -0.5]))

    k, note = reverse_multiplier(pnl, True, 0.10, 3.0)
    assert k == pytest.approx(0.5, abs=1e-9) and "solved numerically" in note
