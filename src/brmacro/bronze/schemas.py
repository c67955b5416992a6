"""Bronze schemas: what each source said as of the partition date, live and demo alike.

Every row carries its observation date, its ``release_date`` (when it became public) and its
``release_basis``: ``vintage`` (the source's own vintage/survey date), ``calendar`` (a known
release calendar), ``lag`` (the registry's release-lag rule) or ``captured`` (published the
same day as observed: prices, settlements, fixings). Values are already in project units
(DESIGN §4: decimals, never percent). Nothing released after the partition date is present.
"""

from __future__ import annotations

from brmacro.io import Col, Schema

__all__ = ["BRONZE_SCHEMAS", "RELEASE_BASES"]

RELEASE_BASES = ("vintage", "calendar", "lag", "captured")

_RELEASE = (
    Col("release_date", "date", doc="date the value became public (as of the run early the next day)"),
    Col("release_basis", "str", doc="vintage | calendar | lag | captured"),
)

BCB_SGS = Schema(
    "bronze_bcb_sgs",
    (
        Col("series_id", "str", doc="bcb_sgs:<code>"),
        Col("observation_date", "date", doc="SGS date; monthly/quarterly series are dated on the period's first day"),
        Col("value", "float", doc="value in project units (registry scale applied)"),
        *_RELEASE,
    ),
    key=("series_id", "observation_date"),
    doc="BCB SGS series (no vintages: SGS serves revised values; release by the lag table)",
)

FRED = Schema(
    "bronze_fred",
    (
        Col("series_id", "str", doc="fred:<id>"),
        Col("observation_date", "date"),
        Col("value", "float", doc="value in project units"),
        Col("vintage", "int", doc="revision number, 0 = first release"),
        *_RELEASE,
    ),
    key=("series_id", "observation_date", "vintage"),
    doc="FRED/ALFRED observations; revisable series carry every vintage public by the partition date",
)

YAHOO = Schema(
    "bronze_yahoo",
    (
        Col("ticker", "str", doc="Yahoo ticker (BRL=X, ^BVSP, ^GSPC, ^VIX, CL=F, ...)"),
        Col("date", "date", doc="bar date (exchange local)"),
        Col("open", "float", nullable=True),
        Col("high", "float", nullable=True),
        Col("low", "float", nullable=True),
        Col("close", "float", doc="raw close (not dividend-adjusted)"),
        Col("adj_close", "float", nullable=True, doc="adjusted close as served on the fetch day"),
        Col("volume", "float", nullable=True),
        Col("roll_jump", "bool", doc="continuous-future roll or jump flagged by the connector"),
        *_RELEASE,
    ),
    key=("ticker", "date"),
)

BCB_PTAX = Schema(
    "bronze_bcb_ptax",
    (
        Col("date", "date"),
        Col("buy", "float", lo=0.0, doc="PTAX buy rate, BRL per USD"),
        Col("sell", "float", lo=0.0, doc="PTAX sell rate, BRL per USD (the official fixing)"),
        Col("bulletin_time", "timestamp", doc="time of the closing bulletin, UTC"),
        *_RELEASE,
    ),
    key=("date",),
)

B3 = Schema(
    "bronze_b3_market_data",
    (
        Col("trade_date", "date"),
        Col("commodity", "str", doc="DI1 | DAP"),
        Col("ticker", "str", doc="B3 ticker, e.g. DI1F27"),
        Col("maturity", "date", doc="DI1: first business day of the contract month; "
                "DAP: the 15th (NTN-B date), rolled forward"),
        Col("du", "int", lo=0, doc="ANBIMA business days from trade_date to maturity"),
        Col("settlement_rate", "float", doc="settlement rate, decimal per year (252 basis); real rate for DAP"),
        Col("settlement_price", "float", lo=0.0, doc="settlement PU"),
        Col("open_interest", "float", nullable=True, lo=0.0, doc="open contracts"),
        *_RELEASE,
    ),
    key=("trade_date", "ticker"),
)

TREASURY = Schema(
    "bronze_treasury_gov",
    (
        Col("date", "date"),
        Col("curve", "str", doc="nominal | real"),
        Col("tenor", "str", doc="column label as published, e.g. '1 Mo', '10 Yr', '1.5 Month'"),
        Col("tenor_years", "float", lo=0.0, doc="tenor in years parsed from the label"),
        Col("yield", "float", doc="par yield, decimal per year"),
        *_RELEASE,
    ),
    key=("date", "curve", "tenor"),
)

BCB_FOCUS = Schema(
    "bronze_bcb_focus",
    (
        Col("indicator", "str", doc="IPCA | Selic | PIB Total | Câmbio"),
        Col("reference", "str", doc="'12m' (twelve months ahead) or a calendar year such as '2027'"),
        Col("survey_date", "date", doc="Focus survey date (Friday cut-off; published the next Monday)"),
        Col("median", "float", doc="median in project units (decimals for rates and inflation, BRL per USD for FX)"),
        Col("mean", "float", nullable=True),
        Col("std", "float", nullable=True),
        Col("respondents", "int", nullable=True, lo=0),
        *_RELEASE,
    ),
    key=("indicator", "reference", "survey_date"),
)

BRONZE_SCHEMAS: dict[str, Schema] = {
    s.name: s for s in (BCB_SGS, FRED, YAHOO, BCB_PTAX, B3, TREASURY, BCB_FOCUS)
}
