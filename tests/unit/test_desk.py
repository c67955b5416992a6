"""The desk: contracts and rolls, the positions file and its checks, held-book P&L, orders and the circuit breaker."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from brmacro.calendar import du, previous_session, previous_sessions
from brmacro.desk.book import MarketData, band_orders, circuit_breaker_orders, day_pnl
from brmacro.desk.contracts import (
    ContractError,
    choose_di1,
    contract_info,
    front_contract,
    in_roll_window,
    roll_calendar,
    sessions_left,
)
from brmacro.desk.positions import PositionsError, check_dir_dates, read_positions
from brmacro.instruments import by_name
from brmacro.params import defaults
from brmacro.pipeline import all_schemas, external_inputs
from brmacro.portfolio.execution import execution_step
from brmacro.portfolio.steps import portfolio_optimization, portfolio_sizing
from brmacro.signals.steps import signal_aggregation
from tests.unit import desk_fixtures
from tests.unit import test_signals_fixtures as fx

D = fx.ASOF  # 2026-11-23
NO_ROLL = {"roll_sessions": {"DI1": 0, "DOL": 0, "IND": 0, "ES": 0, "ZN": 0}}

DEFAULT_DESK = defaults("desk")


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, pd.DataFrame]]:
    tmp = tmp_path_factory.mktemp("desk")
    tabs = {**fx.silver(), **fx.agents()}
    tabs["signal_aggregation"] = signal_aggregation(fx.context(tmp / "agg", "signal_aggregation", tabs, {}))
    tabs["portfolio_optimization"] = portfolio_optimization(fx.context(tmp / "o", "portfolio_optimization", tabs, {}))
    tabs["bronze_b3_market_data"] = {"part": desk_fixtures.b3(tabs["silver_curves"]["part"], D)}
    return tabs


def _md(tabs: dict[str, dict[str, pd.DataFrame]]) -> MarketData:
    return MarketData(tabs["bronze_b3_market_data"]["part"], tabs["silver_returns"]["part"],
                      tabs["silver_returns"]["prices"])


# ----------------------------------------------------------------------------------------------- contracts, rolls

def test_calendar_contracts_and_their_last_sessions() -> None:
    assert front_contract("DOL", D, NO_ROLL).code == "DOLZ26"
    z = contract_info("DOLZ26")
    assert z.expiry == dt.date(2026, 12, 1) and z.last_session == dt.date(2026, 11, 30)
    assert contract_info("INDZ26").expiry == dt.date(2026, 12, 16)  # the Wednesday nearest 15 Dec (a Tuesday)
    assert contract_info("ESZ26").expiry == dt.date(2026, 12, 18)  # third Friday
    assert contract_info("ZNH27").expiry == dt.date(2027, 2, 26)  # first notice day: last weekday of February
    assert contract_info("DI1F27").expiry == dt.date(2027, 1, 4)  # first ANBIMA business day of January
    assert front_contract("IND", dt.date(2026, 12, 17), NO_ROLL).code == "INDG27"
    assert front_contract("ES", dt.date(2026, 12, 18), NO_ROLL).code == "ESH27"
    with pytest.raises(ContractError, match="even contract months"):
        contract_info("INDF27")
    with pytest.raises(ContractError, match="not <root><month letter><yy>"):
        contract_info("WDOZ26")


def test_rolls_happen_the_configured_sessions_before_the_last_session() -> None:
    # DOLZ26's last session is 2026-11-30; sessions after 11-24: 25, 26, 27, 30 (four)
    cfg = {"roll_sessions": {"DOL": 3}}
    assert sessions_left(dt.date(2026, 11, 24), dt.date(2026, 11, 30)) == 4
    assert front_contract("DOL", dt.date(2026, 11, 24), cfg).code == "DOLZ26"
    assert front_contract("DOL", dt.date(2026, 11, 25), cfg).code == "DOLF27"  # 3 sessions left: rolled
    assert in_roll_window(dt.date(2026, 11, 25), contract_info("DOLZ26"), cfg)
    # the issue's case: on 2026-11-30 (DOLZ26's last session) the desk is long gone from it
    assert front_contract("DOL", dt.date(2026, 11, 30), DEFAULT_DESK).code == "DOLF27"
    cal = roll_calendar(D, ["DOLZ26", "INDZ26", "ESZ26", "ZNZ26", "DI1F28"], DEFAULT_DESK).set_index("contract")
    assert cal.loc["DOLZ26", "roll_session"] == dt.date(2026, 11, 25) and cal.loc["DOLZ26", "next_contract"] == "DOLF27"
    assert cal.loc["INDZ26", "next_contract"] == "INDG27" and cal.loc["ESZ26", "next_contract"] == "ESH27"
    assert "ZNZ26" in cal.index and cal.loc["ZNZ26", "last_session"] == dt.date(2026, 11, 30)
    assert "DI1F28" not in cal.index  # not within 20 sessions
    assert (cal["sessions_to_roll"] <= 20).all()
    # a contract maturing beyond the stored B3 calendar (2030) still gets a true last session and count
    far = contract_info("DI1F37")
    assert far.last_session == dt.date(2036, 12, 31) and sessions_left(D, far.last_session) > 2400


def test_di1_comes_from_the_settlement_file_liquid_and_outside_its_roll_window(market) -> None:
    b3 = market["bronze_b3_market_data"]["part"]
    listed = set(b3.loc[pd.to_datetime(b3["trade_date"]).dt.date == D, "ticker"])
    for tenor in (252, 504, 1260, 2520):
        c = choose_di1(b3, D, tenor, DEFAULT_DESK)
        assert c.code in listed and c.open_interest >= DEFAULT_DESK["min_open_interest"]
        if tenor >= 252:
            assert c.month == 1, (tenor, c.code)  # January beyond the first year
    # the 10Y point: January contract nearest 2520 du, never a quarterly absent from the file
    assert choose_di1(b3, D, 2520, DEFAULT_DESK).code == "DI1F37"
    # a short point whose nearest contract is in its roll window goes to the next one
    z = choose_di1(b3, D, 6, {"roll_sessions": {"DI1": 5}})
    assert z.code != "DI1Z26" and sessions_left(D, z.last_session) > 5
    with pytest.raises(ContractError, match="no DI1 contract for 2520 du qualifies.*open interest >= "
                                            "desk.min_open_interest"):
        choose_di1(b3, D, 2520, {"min_open_interest": 1e9})
    with pytest.raises(ContractError, match="no DI1 settlement on the session"):
        choose_di1(b3, dt.date(2026, 11, 24), 252, DEFAULT_DESK)


# ----------------------------------------------------------------------------------------------- positions file

def _write(tmp: Path, d: dt.date, text: str, name: str = "positions.csv") -> Path:
    p = tmp / f"date={d.isoformat()}" / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


def test_a_good_positions_file_csv_and_parquet(tmp_path: Path, market) -> None:
    b3 = market["bronze_b3_market_data"]["part"]
    p = _write(tmp_path, D, "contract,quantity,avg_price\nDI1F28,-120,0.1375\nDOLZ26,15,\n INDZ26 , 3 ,125000\n")
    t = read_positions(p, D, b3)
    assert list(t["contract"]) == ["DI1F28", "DOLZ26", "INDZ26"] and list(t["quantity"]) == [-120, 15, 3]
    assert np.isnan(t["avg_price"].iloc[1])
    q = tmp_path / "pq" / f"date={D}" / "positions.parquet"
    q.parent.mkdir(parents=True)
    pd.DataFrame({"contract": ["ESZ26"], "quantity": [2]}).to_parquet(q)
    assert read_positions(q, D, b3)["quantity"].tolist() == [2]


@pytest.mark.parametrize(("text", "needle"), [
    ("contract,quantity\nDI1Y27,1\n", r"row 1, field contract: unknown contract"),
    ("contract,quantity\nDI1X99,1\n", r"row 1, field contract: DI1X99 is not in the B3 settlement file"),
    ("contract,quantity\nXYZF27,1\n", r"row 1, field contract: unknown contract"),
    ("contract,quantity\nDOLF27,1\nDOLX26,2\n", r"row 2, field contract: DOLX26 expired on 2026-11-03"),
    ("contract,quantity\nDI1N34,1\n", r"row 1, field contract: DI1N34 is not in the B3 settlement file"),
    ("contract,quantity\nDOLF27,1.5\n", r"row 1, field quantity: '1.5' is not a whole number"),
    ("contract,quantity\nDOLF27,ten\n", r"row 1, field quantity: 'ten' is not a whole number"),
    ("contract,quantity\nDOLF27,\n", r"row 1, field quantity: '' is not a whole number"),
    ("contract,quantity\nDOLF27,1\nINDZ26,1\nDOLF27,2\n",
     r"row 3, field contract: duplicate contract DOLF27 \(also on row 1\)"),
    ("", r"the file is empty"),
    ("contract,quantity\n", r"the file is empty"),
    ("contract,qty\nDOLF27,1\n", r"unknown column\(s\) \['qty'\]"),
    ("contract,quantity,date\nDOLF27,1,2026-11-24\n",
     r"row 1, field date: 2026-11-24 differs from the folder's session"),
    ("contract,quantity,avg_price\nDOLF27,1,-3\n", r"row 1, field avg_price: '-3' must be a finite number > 0"),
])
def test_each_bad_positions_file_is_refused_naming_file_row_and_field(tmp_path: Path, market, text: str,
                                                                       needle: str) -> None:
    p = _write(tmp_path, D, text)
    with pytest.raises(PositionsError, match=needle) as err:
        read_positions(p, D, market["bronze_b3_market_data"]["part"])
    assert str(p) in str(err.value)


def test_a_date_that_is_not_a_session_is_refused(tmp_path: Path) -> None:
    holiday = dt.date(2026, 11, 20)  # Consciência Negra, no B3 session
    p = _write(tmp_path, holiday, "contract,quantity\nDOLZ26,1\n")
    with pytest.raises(PositionsError, match="2026-11-20 is not a B3 session"):
        read_positions(p, holiday, None)
    with pytest.raises(PositionsError, match=r"date=2026-11-20: 2026-11-20 is not a B3 session \(field date\)"):
        check_dir_dates(tmp_path, dt.date(2026, 11, 16), D)
    _write(tmp_path / "bad", dt.date(2026, 11, 23), "x")
    (tmp_path / "bad" / "date=2026-13-01").mkdir()
    (tmp_path / "bad" / "date=2026-13-01" / "positions.csv").write_text("contract,quantity\nDOLZ26,1\n")
    with pytest.raises(PositionsError, match="'2026-13-01' is not a YYYY-MM-DD date"):
        check_dir_dates(tmp_path / "bad", dt.date(2026, 11, 16), D)


def test_optional_positions_inputs_are_declared_only_when_present(tmp_path: Path) -> None:
    cfg = {"desk": {"positions_dir": str(tmp_path)}}
    assert external_inputs("portfolio_sizing", D, cfg) == ([], [])
    assert external_inputs("risk_var", D, cfg) == ([], [])
    today = _write(tmp_path, D, "contract,quantity\nDOLZ26,1\n")
    before = _write(tmp_path, previous_session(D), "contract,quantity\nDOLZ26,1\n", "positions.parquet")
    _write(tmp_path, previous_sessions(D, 6)[0], "contract,quantity\nDOLZ26,1\n")  # outside the window
    assert external_inputs("portfolio_sizing", D, cfg) == ([str(today)], [str(before)])
    # the optimisation reads the session's file only: the reference book of its cost term
    assert external_inputs("portfolio_optimization", D, cfg) == ([str(today)], [])
    # the session layout and in-process builds declare the same files as the step rule
    from brmacro.pipeline import _declared_files

    same, prev, _ = _declared_files(tmp_path / "results", "portfolio_sizing", D, cfg)
    assert today in same and before in prev
    assert _declared_files(tmp_path / "results", "risk_var", D, cfg)[0] == _declared_files(
        tmp_path / "results", "risk_var", D)[0]


# ----------------------------------------------------------------------------------------------- P&L, orders, breaker

def test_di1_contract_pnl_is_the_exchange_adjustment_with_roll_down(market) -> None:
    md = _md(market)
    b3 = market["bronze_b3_market_data"]["part"]
    prev = previous_session(D)
    row = b3.set_index(["trade_date", "ticker"])
    pu1 = float(row.loc[(D, "DI1F28"), "settlement_price"])
    pu0 = float(row.loc[(prev, "DI1F28"), "settlement_price"])
    k = int(du(prev, D))
    pnl, note = day_pnl("DI1F28", 10, D, md)
    assert pnl == pytest.approx(10 * (pu1 - pu0 * (1 + 0.0004) ** k))  # the fixture's CDI is 0.0004 a day
    assert "B3 settlement PU adjusted by the DI factor" in note
    # roll-down: with an unchanged curve the same contract's PU still moves (it is one day shorter)
    assert row.loc[(D, "DI1F28"), "du"] < row.loc[(prev, "DI1F28"), "du"]
    ibov = market["silver_returns"]["part"].set_index(["date", "instrument"])["level"]
    pnl_ind, note_ind = day_pnl("INDZ26", -3, D, md)
    assert pnl_ind == pytest.approx(-3 * (ibov[(D, "IBOV")] - ibov[(prev, "IBOV")]))
    assert note_ind.startswith("proxy: Ibovespa close")


def test_circuit_breaker_rule() -> None:
    assert circuit_breaker_orders(100, 150, 0.5) == 50  # model adds: cut to half instead
    assert circuit_breaker_orders(100, 20, 0.5) == 20  # model reduces further: follow it
    assert circuit_breaker_orders(-100, 50, 0.5) == 0  # model wants the other side: close
    assert circuit_breaker_orders(-7, -7, 0.5) == -3
    assert circuit_breaker_orders(0, 30, 0.5) == 0  # never opens


def _sizing_with_positions(tmp: Path, tabs, files: dict[dt.date, Path], params: dict | None = None):
    ctx = fx.context(tmp / "ctx", "portfolio_sizing", tabs, {"desk": {"positions_dir": str(tmp)}, **(params or {})})
    for d, p in files.items():
        if d == D:
            ctx.inputs = {**ctx.inputs, "positions": {"positions": p}}
        else:
            ctx.prev = {**ctx.prev, "positions": [*ctx.prev.get("positions", []), (d, {"positions": p})]}
    out = portfolio_sizing(ctx)
    for name, df in out.items():
        all_schemas()["portfolio_sizing"][name].conform(df)
    return out


def test_a_book_that_needs_a_roll_and_an_expiring_contract_never_ordered(tmp_path: Path, market) -> None:
    # DI1F27 matures 2027-01-04: on 2026-11-23 it has 27 sessions left; a 30-session DI1 window puts it in its roll
    params = {"desk": {"positions_dir": str(tmp_path), "roll_sessions": {"DI1": 30}}}
    p = _write(tmp_path, D, "contract,quantity\nDI1F27,200\nDOLZ26,-5\n")
    out = _sizing_with_positions(tmp_path, market, {D: p}, params)
    orders = out["orders"].set_index("contract")
    assert orders.loc["DI1F27", "kind"] == "roll" and orders.loc["DI1F27", "proposed"] == 0
    assert orders.loc["DI1F27", "order"] == -200
    part = out["part"].set_index("instrument")
    assert "DI1F27" not in set(part["contract"])  # the model book never opens a contract in its roll window
    contracts = out["contracts"].set_index("contract")
    opened = orders.loc[orders["order"] * orders["held"] >= 0].index.difference(orders.loc[orders["held"] != 0].index)
    assert not contracts.loc[opened, "in_roll_window"].any()
    assert (contracts["sessions_left"] > 0).all()
    rolls = out["rolls"].set_index("contract")
    assert rolls.loc["DI1F27", "sessions_to_roll"] == 0  # roll due now
    desk = out["desk"].iloc[0]
    assert desk["positions_present"] and not desk["circuit_breaker"] and str(p) in desk["positions_file"]
    assert "circuit breaker not evaluable: no held-book P&L in the window (no positions file for" in desk["note"]
    held = out["held"].set_index("contract")  # no file for the session before: the day's P&L is unknown, not zero
    assert held["pnl_brl"].isna().all() and held["quantity_prev"].isna().all()
    assert held["note"].str.contains("the day's P&L is unknown").all()
    # held positions and trades in contracts: order = proposed - held for every contract
    assert (orders["order"] == orders["proposed"] - orders["held"]).all()
    assert set(out["desk_books"]["book"]) == {"held", "proposed"}


def test_no_positions_file_leaves_the_model_book_standing_in(tmp_path: Path, market) -> None:
    out = _sizing_with_positions(tmp_path, market, {})
    assert out["orders"].empty and out["held"].empty and out["desk_books"].empty
    assert "the previous session's model book stands in" in out["desk"].iloc[0]["note"]


def test_the_circuit_breaker_on_a_constructed_losing_book(tmp_path: Path, market) -> None:
    md = _md(market)
    nav = 100e6
    window = previous_sessions(D, 5)
    # one IND position large enough that the day's move on D loses 3 % of NAV
    one, _ = day_pnl("INDZ26", 1, D, md)
    q = -int(np.sign(one)) * int(np.ceil(0.03 * nav / abs(one)))
    files = {s: _write(tmp_path, s, f"contract,quantity\nINDZ26,{q}\nDI1F29,{-300 * int(np.sign(one))}\n")
             for s in window}
    files[D] = _write(tmp_path, D, f"contract,quantity\nINDZ26,{q}\nDI1F29,{-300 * int(np.sign(one))}\n"
                                   "ESZ26,4\n")
    out = _sizing_with_positions(tmp_path, market, files)
    desk = out["desk"].iloc[0]
    assert desk["circuit_breaker"] and desk["note"].startswith("CIRCUIT BREAKER: held book breaches daily_loss")
    assert desk["daily_loss"] >= 0.03 - 1e-9
    pnl = out["held_pnl"].set_index("date")
    assert pnl.loc[D, "available"] and pnl.loc[D, "pnl"] == pytest.approx(-desk["daily_loss"])
    o = out["orders"]
    assert len(o) and (o["proposed"].abs() <= o["held"].abs()).all()  # every order moves toward zero
    assert (o["proposed"] * o["held"] >= 0).all()  # never through zero
    assert (o.loc[o["held"] == 0, "proposed"] == 0).all()  # nothing opened
    held = o.set_index("contract")["held"]
    prop = o.set_index("contract")["proposed"]
    assert (prop.abs() <= np.floor(held.abs() * 0.5)).all()  # sizes cut by the configured factor
    # the day's P&L per position in BRL, from each contract's own price change
    h = out["held"].set_index("contract")
    assert h.loc["INDZ26", "pnl_brl"] == pytest.approx(q * one)
    assert h.loc["ESZ26", "quantity_prev"] == 0 and h.loc["ESZ26", "pnl_brl"] == 0.0
    # the report: the breaker is the first line, held positions with their P&L, orders only reduce
    from brmacro.desk.report import desk_banner, desk_orders, desk_section
    from brmacro.report.inputs import Inputs
    from brmacro.report.render import Figures

    inp = Inputs(tables={("portfolio_sizing", t): df for t, df in out.items()})
    assert desk_banner(inp).startswith("CIRCUIT BREAKER: held book breaches daily_loss")
    sec = desk_section(inp, Figures(D))
    captions = [b.table.caption for b in sec.blocks if b.table is not None]
    assert any(c.startswith("Held positions") for c in captions) and any(c.startswith("Orders =") for c in captions)
    assert any(b.kind == "missing" and "risk books" in b.text for b in sec.blocks)  # risk not given here: said so
    from brmacro.report.render import Document, render_html

    banner = desk_banner(inp)
    html = render_html(Document("t", [banner, "Session"], [sec]))
    assert html.count("CIRCUIT BREAKER: held book breaches") == 2  # the red box on top, and the desk section
    assert html.index('class="bad" style="border') < html.index("CIRCUIT BREAKER") < html.index("<nav>")
    orders, _ = desk_orders(inp, None, "")
    assert orders and all(abs(held[o.contract] + o.qty) < abs(held[o.contract]) + 1e-9 for o in orders)
    # disabled: the same book is only reported
    off = _sizing_with_positions(tmp_path, market, files,
                                 {"desk": {"positions_dir": str(tmp_path), "circuit_breaker": {"enabled": False}}})
    assert not off["desk"].iloc[0]["circuit_breaker"] and "circuit breaker disabled" in off["desk"].iloc[0]["note"]


def test_an_expired_contract_in_the_file_stops_the_step(tmp_path: Path, market) -> None:
    p = _write(tmp_path, D, "contract,quantity\nDOLX26,5\n")
    with pytest.raises(PositionsError, match="DOLX26 expired"):
        _sizing_with_positions(tmp_path, market, {D: p})


def test_model_contracts_carry_the_instruments(market) -> None:
    b3 = market["bronze_b3_market_data"]["part"]
    from brmacro.desk.contracts import contract_for

    assert contract_for(by_name("USDBRL"), D, b3, DEFAULT_DESK).code == "DOLZ26"
    assert contract_for(by_name("USDBRL"), dt.date(2026, 11, 25), b3, DEFAULT_DESK).code == "DOLF27"
    assert contract_for(by_name("DI1_5Y"), D, b3, DEFAULT_DESK).code.startswith("DI1F")


def test_demo_di1_listing_follows_b3s_pattern() -> None:
    from brmacro.bronze import demo

    d = dt.date(2024, 6, 14)  # the session: DI1N29 / DI1N34 were ordered although not listed
    b3 = demo.snapshot("bronze_b3_market_data", d)
    t = b3[(b3["commodity"] == "DI1") & (b3["trade_date"] == d)].sort_values("maturity")
    months = [(m.year, m.month) for m in t["maturity"]]
    assert months[:12] == [(2024 + (6 + k) // 12, (6 + k) % 12 + 1) for k in range(12)]  # 12 consecutive months
    far = t[[(m - d).days > 366 for m in t["maturity"]]]
    assert set(far["maturity"].map(lambda m: m.month)) <= {1, 4, 7, 10}  # then quarter-start months
    assert "DI1N28" in set(t["ticker"]) and not {"DI1N29", "DI1N34"} & set(t["ticker"])  # quarterly to 5 years only
    assert {"DI1F34", "DI1F35"} <= set(t["ticker"])  # January to 11 years
    oi = t.set_index("ticker")["open_interest"]
    assert all(oi[f"DI1F{y}"] > oi[f"DI1N{y}"] for y in (25, 26, 27, 28))  # liquidity sits in January
    # the contracts the model book maps to are always listed with open interest
    for tenor in (252, 504, 1260, 2520):
        c = choose_di1(b3, d, tenor, DEFAULT_DESK)
        assert c.code in set(t["ticker"]) and c.open_interest >= DEFAULT_DESK["min_open_interest"]


# ----------------------------------------------------------------------------------------------- reference and band

def test_the_desks_positions_are_the_cost_terms_reference(tmp_path: Path, market) -> None:
    p = _write(tmp_path, D, "contract,quantity\nDOLZ26,-20\nINDZ26,30\n")
    params = {"desk": {"positions_dir": str(tmp_path)}, "portfolio": {"cost_aversion": 1e4}}

    def optimise(files: dict) -> dict[str, pd.DataFrame]:
        ctx = fx.context(tmp_path / f"o{len(files)}", "portfolio_optimization", market, params)
        if files:
            ctx.inputs = {**ctx.inputs, "positions": {"positions": files[D]}}
        return portfolio_optimization(ctx)

    held, flat = optimise({D: p}), optimise({})
    for out in (held, flat):
        for name, df in out.items():
            all_schemas()["portfolio_optimization"][name].conform(df)
    assert held["solve"].iloc[0]["reference"] == f"desk positions {p}"
    assert flat["solve"].iloc[0]["reference"] == f"flat (no positions file for {D.isoformat()})"
    part = held["part"].set_index("instrument")
    ptax = float(market["silver_returns"]["prices"].query("series == 'ptax:USDBRL'").iloc[-1]["value"])
    assert part.loc["USDBRL", "reference_weight"] == pytest.approx(-20 * 50_000 * ptax / 100e6)
    assert (part.drop(["USDBRL", "IBOV"])["reference_weight"] == 0).all()
    # costs that dwarf every view: the target stays at the reference — the desk's book, or flat without a file
    np.testing.assert_allclose(part["target_weight"], part["reference_weight"], atol=1e-9)
    assert (flat["part"]["target_weight"] == 0).all() and (flat["part"]["reference_weight"] == 0).all()
    # the sizing book says which reference the costs were charged from
    sized = _sizing_with_positions(tmp_path, {**market, "portfolio_optimization": held}, {D: p}, params)
    assert sized["book"].iloc[0]["reference"] == f"desk positions {p}"
    assert "costs charged from the desk's positions" in sized["book"].iloc[0]["reason"]


def test_daily_orders_follow_the_backtests_execution_rule() -> None:

    cols = ["contract", "instrument", "held", "target", "proposed", "order", "kind", "reason"]
    orders = pd.DataFrame([
        ["DOLF27", "USDBRL", -20, -21, -21, -1, "rebalance", "model target"],  # |dw| 0.0013 x 15 % < 0.005: band
        ["INDZ26", "IBOV", 30, 130, 130, 100, "rebalance", "model target"],  # outside: half the gap
        ["ESZ26", "SPX", 4, 0, 0, -4, "close", "model target is in another contract or flat"],  # flat: whole
        ["DI1F28", "DI1_2Y", 0, -1000, -1000, -1000, "open", "model target"],  # open: half the gap
        ["DI1F27", "DI1_1Y", 200, 0, 0, -200, "roll", "in its roll window"],  # a roll: untouched
        ["DI1F29", "DI1_1Y", 0, 180, 180, 180, "open", "model target"],  # instrument in two contracts: whole
    ], columns=cols)
    wpc = {"DOLF27": 0.0025, "INDZ26": 0.0013, "ESZ26": 0.0125, "DI1F28": -0.0016, "DI1F29": 0.0009}
    vol = {"USDBRL": 0.15, "IBOV": 0.22, "SPX": 0.18, "DI1_2Y": 0.012, "DI1_1Y": 0.006}
    out = band_orders(orders, wpc, vol, 0.005, 0.5, True).set_index("contract")
    assert out.loc["DOLF27", ["proposed", "order", "kind"]].tolist() == [-20, 0, "hold"]
    assert out.loc["DOLF27", "reason"].startswith("not sent, inside the no-trade band: |dw| 0.0013 x vol 15.0 %")
    assert out.loc["INDZ26", ["proposed", "order"]].tolist() == [80, 50]
    assert "partial move: 0.5 of the gap to +130" in out.loc["INDZ26", "reason"]
    assert out.loc["ESZ26", ["proposed", "order", "kind"]].tolist() == [0, -4, "close"]
    assert out.loc["DI1F28", ["proposed", "order"]].tolist() == [-500, -500]
    assert out.loc["DI1F27", "proposed"] == 0 and out.loc["DI1F29", "proposed"] == 180
    assert (out["order"] == out["proposed"] - out["held"]).all()
    # the same rule, in weights, as the backtest's sequential execution
    trade, inside, _ = execution_step([130 * 0.0013, -21 * 0.0025], [30 * 0.0013, -20 * 0.0025], [0.22, 0.15],
                                   0.005, 0.5, True)
    assert trade[0] == pytest.approx(50 * 0.0013) and inside.tolist() == [False, True]
    whole = band_orders(orders, wpc, vol, 0.0, 1.0, False)  # no band, whole gap: the orders as the model wants them
    pd.testing.assert_frame_equal(whole, orders)
    pd.testing.assert_frame_equal(band_orders(orders, wpc, vol, 0.0, 1.0, True), orders)  # no reversal in them


def test_a_reversal_goes_through_flat() -> None:
    cols = ["contract", "instrument", "held", "target", "proposed", "order", "kind", "reason"]
    orders = pd.DataFrame([["INDZ26", "IBOV", 30, -50, -50, -80, "rebalance", "model target"]], columns=cols)
    flat = band_orders(orders, {"INDZ26": 0.0013}, {"IBOV": 0.22}, 0.005, 0.5, True).iloc[0]
    assert [flat["proposed"], flat["order"], flat["kind"]] == [0, -30, "close"]
    assert flat["reason"].startswith("reversal through flat: +30 closed, the model target -50 opens from flat")
    direct = band_orders(orders, {"INDZ26": 0.0013}, {"IBOV": 0.22}, 0.005, 0.5, False).iloc[0]
    assert [direct["proposed"], direct["order"], direct["kind"]] == [-10, -40, "rebalance"]  # half the gap
    # in weights: the reversing instrument is closed whole and never banded; the others follow the rule as before
    trade, inside, reversal = execution_step([-0.05, 0.02, 0.0], [0.04, 0.01, -0.03], [0.2, 0.2, 0.2], 0.5, 0.5, True)
    assert trade.tolist() == [-0.04, 0.0, 0.03] and inside.tolist() == [False, True, False]
    assert reversal.tolist() == [True, False, False]
    trade, _, _ = execution_step([-0.05, 0.0], [0.04, 0.0], [0.2, 0.2], 0.0, 0.5, False)
    assert trade.tolist() == pytest.approx([-0.045, 0.0])
    # the next session, from flat, the new side opens as any open does
    trade, _, _ = execution_step([-0.05], [0.0], [0.2], 0.0, 0.5, True)
    assert trade.tolist() == pytest.approx([-0.025])
