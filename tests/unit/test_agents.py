"""Agents on fabricated silver: schema-valid tables, point in time, missing series, direction mappings."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from brmacro.agents import steps
from brmacro.agents.common import Signal, features_frame, signals_frame
from brmacro.agents.cross_asset import run_cross_asset
from brmacro.agents.data import SeriesMissing, SilverData
from brmacro.agents.fiscal import run_fiscal
from brmacro.agents.fx import run_fx
from brmacro.agents.inflation import GROUPS, run_inflation
from brmacro.agents.monetary import run_monetary
from brmacro.agents.schemas import AGENTS_SCHEMAS, REGIMES
from brmacro.calendar import sessions_between
from brmacro.io import read_table, write_table
from brmacro.pipeline import STEPS, Context, partition_paths, run_step
from brmacro.series import SERIES
from brmacro.silver.schemas import SILVER_SCHEMAS
from tests.configparts import config_part, schema_part

ROOT = Path(__file__).resolve().parents[2]
D = dt.date(2025, 6, 30)


def agent_params() -> dict[str, Any]:
    """The ``agents`` subtree of the layer's config part."""
    return config_part("agents")["agents"]


# --------------------------------------------------------------------------- fabricated silver
def _release(obs: pd.DatetimeIndex, freq: str, lag: int) -> pd.DatetimeIndex:
    if freq == "M":
        end = obs + pd.offsets.MonthEnd(0)
    elif freq == "Q":
        end = obs + pd.offsets.QuarterEnd(0)
    else:
        end = obs
    return pd.DatetimeIndex(end + pd.Timedelta(days=lag))


