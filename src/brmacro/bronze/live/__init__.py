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

With ``live.on_source_failure: stale``, a source that fails after its retries is rebuilt from the
connector's own cache (:func:`stale_snapshot`): the rows released on or before the session that the
cache holds, marked ``df.attrs["stale"]`` (artifact metadata ``brmacro.stale``, the run status and the
report name it). With ``fail`` (the default) the source's bronze job fails.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
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
    "stale_snapshot",
]

log = logging.getLogger("brmacro.bronze.live")

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
    try:
        df: pd.DataFrame = module.fetch_snapshot(date, params, client)
    except SourceError as exc:
        if live.on_source_failure != "stale":
            raise
        log.warning("%s %s: the source failed (%s); live.on_source_failure=stale: rebuilding the snapshot from "
                    "the connector's cache", name, date, exc)
        return stale_snapshot(name, date, params, client)
    return df


def stale_snapshot(source: str, date: dt.date, params: Mapping[str, Any], client: HttpClient) -> pd.DataFrame:
    """The snapshot of ``source`` as of ``date`` rebuilt from the connector's cache alone, marked stale.

    The connector runs unchanged on an offline copy of ``client`` (same cache folder): every request is served
    from the cache, even the still-open chunk it would normally re-fetch, and the release filter keeps only rows
    released on or before ``date``. ``df.attrs["stale"]`` says so, with the latest fetch time of the cache
    entries used; the bronze step writes it into the artifact's metadata (``brmacro.stale``).

    Raises
    ------
    SourceError
        When a chunk the snapshot needs is not in the cache (the message names it).
    """
    name = source.removeprefix("bronze_")
    module = importlib.import_module(MODULES[name])
    offline = HttpClient(source=client.source, cache_dir=client.cache_dir, timeout=client.timeout, retries=0,
                         backoff=0.0, max_backoff=0.0, offline=True)
    if offline.cache_dir is None:
        raise SourceError(f"{name} {date}: live.on_source_failure=stale needs live.cache_dir (the cache is off)",
                          source=name, url="", status=None, attempts=0)
    df: pd.DataFrame = module.fetch_snapshot(date, params, offline)
    newest = max(offline.served_from_cache).astimezone(dt.UTC).replace(microsecond=0).isoformat() \
        if offline.served_from_cache else "n/a"
    df.attrs["stale"] = (f"{name}: the live fetch failed; snapshot rebuilt from the connector's cache "
                         f"(latest entry fetched {newest}); rows released on or before {date.isoformat()}")
    return df
