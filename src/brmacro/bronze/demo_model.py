"""The demo economy: one seeded, vectorised simulation of Brazil and the US, 2005-2030.

A monthly macro block (regime chain, output gaps, inflation, Taylor-rule policy rates decided at
COPOM/FOMC meetings, fiscal and external accounts) drives a daily market block on the grid of all
weekdays (risk-off factor, DI1 and UST curves, FX, equities, commodities). Everything is computed
once per seed by :func:`simulate`; the bronze tables (:mod:`brmacro.bronze.demo_tables`) are views
of it, so a partition is a filter of the cached path and the same date always gives the same bytes.

Levels track real history (issue 15): Ibovespa, S&P 500 and USDBRL are the real yearly path of
``brmacro/data/real_markets_yearly.csv`` times a mean-reverting simulated deviation; the Selic and fed
funds rules deviate around the real yearly averages, and the UST curve's long-run anchor makes its 10-year
yield follow the real average (``docs/demo.md``). The table shapes the generation only.

Every random stream is keyed by ``(seed, stream name)``, so adding a stream never shifts another.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from brmacro.calendar import CALENDAR_END, CALENDAR_START, b3_sessions

__all__ = [
    "BR_INFLATION_TARGETS",
    "IBC_SEASONAL",
    "IPCA_GROUPS",
    "REGIMES",
    "STRESS_EPISODES",
    "Simulation",
    "br_inflation_target",
    "br_short",
    "curve_zero",
    "di_zero",
    "real_yearly",
    "simulate",
    "ust_zero",
]

REGIMES = ("goldilocks", "reflation", "stagflation", "deflation")
"""Regime labels, index order of :attr:`Simulation.regime_m` (DOMAIN Part B §6.5)."""

# Brazil: each regime pulls the output gap and annual inflation towards its own side of neutral, so the
# sign of the gap (growth above/below potential) and of inflation against the target say the regime within
# a few months of a switch, whatever the policy feedback (DOMAIN Part B §6.5: growth up/down, inflation up/down).
_GAP_PHI = 0.70  # monthly persistence of the output gap
_GAP_LEVEL = np.array([0.020, 0.020, -0.020, -0.020])  # gap each regime pulls towards
_INF_SPEED = 0.15  # monthly speed at which inflation closes on its regime level
_INF_LEVEL = np.array([-0.020, 0.020, 0.020, -0.020])  # inflation minus the anchor each regime pulls towards
_PHILLIPS = 0.03  # monthly pass-through of the gap into annual inflation
_GAP_NOISE = 0.0025  # monthly shock to the gap (0.0060 was tried: no less saturated HMM posteriors, see docs/demo.md)
_INF_NOISE = 0.0020  # monthly shock to annual inflation
# US: monthly regime drifts of the output gap and of annual inflation (a milder echo of the same cycle).
_MU_GAP_US = np.array([0.00105, 0.00084, -0.00105, -0.00105])
_MU_INF_US = np.array([-0.0004, 0.0005, 0.0006, -0.0004])
_MU_RISK = np.array([-0.6, -0.2, 0.9, 0.6])  # risk-off factor mean
_MU_EQ = np.array([0.03, 0.015, -0.03, -0.02])  # equity drift add-on, per year (a weak, realistic signal)
_MU_CMD = np.array([0.02, 0.10, 0.06, -0.10])  # commodity drift, per year
_TP_BR = np.array([-0.003, 0.002, 0.010, 0.000])  # DI term-premium add-on
_TP_US = np.array([0.000, 0.003, 0.004, -0.004])  # UST term-premium add-on
_PB_TARGET = np.array([-0.030, -0.025, 0.010, 0.012])  # primary result / GDP the fiscal stance drifts to
_MEAN_DURATION_MONTHS = 18.0

# Anchoring to real history (issue 15): levels follow the real yearly figures of
# ``brmacro/data/real_markets_yearly.csv`` as a slowly varying target, plus a simulated deviation.
_DEV_HALF_LIFE = 252.0  # sessions: half-life of the mean-reverting deviation of a price from its anchor
_DEV_BOUND = 0.55  # soft bound of that deviation in log (|x| < 0.55: within a factor 1.74 of the anchor)
# USDBRL through its fundamentals (issue 15, the strategies' IC): the traded rate is a fair value times a deviation.
# The fair value is the real yearly path (the anchor) less the real's response to the export basket's own cycle,
# part on the day and the rest within a few weeks; the basket (ZS, HG, CL) carries the anchor's swings around its
# slow mean, so the real's multi-year moves come with its terms of trade (2011-2015: commodities down, the real
# weaker). The deviation is the risk shocks' mean-reverting sum (half-life ``_DEV_HALF_LIFE``) plus a transient
# flow part (half-life ``_FX_FLOW_HALF_LIFE``).
_TOT_LOADING = 2.0  # the basket's log swing per unit of the anchor's log swing around its slow mean (inverse)
_TOT_SLOW_HALF_LIFE = 504.0  # sessions: the slow mean of the anchor that the basket's swings are measured from
_TOT_BETA = 0.35  # log USDBRL fair value per unit of the basket's own log cycle (the real as a commodity currency)
_TOT_CYCLE_HALF_LIFE = 500.0  # sessions: the basket's own cycle is its log level less this moving average
_TOT_SAME_DAY = 0.4  # share of the fair value's response to the basket's cycle on the day
_TOT_LAG_HALF_LIFE = 20.0  # sessions: half-life of the rest of that response
_FX_FLOW_HALF_LIFE = 30.0  # sessions: half-life of the idiosyncratic (flow) part of USDBRL's deviation
_FX_VOL = 0.10  # base annual vol of USDBRL's daily shocks (0.11 before the basket's share was added)
_GROWTH_AFTER = {"ibov_close": 0.08, "spx_close": 0.06, "usdbrl_close": 0.02}  # per year past the table
_LONG_RUN = {"selic_avg": 0.10, "ust10y_avg": 0.040, "fedfunds_avg": 0.030}  # where rates drift past the table
_LONG_RUN_YEARS = 2.0  # time constant of that drift
_PRICED_AHEAD_DAYS = 182.0  # the UST curve prices the fed funds anchor this far ahead (the DI curve: below)
# The DI curve prices the policy cycle ahead (issue 15, the rates strategies' IC): its policy target prices the Selic
# anchor (the real yearly path) nine months ahead, its long-run anchor eighteen months ahead (about the COPOM's
# relevant horizon, six quarters), as a market sees a cycle coming. With the target six months ahead and the anchor
# today's, the curve lagged a cycle under way and drifted along it: DI yields rose through hiking cycles however much
# carry they paid, and a wide DI-UST real-rate differential (RATES_03) kept widening. (A year and two years ahead
# lifts RATES_03 more over seeds but takes more of the book's and INF_03's gains: docs/demo.md.)
_BR_TARGET_AHEAD_DAYS = 270.0  # the DI curve's policy target prices the Selic anchor this far ahead (was 182)
_BR_ANCHOR_AHEAD_DAYS = 548.0  # the DI curve's long-run anchor prices the Selic anchor this far ahead (was 0)
_SURPRISE_SD = 0.0008  # sd of a policy decision's surprise (the part the curve had not priced)
_BRIDGE_SD = 0.0015  # sd of the wandering of the priced next decision between two meetings

BR_INFLATION_TARGETS: dict[int, float] = {
    **dict.fromkeys(range(2003, 2019), 0.045),
    2019: 0.0425,
    2020: 0.04,
    2021: 0.0375,
    2022: 0.035,
    2023: 0.0325,
}
"""CMN inflation targets by calendar year (DOMAIN A7); 3.0% from 2024 on (continuous target)."""

IPCA_GROUPS: tuple[tuple[str, float], ...] = (
    ("food", 0.210),
    ("housing", 0.150),
    ("household", 0.040),
    ("apparel", 0.045),
    ("transport", 0.205),
    ("health", 0.135),
    ("personal", 0.100),
    ("education", 0.060),
    ("communication", 0.055),
)
"""The nine IPCA groups with IBGE-like weights (sum 1), in registry order."""

STRESS_EPISODES: tuple[tuple[str, dt.date, dt.date, float, float], ...] = (
    ("taper_tantrum_2013", dt.date(2013, 5, 22), dt.date(2013, 8, 30), 1.5, 1.0),
    ("brazil_downgrade_2015", dt.date(2015, 9, 1), dt.date(2016, 2, 29), 1.0, 2.5),
    ("covid_2020", dt.date(2020, 2, 20), dt.date(2020, 3, 31), 4.0, 1.5),
    ("election_2022", dt.date(2022, 10, 1), dt.date(2022, 11, 30), 0.5, 1.5),
)
"""Stress episodes built into the demo economy: (name, start, end, global risk-off, Brazil risk-off).

