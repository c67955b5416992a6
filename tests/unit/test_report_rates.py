"""The rates desk analytics: COPOM calendar data, implied path (hand computation), carry, ladder, changes."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from brmacro.calendar import anbima_roll_forward, du, is_session
from brmacro.instruments import di1_maturity
from brmacro.report.inputs import Inputs
from brmacro.report.rates import (
    carry_rolldown,
    changes,
    copom_calendar,
    copom_implied_path,
    dv01_ladder,
    meetings_known,
    rates_section,
)
from brmacro.report.render import Figures

D = dt.date(2026, 12, 1)


# ----------------------------------------------------------------------------------------------- calendar data
def test_copom_calendar_shape_and_dates() -> None:
    cal = copom_calendar()
    per_year = cal.groupby("calendar_year").size()
    assert per_year.loc[2005] == 12  # monthly meetings until 2005
    assert (per_year.loc[2006:] == 8).all(), per_year.loc[2006:].to_dict()
    assert set(range(2005, 2027)) <= set(per_year.index)
    dec = list(cal["decision_date"])
    assert dec == sorted(dec) and len(set(dec)) == len(dec)
    for r in cal.itertuples():
        # the decision (second day) is a B3 session and an ANBIMA business day; the first day is the day before
        # (a Tuesday: 2013-07-09 was a Sao Paulo holiday, B3 closed, while the COPOM met in Brasilia)
        assert is_session(r.decision_date), r.decision_date
        assert anbima_roll_forward(r.decision_date) == r.decision_date
        assert r.first_day == r.decision_date - dt.timedelta(days=1) and r.first_day.weekday() == 1
        assert r.decision_date.year == r.calendar_year
        assert r.announced < dt.date(r.calendar_year, 1, 1) <= r.first_day, r
        assert r.announced_basis in {"press", "rule_june", "rule_year_end"}
        assert r.dates_basis in {"official", "press", "press_partial", "unverified"} and r.source
    # DOMAIN.md A11's examples
    for d in ("2025-01-29", "2025-12-10", "2026-01-28", "2026-04-29", "2026-12-09"):
        assert dt.date.fromisoformat(d) in set(dec)


def test_meetings_known_is_point_in_time() -> None:
    cal = copom_calendar()
    # the 2021 calendar was announced on 2020-06-22 (press): not known the session before
    assert not (meetings_known(dt.date(2020, 6, 19), cal)["calendar_year"] == 2021).any()
    assert (meetings_known(dt.date(2020, 6, 22), cal)["calendar_year"] == 2021).sum() == 8
    assert (meetings_known(D, cal)["announced"] <= D).all()


# ----------------------------------------------------------------------------------------------- implied path
def _bdays(start: dt.date, end: dt.date) -> list[dt.date]:
    """ANBIMA business days in [start, end), one by one (the hand computation does not use du())."""
    out, d = [], start
    while d < end:
        if anbima_roll_forward(d) == d:
            out.append(d)
        d += dt.timedelta(days=1)
    return out


def _contract_rate(session: dt.date, maturity: dt.date, cdi_of_day) -> float:
    """DI1 rate that capitalises like the daily CDI path: prod (1 + f)^(1/252) over each business day."""
    days = _bdays(session, maturity)
    fac = math.prod((1.0 + cdi_of_day(d)) ** (1 / 252) for d in days)
    return fac ** (252 / len(days)) - 1.0


MEET = [dt.date(2026, 12, 9), dt.date(2027, 2, 3)]  # decisions; effective the next business day


def _path(d: dt.date) -> float:
    if d <= MEET[0]:
        return 0.1490
    if d <= MEET[1]:
        return 0.1440
    return 0.1390


def _contracts(months: list[tuple[int, int]]) -> pd.DataFrame:
    rows = []
    for y, m in months:
        mat = di1_maturity(y, m)
        rows.append({"ticker": f"DI1{m}{y}", "du": int(du(D, mat)), "settlement_rate": _contract_rate(D, mat, _path)})
    return pd.DataFrame(rows)


def test_copom_path_recovers_a_known_step_path() -> None:
    c = _contracts([(2027, 1), (2027, 2), (2027, 3), (2027, 4)])
    res = copom_implied_path(D, c, MEET, cdi=0.1490)
    t = res.table
    assert list(t["meeting"]) == [None, *MEET]
    assert t.loc[1, "effective"] == dt.date(2026, 12, 10) and t.loc[2, "effective"] == dt.date(2027, 2, 4)
    assert t.loc[1, "du_start"] == len(_bdays(D, dt.date(2026, 12, 10)))  # CDI of D..Dec 9 at the old rate
    assert t.loc[0, "rate"] == pytest.approx(0.1490, abs=1e-12)
    assert "CDI of the session" in t.loc[0, "note"]
    assert t.loc[1, "rate"] == pytest.approx(0.1440, abs=1e-10)
    assert t.loc[2, "rate"] == pytest.approx(0.1390, abs=1e-10)
    assert t.loc[1, "change"] == pytest.approx(-0.0050, abs=1e-10)
    assert t.loc[1, "n_contracts"] == 2  # F27 and G27 mature between the two meetings


def test_copom_path_without_cdi_fits_the_first_period_from_contracts() -> None:
    c = _contracts([(2027, 1), (2027, 2), (2027, 3)])
    # a contract maturing before the first meeting takes effect is needed; none here, so the first two periods
    # are fitted as one flat rate and the row says so
    t = copom_implied_path(D, c, MEET, cdi=None).table
    assert "fitted as one flat rate" in t.loc[0, "note"]
    assert t.loc[0, "rate"] == pytest.approx(t.loc[1, "rate"])
    # the hand computation: least squares of the flat rate on F27 and G27's log factors
    days = [len(_bdays(D, di1_maturity(2027, m))) for m in (1, 2)]
    y = [n / 252 * math.log1p(r) for n, r in zip(days, c["settlement_rate"][:2], strict=True)]
    g = sum(n / 252 * v for n, v in zip(days, y, strict=True)) / sum((n / 252) ** 2 for n in days)
    assert t.loc[0, "rate"] == pytest.approx(math.expm1(g), abs=1e-12)


def test_copom_path_merges_a_period_without_contract() -> None:
    c = _contracts([(2027, 3), (2027, 4)])  # nothing matures between Dec 10 and Feb 4
    t = copom_implied_path(D, c, MEET, cdi=0.1490).table
    assert len(t) == 3
    assert "no DI1 contract matures between meeting 2026-12-09 and meeting 2027-02-03" in t.loc[1, "note"]
    assert t.loc[1, "rate"] == t.loc[2, "rate"] and t.loc[2, "change"] == 0.0
    # hand computation: CDI fixed until Dec 10, then one flat rate to H27 (the first contract after the last
    # meeting priced; J27 is not used, so the rate is the one right after the meetings, not a long average)
    b = len(_bdays(D, dt.date(2026, 12, 10)))
    n = len(_bdays(D, di1_maturity(2027, 3)))
    r = float(c["settlement_rate"].iloc[0])
    g = (n / 252 * math.log1p(r) - b / 252 * math.log1p(0.1490)) / ((n - b) / 252)
    assert t.loc[1, "rate"] == pytest.approx(math.expm1(g), abs=1e-12)
    assert t.loc[2, "note"].endswith("DI132027 only")


def test_copom_path_rejects_bad_contracts() -> None:
    with pytest.raises(ValueError, match="du <= 0"):
        copom_implied_path(D, pd.DataFrame({"ticker": ["X"], "du": [0], "settlement_rate": [0.1]}), MEET)


# ----------------------------------------------------------------------------------------------- carry, ladder
def test_carry_rolldown_flat_and_sloped_curves() -> None:
    flat = carry_rolldown(np.array([21.0, 252.0, 504.0]), np.array([0.12, 0.12, 0.12]), [252.0, 504.0], 21)
    assert np.allclose(flat["carry_bp"], 0.0) and np.allclose(flat["roll_bp"], 0.0)
    x = np.array([21.0, 252.0, 504.0])
    y = np.array([0.10, 0.11, 0.12])
    out = carry_rolldown(x, y, [504.0, 10.0], 21)
    r21, r504 = 0.10, 0.12
    # roll-down: the 504du rate rolls to the 483du point of the flat-forward curve
    y252, y504 = 252 / 252 * math.log1p(0.11), 504 / 252 * math.log1p(0.12)
    r483 = math.expm1((y252 + (y504 - y252) * (483 - 252) / 252) * 252 / 483)
    roll = ((1 + r504) / (1 + r483)) ** (483 / 252) - 1
    carry = ((1 + r504) / (1 + r21)) ** (21 / 252) - 1
    dur = (504 / 252) / (1 + r504)
    assert out.loc[0, "roll_bp"] == pytest.approx(roll / dur * 1e4, rel=1e-10)
    assert out.loc[0, "carry_bp"] == pytest.approx(carry / dur * 1e4, rel=1e-10)
    assert out.loc[0, "carry_bp"] > 0 and out.loc[0, "roll_bp"] > 0  # upward curve: receivers earn both
    assert math.isnan(out.loc[1, "carry_bp"])  # matures inside the horizon


def test_dv01_ladder_buckets_and_edges() -> None:
    pos = pd.DataFrame({"contract": ["DI1F27", "DI1F28", "DI1F28", "DI1F31", "DI1F36"],
                        "du": [20, 252, 252, 1000, 2300], "contracts": [10, 5, -2, -3, 4],
                        "dv01_brl": [100.0, 500.0, -200.0, -900.0, 1600.0]})
    by_c, by_b = dv01_ladder(pos, [1, 2, 5])
    assert list(by_c["contract"]) == ["DI1F27", "DI1F28", "DI1F31", "DI1F36"]
    assert by_c.set_index("contract").loc["DI1F28", "dv01_brl"] == 300.0
    assert by_c.set_index("contract").loc["DI1F28", "bucket"] == "1–2y"  # 252 du is on the 1y edge
    b = by_b.set_index("bucket")["dv01_brl"].to_dict()
    assert b == {"0–1y": 100.0, "1–2y": 300.0, "2–5y": -900.0, "5y+": 1600.0}
    with pytest.raises(ValueError, match="increasing"):
        dv01_ladder(pos, [2, 1])


def test_changes_daily_weekly_mtd() -> None:
    idx = [dt.date(2026, 10, 30), dt.date(2026, 11, 24), dt.date(2026, 11, 25), dt.date(2026, 11, 26),
           dt.date(2026, 11, 27), dt.date(2026, 11, 30), dt.date(2026, 12, 1), dt.date(2026, 12, 2)]
    s = pd.Series([0.10, 0.11, 0.111, 0.112, 0.113, 0.114, 0.120, 0.5], index=idx)
    ch = changes(s, D)  # the 2026-12-02 value is after the session: ignored
    assert ch.date == D and ch.level == pytest.approx(0.120)
    assert ch.d1 == pytest.approx(0.006) and ch.w1 == pytest.approx(0.010) and ch.mtd == pytest.approx(0.006)
    rel = changes(pd.Series([100.0, 110.0, 121.0], index=[idx[0], idx[1], idx[4]]), idx[4], relative=True)
    assert rel.d1 == pytest.approx(0.10) and rel.mtd == pytest.approx(0.21)
    short = changes(s.iloc[-3:-1], D)
    assert short.w1 is None and short.mtd == pytest.approx(0.006)
    assert changes(pd.Series(dtype=float), D).level is None


# ----------------------------------------------------------------------------------------------- section
def _inputs() -> Inputs:
    c = _contracts([(2027, 1), (2027, 2), (2027, 3), (2027, 4), (2028, 1), (2031, 1), (2036, 1)])
    mats = {f"DI1{m}{y}": di1_maturity(y, m) for y, m in [(2027, 1), (2027, 2), (2027, 3), (2027, 4), (2028, 1),
                                                          (2031, 1), (2036, 1)]}
    b3 = c.assign(trade_date=D, commodity="DI1", maturity=c["ticker"].map(mats), settlement_price=1.0,
                  open_interest=1.0, release_date=D, release_basis="calendar")
    b3.loc[b3["ticker"] == "DI112028", "ticker"] = "DI1F28"
    sessions = [dt.date(2026, 10, 30), dt.date(2026, 11, 24), dt.date(2026, 11, 25), dt.date(2026, 11, 26),
                dt.date(2026, 11, 27), dt.date(2026, 11, 30), D]
    rows = []
    for i, s in enumerate(sessions):
        for curve, base in (("DI_PRE", 0.14), ("BR_REAL", 0.07), ("BR_BEI", 0.065)):
            for lab, n in (("252du", 252), ("2520du", 2520)):
                rows.append({"date": s, "curve": curve, "tenor_label": lab, "tenor_du": n, "tenor_years": n / 252,
                             "rate": base + 0.001 * i + n / 1e6})
    curves = pd.DataFrame(rows)
    slopes = pd.DataFrame([{"date": s, "name": "DI_1s2s", "value": 0.001 * i} for i, s in enumerate(sessions)])
    sizing = pd.DataFrame({"instrument": ["DI1_1Y", "DI1_10Y", "USDBRL"], "asset_class": ["rates_br", "rates_br", "fx"],
                           "contract": ["DI1F28", "DI1N36", "DOLF27"], "contracts": [100.0, -20.0, 3.0],
                           "dv01_brl": [8000.0, -9000.0, 0.0]})
    macro = pd.DataFrame({"series": ["br_cdi_daily", "br_selic_target"], "observation_date": [D, D],
                          "value": [(1.149) ** (1 / 252) - 1, 0.15], "release_date": [D, D]})
    ret = pd.DataFrame([{"date": s, "instrument": inst, "level": lvl * (1 + 0.01 * i)}
                        for i, s in enumerate(sessions) for inst, lvl in (("USDBRL", 5.0), ("IBOV", 1e5),
                                                                           ("SPX", 5000.0), ("UST_10Y", 0.04))])
    return Inputs(tables={("bronze_b3_market_data", "part"): b3, ("silver_curves", "part"): curves,
                          ("silver_returns", "part"): ret,
                          ("silver_curves", "slopes"): slopes, ("portfolio_sizing", "part"): sizing,
                          ("silver_macro", "part"): macro})


def test_rates_section_shows_every_block_with_figures() -> None:
    figs = Figures(D)
    sec = rates_section(_inputs(), figs, D, None)
    kinds = [b.kind for b in sec.blocks]
    captions = [b.table.caption for b in sec.blocks if b.kind == "table"]
    assert any(c.startswith("COPOM-implied path") for c in captions)
    assert any(c.startswith("DI, DAP real rates and breakevens") for c in captions)
    assert any(c.startswith("Curve slopes") for c in captions)
    assert any(c.startswith("Carry and roll-down") for c in captions)
    assert any(c.startswith("DV01 ladder by contract") for c in captions)
    assert any(c.startswith("DV01 ladder by maturity bucket") for c in captions)
    recs = {(r["section"], r["name"]): r for r in figs.records()}
    assert recs[("rates", "COPOM 2026-12-09 implied CDI")]["value"] == pytest.approx(0.1440, abs=1e-10)
    # implied Selic = implied CDI + (target - CDI) = 14.40% + 0.10%
    assert recs[("rates", "COPOM 2026-12-09 implied Selic")]["value"] == pytest.approx(0.1450, abs=1e-10)
    assert recs[("rates", "DI 252du 1d change")]["value"] == pytest.approx(0.001)
    assert recs[("rates", "DI 252du MTD change")]["value"] == pytest.approx(0.001)
    assert recs[("rates", "DI 252du 1w change")]["value"] == pytest.approx(0.005)
    assert recs[("rates", "USDBRL 1d change")]["value"] == pytest.approx(1.06 / 1.05 - 1)
    assert recs[("rates", "USDBRL MTD change")]["value"] == pytest.approx(1.06 / 1.05 - 1)
    assert recs[("rates", "IBOV 1w change")]["value"] == pytest.approx(1.06 / 1.01 - 1)
    assert recs[("rates", "UST 10Y 1d change")]["value"] == pytest.approx(0.04 * 0.01)
    assert any(c.startswith("The other markets") for c in captions)
    assert recs[("rates", "DV01 total")]["value"] == pytest.approx(8000.0)  # DI1N36 is not listed: named missing
    assert recs[("rates", "DV01 bucket 1–2y")]["value"] == pytest.approx(8000.0)
    missing = [b.text for b in sec.blocks if b.kind == "missing"]
    assert any("DI1N36" in m for m in missing)
    paras = [b.text for b in sec.blocks if b.kind == "p"]
    assert "Next COPOM (2026-12-09): the DI1 curve prices -50 bp (Selic 15.00% to 14.50%)." in paras
    # the 2027 calendar is not shipped: the section says so instead of pricing invented dates
    assert any("2027" in b.text and "not priced" in b.text for b in sec.blocks if b.kind == "p")
    assert "table" in kinds
    # the slope silver does not compute is n/a with the reason
    texts = [c.text for b in sec.blocks if b.kind == "table" for row in b.table.rows for c in row]
    assert any("not computed by silver_curves" in t for t in texts)


def test_rates_section_without_inputs_says_what_is_missing() -> None:
    sec = rates_section(Inputs(missing={("bronze_b3_market_data", "part"): "unreadable: boom"}), Figures(D), D)
    missing = [b.text for b in sec.blocks if b.kind == "missing"]
    assert any("bronze_b3_market_data/part: unreadable: boom" in m for m in missing)
    assert any(m.startswith("missing: silver_curves/part") for m in missing)
