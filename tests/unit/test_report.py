"""The daily report: sections, figures matching the artifacts, escaping, missing inputs, orders."""

from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from brmacro.calendar import previous_sessions
from brmacro.report.build import order_text
from brmacro.report.schemas import ALERTS, FIGURES
from brmacro.report.steps import daily_report
from tests.unit.test_report_fixtures import SESSION, all_tables, sizing, write_inputs

SECTIONS = ("market", "regime", "agents", "signals", "portfolio", "risk", "actions")
PREV = previous_sessions(SESSION, 1)[0]
FIG = re.compile(r'<td data-fig="([^"]+)"[^>]*>([^<]*)</td>')


def _run(tmp: Path, **kw: object) -> tuple[dict[str, pd.DataFrame], str, str, dict]:
    tables = all_tables(**kw)  # type: ignore[arg-type]
    prev = None if kw.get("no_prev") else sizing(PREV, scale=0.5)
    ctx = write_inputs(tmp, tables, prev=prev, skip=tuple(kw.get("skip", ())))  # type: ignore[arg-type]
    out = daily_report(ctx)
    assert ctx.out_dir is not None
    return out, (ctx.out_dir / "report.html").read_text(), (ctx.out_dir / "report.md").read_text(), tables


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, pd.DataFrame], str, str, dict]:
    return _run(tmp_path_factory.mktemp("rep"))


def _parse(text: str) -> float:
    t = text.replace(",", "").strip()
    if t.endswith(" bp"):
        return float(t[:-3]) / 1e4
    if t.endswith("%"):
        return float(t[:-1]) / 100
    return float(t)


def test_tables_conform_to_schemas(report):
    out = report[0]
    FIGURES.conform(out["part"])
    ALERTS.conform(out["alerts"])
    assert len(out["alerts"]) == 12


def test_seven_sections_present_in_html_and_md(report):
    _, page, md, _ = report
    for key in SECTIONS:
        assert f'<section id="{key}">' in page
    for title in ("Market snapshot", "Regime", "Agent views", "Signals", "Portfolio", "Risk", "Actions"):
        assert title in md
    assert "Data freshness" in page


def test_every_html_figure_is_a_part_row_with_the_same_text(report):
    out, page, _, _ = report
    part = out["part"].set_index(["section", "name"])
    found = FIG.findall(page)
    assert len(found) == len(part) > 50
    for key, text in found:
        sec, name = html.unescape(key).split("/", 1)
        row = part.loc[(sec, name)]
        assert html.unescape(text) == row["text"]
        if row["value"] is not None and not pd.isna(row["value"]) and not row["text"].startswith("n/a"):
            # the displayed number equals the stored value to display precision
            shown = _parse(row["text"])
            digits = len(row["text"].rstrip("%").replace(" bp", "").split(".")[-1]) if "." in row["text"] else 0
            scale = 100 if row["text"].endswith("%") else (1e4 if row["text"].endswith("bp") else 1)
            assert shown == pytest.approx(float(row["value"]), abs=0.51 * 10 ** -digits / scale + 1e-12)


def test_figures_equal_artifact_values(report):
    out, _, _, tables = report
    part = out["part"].set_index(["section", "name"])["value"]
    var = tables[("risk_var", "part")]
    h95 = var.loc[(var["method"] == "historical") & (var["confidence"] == 0.95), "var"].item()
    assert part[("risk", "VaR historical 95%")] == pytest.approx(h95, rel=1e-11)
    curves = tables[("silver_curves", "part")]
    di1 = curves.loc[(curves["curve"] == "DI_PRE") & (curves["tenor_label"] == "252du")].sort_values("date")
    assert part[("market", "DI 1Y level")] == pytest.approx(di1["rate"].iloc[-1], rel=1e-11)
    assert part[("market", "DI 1Y 1d change")] == pytest.approx(di1["rate"].iloc[-1] - di1["rate"].iloc[-2])
    ret = tables[("silver_returns", "part")]
    fx = ret.loc[ret["instrument"] == "USDBRL"].sort_values("date")["level"]
    assert part[("market", "USDBRL level")] == pytest.approx(fx.iloc[-1], rel=1e-11)
    assert part[("market", "USDBRL 1d change")] == pytest.approx(fx.iloc[-1] / fx.iloc[-2] - 1)
    sz = tables[("portfolio_sizing", "part")]
    assert part[("portfolio", "gross exposure")] == pytest.approx(sz["weight"].abs().sum())
    prev = sizing(PREV, scale=0.5).set_index("instrument")["contracts"]
    cur = sz.set_index("instrument")["contracts"]
    assert part[("actions", "DI1_1Y DI1F26 current contracts")] == pytest.approx(prev["DI1_1Y"], rel=1e-11)
    assert part[("actions", "DI1_1Y DI1F26 target contracts")] == pytest.approx(cur["DI1_1Y"], rel=1e-11)
    notl = sz.set_index("instrument")["notional_brl"]["DI1_1Y"]
    assert part[("actions", "DI1_1Y DI1F26 notional BRL")] == pytest.approx(notl / 2, rel=1e-11)  # prev = half
    pnl = tables[("risk_limits", "pnl")].sort_values("date")
    assert part[("portfolio", "daily P&L")] == pytest.approx(pnl["pnl"].iloc[-1], rel=1e-11)
    assert part[("portfolio", "5-session P&L")] == pytest.approx(pnl["pnl"].sum())
    agg = tables[("signal_aggregation", "part")].set_index("instrument")["conviction"]
    assert part[("signals", "DI1_1Y conviction")] == pytest.approx(agg["DI1_1Y"], rel=1e-11)
    st = tables[("risk_stress", "part")].set_index("scenario")["pnl"]
    assert part[("risk", "stress covid_2020")] == pytest.approx(st["covid_2020"], rel=1e-11)