They mirror the default crisis windows of the bronze config, so replaying those windows on the demo
market shows real stress."""

# IPCA headline seasonality (decimal per month, Jan..Dec), mean removed below.
_IPCA_SEAS = np.array(
    [0.0020, 0.0025, 0.0005, 0.0005, -0.0005, -0.0015, -0.0015, -0.0020, -0.0005, 0.0005, 0.0, 0.0010]
)
_IPCA_SEAS = _IPCA_SEAS - _IPCA_SEAS.mean()
_GROUP_SEAS = {
    "food": np.array([0.004, 0.002, 0.003, 0.003, 0.0, -0.004, -0.005, -0.005, -0.002, 0.001, 0.002, 0.003]),
    "education": np.array([0.004, 0.040, 0.005, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]),
    "apparel": np.array([-0.004, -0.003, 0.002, 0.004, 0.006, 0.004, -0.003, -0.003, 0.002, 0.004, 0.004, 0.003]),
}
_GROUP_NOISE = {"food": 0.006, "transport": 0.006, "housing": 0.004}
IBC_SEASONAL = np.array([-0.04, -0.05, 0.02, -0.01, 0.02, 0.0, 0.03, 0.03, 0.0, 0.02, 0.0, -0.02])

_COPOM_MONTHS = (2, 3, 5, 6, 7, 9, 10, 12)
_FOMC_MONTHS = (1, 3, 5, 6, 7, 9, 10, 12)
_BURN_IN_YEAR = 2004  # one year of burn-in so 12-month figures exist from January 2005


def br_inflation_target(year: int | np.ndarray) -> np.ndarray:
    """The Brazilian inflation target (decimal) of each calendar year (3.0% from 2024)."""
    y = np.atleast_1d(np.asarray(year))
    return np.array([BR_INFLATION_TARGETS.get(int(v), 0.045 if v < 2003 else 0.03) for v in y])


def _rng(seed: int, stream: str) -> np.random.Generator:
    return np.random.default_rng([int(seed), zlib.crc32(stream.encode())])


@lru_cache(maxsize=1)
def real_yearly() -> dict[str, dict[int, float]]:
    """Column -> year -> value of ``brmacro/data/real_markets_yearly.csv`` (sources in ``docs/demo.md``).

    Year-end closes ``ibov_close``, ``spx_close``, ``usdbrl_close``; yearly averages (decimal per year)
    ``selic_avg``, ``ust10y_avg``, ``fedfunds_avg``. Empty cells are left out. The demo uses the table
    only to shape its generation (the anchors below); it is a fixed table of the package.
    """
    import csv
    from importlib.resources import files

    text = files("brmacro").joinpath("data/real_markets_yearly.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    cols = [c for c in rows[0] if c not in ("year", "approximate")]
    return {c: {int(r["year"]): float(r[c]) for r in rows if r[c]} for c in cols}


def _day_number(d: np.ndarray) -> np.ndarray:
    return np.asarray(d, dtype="datetime64[D]").astype(np.int64).astype(float)


def _close_anchor(day: np.ndarray, col: str) -> np.ndarray:
    """Log of the anchor path of a price: log-linear between the real year-end closes (on 31 December),
    growing at ``_GROWTH_AFTER`` per year past the last one, flat before the first."""
    tab = real_yearly()[col]
    ys = sorted(tab)
    x = np.array([float(np.datetime64(f"{y}-12-31", "D").astype(np.int64)) for y in ys])
    v = np.log(np.array([tab[y] for y in ys]))
    out = np.interp(day, x, v)
    after = day > x[-1]
    out[after] = v[-1] + _GROWTH_AFTER[col] * (day[after] - x[-1]) / 365.25
    return np.asarray(out)


def _average_anchor(day: np.ndarray, col: str) -> np.ndarray:
    """Anchor path of a rate: linear between the real yearly averages (each on 2 July), then drifting to
    ``_LONG_RUN`` with a ``_LONG_RUN_YEARS`` time constant past the last year, flat before the first."""
    tab = real_yearly()[col]
    ys = sorted(tab)
    x = np.array([float(np.datetime64(f"{y}-07-02", "D").astype(np.int64)) for y in ys])
    v = np.array([tab[y] for y in ys])
    out = np.interp(day, x, v)
    after = day > x[-1]
    w = np.exp(-(day[after] - x[-1]) / 365.25 / _LONG_RUN_YEARS)
    out[after] = _LONG_RUN[col] + (v[-1] - _LONG_RUN[col]) * w
    return np.asarray(out)


def _h(t: np.ndarray, a: float) -> np.ndarray:
    """Average of ``1 - exp(-h/a)`` over ``h`` in ``[0, t]`` (0 at ``t = 0``)."""
    t = np.maximum(np.asarray(t, dtype=float), 1e-9)
    out: np.ndarray = 1.0 - a * (1.0 - np.exp(-t / a)) / t
    return out


def curve_zero(
    t: np.ndarray, short: np.ndarray, target: np.ndarray, anchor: np.ndarray, tp: np.ndarray, level: np.ndarray
) -> np.ndarray:
    """Zero rate (decimal, annual compounding) at maturity ``t`` years of the demo curve model.

    The instantaneous forward starts at the ``short`` rate, converges to the policy ``target`` within
    about six months and to the long-run ``anchor`` within about three years, plus a term premium
    ``tp`` and a daily ``level`` factor; the zero rate is its average (continuous compounding).
    All arguments broadcast.
    """
    c0 = np.log1p(short)
    c1 = np.log1p(target) - c0
    c2 = np.log1p(anchor) - np.log1p(target)
    z = c0 + c1 * _h(t, 0.5) + c2 * _h(t, 3.0) + tp * _h(t, 2.0) + level * _h(t, 1.0)
    return np.expm1(z)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Simulation:
    """The simulated path (read-only arrays). Monthly arrays start in January 2004 (burn-in year).

    Attributes are documented by name: ``*_m`` monthly, ``*_d`` on the weekday grid :attr:`days`.
    """

    seed: int
    months: np.ndarray  # datetime64[D], first day of each month
    regime_m: np.ndarray
    br_gap_m: np.ndarray
    br_pi_m: np.ndarray
    br_pi_e_m: np.ndarray
    br_target_m: np.ndarray
    br_istar_m: np.ndarray
    br_mom_m: np.ndarray  # unrounded IPCA m/m
    br_groups_m: np.ndarray  # (n_months, 9)
    br_cores_m: dict[str, np.ndarray]
    br_ipca15_m: np.ndarray
    br_ibc_sa_m: np.ndarray
    br_unemp_m: np.ndarray
    br_ngdp12_m: np.ndarray
    br_pb_ratio_m: np.ndarray
    br_nd_ratio_m: np.ndarray
    br_selic_m: np.ndarray
    br_ca_m: np.ndarray
    br_tb_m: np.ndarray
    us_gap_m: np.ndarray
    us_pi_m: np.ndarray
    us_pi_e_m: np.ndarray
    us_cpi_m: np.ndarray
    us_cpi_core_m: np.ndarray
    us_pce_m: np.ndarray
    us_pce_core_m: np.ndarray
    us_payrolls_m: np.ndarray
    us_unemp_m: np.ndarray
    us_indpro_m: np.ndarray
    days: np.ndarray  # datetime64[D], every weekday CALENDAR_START..CALENDAR_END
    month_of_day: np.ndarray  # index into the monthly arrays
    regime_d: np.ndarray
    risk_d: np.ndarray
    br_risk_d: np.ndarray
    selic_d: np.ndarray
    cdi_d: np.ndarray
    br_priced_d: np.ndarray  # the coming COPOM decision as the DI curve prices it (decimal)
    br_tau_d: np.ndarray  # years to the day it takes effect
    br_istar_d: np.ndarray
    br_anchor_d: np.ndarray
    br_tp_d: np.ndarray
    br_level_d: np.ndarray
    br_pi_e_d: np.ndarray
    br_pi_long_d: np.ndarray
    br_irp_d: np.ndarray
    ff_d: np.ndarray
    us_priced_d: np.ndarray  # the coming FOMC decision as the UST curve prices it
    us_tau_d: np.ndarray
    us_istar_d: np.ndarray
    us_anchor_d: np.ndarray
    us_tp_d: np.ndarray
    us_level_d: np.ndarray
    us_bei_base_d: np.ndarray
    usdbrl_d: np.ndarray
    prices_d: dict[str, np.ndarray]  # Yahoo-like close paths (not rounded)
    cl_roll_d: np.ndarray  # bool, CL=F roll days
    reserves_d: np.ndarray
    copom: tuple[np.ndarray, np.ndarray]  # (effective day, new target)
    fomc: tuple[np.ndarray, np.ndarray]

    @property
    def b3_mask(self) -> np.ndarray:
        """Boolean mask of :attr:`days` that are B3 sessions."""
        return np.isin(self.days, np.array(b3_sessions(), dtype="datetime64[D]"))


def _after(t: np.ndarray, tau: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.clip((t - tau) / np.maximum(t, 1e-9), 0.0, 1.0)
    return out


def br_short(sim: Simulation, i: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The short rate the DI curve of maturity ``t`` years starts from on grid days ``i``: CDI plus the priced
    coming COPOM decision weighted by the share of the maturity after it takes effect."""
    out: np.ndarray = sim.cdi_d[i] + sim.br_priced_d[i] * _after(t, sim.br_tau_d[i])
    return out