def fabricate_silver(
    end: dt.date = D, seed: int = 7, years: int = 10, n_sessions: int = 800
) -> dict[str, pd.DataFrame]:
    """Plausible silver frames in the exact silver schemas (macro over ``years``, markets over ``n_sessions``)."""
    rng = np.random.default_rng(seed)
    start = dt.date(end.year - years, end.month, 1)
    months = pd.date_range(start, end, freq="MS")
    nm = len(months)
    days = pd.DatetimeIndex(sessions_between(start, end))
    sess = days[-n_sessions:]
    rows: list[pd.DataFrame] = []

    def add(name: str, idx: pd.DatetimeIndex, vals: np.ndarray, freq: str, lag: int) -> None:
        rel = _release(idx, freq, lag)
        rows.append(pd.DataFrame({"series": name, "observation_date": idx.date, "value": np.asarray(vals, float),
                                  "release_date": rel.date}))

    def ar(n: int, phi: float, sd: float, mu: float = 0.0) -> np.ndarray:
        x = np.empty(n)
        x[0] = rng.normal(0, sd / np.sqrt(1 - phi**2))
        for t in range(1, n):
            x[t] = phi * x[t - 1] + rng.normal(0, sd)
        return mu + x

    seas = 0.0015 * np.sin(2 * np.pi * (months.month.to_numpy() - 1) / 12)
    trend = ar(nm, 0.95, 0.0006, 0.004)
    ipca = trend + seas + rng.normal(0, 0.0008, nm)
    add("br_ipca_mom", months, ipca, "M", 12)
    c12 = lambda m: pd.Series(1 + m).rolling(12).apply(np.prod, raw=True).to_numpy() - 1  # noqa: E731
    add("br_ipca_12m", months[11:], c12(ipca)[11:], "M", 12)
    add("br_ipca_yoy", months[11:], c12(ipca)[11:], "M", 12)
    core = trend + rng.normal(0, 0.0004, nm)
    for name in ("br_ipca_core_ex0", "br_ipca_core_ex3", "br_ipca_core_ma", "br_ipca_core_dp", "br_ipca_core_p55",
                 "br_ipca_core_exfe"):
        add(name, months, core + rng.normal(0, 0.0002, nm), "M", 12)
    add("br_ipca_core_12m", months[11:], c12(core)[11:], "M", 12)
    serv = trend + 0.001 + rng.normal(0, 0.0006, nm)
    add("br_ipca_services", months, serv, "M", 12)
    add("br_ipca_services_12m", months[11:], c12(serv)[11:], "M", 12)
    add("br_ipca_industrial", months, trend - 0.001 + rng.normal(0, 0.0006, nm), "M", 12)
    add("br_ipca_diffusion", months, np.clip(0.55 + ar(nm, 0.7, 0.04), 0.2, 0.9), "M", 12)
    for g in GROUPS:
        add(f"br_ipca_g_{g}", months, ipca + rng.normal(0, 0.002, nm), "M", 12)
    add("br_ipca15_mom", months, ipca + rng.normal(0, 0.0005, nm), "M", -5)
    add("br_igpm_mom", months, ipca + rng.normal(0, 0.004, nm), "M", 1)
    saar3 = pd.Series(1 + ipca).rolling(3).apply(np.prod, raw=True).to_numpy() ** 4 - 1
    add("br_ipca_3m_saar", months[2:], saar3[2:], "M", 12)
    gap = ar(nm, 0.9, 0.004)
    add("br_output_gap", months, gap, "M", 50)
    ibc = 100 * np.exp(np.cumsum(0.0015 + rng.normal(0, 0.006, nm)))
    add("br_ibc_br", months, ibc, "M", 50)
    add("br_ibc_br_nsa", months, ibc, "M", 50)
    add("br_ibc_br_yoy", months[12:], ibc[12:] / ibc[:-12] - 1, "M", 50)
    quarters = months[months.month.isin([1, 4, 7, 10])]
    qoq = 0.005 + rng.normal(0, 0.006, len(quarters))
    add("br_gdp_qoq", quarters, qoq, "Q", 65)
    add("br_gdp_yoy", quarters[4:], pd.Series(1 + qoq).rolling(4).apply(np.prod, raw=True).to_numpy()[4:] - 1, "Q", 65)
    add("br_unemployment", months, 0.09 + ar(nm, 0.95, 0.002), "M", 35)
    gdp12 = 9e6 * np.exp(np.cumsum(np.full(nm, 0.008)))
    add("br_gdp_12m_brl", months, gdp12, "M", 35)
    deficit_gdp = ar(nm, 0.95, 0.002, 0.005)
    add("br_primary_balance", months, deficit_gdp * gdp12, "M", 35)
    add("br_primary_balance_gdp", months, deficit_gdp, "M", 35)
    add("br_nominal_deficit", months, (deficit_gdp + 0.06) * gdp12, "M", 35)
    add("br_nominal_deficit_gdp", months, deficit_gdp + 0.06, "M", 35)
    add("br_net_debt_gdp", months, 0.55 + np.cumsum(rng.normal(0.0005, 0.003, nm)), "M", 35)
    add("br_gross_debt_gdp", months, 0.72 + np.cumsum(rng.normal(0.0005, 0.003, nm)), "M", 35)
    add("br_current_account", months, rng.normal(-4000, 1500, nm), "M", 30)
    add("br_trade_balance", months, rng.normal(5000, 1500, nm), "M", 10)
    # daily macro on sessions over the whole span
    nd = len(days)
    selic_m = np.clip(0.10 + np.cumsum(rng.normal(0, 0.004, nm)), 0.02, 0.16)
    selic_d = pd.Series(selic_m, index=months).reindex(days, method="ffill").to_numpy()
    add("br_selic_target", days, selic_d, "D", 0)
    add("br_selic", days, selic_d - 0.001, "D", 1)
    add("br_selic_daily", days, (1 + selic_d - 0.001) ** (1 / 252) - 1, "D", 1)
    add("br_cdi_daily", days, (1 + selic_d - 0.001) ** (1 / 252) - 1, "D", 1)
    add("br_cdi_annual", days, selic_d - 0.001, "D", 1)
    add("br_reserves", days, 350_000 + np.cumsum(rng.normal(0, 300, nd)), "D", 2)
    fx_d = 4.0 * np.exp(np.cumsum(rng.normal(0.0001, 0.009, nd)))
    add("br_ptax_sell_sgs", days, fx_d, "D", 0)
    ff = np.clip(0.02 + np.cumsum(rng.normal(0, 0.0008, nd)), 0.0005, 0.06)
    add("us_fed_funds", days, ff, "D", 1)
    add("us_sofr", days, ff - 0.0002, "D", 1)
    add("us_dgs2", days, ff + 0.002 + ar(nd, 0.98, 0.0005), "D", 1)
    add("us_dgs10", days, ff + 0.008 + ar(nd, 0.98, 0.0006), "D", 1)
    add("us_dfii10", days, 0.01 + ar(nd, 0.98, 0.0005), "D", 1)
    add("us_bei_5y", days, 0.023 + ar(nd, 0.98, 0.0003), "D", 1)
    add("us_bei_10y", days, 0.023 + ar(nd, 0.98, 0.0003), "D", 1)
    add("us_hy_oas", days, np.clip(0.04 + ar(nd, 0.99, 0.001), 0.025, 0.12), "D", 1)
    add("us_ig_oas", days, np.clip(0.012 + ar(nd, 0.99, 0.0003), 0.006, 0.04), "D", 1)
    # US monthly
    us_core = 0.0022 + ar(nm, 0.9, 0.0008)
    for name, m in (("us_cpi", us_core + rng.normal(0, 0.001, nm)), ("us_cpi_core", us_core),
                    ("us_pce", us_core + rng.normal(0, 0.0008, nm)), ("us_pce_core", us_core - 0.0003)):
        idx = 250 * np.cumprod(1 + m)
        add(name, months, idx, "M", 14 if "cpi" in name else 32)
        if name in ("us_cpi", "us_cpi_core", "us_pce_core"):
            add(f"{name}_yoy", months[12:], idx[12:] / idx[:-12] - 1, "M", 14 if "cpi" in name else 32)
        if name in ("us_cpi_core", "us_pce_core"):
            add(f"{name}_3m_saar", months[3:], (idx[3:] / idx[:-3]) ** 4 - 1, "M", 14 if "cpi" in name else 32)
    add("us_payrolls", months, 150_000 + np.cumsum(rng.normal(150, 80, nm)), "M", 9)
    add("us_payrolls_chg", months, rng.normal(150, 80, nm), "M", 9)
    add("us_unemployment", months, 0.04 + ar(nm, 0.95, 0.001), "M", 9)
    add("us_indpro", months, 100 * np.exp(np.cumsum(rng.normal(0.001, 0.005, nm))), "M", 17)
    usgdp = 20_000 * np.exp(np.cumsum(rng.normal(0.005, 0.004, len(quarters))))
    add("us_gdp_real", quarters, usgdp, "Q", 30)
    add("us_gdp_yoy", quarters[4:], usgdp[4:] / usgdp[:-4] - 1, "Q", 30)
    add("us_nfci", months, ar(nm, 0.9, 0.1), "M", 5)
    # Focus (monthly, released at the end of the survey month)
    f12 = pd.Series(ipca).rolling(12, min_periods=1).mean().to_numpy() * 12 + rng.normal(0, 0.002, nm)
    add("focus_ipca_12m", months, f12, "M", 0)
    add("focus_ipca_cy0", months, f12 + rng.normal(0, 0.002, nm), "M", 0)
    add("focus_ipca_cy1", months, 0.5 * f12 + 0.02, "M", 0)
    add("focus_selic_cy0", months, selic_m + rng.normal(0, 0.003, nm), "M", 0)
    add("focus_selic_cy1", months, 0.5 * selic_m + 0.05, "M", 0)
    add("focus_gdp_cy0", months, 0.02 + ar(nm, 0.9, 0.002), "M", 0)
    add("focus_fx_cy0", months, pd.Series(fx_d, index=days).reindex(months, method="nearest").to_numpy(), "M", 0)
    macro = pd.concat(rows, ignore_index=True)
    macro = macro.loc[pd.to_datetime(macro["release_date"]) <= pd.Timestamp(end)].reset_index(drop=True)
    missing = {s.name for s in SERIES} - set(macro["series"])
    assert not missing, f"fabricator misses registry series {missing}"

    # curves over the last n_sessions
    ns = len(sess)
    selic_s = pd.Series(selic_d, index=days).reindex(sess).to_numpy()
    term = 0.01 + ar(ns, 0.99, 0.0007)
    br_labels = {"21du": 21, "63du": 63, "126du": 126, "252du": 252, "504du": 504, "756du": 756, "1260du": 1260,
                 "2520du": 2520}
    crows = []
    di_at: dict[str, np.ndarray] = {}
    for lab, du in br_labels.items():
        yrs = du / 252
        di = selic_s + term * (1 - np.exp(-yrs / 2)) + rng.normal(0, 0.0003, ns)
        bei = 0.045 + 0.002 * yrs / 10 + ar(ns, 0.98, 0.0004)
        di_at[lab] = di
        for curve, r in (("DI_PRE", di), ("BR_BEI", bei), ("BR_REAL", (1 + di) / (1 + bei) - 1)):
            crows.append(pd.DataFrame({"date": sess.date, "curve": curve, "tenor_label": lab, "tenor_du": du,
                                       "tenor_years": yrs, "rate": r}))
    ff_s = pd.Series(ff, index=days).reindex(sess).to_numpy()
    us_tenors = {"3M": 0.25, "6M": 0.5, "1Y": 1, "2Y": 2, "5Y": 5, "10Y": 10, "30Y": 30}
    ust_at = {}
    for lab, yrs in us_tenors.items():
        nom = ff_s + 0.008 * (1 - np.exp(-yrs / 3)) + ar(ns, 0.98, 0.0003)
        ust_at[lab] = nom
        rowsets = [("UST_NOM", nom)]
        if yrs >= 5:
            bei = 0.023 + ar(ns, 0.98, 0.0003)
            rowsets += [("US_BEI", bei), ("UST_REAL", nom - bei)]
        for curve, r in rowsets:
            crows.append(pd.DataFrame({"date": sess.date, "curve": curve, "tenor_label": lab,
                                       "tenor_du": int(round(yrs * 252)), "tenor_years": float(yrs), "rate": r}))
    for lab, brl in (("1Y", "252du"), ("2Y", "504du"), ("5Y", "1260du"), ("10Y", "2520du")):
        crows.append(pd.DataFrame({"date": sess.date, "curve": "DI_UST_SPREAD", "tenor_label": lab,
                                   "tenor_du": br_labels[brl], "tenor_years": br_labels[brl] / 252,
                                   "rate": di_at[brl] - ust_at[lab]}))
    curves = pd.concat(crows, ignore_index=True)
    slopes = pd.concat([
        pd.DataFrame({"date": sess.date, "name": n, "value": v}) for n, v in (
            ("DI_1s2s", di_at["504du"] - di_at["252du"]), ("DI_2s5s", di_at["1260du"] - di_at["504du"]),
            ("DI_1s10s", di_at["2520du"] - di_at["252du"]), ("UST_2s10s", ust_at["10Y"] - ust_at["2Y"]),
            ("UST_2s30s", ust_at["30Y"] - ust_at["2Y"]))
    ], ignore_index=True)

    # returns matrix and prices
    fx_s = pd.Series(fx_d, index=days).reindex(sess).to_numpy()
    levels = {
        "DI1_1Y": di_at["252du"], "DI1_2Y": di_at["504du"], "DI1_5Y": di_at["1260du"], "DI1_10Y": di_at["2520du"],
        "USDBRL": fx_s, "IBOV": 120_000 * np.exp(np.cumsum(rng.normal(0.0003, 0.012, ns))),
        "UST_10Y": ust_at["10Y"], "SPX": 5000 * np.exp(np.cumsum(rng.normal(0.0004, 0.01, ns))),
    }
    rrows = []
    for inst, lev in levels.items():
        s = pd.Series(lev, index=sess)
        ret = -s.diff() * (4.0 if inst != "DI1_1Y" else 1.0) if inst.startswith(("DI1", "UST")) else s.pct_change()
        rrows.append(pd.DataFrame({
            "date": sess.date, "instrument": inst, "level": lev, "ret": ret.to_numpy(),
            "vol_21": (ret.rolling(21).std() * np.sqrt(252)).to_numpy(),
            "vol_63": (ret.rolling(63).std() * np.sqrt(252)).to_numpy(),
            "vol_252": (ret.rolling(252).std() * np.sqrt(252)).to_numpy(),
            "z_252": ((s - s.rolling(252).mean()) / s.rolling(252).std()).to_numpy(),
        }))
    returns = pd.concat(rrows, ignore_index=True)
    gbm = lambda s0, sd: s0 * np.exp(np.cumsum(rng.normal(0, sd, ns)))  # noqa: E731
    price_series = {
        "ptax:USDBRL": fx_s, "yahoo:^VIX": np.clip(18 * np.exp(ar(ns, 0.97, 0.06)), 9, 80),
        "yahoo:^BVSP": levels["IBOV"], "yahoo:^GSPC": levels["SPX"], "yahoo:DX-Y.NYB": gbm(100, 0.004),
        "yahoo:CL=F": gbm(75, 0.02), "yahoo:GC=F": gbm(2000, 0.01), "yahoo:HG=F": gbm(4, 0.015),
        "yahoo:ZS=F": gbm(12, 0.012), "yahoo:EWZ": gbm(30, 0.015), "yahoo:VALE3.SA": gbm(60, 0.018),
        "yahoo:BRL=X": fx_s * 1.001, "yahoo:EURUSD=X": gbm(1.1, 0.005),
        "cdi:daily": (1 + selic_s - 0.001) ** (1 / 252) - 1, "sofr": ff_s - 0.0002,
    }
    prices = pd.concat([pd.DataFrame({"date": sess.date, "series": k, "value": v}) for k, v in price_series.items()],
                       ignore_index=True)
    return {"macro": macro, "curves": curves, "slopes": slopes, "returns": returns, "prices": prices}


