"""The series registry: one row per macro series, mapping ``source:code`` to an internal name.

Each entry fixes the unit *as published* and the factor that converts it to the project units
of DESIGN §4 (rates, inflation and growth as decimals per year or per period), the frequency,
whether the source revises it, and the release-lag rule used when the source has no vintages.

Release lags count from the **end** of the observed period (SGS dates a month on its 1st:
March IPCA, observation date 1 March, is out around 10 April) and err late.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

__all__ = [
    "FOCUS_INDICATORS",
    "SERIES",
    "Series",
    "by_name",
    "by_source",
    "known_asof",
    "period_end",
    "release_date",
]

Freq = Literal["D", "W", "M", "Q"]


@dataclass(frozen=True)
class Series:
    """One registry row.

    Attributes
    ----------
    name : str
        Internal name used everywhere downstream (``br_ipca_mom``).
    source : str
        ``bcb_sgs`` or ``fred``.
    code : str
        The source's own code (``433``, ``CPIAUCSL``).
    unit : str
        Project unit of ``value`` after scaling: ``dec`` (decimal), ``dec_day`` (decimal per day),
        ``index``, ``brl_mn``, ``usd_mn``, ``usd_bn``, ``thousands``, ``level``.
    scale : float
        Multiply the published value by this to get the project unit (0.01 for percent).
    freq : str
        ``D``, ``W``, ``M`` or ``Q``; monthly and quarterly observations are dated on the period's first day.
    lag_days : int
        Calendar days from the end of the observed period to the (late-side) release.
    revisable : bool
        Whether the source revises past values (FRED vintages exist for these).
    """

    name: str
    source: str
    code: str
    unit: str
    scale: float
    freq: Freq
    lag_days: int
    revisable: bool = False
    doc: str = ""

    @property
    def sid(self) -> str:
        """The ``source:code`` identifier."""
        return f"{self.source}:{self.code}"


def _s(name: str, source: str, code: str, unit: str, scale: float, freq: Freq, lag: int, rev: bool, doc: str) -> Series:
    return Series(name, source, code, unit, scale, freq, lag, rev, doc)


P = 0.01  # percent -> decimal

SERIES: tuple[Series, ...] = (
    # --- BCB SGS: inflation (monthly % m/m unless noted) ---
    _s("br_ipca_mom", "bcb_sgs", "433", "dec", P, "M", 12, False, "IPCA, monthly change"),
    _s("br_ipca_yoy", "bcb_sgs", "13522", "dec", P, "M", 12, False, "IPCA, 12-month change"),
    _s("br_ipca_core_ex0", "bcb_sgs", "11426", "dec", P, "M", 12, False, "IPCA core EX0, m/m"),
    _s("br_ipca_core_ex3", "bcb_sgs", "27838", "dec", P, "M", 12, False, "IPCA core EX3, m/m"),
    _s("br_ipca_core_ma", "bcb_sgs", "11427", "dec", P, "M", 12, False, "IPCA core trimmed mean (smoothed), m/m"),
    _s("br_ipca_core_dp", "bcb_sgs", "27839", "dec", P, "M", 12, False, "IPCA core double weighting, m/m"),
    _s("br_ipca_core_p55", "bcb_sgs", "4466", "dec", P, "M", 12, False, "IPCA core P55, m/m"),
    _s("br_ipca_core_exfe", "bcb_sgs", "16122", "dec", P, "M", 12, False, "IPCA ex food and energy, m/m"),
    _s("br_ipca_services", "bcb_sgs", "10841", "dec", P, "M", 12, False, "IPCA services, m/m"),
    _s("br_ipca_industrial", "bcb_sgs", "10844", "dec", P, "M", 12, False, "IPCA industrial goods, m/m"),
    _s("br_ipca_diffusion", "bcb_sgs", "21379", "dec", P, "M", 12,
       False, "IPCA diffusion index (share of items rising)"),
    _s("br_ipca15_mom", "bcb_sgs", "7478", "dec", P, "M", -5,
       False, "IPCA-15, m/m (released late in the month itself)"),
    _s("br_igpm_mom", "bcb_sgs", "189", "dec", P, "M", 1, False, "IGP-M, m/m"),
    # the nine IPCA groups (m/m), DOMAIN Part B 4.1 codes in IBGE group order (mapping to verify live)
    _s("br_ipca_g_food", "bcb_sgs", "1637", "dec", P, "M", 12, False, "IPCA group: food and beverages"),
    _s("br_ipca_g_housing", "bcb_sgs", "7170", "dec", P, "M", 12, False, "IPCA group: housing"),
    _s("br_ipca_g_household", "bcb_sgs", "1638", "dec", P, "M", 12, False, "IPCA group: household articles"),
    _s("br_ipca_g_apparel", "bcb_sgs", "1639", "dec", P, "M", 12, False, "IPCA group: apparel"),
    _s("br_ipca_g_transport", "bcb_sgs", "7485", "dec", P, "M", 12, False, "IPCA group: transport"),
    _s("br_ipca_g_health", "bcb_sgs", "1640", "dec", P, "M", 12, False, "IPCA group: health and personal care"),
    _s("br_ipca_g_personal", "bcb_sgs", "1641", "dec", P, "M", 12, False, "IPCA group: personal expenses"),
    _s("br_ipca_g_education", "bcb_sgs", "1642", "dec", P, "M", 12, False, "IPCA group: education"),
    _s("br_ipca_g_communication", "bcb_sgs", "1643", "dec", P, "M", 12, False, "IPCA group: communication"),
    # --- activity ---
    _s("br_gdp_qoq", "bcb_sgs", "22099", "dec", P, "Q", 65, False, "GDP, quarter on quarter, s.a."),
    _s("br_ibc_br", "bcb_sgs", "24364", "index", 1.0, "M", 50, False, "IBC-Br activity index, s.a."),
    _s("br_ibc_br_nsa", "bcb_sgs", "24363", "index", 1.0, "M", 50, False, "IBC-Br activity index, n.s.a."),
    _s("br_unemployment", "bcb_sgs", "24369", "dec", P, "M", 35, False, "PNAD unemployment rate"),
    _s("br_gdp_12m_brl", "bcb_sgs", "4382", "brl_mn", 1.0, "M", 35, False, "Nominal GDP, 12-month sum, BRL million"),
    # --- monetary ---
    _s("br_selic_target", "bcb_sgs", "432", "dec", P, "D", 0, False, "Selic target, per year"),
    _s("br_selic_daily", "bcb_sgs", "11", "dec_day", P, "D", 1, False, "Selic effective, per day"),
    _s("br_cdi_daily", "bcb_sgs", "12", "dec_day", P, "D", 1, False, "CDI, per day"),
    # --- external ---
    _s("br_current_account", "bcb_sgs", "22885", "usd_mn", 1.0, "M", 30, False, "Current account, USD million"),
    _s("br_reserves", "bcb_sgs", "13621", "usd_mn", 1.0, "D", 2, False, "International reserves, USD million"),
    _s("br_trade_balance", "bcb_sgs", "22707", "usd_mn", 1.0, "M", 10, False, "Trade balance, USD million"),
    _s("br_ptax_sell_sgs", "bcb_sgs", "1", "level", 1.0, "D", 0, False, "PTAX sell (SGS mirror), BRL per USD"),
    # --- fiscal ---
    _s("br_primary_balance", "bcb_sgs", "5793", "brl_mn", 1.0, "M", 35, False,
       "Consolidated public sector primary result, 12-month flow, BRL million; positive = deficit (NFSP)"),
    _s("br_nominal_deficit", "bcb_sgs", "5727", "brl_mn", 1.0, "M", 35, False,
       "Nominal result (NFSP), 12-month flow, BRL million; positive = deficit"),
    _s("br_net_debt_gdp", "bcb_sgs", "4513", "dec", P, "M", 35, False, "Net public sector debt, share of GDP"),
    _s("br_gross_debt_gdp", "bcb_sgs", "13762", "dec", P, "M", 35,
       False, "General government gross debt, share of GDP"),
    # --- FRED: inflation ---
    _s("us_cpi", "fred", "CPIAUCSL", "index", 1.0, "M", 14, False, "US CPI all items, s.a."),
    _s("us_cpi_core", "fred", "CPILFESL", "index", 1.0, "M", 14, False, "US CPI core, s.a."),
    _s("us_pce", "fred", "PCEPI", "index", 1.0, "M", 32, True, "US PCE price index"),
    _s("us_pce_core", "fred", "PCEPILFE", "index", 1.0, "M", 32, True, "US PCE core price index"),
    _s("us_bei_5y", "fred", "T5YIE", "dec", P, "D", 1, False, "US 5-year breakeven inflation"),
    _s("us_bei_10y", "fred", "T10YIE", "dec", P, "D", 1, False, "US 10-year breakeven inflation"),
    # --- activity & labour ---
    _s("us_gdp_real", "fred", "GDPC1", "usd_bn", 1.0, "Q", 30, True, "US real GDP, chained 2017 USD billion, SAAR"),
    _s("us_payrolls", "fred", "PAYEMS", "thousands", 1.0, "M", 9, True, "US nonfarm payrolls, thousands"),
    _s("us_unemployment", "fred", "UNRATE", "dec", P, "M", 9, False, "US unemployment rate"),
    _s("us_indpro", "fred", "INDPRO", "index", 1.0, "M", 17, True, "US industrial production"),
    # --- rates, credit ---
    _s("us_fed_funds", "fred", "DFF", "dec", P, "D", 1, False, "Effective federal funds rate"),
    _s("us_sofr", "fred", "SOFR", "dec", P, "D", 1, False, "SOFR"),
    _s("us_dgs2", "fred", "DGS2", "dec", P, "D", 1, False, "US 2-year constant-maturity yield"),
    _s("us_dgs10", "fred", "DGS10", "dec", P, "D", 1, False, "US 10-year constant-maturity yield"),
    _s("us_dfii10", "fred", "DFII10", "dec", P, "D", 1, False, "US 10-year TIPS yield"),
    _s("us_hy_oas", "fred", "BAMLH0A0HYM2", "dec", P, "D", 1, False, "ICE BofA US high-yield OAS (decimal, not bp)"),
    _s("us_ig_oas", "fred", "BAMLC0A0CM", "dec", P, "D", 1, False, "ICE BofA US corporate OAS"),
    _s("us_nfci", "fred", "NFCI", "level", 1.0, "W", 5, True, "Chicago Fed national financial conditions index"),
)

# BCB Focus survey: indicator -> (unit scale to project units, reference kinds served)
FOCUS_INDICATORS: dict[str, tuple[float, tuple[str, ...]]] = {
    "IPCA": (P, ("12m", "annual")),
    "Selic": (P, ("annual",)),
    "PIB Total": (P, ("annual",)),
    "Câmbio": (1.0, ("annual",)),
}

_BY_NAME = {s.name: s for s in SERIES}
_BY_SID = {s.sid: s for s in SERIES}
if len(_BY_NAME) != len(SERIES) or len(_BY_SID) != len(SERIES):  # pragma: no cover - registry invariant
    raise RuntimeError("series registry: duplicate name or source:code")


def by_name(name: str) -> Series:
    """The registry row of an internal name."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown series {name!r}; the registry has {sorted(_BY_NAME)}") from None


