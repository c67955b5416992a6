"""Bronze tables of the demo market: every row of each source over the whole span, with release dates.

Each builder turns the cached :class:`~brmacro.bronze.demo_model.Simulation` into one source's full
history in its exact bronze schema (values rounded to the source's published precision, in project
units), plus three row arrays used by :func:`brmacro.bronze.demo.snapshot` to filter it: observation
date, release date and lookback class. Rows are sorted by the schema key once, here.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from brmacro.bronze.demo_model import (
    IBC_SEASONAL,
    Simulation,
    br_inflation_target,
    br_short,
    curve_zero,
    di_zero,
    simulate,
    ust_zero,
)
from brmacro.bronze.schemas import BRONZE_SCHEMAS
from brmacro.calendar import CALENDAR_END, CALENDAR_START
from brmacro.calendar import anbima_holidays as _anbima_holidays
from brmacro.instruments import MONTH_CODES, di1_pu
from brmacro.series import SERIES, Series, release_date

__all__ = [
    "DAILY",
    "FOCUS",
    "MACRO",
    "SOURCES",
    "TREASURY_TENORS",
    "YAHOO_TICKERS",
    "FullTable",
    "full_table",
]

DAILY, MACRO, FOCUS = 0, 1, 2
"""Lookback classes of a row: daily lookback + crisis windows, macro lookback, Focus lookback."""

SOURCES = ("bcb_sgs", "fred", "yahoo", "bcb_ptax", "b3_market_data", "treasury_gov", "bcb_focus")

# (label, years, first date published) — header drift of the Treasury CSV
TREASURY_TENORS: dict[str, tuple[tuple[str, float, dt.date | None], ...]] = {
    "nominal": (
        ("1 Mo", 1 / 12, None), ("1.5 Month", 1.5 / 12, dt.date(2025, 2, 18)), ("2 Mo", 2 / 12, dt.date(2018, 10, 16)),
        ("3 Mo", 0.25, None), ("4 Mo", 4 / 12, dt.date(2022, 10, 19)), ("6 Mo", 0.5, None), ("1 Yr", 1.0, None),
        ("2 Yr", 2.0, None), ("3 Yr", 3.0, None), ("5 Yr", 5.0, None), ("7 Yr", 7.0, None), ("10 Yr", 10.0, None),
        ("20 Yr", 20.0, None), ("30 Yr", 30.0, None),
    ),
    "real": (("5 Yr", 5.0, None), ("7 Yr", 7.0, None), ("10 Yr", 10.0, None), ("20 Yr", 20.0, None),
             ("30 Yr", 30.0, None)),
}

# ticker -> (calendar, decimals, has volume)
YAHOO_TICKERS: dict[str, tuple[str, int, bool]] = {
    "BRL=X": ("weekday", 4, False), "EURUSD=X": ("weekday", 4, False), "^BVSP": ("b3", 0, True),
    "VALE3.SA": ("b3", 2, True), "^GSPC": ("nyse", 2, True), "^VIX": ("nyse", 2, False),
    "DX-Y.NYB": ("nyse", 3, False), "CL=F": ("nyse", 2, True), "GC=F": ("nyse", 1, True), "HG=F": ("nyse", 4, True),
    "ZS=F": ("nyse", 2, True), "EWZ": ("nyse", 2, True),
}


@dataclass(frozen=True)
class FullTable:
    """One source's every row over the span, sorted by the schema key.

    Attributes
    ----------
    frame : pandas.DataFrame
        The rows, exactly in the bronze schema (date columns hold ``datetime.date``).
    obs : numpy.ndarray
        Observation (or survey) date of each row, ``datetime64[D]``.
    release : numpy.ndarray
        Release date of each row, ``datetime64[D]``.
    kind : numpy.ndarray
        Lookback class of each row (:data:`DAILY`, :data:`MACRO` or :data:`FOCUS`).
    """

    frame: pd.DataFrame
    obs: np.ndarray
    release: np.ndarray
    kind: np.ndarray


def _rng(seed: int, stream: str) -> np.random.Generator:
    return np.random.default_rng([int(seed), zlib.crc32(("tables:" + stream).encode())])


def _noise(rng: np.random.Generator, n: int, sd: float) -> np.ndarray:
    """Gaussian noise clipped at three standard deviations (agreement tests rely on the bound)."""
    return sd * np.clip(rng.standard_normal(n), -3.0, 3.0)


def _dates(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, dtype="datetime64[D]").astype(object)


class _Rows:
    """Column-wise accumulator of rows."""

    def __init__(self) -> None:
        self.cols: dict[str, list[np.ndarray]] = {}
        self.obs: list[np.ndarray] = []
        self.rel: list[np.ndarray] = []
        self.kind: list[np.ndarray] = []

    def add(self, obs: np.ndarray, rel: np.ndarray, kind: int, **cols: object) -> None:
        n = len(obs)
        if n == 0:
            return
        self.obs.append(np.asarray(obs, dtype="datetime64[D]"))
        self.rel.append(np.asarray(rel, dtype="datetime64[D]"))
        self.kind.append(np.full(n, kind, dtype=np.int8))
        for k, v in cols.items():
            arr = np.asarray(v)
            self.cols.setdefault(k, []).append(np.broadcast_to(arr, (n,)) if arr.ndim == 0 else arr)

    def table(self, schema_name: str, date_cols: tuple[str, ...]) -> FullTable:
        schema = BRONZE_SCHEMAS[schema_name]
        data: dict[str, object] = {}
        for c in schema.names:
            v = np.concatenate(self.cols[c])
            data[c] = _dates(v) if c in date_cols else v
        df = pd.DataFrame(data, columns=schema.names)
        obs, rel, kind = np.concatenate(self.obs), np.concatenate(self.rel), np.concatenate(self.kind)
        order = df.sort_values(list(schema.key), kind="mergesort").index.to_numpy()
        df = df.iloc[order].reset_index(drop=True)
        return FullTable(df, obs[order], rel[order], kind[order])


# --------------------------------------------------------------------------- calendars

@lru_cache(maxsize=1)
def _us_business_days() -> np.ndarray:
    """Weekdays that are not US federal holidays (Treasury and FRED daily series)."""
    from pandas.tseries.holiday import USFederalHolidayCalendar

    hol = USFederalHolidayCalendar().holidays(pd.Timestamp(CALENDAR_START), pd.Timestamp(CALENDAR_END))
    d = np.arange(np.datetime64(CALENDAR_START, "D"), np.datetime64(CALENDAR_END, "D") + 1)
    return d[np.is_busday(d, holidays=hol.to_numpy().astype("datetime64[D]"))]


@lru_cache(maxsize=1)
def _nyse_sessions() -> np.ndarray:
    import exchange_calendars as xc

    cal = xc.get_calendar("XNYS", start=CALENDAR_START.isoformat(), end=CALENDAR_END.isoformat())
    return np.array(cal.sessions.to_numpy(), dtype="datetime64[D]")


def _on(sim: Simulation, dates: np.ndarray) -> np.ndarray:
    """Index in the weekday grid of each date (dates must be weekdays of the span)."""
    idx = np.searchsorted(sim.days, dates)
    if not np.array_equal(sim.days[np.minimum(idx, len(sim.days) - 1)], dates):
        raise ValueError("demo market: a calendar date is not on the simulation's weekday grid")
    return idx


def _b3(sim: Simulation) -> np.ndarray:
    return np.flatnonzero(sim.b3_mask)


# --------------------------------------------------------------------------- macro helpers

def _months_out(sim: Simulation) -> slice:  # noqa: ARG001 - kept for symmetry with the burn-in length
    """Monthly rows emitted: January 2005 on (2004 is burn-in)."""
    return slice(12, None)


def _ytd_12m(mom: np.ndarray) -> np.ndarray:
    out = np.full(len(mom), np.nan)
    lg = np.log1p(mom)
    c = np.cumsum(lg)
    out[11:] = np.expm1(c[11:] - np.r_[0.0, c[:-12]])
    return out


def _quarter_avg(monthly: np.ndarray) -> np.ndarray:
    q = np.arange(len(monthly)) // 3
    return np.bincount(q, weights=monthly) / np.bincount(q)


def _sgs_values(sim: Simulation) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Registry name -> (observation dates, values in project units, rounded as published)."""
    sl = _months_out(sim)
    m_obs = sim.months[sl]
    mon = sim.months.astype("datetime64[M]").astype(int) % 12
    r = _rng(sim.seed, "sgs")
    mom = np.round(sim.br_mom_m, 4)
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def monthly(name: str, v: np.ndarray, dec: int) -> None:
        out[name] = (m_obs, np.round(v[sl], dec))

    monthly("br_ipca_mom", mom, 4)
    monthly("br_ipca_yoy", _ytd_12m(mom), 4)
    for key in ("ex0", "ex3", "ma", "dp", "p55", "exfe", "services", "industrial", "diffusion"):
        name = {"ma": "br_ipca_core_ma", "services": "br_ipca_services", "industrial": "br_ipca_industrial",
                "diffusion": "br_ipca_diffusion"}.get(key, f"br_ipca_core_{key}")
        monthly(name, sim.br_cores_m[key], 4)
    monthly("br_ipca15_mom", sim.br_ipca15_m, 4)
    # IGP-M: wholesale-heavy, passes FX through (monthly mean log change of USDBRL)
    lfx = np.bincount(sim.month_of_day, weights=np.log(sim.usdbrl_d), minlength=len(sim.months))
    cnt = np.bincount(sim.month_of_day, minlength=len(sim.months))
    lfx = np.where(cnt > 0, lfx / np.maximum(cnt, 1), np.nan)
    dfx = np.nan_to_num(np.r_[0.0, np.diff(lfx)])
    igpm = np.power(1 + sim.br_pi_m, 1 / 12) - 1 + 0.35 * dfx + _noise(r, len(mom), 0.004)
    monthly("br_igpm_mom", igpm, 4)
    groups = ("food", "housing", "household", "apparel", "transport", "health", "personal", "education",
              "communication")
    for k, g in enumerate(groups):
        monthly(f"br_ipca_g_{g}", sim.br_groups_m[:, k], 4)
    monthly("br_ibc_br", sim.br_ibc_sa_m, 2)
    monthly("br_ibc_br_nsa", sim.br_ibc_sa_m * (1 + IBC_SEASONAL[mon]), 2)
    monthly("br_unemployment", sim.br_unemp_m, 3)
    monthly("br_gdp_12m_brl", sim.br_ngdp12_m, 0)
    monthly("br_primary_balance", sim.br_pb_ratio_m * sim.br_ngdp12_m, 0)
    interest = 0.9 * sim.br_selic_m * sim.br_nd_ratio_m
    monthly("br_nominal_deficit", (sim.br_pb_ratio_m + interest) * sim.br_ngdp12_m, 0)
    monthly("br_net_debt_gdp", sim.br_nd_ratio_m, 4)
    monthly("br_gross_debt_gdp", 1.2 * sim.br_nd_ratio_m + 0.11 + _noise(r, len(mom), 0.002), 4)
    monthly("br_current_account", sim.br_ca_m, 1)
    monthly("br_trade_balance", sim.br_tb_m, 1)
    qavg = _quarter_avg(sim.br_ibc_sa_m)
    qoq = np.r_[np.nan, qavg[1:] / qavg[:-1] - 1] + _noise(r, len(qavg), 0.002)
    out["br_gdp_qoq"] = (sim.months[::3][4:], np.round(qoq[4:], 3))
    # daily series on B3 sessions
    b = _b3(sim)
    d_obs = sim.days[b]
    out["br_selic_target"] = (d_obs, np.round(sim.selic_d[b], 4))
    day_rate = np.round(np.power(1.0 + sim.cdi_d[b], 1 / 252) - 1.0, 8)
    out["br_selic_daily"] = (d_obs, day_rate)
    out["br_cdi_daily"] = (d_obs, day_rate.copy())
    out["br_reserves"] = (d_obs, np.round(sim.reserves_d[b], 0))
    out["br_ptax_sell_sgs"] = (d_obs, _ptax(sim)[1])
    return out