def silver_data(fr: dict[str, pd.DataFrame], date: dt.date = D, asset: str = "test") -> SilverData:
    return SilverData(date, fr["macro"], fr["curves"], fr["slopes"], fr["returns"], fr["prices"], asset=asset)


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return fabricate_silver()


@pytest.fixture(scope="module")
def params() -> dict[str, Any]:
    return agent_params()


def test_fabricated_silver_matches_silver_schemas(frames: dict[str, pd.DataFrame]) -> None:
    SILVER_SCHEMAS["silver_macro"]["part"].conform(frames["macro"])
    SILVER_SCHEMAS["silver_curves"]["part"].conform(frames["curves"])
    SILVER_SCHEMAS["silver_curves"]["slopes"].conform(frames["slopes"])
    SILVER_SCHEMAS["silver_returns"]["part"].conform(frames["returns"])
    SILVER_SCHEMAS["silver_returns"]["prices"].conform(frames["prices"])


# --------------------------------------------------------------------------- the steps end to end
def _write_silver(fr: dict[str, pd.DataFrame], root: Path, date: dt.date) -> list[Path]:
    out = []
    spec = {("silver_macro", "part"): "macro", ("silver_curves", "part"): "curves",
            ("silver_curves", "slopes"): "slopes", ("silver_returns", "part"): "returns",
            ("silver_returns", "prices"): "prices"}
    for (asset, table), key in spec.items():
        path = partition_paths(root, asset, date)[table]
        write_table(fr[key], path, SILVER_SCHEMAS[asset][table], asof=date, source="demo")
        out.append(path)
    ns = pd.DataFrame({"date": [date], "curve": ["DI_PRE"], "beta0": [0.1], "beta1": [0.0], "beta2": [0.0],
                       "tau": [1.0], "rmse": [0.0], "n_points": [8]})
    path = partition_paths(root, "silver_curves", date)["ns_params"]
    write_table(ns, path, SILVER_SCHEMAS["silver_curves"]["ns_params"], asof=date, source="demo")
    out.append(path)
    return out