def by_source(source: str) -> tuple[Series, ...]:
    """Every registry row of one source (``bcb_sgs`` or ``fred``)."""
    return tuple(s for s in SERIES if s.source == source)


def period_end(obs: pd.Series | np.ndarray, freq: Freq) -> np.ndarray:
    """Last day of the period each observation date opens (the date itself for daily and weekly)."""
    d = pd.to_datetime(pd.Series(obs))
    if freq == "M":
        d = d + pd.offsets.MonthEnd(0)
    elif freq == "Q":
        d = d + pd.offsets.QuarterEnd(0)
    return d.dt.date.to_numpy()


def release_date(obs: pd.Series | np.ndarray, s: Series) -> np.ndarray:
    """Release dates by the lag rule: end of period + ``lag_days`` (calendar days)."""
    ends = pd.to_datetime(pd.Series(period_end(obs, s.freq)))
    return (ends + pd.Timedelta(days=s.lag_days)).dt.date.to_numpy()


def release_of(obs: dt.date, s: Series) -> dt.date:
    """Release date of one observation (scalar twin of :func:`release_date`)."""
    return release_date(np.array([obs]), s)[0]  # type: ignore[no-any-return]


def known_asof(seen: np.ndarray, released: np.ndarray, values: np.ndarray, when: np.ndarray) -> np.ndarray:
    """The value of a series known on each date of ``when``: the latest observation released by then.

    ``seen`` and ``released`` are the rows' observation and release dates and ``when`` the dates asked, all as
    integers of one unit (day ordinals, nanoseconds), ``when`` ascending; ``values`` the rows' float64 values. The
    rows are sorted by (release, observation), ties in row order (``np.lexsort`` is stable, as pandas' stable sorts
    are); a row is kept when its observation date is the running maximum (a release of an older period does not
    replace a newer one); of a release date's rows the last; each date takes the last release on or before it
    (``merge_asof`` backward), NaN before the first. The values are taken as they are (NaN payloads, -0.0 kept).
    """
    order = np.lexsort((seen, released))
    seen_s = seen[order]
    kept = order[seen_s == np.maximum.accumulate(seen_s)]
    rel_k = released[kept]
    kept = kept[np.append(rel_k[1:] != rel_k[:-1], True)]
    pos = np.searchsorted(released[kept], when, side="right") - 1
    out = np.full(len(when), np.nan)
    hit = pos >= 0
    out[hit] = values[kept[pos[hit]]]
    return out
