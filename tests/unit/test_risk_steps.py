"""The three risk steps end to end through run_step on fabricated inputs in the exact upstream schemas."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from brmacro.calendar import previous_sessions, sessions_between
from brmacro.desk.schemas import DESK_SCHEMAS
from brmacro.errors import InputMissing
from brmacro.instruments import INSTRUMENTS
from brmacro.io import read_table, write_table
from brmacro.pipeline import all_schemas, partition_paths, run_step
from brmacro.portfolio.schemas import SIZING
from brmacro.risk.schemas import RISK_SCHEMAS
from brmacro.silver.schemas import CURVES, RETURNS
from tests.configparts import config_part, schema_part

D = dt.date(2026, 11, 27)
ROOT = Path(__file__).resolve().parents[2]
VOLS = {"DI1_1Y": 0.001, "DI1_2Y": 0.002, "DI1_5Y": 0.004, "DI1_10Y": 0.006, "USDBRL": 0.01, "IBOV": 0.015,
        "UST_10Y": 0.005, "SPX": 0.012}
WEIGHTS = {"DI1_1Y": 0.0, "DI1_2Y": 1.5, "DI1_5Y": 0.0, "DI1_10Y": -0.2, "USDBRL": -0.1, "IBOV": 0.1,
           "UST_10Y": 0.2, "SPX": 0.05}


def _params() -> dict[str, Any]:
    cfg = config_part("risk")
    return {"risk": cfg["risk"], "source": "demo", "nav_brl": 100_000_000.0}


def _returns_table() -> pd.DataFrame:
    rng = np.random.default_rng(42)
    recent = [*previous_sessions(D, 799), D]
    crisis = sessions_between(dt.date(2020, 3, 2), dt.date(2020, 3, 31))  # a crisis slice, part of a window
    days = crisis + recent
    names = sorted(VOLS)
    x = rng.standard_t(6, size=(len(days), len(names))) * np.array([VOLS[n] for n in names]) / np.sqrt(1.5)
    df = pd.DataFrame({
        "date": np.repeat(days, len(names)), "instrument": names * len(days), "level": 1.0, "ret": x.ravel(),
        "vol_21": np.nan, "vol_63": np.nan, "vol_252": np.nan, "z_252": np.nan,
    })
    df.loc[df["date"] == days[0], "ret"] = np.nan  # first row of the history has no return
    return df


def _crisis_table() -> pd.DataFrame:
    """silver_returns.crisis with the taper-tantrum window only (the 2015 window stays out of history)."""
    rng = np.random.default_rng(7)
    days = sessions_between(dt.date(2013, 5, 22), dt.date(2013, 8, 30))
    names = sorted(VOLS)
    x = rng.standard_t(6, size=(len(days), len(names))) * np.array([VOLS[n] for n in names]) / np.sqrt(1.5)
    df = pd.DataFrame({"window": "taper_tantrum_2013", "date": np.repeat(days, len(names)),
                       "instrument": names * len(days), "level": 1.0, "ret": x.ravel()})
    df.loc[df["date"] == days[0], "ret"] = np.nan
    return df


def _curves_table() -> pd.DataFrame:
    tenors = (21, 63, 126, 252, 504, 756, 1260, 2520)
    di = pd.DataFrame({
        "date": D, "curve": "DI_PRE", "tenor_label": [f"{t}du" for t in tenors], "tenor_du": tenors,
        "tenor_years": [t / 252 for t in tenors], "rate": [0.14 - 0.0002 * t / 21 for t in tenors],
    })
    ust = pd.DataFrame({"date": D, "curve": "UST_NOM", "tenor_label": ["2Y", "10Y", "30Y"],
                        "tenor_du": [504, 2520, 7560], "tenor_years": [2.0, 10.0, 30.0], "rate": [0.04, 0.042, 0.045]})
    return pd.concat([di, ust], ignore_index=True)


def _sizing_table(d: dt.date, scale: float = 1.0) -> pd.DataFrame:
    names = [i.name for i in INSTRUMENTS]
    w = np.array([WEIGHTS[n] * scale for n in names])
    return pd.DataFrame({
        "date": d, "instrument": names, "asset_class": [i.asset_class for i in INSTRUMENTS], "target_weight": w,
        "weight": w, "notional_brl": w * 1e8, "contract": [i.contract for i in INSTRUMENTS], "contracts": 0.0,
        "dv01_brl": [w[k] * 1e8 * 1e-4 * (i.tenor_du / 252) / 1.13 if i.kind == "di1" else
                     (w[k] * 1e8 * 1e-4 * 8.0 if i.kind == "ust" else 0.0) for k, i in enumerate(INSTRUMENTS)],
        "vol": 0.1, "method": "vol_target", "origin": "views: TEST",
    })


def _write(results: Path, asset: str, d: dt.date, table: str, df: pd.DataFrame) -> Path:
    path = partition_paths(results, asset, d)[table]
    write_table(df, path, all_schemas()[asset][table], asof=d, source="demo")
    return path


def _build_all(results: Path, prev_available: int = 6) -> dict[str, dict[str, Path]]:
    rets = _write(results, "silver_returns", D, "part", _returns_table())
    crisis = _write(results, "silver_returns", D, "crisis", _crisis_table())
    curves = _write(results, "silver_curves", D, "part", _curves_table())
    sizing = _write(results, "portfolio_sizing", D, "part", _sizing_table(D))
    desk = [_write(results, "portfolio_sizing", D, t, sc.empty()) for t, sc in DESK_SCHEMAS.items()]  # no positions
    prev = [_write(results, "portfolio_sizing", p, "part", _sizing_table(p, 1.0 + 0.1 * k))
            for k, p in enumerate(previous_sessions(D, 6)) if k >= 6 - prev_available]
    params = _params()
    outs: dict[str, dict[str, Path]] = {}
    for asset, inputs, prev_inputs in (
        ("risk_var", [sizing, *desk, rets], []),
        ("risk_stress", [sizing, *desk, rets, crisis, curves], []),
        ("risk_limits", [sizing, *desk, rets], prev),
    ):
        if asset == "risk_limits":
            inputs = inputs + list(outs["risk_var"].values()) + list(outs["risk_stress"].values())
        out = partition_paths(results, asset, D)
        run_step(asset, D.isoformat(), params, inputs, prev_inputs, list(out.values()))
        outs[asset] = out
    return outs


def test_steps_write_schema_valid_tables_deterministically(tmp_path: Path) -> None:
    a = _build_all(tmp_path / "a")
    b = _build_all(tmp_path / "b")
    for asset, tables in a.items():
        assert set(tables) == set(RISK_SCHEMAS[asset])
        for name, path in tables.items():
            read_table(path, RISK_SCHEMAS[asset][name])
            assert path.read_bytes() == b[asset][name].read_bytes(), f"{asset}/{name} not byte-identical"
    var = read_table(a["risk_var"]["part"], RISK_SCHEMAS["risk_var"]["part"])
    assert len(var) == 6 and (var["var"] > 0).all() and (var["cvar"] >= var["var"]).all()
    comp = read_table(a["risk_var"]["components"], RISK_SCHEMAS["risk_var"]["components"])
    par95 = var.loc[(var["method"] == "parametric") & (var["confidence"] == 0.95), "var"].iloc[0]
    assert comp["component_var"].sum() == pytest.approx(par95)
    rep = read_table(a["risk_stress"]["replay"], RISK_SCHEMAS["risk_stress"]["replay"]).set_index("window")
    assert rep.loc["covid_2020", "n_sessions"] > 0 and 0 < rep.loc["covid_2020", "coverage"] < 1
    assert rep.loc["taper_tantrum_2013", "coverage"] == 1.0 and np.isfinite(rep.loc["taper_tantrum_2013", "pnl"])
    assert pd.isna(rep.loc["br_crisis_2015", "pnl"]) and "not in history" in rep.loc["br_crisis_2015", "note"]
    pnl = read_table(a["risk_limits"]["pnl"], RISK_SCHEMAS["risk_limits"]["pnl"])
    assert len(pnl) == 5 and pnl["available"].all()
    assert list(pnl["sizing_date"]) == [previous_sessions(d, 2)[0] for d in pnl["date"]]
    lim = read_table(a["risk_limits"]["part"], RISK_SCHEMAS["risk_limits"]["part"])
    assert lim.set_index("limit").loc["overall", "status"] in ("OK", "WARNING", "BREACHED")
    assert set(lim["limit"]) == {
        "var_95", "var_99", "max_drawdown", "gross_leverage", "single_position", "asset_class_exposure",
        "risk_contribution", "asset_class_risk_contribution", "strategy_daily_loss", "asset_class_daily_loss",
        "daily_loss", "weekly_loss", "dv01", "stress_loss", "open_interest_share", "overall",
    }
    stress = read_table(a["risk_stress"]["part"], RISK_SCHEMAS["risk_stress"]["part"])
    row = lim.set_index("limit").loc["stress_loss"]
    assert row["value"] == pytest.approx(-stress["pnl"].min()) and row["limit_value"] == 0.20


def test_limits_state_missing_history(tmp_path: Path) -> None:
    out = _build_all(tmp_path, prev_available=2)  # only D-2 and D-1 sized: D's P&L alone is available
    pnl = read_table(out["risk_limits"]["pnl"], RISK_SCHEMAS["risk_limits"]["pnl"])
    assert list(pnl["available"]) == [False, False, False, False, True]
    assert pnl["note"].iloc[0].endswith("not available (start of history)")
    lim = read_table(out["risk_limits"]["part"], RISK_SCHEMAS["risk_limits"]["part"]).set_index("limit")
    assert "partial: 1 of 5" in lim.loc["weekly_loss", "note"]


def test_empty_sizing_is_input_missing(tmp_path: Path) -> None:
    sizing = _write(tmp_path, "portfolio_sizing", D, "part", SIZING.empty())
    rets = _write(tmp_path, "silver_returns", D, "part", _returns_table())
    out = partition_paths(tmp_path, "risk_var", D)
    with pytest.raises(InputMissing, match="risk_var 2026-11-27: portfolio_sizing has no rows"):
        run_step("risk_var", D.isoformat(), _params(), [sizing, rets], [], list(out.values()))
    assert not any(p.exists() for p in out.values())


def test_schemas_match_upstream_column_names() -> None:
    assert {"date", "instrument", "ret"} <= set(RETURNS.names)
    assert {"date", "curve", "tenor_du", "rate"} <= set(CURVES.names)
    assert {"instrument", "asset_class", "weight", "dv01_brl"} <= set(SIZING.names)


def test_config_part_validates_and_matches_library_defaults() -> None:
    import jsonschema

    from brmacro.params import defaults

    cfg = config_part("risk")
    schema = schema_part("risk")
    assert list(cfg) == ["risk"] and list(schema) == ["risk"]
    jsonschema.validate(cfg["risk"], schema["risk"])
    risk = cfg["risk"]
    assert risk == defaults("risk")  # config/config.yaml holds the declared defaults
    for section, spec in schema["risk"]["properties"].items():
        assert spec["additionalProperties"] is False and "description" in spec
        for key, sub in spec["properties"].items():
            assert sub["default"] == risk[section][key], f"{section}.{key}"
            assert sub.get("description"), f"{section}.{key} has no description"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**risk, "limits": {**risk["limits"], "daily_los": 0.02}}, schema["risk"])