@pytest.fixture(scope="module")
def built(frames: dict[str, pd.DataFrame], params: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
          ) -> dict[str, dict[str, pd.DataFrame]]:
    """All five agents run through run_step (the rule body) on fabricated silver; their tables read back."""
    root = tmp_path_factory.mktemp("results")
    silver = _write_silver(frames, root, D)
    p = {"agents": params, "source": "demo", "nav_brl": 1e8}
    order = ["agent_inflation", "agent_monetary_policy", "agent_fiscal", "agent_fx_equilibrium", "agent_cross_asset"]
    out: dict[str, dict[str, pd.DataFrame]] = {}
    for asset in order:
        ins = list(silver) + [q for a in STEPS[asset].inputs if a.startswith("agent_")
                              for q in partition_paths(root, a, D).values()]
        paths = partition_paths(root, asset, D)
        run_step(asset, D.isoformat(), p, ins, [], list(paths.values()))
        out[asset] = {t: read_table(path, AGENTS_SCHEMAS[asset][t]) for t, path in paths.items()}
    return out


def test_every_agent_writes_schema_valid_tables(built: dict[str, dict[str, pd.DataFrame]]) -> None:
    for asset, tables in built.items():
        assert set(tables) == set(AGENTS_SCHEMAS[asset])
        for t, df in tables.items():
            AGENTS_SCHEMAS[asset][t].conform(df)
            assert len(df) > 0
        part = tables["part"]
        assert (part["date"] == D).all()
        assert part["is_composite"].sum() == 1
        for drv in part["drivers"]:
            json.loads(drv)
        # NO_SIGNAL is always neutral
        assert (part.loc[part["strength"] == "NO_SIGNAL", "direction"] == 0).all()