def test_no_nan_none_or_template_syntax(report):
    _, page, md, _ = report
    for text in (page, md):
        assert not re.search(r"\bnan\b|\bNaN\b|\bNone\b", text)
        assert "{{" not in text and "{%" not in text and "%}" not in text


def test_hostile_strings_are_escaped(tmp_path):
    out, page, md, _ = _run(tmp_path, hostile=True)
    assert "<script>" not in page and "<script>" not in md
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "{{7*7}}" not in page and "{{7*7}}" not in md
    assert "<script" not in page.lower().replace("&lt;script", "")


def test_missing_input_named_in_its_section(tmp_path):
    out, page, md, _ = _run(tmp_path, skip=("risk_var", "signal_monitor"))
    risk = page[page.index('<section id="risk">'):page.index('<section id="actions">')]
    assert "missing: risk_var/part" in risk
    assert "missing: signal_monitor/part" in page and "missing: signal_monitor/summary" in md
    al = out["alerts"].set_index("rule_id")
    assert bool(al.loc["PIPELINE_FAILURE", "fired"])
    assert "risk_var/part" in al.loc["PIPELINE_FAILURE", "message"]
    part = out["part"]
    assert not (part["section"].eq("risk") & part["name"].str.startswith("VaR ")).any()


def test_actions_are_worded_in_contracts(report):
    _, page, _, _ = report
    act = html.unescape(page[page.index('<section id="actions">'):page.index('<section id="status">')])
    # DI1_1Y: 120 now vs 60 before -> receive 60; DI1_5Y: -30 vs -15 -> pay 15; IBOV -18 vs -9 -> sell 9
    assert "receive 60 DI1F26: aggregate conviction +0.62 (long)" in act
    assert "pay 15 DI1F30" in act
    assert "sell 9 INDQ25" in act
    assert "buy 24 DOLN25" in act


def test_no_previous_sizing_says_so(tmp_path):
    out, page, _, _ = _run(tmp_path, no_prev=True)
    act = page[page.index('<section id="actions">'):page.index('<section id="status">')]
    assert "missing: orders" in act and "previous session" in act


def test_order_text_convention():
    assert order_text("rates_br", 120, "DI1F28") == "receive 120 DI1F28"
    assert order_text("rates_br", -5, "DI1F28") == "pay 5 DI1F28"
    assert order_text("rates_us", 3, "ZNU5") == "receive 3 ZNU5"
    assert order_text("fx", -2, "DOLN25") == "sell 2 DOLN25"
    assert order_text("equity_br", 1500, "INDQ25") == "buy 1,500 INDQ25"


def test_deterministic_output(tmp_path):
    a = _run(tmp_path / "a")
    b = _run(tmp_path / "b")
    assert a[1] == b[1] and a[2] == b[2]
    pd.testing.assert_frame_equal(a[0]["part"], b[0]["part"])


def test_charts_are_inline_svg(report):
    _, page, _, _ = report
    assert page.count("<svg") == 4  # DI curve, USDBRL, VaR bars, COPOM path (rates desk)
    assert "<script" not in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert np.isfinite(1.0)


def test_step_refuses_without_out_dir(tmp_path):
    ctx = write_inputs(tmp_path, all_tables())
    ctx.out_dir = None
    with pytest.raises(ValueError, match="out_dir"):
        daily_report(ctx)


def test_an_order_led_by_a_held_entry_says_so() -> None:
    """The orders' reasons name a leading strategy whose entry is held (signals.strategies.hold_entries)."""
    from brmacro.report.build import _held_note

    strat = pd.DataFrame({"signal_id": ["INF_03", "RATES_04", "INF_03"], "instrument": ["DI1_2Y", "DI1_2Y", "DI1_5Y"],
                          "note": ['{"held_sessions": 4, "z": 0.9708, "z_today": 0.4887}',
                                   '{"held_sessions": 0, "z": 1.6, "z_today": 1.6}', "{}"]})
    assert _held_note(strat, "DI1_2Y", "INF_03") == (
        "; its entry is held (4 sessions since |z| crossed the entry, held z +0.97, today's z +0.49: "
        "signals.strategies.hold_entries)")
    assert _held_note(strat, "DI1_2Y", "RATES_04") == ""  # today's own entry
    assert _held_note(strat, "DI1_5Y", "INF_03") == ""  # no hold recorded
    assert _held_note(strat, "DI1_2Y", "FX_BR_COMPOSITE") == "" and _held_note(None, "DI1_2Y", "INF_03") == ""