def _ptax(sim: Simulation) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PTAX on B3 sessions: (dates, sell, buy), a fixing of the same FX path a little before the close."""
    b = _b3(sim)
    fix = sim.usdbrl_d[b] * np.exp(_noise(_rng(sim.seed, "ptax"), len(b), 0.0015))
    return sim.days[b], np.round(fix + 0.0003, 4), np.round(fix - 0.0003, 4)


def _lookback_kind(s: Series) -> int:
    return DAILY if s.freq == "D" else MACRO


def table_bcb_sgs(sim: Simulation) -> FullTable:
    """Every SGS registry series (release by the registry lag rule)."""
    vals = _sgs_values(sim)
    rows = _Rows()
    for s in SERIES:
        if s.source != "bcb_sgs":
            continue
        obs, v = vals[s.name]
        keep = ~np.isnan(v)
        obs, v = obs[keep], v[keep]
        rel = release_date(obs, s).astype("datetime64[D]")
        rows.add(obs, rel, _lookback_kind(s), series_id=s.sid, observation_date=obs, value=v.astype(float),
                 release_date=rel, release_basis="lag")
    return rows.table("bronze_bcb_sgs", ("observation_date", "release_date"))


# --------------------------------------------------------------------------- US curves

def _ust(sim: Simulation, idx: np.ndarray, years: np.ndarray, curve: str) -> np.ndarray:
    """UST par yields (rounded to 0.01%) on grid days ``idx`` at ``years`` (broadcast)."""
    nom = ust_zero(sim, idx, years)
    nom = np.maximum(np.round(nom, 4), 0.0)
    if curve == "nominal":
        return nom
    bei = sim.us_bei_base_d[idx] + 0.002 * (1 - np.exp(-years / 10.0))
    out: np.ndarray = np.round(nom - bei, 4)
    return out


def _treasury_long(sim: Simulation) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """curve -> (dates, labels, years, yields), long form, on US business days."""
    days = _us_business_days()
    idx = _on(sim, days)
    out = {}
    for curve, tenors in TREASURY_TENORS.items():
        d_l, lab_l, y_l, v_l = [], [], [], []
        for label, yrs, first in tenors:
            m = days >= np.datetime64(first, "D") if first else np.ones(len(days), dtype=bool)
            v = _ust(sim, idx[m], np.full(int(m.sum()), yrs), curve)
            d_l.append(days[m])
            lab_l.append(np.full(int(m.sum()), label, dtype=object))
            y_l.append(np.full(int(m.sum()), yrs))
            v_l.append(v)
        out[curve] = (np.concatenate(d_l), np.concatenate(lab_l), np.concatenate(y_l), np.concatenate(v_l))
    return out


def table_treasury_gov(sim: Simulation) -> FullTable:
    """US Treasury par nominal and real curves (captured the same day)."""
    rows = _Rows()
    for curve, (d, lab, yrs, v) in _treasury_long(sim).items():
        rows.add(d, d, DAILY, date=d, curve=curve, tenor=lab, tenor_years=yrs, **{"yield": v},
                 release_date=d, release_basis="captured")
    return rows.table("bronze_treasury_gov", ("date", "release_date"))


# --------------------------------------------------------------------------- FRED

_REVISION_SCALE = {"PCEPI": 0.05, "PCEPILFE": 0.05, "GDPC1": 30.0, "PAYEMS": 80.0, "INDPRO": 0.3, "NFCI": 0.03}
_FRED_DEC = {"CPIAUCSL": 3, "CPILFESL": 3, "PCEPI": 3, "PCEPILFE": 3, "GDPC1": 3, "PAYEMS": 0, "UNRATE": 3,
             "INDPRO": 4, "NFCI": 5}


def _fred_values(sim: Simulation) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """FRED id -> (observation dates, final values in project units)."""
    sl = _months_out(sim)
    m_obs = sim.months[sl]
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {
        "CPIAUCSL": (m_obs, sim.us_cpi_m[sl]), "CPILFESL": (m_obs, sim.us_cpi_core_m[sl]),
        "PCEPI": (m_obs, sim.us_pce_m[sl]), "PCEPILFE": (m_obs, sim.us_pce_core_m[sl]),
        "PAYEMS": (m_obs, sim.us_payrolls_m[sl]), "UNRATE": (m_obs, sim.us_unemp_m[sl]),
        "INDPRO": (m_obs, sim.us_indpro_m[sl]),
    }
    r = _rng(sim.seed, "fred")
    q = np.arange(len(sim.months) // 3)
    ugap_q = _quarter_avg(sim.us_gap_m)
    gdp = 15_600.0 * np.exp(q * np.log1p(0.024) / 4 + ugap_q + _noise(r, len(q), 0.002))
    out["GDPC1"] = (sim.months[::3][4:], gdp[4:])
    # weekly NFCI, dated Fridays
    fri = sim.days[(sim.days.astype("datetime64[D]").view("int64") - 1) % 7 == 0]  # 1970-01-02 was a Friday
    out["NFCI"] = (fri, -0.45 + 0.3 * sim.risk_d[_on(sim, fri)])
    # daily series on US business days
    ud = _us_business_days()
    ui = _on(sim, ud)
    tl = _treasury_long(sim)

    def tenor(curve: str, label: str) -> np.ndarray:
        d, lab, _, v = tl[curve]
        m = lab == label
        out: np.ndarray = v[m]
        return out

    n2, n5, n10 = tenor("nominal", "2 Yr"), tenor("nominal", "5 Yr"), tenor("nominal", "10 Yr")
    r5, r10 = tenor("real", "5 Yr"), tenor("real", "10 Yr")
    out["DGS2"] = (ud, n2)
    out["DGS10"] = (ud, n10)
    out["DFII10"] = (ud, r10)
    out["T5YIE"] = (ud, np.round(n5 - r5, 4))
    out["T10YIE"] = (ud, np.round(n10 - r10, 4))
    out["SOFR"] = (ud, np.round(sim.ff_d[ui] - 0.0002 + _noise(r, len(ui), 0.0001), 4))
    out["BAMLH0A0HYM2"] = (ud, np.round(sim.prices_d["_hy_oas"][ui], 4))
    out["BAMLC0A0CM"] = (ud, np.round(sim.prices_d["_ig_oas"][ui], 4))
    cal = np.arange(np.datetime64(CALENDAR_START, "D"), np.datetime64(CALENDAR_END, "D") + 1)
    last_wd = np.searchsorted(sim.days, cal, side="right") - 1
    out["DFF"] = (cal, np.round(sim.ff_d[last_wd], 4))
    return out


def table_fred(sim: Simulation) -> FullTable:
    """Every FRED registry series; revisable ones carry 2-3 vintages at increasing release dates."""
    vals = _fred_values(sim)
    rows = _Rows()
    r = _rng(sim.seed, "vintages")
    for s in SERIES:
        if s.source != "fred":
            continue
        obs, v = vals[s.code]
        dec = _FRED_DEC.get(s.code, 4)
        rel0 = release_date(obs, s).astype("datetime64[D]")
        kind = _lookback_kind(s)
        if not s.revisable:
            rows.add(obs, rel0, kind, series_id=s.sid, observation_date=obs, value=np.round(v, dec), vintage=0,
                     release_date=rel0, release_basis="lag")
            continue
        n = len(obs)
        scale = _REVISION_SCALE[s.code]
        e0 = scale * (0.5 + np.abs(r.standard_normal(n))) * np.where(r.random(n) < 0.5, -1.0, 1.0)
        n_rev = np.where(r.random(n) < 0.5, 1, 2)  # revisions after the first release
        step = np.timedelta64(7 if s.freq == "W" else 30, "D")
        for k in range(3):
            m = n_rev >= k
            if k == 0:
                val = v + e0
            elif k == 1:
                val = np.where(n_rev == 1, v, v + 0.35 * e0)
            else:
                val = v
            rel = rel0 + k * step
            rows.add(obs[m], rel[m], kind, series_id=s.sid, observation_date=obs[m], value=np.round(val[m], dec),
                     vintage=k, release_date=rel[m], release_basis="vintage")
    return rows.table("bronze_fred", ("observation_date", "release_date"))


# --------------------------------------------------------------------------- market tables

def _ohlc(rng: np.random.Generator, close: np.ndarray, daily_vol: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = len(close)
    prev = np.r_[close[0], close[:-1]]
    opn = prev * np.exp(_noise(rng, n, 0.25 * daily_vol))
    hi = np.maximum(opn, close) * np.exp(np.abs(_noise(rng, n, 0.4 * daily_vol)))
    lo = np.minimum(opn, close) * np.exp(-np.abs(_noise(rng, n, 0.4 * daily_vol)))
    return opn, hi, lo


def table_yahoo(sim: Simulation) -> FullTable:
    """Yahoo daily bars of the demo tickers, each on its own exchange calendar (raw closes)."""
    rows = _Rows()
    cals = {"weekday": sim.days, "b3": sim.days[sim.b3_mask], "nyse": _nyse_sessions()}
    for tk, (cal, dec, has_vol) in YAHOO_TICKERS.items():
        r = _rng(sim.seed, f"yahoo:{tk}")
        d = cals[cal]
        i = _on(sim, d)
        path = sim.usdbrl_d * np.exp(_noise(r, len(sim.days), 0.0008)) if tk == "BRL=X" else sim.prices_d[tk]
        close = np.round(path[i], dec)
        lr = np.diff(np.log(path[i]))
        vol = float(np.std(lr)) if len(lr) > 1 else 0.01
        o, h, lo = (np.round(x, dec) for x in _ohlc(r, path[i], vol))
        h = np.maximum(h, np.maximum(o, close))
        lo = np.minimum(lo, np.minimum(o, close))
        big_move = np.abs(np.r_[0.0, lr]) / max(vol, 1e-12)
        volume = (np.round(np.exp(15.0 + 0.3 * r.standard_normal(len(d)) + 0.2 * big_move), 0) if has_vol
                  else np.zeros(len(d)))
        roll = sim.cl_roll_d[i] if tk == "CL=F" else np.zeros(len(d), dtype=bool)
        rows.add(d, d, DAILY, ticker=tk, date=d, open=o, high=h, low=lo, close=close, adj_close=close.copy(),
                 volume=volume.astype(float), roll_jump=roll, release_date=d, release_basis="captured")
    return rows.table("bronze_yahoo", ("date", "release_date"))


def table_bcb_ptax(sim: Simulation) -> FullTable:
    """PTAX closing bulletins on B3 sessions, bulletin at 13:10 America/Sao_Paulo (stored in UTC)."""
    d, sell, buy = _ptax(sim)
    local = pd.DatetimeIndex(d.astype("datetime64[ns]")) + pd.Timedelta(hours=13, minutes=10)
    bt = local.tz_localize("America/Sao_Paulo").tz_convert("UTC")
    rows = _Rows()
    rows.add(d, d, DAILY, date=d, buy=buy, sell=sell, bulletin_time=np.asarray(bt.to_numpy()), release_date=d,
             release_basis="captured")
    t = rows.table("bronze_bcb_ptax", ("date", "release_date"))
    t.frame["bulletin_time"] = pd.to_datetime(t.frame["bulletin_time"], utc=True)
    return t


def _contract_grid(
    first_year: int, last_year: int, months: tuple[int, ...], day: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """(maturity, month number) for every contract month; maturity = ``day`` of the month rolled forward to an
    ANBIMA business day (DI1: the 1st; DAP: the 15th, the NTN-B dates)."""
    firsts = np.array([np.datetime64(dt.date(y, m, day), "D") for y in range(first_year, last_year + 1)
                       for m in months])
    mats = np.busday_offset(firsts, 0, roll="forward", holidays=_anbima_holidays())
    mon = np.array([m for _ in range(first_year, last_year + 1) for m in months])
    return mats, mon


def _tickers(root: str, mats: np.ndarray) -> np.ndarray:
    y = mats.astype("datetime64[Y]").astype(int) + 1970
    m = mats.astype("datetime64[M]").astype(int) % 12
    return np.array([f"{root}{MONTH_CODES[a]}{b % 100:02d}" for a, b in zip(m, y, strict=True)], dtype=object)


def table_b3_market_data(sim: Simulation) -> FullTable:
    """DI1 settlements by contract and DAP.

    DI1 listing follows the pattern of B3's daily settlement report (www.b3.com.br, Market data, "Ajustes do
    pregão", DI1; DOMAIN A11): every month is authorised, but the file lists the near months consecutively
    (here the next 12), then the quarter-start months (January, April, July, October, here to 5 years), then
    January only (here to 11 years). Open interest sits in January contracts (tiers 1 / 0.3 / 0.1 for
    January / other quarter-start / other months), so the desk's liquidity rules have something to choose
    between. The horizons are this demo's; the live connector reads whatever the day's file lists.
    """
    b = _b3(sim)
    sess = sim.days[b]
    hol = _anbima_holidays()
    r = _rng(sim.seed, "b3")
    rows = _Rows()
    # --- DI1
    mats, mon = _contract_grid(CALENDAR_START.year, CALENDAR_END.year + 12, tuple(range(1, 13)))
    first = np.searchsorted(mats, sess, side="right")  # first contract maturing after the session
    pos = np.arange(len(mats))[None, :] - first[:, None]
    alive = pos >= 0
    horizon = (mats[None, :] - sess[:, None]).astype(int)
    listed = alive & ((pos < 12) | (np.isin(mon, (1, 4, 7, 10))[None, :] & (horizon <= 5 * 366))
                      | ((mon == 1)[None, :] & (horizon <= 11 * 366)))
    si, ci = np.nonzero(listed)
    gi = b[si]
    du = np.busday_count(sess[si], mats[ci], holidays=hol)
    t = du / 252.0
    rate = np.round(di_zero(sim, gi, t), 5)
    pu = np.round(di1_pu(rate, du), 2)
    oi = np.round(1.5e6 * np.exp(-np.abs(t - 1.5) / 1.5)
                  * np.where(mon[ci] == 1, 1.0, np.where(np.isin(mon[ci], (4, 7, 10)), 0.3, 0.1))
                  * np.exp(0.2 * r.standard_normal(len(si))), 0)
    tick = _tickers("DI1", mats)
    rows.add(sess[si], sess[si], DAILY, trade_date=sess[si], commodity="DI1", ticker=tick[ci], maturity=mats[ci],
             du=du.astype(np.int64), settlement_rate=rate, settlement_price=pu, open_interest=oi,
             release_date=sess[si], release_basis="captured")
    # --- DAP: May of odd years, August of even years (NTN-B dates), out to 10 years
    dm, dmon = _contract_grid(CALENDAR_START.year, CALENDAR_END.year + 11, (5, 8), day=15)
    yy = dm.astype("datetime64[Y]").astype(int) + 1970
    keep = ((dmon == 5) & (yy % 2 == 1)) | ((dmon == 8) & (yy % 2 == 0))
    dm = dm[keep]
    hz = (dm[None, :] - sess[:, None]).astype(int)
    si, ci = np.nonzero((hz > 0) & (hz <= 10 * 366 + 3))
    gi = b[si]
    du = np.busday_count(sess[si], dm[ci], holidays=hol)
    t = du / 252.0
    nom = di_zero(sim, gi, t)
    pe = sim.br_pi_e_d[gi]
    bei = curve_zero(t, pe, pe, sim.br_pi_long_d[gi], sim.br_irp_d[gi], np.zeros(len(gi)))
    real = np.round((1 + nom) / (1 + bei) - 1, 5)
    rows.add(sess[si], sess[si], DAILY, trade_date=sess[si], commodity="DAP", ticker=_tickers("DAP", dm)[ci],
             maturity=dm[ci], du=du.astype(np.int64), settlement_rate=real,
             settlement_price=np.round(di1_pu(real, du), 2),
             open_interest=np.round(4e4 * np.exp(0.3 * r.standard_normal(len(si))), 0),
             release_date=sess[si], release_basis="captured")
    return rows.table("bronze_b3_market_data", ("trade_date", "maturity", "release_date"))


# --------------------------------------------------------------------------- Focus

def _year_end_h(d: np.ndarray, years_ahead: int) -> np.ndarray:
    y = d.astype("datetime64[Y]").astype(int) + 1970 + years_ahead
    ends = (y - 1970 + 1).astype("datetime64[Y]").astype("datetime64[D]") - 1
    out: np.ndarray = (ends - d).astype(float) / 365.25
    return out


def table_bcb_focus(sim: Simulation) -> FullTable:
    """Weekly Focus medians (survey Friday, released the next Monday)."""
    r = _rng(sim.seed, "focus")
    fri = sim.days[(sim.days.view("int64") - 1) % 7 == 0]
    i = _on(sim, fri)
    n = len(fri)
    rel = fri + np.timedelta64(3, "D")
    year = fri.astype("datetime64[Y]").astype(int) + 1970
    pi_e = sim.br_pi_e_d[i]
    # IPCA of the current year: published m/m of the year so far times the expected rest
    mom = np.round(sim.br_mom_m, 4)
    rel_m = (sim.months.astype("datetime64[M]") + 1).astype("datetime64[D]") + np.timedelta64(11, "D")
    known = np.searchsorted(rel_m, fri, side="right") - 1  # last month published by the survey
    lg = np.r_[0.0, np.cumsum(np.log1p(mom))]
    jan = ((year - 1970) * 12 - (sim.months[0].astype("datetime64[M]").astype(int)))
    n_known = np.clip(known - jan + 1, 0, 12)
    ytd = lg[jan + n_known] - lg[jan]
    ipca_cy0 = np.expm1(ytd + (12 - n_known) / 12.0 * np.log1p(pi_e))
    tgt1 = br_inflation_target(year + 1)
    ipca_cy1 = tgt1 + 0.5 * (pi_e - tgt1)

    def selic_at(h: np.ndarray) -> np.ndarray:
        f = curve_zero(h, br_short(sim, i, h), sim.br_istar_d[i], sim.br_anchor_d[i], np.zeros(n), np.zeros(n))
        return np.round((f + 0.001) * 400.0) / 400.0  # expected target, multiples of 25bp

    gap = sim.br_gap_m[sim.month_of_day[i]]
    fx = sim.usdbrl_d[i]
    carry = 0.3 * (sim.cdi_d[i] - sim.ff_d[i])
    spec: list[tuple[str, str, np.ndarray, float, int]] = [
        ("IPCA", "12m", pi_e, 0.0010, 4),
        ("IPCA", "cy0", ipca_cy0, 0.0010, 4),
        ("IPCA", "cy1", ipca_cy1, 0.0010, 4),
        ("Selic", "cy0", selic_at(_year_end_h(fri, 0)), 0.0, 4),
        ("Selic", "cy1", selic_at(_year_end_h(fri, 1)), 0.0, 4),
        ("PIB Total", "cy0", 0.022 + 1.2 * gap, 0.0015, 4),
        ("PIB Total", "cy1", 0.022 + 0.3 * gap, 0.0010, 4),
        ("Câmbio", "cy0", fx * np.exp(carry * _year_end_h(fri, 0)), 0.0, 2),
        ("Câmbio", "cy1", fx * np.exp(carry * _year_end_h(fri, 1)), 0.0, 2),
    ]
    sd = {"IPCA": 0.002, "Selic": 0.003, "PIB Total": 0.003, "Câmbio": 0.08}
    rows = _Rows()
    for ind, ref, med, noise, dec in spec:
        median = np.round(med + _noise(r, n, noise), dec)
        reference = (np.full(n, "12m", dtype=object) if ref == "12m"
                     else (year + (1 if ref == "cy1" else 0)).astype(str).astype(object))
        std = np.round(sd[ind] * np.exp(0.2 * r.standard_normal(n)), 4)
        mean = np.round(median + 0.2 * std * np.clip(r.standard_normal(n), -3, 3), 4)
        resp = r.integers(60, 140, n).astype(np.int64)
        rows.add(fri, rel, FOCUS, indicator=ind, reference=reference, survey_date=fri, median=median, mean=mean,
                 std=std, respondents=resp, release_date=rel, release_basis="vintage")
    return rows.table("bronze_bcb_focus", ("survey_date", "release_date"))


_BUILDERS: dict[str, Callable[[Simulation], FullTable]] = {
    "bcb_sgs": table_bcb_sgs,
    "fred": table_fred,
    "yahoo": table_yahoo,
    "bcb_ptax": table_bcb_ptax,
    "b3_market_data": table_b3_market_data,
    "treasury_gov": table_treasury_gov,
    "bcb_focus": table_bcb_focus,
}


@lru_cache(maxsize=16)
def full_table(source: str, seed: int) -> FullTable:
    """Every row of one demo source over the whole span (cached per process).

    Parameters
    ----------
    source : str
        One of :data:`SOURCES` (``bcb_sgs``, ``fred``, ...).
    seed : int
        The demo seed.
    """
    if source not in _BUILDERS:
        raise ValueError(f"demo market: unknown source {source!r}; known: {list(SOURCES)}")
    return _BUILDERS[source](simulate(int(seed)))