def test_expected_signal_ids(built: dict[str, dict[str, pd.DataFrame]]) -> None:
    ids = {a: set(t["part"]["signal_id"]) for a, t in built.items()}
    assert ids["agent_inflation"] == {"INFLATION_BR_PHILLIPS", "INFLATION_BR_BOTTOMUP", "INFLATION_BR_SURPRISE",
                                      "INFLATION_BR_PERSISTENCE", "INFLATION_US_TREND", "INFLATION_BR_COMPOSITE"}
    assert ids["agent_monetary_policy"] == {"MONETARY_BR_TAYLOR", "MONETARY_BR_SELIC_PATH",
                                            "MONETARY_BR_TERM_PREMIUM", "MONETARY_US_FED_STANCE",
                                            "MONETARY_BR_COMPOSITE"}
    assert ids["agent_fiscal"] == {"FISCAL_BR_DSA", "FISCAL_BR_IMPULSE", "FISCAL_BR_DOMINANCE_RISK",
                                   "FISCAL_BR_COMPOSITE"}
    assert ids["agent_fx_equilibrium"] == {"FX_BR_BEER", "FX_BR_CARRY_RISK", "FX_BR_COMPOSITE"}
    assert ids["agent_cross_asset"] == {"CROSSASSET_REGIME", "CROSSASSET_CORRELATION", "CROSSASSET_SENTIMENT",
                                        "CROSSASSET_HMM_REGIME", "CROSSASSET_TAIL_RISK", "CROSSASSET_COMPOSITE"}


def test_models_compute_real_values_on_fabricated_history(built: dict[str, dict[str, pd.DataFrame]]) -> None:
    """With years of history every model computes (no gap rows) and the key features are finite."""
    for asset, tables in built.items():
        part = tables["part"]
        gaps = part.loc[part["value"].isna() & ~part["is_composite"], "signal_id"].tolist()
        assert gaps == [], f"{asset}: models not computed: {gaps}"
    feats = {a: t["features"].set_index("feature")["value"] for a, t in built.items()}
    assert np.isfinite(feats["agent_monetary_policy"]["r_star"])
    assert np.isfinite(feats["agent_monetary_policy"]["term_premium_5y_z"])
    assert np.isfinite(feats["agent_inflation"]["phillips_forecast"])
    assert feats["agent_cross_asset"]["hmm_rows"] >= 250


def test_view_is_consistent(built: dict[str, dict[str, pd.DataFrame]]) -> None:
    v = built["agent_cross_asset"]["view"].iloc[0]
    probs = np.array([v[f"p_{r}"] for r in REGIMES])
    assert probs.sum() == pytest.approx(1.0)
    assert v["regime"] == REGIMES[int(np.argmax(probs))]
    assert v["regime_clarity"] == pytest.approx((probs.max() - 0.25) / 0.75)
    views = json.loads(v["views"])
    assert set(views) == {"rates_br", "fx", "equity_br", "rates_us", "equity_us"}
    part = built["agent_cross_asset"]["part"].set_index("signal_id")
    assert views["equity_br"]["direction"] == part.loc["CROSSASSET_COMPOSITE", "direction"]
    assert views["equity_br"]["instrument"] == "IBOV" and views["equity_us"]["instrument"] == "SPX"
    for t in json.loads(v["key_trades"]):
        assert t["direction"] in (-1, 1) and t["instrument"]
    for issue in json.loads(v["consistency_issues"]):
        assert set(issue) == {"rule", "severity", "message"}


def test_steps_are_deterministic(frames: dict[str, pd.DataFrame], params: dict[str, Any]) -> None:
    a = run_fx(silver_data(frames), params)
    b = run_fx(silver_data(frames), params)
    fa, fb = signals_frame(D, "fx", a[0]), signals_frame(D, "fx", b[0])
    pd.testing.assert_frame_equal(fa, fb)


