"""Live bronze connectors: what each public source said as of a session, in the demo's exact bronze schemas.

:func:`snapshot` dispatches by source name to the module that fetches it, through one
:class:`~brmacro.bronze.live.http.HttpClient` per source (retries, on-disk cache, raw archive):

==================  ===============================  =============================
source              module                           service
==================  ===============================  =============================
``bcb_sgs``         :mod:`brmacro.bronze.live.sgs`   BCB SGS JSON API
``fred``            :mod:`brmacro.bronze.live.fred`  FRED / ALFRED observations
``bcb_ptax``        :mod:`brmacro.bronze.live.ptax`  BCB Olinda PTAX OData
``bcb_focus``       :mod:`brmacro.bronze.live.focus` BCB Olinda Expectativas OData
``yahoo``           ``brmacro.bronze.live.yahoo``    Yahoo chart API
``b3_market_data``  ``brmacro.bronze.live.b3``       B3 settlement files
``treasury_gov``    ``brmacro.bronze.live.treasury`` US Treasury yearly CSVs
==================  ===============================  =============================

Each module exposes ``fetch_snapshot(date, params, client) -> pandas.DataFrame``; modules are imported
lazily, so a missing optional dependency of one source never breaks the others.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Mapping
from typing import Any

import pandas as pd

from brmacro.bronze.live.common import LiveConfigError, LiveParams, make_client, parse_live
from brmacro.bronze.live.http import HttpClient, PayloadError, SourceError

__all__ = [
    "MODULES",
    "HttpClient",
    "LiveConfigError",
    "LiveParams",
    "PayloadError",
    "SourceError",
    "make_client",
    "parse_live",
    "snapshot",
]

MODULES: dict[str, str] = {
    "bcb_sgs": "brmacro.bronze.live.sgs",
    "fred": "brmacro.bronze.live.fred",
    "bcb_ptax": "brmacro.bronze.live.ptax",
    "bcb_focus": "brmacro.bronze.live.focus",
    "yahoo": "brmacro.bronze.live.yahoo",
    "b3_market_data": "brmacro.bronze.live.b3",
    "treasury_gov": "brmacro.bronze.live.treasury",
}
"""Source name -> module exposing ``fetch_snapshot(date, params, client)``."""


def snapshot(
    source: str, date: dt.date, params: Mapping[str, Any], *, client: HttpClient | None = None
) -> pd.DataFrame:
    """What one live source says as of session ``date``, in its exact bronze schema.

    Parameters
    ----------
    source : str
        ``bcb_sgs``, ``fred``, ``bcb_ptax``, ``bcb_focus``, ``yahoo``, ``b3_market_data`` or
        ``treasury_gov`` (the ``bronze_`` prefix is accepted).
    date : datetime.date
        The session; rows released after it are never included.
    params : mapping
        The step parameters: ``bronze`` (lookbacks, crisis windows) and ``live`` (base URLs, cache,
        retry policy); missing subtrees take their defaults.
    client : HttpClient, optional
        The HTTP client to use (default: one built from ``params["live"]`` for this source).

    Returns
    -------
    pandas.DataFrame
        Rows in the bronze schema, sorted by its key.

    Raises
    ------
    LiveConfigError
        Unknown source, malformed ``live:`` config or a missing API key.
    SourceError
        The service could not be reached (after retries) or answered an HTTP error.
    PayloadError
        The service answered something unusable.
    """
    name = source.removeprefix("bronze_")
    if name not in MODULES:
        raise LiveConfigError(f"live: unknown source {source!r}; known {[f'bronze_{s}' for s in MODULES]}")
    live = parse_live(params.get("live"))
    module = importlib.import_module(MODULES[name])
    if client is None:
        client = make_client(name, live)
    df: pd.DataFrame = module.fetch_snapshot(date, params, client)
    return df