def di_zero(sim: Simulation, i: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The demo's DI zero rate (decimal) on grid days ``i`` at ``t`` years (broadcast), unrounded.

    The short end starts from CDI plus the priced coming COPOM decision (:attr:`Simulation.br_priced_d`) over
    the part of the maturity after it takes effect, so a decision moves the curve by its surprise only.
    """
    return curve_zero(t, br_short(sim, i, t), sim.br_istar_d[i], sim.br_anchor_d[i], sim.br_tp_d[i],
                      sim.br_level_d[i])


def _ust_tp(tp: np.ndarray, years: np.ndarray) -> np.ndarray:
    out: np.ndarray = tp * (1 - np.exp(-years / 5.0)) + 0.004 * (1 - np.exp(-years / 8.0))
    return out


def ust_zero(sim: Simulation, i: np.ndarray, years: np.ndarray) -> np.ndarray:
    """The demo's UST nominal zero rate (decimal) on grid days ``i`` at ``years`` (broadcast), unrounded."""
    short = sim.ff_d[i] + sim.us_priced_d[i] * _after(years, sim.us_tau_d[i])
    return curve_zero(years, short, sim.us_istar_d[i], sim.us_anchor_d[i],
                      _ust_tp(sim.us_tp_d[i], years), sim.us_level_d[i])


def _regime_chain(seed: int, n: int) -> np.ndarray:
    rng = _rng(seed, "regime")
    stay = 1.0 - 1.0 / _MEAN_DURATION_MONTHS
    u = rng.random(n)
    # on a switch, move on along the cycle goldilocks -> reflation -> stagflation -> deflation -> goldilocks
    # with probability 0.6, else to one of the two other regimes
    v = rng.random(n)
    jump = np.where(v < 0.6, 1, np.where(v < 0.8, 2, 3))
    reg = np.empty(n, dtype=np.int64)
    reg[0] = rng.integers(0, 4)
    for t in range(1, n):
        reg[t] = reg[t - 1] if u[t] < stay else (reg[t - 1] + jump[t]) % 4
    return reg


def _meeting_days(days: np.ndarray, months_: tuple[int, ...], first_day: int, ok: np.ndarray) -> list[int]:
    """Index in ``days`` of each meeting: the first Wednesday on/after ``first_day`` of each meeting month
    (moved to the next allowed day if needed)."""
    out: list[int] = []
    years = range(_BURN_IN_YEAR, CALENDAR_END.year + 1)
    ok_idx = np.flatnonzero(ok)
    for y in years:
        for m in months_:
            d0 = dt.date(y, m, first_day)
            wed = d0 + dt.timedelta(days=(2 - d0.weekday()) % 7)
            i = int(np.searchsorted(days, np.datetime64(wed, "D")))
            j = int(np.searchsorted(ok_idx, i))
            if j < len(ok_idx):
                out.append(int(ok_idx[j]))
    return out


def _monthly_block(seed: int, months: np.ndarray) -> dict[str, np.ndarray]:
    n = len(months)
    yrs = months.astype("datetime64[Y]").astype(int) + 1970
    mon = months.astype("datetime64[M]").astype(int) % 12
    reg = _regime_chain(seed, n)
    r = _rng(seed, "macro")
    eg, ep, eus_g, eus_p = (r.standard_normal(n) for _ in range(4))
    target = br_inflation_target(yrs)
    anchor = target + 0.005
    t_years = (yrs - 2005) + mon / 12.0
    rn = 0.045 + 0.03 * np.exp(-np.maximum(t_years, 0.0) / 6.0)  # BR neutral real rate
    rstar = 0.005 + 0.015 * np.exp(-np.maximum(t_years, 0.0) / 5.0)  # US neutral real rate
    # policy anchors: the real yearly averages (issue 15); the Taylor rules deviate around them, and the
    # real rate they imply is the neutral rate the output gaps respond to
    mid_day = _day_number(months) + 15.0
    sel_anchor = _average_anchor(mid_day, "selic_avg")
    ff_anchor = _average_anchor(mid_day, "fedfunds_avg")
    gap = np.zeros(n)
    pi = np.zeros(n)
    pi_e = np.zeros(n)
    istar = np.zeros(n)
    selic_bp = np.zeros(n, dtype=np.int64)  # in effect at month end
    us_gap = np.zeros(n)
    us_pi = np.zeros(n)
    us_pi_e = np.zeros(n)
    us_istar = np.zeros(n)
    ff_bp = np.zeros(n, dtype=np.int64)
    s_bp, f_bp = 1625, 100
    g_prev, p_prev, ug_prev, up_prev = 0.0, 0.07, 0.0, 0.025
    for t in range(n):
        rr = s_bp / 1e4 - (pi_e[t - 1] if t else 0.06)
        g = (_GAP_PHI * g_prev + (1.0 - _GAP_PHI) * _GAP_LEVEL[reg[t]] - 0.03 * (rr - (sel_anchor[t] - anchor[t]))
             + _GAP_NOISE * eg[t])
        p = (p_prev + _INF_SPEED * (anchor[t] + _INF_LEVEL[reg[t]] - p_prev) + _PHILLIPS * g
             + _INF_NOISE * ep[t])
        p = max(p, 0.0)
        pe = anchor[t] + 0.37 * (p - anchor[t])
        ist = sel_anchor[t] + 2.0 * (pe - anchor[t]) + 0.4 * g
        if mon[t] + 1 in _COPOM_MONTHS:
            step = int(np.clip(np.round(0.5 * (ist * 1e4 - s_bp) / 25.0) * 25, -150, 150))
            s_bp = max(s_bp + step, 200)
        gap[t], pi[t], pi_e[t], istar[t], selic_bp[t] = g, p, pe, ist, s_bp
        g_prev, p_prev = g, p
        urr = f_bp / 1e4 - (us_pi_e[t - 1] if t else 0.02)
        ug = 0.88 * ug_prev - 0.02 * (urr - (ff_anchor[t] - 0.021)) + _MU_GAP_US[reg[t]] + 0.002 * eus_g[t]
        up = up_prev + 0.08 * (0.021 - up_prev) + 0.04 * ug + _MU_INF_US[reg[t]] + 0.0012 * eus_p[t]
        upe = 0.021 + 0.4 * (up - 0.021)
        uist = ff_anchor[t] + 1.5 * (upe - 0.021) + 0.5 * ug
        if mon[t] + 1 in _FOMC_MONTHS:
            fstep = int(np.clip(np.round((uist * 1e4 - f_bp) / 2.0 / 25.0) * 25, -75, 75))
            f_bp = max(f_bp + fstep, 0)
        us_gap[t], us_pi[t], us_pi_e[t], us_istar[t], ff_bp[t] = ug, up, upe, uist, f_bp
        ug_prev, up_prev = ug, up
    return {
        "regime": reg, "gap": gap, "pi": pi, "pi_e": pi_e, "target": target, "istar": istar,
        "selic": selic_bp / 1e4, "rn": rn, "us_gap": us_gap, "us_pi": us_pi, "us_pi_e": us_pi_e,
        "us_istar": us_istar, "ff": ff_bp / 1e4, "rstar": rstar, "sel_anchor": sel_anchor,
        "ff_anchor": ff_anchor, "mon": mon, "yrs": yrs,
    }


def _br_prices_m(seed: int, mb: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """IPCA headline, groups, cores, IPCA-15 (decimal per month, unrounded)."""
    r = _rng(seed, "ipca")
    n = len(mb["pi"])
    mon = mb["mon"]
    base = np.power(1.0 + mb["pi"], 1.0 / 12.0) - 1.0
    mom = base + _IPCA_SEAS[mon] + 0.0008 * r.standard_normal(n)
    names = [g for g, _ in IPCA_GROUPS]
    w = np.array([wt for _, wt in IPCA_GROUPS])
    dev = np.zeros((n, len(names)))
    for k, g in enumerate(names):
        if g in _GROUP_SEAS:
            dev[:, k] += _GROUP_SEAS[g][mon]
        dev[:, k] += _GROUP_NOISE.get(g, 0.002) * r.standard_normal(n)
    dev -= (dev @ w)[:, None]  # weighted deviations sum to zero: groups add up to the headline
    groups = mom[:, None] + dev
    cores = {
        "ex0": base + 0.3 * _IPCA_SEAS[mon] + 0.0004 * r.standard_normal(n),
        "ex3": base + 0.2 * _IPCA_SEAS[mon] + 0.0004 * r.standard_normal(n),
        "ma": base + 0.1 * _IPCA_SEAS[mon] + 0.0002 * r.standard_normal(n),
        "dp": base + 0.2 * _IPCA_SEAS[mon] + 0.0003 * r.standard_normal(n),
        "p55": base + 0.2 * _IPCA_SEAS[mon] + 0.0003 * r.standard_normal(n),
        "exfe": base + 0.3 * _IPCA_SEAS[mon] + 0.0005 * r.standard_normal(n),
        "services": np.power(1.0 + mb["pi"] + 0.012 + 0.2 * mb["gap"], 1 / 12) - 1 + 0.0008 * r.standard_normal(n),
        "industrial": np.power(1.0 + np.maximum(mb["pi"] - 0.015, -0.02), 1 / 12) - 1 + 0.001 * r.standard_normal(n),
        "diffusion": np.clip(0.52 + 25.0 * (mom - 0.004) + 0.03 * r.standard_normal(n), 0.2, 0.9),
    }
    ipca15 = 0.5 * (np.r_[mom[0], mom[:-1]] + mom) + 0.0005 * r.standard_normal(n)
    return {"mom": mom, "groups": groups, "ipca15": ipca15, **{f"core_{k}": v for k, v in cores.items()}}


def _br_real_m(seed: int, mb: dict[str, np.ndarray], mom: np.ndarray) -> dict[str, np.ndarray]:
    """Activity, labour, fiscal and external accounts (monthly)."""
    r = _rng(seed, "br_real")
    n = len(mom)
    gap = mb["gap"]
    logpot = np.arange(n) * np.log1p(0.022) / 12.0
    ibc = 108.0 * np.exp(logpot + gap + 0.002 * r.standard_normal(n))
    unemp = np.zeros(n)
    u = 0.105
    eu = r.standard_normal(n)
    for t in range(n):
        u = 0.85 * u + 0.15 * (0.095 - 0.6 * gap[t]) + 0.0012 * eu[t]
        unemp[t] = u
    price = np.cumprod(1.0 + mom)
    flow = 2.0e6 / 12.0 * (ibc / ibc[0]) * price / price[0]
    ngdp12 = np.convolve(flow, np.ones(12), mode="full")[:n]
    ngdp12[:11] = flow[:11] * 12.0  # first burn-in months: annualise the month
    reg = mb["regime"]
    pb = np.zeros(n)
    nd = np.zeros(n)
    p, d = -0.042, 0.47
    ep = r.standard_normal(n)
    growth = np.r_[0.0, ngdp12[1:] / ngdp12[:-1] - 1.0]
    for t in range(n):
        # fiscal reaction: the primary result tightens when net debt is above 55% of GDP
        p = p + 0.04 * (_PB_TARGET[reg[t]] - 0.15 * (d - 0.55) - p) + 0.0008 * ep[t]
        d = d * (1.0 - growth[t]) + (p + 0.9 * mb["selic"][t] * d) / 12.0
        pb[t], nd[t] = p, d
    ca = -2500.0 - 150_000.0 * gap + 1200.0 * r.standard_normal(n)
    tb = 3500.0 - 100_000.0 * gap + 1500.0 * r.standard_normal(n) + 1500.0 * np.cos(2 * np.pi * (mb["mon"] - 6) / 12)
    return {"ibc": ibc, "unemp": unemp, "ngdp12": ngdp12, "pb": pb, "nd": nd, "ca": ca, "tb": tb}


def _us_m(seed: int, mb: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    r = _rng(seed, "us_macro")
    n = len(mb["us_pi"])
    ugap = mb["us_gap"]
    base = np.power(1.0 + mb["us_pi"], 1 / 12) - 1
    cpi_mom = base + 0.0015 * r.standard_normal(n)
    core_mom = base + 0.0005 * r.standard_normal(n)
    pce_mom = 0.85 * cpi_mom + 0.0003 * r.standard_normal(n)
    pce_core_mom = 0.85 * core_mom + 0.0002 * r.standard_normal(n)
    dgap = np.r_[0.0, np.diff(ugap)]
    pay_g = 0.0010 + 0.25 * dgap + 0.0006 * r.standard_normal(n)
    unemp = np.zeros(n)
    u = 0.056
    eu = r.standard_normal(n)
    for t in range(n):
        u = 0.8 * u + 0.2 * (0.05 - 0.5 * ugap[t]) + 0.0008 * eu[t]
        unemp[t] = u
    indpro = 93.0 * np.exp(np.arange(n) * 0.0012 + 1.5 * ugap + 0.004 * r.standard_normal(n))
    return {
        "cpi": 186.0 * np.cumprod(1 + cpi_mom), "cpi_core": 197.0 * np.cumprod(1 + core_mom),
        "pce": 86.0 * np.cumprod(1 + pce_mom), "pce_core": 87.0 * np.cumprod(1 + pce_core_mom),
        "payrolls": 130_500.0 * np.cumprod(1 + pay_g), "unemp": np.maximum(unemp, 0.03), "indpro": indpro,
    }


def _ar1(x: np.ndarray, phi: float) -> np.ndarray:
    from scipy.signal import lfilter  # imported here: scipy.signal takes seconds to import, and a live run of
    # the bronze steps (which import this module through brmacro.bronze.demo) never draws the demo market

    return lfilter([1.0], [1.0, -phi], x)  # type: ignore[no-any-return]


def _ema(x: np.ndarray, phi: float) -> np.ndarray:
    """Exponential moving average with weight ``phi`` on the past, started at ``x[0]``."""
    out: np.ndarray = _ar1((1.0 - phi) * (x - x[0]), phi) + x[0]
    return out


def _stress(days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Global and Brazilian stress bumps (a half-sine over each episode, decaying afterwards)."""
    g = np.zeros(len(days))
    b = np.zeros(len(days))
    for _, s, e, ig, ib in STRESS_EPISODES:
        i0 = int(np.searchsorted(days, np.datetime64(s, "D")))
        i1 = int(np.searchsorted(days, np.datetime64(e, "D"), side="right"))
        if i1 <= i0:
            continue
        k = np.arange(i1 - i0)
        peak = max(1, (i1 - i0) // 3)
        shape = np.where(k <= peak, np.sin(0.5 * np.pi * k / peak), 1.0)
        tail_n = min(len(days) - i1, 120)
        g[i0:i1] += ig * shape
        b[i0:i1] += ib * shape
        decay = np.exp(-np.arange(1, tail_n + 1) / 30.0)
        g[i1 : i1 + tail_n] += ig * decay
        b[i1 : i1 + tail_n] += ib * decay
    return g, b


def _step_path(days: np.ndarray, idx: list[int], rates: np.ndarray, initial: float) -> tuple[np.ndarray, np.ndarray]:
    """Daily policy rate from decisions taken on ``days[idx]``, effective the next day of the grid."""
    eff = np.minimum(np.array(idx, dtype=np.int64) + 1, len(days) - 1)
    pos = np.searchsorted(eff, np.arange(len(days)), side="right") - 1
    out = np.where(pos >= 0, rates[np.maximum(pos, 0)], initial)
    return out, eff


def _priced_next(days: np.ndarray, eff: np.ndarray, rates: np.ndarray, initial: float,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """What the curve prices of the coming policy decision on each grid day (decimal, added to the short rate).

    Between two decisions (effective on grid days ``eff``) the priced step moves from 0 towards the coming
    step plus a surprise, front-loaded (most of it is priced soon after the previous decision) and
    wandering by a Brownian bridge; on the effective day the short rate takes the actual step, so the curve
    moves by the surprise only, not by the whole step.
    """
    steps = np.diff(np.r_[initial, rates])
    surprise = np.clip(_SURPRISE_SD * rng.standard_normal(len(steps)), -3 * _SURPRISE_SD, 3 * _SURPRISE_SD)
    n = len(days)
    z = rng.standard_normal(n)
    out = np.zeros(n)
    tau = np.full(n, np.inf)
    prev = 0
    for k, e in enumerate(int(v) for v in eff):
        if e <= prev:
            continue
        m = e - prev
        s = np.arange(m) / m
        walk = np.cumsum(z[prev:e]) / np.sqrt(m)
        bridge = walk - np.arange(1, m + 1) / m * walk[-1]
        out[prev:e] = (1.0 - (1.0 - s) ** 3) * (steps[k] + surprise[k]) + _BRIDGE_SD * bridge
        tau[prev:e] = (days[e] - days[prev:e]).astype(float) / 365.25
        prev = e
    return out, tau


def _anchored(log_anchor: np.ndarray, shocks: np.ndarray) -> np.ndarray:
    """A price path: the anchor times exp(deviation), the deviation a mean-reverting sum of the daily log
    shocks (half-life ``_DEV_HALF_LIFE`` sessions), softly bounded by ``_DEV_BOUND``."""
    dev = _ar1(shocks, 1.0 - np.log(2.0) / _DEV_HALF_LIFE)
    out: np.ndarray = np.exp(log_anchor + _DEV_BOUND * np.tanh(dev / _DEV_BOUND))
    return out


@lru_cache(maxsize=2)
def simulate(seed: int) -> Simulation:
    """Simulate the whole demo path for ``seed`` (cached per process; about a second).

    Parameters
    ----------
    seed : int
        The demo seed (config ``demo.seed``).

    Returns
    -------
    Simulation
        Read-only arrays of the monthly and daily blocks.
    """
    seed = int(seed)
    months = np.arange(np.datetime64(f"{_BURN_IN_YEAR}-01"), np.datetime64(f"{CALENDAR_END.year + 1}-01"),
                       dtype="datetime64[M]").astype("datetime64[D]")
    mb = _monthly_block(seed, months)
    pr = _br_prices_m(seed, mb)
    re = _br_real_m(seed, mb, pr["mom"])
    us = _us_m(seed, mb)

    days = np.arange(np.datetime64(CALENDAR_START, "D"), np.datetime64(CALENDAR_END, "D") + 1)
    days = days[np.is_busday(days)]
    nd = len(days)
    mod = (days.astype("datetime64[M]") - months[0].astype("datetime64[M]")).astype(int)
    reg_d = mb["regime"][mod]
    b3 = np.isin(days, np.array(b3_sessions(), dtype="datetime64[D]"))

    # policy decisions: the monthly block's decision, announced at the meeting, effective the next day
    def decisions(month_list: tuple[int, ...], first: int, ok: np.ndarray, monthly: np.ndarray) -> tuple[
            list[int], np.ndarray]:
        idx = _meeting_days(days, month_list, first, ok)
        mi = (days[idx].astype("datetime64[M]") - months[0].astype("datetime64[M]")).astype(int)
        return idx, monthly[mi]

    c_idx, c_rates = decisions(_COPOM_MONTHS, 15, b3, mb["selic"])
    selic_d, c_eff = _step_path(days, c_idx, c_rates, float(mb["selic"][mod[0] - 1]))
    f_idx, f_rates = decisions(_FOMC_MONTHS, 22, np.ones(nd, dtype=bool), mb["ff"])
    ff_tgt_d, f_eff = _step_path(days, f_idx, f_rates, float(mb["ff"][mod[0] - 1]))

    # smooth daily versions of monthly states (linear between mid-months)
    mid = months.astype("datetime64[D]").astype(float) + 15.0
    x = days.astype(float)

    def smooth(v: np.ndarray) -> np.ndarray:
        return np.asarray(np.interp(x, mid, v))

    rd = _rng(seed, "daily")
    z = {k: rd.standard_normal(nd) for k in ("risk", "br", "spx", "ibov", "fx", "dxy", "eur", "cl", "gc", "hg",
                                              "zs", "vale", "lvl", "lvl_us", "ff", "res", "vix", "oas", "istar")}
    # the daily innovations are normal cut at 4 sd: the fat tails come from the risk-driven volatility, and
    # no calm day moves beyond about 6 trailing standard deviations (issue 15)
    z = {k: np.clip(v, -4.0, 4.0) for k, v in z.items()}
    g_st, b_st = _stress(days)
    risk_ar = _ar1((1 - 0.985) * _MU_RISK[reg_d] + 0.17 * z["risk"], 0.985)
    risk = risk_ar + g_st
    pb_d = smooth(re["pb"])
    br_ar = _ar1((1 - 0.99) * 30.0 * (pb_d + 0.02) + 0.12 * z["br"], 0.99)
    br_risk = br_ar + 0.4 * risk + b_st

    cdi = np.maximum(selic_d - 0.0010, 0.0)
    ff_eff = np.maximum(ff_tgt_d + 0.0008 + 0.0002 * np.clip(z["ff"], -3, 3), 0.0005)
    rp = _rng(seed, "priced_policy")
    br_priced, br_tau = _priced_next(days, c_eff, c_rates, float(mb["selic"][mod[0] - 1]), rp)
    us_priced, us_tau = _priced_next(days, f_eff, f_rates, float(mb["ff"][mod[0] - 1]), rp)
    # the market's read of where policy is heading wanders around the Taylor target (mean-reverting, half-life
    # about 35 sessions, more in risk-off): the short end is not a smooth, predictable interpolation of it
    # The curve's policy target is what the market expects: the real policy path (the anchor) ahead, which it
    # knows as well as a forecaster knows a cycle under way, plus today's Taylor deviation from it (which it cannot
    # foresee). The DI curve's target prices the anchor nine months ahead and its long-run anchor eighteen months
    # ahead (``_BR_TARGET_AHEAD_DAYS``, ``_BR_ANCHOR_AHEAD_DAYS``), the UST curve's target six months ahead. Pricing
    # the anchor's current level (or only six months ahead) made the yields drift predictably along the policy
    # cycle. The market's read also wanders (below).
    def ahead(v: np.ndarray, days_ahead: float) -> np.ndarray:
        return np.asarray(np.interp(x + days_ahead, mid, v))

    br_istar = (ahead(mb["sel_anchor"], _BR_TARGET_AHEAD_DAYS) + smooth(mb["istar"] - mb["sel_anchor"])
                + _ar1(0.0011 * np.exp(0.3 * (br_risk - br_risk.mean())) * z["istar"], 0.98))
    br_target_d = br_inflation_target(days.astype("datetime64[Y]").astype(int) + 1970 + 2)
    old_anchor = smooth(mb["rn"]) + br_target_d + 0.01 + 0.15 * np.maximum(smooth(re["nd"]) - 0.45, 0.0)
    br_anchor = 0.3 * old_anchor + 0.7 * (ahead(mb["sel_anchor"], _BR_ANCHOR_AHEAD_DAYS) + 0.005)
    # the regime add-ons to the term premia are priced in over about a week, not all on the day the regime turns
    tp_br_reg = _ema(_TP_BR[reg_d], 0.8)
    # term premium about 1 % on average (0.8 % plus the regimes' add-ons): receiving the 1-year DI earns a Sharpe
    # ratio under 1, the 5-year about 0.3, as in history (it was 2.6 % on average and the 1-year earned 1.9)
    br_tp = np.maximum(0.006 + 0.004 * (risk - risk.mean()) + 0.008 * (br_risk - br_risk.mean()) + tp_br_reg, -0.005)
    br_level = _ar1(0.0005 * np.exp(0.5 * (br_risk - br_risk.mean())) * z["lvl"], 0.99)  # fat-tailed: vol with risk
    br_pi_e = smooth(mb["pi_e"])
    br_irp = np.maximum(0.004 + 0.002 * br_risk, 0.0)
    us_istar = ahead(mb["ff_anchor"], _PRICED_AHEAD_DAYS) + smooth(mb["us_istar"] - mb["ff_anchor"])
    # the UST long-run anchor is set so that the 10-year zero at the average term premium and no level shock
    # follows the real yearly average (issue 15); the curve's daily moves come from the factors around it
    us_tp = 0.006 - 0.003 * risk + _ema(_TP_US[reg_d], 0.8)
    ten = np.array(10.0)
    c0 = np.log1p(smooth(mb["ff"]))
    c1 = np.log1p(us_istar) - c0
    resid = np.log1p(_average_anchor(x, "ust10y_avg")) - (c0 + c1 * _h(ten, 0.5) + _ust_tp(np.array(0.006), ten)
                                                         * _h(ten, 2.0))
    us_anchor = np.expm1(np.log1p(us_istar) + resid / _h(ten, 3.0))
    us_level = _ar1(0.0005 * z["lvl_us"], 0.99)
    us_bei = np.clip(0.021 + 0.35 * (smooth(mb["us_pi_e"]) - 0.021) - 0.003 * risk, -0.01, 0.05)

    # equities and FX: the real yearly path (issue 15) times a mean-reverting simulated deviation whose daily
    # shocks carry the risk factors, a weak regime drift and the stress episodes
    vol_us = 0.15 * np.exp(0.25 * risk) / np.sqrt(252)
    e_spx = _MU_EQ[reg_d] / 252 + vol_us * (-0.55 * z["risk"] + 0.835 * z["spx"]) - 0.04 * np.diff(np.r_[0.0, g_st])
    spx = _anchored(_close_anchor(x, "spx_close"), e_spx)
    vol_br = 0.22 * np.exp(0.15 * (risk + br_risk)) / np.sqrt(252)
    e_ibov = _MU_EQ[reg_d] / 252 + vol_br * (0.5 * (-0.55 * z["risk"] + 0.835 * z["spx"]) - 0.45 * z["br"]
                                             + 0.72 * z["ibov"]) - 0.03 * np.diff(np.r_[0.0, b_st])
    ibov = _anchored(_close_anchor(x, "ibov_close"), e_ibov)
    r_ibov = np.r_[0.0, np.diff(np.log(ibov))]
    dxy = 81.0 * np.exp(_ar1(0.0035 * (0.4 * z["risk"] + 0.92 * z["dxy"]), 0.9995))
    eurusd = 1.35 * np.exp(-1.4 * np.log(dxy / 81.0) + _ar1(0.001 * z["eur"], 0.98))
    mu_c = _MU_CMD[reg_d] / 252
    mday = days.astype("datetime64[M]")
    dom = (days - mday.astype("datetime64[D]")).astype(int) + 1
    first_after_20 = (dom >= 20) & np.r_[True, (dom[:-1] < 20) | (mday[1:] != mday[:-1])]
    cl_jump = np.where(first_after_20, 0.015 * rd.standard_normal(nd), 0.0)
    # commodities mean-revert slowly around a trend (half-life about three years); CL=F jumps at rolls
    t_d = np.arange(nd) / 252.0
    cl = 60.0 * np.exp(_ar1(mu_c + 0.022 * (-0.3 * z["risk"] + 0.954 * z["cl"]) + cl_jump, 0.999) - 0.33)
    gc = 425.0 * np.exp(0.06 * t_d + _ar1(0.011 * (0.3 * z["risk"] + 0.954 * z["gc"]), 0.999))
    hg = 1.45 * np.exp(0.03 * t_d + _ar1(mu_c + 0.016 * (-0.35 * z["risk"] + 0.937 * z["hg"]), 0.999))
    zs = 540.0 * np.exp(0.02 * t_d + _ar1(0.5 * mu_c + 0.014 * z["zs"], 0.999))
    # USDBRL: the fair value (the real yearly path less the real's response to the export basket's own cycle,
    # 40 % on the day, the rest with a 20-session half-life) times a deviation (the risk shocks' mean-reverting
    # sum plus a transient flow part); the basket carries the anchor's swings around its slow mean (inverse), so
    # the real's multi-year moves come with its terms of trade
    a_fx = _close_anchor(x, "usdbrl_close")
    vol_fx = _FX_VOL * np.exp(0.22 * (risk + br_risk)) / np.sqrt(252)
    e_risk = vol_fx * (0.55 * z["risk"] + 0.55 * z["br"]) + 0.03 * np.diff(np.r_[0.0, b_st + g_st])
    e_flow = vol_fx * 0.63 * z["fx"]
    basket = (0.3 * np.log(zs) + 0.25 * np.log(hg) + 0.2 * np.log(cl)) / 0.75
    own_cycle = basket - _ema(basket, 1.0 - np.log(2.0) / _TOT_CYCLE_HALF_LIFE)
    tot_swing = -_TOT_LOADING * (a_fx - _ema(a_fx, 1.0 - np.log(2.0) / _TOT_SLOW_HALF_LIFE))
    cl, hg, zs = cl * np.exp(tot_swing), hg * np.exp(tot_swing), zs * np.exp(tot_swing)
    dev_fx = (_ar1(e_risk, 1.0 - np.log(2.0) / _DEV_HALF_LIFE)
              + _ar1(e_flow, 1.0 - np.log(2.0) / _FX_FLOW_HALF_LIFE))
    lagged = _ema(own_cycle, 1.0 - np.log(2.0) / _TOT_LAG_HALF_LIFE)
    response = _TOT_SAME_DAY * own_cycle + (1.0 - _TOT_SAME_DAY) * lagged
    usdbrl = np.exp(a_fx - _TOT_BETA * response + _DEV_BOUND * np.tanh(dev_fx / _DEV_BOUND))
    r_hg = np.r_[0.0, np.diff(np.log(hg))]
    vale = 30.0 * np.exp(np.cumsum(0.6 * r_hg + 0.5 * r_ibov + 0.012 * z["vale"]))
    ewz = 25.0 * (ibov / ibov[0]) / (usdbrl / usdbrl[0]) * np.exp(0.003 * np.clip(z["vix"], -3, 3))
    vix = np.clip(16.0 * np.exp(0.32 * risk + 0.06 * z["vix"]), 9.0, 85.0)
    yrs = (days - days[0]).astype(float) / 365.25
    reserves = 53_000.0 + 300_000.0 / (1.0 + np.exp(-(yrs - 5.0) * 1.1)) + _ar1(600.0 * z["res"], 0.995)
    prices = {
        "^GSPC": spx, "^BVSP": ibov, "^VIX": vix, "DX-Y.NYB": dxy, "EURUSD=X": eurusd, "CL=F": cl, "GC=F": gc,
        "HG=F": hg, "ZS=F": zs, "VALE3.SA": vale, "EWZ": ewz,
        "_hy_oas": 0.040 * np.exp(0.28 * risk + 0.01 * z["oas"]), "_ig_oas": 0.012 * np.exp(0.25 * risk),
    }
    return Simulation(
        seed=seed, months=months, regime_m=mb["regime"], br_gap_m=mb["gap"], br_pi_m=mb["pi"], br_pi_e_m=mb["pi_e"],
        br_target_m=mb["target"], br_istar_m=mb["istar"], br_mom_m=pr["mom"], br_groups_m=pr["groups"],
        br_cores_m={k[5:]: v for k, v in pr.items() if k.startswith("core_")}, br_ipca15_m=pr["ipca15"],
        br_ibc_sa_m=re["ibc"], br_unemp_m=re["unemp"], br_ngdp12_m=re["ngdp12"], br_pb_ratio_m=re["pb"],
        br_nd_ratio_m=re["nd"], br_selic_m=mb["selic"], br_ca_m=re["ca"], br_tb_m=re["tb"], us_gap_m=mb["us_gap"],
        us_pi_m=mb["us_pi"], us_pi_e_m=mb["us_pi_e"], us_cpi_m=us["cpi"], us_cpi_core_m=us["cpi_core"],
        us_pce_m=us["pce"], us_pce_core_m=us["pce_core"], us_payrolls_m=us["payrolls"], us_unemp_m=us["unemp"],
        us_indpro_m=us["indpro"], days=days, month_of_day=mod, regime_d=reg_d, risk_d=risk, br_risk_d=br_risk,
        selic_d=selic_d, cdi_d=cdi, br_priced_d=br_priced, br_tau_d=br_tau, br_istar_d=br_istar,
        br_anchor_d=br_anchor, br_tp_d=br_tp, br_level_d=br_level, br_pi_e_d=br_pi_e,
        br_pi_long_d=br_target_d + 0.005, br_irp_d=br_irp, ff_d=ff_eff, us_priced_d=us_priced, us_tau_d=us_tau,
        us_istar_d=us_istar, us_anchor_d=us_anchor, us_tp_d=us_tp, us_level_d=us_level, us_bei_base_d=us_bei,
        usdbrl_d=usdbrl,
        prices_d=prices, cl_roll_d=first_after_20, reserves_d=reserves,
        copom=(days[c_eff], c_rates), fomc=(days[f_eff], f_rates),
    )