# --------------------------------------------------------------------------- point in time
def _with_future(fr: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Add rows released/dated after D with absurd values (they must be ignored)."""
    out = {k: v.copy() for k, v in fr.items()}
    m = out["macro"]
    late = m.groupby("series").tail(3).copy()
    late["observation_date"] = pd.to_datetime(late["observation_date"]) + pd.DateOffset(months=2)
    late["release_date"] = pd.Timestamp(D) + pd.Timedelta(days=20)
    late["value"] = late["value"] * 7 + 1
    m2 = m.copy()
    m2["observation_date"] = pd.to_datetime(m2["observation_date"])
    m2["release_date"] = pd.to_datetime(m2["release_date"])
    late = late[~late.set_index(["series", "observation_date"]).index.isin(
        m2.set_index(["series", "observation_date"]).index)]
    out["macro"] = pd.concat([m2, late], ignore_index=True)
    for key in ("curves", "slopes", "returns", "prices"):
        f = out[key]
        last = f.loc[pd.to_datetime(f["date"]) == pd.Timestamp(D)].copy()
        last["date"] = pd.Timestamp(D) + pd.Timedelta(days=3)
        col = {"curves": "rate", "slopes": "value", "returns": "level", "prices": "value"}[key]
        last[col] = last[col] * 3 + 1
        out[key] = pd.concat([f, last], ignore_index=True)
    return out


@pytest.mark.parametrize("runner", [run_inflation, run_fiscal, run_fx, run_monetary])
def test_point_in_time_future_rows_are_ignored(frames: dict[str, pd.DataFrame], params: dict[str, Any],
                                               runner: Any) -> None:
    base = runner(silver_data(frames), params)
    fut = runner(silver_data(_with_future(frames)), params)
    pd.testing.assert_frame_equal(signals_frame(D, "x", base[0]), signals_frame(D, "x", fut[0]))
    pd.testing.assert_frame_equal(features_frame(D, "x", base[1]), features_frame(D, "x", fut[1]))


def test_point_in_time_cross_asset(frames: dict[str, pd.DataFrame], params: dict[str, Any]) -> None:
    up = pd.concat([signals_frame(D, "inflation", run_inflation(silver_data(frames), params)[0])])
    base = run_cross_asset(silver_data(frames), params, up)
    fut = run_cross_asset(silver_data(_with_future(frames)), params, up)
    pd.testing.assert_frame_equal(signals_frame(D, "x", base[0]), signals_frame(D, "x", fut[0]))
    pd.testing.assert_frame_equal(base[2], fut[2])


def test_earlier_session_sees_only_its_past(frames: dict[str, pd.DataFrame], params: dict[str, Any]) -> None:
    """Built as of an earlier session from the same (later) silver, a value released later is not used."""
    early = dt.date(2025, 3, 31)
    sd = silver_data(frames, early)
    assert pd.to_datetime(sd.macro_df["release_date"]).max() <= pd.Timestamp(early)
    assert sd.curves_df["date"].max() <= pd.Timestamp(early)
    ipca = sd.macro("br_ipca_mom")
    assert ipca.index.max() < pd.Timestamp(2025, 3, 1)  # February's IPCA is out only around 12 March


# --------------------------------------------------------------------------- missing inputs
@pytest.mark.parametrize(
    ("runner", "series"),
    [(run_inflation, "br_ipca_core_12m"), (run_monetary, "focus_selic_cy0"), (run_fiscal, "br_gross_debt_gdp"),
     (run_fx, "us_sofr")],
)
def test_missing_series_raises_naming_it(frames: dict[str, pd.DataFrame], params: dict[str, Any], runner: Any,
                                         series: str) -> None:
    fr = dict(frames)
    fr["macro"] = frames["macro"].loc[frames["macro"]["series"] != series]
    with pytest.raises(SeriesMissing, match=series) as exc:
        runner(silver_data(fr, asset="agent_x"), params)
    assert D.isoformat() in str(exc.value)


def test_missing_curve_and_price_raise(frames: dict[str, pd.DataFrame], params: dict[str, Any]) -> None:
    fr = dict(frames)
    fr["prices"] = frames["prices"].loc[frames["prices"]["series"] != "yahoo:^VIX"]
    with pytest.raises(SeriesMissing, match=r"yahoo:\^VIX"):
        run_cross_asset(silver_data(fr), params, signals_frame(D, "x", []))
    fr = dict(frames)
    fr["curves"] = frames["curves"].loc[frames["curves"]["curve"] != "BR_REAL"]
    with pytest.raises(SeriesMissing, match="BR_REAL"):
        run_fx(silver_data(fr), params)


def test_short_history_gives_flagged_gap_not_a_number(frames: dict[str, pd.DataFrame], params: dict[str, Any]) -> None:
    fr = dict(frames)
    m = frames["macro"]
    keep = pd.to_datetime(m["observation_date"]) >= pd.Timestamp(2024, 1, 1)
    fr["macro"] = m.loc[keep]
    sig, feats = run_inflation(silver_data(fr), params)
    ph = {s.signal_id: s for s in sig}["INFLATION_BR_PHILLIPS"]
    assert ph.value is None and ph.direction == 0 and ph.strength == "NO_SIGNAL"
    assert "not_computed" in ph.drivers
    f = features_frame(D, "inflation", feats).set_index("feature")
    assert np.isnan(f.loc["phillips_forecast", "value"]) and f.loc["phillips_forecast", "note"]


# --------------------------------------------------------------------------- direction mappings per model
def _shift_macro(fr: dict[str, pd.DataFrame], series: str, delta: float) -> dict[str, pd.DataFrame]:
    out = dict(fr)
    m = fr["macro"].copy()
    m.loc[m["series"] == series, "value"] += delta
    out["macro"] = m
    return out


def _sig(sigs: list[Signal], sid: str) -> Signal:
    return {s.signal_id: s for s in sigs}[sid]


def test_inflation_hawkish_maps_to_pay_di(frames: dict[str, pd.DataFrame], params: dict[str, Any]) -> None:
    hot = _shift_macro(frames, "br_ipca_core_12m", 0.05)
    hot = _shift_macro(hot, "focus_ipca_12m", 0.05)
    s = _sig(run_inflation(silver_data(hot), params)[0], "INFLATION_BR_PHILLIPS")
    assert s.instrument == "DI1_1Y" and s.value > 0 and s.direction == -1
    cold = _shift_macro(_shift_macro(frames, "br_ipca_core_12m", -0.05), "focus_ipca_12m", -0.05)
    s = _sig(run_inflation(silver_data(cold), params)[0], "INFLATION_BR_PHILLIPS")
    assert s.value < 0 and s.direction == 1
    hot_groups = frames
    for g in GROUPS:
        hot_groups = _shift_macro(hot_groups, f"br_ipca_g_{g}", 0.004)
    s = _sig(run_inflation(silver_data(hot_groups), params)[0], "INFLATION_BR_BOTTOMUP")
    assert s.value > 0 and s.direction == -1


def test_us_inflation_above_target_maps_to_short_ust(frames: dict[str, pd.DataFrame], params: dict[str, Any]) -> None:
    fr = _shift_macro(_shift_macro(frames, "us_pce_core_yoy", 0.03), "us_pce_core_3m_saar", 0.03)
    s = _sig(run_inflation(silver_data(fr), params)[0], "INFLATION_US_TREND")
    assert s.instrument == "UST_10Y" and s.direction == -1
    fr = _shift_macro(_shift_macro(frames, "us_pce_core_yoy", -0.03), "us_pce_core_3m_saar", -0.03)
    assert _sig(run_inflation(silver_data(fr), params)[0], "INFLATION_US_TREND").direction == 1


def test_monetary_tight_policy_maps_to_receive_di(frames: dict[str, pd.DataFrame], params: dict[str, Any]) -> None:
    # Selic far above the rule: raise the latest Selic target only (r* is filtered from history)
    fr = dict(frames)
    m = frames["macro"].copy()
    sel = m["series"] == "br_selic_target"
    last_obs = pd.to_datetime(m.loc[sel, "observation_date"]).max()
    m.loc[sel & (pd.to_datetime(m["observation_date"]) == last_obs), "value"] += 0.06
    fr["macro"] = m
    s = _sig(run_monetary(silver_data(fr), params)[0], "MONETARY_BR_TAYLOR")
    assert s.value > 0.01 and s.direction == 1 and s.instrument == "DI1_1Y"
    m.loc[sel & (pd.to_datetime(m["observation_date"]) == last_obs), "value"] -= 0.12
    s = _sig(run_monetary(silver_data(fr), params)[0], "MONETARY_BR_TAYLOR")
    assert s.direction == -1


def test_selic_path_market_above_focus_maps_to_receive(frames: dict[str, pd.DataFrame], params: dict[str, Any]) -> None:
    fr = dict(frames)
    c = frames["curves"].copy()
    last = (pd.to_datetime(c["date"]) == pd.Timestamp(D)) & (c["curve"] == "DI_PRE") & (c["tenor_label"] == "252du")
    c.loc[last, "rate"] += 0.05
    fr["curves"] = c
    s = _sig(run_monetary(silver_data(fr), params)[0], "MONETARY_BR_SELIC_PATH")
    assert s.value > 0 and s.direction == 1
    c.loc[last, "rate"] -= 0.10
    assert _sig(run_monetary(silver_data(fr), params)[0], "MONETARY_BR_SELIC_PATH").direction == -1


def test_term_premium_rich_maps_to_receive_5y(frames: dict[str, pd.DataFrame], params: dict[str, Any]) -> None:
    fr = dict(frames)
    c = frames["curves"].copy()
    last = (pd.to_datetime(c["date"]) == pd.Timestamp(D)) & (c["curve"] == "DI_PRE") & (c["tenor_label"] == "1260du")
    c.loc[last, "rate"] += 0.08
    fr["curves"] = c
    s = _sig(run_monetary(silver_data(fr), params)[0], "MONETARY_BR_TERM_PREMIUM")
    assert s.instrument == "DI1_5Y" and s.drivers["z"] > 1.5 and s.direction == 1
    c.loc[last, "rate"] -= 0.16
    assert _sig(run_monetary(silver_data(fr), params)[0], "MONETARY_BR_TERM_PREMIUM").direction == -1


def test_fed_tight_maps_to_long_ust(frames: dict[str, pd.DataFrame], params: dict[str, Any]) -> None:
    s = _sig(run_monetary(silver_data(_shift_macro(frames, "us_fed_funds", 0.05)), params)[0], "MONETARY_US_FED_STANCE")
    assert s.instrument == "UST_10Y" and s.value > 0 and s.direction == 1
    s = _sig(run_monetary(silver_data(_shift_macro(frames, "us_fed_funds", -0.08)), params)[0],
             "MONETARY_US_FED_STANCE")
    assert s.direction == -1


def test_fiscal_deterioration_maps_to_long_usdbrl(frames: dict[str, pd.DataFrame], params: dict[str, Any]) -> None:
    s = _sig(run_fiscal(silver_data(_shift_macro(frames, "br_primary_balance_gdp", 0.05)), params)[0], "FISCAL_BR_DSA")
    assert s.instrument == "USDBRL" and s.value > 0.05 and s.direction == 1
    s = _sig(run_fiscal(silver_data(_shift_macro(frames, "br_primary_balance_gdp", -0.15)), params)[0],
             "FISCAL_BR_DSA")
    assert s.value < -0.05 and s.direction == -1


def test_fx_cheap_brl_maps_to_short_usdbrl(frames: dict[str, pd.DataFrame], params: dict[str, Any]) -> None:
    fr = dict(frames)
    m = frames["macro"].copy()
    sel = (m["series"] == "br_ptax_sell_sgs") & (pd.to_datetime(m["observation_date"]) == pd.Timestamp(D))
    m.loc[sel, "value"] *= 1.5
    fr["macro"] = m
    s = _sig(run_fx(silver_data(fr), params)[0], "FX_BR_BEER")
    assert s.instrument == "USDBRL" and s.value > 0.05 and s.direction == -1
    m.loc[sel, "value"] *= 0.5 / 1.5
    s = _sig(run_fx(silver_data(fr), params)[0], "FX_BR_BEER")
    assert s.value < -0.05 and s.direction == 1


def test_fx_high_carry_maps_to_short_usdbrl(frames: dict[str, pd.DataFrame], params: dict[str, Any]) -> None:
    fr = dict(frames)
    c = frames["curves"].copy()
    last = (pd.to_datetime(c["date"]) == pd.Timestamp(D)) & (c["curve"] == "DI_PRE") & (c["tenor_label"] == "252du")
    c.loc[last, "rate"] += 0.20
    fr["curves"] = c
    s = _sig(run_fx(silver_data(fr), params)[0], "FX_BR_CARRY_RISK")
    assert s.drivers["z"] > 1 and s.direction == -1


def test_cross_asset_risk_off_maps_to_short_ibov(frames: dict[str, pd.DataFrame], params: dict[str, Any]) -> None:
    fr = dict(frames)
    p = frames["prices"].copy()
    last = pd.to_datetime(p["date"]) == pd.Timestamp(D)
    p.loc[last & (p["series"] == "yahoo:^VIX"), "value"] = 80.0
    p.loc[last & (p["series"] == "yahoo:DX-Y.NYB"), "value"] *= 1.3
    fr["prices"] = p
    fr = _shift_macro(fr, "us_hy_oas", 0.05)
    sigs, _, view = run_cross_asset(silver_data(fr), params, signals_frame(D, "x", []))
    s = _sig(sigs, "CROSSASSET_REGIME")
    assert s.instrument == "IBOV" and s.value > 0.2 and s.direction == -1
    sent = _sig(sigs, "CROSSASSET_SENTIMENT")
    assert sent.value < 30 and sent.direction == -1
    assert view["tail_risk_score"].iloc[0] >= 60


def test_config_part_validates_against_its_schema() -> None:
    import jsonschema

    cfg = config_part("agents")
    full = {"type": "object", "properties": schema_part("agents")}
    jsonschema.validate(cfg, full)
    cfg["agents"]["fiscal"]["dsa"]["unknown_key"] = 1
    with pytest.raises(jsonschema.ValidationError, match="unknown_key"):
        jsonschema.validate(cfg, full)


def test_step_without_its_declared_upstream_fails_clearly(frames: dict[str, pd.DataFrame],
                                                          params: dict[str, Any], tmp_path: Path) -> None:
    from brmacro.errors import InputMissing

    inputs: dict[str, dict[str, Path]] = {}
    for path in _write_silver(frames, tmp_path, D):
        inputs.setdefault(path.parent.parent.name, {})[path.stem] = path
    ctx = Context("agent_monetary_policy", D, {"agents": params}, inputs=inputs)
    with pytest.raises(InputMissing, match="agent_inflation"):
        steps.agent_monetary_policy(ctx)


def _shift_last(fr: dict[str, pd.DataFrame], series: str, delta: float, n: int) -> dict[str, pd.DataFrame]:
    """Add ``delta`` to the last ``n`` observations of a macro series."""
    out = dict(fr)
    m = fr["macro"].copy()
    sel = m["series"] == series
    obs = pd.to_datetime(m["observation_date"])
    cut = sorted(obs[sel].unique())[-n]
    m.loc[sel & (obs >= cut), "value"] += delta
    out["macro"] = m
    return out


def test_inflation_surprise_upside_maps_to_pay_di(frames: dict[str, pd.DataFrame], params: dict[str, Any]) -> None:
    s = _sig(run_inflation(silver_data(_shift_last(frames, "br_ipca_mom", 0.01, 3)), params)[0],
             "INFLATION_BR_SURPRISE")
    assert s.value > 1 and s.direction == -1
    s = _sig(run_inflation(silver_data(_shift_last(frames, "br_ipca_mom", -0.01, 3)), params)[0],
             "INFLATION_BR_SURPRISE")
    assert s.value < -1 and s.direction == 1


def test_inflation_persistence_high_maps_to_pay_di(frames: dict[str, pd.DataFrame], params: dict[str, Any]) -> None:
    fr = _shift_last(frames, "br_ipca_diffusion", 0.3, 1)
    fr = _shift_last(fr, "br_ipca_services", 0.02, 3)
    fr = _shift_last(fr, "focus_ipca_12m", 0.03, 1)
    s = _sig(run_inflation(silver_data(fr), params)[0], "INFLATION_BR_PERSISTENCE")
    assert s.value > 60 and s.direction == -1
    fr = _shift_last(frames, "br_ipca_diffusion", -0.4, 1)
    fr = _shift_last(fr, "br_ipca_services", -0.01, 3)
    fr = _shift_last(fr, "focus_ipca_12m", -0.03, 1)
    s = _sig(run_inflation(silver_data(fr), params)[0], "INFLATION_BR_PERSISTENCE")
    assert s.value < 40 and s.direction == 1


def test_fiscal_impulse_and_dominance_map_to_long_usdbrl(frames: dict[str, pd.DataFrame],
                                                         params: dict[str, Any]) -> None:
    s = _sig(run_fiscal(silver_data(_shift_last(frames, "br_primary_balance_gdp", 0.03, 1)), params)[0],
             "FISCAL_BR_IMPULSE")
    assert s.drivers["z"] > 1 and s.direction == 1
    s = _sig(run_fiscal(silver_data(_shift_last(frames, "br_primary_balance_gdp", -0.03, 1)), params)[0],
             "FISCAL_BR_IMPULSE")
    assert s.drivers["z"] < -1 and s.direction == -1
    s = _sig(run_fiscal(silver_data(_shift_last(frames, "br_gross_debt_gdp", 0.4, 1)), params)[0],
             "FISCAL_BR_DOMINANCE_RISK")
    assert s.value > 66 and s.direction == 1


def test_hmm_signal_follows_regime_probabilities(built: dict[str, dict[str, pd.DataFrame]]) -> None:
    part = built["agent_cross_asset"]["part"].set_index("signal_id")
    v = built["agent_cross_asset"]["view"].iloc[0]
    risk_on = v["p_goldilocks"] + v["p_reflation"] - v["p_stagflation"] - v["p_deflation"]
    row = part.loc["CROSSASSET_HMM_REGIME"]
    assert row["value"] == pytest.approx(risk_on)
    assert row["instrument"] == "IBOV"
    assert row["direction"] == (1 if risk_on > 0.2 else -1 if risk_on < -0.2 else 0)


def test_mapping_states_the_branch_that_fired(built: dict[str, dict[str, pd.DataFrame]]) -> None:
    """Each signal's drivers.mapping ends with the direction the signal has (the branch that fired, not the rule)."""
    import json
    import re

    seen = 0
    for tables in built.values():
        for r in tables["part"].itertuples():
            m = json.loads(r.drivers).get("mapping")
            if m is None:
                continue
            last = re.findall(r"\(([+-]?\d)\)", m)
            assert last, m
            assert int(last[-1]) == int(r.direction), (r.signal_id, r.direction, m)
            seen += 1
    assert seen >= 10
