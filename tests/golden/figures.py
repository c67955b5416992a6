"""Golden figures: the numbers a PM reads from a demo run, extracted from the artifacts and compared.

The committed table ``tests/golden/figures.csv`` holds, for the two demo sessions of the workflow tests
(:data:`tests.conftest.SESSIONS`), one row per figure: ``session``, ``figure``, ``value`` (a number, or
empty), ``text`` (a label such as a contract ticker or a regime, or empty), ``tol`` (absolute tolerance on
``value``) and ``unit``. ``tests/workflow/test_golden.py`` extracts the same figures from the shared demo
run and fails naming every figure that moved. Regenerate on purpose (and review the diff in the commit
that changes the maths) with::

    python -m tests.golden.regen                  # runs the demo pipeline for the two sessions (~1-3 min)
    python -m tests.golden.regen --results DIR    # or reads an existing run's results/ directory

Figures: VaR and CVaR by method and confidence (``risk_var``), the book's DV01 gross and net and the
optimiser's ex-ante vol and gross (``portfolio_sizing``, ``portfolio_optimization``), weights, contract
tickers and contract counts per instrument, the regime and its clarity (``agent_cross_asset``), every limit's
value and status (``risk_limits``), the daily report's regime/portfolio/risk headline figures
(``daily_report``) and which alerts fired.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from brmacro.io import read_table
from brmacro.pipeline import all_schemas, partition_paths

GOLDEN = Path(__file__).resolve().with_name("figures.csv")
FIELDS = ("session", "figure", "value", "text", "tol", "unit")
#: report sections whose headline figures are golden (the others are data summaries, checked elsewhere)
REPORT_SECTIONS = ("regime", "portfolio", "risk")
REL = 1e-6  # relative tolerance on real figures: artifacts are byte-reproducible; this absorbs BLAS last bits


@dataclass(frozen=True)
class Figure:
    """One golden figure."""

    session: str
    figure: str
    value: float | None
    text: str
    tol: float
    unit: str


def _tol(v: float, floor: float) -> float:
    return float(max(abs(v) * REL, floor))


def _read(results: Path, asset: str, d: dt.date, table: str = "part"):  # noqa: ANN202 - a DataFrame
    return read_table(partition_paths(results, asset, d)[table], all_schemas()[asset][table])


def extract(results: Path, session: str) -> list[Figure]:
    """Every golden figure of one session of a run's ``results/`` directory."""
    d = dt.date.fromisoformat(session)
    out: list[Figure] = []

    def num(name: str, v: float | None, unit: str, floor: float = 1e-12) -> None:
        fv = None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)
        out.append(Figure(session, name, fv, "", 0.0 if fv is None else _tol(fv, floor), unit))

    def txt(name: str, t: str) -> None:
        out.append(Figure(session, name, None, str(t), 0.0, "label"))

    var = _read(results, "risk_var", d)
    for r in var.itertuples():
        num(f"var.{r.method}.{r.confidence:.2f}", r.var, "NAV fraction, 1 day")
        num(f"cvar.{r.method}.{r.confidence:.2f}", r.cvar, "NAV fraction, 1 day")

    sz = _read(results, "portfolio_sizing", d).sort_values("instrument")
    rates = sz.loc[sz["asset_class"].isin(["rates_br", "rates_us"]), "dv01_brl"].astype(float)
    br = sz.loc[sz["asset_class"] == "rates_br", "dv01_brl"].astype(float)
    num("book.dv01_gross", float(rates.abs().sum()), "BRL per bp", 1e-6)
    num("book.dv01_net", float(rates.sum()), "BRL per bp", 1e-6)
    num("book.dv01_net_br", float(br.sum()), "BRL per bp", 1e-6)
    num("book.gross_weight", float(sz["weight"].abs().sum()), "NAV multiple")
    num("book.net_weight", float(sz["weight"].sum()), "NAV multiple")
    for r in sz.itertuples():
        num(f"weight.{r.instrument}", r.weight, "NAV fraction")
        num(f"contracts.{r.instrument}", r.contracts, "contracts", 0.0)
        txt(f"contract.{r.instrument}", r.contract)

    solve = _read(results, "portfolio_optimization", d, "solve").iloc[0]
    num("optimiser.ex_ante_vol", solve["ex_ante_vol"], "annualised decimal")
    num("optimiser.gross", solve["gross"], "NAV multiple")
    txt("optimiser.status", solve["status"])

    view = _read(results, "agent_cross_asset", d, "view").sort_values("date").iloc[-1]
    txt("regime", view["regime"])
    num("regime.clarity", view["regime_clarity"], "fraction")
    for p in ("goldilocks", "reflation", "stagflation", "deflation"):
        num(f"regime.p_{p}", view[f"p_{p}"], "probability")

    for r in _read(results, "risk_limits", d).itertuples():
        num(f"limit.{r.limit}", None if r.value is None or np.isnan(r.value) else r.value, "limit's unit")
        txt(f"limit.{r.limit}.status", r.status)

    rep = _read(results, "daily_report", d)
    for r in rep.loc[rep["section"].isin(REPORT_SECTIONS)].itertuples():
        if r.value is not None and not np.isnan(r.value):
            num(f"report.{r.section}.{r.name}", r.value, "report unit")
    for r in _read(results, "daily_report", d, "alerts").itertuples():
        txt(f"alert.{r.rule_id}", "fired" if r.fired else "quiet")
    return out


def load(path: Path = GOLDEN) -> list[Figure]:
    """The committed golden table."""
    with path.open(newline="") as f:
        return [Figure(r["session"], r["figure"], float(r["value"]) if r["value"] != "" else None, r["text"],
                       float(r["tol"]), r["unit"]) for r in csv.DictReader(f)]


def save(figs: list[Figure], path: Path = GOLDEN) -> None:
    """Write the golden table (sorted, values with 12 significant digits)."""
    with path.open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(FIELDS)
        for g in sorted(figs, key=lambda g: (g.session, g.figure)):
            w.writerow([g.session, g.figure, "" if g.value is None else f"{g.value:.12g}", g.text,
                        f"{g.tol:.3g}", g.unit])


def compare(expected: list[Figure], found: list[Figure]) -> list[str]:
    """One line per figure that differs, is missing, or is new (empty when everything matches)."""
    got = {(f.session, f.figure): f for f in found}
    exp = {(f.session, f.figure): f for f in expected}
    bad = []
    for k, e in sorted(exp.items()):
        f = got.get(k)
        where = f"{e.figure} [session {e.session}]"
        if f is None:
            bad.append(f"{where}: expected {e.value if e.value is not None else e.text!r}, found nothing (figure gone)")
        elif e.text or f.text:
            if e.text != f.text:
                bad.append(f"{where}: expected {e.text!r}, found {f.text!r} (labels must match exactly)")
        elif (e.value is None) != (f.value is None):
            bad.append(f"{where}: expected {e.value}, found {f.value} ({e.unit})")
        elif e.value is not None and f.value is not None and not abs(f.value - e.value) <= e.tol:
            bad.append(f"{where}: expected {e.value:.10g}, found {f.value:.10g}, difference {f.value - e.value:+.3g} "
                       f"beyond tolerance {e.tol:.3g} ({e.unit})")
    for k in sorted(set(got) - set(exp)):
        f = got[k]
        bad.append(f"{f.figure} [session {f.session}]: new figure {f.value if f.value is not None else f.text!r} "
                   "not in the golden table")
    return bad
