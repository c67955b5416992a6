"""The desk's positions file through the real workflow: optional input, held-vs-proposed risk, report, bad file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from brmacro.io import read_table
from brmacro.pipeline import all_schemas
from tests.conftest import SESSIONS, snakemake, workflow_copy

D = SESSIONS[-1]  # 2026-11-24
PREV = SESSIONS[0]  # 2026-11-23

BOOK = "contract,quantity,avg_price\nDI1F28,600,0.0712\nDI1F31,-150,\nDOLZ26,-20,5400\nINDZ26,30,\nZNH27,-10,\n"


def _copy_run(demo_run: Path, dest: Path) -> Path:
    """A working directory holding the demo run's results and Snakemake metadata (mtimes kept)."""
    wd = workflow_copy(dest)
    shutil.copytree(demo_run / "results", wd / "results", symlinks=True)
    shutil.copytree(demo_run / ".snakemake" / "metadata", wd / ".snakemake" / "metadata")
    return wd


def _positions(wd: Path, d: str, text: str) -> Path:
    p = wd / "positions" / f"date={d}" / "positions.csv"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


def _table(wd: Path, layer: str, asset: str, table: str = "part") -> pd.DataFrame:
    name = "part.parquet" if table == "part" else f"{table}.parquet"
    return read_table(wd / "results" / layer / asset / f"date={D}" / name, all_schemas()[asset][table])


def test_held_versus_proposed_risk_from_a_positions_file(demo_run: Path, batch_layout_run: tuple[Path, str],
                                                         tmp_path: Path) -> None:
    # without a file, the run has no held book and the report says the model book stands in
    assert _table(demo_run, "portfolio", "portfolio_sizing", "desk_books").empty
    md = (demo_run / "results" / "report" / "daily_report" / f"date={D}" / "report.md").read_text()
    assert "the previous session's model book stands in" in md

    wd = _copy_run(demo_run, tmp_path / "wd")
    _positions(wd, PREV, BOOK)
    _positions(wd, D, BOOK)
    out = snakemake(wd, "--cores", "2", "--config", f"date={D}")
    log = out.stdout + out.stderr
    # the new optional input reruns the book (the optimisation's reference book is the desk's positions) and what
    # follows it, nothing upstream
    assert all(f"rule {r}:" in log for r in ("portfolio_optimization", "portfolio_sizing", "risk_var", "daily_report"))
    assert not any(f"rule {r}:" in log for r in ("silver_curves", "silver_returns", "signal_aggregation"))

    desk = _table(wd, "portfolio", "portfolio_sizing", "desk").iloc[0]
    assert desk["positions_present"] and desk["positions_file"].endswith(f"date={D}/positions.csv")
    held = _table(wd, "portfolio", "portfolio_sizing", "held").set_index("contract")
    assert held.loc["DI1F28", "quantity"] == 600 and held.loc["DI1F28", "quantity_prev"] == 600
    assert held.loc["DI1F28", "price_source"] == "B3 settlement PU" and pd.notna(held.loc["DI1F28", "pnl_brl"])
    orders = _table(wd, "portfolio", "portfolio_sizing", "orders")
    assert (orders["order"] == orders["proposed"] - orders["held"]).all()
    sizing = _table(wd, "portfolio", "portfolio_sizing")
    contracts = _table(wd, "portfolio", "portfolio_sizing", "contracts").set_index("contract")
    # every model contract is listed in the session's file (DI1) and outside its roll window
    assert not contracts.loc[sorted(set(sizing["contract"])), "in_roll_window"].any()
    assert contracts.loc[[c for c in sizing["contract"] if c.startswith("DI1")], "open_interest"].notna().all()

    var = _table(wd, "risk", "risk_var", "books")
    assert set(var["book"]) == {"held", "proposed"} and (var["var"] > 0).all()
    stress = _table(wd, "risk", "risk_stress", "books")
    assert set(stress["book"]) == {"held", "proposed"}
    lim = _table(wd, "risk", "risk_limits", "books")
    assert {"held", "proposed"} == set(lim["book"]) and "open_interest_share" in set(lim["limit"])
    part = _table(wd, "risk", "risk_limits").set_index("limit")
    assert {"open_interest_share", "held_daily_loss", "held_weekly_loss", "proposed_open_interest_share"} <= set(
        part.index)
    assert part.loc["held_daily_loss", "status"] != "N/A"  # the file of the session before is there
    # the held and proposed books differ, and their VaR is not the model book's
    hv = var.loc[(var["book"] == "held") & (var["method"] == "parametric"), "var"].to_numpy()
    pv = var.loc[(var["book"] == "proposed") & (var["method"] == "parametric"), "var"].to_numpy()
    assert (hv != pv).all()

    # the session layout declares and reads the same optional files: the same bytes (the files added to a copy of
    # the shared batch-layout run of D, whose partitions the session rules take over: they rerun what reads them)
    sl = _copy_run(batch_layout_run[0], tmp_path / "session")
    _positions(sl, PREV, BOOK)
    _positions(sl, D, BOOK)
    log = snakemake(sl, "--cores", "2", "--config", f"date={D}", "layout=session")
    assert "rule session_core" in log.stdout + log.stderr
    for layer, asset in (("portfolio", "portfolio_sizing"), ("risk", "risk_var"), ("risk", "risk_limits")):
        part_dir = Path("results") / layer / asset / f"date={D}"
        names = sorted(p.name for p in (wd / part_dir).glob("*.parquet"))
        assert names and names == sorted(p.name for p in (sl / part_dir).glob("*.parquet"))
        assert all((wd / part_dir / n).read_bytes() == (sl / part_dir / n).read_bytes() for n in names), asset

    report = (wd / "results" / "report" / "daily_report" / f"date={D}" / "report.md").read_text()
    assert "Desk book: held positions, orders and rolls" in report
    assert "Held and proposed books side by side" in report and "Roll calendar" in report
    assert "DI1F28" in report and "Held positions (positions file)" in report


def test_a_bad_positions_file_fails_the_session_naming_it(demo_run: Path, tmp_path: Path) -> None:
    wd = _copy_run(demo_run, tmp_path / "bad")
    bad = _positions(wd, D, "contract,quantity\nDOLZ26,2.5\n")
    out = snakemake(wd, "--cores", "2", "--config", f"date={D}", check=False)
    log = out.stdout + out.stderr
    assert out.returncode != 0
    assert f"{bad.relative_to(wd)}, row 1, field quantity: '2.5' is not a whole number of contracts" in log
    # the first step reading the file failed and left none of its outputs; nothing was written after the bad file
    assert not (wd / "results" / "portfolio" / "portfolio_optimization" / f"date={D}" / "part.parquet").exists()
    newer = [p for p in (wd / "results").rglob("*.parquet") if p.stat().st_mtime > bad.stat().st_mtime]
    assert newer == []
